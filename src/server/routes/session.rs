//! Logging in and out. A login names the agent and gives either the password or, the first
//! time, the one-time enrolment code and the password to set. The answer is a session token,
//! shown once; only its hash is kept.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::server::auth::{self, Actor, AgentSlot};
use crate::server::extract::Body;
use crate::server::problem::{ApiResult, Problem, ProblemBody};
use crate::server::AppState;
use crate::store::identity::IdentityEvent;

type S = State<Arc<AppState>>;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub name: String,
    /// The password (absent on enrolment).
    pub password: Option<String>,
    /// The one-time enrolment code from `coldcall agent add` (first login only).
    pub code: Option<String>,
    /// With `code`: the password to set.
    pub new_password: Option<String>,
}

impl std::fmt::Debug for LoginBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginBody")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginReply {
    /// The session token: send it as `Authorization: Bearer TOKEN`. Shown only here.
    pub token: String,
    pub agent_id: i64,
    pub name: String,
    pub role: String,
    /// When the session ends whatever its use.
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// A session unused for this long ends.
    pub idle_timeout_s: i64,
}

/// The client's address: the TCP peer; on a Unix socket (only the reverse proxy on this machine
/// can connect there) the address the proxy reports in `X-Real-IP` or last in `X-Forwarded-For`.
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Peer, Self::Rejection> {
        if let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            return Ok(Peer(Some(addr.ip())));
        }
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let proxied = header("x-real-ip")
            .or_else(|| header("x-forwarded-for").and_then(|v| v.rsplit(',').next()))
            .and_then(|v| v.trim().parse().ok());
        Ok(Peer(proxied))
    }
}

/// The throttle's keys: the name, and the address when one is known.
fn throttle_keys(name: &str, peer: Peer) -> Vec<String> {
    let mut keys = vec![auth::name_key(name)];
    if peer.0.is_some() {
        keys.push(auth::address_key(peer.0));
    }
    keys
}

/// Logs in with name and password, or enrols with name, code and a new password. Repeated
/// failures for a name or from an address are slowed down (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/login", tag = "session", request_body = LoginBody,
    responses((status = 200, body = LoginReply), (status = 401, body = ProblemBody), (status = 422, body = ProblemBody), (status = 429, body = ProblemBody)))]
pub async fn login(
    State(st): S,
    peer: Peer,
    slot: Option<axum::Extension<AgentSlot>>,
    Body(b): Body<LoginBody>,
) -> ApiResult<Json<LoginReply>> {
    let name = b.name.trim().to_string();
    // The request log names who tried (the name only: never the password or code).
    if let Some(axum::Extension(slot)) = slot {
        let _ = slot.0.set(name.chars().take(50).collect());
    }
    if name.is_empty() {
        return Err(Problem::invalid("name", "give the agent's name"));
    }
    let keys = throttle_keys(&name, peer);
    if let Some(wait) = st.throttle.wait(&keys) {
        return Err(Problem::too_many(
            wait.as_secs_f64().ceil() as u64,
            "too many failed logins; wait before trying again",
        ));
    }
    let peer_text = peer.0.map(|p| p.to_string());
    let agent = st.store.agent_by_name(&name).await?.filter(|a| a.active);
    let credentials = match &agent {
        Some(a) => st.store.credentials(a.id).await?,
        None => None,
    };
    let now = st.store.now();
    let outcome: Result<(), &str> = match (&b.code, &b.password) {
        (Some(code), _) => {
            let new_password = b.new_password.as_deref().unwrap_or_default();
            auth::check_new_password(new_password)?;
            let code_hash = auth::secret_hash(&auth::normalize_code(code));
            let valid = credentials.as_ref().is_some_and(|c| {
                c.enrol_hash.as_deref() == Some(code_hash.as_str())
                    && c.enrol_expires_at.is_some_and(|until| now < until)
            });
            if valid {
                let hash = auth::hash_password(new_password).await?;
                let id = agent.as_ref().map(|a| a.id).unwrap_or_default();
                if st.store.set_password_hash(id, &hash, Some(&code_hash)).await? {
                    st.store
                        .audit_identity(&IdentityEvent {
                            actor: Some(id),
                            action: "enrolled",
                            subject: &name,
                            detail: json!({ "peer": peer_text }),
                        })
                        .await?;
                    Ok(())
                } else {
                    Err("enrolment code already used")
                }
            } else {
                Err("bad enrolment code")
            }
        }
        (None, Some(password)) => {
            let hash = credentials.as_ref().and_then(|c| c.password_hash.clone());
            if auth::verify_password(password, hash).await {
                Ok(())
            } else {
                Err("bad password")
            }
        }
        (None, None) => return Err(Problem::invalid("password", "give the password, or the enrolment code")),
    };
    let agent = match (outcome, agent) {
        (Ok(()), Some(agent)) => agent,
        (outcome, _) => {
            st.throttle.failed(&keys);
            let why = outcome.err().unwrap_or("unknown agent");
            st.store
                .audit_identity(&IdentityEvent {
                    actor: None,
                    action: "login_failed",
                    subject: &name,
                    detail: json!({ "peer": peer_text, "why": why }),
                })
                .await?;
            tracing::warn!(agent = %name, peer = ?peer_text, "login failed");
            return Err(Problem::unauthorized(
                "bad_credentials",
                "wrong name, password or enrolment code (or the agent is deactivated)",
            ));
        }
    };
    st.throttle.succeeded(&keys[0]);
    let token = auth::new_token();
    let expires_at = now + st.settings.absolute_limit();
    st.store
        .create_session(&auth::secret_hash(&token), agent.id, expires_at, peer_text.as_deref())
        .await?;
    st.store
        .audit_identity(&IdentityEvent {
            actor: Some(agent.id),
            action: "login",
            subject: &agent.name,
            detail: json!({ "peer": peer_text, "expires_at": expires_at }),
        })
        .await?;
    Ok(Json(LoginReply {
        token,
        agent_id: agent.id,
        name: agent.name,
        role: agent.role.to_string(),
        expires_at,
        idle_timeout_s: st.settings.idle_limit().num_seconds(),
    }))
}

/// Ends this session.
#[utoipa::path(post, path = "/api/v1/logout", tag = "session",
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody)))]
pub async fn logout(actor: Actor, State(st): S) -> ApiResult<Json<Value>> {
    st.store.end_session(&actor.session).await?;
    st.store
        .audit_identity(&IdentityEvent {
            actor: Some(actor.id()),
            action: "logout",
            subject: &actor.agent.name,
            detail: json!({}),
        })
        .await?;
    Ok(Json(json!({ "logged_out": true })))
}

/// The session's agent.
#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    responses((status = 200, description = "Agent", body = serde_json::Value), (status = 401, body = ProblemBody)))]
pub async fn me(actor: Actor) -> Json<Value> {
    Json(json!(actor.agent))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the session agent's password. Every session of the agent ends, this one too: the
/// answer carries a fresh token for this console.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "session", request_body = PasswordBody,
    responses((status = 200, body = serde_json::Value), (status = 401, body = ProblemBody), (status = 422, body = ProblemBody), (status = 429, body = ProblemBody)))]
pub async fn change_password(
    actor: Actor,
    State(st): S,
    peer: Peer,
    Body(b): Body<PasswordBody>,
) -> ApiResult<Json<Value>> {
    let keys = throttle_keys(&actor.agent.name, peer);
    if let Some(wait) = st.throttle.wait(&keys) {
        return Err(Problem::too_many(
            wait.as_secs_f64().ceil() as u64,
            "too many failed tries; wait",
        ));
    }
    let hash = st.store.credentials(actor.id()).await?.and_then(|c| c.password_hash);
    if !auth::verify_password(&b.current_password, hash).await {
        st.throttle.failed(&keys);
        return Err(Problem::invalid("current_password", "is not the agent's password"));
    }
    auth::check_new_password(&b.new_password)?;
    let hash = auth::hash_password(&b.new_password).await?;
    st.store.set_password_hash(actor.id(), &hash, None).await?;
    let ended = st.store.end_agent_sessions(actor.id()).await?;
    // Every session ends, this one too; the one typing gets a fresh token.
    let token = auth::new_token();
    let expires_at = st.store.now() + st.settings.absolute_limit();
    let peer_text = peer.0.map(|p| p.to_string());
    st.store
        .create_session(&auth::secret_hash(&token), actor.id(), expires_at, peer_text.as_deref())
        .await?;
    st.store
        .audit_identity(&IdentityEvent {
            actor: Some(actor.id()),
            action: "password",
            subject: &actor.agent.name,
            detail: json!({ "sessions_ended": ended, "peer": peer_text }),
        })
        .await?;
    Ok(Json(
        json!({ "changed": true, "token": token, "expires_at": expires_at }),
    ))
}
