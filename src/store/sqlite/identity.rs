//! The identity statements (see `store::identity`) on SQLite (writes through the one writer connection).

use chrono::{DateTime, Utc};

use super::SqliteStore;
use crate::store::identity::{Credentials, IdentityEvent, SessionRow};
use crate::store::Result;

const SESSION_COLUMNS: &str = "token_hash, agent_id, created_at, last_seen_at, expires_at, ended_at";

impl SqliteStore {
    crate::store::portable::identity_queries!();

    pub async fn set_password_hash(
        &self,
        agent_id: i64,
        hash: &str,
        spent_code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE agent_credentials SET password_hash = $2, \
                 enrol_hash = CASE WHEN $3 IS NULL THEN enrol_hash ELSE NULL END, \
                 enrol_expires_at = CASE WHEN $3 IS NULL THEN enrol_expires_at ELSE NULL END, updated_at = $4 \
             WHERE agent_id = $1 AND ($3 IS NULL OR enrol_hash = $3)",
        )
        .bind(agent_id)
        .bind(hash)
        .bind(spent_code)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn audit_identity(&self, event: &IdentityEvent<'_>, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (at, agent_id, action, entity, entity_id, old_value, new_value) \
             VALUES ($1, $2, $3, 'agent', $4, NULL, $5)",
        )
        .bind(now)
        .bind(event.actor)
        .bind(event.action)
        .bind(event.subject)
        .bind(event.detail.to_string())
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
