//! Credentials and login sessions for the floor server. The store only keeps what it is given:
//! hashes are made by `crate::server::auth` (argon2id for passwords, SHA-256 for enrolment codes
//! and session tokens), and every decision about expiry is taken there from the rows read here.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Agent, Backend, Result, Store, StoreError};
use crate::domain::Role;

/// An agent's credential row.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct Credentials {
    pub agent_id: i64,
    /// argon2id PHC string; None until the agent has enrolled.
    pub password_hash: Option<String>,
    /// SHA-256 (hex) of an unused one-time enrolment code.
    pub enrol_hash: Option<String>,
    pub enrol_expires_at: Option<DateTime<Utc>>,
}

/// A session row joined with its agent's (`Store::session_agent`).
#[derive(Debug, Clone, FromRow)]
pub struct SessionAgentRow {
    token_hash: String,
    agent_id: i64,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    name: String,
    email: Option<String>,
    role: Role,
    active: bool,
    agent_created_at: DateTime<Utc>,
}

impl SessionAgentRow {
    fn split(self) -> (SessionRow, Agent) {
        let agent = Agent {
            id: self.agent_id,
            name: self.name,
            email: self.email,
            role: self.role,
            active: self.active,
            created_at: self.agent_created_at,
        };
        let session = SessionRow {
            token_hash: self.token_hash,
            agent_id: self.agent_id,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            expires_at: self.expires_at,
            ended_at: self.ended_at,
        };
        (session, agent)
    }
}

/// One login session, found by the hash of its token.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct SessionRow {
    pub token_hash: String,
    pub agent_id: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute limit, set at login.
    pub expires_at: DateTime<Utc>,
    /// Logged out or revoked.
    pub ended_at: Option<DateTime<Utc>>,
}

/// What the audit log records about identity: who did it (None: the admin's shell), to whom,
/// and the details (never a secret).
#[derive(Debug, Clone)]
pub struct IdentityEvent<'a> {
    pub actor: Option<i64>,
    /// `login`, `login_failed`, `enrol`, `enrolled`, `password`, `logout`, `revoke`.
    pub action: &'a str,
    /// The agent the event is about, by name (a failed login may name no agent that exists).
    pub subject: &'a str,
    pub detail: serde_json::Value,
}

macro_rules! on_backend {
    ($self:ident . $method:ident ( $($arg:expr),* $(,)? )) => {
        match &$self.backend {
            Backend::Postgres(b) => b.$method($($arg),*).await,
            Backend::Sqlite(b) => b.$method($($arg),*).await,
            // Sessions live in the server's database, never in a client's.
            Backend::Remote(_) => Err(StoreError::direct_only()),
        }
    };
}

impl Store {
    pub async fn credentials(&self, agent_id: i64) -> Result<Option<Credentials>> {
        on_backend!(self.credentials(agent_id))
    }

    /// Replaces the agent's enrolment code (the password, if any, stays until the code is used).
    pub async fn set_enrolment(&self, agent_id: i64, code_hash: &str, expires_at: DateTime<Utc>) -> Result<()> {
        on_backend!(self.set_enrolment(agent_id, code_hash, expires_at, self.now()))
    }

    /// Sets the password hash and spends the enrolment code, if it is still the one given (None:
    /// a password change, no code involved). False when the code was spent meanwhile.
    pub async fn set_password_hash(&self, agent_id: i64, hash: &str, spent_code: Option<&str>) -> Result<bool> {
        on_backend!(self.set_password_hash(agent_id, hash, spent_code, self.now()))
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        agent_id: i64,
        expires_at: DateTime<Utc>,
        peer: Option<&str>,
    ) -> Result<()> {
        on_backend!(self.create_session(token_hash, agent_id, self.now(), expires_at, peer))
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>> {
        on_backend!(self.session(token_hash))
    }

    /// A session and its agent in one statement: what the floor server reads on every request.
    pub async fn session_agent(&self, token_hash: &str) -> Result<Option<(SessionRow, Agent)>> {
        let row: Option<SessionAgentRow> = on_backend!(self.session_agent(token_hash))?;
        Ok(row.map(SessionAgentRow::split))
    }

    /// Moves the idle clock of a live session forward.
    pub async fn touch_session(&self, token_hash: &str) -> Result<()> {
        on_backend!(self.touch_session(token_hash, self.now()))
    }

    /// Ends one session (logout); false when it had ended already.
    pub async fn end_session(&self, token_hash: &str) -> Result<bool> {
        on_backend!(self.end_session(token_hash, self.now()))
    }

    /// Ends every live session of the agent; returns how many.
    pub async fn end_agent_sessions(&self, agent_id: i64) -> Result<u64> {
        on_backend!(self.end_agent_sessions(agent_id, self.now()))
    }

    /// Writes an identity event to the audit log.
    pub async fn audit_identity(&self, event: &IdentityEvent<'_>) -> Result<()> {
        on_backend!(self.audit_identity(event, self.now()))
    }

    /// Turns an agent's account on or off; a deactivated agent cannot log in and its sessions
    /// stop working at once.
    pub async fn set_agent_active(&self, agent_id: i64, active: bool) -> Result<bool> {
        on_backend!(self.set_agent_active(agent_id, active))
    }
}
