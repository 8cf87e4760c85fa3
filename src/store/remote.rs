//! The third backend: a floor server reached over HTTP (`coldcall --server URL`). Each store call
//! becomes one of the server's `/api/v1` routes, so the console and the command line behave the
//! same in both modes while the rules, the transactions and the database credentials stay with
//! the server.
//!
//! Who acts is the session token's agent, decided by the server; an agent id a caller passes is
//! only used to pick which of the sessions this client holds sends the request. A console holds
//! one (its `coldcall login`); a client that plays several agents (the conformance suite) holds
//! one per agent, each logged in for real. A call on behalf of an agent this client holds no
//! session for is refused here, before anything is sent.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use uuid::Uuid;

use super::error::{Result, StoreError};
use super::model::*;
use crate::domain::duplicates::DuplicatePair;
use crate::domain::{Disposition, LeadFields, LeadStatus, PresenceState, Refusal};
use crate::floor_session::SavedSession;

/// How long one ordinary request may take, answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The server sends a keep-alive on its change stream every 15 s; this much silence means the
/// connection is gone even if the socket has not noticed.
pub const STREAM_SILENCE: Duration = Duration::from_secs(40);

/// What every "your session ended" error says to do; the console recognises it by this.
pub const LOG_IN_AGAIN: &str = "log in again (coldcall login)";

/// One logged-in agent: the server's record of them and the token that proves it.
#[derive(Clone)]
pub struct Session {
    pub agent: Agent,
    token: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("agent", &self.agent.name)
            .finish_non_exhaustive()
    }
}

struct Sessions {
    /// This terminal's own session: who acts when a call names no agent.
    main: Session,
    others: Vec<Session>,
    /// Where the main session was read from. When the server says it ended, the file is read
    /// again: a `coldcall login` in another terminal renews a running console's session.
    file: Option<PathBuf>,
}

struct Inner {
    base: Url,
    http: reqwest::Client,
    sessions: RwLock<Sessions>,
    /// The lead of each call started here: the end-call route is the lead's.
    call_leads: Mutex<HashMap<Uuid, Uuid>>,
}

#[derive(Clone)]
pub struct RemoteStore(Arc<Inner>);

/// Which session sends a request: the terminal's own, or the one of the agent a call is for.
#[derive(Clone, Copy)]
enum As {
    Main,
    Agent(i64),
}

impl As {
    fn actor(actor: Option<i64>) -> As {
        actor.map_or(As::Main, As::Agent)
    }
}

/// The answer to a login: who, and the token.
#[derive(Debug, serde::Deserialize)]
struct LoginReply {
    token: String,
    agent_id: i64,
}

impl RemoteStore {
    /// Opens the floor server at `server` with a saved session's token; the server names the
    /// agent (`/me`), so a token that no longer works is found out now.
    pub async fn connect(server: &str, token: &str, file: Option<PathBuf>) -> Result<RemoteStore> {
        let base = parse_base(server)?;
        let http = crate::floor_session::client().map_err(StoreError::Unavailable)?;
        let agent = me(&http, &base, token).await?;
        Ok(RemoteStore(Arc::new(Inner {
            base,
            http,
            sessions: RwLock::new(Sessions {
                main: Session {
                    agent,
                    token: token.to_string(),
                },
                others: Vec::new(),
                file,
            }),
            call_leads: Mutex::new(HashMap::new()),
        })))
    }

    /// Opens the floor server with the session `coldcall login` saved.
    pub async fn from_saved(saved: &SavedSession) -> Result<RemoteStore> {
        RemoteStore::connect(&saved.server, &saved.token, Some(crate::floor_session::session_path())).await
    }

    /// Logs `name` in at `server` (with the password, or the first time with the enrolment
    /// code and the password to set) and answers the session.
    pub async fn log_in(server: &str, name: &str, secret: LoginSecret<'_>) -> Result<(Session, String)> {
        let base = parse_base(server)?;
        let http = crate::floor_session::client().map_err(StoreError::Unavailable)?;
        let body = match secret {
            LoginSecret::Password(password) => json!({ "name": name, "password": password }),
            LoginSecret::Code { code, new_password } => {
                json!({ "name": name, "code": code, "new_password": new_password })
            }
        };
        let url = api_url(&base, &["login"], &[]);
        let response = http
            .post(url)
            .timeout(REQUEST_TIMEOUT)
            .json(&body)
            .send()
            .await
            .map_err(|e| unreachable_server(&base, e))?;
        let reply: LoginReply = decode(response).await?;
        let agent = me(&http, &base, &reply.token).await?;
        debug_assert_eq!(agent.id, reply.agent_id);
        Ok((
            Session {
                agent,
                token: reply.token.clone(),
            },
            reply.token,
        ))
    }

    /// Holds another agent's session too: calls made for that agent are sent with it.
    pub fn hold(&self, session: Session) {
        let mut sessions = self.0.sessions.write().unwrap_or_else(|e| e.into_inner());
        sessions.others.retain(|s| s.agent.id != session.agent.id);
        sessions.others.push(session);
    }

    /// The terminal's own agent, as the server knows them.
    pub fn agent(&self) -> Agent {
        self.0
            .sessions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .main
            .agent
            .clone()
    }

    /// The server's address, for the header and the log.
    pub fn server(&self) -> String {
        self.0.base.as_str().trim_end_matches('/').to_string()
    }

    pub fn security(&self) -> super::target::ConnectionSecurity {
        use super::target::ConnectionSecurity::*;
        // The client checks every HTTPS certificate; plain HTTP is refused by the server
        // except on loopback.
        if self.0.base.scheme() == "https" {
            Verified
        } else {
            Loopback
        }
    }

    fn token(&self, who: As) -> Result<String> {
        let sessions = self.0.sessions.read().unwrap_or_else(|e| e.into_inner());
        match who {
            As::Main => Ok(sessions.main.token.clone()),
            As::Agent(id) if id == sessions.main.agent.id => Ok(sessions.main.token.clone()),
            As::Agent(id) => sessions
                .others
                .iter()
                .find(|s| s.agent.id == id)
                .map(|s| s.token.clone())
                .ok_or_else(|| {
                    StoreError::Forbidden(format!(
                        "this terminal is logged in to the floor server as {}; it cannot act as agent #{id}",
                        sessions.main.agent.name
                    ))
                }),
        }
    }

    /// After a 401 on the main session: the session file's token, when a new login put a
    /// different one there for the same agent and server.
    fn renewed_token(&self, refused: &str) -> Option<String> {
        let mut sessions = self.0.sessions.write().unwrap_or_else(|e| e.into_inner());
        if sessions.main.token != refused {
            // Another request renewed it meanwhile.
            return Some(sessions.main.token.clone());
        }
        let file = sessions.file.as_ref()?;
        let saved: SavedSession = serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()?;
        let same_place = parse_base(&saved.server).ok()? == self.0.base && saved.name == sessions.main.agent.name;
        (same_place && saved.token != refused).then(|| {
            sessions.main.token = saved.token.clone();
            saved.token
        })
    }

    /// Sends what `build` makes with the session's token; when the server says the terminal's
    /// own session ended and a new login has left a fresh token in the session file, once more
    /// with that one.
    async fn authorized(&self, who: As, build: impl Fn(&str) -> reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let mut token = self.token(who)?;
        let own = matches!(who, As::Main) || self.agent().id == as_id(who);
        let mut renewed = false;
        loop {
            let response = build(&token)
                .send()
                .await
                .map_err(|e| unreachable_server(&self.0.base, e))?;
            if response.status() == StatusCode::UNAUTHORIZED && own && !renewed {
                if let Some(fresh) = self.renewed_token(&token) {
                    (token, renewed) = (fresh, true);
                    continue;
                }
            }
            return Ok(response);
        }
    }

    async fn send<T: DeserializeOwned>(
        &self,
        who: As,
        method: Method,
        path: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<T> {
        let url = api_url(&self.0.base, path, query);
        let response = self
            .authorized(who, |token| {
                let request = self
                    .0
                    .http
                    .request(method.clone(), url.clone())
                    .timeout(REQUEST_TIMEOUT)
                    .bearer_auth(token);
                match body {
                    Some(body) => request.json(body),
                    None => request,
                }
            })
            .await?;
        decode(response).await
    }

    async fn get<T: DeserializeOwned>(&self, who: As, path: &[&str], query: &[(&str, String)]) -> Result<T> {
        self.send(who, Method::GET, path, query, None).await
    }

    async fn post<T: DeserializeOwned>(&self, who: As, path: &[&str], body: Value) -> Result<T> {
        self.send(who, Method::POST, path, &[], Some(&body)).await
    }

    async fn put<T: DeserializeOwned>(&self, who: As, path: &[&str], body: Value) -> Result<T> {
        self.send(who, Method::PUT, path, &[], Some(&body)).await
    }

    async fn delete<T: DeserializeOwned>(&self, who: As, path: &[&str]) -> Result<T> {
        self.send(who, Method::DELETE, path, &[], None).await
    }

    /// One member of a JSON answer (`{"alive": true}` → true).
    async fn field<T: DeserializeOwned>(answer: Result<Value>, name: &str) -> Result<T> {
        let mut answer = answer?;
        serde_json::from_value(answer[name].take())
            .map_err(|e| StoreError::Unavailable(format!("the floor server's answer lacks '{name}': {e}")))
    }

    // ------------------------------------------------------------------ agents and settings

    /// Adds an agent (admins) and answers the one-time enrolment code the server issued.
    pub async fn add_agent_enrolling(&self, agent: &NewAgent) -> Result<(Agent, String)> {
        let mut reply: Value = self
            .post(
                As::Main,
                &["agents"],
                json!({ "name": agent.name, "email": agent.email, "role": agent.role }),
            )
            .await?;
        let code = Self::field(Ok(reply.clone()), "enrolment_code").await?;
        let agent = serde_json::from_value(reply["agent"].take())
            .map_err(|e| StoreError::Unavailable(format!("the floor server's answer lacks the agent: {e}")))?;
        Ok((agent, code))
    }

    /// A new one-time enrolment code for an agent (admins).
    pub async fn enrol(&self, name: &str) -> Result<String> {
        Self::field(
            self.post(As::Main, &["agents", name, "enrol"], json!({})).await,
            "enrolment_code",
        )
        .await
    }

    /// Ends every session of the agent at once (admins); answers how many ended.
    pub async fn revoke(&self, name: &str) -> Result<u64> {
        Self::field(
            self.post(As::Main, &["agents", name, "revoke"], json!({})).await,
            "sessions_ended",
        )
        .await
    }

    /// Turns an account on or off (admins); off ends its sessions, and answers how many.
    pub async fn set_active(&self, name: &str, active: bool) -> Result<u64> {
        let answer = self
            .put(As::Main, &["agents", name, "active"], json!({ "active": active }))
            .await;
        Self::field(answer, "sessions_ended").await
    }

    pub async fn add_agent(&self, agent: &NewAgent) -> Result<Agent> {
        Ok(self.add_agent_enrolling(agent).await?.0)
    }

    /// An agent this client holds a session for, without asking the server.
    fn held_agent(&self, is: impl Fn(&Agent) -> bool) -> Option<Agent> {
        let sessions = self.0.sessions.read().unwrap_or_else(|e| e.into_inner());
        std::iter::once(&sessions.main)
            .chain(sessions.others.iter())
            .map(|s| &s.agent)
            .find(|a| is(a))
            .cloned()
    }

    pub async fn agent_by_name(&self, name: &str) -> Result<Option<Agent>> {
        if let Some(agent) = self.held_agent(|a| a.name == name) {
            return Ok(Some(agent));
        }
        Ok(self.agents().await?.into_iter().find(|a| a.name == name))
    }

    pub async fn agent_by_id(&self, id: i64) -> Result<Option<Agent>> {
        if let Some(agent) = self.held_agent(|a| a.id == id) {
            return Ok(Some(agent));
        }
        Ok(self.agents().await?.into_iter().find(|a| a.id == id))
    }

    /// An agent's name, as the routes that give something to someone take it.
    async fn name_of(&self, id: i64) -> Result<String> {
        self.agent_by_id(id)
            .await?
            .map(|a| a.name)
            .ok_or_else(|| StoreError::not_found("agent", id))
    }

    pub async fn agents(&self) -> Result<Vec<Agent>> {
        self.get(As::Main, &["agents"], &[]).await
    }

    pub async fn settings(&self) -> Result<Vec<(String, String)>> {
        self.get(As::Main, &["settings"], &[]).await
    }

    pub async fn change_setting(&self, key: &str, value: &str, actor: Option<i64>) -> Result<()> {
        let _: Value = self
            .put(As::actor(actor), &["settings", key], json!({ "value": value }))
            .await?;
        Ok(())
    }

    pub async fn dispositions(&self) -> Result<Vec<Disposition>> {
        self.get(As::Main, &["dispositions"], &[]).await
    }

    // ------------------------------------------------------------------ leads

    pub async fn create_lead(&self, fields: &LeadFields, actor: Option<i64>) -> Result<Lead> {
        self.post(As::actor(actor), &["leads"], json!({ "fields": fields.to_input() }))
            .await
    }

    pub async fn update_lead(
        &self,
        id: Uuid,
        fields: &LeadFields,
        actor: Option<i64>,
        reason: Option<&str>,
    ) -> Result<Lead> {
        self.put(
            As::actor(actor),
            &["leads", &id.to_string()],
            json!({ "fields": fields.to_input(), "reason": reason }),
        )
        .await
    }

    pub async fn lead(&self, id: Uuid) -> Result<Option<Lead>> {
        absent_is_none(self.get(As::Main, &["leads", &id.to_string()], &[]).await)
    }

    pub async fn set_status(
        &self,
        id: Uuid,
        status: LeadStatus,
        reason: Option<&str>,
        actor: Option<i64>,
    ) -> Result<Lead> {
        self.post(
            As::actor(actor),
            &["leads", &id.to_string(), "status"],
            json!({ "status": status, "reason": reason }),
        )
        .await
    }

    pub async fn set_deleted(&self, id: Uuid, deleted: bool, actor: Option<i64>) -> Result<Lead> {
        let id = id.to_string();
        if deleted {
            self.delete(As::actor(actor), &["leads", &id]).await
        } else {
            self.post(As::actor(actor), &["leads", &id, "restore"], json!({})).await
        }
    }

    pub async fn leads_by_id_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<Lead>> {
        self.get(As::Main, &["leads", "prefix", prefix], &[("limit", limit.to_string())])
            .await
    }

    pub async fn calls_by_id_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<CallLog>> {
        self.get(As::Main, &["calls", "prefix", prefix], &[("limit", limit.to_string())])
            .await
    }

    pub async fn duplicate_leads(&self) -> Result<Vec<DuplicatePair>> {
        self.get(As::Main, &["leads", "duplicates"], &[]).await
    }

    pub async fn merge_leads(&self, keep: Uuid, other: Uuid, by: i64) -> Result<super::MergeSummary> {
        self.post(
            As::Agent(by),
            &["leads", &keep.to_string(), "merge"],
            json!({ "other": other }),
        )
        .await
    }

    pub async fn merged_into(&self, id: Uuid) -> Result<Option<Uuid>> {
        Self::field(
            self.get(As::Main, &["leads", &id.to_string(), "merged-into"], &[])
                .await,
            "into",
        )
        .await
    }

    pub async fn list_leads(&self, filter: &LeadFilter, after: Option<LeadCursor>, limit: u32) -> Result<Page<Lead>> {
        let mut query = filter_query(filter);
        query.push(("limit", limit.to_string()));
        if let Some(after) = after {
            query.push(("after", json!(after).to_string()));
        }
        self.get(As::Main, &["leads"], &query).await
    }

    pub async fn search_leads(&self, text: &str, filter: &LeadFilter, limit: u32) -> Result<Vec<Lead>> {
        let mut query = filter_query(filter);
        query.push(("q", text.to_string()));
        query.push(("limit", limit.to_string()));
        self.get(As::Main, &["leads", "search"], &query).await
    }

    // ------------------------------------------------------------------ contacts

    pub async fn contacts(&self, lead_id: Uuid) -> Result<Vec<Contact>> {
        self.get(As::Main, &["leads", &lead_id.to_string(), "contacts"], &[])
            .await
    }

    /// The server reads a number written without its country code as from the floor's region.
    pub async fn add_contact(&self, lead_id: Uuid, contact: &NewContact) -> Result<Contact> {
        self.post(As::Main, &["leads", &lead_id.to_string(), "contacts"], json!(contact))
            .await
    }

    pub async fn update_contact(&self, id: Uuid, contact: &NewContact) -> Result<Contact> {
        self.put(As::Main, &["contacts", &id.to_string()], json!(contact)).await
    }

    pub async fn remove_contact(&self, id: Uuid) -> Result<()> {
        let _: Value = self.delete(As::Main, &["contacts", &id.to_string()]).await?;
        Ok(())
    }

    // ------------------------------------------------------------------ calls

    pub async fn can_call(&self, lead_id: Uuid, agent_id: i64) -> Result<Result<(), Refusal>> {
        let answer: Value = self
            .get(As::Agent(agent_id), &["leads", &lead_id.to_string(), "can-call"], &[])
            .await?;
        if answer["allowed"].as_bool() == Some(true) {
            return Ok(Ok(()));
        }
        Ok(Err(Self::field(Ok(answer), "refusal").await?))
    }

    pub async fn start_call(&self, req: &StartCall) -> Result<StartedCall> {
        let started: StartedCall = self
            .post(
                As::Agent(req.agent_id),
                &["leads", &req.lead_id.to_string(), "start-call"],
                json!({ "from_number": req.from_number }),
            )
            .await?;
        self.0
            .call_leads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(started.call_id, started.lead_id);
        Ok(started)
    }

    pub async fn heartbeat(&self, call_id: Uuid, agent_id: i64) -> Result<bool> {
        let answer = self
            .post(
                As::Agent(agent_id),
                &["calls", &call_id.to_string(), "heartbeat"],
                json!({}),
            )
            .await;
        Self::field(answer, "alive").await
    }

    /// The lead a call belongs to: known when it was started here, asked for otherwise.
    async fn lead_of_call(&self, call_id: Uuid) -> Result<Uuid> {
        let known = self
            .0
            .call_leads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&call_id)
            .copied();
        match known {
            Some(lead) => Ok(lead),
            None => self
                .call(call_id)
                .await?
                .map(|c| c.lead_id)
                .ok_or_else(|| StoreError::not_found("call", call_id)),
        }
    }

    pub async fn end_call(&self, req: &EndCall) -> Result<EndedCall> {
        let lead = self.lead_of_call(req.call_id).await?;
        let ended = self
            .post(
                As::Agent(req.agent_id),
                &["leads", &lead.to_string(), "end-call"],
                json!({
                    "call_id": req.call_id,
                    "disposition": req.disposition,
                    "duration_s": req.duration_s,
                    "notes": req.notes,
                    "recording_url": req.recording_url,
                    "callback_at": req.callback_at,
                    "force": req.force,
                    "progress": req.progress,
                }),
            )
            .await;
        if ended.is_ok() {
            self.0
                .call_leads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&req.call_id);
        }
        ended
    }

    pub async fn reap_stale_locks(&self, actor: Option<i64>) -> Result<Vec<ReapedLock>> {
        self.post(As::actor(actor), &["calls", "reap"], json!({})).await
    }

    pub async fn force_release(&self, call_id: Uuid, by: i64, reason: &str) -> Result<ReapedLock> {
        self.post(
            As::Agent(by),
            &["calls", &call_id.to_string(), "release"],
            json!({ "reason": reason }),
        )
        .await
    }

    pub async fn note_call(&self, call_id: Uuid, text: &str) -> Result<bool> {
        let answer = self
            .post(
                As::Main,
                &["calls", &call_id.to_string(), "notes"],
                json!({ "text": text }),
            )
            .await;
        match Self::field(answer, "noted").await {
            Err(StoreError::NotFound { .. }) => Ok(false),
            other => other,
        }
    }

    pub async fn active_calls(&self) -> Result<Vec<ActiveCall>> {
        self.get(As::Main, &["active-calls"], &[]).await
    }

    pub async fn call(&self, call_id: Uuid) -> Result<Option<CallLog>> {
        absent_is_none(self.get(As::Main, &["calls", &call_id.to_string()], &[]).await)
    }

    pub async fn call_history(&self, lead_id: Uuid) -> Result<Vec<CallLog>> {
        self.get(As::Main, &["leads", &lead_id.to_string(), "call-history"], &[])
            .await
    }

    pub async fn status_history(&self, lead_id: Uuid) -> Result<Vec<StatusChange>> {
        self.get(As::Main, &["leads", &lead_id.to_string(), "status-history"], &[])
            .await
    }

    // ------------------------------------------------------------------ presence and the floor

    pub async fn set_presence(&self, agent_id: i64, state: PresenceState, reason: Option<&str>) -> Result<()> {
        let _: Value = self
            .put(
                As::Agent(agent_id),
                &["presence"],
                json!({ "state": state, "reason": reason }),
            )
            .await?;
        Ok(())
    }

    pub async fn presence(&self) -> Result<Vec<Presence>> {
        self.get(As::Main, &["presence"], &[]).await
    }

    pub async fn floor_figures(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<FloorFigures> {
        self.get(
            As::Main,
            &["floor", "figures"],
            &[("from", from.to_rfc3339()), ("to", to.to_rfc3339())],
        )
        .await
    }

    pub async fn offline_checkouts(&self) -> Result<Vec<super::offline::OpenCheckout>> {
        self.get(As::Main, &["floor", "offline"], &[]).await
    }

    // ------------------------------------------------------------------ queue and assignments

    pub async fn claim_next(&self, agent_id: i64) -> Result<Option<Claim>> {
        self.post(As::Agent(agent_id), &["queue", "claim-next"], json!({}))
            .await
    }

    pub async fn queue_why(&self, agent_id: i64) -> Result<QueueWhy> {
        self.get(As::Agent(agent_id), &["queue", "why"], &[]).await
    }

    pub async fn queue_preview(&self, agent_id: i64, limit: u32) -> Result<Vec<Lead>> {
        self.get(
            As::Agent(agent_id),
            &["queue", "preview"],
            &[("limit", limit.to_string())],
        )
        .await
    }

    pub async fn assign(
        &self,
        lead_id: Uuid,
        agent_id: i64,
        by: Option<i64>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<Assignment> {
        let who = As::actor(by);
        let to = if by.unwrap_or(self.agent().id) == agent_id {
            None
        } else {
            Some(self.name_of(agent_id).await?)
        };
        self.post(
            who,
            &["leads", &lead_id.to_string(), "assign"],
            json!({ "agent": to, "expires_at": expires_at }),
        )
        .await
    }

    pub async fn unassign(&self, lead_id: Uuid) -> Result<bool> {
        Self::field(
            self.delete(As::Main, &["leads", &lead_id.to_string(), "assignment"])
                .await,
            "ended",
        )
        .await
    }

    pub async fn expire_assignments(&self) -> Result<u64> {
        Self::field(
            self.post(As::Main, &["assignments", "expire"], json!({})).await,
            "expired",
        )
        .await
    }

    pub async fn assignments(&self, lead_id: Uuid) -> Result<Vec<Assignment>> {
        self.get(As::Main, &["leads", &lead_id.to_string(), "assignments"], &[])
            .await
    }

    // ------------------------------------------------------------------ callbacks

    pub async fn schedule_callback(
        &self,
        lead_id: Uuid,
        agent_id: i64,
        due_at: DateTime<Utc>,
        note: Option<&str>,
    ) -> Result<Callback> {
        self.post(
            As::Agent(agent_id),
            &["leads", &lead_id.to_string(), "callbacks"],
            json!({ "due_at": due_at, "note": note }),
        )
        .await
    }

    pub async fn due_callbacks(&self, agent_id: Option<i64>, until: DateTime<Utc>) -> Result<Vec<Callback>> {
        let until = ("until", until.to_rfc3339());
        match agent_id {
            Some(agent) => self.get(As::Agent(agent), &["callbacks"], &[until]).await,
            None => {
                self.get(As::Main, &["callbacks"], &[until, ("all", "true".into())])
                    .await
            }
        }
    }

    pub async fn callbacks_by_id_prefix(
        &self,
        prefix: &str,
        agent_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Callback>> {
        let path = ["callbacks", "prefix", prefix];
        let limit = ("limit", limit.to_string());
        match agent_id {
            Some(agent) => self.get(As::Agent(agent), &path, &[limit]).await,
            None => self.get(As::Main, &path, &[limit, ("all", "true".into())]).await,
        }
    }

    pub async fn hand_callback(&self, id: Uuid, to: i64, by: Option<i64>) -> Result<bool> {
        let to = self.name_of(to).await?;
        let answer = self
            .post(
                As::actor(by),
                &["callbacks", &id.to_string(), "hand"],
                json!({ "to": to }),
            )
            .await;
        Self::field(answer, "handed").await
    }

    pub async fn complete_callback(&self, id: Uuid) -> Result<bool> {
        let answer = self
            .post(As::Main, &["callbacks", &id.to_string(), "complete"], json!({}))
            .await;
        match Self::field(answer, "done").await {
            Err(StoreError::NotFound { .. }) => Ok(false),
            other => other,
        }
    }

    // ------------------------------------------------------------------ do-not-call list

    pub async fn dnc_add(&self, number: &str, reason: Option<&str>, by: Option<i64>) -> Result<DncEntry> {
        self.post(As::actor(by), &["dnc"], json!({ "number": number, "reason": reason }))
            .await
    }

    pub async fn dnc_remove(&self, number: &str, by: Option<i64>) -> Result<bool> {
        Self::field(self.delete(As::actor(by), &["dnc", number]).await, "removed").await
    }

    pub async fn dnc_check(&self, number: &str) -> Result<Option<DncEntry>> {
        self.get(As::Main, &["dnc", number], &[]).await
    }

    // ------------------------------------------------------------------ change feed

    pub async fn changes_since(&self, cursor: FeedCursor, limit: u32) -> Result<Vec<Change>> {
        self.get(
            As::Main,
            &["changes", "since"],
            &[("cursor", cursor.to_string()), ("limit", limit.to_string())],
        )
        .await
    }

    pub async fn feed_head(&self) -> Result<FeedCursor> {
        let text: String = Self::field(self.get(As::Main, &["changes", "head"], &[]).await, "cursor").await?;
        text.parse()
            .map_err(|e: String| StoreError::Unavailable(format!("the floor server sent a bad cursor: {e}")))
    }

    /// The server's change stream from `cursor` on: each change as it is committed, without
    /// polling. Ends when the connection does (or stays silent past `STREAM_SILENCE`); read
    /// again from the last change's cursor.
    pub async fn follow(&self, cursor: FeedCursor) -> Result<impl Stream<Item = Result<Change>> + Send + 'static> {
        use eventsource_stream::Eventsource;
        let url = api_url(&self.0.base, &["changes"], &[("cursor", cursor.to_string())]);
        let response = self
            .authorized(As::Main, |token| {
                // Long enough for any shift; the silence bound below notices a dead connection.
                self.0
                    .http
                    .get(url.clone())
                    .timeout(Duration::from_secs(24 * 3600))
                    .bearer_auth(token)
            })
            .await?;
        if !response.status().is_success() {
            return Err(decode::<Value>(response)
                .await
                .err()
                .unwrap_or_else(|| StoreError::Unavailable("the floor server did not open its change stream".into())));
        }
        let events = Box::pin(response.bytes_stream().eventsource());
        // After an error the stream ends: the caller reads again from its cursor.
        Ok(futures::stream::unfold(
            (events, false),
            |(mut events, done)| async move {
                if done {
                    return None;
                }
                let broken = |why: String| (Err(StoreError::Unavailable(why)), true);
                loop {
                    let (item, done) = match tokio::time::timeout(STREAM_SILENCE, events.next()).await {
                        Err(_) => broken("the floor server's change stream went silent".into()),
                        Ok(None) => return None,
                        Ok(Some(Err(e))) => broken(format!("the floor server's change stream broke: {e}")),
                        Ok(Some(Ok(event))) if event.event == "change" => {
                            match serde_json::from_str::<Change>(&event.data) {
                                Ok(change) => (Ok(change), false),
                                Err(e) => broken(format!("the floor server sent an unreadable change: {e}")),
                            }
                        }
                        // Comments and other events only keep the connection alive.
                        Ok(Some(Ok(_))) => continue,
                    };
                    return Some((item, (events, done)));
                }
            },
        ))
    }

    // ------------------------------------------------------------------ import and export

    pub async fn import_leads(&self, batch: &super::ImportBatch<'_>) -> Result<Vec<super::RowResult>> {
        self.post(
            As::actor(batch.actor),
            &["import", "leads"],
            json!({ "rows": batch.rows, "mode": batch.mode, "reason": batch.reason, "dry_run": batch.dry_run }),
        )
        .await
    }

    pub async fn import_dnc(
        &self,
        rows: &[super::DncRow],
        actor: Option<i64>,
        dry_run: bool,
    ) -> Result<super::DncBatchResult> {
        self.post(
            As::actor(actor),
            &["import", "dnc"],
            json!({ "rows": rows, "dry_run": dry_run }),
        )
        .await
    }

    pub async fn record_import(&self, what: &str, file: &str, summary: &Value, actor: Option<i64>) -> Result<()> {
        let _: Value = self
            .post(
                As::actor(actor),
                &["import", "record"],
                json!({ "what": what, "file": file, "summary": summary }),
            )
            .await?;
        Ok(())
    }

    pub async fn export_calls(
        &self,
        filter: &super::CallFilter,
        after: Option<super::CallCursor>,
        limit: u32,
    ) -> Result<Vec<super::CallRecord>> {
        let mut query = vec![("limit", limit.to_string())];
        if let Some(from) = filter.from {
            query.push(("from", from.to_rfc3339()));
        }
        if let Some(to) = filter.to {
            query.push(("to", to.to_rfc3339()));
        }
        if let Some(agent) = filter.agent_id {
            query.push(("agent_id", agent.to_string()));
        }
        if let Some(after) = after {
            query.push(("after", json!(after).to_string()));
        }
        self.get(As::Main, &["export", "calls"], &query).await
    }

    // ------------------------------------------------------------------ call scripts

    pub async fn set_script(&self, name: &str, body: &str, by: Option<i64>) -> Result<CallScript> {
        self.put(As::actor(by), &["scripts", name], json!({ "body": body }))
            .await
    }

    pub async fn delete_script(&self, name: &str, by: Option<i64>) -> Result<bool> {
        Self::field(self.delete(As::actor(by), &["scripts", name]).await, "removed").await
    }

    pub async fn scripts(&self) -> Result<Vec<CallScript>> {
        self.get(As::Main, &["scripts"], &[]).await
    }

    pub async fn script(&self, name: &str) -> Result<Option<CallScript>> {
        absent_is_none(self.get(As::Main, &["scripts", name], &[]).await)
    }

    /// The script for a call to `lead`, filled in by the server for `agent`'s session.
    pub async fn script_for_call(&self, lead: &Lead, agent: &str) -> Result<Option<ScriptForCall>> {
        let who = self
            .held_agent(|a| a.name == agent)
            .map_or(As::Main, |a| As::Agent(a.id));
        self.get(who, &["leads", &lead.id.to_string(), "script"], &[]).await
    }

    // ------------------------------------------------------------------ personal data

    pub async fn gdpr_export(&self, lead_id: Uuid, by: i64) -> Result<super::PersonalData> {
        self.get(As::Agent(by), &["leads", &lead_id.to_string(), "personal-data"], &[])
            .await
    }

    pub async fn gdpr_erase(&self, lead_id: Uuid, by: i64, reason: &str) -> Result<super::Erasure> {
        self.post(
            As::Agent(by),
            &["leads", &lead_id.to_string(), "erase"],
            json!({ "reason": reason }),
        )
        .await
    }
}

fn as_id(who: As) -> i64 {
    match who {
        As::Main => i64::MIN,
        As::Agent(id) => id,
    }
}

/// How to prove who one is at login.
pub enum LoginSecret<'a> {
    Password(&'a str),
    /// The first time: the enrolment code an admin was given, and the password to set.
    Code {
        code: &'a str,
        new_password: &'a str,
    },
}

fn parse_base(server: &str) -> Result<Url> {
    let url = Url::parse(server.trim()).map_err(|e| {
        StoreError::BadInput(format!(
            "server: '{server}' is not a URL ({e}); give it as https://host:port"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(StoreError::BadInput(format!(
            "server: '{server}' is not an http:// or https:// address"
        )));
    }
    Ok(url)
}

/// `base` + `/api/v1/` + each segment, percent-encoded (a number's `+`, a name's space).
fn api_url(base: &Url, path: &[&str], query: &[(&str, String)]) -> Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend(["api", "v1"]).extend(path);
    }
    if !query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
    }
    url
}

fn filter_query(filter: &LeadFilter) -> Vec<(&'static str, String)> {
    let mut query = Vec::new();
    fn text(value: impl serde::Serialize) -> String {
        serde_json::to_value(value)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
    if let Some(status) = filter.status {
        query.push(("status", text(status)));
    }
    if let Some(priority) = filter.priority {
        query.push(("priority", text(priority)));
    }
    if let Some(agent) = filter.assigned_to {
        query.push(("assigned_to", agent.to_string()));
    }
    if let Some(min) = filter.min_score {
        query.push(("min_score", min.to_string()));
    }
    if let Some(max) = filter.max_score {
        query.push(("max_score", max.to_string()));
    }
    if filter.callbacks_due {
        query.push(("callbacks_due", "true".into()));
    }
    query
}

async fn me(http: &reqwest::Client, base: &Url, token: &str) -> Result<Agent> {
    let response = http
        .get(api_url(base, &["me"], &[]))
        .timeout(REQUEST_TIMEOUT)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| unreachable_server(base, e))?;
    decode(response).await
}

fn unreachable_server(base: &Url, err: reqwest::Error) -> StoreError {
    let why = if err.is_timeout() {
        "it did not answer in time".to_string()
    } else if err.is_connect() {
        "cannot connect".to_string()
    } else {
        err.to_string()
    };
    StoreError::Unavailable(format!(
        "the floor server {} did not answer: {why}",
        base.as_str().trim_end_matches('/')
    ))
}

fn absent_is_none<T>(answer: Result<T>) -> Result<Option<T>> {
    match answer {
        Ok(value) => Ok(Some(value)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A success as `T`; a problem object as the store error it stands for, so a caller cannot tell
/// a refusal through the server from one in direct mode.
async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T> {
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| StoreError::Unavailable(format!("the floor server's answer broke off: {e}")))?;
    if status.is_success() {
        return serde_json::from_str(&text).map_err(|e| {
            StoreError::Unavailable(format!(
                "the floor server's answer is not what this coldcall reads: {e}"
            ))
        });
    }
    let problem: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    Err(problem_error(status, problem))
}

fn problem_error(status: StatusCode, mut problem: Value) -> StoreError {
    let detail = problem["detail"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("the floor server answered {status}"));
    match problem["kind"].as_str().unwrap_or_default() {
        "refused" => match serde_json::from_value::<Refusal>(problem["refusal"].take()) {
            Ok(refusal) => StoreError::Refused(refusal),
            Err(_) => StoreError::Conflict(detail),
        },
        "invalid" => StoreError::BadInput(detail),
        "not_found" => StoreError::NotFound {
            what: known_what(problem["what"].as_str().unwrap_or_default()),
            key: problem["key"].as_str().unwrap_or_default().to_string(),
        },
        "conflict" => StoreError::Conflict(detail),
        "forbidden" => StoreError::Forbidden(detail),
        "bad_setting" => StoreError::BadSetting(detail),
        "unauthorized" => {
            StoreError::SessionEnded(format!("{detail}; {LOG_IN_AGAIN}, and what you typed is sent then"))
        }
        _ => StoreError::Unavailable(detail),
    }
}

/// The store names what it did not find with a fixed word; the same word comes back.
fn known_what(what: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "lead",
        "call",
        "agent",
        "callback",
        "open callback",
        "contact",
        "script",
        "active call",
        "active agent",
    ];
    KNOWN.iter().find(|k| **k == what).copied().unwrap_or("record")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        let base = parse_base("http://127.0.0.1:8470").unwrap();
        let url = api_url(&base, &["dnc", "+1 212"], &[("q", "a&b".into())]);
        assert_eq!(url.as_str(), "http://127.0.0.1:8470/api/v1/dnc/+1%20212?q=a%26b");
        let behind_a_path = parse_base("https://floor.example.com/dialer/").unwrap();
        assert_eq!(
            api_url(&behind_a_path, &["me"], &[]).as_str(),
            "https://floor.example.com/dialer/api/v1/me"
        );
    }

    #[test]
    fn a_refusal_comes_back_as_the_refusal() {
        let refusal = Refusal::OnAnotherCall {
            agent: "bob".into(),
            since: DateTime::UNIX_EPOCH,
        };
        let problem = serde_json::to_value(crate::server::problem::Problem::from(StoreError::Refused(
            refusal.clone(),
        )))
        .unwrap();
        match problem_error(StatusCode::CONFLICT, problem) {
            StoreError::Refused(back) => assert_eq!(back, refusal),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_addresses_are_refused_in_words() {
        assert!(parse_base("floor.example.com").is_err());
        assert!(parse_base("ftp://floor.example.com").is_err());
    }
}
