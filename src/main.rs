use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = coldcall::cli::Cli::parse();
    // Before any file is created and before any thread starts: lead data is its owner's only.
    coldcall::private_files::owner_only_from_now_on();
    let _log_guard = coldcall::logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let code = runtime.block_on(coldcall::cli::run(cli));
    std::process::ExitCode::from(code)
}
