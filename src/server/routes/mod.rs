//! The routes of `/api/v1`, one module per area, and the OpenAPI document generated from them.

pub mod admin;
pub mod calls;
pub mod floor;
pub mod leads;
pub mod offline;
pub mod scripts;
pub mod session;

use std::sync::Arc;

use axum::routing::{delete, get, post, put};
use axum::Router;
use utoipa::OpenApi;

use super::feed;
use super::problem::{Problem, ProblemBody};
use super::AppState;
use crate::store::Agent;

/// An active agent by name, or 404.
pub(crate) async fn agent_named(st: &AppState, name: &str) -> Result<Agent, Problem> {
    match st.store.agent_by_name(name.trim()).await? {
        Some(agent) if agent.active => Ok(agent),
        _ => Err(Problem::not_found("agent", name.trim())),
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "coldcall floor server", description = "The dialer's rules over HTTP. Every route but /login \
        needs `Authorization: Bearer TOKEN`; the acting agent is always the session's. Errors are RFC 9457 \
        problem objects: 401 without a valid session, 403 for a role that may not, 409 for a rule's refusal \
        (`code` and `refusal` as the command line's --json), 422 for invalid input naming the field."),
    paths(
        session::login, session::logout, session::me, session::change_password,
        calls::can_call, calls::start_call, calls::end_call, calls::call_history, calls::status_history,
        calls::active_calls, calls::heartbeat, calls::release, calls::note, calls::reap,
        leads::list, leads::search, leads::get, leads::create, leads::edit, leads::set_status,
        leads::contacts, leads::add_contact, leads::assign, leads::assignments, leads::schedule_callback,
        leads::personal_data, leads::erase, leads::delete, leads::restore, leads::update_contact,
        leads::remove_contact, leads::unassign, leads::by_prefix, leads::duplicates, leads::merge,
        leads::merged_into, leads::expire_assignments, calls::get, calls::by_prefix, floor::queue_why, floor::offline_copies, feed::since,
        floor::claim_next, floor::queue_preview, floor::callbacks, floor::callbacks_by_prefix, floor::complete_callback, floor::hand_callback,
        floor::set_presence, floor::presence, floor::figures, floor::dnc_check, floor::dnc_add, floor::dnc_remove,
        floor::settings, floor::set_setting, floor::dispositions,
        admin::list, admin::add, admin::enrol, admin::revoke, admin::set_active, admin::import_leads,
        admin::import_dnc, admin::record_import, admin::export_calls,
        offline::checkout, offline::sync,
        scripts::list, scripts::get, scripts::set, scripts::remove, scripts::for_lead,
        feed::changes, feed::head,
    ),
    components(schemas(ProblemBody)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn api() -> Router<Arc<AppState>> {
    Router::new()
        .route("/login", post(session::login))
        .route("/logout", post(session::logout))
        .route("/me", get(session::me))
        .route("/me/password", post(session::change_password))
        .route("/leads", get(leads::list).post(leads::create))
        .route("/leads/search", get(leads::search))
        .route("/leads/prefix/{prefix}", get(leads::by_prefix))
        .route("/leads/duplicates", get(leads::duplicates))
        .route("/leads/{id}/merge", post(leads::merge))
        .route("/leads/{id}/merged-into", get(leads::merged_into))
        .route("/assignments/expire", post(leads::expire_assignments))
        .route("/calls/{id}", get(calls::get))
        .route("/calls/prefix/{prefix}", get(calls::by_prefix))
        .route("/queue/why", get(floor::queue_why))
        .route("/floor/offline", get(floor::offline_copies))
        .route("/changes/since", get(feed::since))
        .route("/leads/{id}", get(leads::get).put(leads::edit).delete(leads::delete))
        .route("/leads/{id}/restore", post(leads::restore))
        .route("/leads/{id}/assignment", delete(leads::unassign))
        .route(
            "/contacts/{id}",
            put(leads::update_contact).delete(leads::remove_contact),
        )
        .route("/calls/{id}/notes", post(calls::note))
        .route("/calls/reap", post(calls::reap))
        .route("/leads/{id}/can-call", get(calls::can_call))
        .route("/leads/{id}/start-call", post(calls::start_call))
        .route("/leads/{id}/end-call", post(calls::end_call))
        .route("/leads/{id}/call-history", get(calls::call_history))
        .route("/leads/{id}/status-history", get(calls::status_history))
        .route("/leads/{id}/status", post(leads::set_status))
        .route("/leads/{id}/contacts", get(leads::contacts).post(leads::add_contact))
        .route("/leads/{id}/assign", post(leads::assign))
        .route("/leads/{id}/assignments", get(leads::assignments))
        .route("/leads/{id}/callbacks", post(leads::schedule_callback))
        .route("/leads/{id}/personal-data", get(leads::personal_data))
        .route("/leads/{id}/erase", post(leads::erase))
        .route("/active-calls", get(calls::active_calls))
        .route("/calls/{id}/heartbeat", post(calls::heartbeat))
        .route("/calls/{id}/release", post(calls::release))
        .route("/queue/claim-next", post(floor::claim_next))
        .route("/queue/preview", get(floor::queue_preview))
        .route("/callbacks", get(floor::callbacks))
        .route("/callbacks/prefix/{prefix}", get(floor::callbacks_by_prefix))
        .route("/callbacks/{id}/complete", post(floor::complete_callback))
        .route("/callbacks/{id}/hand", post(floor::hand_callback))
        .route("/presence", get(floor::presence).put(floor::set_presence))
        .route("/floor/figures", get(floor::figures))
        .route("/dnc", post(floor::dnc_add))
        .route("/dnc/{number}", get(floor::dnc_check).delete(floor::dnc_remove))
        .route("/settings", get(floor::settings))
        .route("/settings/{key}", put(floor::set_setting))
        .route("/dispositions", get(floor::dispositions))
        .route("/agents", get(admin::list).post(admin::add))
        .route("/agents/{name}/enrol", post(admin::enrol))
        .route("/agents/{name}/revoke", post(admin::revoke))
        .route("/agents/{name}/active", put(admin::set_active))
        .route(
            "/import/leads",
            post(admin::import_leads).layer(axum::extract::DefaultBodyLimit::max(admin::MAX_BATCH_BYTES)),
        )
        .route(
            "/import/dnc",
            post(admin::import_dnc).layer(axum::extract::DefaultBodyLimit::max(admin::MAX_BATCH_BYTES)),
        )
        .route("/import/record", post(admin::record_import))
        .route("/export/calls", get(admin::export_calls))
        .route("/scripts", get(scripts::list))
        .route(
            "/scripts/{name}",
            get(scripts::get).put(scripts::set).delete(scripts::remove),
        )
        .route("/leads/{id}/script", get(scripts::for_lead))
        .route("/offline/checkouts", post(offline::checkout))
        .route(
            "/offline/sync",
            post(offline::sync).layer(axum::extract::DefaultBodyLimit::max(offline::MAX_COPY_BYTES)),
        )
        .route("/changes", get(feed::changes))
        .route("/changes/head", get(feed::head))
        .route("/openapi.json", get(|| async { axum::Json(ApiDoc::openapi()) }))
}
