//! Call scripts through the server: every agent reads them (filled in for a lead), admins store
//! and remove them.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::domain::authority::Permission;
use crate::server::auth::Actor;
use crate::server::extract::{Body, Id};
use crate::server::problem::{ApiResult, Problem, ProblemBody};
use crate::server::AppState;

type S = State<Arc<AppState>>;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptBody {
    /// The script's text, with placeholders such as {first_name}
    pub body: String,
}

#[utoipa::path(get, path = "/api/v1/scripts", tag = "scripts",
    responses((status = 200, description = "Every stored script", body = serde_json::Value), (status = 401, body = ProblemBody)))]
pub async fn list(_actor: Actor, State(st): S) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.scripts().await?))
}

#[utoipa::path(get, path = "/api/v1/scripts/{name}", tag = "scripts", params(("name" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody), (status = 404, body = ProblemBody)))]
pub async fn get(_actor: Actor, State(st): S, Path(name): Path<String>) -> ApiResult<Json<impl serde::Serialize>> {
    match st.store.script(&name).await? {
        Some(script) => Ok(Json(script)),
        None => Err(Problem::not_found("script", &name)),
    }
}

/// Stores a script (admins): `default`, or a disposition code for its follow-up. Audited.
#[utoipa::path(put, path = "/api/v1/scripts/{name}", tag = "scripts", params(("name" = String, Path)), request_body = ScriptBody,
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn set(
    actor: Actor,
    State(st): S,
    Path(name): Path<String>,
    Body(b): Body<ScriptBody>,
) -> ApiResult<Json<impl serde::Serialize>> {
    actor.require(Permission::ManageScripts)?;
    Ok(Json(st.store.set_script(&name, &b.body, Some(actor.id())).await?))
}

#[utoipa::path(delete, path = "/api/v1/scripts/{name}", tag = "scripts", params(("name" = String, Path)),
    responses((status = 200, description = "{removed}", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody)))]
pub async fn remove(actor: Actor, State(st): S, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    actor.require(Permission::ManageScripts)?;
    let removed = st.store.delete_script(&name, Some(actor.id())).await?;
    Ok(Json(json!({ "removed": removed })))
}

/// The script a call to the lead reads, filled in for the lead and the session's agent.
#[utoipa::path(get, path = "/api/v1/leads/{id}/script", tag = "scripts", params(("id" = String, Path)),
    responses((status = 200, description = "{name, text}, or null when no script is stored", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 404, body = ProblemBody)))]
pub async fn for_lead(actor: Actor, State(st): S, Id(id): Id) -> ApiResult<Json<impl serde::Serialize>> {
    let lead = st.store.lead(id).await?.ok_or_else(|| Problem::not_found("lead", id))?;
    Ok(Json(st.store.script_for_call(&lead, &actor.agent.name).await?))
}
