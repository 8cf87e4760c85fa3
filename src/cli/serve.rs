//! `coldcall serve`: the floor server, over the database named as for every command.

use std::path::PathBuf;

use clap::Args;

use super::CliError;
use crate::server::config::ServerSettings;
use crate::store::{ConnectOptions, Store};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// HOST:PORT or unix:/PATH (default from [server] listen, else 127.0.0.1:8470)
    #[arg(long)]
    pub listen: Option<String>,
    /// PEM certificate chain for HTTPS (needed to listen beyond loopback)
    #[arg(long)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS
    #[arg(long)]
    pub tls_key: Option<PathBuf>,
    /// Database connections the server holds (default 16)
    #[arg(long)]
    pub pool_size: Option<u32>,
}

impl ServeArgs {
    /// The config's `[server]` section with these flags on top.
    pub fn settings(&self, config: &ServerSettings) -> ServerSettings {
        let mut s = config.clone();
        if let Some(listen) = &self.listen {
            s.listen = listen.clone();
        }
        if let Some(cert) = &self.tls_cert {
            s.tls_cert = Some(cert.clone());
        }
        if let Some(key) = &self.tls_key {
            s.tls_key = Some(key.clone());
        }
        if let Some(n) = self.pool_size {
            s.pool_size = n;
        }
        s
    }
}

pub async fn run(url: &str, settings: ServerSettings, region: String) -> Result<(), CliError> {
    // Check the address and TLS before touching the database: a wrong flag fails at once.
    settings.resolve().map_err(CliError::Usage)?;
    let options = ConnectOptions {
        max_connections: settings.pool_size,
        ..ConnectOptions::default()
    };
    let store = Store::connect(url, &options).await?;
    let listen = settings.listen.clone();
    let tls = settings.tls_cert.is_some();
    let mut server = crate::server::start(store.clone(), settings, region)
        .await
        .map_err(CliError::Usage)?;
    let shown = server.addr.map(|a| a.to_string()).unwrap_or(listen);
    let scheme = if tls { "https" } else { "http" };
    tracing::info!(listen = %shown, database = store.describe(), "floor server started");
    eprintln!(
        "coldcall floor server on {scheme}://{shown} over {} (SIGTERM or Ctrl-C stops it)",
        store.describe()
    );
    tokio::select! {
        _ = crate::server::termination() => {
            tracing::info!("stopping: finishing in-flight requests");
            eprintln!("stopping…");
            server.stop().await.map_err(|e| CliError::Usage(format!("server error: {e}")))?;
        }
        ended = server.wait() => {
            ended.map_err(|e| CliError::Usage(format!("server error: {e}")))?;
        }
    }
    store.close().await;
    tracing::info!("floor server stopped");
    Ok(())
}
