//! Where coldcall keeps its files, and which database it opens when none is named.
//!
//! Order of precedence: command-line flags, then `COLDCALL_*` environment variables, then the
//! defaults here. `COLDCALL_DATA_DIR` moves everything (tests and demos use it to stay out of
//! the user's real data).

use std::path::PathBuf;

/// The platform data directory (e.g. `~/.local/share/coldcall` on Linux), or `COLDCALL_DATA_DIR`.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("COLDCALL_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("", "", "coldcall")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".coldcall"))
}

/// The embedded default: a SQLite file in the data directory, created on first use.
pub fn default_database_url() -> String {
    format!("sqlite://{}", data_dir().join("coldcall.db").display())
}

/// Default country for phone numbers written without one (`COLDCALL_REGION`, else US).
pub const DEFAULT_REGION: &str = "US";
