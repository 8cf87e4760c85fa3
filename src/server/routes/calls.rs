//! The seed system's six operations, one for one, and the rest of a call's life.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::domain::authority::Permission;
use crate::server::auth::Actor;
use crate::server::extract::{Body, Id};
use crate::server::problem::{ApiResult, Problem, ProblemBody};
use crate::server::AppState;
use crate::store::{EndCall, StartCall};

type S = State<Arc<AppState>>;

/// What start-call would say now for this agent, without taking the lock:
/// `{"allowed": true}` or `{"allowed": false, "code": …, "message": …, "refusal": {…}}`.
#[utoipa::path(get, path = "/api/v1/leads/{id}/can-call", tag = "calls", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody), (status = 404, body = ProblemBody)))]
pub async fn can_call(actor: Actor, State(st): S, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(match st.store.can_call(id, actor.id()).await? {
        Ok(()) => json!({ "allowed": true }),
        Err(refusal) => json!({
            "allowed": false,
            "code": refusal.code(),
            "message": refusal.message_at(st.store.now()),
            "refusal": refusal,
        }),
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartCallBody {
    /// The caller id to dial from, when the floor has several: a number with its country code,
    /// stored in E.164 (anything else is a 422 naming the caller id).
    pub from_number: Option<String>,
}

/// Checks every rule and takes the lead's lock for the session's agent. 409 with the refusal when
/// a rule says no (who is on the call and since when, when the gap or the window ends).
#[utoipa::path(post, path = "/api/v1/leads/{id}/start-call", tag = "calls", params(("id" = String, Path)),
    request_body(content = StartCallBody, description = "optional"),
    responses((status = 200, description = "StartedCall: call_id, lead_id, agent_id, phone_number, started_at", body = serde_json::Value),
        (status = 401, body = ProblemBody), (status = 404, body = ProblemBody), (status = 409, body = ProblemBody),
        (status = 422, body = ProblemBody)))]
pub async fn start_call(
    actor: Actor,
    State(st): S,
    Id(id): Id,
    body: axum::body::Bytes,
) -> ApiResult<Json<impl serde::Serialize>> {
    let body: StartCallBody = if body.iter().all(u8::is_ascii_whitespace) {
        StartCallBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| Problem::invalid("body", e.to_string()))?
    };
    let started = st
        .store
        .start_call(&StartCall {
            lead_id: id,
            agent_id: actor.id(),
            from_number: body.from_number,
        })
        .await?;
    Ok(Json(started))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndCallBody {
    /// The call's id from start-call: the fencing token; a newer call on the lead is never ended.
    pub call_id: uuid::Uuid,
    pub disposition: String,
    pub duration_s: Option<i32>,
    pub notes: Option<String>,
    pub recording_url: Option<String>,
    pub callback_at: Option<DateTime<Utc>>,
    /// End another agent's call (supervisors and admins).
    #[serde(default)]
    pub force: bool,
    /// What the softphone said about the call (SIP times, how it ended), when it was dialled
    /// through one: the call log's times and status, and the talk time, come from it.
    #[schema(value_type = Option<Object>)]
    pub progress: Option<crate::store::CallProgress>,
}

/// Records the outcome and releases the lock. Only the call's agent may end it, or a supervisor
/// with `force`.
#[utoipa::path(post, path = "/api/v1/leads/{id}/end-call", tag = "calls", params(("id" = String, Path)),
    request_body = EndCallBody,
    responses((status = 200, description = "EndedCall", body = serde_json::Value), (status = 401, body = ProblemBody),
        (status = 403, body = ProblemBody), (status = 404, body = ProblemBody), (status = 409, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn end_call(
    actor: Actor,
    State(st): S,
    Id(id): Id,
    Body(b): Body<EndCallBody>,
) -> ApiResult<Json<impl serde::Serialize>> {
    if b.force {
        actor.require(Permission::EndOthersCall)?;
    }
    match st.store.call(b.call_id).await? {
        Some(call) if call.lead_id == id => {}
        _ => return Err(Problem::not_found("call", b.call_id)),
    }
    let ended = st
        .store
        .end_call(&EndCall {
            call_id: b.call_id,
            agent_id: actor.id(),
            disposition: b.disposition,
            duration_s: b.duration_s,
            notes: b.notes,
            recording_url: b.recording_url,
            callback_at: b.callback_at,
            force: b.force,
            progress: b.progress,
        })
        .await?;
    Ok(Json(ended))
}

#[utoipa::path(get, path = "/api/v1/leads/{id}/call-history", tag = "calls", params(("id" = String, Path)),
    responses((status = 200, description = "CallLog list, newest first", body = serde_json::Value), (status = 401, body = ProblemBody)))]
pub async fn call_history(_actor: Actor, State(st): S, Id(id): Id) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.call_history(id).await?))
}

#[utoipa::path(get, path = "/api/v1/leads/{id}/status-history", tag = "calls", params(("id" = String, Path)),
    responses((status = 200, description = "StatusChange list", body = serde_json::Value), (status = 401, body = ProblemBody)))]
pub async fn status_history(_actor: Actor, State(st): S, Id(id): Id) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.status_history(id).await?))
}

#[utoipa::path(get, path = "/api/v1/active-calls", tag = "calls",
    responses((status = 200, description = "ActiveCall list", body = serde_json::Value), (status = 401, body = ProblemBody)))]
pub async fn active_calls(_actor: Actor, State(st): S) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.active_calls().await?))
}

/// Keeps the session agent's lock on the call alive: `{"alive": bool}` (false: reaped or ended).
#[utoipa::path(post, path = "/api/v1/calls/{id}/heartbeat", tag = "calls", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody)))]
pub async fn heartbeat(actor: Actor, State(st): S, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "alive": st.store.heartbeat(id, actor.id()).await? })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

/// A supervisor releases another agent's lock with a reason; the call is recorded as abandoned.
#[utoipa::path(post, path = "/api/v1/calls/{id}/release", tag = "calls", params(("id" = String, Path)),
    request_body = ReasonBody,
    responses((status = 200, description = "ReapedLock", body = serde_json::Value), (status = 401, body = ProblemBody),
        (status = 403, body = ProblemBody), (status = 404, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn release(
    actor: Actor,
    State(st): S,
    Id(id): Id,
    Body(b): Body<ReasonBody>,
) -> ApiResult<Json<impl serde::Serialize>> {
    actor.require(Permission::ReleaseLock)?;
    Ok(Json(st.store.force_release(id, actor.id(), &b.reason).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub text: String,
}

/// Adds a line to the call's notes: the call's own agent, or a supervisor.
#[utoipa::path(post, path = "/api/v1/calls/{id}/notes", tag = "calls", params(("id" = String, Path)), request_body = NoteBody,
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 404, body = ProblemBody)))]
pub async fn note(actor: Actor, State(st): S, Id(id): Id, Body(b): Body<NoteBody>) -> ApiResult<Json<Value>> {
    let call = st.store.call(id).await?.ok_or_else(|| Problem::not_found("call", id))?;
    if call.agent_id != actor.id() {
        actor.require(Permission::EndOthersCall)?;
    }
    Ok(Json(json!({ "noted": st.store.note_call(id, &b.text).await? })))
}

/// Closes every lock whose heartbeat outlived the lock TTL as abandoned (any console may: a
/// crashed one must never leave a lead stuck).
#[utoipa::path(post, path = "/api/v1/calls/reap", tag = "calls",
    responses((status = 200, description = "ReapedLock list", body = serde_json::Value), (status = 401, body = ProblemBody)))]
pub async fn reap(actor: Actor, State(st): S) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.reap_stale_locks(Some(actor.id())).await?))
}

/// One call, as the call log holds it.
#[utoipa::path(get, path = "/api/v1/calls/{id}", tag = "calls", params(("id" = String, Path)),
    responses((status = 200, description = "CallLog", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 404, body = ProblemBody)))]
pub async fn get(_actor: Actor, State(st): S, Id(id): Id) -> ApiResult<Json<impl serde::Serialize>> {
    match st.store.call(id).await? {
        Some(call) => Ok(Json(call)),
        None => Err(Problem::not_found("call", id)),
    }
}

/// Calls whose id starts with these hex digits, in id order (2 tell an ambiguous prefix).
#[utoipa::path(get, path = "/api/v1/calls/prefix/{prefix}", tag = "calls",
    params(("prefix" = String, Path), crate::server::routes::leads::PrefixQuery),
    responses((status = 200, description = "CallLog list", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn by_prefix(
    _actor: Actor,
    State(st): S,
    axum::extract::Path(prefix): axum::extract::Path<String>,
    crate::server::extract::Params(q): crate::server::extract::Params<crate::server::routes::leads::PrefixQuery>,
) -> ApiResult<Json<impl serde::Serialize>> {
    let calls = st
        .store
        .calls_by_id_prefix(&prefix, q.limit.unwrap_or(2).min(50))
        .await?;
    Ok(Json(calls))
}
