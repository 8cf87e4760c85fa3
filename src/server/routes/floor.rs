//! The queue, callbacks, presence, the floor's figures, the do-not-call list, settings and
//! dispositions.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::domain::authority::Permission;
use crate::domain::PresenceState;
use crate::server::auth::Actor;
use crate::server::extract::{Body, Id, Params};
use crate::server::problem::{ApiResult, Problem, ProblemBody};
use crate::server::AppState;

type S = State<Arc<AppState>>;

/// Hands the session's agent the next lead (`null` when the queue has none for them).
#[utoipa::path(post, path = "/api/v1/queue/claim-next", tag = "queue",
    responses((status = 200, description = "Claim or null", body = serde_json::Value), (status = 401, body = ProblemBody)))]
pub async fn claim_next(actor: Actor, State(st): S) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.claim_next(actor.id()).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/queue/preview", tag = "queue", params(LimitQuery),
    responses((status = 200, description = "Lead list", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn queue_preview(
    actor: Actor,
    State(st): S,
    Params(q): Params<LimitQuery>,
) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.queue_preview(actor.id(), q.limit.unwrap_or(20)).await?))
}

/// Why the queue holds leads back from the session's agent: counts by rule.
#[utoipa::path(get, path = "/api/v1/queue/why", tag = "queue",
    responses((status = 200, description = "QueueWhy", body = serde_json::Value), (status = 401, body = ProblemBody)))]
pub async fn queue_why(actor: Actor, State(st): S) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.queue_why(actor.id()).await?))
}

/// The offline copies still reserving leads on this floor, the soonest to end first
/// (supervisors).
#[utoipa::path(get, path = "/api/v1/floor/offline", tag = "floor",
    responses((status = 200, description = "OpenCheckout list", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody)))]
pub async fn offline_copies(actor: Actor, State(st): S) -> ApiResult<Json<impl serde::Serialize>> {
    actor.require(Permission::WatchFloor)?;
    Ok(Json(st.store.offline_checkouts().await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbacksQuery {
    /// Every agent's (supervisors and admins); otherwise the session agent's own.
    #[serde(default)]
    pub all: bool,
    /// Due by this time; now when absent.
    pub until: Option<DateTime<Utc>>,
}

#[utoipa::path(get, path = "/api/v1/callbacks", tag = "callbacks", params(CallbacksQuery),
    responses((status = 200, description = "Callback list", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody)))]
pub async fn callbacks(
    actor: Actor,
    State(st): S,
    Params(q): Params<CallbacksQuery>,
) -> ApiResult<Json<impl serde::Serialize>> {
    let whose = if q.all {
        actor.require(Permission::WatchFloor)?;
        None
    } else {
        Some(actor.id())
    };
    let until = q.until.unwrap_or_else(|| st.store.now());
    Ok(Json(st.store.due_callbacks(whose, until).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackPrefixQuery {
    /// Every agent's (supervisors and admins); otherwise the session agent's own.
    #[serde(default)]
    pub all: bool,
    /// At most this many (2 tells an ambiguous prefix); default 2.
    pub limit: Option<u32>,
}

/// Open callbacks (on deleted leads too) whose id starts with these hex digits, in id order: the
/// session agent's own, or every agent's with `all` (supervisors and admins).
#[utoipa::path(get, path = "/api/v1/callbacks/prefix/{prefix}", tag = "callbacks",
    params(("prefix" = String, Path), CallbackPrefixQuery),
    responses((status = 200, description = "Callback list", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn callbacks_by_prefix(
    actor: Actor,
    State(st): S,
    Path(prefix): Path<String>,
    Params(q): Params<CallbackPrefixQuery>,
) -> ApiResult<Json<impl serde::Serialize>> {
    let whose = if q.all {
        actor.require(Permission::WatchFloor)?;
        None
    } else {
        Some(actor.id())
    };
    let limit = q.limit.unwrap_or(2).min(50);
    Ok(Json(st.store.callbacks_by_id_prefix(&prefix, whose, limit).await?))
}

/// Whether the open callback is the actor's own, or the actor may handle anyone's.
async fn own_callback(st: &AppState, actor: &Actor, id: uuid::Uuid) -> ApiResult<()> {
    let found = st
        .store
        .callbacks_by_id_prefix(&id.simple().to_string(), None, 1)
        .await?;
    match found.iter().find(|c| c.id == id) {
        None => Err(Problem::not_found("callback", id)),
        Some(c) if c.agent_id == actor.id() => Ok(()),
        Some(_) => actor.require(Permission::HandCallback),
    }
}

#[utoipa::path(post, path = "/api/v1/callbacks/{id}/complete", tag = "callbacks", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 404, body = ProblemBody)))]
pub async fn complete_callback(actor: Actor, State(st): S, Id(id): Id) -> ApiResult<Json<Value>> {
    own_callback(&st, &actor, id).await?;
    Ok(Json(json!({ "done": st.store.complete_callback(id).await? })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandBody {
    /// The agent to hand the callback to, by name.
    pub to: String,
}

#[utoipa::path(post, path = "/api/v1/callbacks/{id}/hand", tag = "callbacks", params(("id" = String, Path)), request_body = HandBody,
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 404, body = ProblemBody)))]
pub async fn hand_callback(actor: Actor, State(st): S, Id(id): Id, Body(b): Body<HandBody>) -> ApiResult<Json<Value>> {
    actor.require(Permission::HandCallback)?;
    let to = super::agent_named(&st, &b.to).await?;
    Ok(Json(
        json!({ "handed": st.store.hand_callback(id, to.id, Some(actor.id())).await? }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceBody {
    #[schema(value_type = String)]
    pub state: PresenceState,
    pub reason: Option<String>,
}

/// The session agent's state (ready, paused, on a call…); also a heartbeat.
#[utoipa::path(put, path = "/api/v1/presence", tag = "floor", request_body = PresenceBody,
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn set_presence(actor: Actor, State(st): S, Body(b): Body<PresenceBody>) -> ApiResult<Json<Value>> {
    st.store.set_presence(actor.id(), b.state, b.reason.as_deref()).await?;
    Ok(Json(json!({ "ok": true })))
}

#[utoipa::path(get, path = "/api/v1/presence", tag = "floor",
    responses((status = 200, description = "Presence list", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody)))]
pub async fn presence(actor: Actor, State(st): S) -> ApiResult<Json<impl serde::Serialize>> {
    actor.require(Permission::WatchFloor)?;
    Ok(Json(st.store.presence().await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

#[utoipa::path(get, path = "/api/v1/floor/figures", tag = "floor", params(PeriodQuery),
    responses((status = 200, description = "FloorFigures", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn figures(
    actor: Actor,
    State(st): S,
    Params(q): Params<PeriodQuery>,
) -> ApiResult<Json<impl serde::Serialize>> {
    actor.require(Permission::WatchFloor)?;
    Ok(Json(st.store.floor_figures(q.from, q.to).await?))
}

#[utoipa::path(get, path = "/api/v1/dnc/{number}", tag = "dnc", params(("number" = String, Path)),
    responses((status = 200, description = "DncEntry or null", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn dnc_check(
    _actor: Actor,
    State(st): S,
    Path(number): Path<String>,
) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.dnc_check(&number).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DncBody {
    pub number: String,
    pub reason: Option<String>,
}

/// Puts a number on the do-not-call list (anyone: a person asked not to be called).
#[utoipa::path(post, path = "/api/v1/dnc", tag = "dnc", request_body = DncBody,
    responses((status = 200, description = "DncEntry", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn dnc_add(actor: Actor, State(st): S, Body(b): Body<DncBody>) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(
        st.store
            .dnc_add(&b.number, b.reason.as_deref(), Some(actor.id()))
            .await?,
    ))
}

/// Takes a number off the do-not-call list (admins).
#[utoipa::path(delete, path = "/api/v1/dnc/{number}", tag = "dnc", params(("number" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody)))]
pub async fn dnc_remove(actor: Actor, State(st): S, Path(number): Path<String>) -> ApiResult<Json<Value>> {
    actor.require(Permission::RemoveFromDnc)?;
    Ok(Json(
        json!({ "removed": st.store.dnc_remove(&number, Some(actor.id())).await? }),
    ))
}

#[utoipa::path(get, path = "/api/v1/settings", tag = "settings",
    responses((status = 200, description = "[[key, value], …]", body = serde_json::Value), (status = 401, body = ProblemBody)))]
pub async fn settings(_actor: Actor, State(st): S) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.settings().await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingBody {
    pub value: String,
}

/// Changes a shared setting (admins); validated, and audited old → new with the admin's name.
#[utoipa::path(put, path = "/api/v1/settings/{key}", tag = "settings", params(("key" = String, Path)), request_body = SettingBody,
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn set_setting(
    actor: Actor,
    State(st): S,
    Path(key): Path<String>,
    Body(b): Body<SettingBody>,
) -> ApiResult<Json<impl serde::Serialize>> {
    actor.require(Permission::ChangeSettings)?;
    st.store.change_setting(&key, &b.value, Some(actor.id())).await?;
    Ok(Json(st.store.settings().await?))
}

#[utoipa::path(get, path = "/api/v1/dispositions", tag = "settings",
    responses((status = 200, description = "Disposition list", body = serde_json::Value), (status = 401, body = ProblemBody)))]
pub async fn dispositions(_actor: Actor, State(st): S) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.dispositions().await?))
}
