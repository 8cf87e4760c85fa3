//! The identity queries (credentials, sessions) whose SQL PostgreSQL and SQLite both take word
//! for word, expanded inside each backend's store `impl` (see `store.rs` for `reader`/`writer`).

macro_rules! identity_queries {
    () => {
        pub async fn credentials(&self, agent_id: i64) -> Result<Option<Credentials>> {
            Ok(sqlx::query_as(
                "SELECT agent_id, password_hash, enrol_hash, enrol_expires_at FROM agent_credentials WHERE agent_id = $1",
            )
            .bind(agent_id)
            .fetch_optional(self.reader())
            .await?)
        }

        pub async fn set_enrolment(
            &self,
            agent_id: i64,
            code_hash: &str,
            expires_at: DateTime<Utc>,
            now: DateTime<Utc>,
        ) -> Result<()> {
            sqlx::query(
                "INSERT INTO agent_credentials (agent_id, enrol_hash, enrol_expires_at, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (agent_id) DO UPDATE SET enrol_hash = $2, enrol_expires_at = $3, updated_at = $4",
            )
            .bind(agent_id)
            .bind(code_hash)
            .bind(expires_at)
            .bind(now)
            .execute(self.writer())
            .await?;
            Ok(())
        }

        pub async fn create_session(
            &self,
            token_hash: &str,
            agent_id: i64,
            now: DateTime<Utc>,
            expires_at: DateTime<Utc>,
            peer: Option<&str>,
        ) -> Result<()> {
            sqlx::query(
                "INSERT INTO agent_sessions (token_hash, agent_id, created_at, last_seen_at, expires_at, peer) \
                 VALUES ($1, $2, $3, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(agent_id)
            .bind(now)
            .bind(expires_at)
            .bind(peer)
            .execute(self.writer())
            .await?;
            Ok(())
        }

        pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>> {
            Ok(sqlx::query_as(&format!(
                "SELECT {SESSION_COLUMNS} FROM agent_sessions WHERE token_hash = $1"
            ))
            .bind(token_hash)
            .fetch_optional(self.reader())
            .await?)
        }

        pub async fn session_agent(&self, token_hash: &str) -> Result<Option<SessionAgentRow>> {
            Ok(sqlx::query_as(
                "SELECT s.token_hash, s.agent_id, s.created_at, s.last_seen_at, s.expires_at, s.ended_at, \
                 a.name, a.email, a.role, a.active, a.created_at AS agent_created_at \
                 FROM agent_sessions s JOIN agents a ON a.id = s.agent_id WHERE s.token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(self.reader())
            .await?)
        }

        pub async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
            sqlx::query("UPDATE agent_sessions SET last_seen_at = $2 WHERE token_hash = $1 AND ended_at IS NULL")
                .bind(token_hash)
                .bind(now)
                .execute(self.writer())
                .await?;
            Ok(())
        }

        pub async fn end_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<bool> {
            let done = sqlx::query("UPDATE agent_sessions SET ended_at = $2 WHERE token_hash = $1 AND ended_at IS NULL")
                .bind(token_hash)
                .bind(now)
                .execute(self.writer())
                .await?;
            Ok(done.rows_affected() == 1)
        }

        pub async fn end_agent_sessions(&self, agent_id: i64, now: DateTime<Utc>) -> Result<u64> {
            let done = sqlx::query("UPDATE agent_sessions SET ended_at = $2 WHERE agent_id = $1 AND ended_at IS NULL")
                .bind(agent_id)
                .bind(now)
                .execute(self.writer())
                .await?;
            Ok(done.rows_affected())
        }

        pub async fn set_agent_active(&self, agent_id: i64, active: bool) -> Result<bool> {
            let done = sqlx::query("UPDATE agents SET active = $2 WHERE id = $1")
                .bind(agent_id)
                .bind(active)
                .execute(self.writer())
                .await?;
            Ok(done.rows_affected() == 1)
        }

        pub async fn set_password_hash(
            &self,
            agent_id: i64,
            hash: &str,
            spent_code: Option<&str>,
            now: DateTime<Utc>,
        ) -> Result<bool> {
            let done = sqlx::query(
                dialect::SET_PASSWORD_HASH,
            )
            .bind(agent_id)
            .bind(hash)
            .bind(spent_code)
            .bind(now)
            .execute(self.writer())
            .await?;
            Ok(done.rows_affected() == 1)
        }
        pub async fn audit_identity(&self, event: &IdentityEvent<'_>, now: DateTime<Utc>) -> Result<()> {
            sqlx::query(
                dialect::AUDIT_IDENTITY,
            )
            .bind(now)
            .bind(event.actor)
            .bind(event.action)
            .bind(event.subject)
            .bind(event.detail.to_string())
            .execute(self.writer())
            .await?;
            Ok(())
        }
    };
}
pub(crate) use identity_queries;
