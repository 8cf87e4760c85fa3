//! Logs go to a daily rolling file in the data directory, never to the terminal: the console
//! owns the screen, and scripts read stdout. `COLDCALL_LOG` sets the filter (default `info`).

use tracing_appender::non_blocking::WorkerGuard;

/// Starts file logging. Keep the returned guard alive until exit so buffered lines are written.
/// Logging is best effort: a data directory that cannot be written leaves the program running.
pub fn init() -> Option<WorkerGuard> {
    let dir = crate::paths::data_dir().join("logs");
    crate::private_files::create_dir(&dir).ok()?;
    let _ = crate::private_files::restrict(&crate::paths::data_dir());
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let _ = crate::private_files::restrict(&entry.path());
        }
    }
    let appender = tracing_appender::rolling::daily(dir, "coldcall.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("COLDCALL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}
