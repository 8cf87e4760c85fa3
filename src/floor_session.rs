//! The agent's side of a floor server: the session `coldcall login` keeps (in the config
//! directory, readable by its owner only) and the HTTP client that talks to the server.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What `coldcall login` keeps: the server, the agent and the token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedSession {
    pub server: String,
    pub name: String,
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// `session.json` beside the config file.
pub fn session_path() -> PathBuf {
    crate::paths::config_path()
        .parent()
        .map(|d| d.join("session.json"))
        .unwrap_or_else(|| PathBuf::from("session.json"))
}

pub fn load_session() -> Option<SavedSession> {
    let text = std::fs::read_to_string(session_path()).ok()?;
    serde_json::from_str(&text).ok()
}

/// The HTTP client for the floor server. The server's certificate is checked against the public
/// roots, plus the floor's own CA when `COLDCALL_SERVER_CA` names its PEM file.
pub fn client() -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("coldcall/", env!("CARGO_PKG_VERSION")))
        .timeout(std::time::Duration::from_secs(30));
    if let Some(path) = std::env::var_os("COLDCALL_SERVER_CA").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        let pem =
            std::fs::read(&path).map_err(|e| format!("COLDCALL_SERVER_CA: cannot read {}: {e}", path.display()))?;
        let ca = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| format!("COLDCALL_SERVER_CA: {} is not a PEM certificate: {e}", path.display()))?;
        builder = builder.add_root_certificate(ca);
    }
    builder
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))
}
