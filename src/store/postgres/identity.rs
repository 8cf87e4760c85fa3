//! The identity statements (see `store::identity`) on PostgreSQL.

use chrono::{DateTime, Utc};

use super::dialect;
use super::PgStore;
use crate::store::identity::{Credentials, IdentityEvent, SessionAgentRow, SessionRow};
use crate::store::Result;

const SESSION_COLUMNS: &str = "token_hash, agent_id, created_at, last_seen_at, expires_at, ended_at";

impl PgStore {
    crate::store::portable::identity_queries!();
}
