//! Leads: list, search, read, create, edit, status, contacts, assignments, callbacks, and a
//! person's data (export and erase).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::domain::authority::Permission;
use crate::domain::{LeadInput, LeadStatus, Priority};
use crate::server::auth::Actor;
use crate::server::extract::{Body, Id, Params};
use crate::server::problem::{ApiResult, Problem, ProblemBody};
use crate::server::AppState;
use crate::store::{LeadCursor, LeadFilter, NewContact};

type S = State<Arc<AppState>>;

/// The lead list's filters, as query parameters of the list and the search.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterQuery {
    #[param(value_type = Option<String>)]
    pub status: Option<LeadStatus>,
    #[param(value_type = Option<String>)]
    pub priority: Option<Priority>,
    /// Only leads with a live assignment to this agent (id).
    pub assigned_to: Option<i64>,
    pub min_score: Option<i16>,
    pub max_score: Option<i16>,
    #[serde(default)]
    pub callbacks_due: bool,
}

impl FilterQuery {
    fn filter(self) -> LeadFilter {
        LeadFilter {
            status: self.status,
            priority: self.priority,
            assigned_to: self.assigned_to,
            min_score: self.min_score,
            max_score: self.max_score,
            callbacks_due: self.callbacks_due,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next` of the previous page, as JSON (`{"priority_rank":…,"lead_score":…,"id":…}`).
    pub after: Option<String>,
    pub limit: Option<u32>,
}

/// One page of live leads in list order; pass `next` back as `after` for the next page.
#[utoipa::path(get, path = "/api/v1/leads", tag = "leads", params(FilterQuery, PageQuery),
    responses((status = 200, description = "Page: {items, next}", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn list(
    _actor: Actor,
    State(st): S,
    Params(f): Params<FilterQuery>,
    Params(q): Params<PageQuery>,
) -> ApiResult<Json<impl serde::Serialize>> {
    let after = q
        .after
        .as_deref()
        .map(serde_json::from_str::<LeadCursor>)
        .transpose()
        .map_err(|e| Problem::invalid("after", e.to_string()))?;
    let page = st.store.list_leads(&f.filter(), after, q.limit.unwrap_or(50)).await?;
    Ok(Json(page))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words of name, company, email, title, notes; or a phone or email fragment.
    pub q: String,
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/leads/search", tag = "leads", params(SearchQuery, FilterQuery),
    responses((status = 200, description = "Lead list", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn search(
    _actor: Actor,
    State(st): S,
    Params(q): Params<SearchQuery>,
    Params(f): Params<FilterQuery>,
) -> ApiResult<Json<impl serde::Serialize>> {
    let leads = st.store.search_leads(&q.q, &f.filter(), q.limit.unwrap_or(50)).await?;
    Ok(Json(leads))
}

#[utoipa::path(get, path = "/api/v1/leads/{id}", tag = "leads", params(("id" = String, Path)),
    responses((status = 200, description = "Lead", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 404, body = ProblemBody)))]
pub async fn get(_actor: Actor, State(st): S, Id(id): Id) -> ApiResult<Json<impl serde::Serialize>> {
    match st.store.lead(id).await? {
        Some(lead) => Ok(Json(lead)),
        None => Err(Problem::not_found("lead", id)),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadBody {
    /// The fields as a person types them (strings; empty means not given), validated as the
    /// console and the command line validate them. On an edit, fields left out keep their value.
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, Value>,
    /// Why, when the edit changes the status.
    pub reason: Option<String>,
}

/// The given fields over `base`; a field that is not a lead field, or not text, is a 422 naming it.
fn overlay(base: LeadInput, given: serde_json::Map<String, Value>) -> ApiResult<LeadInput> {
    let mut merged = match serde_json::to_value(base) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    for (key, value) in given {
        if !merged.contains_key(&key) {
            return Err(Problem::invalid(&key, "is not a lead field"));
        }
        let text = match value {
            Value::String(s) => s,
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            _ => return Err(Problem::invalid(&key, "must be text")),
        };
        merged.insert(key, Value::String(text));
    }
    serde_json::from_value(Value::Object(merged)).map_err(|e| Problem::invalid("fields", e.to_string()))
}

#[utoipa::path(post, path = "/api/v1/leads", tag = "leads", request_body = LeadBody,
    responses((status = 200, description = "Lead", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 409, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn create(actor: Actor, State(st): S, Body(b): Body<LeadBody>) -> ApiResult<Json<impl serde::Serialize>> {
    let fields = overlay(LeadInput::default(), b.fields)?
        .validate(&st.region)
        .map_err(crate::store::StoreError::from)?;
    Ok(Json(st.store.create_lead(&fields, Some(actor.id())).await?))
}

#[utoipa::path(put, path = "/api/v1/leads/{id}", tag = "leads", params(("id" = String, Path)), request_body = LeadBody,
    responses((status = 200, description = "Lead", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 404, body = ProblemBody), (status = 409, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn edit(
    actor: Actor,
    State(st): S,
    Id(id): Id,
    Body(b): Body<LeadBody>,
) -> ApiResult<Json<impl serde::Serialize>> {
    let stored = st.store.lead(id).await?.ok_or_else(|| Problem::not_found("lead", id))?;
    let fields = overlay(stored.fields().to_input(), b.fields)?
        .validate(&st.region)
        .map_err(crate::store::StoreError::from)?;
    let lead = st
        .store
        .update_lead(id, &fields, Some(actor.id()), b.reason.as_deref())
        .await?;
    Ok(Json(lead))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    #[schema(value_type = String)]
    pub status: LeadStatus,
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/status", tag = "leads", params(("id" = String, Path)), request_body = StatusBody,
    responses((status = 200, description = "Lead", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 404, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn set_status(
    actor: Actor,
    State(st): S,
    Id(id): Id,
    Body(b): Body<StatusBody>,
) -> ApiResult<Json<impl serde::Serialize>> {
    let lead = st
        .store
        .set_status(id, b.status, b.reason.as_deref(), Some(actor.id()))
        .await?;
    Ok(Json(lead))
}

#[utoipa::path(get, path = "/api/v1/leads/{id}/contacts", tag = "leads", params(("id" = String, Path)),
    responses((status = 200, description = "Contact list", body = serde_json::Value), (status = 401, body = ProblemBody)))]
pub async fn contacts(_actor: Actor, State(st): S, Id(id): Id) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.contacts(id).await?))
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/contacts", tag = "leads", params(("id" = String, Path)),
    request_body(content = serde_json::Value, description = "NewContact: kind, value, label, is_primary, is_verified"),
    responses((status = 200, description = "Contact", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 409, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn add_contact(
    _actor: Actor,
    State(st): S,
    Id(id): Id,
    Body(c): Body<NewContact>,
) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.add_contact(id, &c, &st.region).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// The agent to give the lead to, by name; yourself when absent. Someone else needs a
    /// supervisor.
    pub agent: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/assign", tag = "leads", params(("id" = String, Path)), request_body = AssignBody,
    responses((status = 200, description = "Assignment", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 404, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn assign(
    actor: Actor,
    State(st): S,
    Id(id): Id,
    Body(b): Body<AssignBody>,
) -> ApiResult<Json<impl serde::Serialize>> {
    let to = match b.agent.as_deref() {
        None => actor.agent.clone(),
        Some(name) => super::agent_named(&st, name).await?,
    };
    if to.id != actor.id() {
        actor.require(Permission::AssignToOther)?;
    }
    Ok(Json(st.store.assign(id, to.id, Some(actor.id()), b.expires_at).await?))
}

#[utoipa::path(get, path = "/api/v1/leads/{id}/assignments", tag = "leads", params(("id" = String, Path)),
    responses((status = 200, description = "Assignment list", body = serde_json::Value), (status = 401, body = ProblemBody)))]
pub async fn assignments(_actor: Actor, State(st): S, Id(id): Id) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.assignments(id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackBody {
    pub due_at: DateTime<Utc>,
    pub note: Option<String>,
}

/// Schedules a callback on the lead for the session's agent.
#[utoipa::path(post, path = "/api/v1/leads/{id}/callbacks", tag = "callbacks", params(("id" = String, Path)), request_body = CallbackBody,
    responses((status = 200, description = "Callback", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 404, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn schedule_callback(
    actor: Actor,
    State(st): S,
    Id(id): Id,
    Body(b): Body<CallbackBody>,
) -> ApiResult<Json<impl serde::Serialize>> {
    let cb = st
        .store
        .schedule_callback(id, actor.id(), b.due_at, b.note.as_deref())
        .await?;
    Ok(Json(cb))
}

/// Everything held about the person behind the lead.
#[utoipa::path(get, path = "/api/v1/leads/{id}/personal-data", tag = "privacy", params(("id" = String, Path)),
    responses((status = 200, description = "PersonalData", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 404, body = ProblemBody)))]
pub async fn personal_data(actor: Actor, State(st): S, Id(id): Id) -> ApiResult<Json<impl serde::Serialize>> {
    actor.require(Permission::ExportPersonalData)?;
    Ok(Json(st.store.gdpr_export(id, actor.id()).await?))
}

/// Erases the person behind the lead, with a reason.
#[utoipa::path(post, path = "/api/v1/leads/{id}/erase", tag = "privacy", params(("id" = String, Path)),
    request_body = crate::server::routes::calls::ReasonBody,
    responses((status = 200, description = "Erasure", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody), (status = 404, body = ProblemBody), (status = 409, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn erase(
    actor: Actor,
    State(st): S,
    Id(id): Id,
    Body(b): Body<crate::server::routes::calls::ReasonBody>,
) -> ApiResult<Json<impl serde::Serialize>> {
    actor.require(Permission::ErasePersonalData)?;
    Ok(Json(st.store.gdpr_erase(id, actor.id(), &b.reason).await?))
}

/// Deletes the lead (it stays restorable, and its history reachable).
#[utoipa::path(delete, path = "/api/v1/leads/{id}", tag = "leads", params(("id" = String, Path)),
    responses((status = 200, description = "Lead", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 404, body = ProblemBody)))]
pub async fn delete(actor: Actor, State(st): S, Id(id): Id) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.delete_lead(id, Some(actor.id())).await?))
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/restore", tag = "leads", params(("id" = String, Path)),
    responses((status = 200, description = "Lead", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 404, body = ProblemBody)))]
pub async fn restore(actor: Actor, State(st): S, Id(id): Id) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.restore_lead(id, Some(actor.id())).await?))
}

#[utoipa::path(put, path = "/api/v1/contacts/{id}", tag = "leads", params(("id" = String, Path)),
    request_body(content = serde_json::Value, description = "NewContact: kind, value, label, is_primary, is_verified"),
    responses((status = 200, description = "Contact", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 404, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn update_contact(
    _actor: Actor,
    State(st): S,
    Id(id): Id,
    Body(c): Body<NewContact>,
) -> ApiResult<Json<impl serde::Serialize>> {
    Ok(Json(st.store.update_contact(id, &c, &st.region).await?))
}

#[utoipa::path(delete, path = "/api/v1/contacts/{id}", tag = "leads", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody), (status = 404, body = ProblemBody)))]
pub async fn remove_contact(_actor: Actor, State(st): S, Id(id): Id) -> ApiResult<Json<Value>> {
    st.store.remove_contact(id).await?;
    Ok(Json(json!({ "removed": true })))
}

/// Ends the lead's live assignment: one's own, or anyone's for a supervisor.
#[utoipa::path(delete, path = "/api/v1/leads/{id}/assignment", tag = "leads", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody)))]
pub async fn unassign(actor: Actor, State(st): S, Id(id): Id) -> ApiResult<Json<Value>> {
    let live = st.store.assignments(id).await?.into_iter().find(|a| a.active);
    if live.as_ref().is_some_and(|a| a.agent_id != actor.id()) {
        actor.require(Permission::AssignToOther)?;
    }
    Ok(Json(json!({ "ended": st.store.unassign(id).await? })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PrefixQuery {
    /// At most this many (2 tells an ambiguous prefix); default 2.
    pub limit: Option<u32>,
}

/// Leads (deleted ones too) whose id starts with these hex digits, in id order: how a lead is
/// named by the start of its id, as git names a commit.
#[utoipa::path(get, path = "/api/v1/leads/prefix/{prefix}", tag = "leads", params(("prefix" = String, Path), PrefixQuery),
    responses((status = 200, description = "Lead list", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn by_prefix(
    _actor: Actor,
    State(st): S,
    axum::extract::Path(prefix): axum::extract::Path<String>,
    Params(q): Params<PrefixQuery>,
) -> ApiResult<Json<impl serde::Serialize>> {
    let leads = st
        .store
        .leads_by_id_prefix(&prefix, q.limit.unwrap_or(2).min(50))
        .await?;
    Ok(Json(leads))
}

/// Likely pairs of live leads that are one person, best first, each with why and a score
/// (supervisors).
#[utoipa::path(get, path = "/api/v1/leads/duplicates", tag = "leads",
    responses((status = 200, description = "DuplicatePair list", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody)))]
pub async fn duplicates(actor: Actor, State(st): S) -> ApiResult<Json<impl serde::Serialize>> {
    actor.require(Permission::MergeLeads)?;
    Ok(Json(st.store.duplicate_leads().await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The lead merged into this one, which is then deleted pointing here.
    pub other: uuid::Uuid,
}

/// Merges `other` into this lead: its calls, status history, contact points and callbacks move
/// here, and it is deleted pointing at this one (supervisors; refused while either is on a call).
#[utoipa::path(post, path = "/api/v1/leads/{id}/merge", tag = "leads", params(("id" = String, Path)), request_body = MergeBody,
    responses((status = 200, description = "MergeSummary", body = serde_json::Value), (status = 401, body = ProblemBody),
        (status = 403, body = ProblemBody), (status = 404, body = ProblemBody), (status = 409, body = ProblemBody)))]
pub async fn merge(
    actor: Actor,
    State(st): S,
    Id(id): Id,
    Body(b): Body<MergeBody>,
) -> ApiResult<Json<impl serde::Serialize>> {
    actor.require(Permission::MergeLeads)?;
    Ok(Json(st.store.merge_leads(id, b.other, actor.id()).await?))
}

/// The lead this one was merged into, if it was: `{"into": id or null}`.
#[utoipa::path(get, path = "/api/v1/leads/{id}/merged-into", tag = "leads", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody)))]
pub async fn merged_into(_actor: Actor, State(st): S, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "into": st.store.merged_into(id).await? })))
}

/// Ends every assignment past its end now, rather than at the next read (supervisors).
#[utoipa::path(post, path = "/api/v1/assignments/expire", tag = "leads",
    responses((status = 200, description = "{\"expired\": count}", body = serde_json::Value), (status = 401, body = ProblemBody), (status = 403, body = ProblemBody)))]
pub async fn expire_assignments(actor: Actor, State(st): S) -> ApiResult<Json<Value>> {
    actor.require(Permission::AssignToOther)?;
    Ok(Json(json!({ "expired": st.store.expire_assignments().await? })))
}
