//! Offline copies through the server: a checkout answers with the copy (a SQLite file), a sync
//! takes the copy and answers with it brought up to date (its report is inside it, and in the
//! `X-Coldcall-Sync-Report` header when short). The server writes copies only to a private
//! temporary folder it removes after the request.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::{LeadStatus, Priority};
use crate::server::auth::Actor;
use crate::server::extract::{Body, Params};
use crate::server::problem::{ApiResult, Problem, ProblemBody};
use crate::server::AppState;
use crate::store::offline::CheckoutRequest;
use crate::store::{ConnectOptions, LeadFilter, Store};

type S = State<Arc<AppState>>;

/// The media type of a copy.
pub const COPY_TYPE: &str = "application/vnd.sqlite3";
/// The largest copy a sync accepts: 2,000 leads with years of history fit many times over.
pub const MAX_COPY_BYTES: usize = 256 * 1024 * 1024;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutBody {
    /// How many leads (1 to 2,000)
    pub leads: u32,
    /// How long they stay reserved (1 to 336 hours)
    pub hours: u32,
    /// The agent who will work the copy, when not the caller (admins only)
    #[serde(rename = "for")]
    pub for_agent: Option<String>,
    #[schema(value_type = Option<String>)]
    pub status: Option<LeadStatus>,
    #[schema(value_type = Option<String>)]
    pub priority: Option<Priority>,
    pub min_score: Option<i16>,
    pub max_score: Option<i16>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SyncQuery {
    /// Then take up to this many more leads into the copy, until the same end
    pub more: Option<u32>,
}

/// A copy being written or read on the server, removed with its folder when dropped.
struct TempCopy {
    dir: tempfile::TempDir,
}

impl TempCopy {
    fn new() -> Result<TempCopy, Problem> {
        let dir = tempfile::Builder::new()
            .prefix("coldcall-copy-")
            .tempdir()
            .map_err(|e| internal(format!("cannot make a folder for the copy: {e}")))?;
        Ok(TempCopy { dir })
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("copy.db")
    }

    async fn open(&self) -> Result<Store, Problem> {
        let store = Store::connect(&self.path().to_string_lossy(), &ConnectOptions::default()).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// The copy as one self-contained file's bytes (its write-ahead log included); closes it.
    async fn bytes(&self, store: Store) -> Result<Vec<u8>, Problem> {
        let whole = self.dir.path().join("whole.db");
        let written = store.write_file(&whole).await;
        store.close().await;
        written?;
        tokio::fs::read(&whole)
            .await
            .map_err(|e| internal(format!("cannot read the copy back: {e}")))
    }
}

fn internal(detail: String) -> Problem {
    Problem::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
}

fn copy_response(bytes: Vec<u8>, extra: &[(&'static str, String)]) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(COPY_TYPE));
    for (name, value) in extra {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(*name, value);
        }
    }
    (headers, bytes).into_response()
}

/// Reserves leads for the caller (or, for an admin, for the agent named) and answers with the
/// copy to work them offline.
#[utoipa::path(post, path = "/api/v1/offline/checkouts", tag = "offline", request_body = CheckoutBody,
    responses((status = 200, description = "The copy, a SQLite file; its id in X-Coldcall-Checkout, what it holds in X-Coldcall-Checkout-Counts ({leads, calls, dnc_numbers})", content_type = "application/vnd.sqlite3"),
        (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 409, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn checkout(actor: Actor, State(st): S, Body(b): Body<CheckoutBody>) -> ApiResult<Response> {
    let agent = match &b.for_agent {
        Some(name) => super::agent_named(&st, name).await?,
        None => actor.agent.clone(),
    };
    let filter = LeadFilter {
        status: b.status,
        priority: b.priority,
        min_score: b.min_score,
        max_score: b.max_score,
        ..LeadFilter::default()
    };
    let request = CheckoutRequest {
        agent_id: agent.id,
        by: actor.id(),
        leads: b.leads,
        hours: b.hours,
    };
    let temp = TempCopy::new()?;
    let copy = temp.open().await?;
    let result = st.store.offline_checkout(&copy, &request, &filter).await;
    let summary = match result {
        Ok(summary) => summary,
        Err(e) => {
            copy.close().await;
            return Err(e.into());
        }
    };
    let bytes = temp.bytes(copy).await?;
    let counts =
        serde_json::json!({ "leads": summary.leads, "calls": summary.calls, "dnc_numbers": summary.dnc_numbers });
    Ok(copy_response(
        bytes,
        &[
            ("x-coldcall-checkout", summary.checkout.id.to_string()),
            ("x-coldcall-checkout-counts", counts.to_string()),
        ],
    ))
}

/// Sends the work of the copy in the body to the floor and answers with the copy brought up to
/// date. Only the copy's agent (or an admin) may send it.
#[utoipa::path(post, path = "/api/v1/offline/sync", tag = "offline", params(SyncQuery),
    request_body(content = Vec<u8>, description = "The copy, a SQLite file", content_type = "application/vnd.sqlite3"),
    responses((status = 200, description = "The copy brought up to date; its report inside it and in X-Coldcall-Sync-Report, the leads taken in X-Coldcall-Leads-Added", content_type = "application/vnd.sqlite3"),
        (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 409, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn sync(actor: Actor, State(st): S, Params(q): Params<SyncQuery>, body: Bytes) -> ApiResult<Response> {
    if !body.starts_with(b"SQLite format 3\0") {
        return Err(Problem::invalid(
            "body",
            "the body is not an offline copy (a SQLite file)",
        ));
    }
    let temp = TempCopy::new()?;
    tokio::fs::write(temp.path(), &body)
        .await
        .map_err(|e| internal(format!("cannot store the copy: {e}")))?;
    let copy = temp.open().await?;
    let report = match st.store.offline_sync(&copy, Some(actor.id())).await {
        Ok(report) => report,
        Err(e) => {
            copy.close().await;
            return Err(e.into());
        }
    };
    let added = match q.more {
        Some(more) => match st
            .store
            .offline_take_more(&copy, more, &LeadFilter::default(), Some(actor.id()))
            .await
        {
            Ok(n) => Some(n),
            Err(e) => {
                copy.close().await;
                return Err(e.into());
            }
        },
        None => None,
    };
    let json = serde_json::to_string(&report).expect("a report serialises");
    let header = if json.len() <= 4096 { json } else { String::new() };
    let mut extra = vec![("x-coldcall-sync-report", header)];
    if let Some(n) = added {
        extra.push(("x-coldcall-leads-added", n.to_string()));
    }
    Ok(copy_response(temp.bytes(copy).await?, &extra))
}
