//! The floor's accounts (admins): add an agent with a one-time enrolment code, issue a new code,
//! deactivate, and revoke every session.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::domain::authority::Permission;
use crate::domain::Role;
use crate::server::auth::{self, Actor};
use crate::server::extract::Body;
use crate::server::problem::{ApiResult, Problem, ProblemBody};
use crate::server::AppState;
use crate::store::identity::IdentityEvent;
use crate::store::{Agent, NewAgent, Store};

type S = State<Arc<AppState>>;

/// The largest import batch the server takes: 10,000 rows of long notes fit.
pub const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

/// Every agent (supervisors and admins: the names to assign and hand callbacks to).
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents",
    responses((status = 200, description = "Agent list", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody)))]
pub async fn list(actor: Actor, State(st): S) -> ApiResult<Json<impl serde::Serialize>> {
    actor.require(Permission::WatchFloor)?;
    Ok(Json(st.store.agents().await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgentBody {
    pub name: String,
    pub email: Option<String>,
    /// agent, supervisor or admin
    #[schema(value_type = String)]
    pub role: Role,
}

/// Issues a new one-time enrolment code for the agent: stored as a hash, shown only here.
pub async fn issue_enrolment(
    store: &Store,
    agent: &Agent,
    valid_for: chrono::Duration,
    by: Option<i64>,
) -> crate::store::Result<String> {
    let code = auth::new_enrolment_code();
    let expires_at = store.now() + valid_for;
    store
        .set_enrolment(agent.id, &auth::secret_hash(&code), expires_at)
        .await?;
    store
        .audit_identity(&IdentityEvent {
            actor: by,
            action: "enrol",
            subject: &agent.name,
            detail: json!({ "expires_at": expires_at }),
        })
        .await?;
    Ok(code)
}

/// Adds an agent; the answer holds the one-time enrolment code for their first login.
#[utoipa::path(post, path = "/api/v1/agents", tag = "agents", request_body = NewAgentBody,
    responses((status = 200, description = "{agent, enrolment_code, expires_in_s}", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 409, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn add(actor: Actor, State(st): S, Body(b): Body<NewAgentBody>) -> ApiResult<Json<Value>> {
    actor.require(Permission::ManageAgents)?;
    let agent = st
        .store
        .add_agent(&NewAgent {
            name: b.name,
            email: b.email,
            role: b.role,
        })
        .await?;
    let limit = st.settings.enrolment_limit();
    let code = issue_enrolment(&st.store, &agent, limit, Some(actor.id())).await?;
    Ok(Json(
        json!({ "agent": agent, "enrolment_code": code, "expires_in_s": limit.num_seconds() }),
    ))
}

/// A new enrolment code for an agent who lost their password (the old password keeps working
/// until the code is used).
#[utoipa::path(post, path = "/api/v1/agents/{name}/enrol", tag = "agents", params(("name" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 404, body = ProblemBody)))]
pub async fn enrol(actor: Actor, State(st): S, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    actor.require(Permission::ManageAgents)?;
    let agent = super::agent_named(&st, &name).await?;
    let limit = st.settings.enrolment_limit();
    let code = issue_enrolment(&st.store, &agent, limit, Some(actor.id())).await?;
    Ok(Json(
        json!({ "agent": agent, "enrolment_code": code, "expires_in_s": limit.num_seconds() }),
    ))
}

/// Ends every session of the agent at once.
pub async fn revoke_sessions(store: &Store, agent: &Agent, by: Option<i64>) -> crate::store::Result<u64> {
    let ended = store.end_agent_sessions(agent.id).await?;
    store
        .audit_identity(&IdentityEvent {
            actor: by,
            action: "revoke",
            subject: &agent.name,
            detail: json!({ "sessions_ended": ended }),
        })
        .await?;
    Ok(ended)
}

#[utoipa::path(post, path = "/api/v1/agents/{name}/revoke", tag = "agents", params(("name" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 404, body = ProblemBody)))]
pub async fn revoke(actor: Actor, State(st): S, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    actor.require(Permission::ManageAgents)?;
    let agent = super::agent_named(&st, &name).await?;
    let ended = revoke_sessions(&st.store, &agent, Some(actor.id())).await?;
    Ok(Json(json!({ "sessions_ended": ended })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveBody {
    pub active: bool,
}

/// Turns an account on or off; turning it off ends its sessions.
#[utoipa::path(put, path = "/api/v1/agents/{name}/active", tag = "agents", params(("name" = String, Path)), request_body = ActiveBody,
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 404, body = ProblemBody)))]
pub async fn set_active(
    actor: Actor,
    State(st): S,
    Path(name): Path<String>,
    Body(b): Body<ActiveBody>,
) -> ApiResult<Json<Value>> {
    actor.require(Permission::ManageAgents)?;
    let agent = st
        .store
        .agent_by_name(name.trim())
        .await?
        .ok_or_else(|| Problem::not_found("agent", &name))?;
    st.store.set_agent_active(agent.id, b.active).await?;
    st.store
        .audit_identity(&IdentityEvent {
            actor: Some(actor.id()),
            action: if b.active { "activate" } else { "deactivate" },
            subject: &agent.name,
            detail: json!({}),
        })
        .await?;
    let ended = if b.active {
        0
    } else {
        revoke_sessions(&st.store, &agent, Some(actor.id())).await?
    };
    Ok(Json(json!({ "active": b.active, "sessions_ended": ended })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportLeadsBody {
    /// The rows, as the command line read and checked them from the file.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<crate::store::ImportRow>,
    #[schema(value_type = String)]
    pub mode: crate::domain::merge::DuplicateMode,
    /// Kept as the reason of the status changes the import makes.
    pub reason: String,
    #[serde(default)]
    pub dry_run: bool,
}

/// One batch of an import, written in one transaction (admins): the command line reads the
/// file, checks every row and keeps the rejects file; the server matches each row against the
/// stored leads and writes. Answers one result per row, in order.
#[utoipa::path(post, path = "/api/v1/import/leads", tag = "import", request_body = ImportLeadsBody,
    responses((status = 200, description = "RowResult list", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn import_leads(
    actor: Actor,
    State(st): S,
    Body(b): Body<ImportLeadsBody>,
) -> ApiResult<Json<impl serde::Serialize>> {
    actor.require(Permission::ImportData)?;
    let batch = crate::store::ImportBatch {
        rows: &b.rows,
        mode: b.mode,
        actor: Some(actor.id()),
        reason: &b.reason,
        dry_run: b.dry_run,
    };
    Ok(Json(st.store.import_leads(&batch).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportDncBody {
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<crate::store::DncRow>,
    #[serde(default)]
    pub dry_run: bool,
}

/// One batch of do-not-call numbers (E.164), in one transaction (admins).
#[utoipa::path(post, path = "/api/v1/import/dnc", tag = "import", request_body = ImportDncBody,
    responses((status = 200, description = "DncBatchResult", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody)))]
pub async fn import_dnc(
    actor: Actor,
    State(st): S,
    Body(b): Body<ImportDncBody>,
) -> ApiResult<Json<impl serde::Serialize>> {
    actor.require(Permission::ImportData)?;
    Ok(Json(st.store.import_dnc(&b.rows, Some(actor.id()), b.dry_run).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRecordBody {
    /// `leads` or `dnc`
    pub what: String,
    pub file: String,
    #[schema(value_type = Object)]
    pub summary: Value,
}

/// The audit-log entry for a whole import: what, from which file, and the counts (admins).
#[utoipa::path(post, path = "/api/v1/import/record", tag = "import", request_body = ImportRecordBody,
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody)))]
pub async fn record_import(actor: Actor, State(st): S, Body(b): Body<ImportRecordBody>) -> ApiResult<Json<Value>> {
    actor.require(Permission::ImportData)?;
    st.store
        .record_import(&b.what, &b.file, &b.summary, Some(actor.id()))
        .await?;
    Ok(Json(json!({ "recorded": true })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportCallsQuery {
    /// Calls started at or after
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Calls started before
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    pub agent_id: Option<i64>,
    /// The last call of the previous page, as JSON (`{"started_at":…,"id":…}`)
    pub after: Option<String>,
    pub limit: Option<u32>,
}

/// One page of calls for an export, oldest first (admins).
#[utoipa::path(get, path = "/api/v1/export/calls", tag = "import", params(ExportCallsQuery),
    responses((status = 200, description = "CallRecord list", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn export_calls(
    actor: Actor,
    State(st): S,
    crate::server::extract::Params(q): crate::server::extract::Params<ExportCallsQuery>,
) -> ApiResult<Json<impl serde::Serialize>> {
    actor.require(Permission::ExportData)?;
    let after = q
        .after
        .as_deref()
        .map(serde_json::from_str::<crate::store::CallCursor>)
        .transpose()
        .map_err(|e| Problem::invalid("after", e.to_string()))?;
    let filter = crate::store::CallFilter {
        from: q.from,
        to: q.to,
        agent_id: q.agent_id,
    };
    Ok(Json(
        st.store.export_calls(&filter, after, q.limit.unwrap_or(1000)).await?,
    ))
}
