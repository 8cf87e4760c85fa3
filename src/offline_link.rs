//! How an offline copy reaches its floor to sync, for the command line and the console alike:
//! the floor server, through the session `coldcall login` keeps, or a floor database this
//! machine may open itself. The copy is synced in place either way, so a console can keep it
//! open while it syncs.

use serde::Serialize;

use crate::floor_session::{self, SavedSession};
use std::path::{Path, PathBuf};

use crate::store::offline::{CheckoutRequest, CheckoutSummary, SyncReport};
use crate::store::{ConnectOptions, LeadFilter, Store};

/// Where a copy goes when no file is named: `offline-AGENT-TIME.db` in the current folder.
pub fn default_file(agent: &str, now: chrono::DateTime<chrono::Utc>) -> PathBuf {
    let safe: String = agent
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from(format!("offline-{safe}-{}.db", now.format("%Y%m%d-%H%M")))
}

/// Checks leads out of `floor` into a new copy at `path`. The copy is built under another name
/// and renamed into place whole (one self-contained file, readable by its owner only), so a
/// copy that exists is complete; a file already at `path` is never touched.
pub async fn checkout_to_file(
    floor: &Store,
    request: &CheckoutRequest,
    filter: &LeadFilter,
    path: &Path,
) -> Result<CheckoutSummary, String> {
    if path.exists() {
        return Err(format!("{} already exists: name a new file", path.display()));
    }
    let partial = path.with_extension("partial.db");
    remove_sqlite_files(&partial);
    let copy = Store::connect(&partial.to_string_lossy(), &ConnectOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let result = async {
        copy.migrate().await?;
        floor.offline_checkout(&copy, request, filter).await
    }
    .await;
    let whole = path.with_extension("whole.db");
    remove_sqlite_files(&whole);
    let written = match &result {
        Ok(_) => copy.write_file(&whole).await,
        Err(_) => Ok(()),
    };
    copy.close().await;
    remove_sqlite_files(&partial);
    let summary = result.map_err(|e| e.to_string())?;
    written.map_err(|e| e.to_string())?;
    make_private(&whole)?;
    std::fs::rename(&whole, path).map_err(|e| format!("cannot name the copy {}: {e}", path.display()))?;
    Ok(summary)
}

/// Checks leads out through the floor server into a new copy at `path`: `body` is the
/// checkout's request (leads, hours, filters, `for`). The copy the server answers with is
/// written whole under another name and renamed into place.
pub async fn checkout_through_server(
    session: &SavedSession,
    body: &serde_json::Map<String, serde_json::Value>,
    path: &Path,
) -> Result<CheckoutSummary, String> {
    if path.exists() {
        return Err(format!("{} already exists: name a new file", path.display()));
    }
    let response = floor_session::client()?
        .post(format!(
            "{}/api/v1/offline/checkouts",
            session.server.trim_end_matches('/')
        ))
        .bearer_auth(&session.token)
        .json(body)
        .timeout(std::time::Duration::from_secs(600))
        .send()
        .await
        .map_err(|e| format!("cannot reach the server: {e}"))?;
    let response = refused_in_words(response).await?;
    #[derive(serde::Deserialize, Default)]
    struct Counts {
        leads: u64,
        calls: u64,
        dnc_numbers: u64,
    }
    let counts: Counts = response
        .headers()
        .get("x-coldcall-checkout-counts")
        .and_then(|v| serde_json::from_slice(v.as_bytes()).ok())
        .unwrap_or_default();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("the server's answer broke off: {e}"))?;
    let partial = path.with_extension("partial.db");
    remove_sqlite_files(&partial);
    std::fs::write(&partial, &bytes).map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    make_private(&partial)?;
    std::fs::rename(&partial, path).map_err(|e| format!("cannot name the copy {}: {e}", path.display()))?;
    let copy = Store::connect(&path.to_string_lossy(), &ConnectOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let checkout = copy.offline_copy_of().await;
    copy.close().await;
    let checkout = checkout
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the server's answer is no offline copy ({})", path.display()))?;
    Ok(CheckoutSummary {
        checkout,
        leads: counts.leads,
        calls: counts.calls,
        dnc_numbers: counts.dnc_numbers,
    })
}

/// A success answer as it is; a problem answer as its detail and status.
async fn refused_in_words(response: reqwest::Response) -> Result<reqwest::Response, String> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let detail = body["detail"].as_str().unwrap_or("the server refused");
    Err(format!("{detail} (HTTP {})", status.as_u16()))
}

/// A copy holds personal data: only its owner may read it.
pub fn make_private(path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("cannot make {} private: {e}", path.display()))?;
    }
    Ok(())
}

/// Removes a SQLite database and its journal files, if there.
pub fn remove_sqlite_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// Where a copy's floor is.
#[derive(Debug, Clone, PartialEq)]
pub enum FloorLink {
    /// The floor server logged in to.
    Server(SavedSession),
    /// A floor database opened directly (an admin's machine, or a small office's shared file).
    Database(String),
}

impl FloorLink {
    /// The way this machine has to the floor: a saved server session first, else the configured
    /// database (when it is not the copy itself).
    pub fn find(configured_database: Option<&str>, copy: &Store) -> Option<FloorLink> {
        if let Some(session) = floor_session::load_session() {
            return Some(FloorLink::Server(session));
        }
        configured_database
            .filter(|url| crate::store::redact_url(url) != copy.describe())
            .map(|url| FloorLink::Database(url.to_string()))
    }

    /// Where the link leads, without secrets.
    pub fn describe(&self) -> String {
        match self {
            FloorLink::Server(session) => session.server.clone(),
            FloorLink::Database(url) => crate::store::redact_url(url),
        }
    }
}

/// What a sync did: its report, and how many leads joined the copy when more were asked for.
#[derive(Debug, Clone, Serialize)]
pub struct Synced {
    pub report: SyncReport,
    pub leads_added: Option<u64>,
}

/// Syncs the copy with its floor, then takes up to `more` further leads into it.
pub async fn sync(copy: &Store, link: &FloorLink, more: Option<u32>) -> Result<Synced, String> {
    match link {
        FloorLink::Database(url) => {
            let floor = Store::connect(url, &ConnectOptions::default())
                .await
                .map_err(|e| format!("cannot reach the floor: {e}"))?;
            let result = async {
                let report = floor.offline_sync(copy, None).await?;
                let leads_added = match more {
                    Some(n) => Some(floor.offline_take_more(copy, n, &LeadFilter::default(), None).await?),
                    None => None,
                };
                Ok::<_, crate::store::StoreError>(Synced { report, leads_added })
            }
            .await;
            floor.close().await;
            result.map_err(|e| e.to_string())
        }
        FloorLink::Server(session) => through_server(copy, session, more).await,
    }
}

/// Sends a whole snapshot of the copy, and takes into the copy what comes back.
async fn through_server(copy: &Store, session: &SavedSession, more: Option<u32>) -> Result<Synced, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a private folder: {e}"))?;
    let (sent_path, back_path) = (dir.path().join("sent.db"), dir.path().join("back.db"));
    copy.write_file(&sent_path).await.map_err(|e| e.to_string())?;
    let bytes = std::fs::read(&sent_path).map_err(|e| format!("cannot read the snapshot: {e}"))?;
    let query = more.map(|n| format!("?more={n}")).unwrap_or_default();
    let response = floor_session::client()?
        .post(format!(
            "{}/api/v1/offline/sync{query}",
            session.server.trim_end_matches('/')
        ))
        .bearer_auth(&session.token)
        .header("content-type", crate::server::routes::offline::COPY_TYPE)
        .body(bytes)
        .timeout(std::time::Duration::from_secs(600))
        .send()
        .await
        .map_err(|e| format!("cannot reach the server: {e}"))?;
    let response = refused_in_words(response).await?;
    let leads_added = response
        .headers()
        .get("x-coldcall-leads-added")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    let back = response
        .bytes()
        .await
        .map_err(|e| format!("the server's answer broke off: {e}"))?;
    std::fs::write(&back_path, &back).map_err(|e| format!("cannot keep the server's answer: {e}"))?;
    let open = |path: std::path::PathBuf| async move {
        Store::connect(&path.to_string_lossy(), &ConnectOptions::default())
            .await
            .map_err(|e| e.to_string())
    };
    let (sent, returned) = (open(sent_path).await?, open(back_path).await?);
    let adopted = copy.offline_adopt(&sent, &returned).await;
    sent.close().await;
    returned.close().await;
    let (report, joined) = adopted.map_err(|e| e.to_string())?;
    Ok(Synced {
        report,
        leads_added: leads_added.or(more.map(|_| joined)),
    })
}
