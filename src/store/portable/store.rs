//! The store's own queries (outside a flow's transaction) whose SQL PostgreSQL and SQLite both
//! take word for word: reads, and the writes of a single statement (a heartbeat, presence, a
//! contact removed, a callback done), which need no flow of their own.
//!
//! Expanded inside each backend's `impl` of its store, where `self.reader()` and
//! `self.writer()` are that backend's pools (one pool for both on PostgreSQL; WAL readers and the
//! one writer on SQLite).

macro_rules! store_queries {
    () => {
        pub async fn migrate(&self) -> Result<()> {
            Ok(MIGRATOR.run(self.writer()).await?)
        }

        pub async fn migrate_down(&self) -> Result<Option<MigrationInfo>> {
            let status = self.migration_status().await?;
            let Some((target, undone)) = super::undo_target(&status) else {
                return Ok(None);
            };
            MIGRATOR.undo(self.writer(), target).await?;
            Ok(Some(undone))
        }

        pub async fn add_agent(&self, agent: &NewAgent, now: DateTime<Utc>) -> Result<Agent> {
            Ok(sqlx::query_as(
                "INSERT INTO agents (name, email, role, created_at) VALUES ($1, $2, $3, $4) \
                 RETURNING id, name, email, role, active, created_at",
            )
            .bind(&agent.name)
            .bind(&agent.email)
            .bind(agent.role)
            .bind(now)
            .fetch_one(self.writer())
            .await?)
        }

        pub async fn agent_by_name(&self, name: &str) -> Result<Option<Agent>> {
            Ok(
                sqlx::query_as("SELECT id, name, email, role, active, created_at FROM agents WHERE name = $1")
                    .bind(name)
                    .fetch_optional(self.reader())
                    .await?,
            )
        }

        pub async fn agent(&self, id: i64) -> Result<Option<Agent>> {
            Ok(
                sqlx::query_as("SELECT id, name, email, role, active, created_at FROM agents WHERE id = $1")
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?,
            )
        }

        pub async fn agents(&self) -> Result<Vec<Agent>> {
            Ok(
                sqlx::query_as("SELECT id, name, email, role, active, created_at FROM agents ORDER BY name")
                    .fetch_all(self.reader())
                    .await?,
            )
        }

        pub async fn settings(&self) -> Result<Vec<(String, String)>> {
            Ok(sqlx::query_as("SELECT key, value FROM settings ORDER BY key")
                .fetch_all(self.reader())
                .await?)
        }

        pub async fn dispositions(&self) -> Result<Vec<Disposition>> {
            let rows: Vec<super::DispositionRow> = sqlx::query_as(
                "SELECT code, label, hotkey, is_contact, is_sale, is_dnc, is_callback, is_final, next_status, \
                 recycle_after_s, max_attempts FROM dispositions ORDER BY sort_order, code",
            )
            .fetch_all(self.reader())
            .await?;
            Ok(rows.into_iter().map(Disposition::from).collect())
        }

        pub async fn lead(&self, id: Uuid) -> Result<Option<Lead>> {
            Ok(
                sqlx::query_as(&format!("SELECT {LEAD_COLUMNS} FROM leads WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?,
            )
        }

        /// Leads (deleted ones too) whose id is between `lo` and `hi`, in id order.
        pub async fn leads_in_id_range(&self, lo: Uuid, hi: Uuid, limit: u32) -> Result<Vec<Lead>> {
            Ok(sqlx::query_as(&format!(
                "SELECT {LEAD_COLUMNS} FROM leads WHERE id BETWEEN $1 AND $2 ORDER BY id LIMIT $3"
            ))
            .bind(lo)
            .bind(hi)
            .bind(i64::from(limit))
            .fetch_all(self.reader())
            .await?)
        }

        pub async fn contacts(&self, lead_id: Uuid) -> Result<Vec<Contact>> {
            Ok(sqlx::query_as(
                "SELECT id, lead_id, kind, value, label, is_primary, is_verified, created_at FROM contacts \
                 WHERE lead_id = $1 ORDER BY kind, is_primary DESC, created_at",
            )
            .bind(lead_id)
            .fetch_all(self.reader())
            .await?)
        }

        pub async fn remove_contact(&self, id: Uuid) -> Result<()> {
            let done = sqlx::query("DELETE FROM contacts WHERE id = $1")
                .bind(id)
                .execute(self.writer())
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::not_found("contact", id));
            }
            Ok(())
        }

        pub async fn heartbeat(&self, call_id: Uuid, agent_id: i64, now: DateTime<Utc>) -> Result<bool> {
            let done = sqlx::query("UPDATE active_calls SET heartbeat_at = $3 WHERE call_log_id = $1 AND agent_id = $2")
                .bind(call_id)
                .bind(agent_id)
                .bind(now)
                .execute(self.writer())
                .await?;
            Ok(done.rows_affected() == 1)
        }

        pub async fn active_calls(&self) -> Result<Vec<ActiveCall>> {
            Ok(sqlx::query_as(
                "SELECT ac.lead_id, ac.call_log_id AS call_id, ac.agent_id, a.name AS agent_name, \
                 l.first_name || ' ' || l.last_name AS lead_name, l.company, ac.phone_number, ac.started_at, ac.heartbeat_at \
                 FROM active_calls ac JOIN agents a ON a.id = ac.agent_id JOIN leads l ON l.id = ac.lead_id \
                 ORDER BY ac.started_at",
            )
            .fetch_all(self.reader())
            .await?)
        }

        /// Calls whose id is between `lo` and `hi`, in id order.
        pub async fn calls_in_id_range(&self, lo: Uuid, hi: Uuid, limit: u32) -> Result<Vec<CallLog>> {
            Ok(sqlx::query_as(&format!(
                "SELECT {CALL_COLUMNS} FROM call_logs c JOIN agents a ON a.id = c.agent_id \
                 WHERE c.id BETWEEN $1 AND $2 ORDER BY c.id LIMIT $3"
            ))
            .bind(lo)
            .bind(hi)
            .bind(i64::from(limit))
            .fetch_all(self.reader())
            .await?)
        }

        /// Open callbacks (on deleted leads too) whose id is between `lo` and `hi`, the agent's
        /// own when `agent_id` is given, in id order.
        pub async fn callbacks_in_id_range(
            &self,
            lo: Uuid,
            hi: Uuid,
            agent_id: Option<i64>,
            limit: u32,
        ) -> Result<Vec<Callback>> {
            Ok(sqlx::query_as(
                "SELECT c.id, c.lead_id, c.agent_id, a.name AS agent_name, l.first_name || ' ' || l.last_name AS lead_name, \
                 c.due_at, c.note, c.created_at, c.done_at FROM callbacks c JOIN agents a ON a.id = c.agent_id \
                 JOIN leads l ON l.id = c.lead_id \
                 WHERE c.id BETWEEN $1 AND $2 AND c.done_at IS NULL AND (CAST($3 AS BIGINT) IS NULL OR c.agent_id = $3) \
                 ORDER BY c.id LIMIT $4",
            )
            .bind(lo)
            .bind(hi)
            .bind(agent_id)
            .bind(i64::from(limit))
            .fetch_all(self.reader())
            .await?)
        }

        pub async fn call(&self, call_id: Uuid) -> Result<Option<CallLog>> {
            Ok(sqlx::query_as(&format!(
                "SELECT {CALL_COLUMNS} FROM call_logs c JOIN agents a ON a.id = c.agent_id WHERE c.id = $1"
            ))
            .bind(call_id)
            .fetch_optional(self.reader())
            .await?)
        }

        pub async fn call_history(&self, lead_id: Uuid) -> Result<Vec<CallLog>> {
            Ok(sqlx::query_as(&format!(
                "SELECT {CALL_COLUMNS} FROM call_logs c JOIN agents a ON a.id = c.agent_id WHERE c.lead_id = $1 \
                 ORDER BY c.started_at DESC, c.id DESC LIMIT 1000"
            ))
            .bind(lead_id)
            .fetch_all(self.reader())
            .await?)
        }

        pub async fn status_history(&self, lead_id: Uuid) -> Result<Vec<StatusChange>> {
            Ok(sqlx::query_as(
                "SELECT s.id, s.lead_id, s.old_status, s.new_status, s.changed_by, a.name AS changed_by_name, s.reason, \
                 s.changed_at FROM lead_status_log s LEFT JOIN agents a ON a.id = s.changed_by WHERE s.lead_id = $1 \
                 ORDER BY s.id DESC LIMIT 1000",
            )
            .bind(lead_id)
            .fetch_all(self.reader())
            .await?)
        }

        /// Records what the agent's console says; `since` moves only when the state changes.
        pub async fn set_presence(
            &self,
            agent_id: i64,
            state: PresenceState,
            reason: Option<&str>,
            now: DateTime<Utc>,
        ) -> Result<()> {
            sqlx::query(
                "INSERT INTO agent_presence (agent_id, state, reason, since, heartbeat_at) VALUES ($1, $2, $3, $4, $4) \
                 ON CONFLICT (agent_id) DO UPDATE SET \
                 since = CASE WHEN agent_presence.state = EXCLUDED.state AND agent_presence.reason IS NOT DISTINCT FROM EXCLUDED.reason \
                              THEN agent_presence.since ELSE EXCLUDED.since END, \
                 state = EXCLUDED.state, reason = EXCLUDED.reason, heartbeat_at = EXCLUDED.heartbeat_at",
            )
            .bind(agent_id)
            .bind(state)
            .bind(reason)
            .bind(now)
            .execute(self.writer())
            .await?;
            Ok(())
        }

        /// Every active agent with their state; a stale heartbeat reads as offline.
        pub async fn presence(&self, stale_before: DateTime<Utc>) -> Result<Vec<Presence>> {
            Ok(sqlx::query_as(
                "SELECT a.id AS agent_id, a.name AS agent_name, a.role, \
                 CASE WHEN p.heartbeat_at IS NULL OR p.heartbeat_at < $1 THEN 'offline' ELSE p.state END AS state, \
                 p.reason, p.since, p.heartbeat_at \
                 FROM agents a LEFT JOIN agent_presence p ON p.agent_id = a.id WHERE a.active ORDER BY a.name",
            )
            .bind(stale_before)
            .fetch_all(self.reader())
            .await?)
        }

        /// Calls, contacts, talk time and conversions per agent for calls started in [from, to).
        pub async fn agent_figures(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<AgentFigures>> {
            Ok(sqlx::query_as(
                "SELECT a.id AS agent_id, a.name AS agent_name, count(c.id) AS calls, \
                 count(c.id) FILTER (WHERE d.is_contact) AS contacts, \
                 coalesce(sum(c.duration_s), 0) AS talk_seconds, \
                 count(c.id) FILTER (WHERE d.is_sale) AS conversions \
                 FROM agents a \
                 LEFT JOIN call_logs c ON c.agent_id = a.id AND c.started_at >= $1 AND c.started_at < $2 \
                 LEFT JOIN dispositions d ON d.code = c.disposition \
                 WHERE a.active GROUP BY a.id, a.name ORDER BY a.name",
            )
            .bind(from)
            .bind(to)
            .fetch_all(self.reader())
            .await?)
        }

        /// Live leads by status.
        pub async fn funnel(&self) -> Result<Vec<(LeadStatus, i64)>> {
            Ok(
                sqlx::query_as("SELECT status, count(*) FROM leads WHERE deleted_at IS NULL GROUP BY status")
                    .fetch_all(self.reader())
                    .await?,
            )
        }

        pub async fn assignments(&self, lead_id: Uuid) -> Result<Vec<Assignment>> {
            Ok(sqlx::query_as(
                "SELECT la.id, la.lead_id, la.agent_id, a.name AS agent_name, la.assigned_by, la.assigned_at, la.expires_at, \
                 la.active FROM lead_assignments la JOIN agents a ON a.id = la.agent_id WHERE la.lead_id = $1 \
                 ORDER BY la.assigned_at DESC, la.id DESC",
            )
            .bind(lead_id)
            .fetch_all(self.reader())
            .await?)
        }

        pub async fn complete_callback(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
            let done = sqlx::query("UPDATE callbacks SET done_at = $2 WHERE id = $1 AND done_at IS NULL")
                .bind(id)
                .bind(now)
                .execute(self.writer())
                .await?;
            Ok(done.rows_affected() == 1)
        }

        pub async fn dnc_check(&self, number: &str) -> Result<Option<DncEntry>> {
            Ok(
                sqlx::query_as("SELECT number, reason, added_by, added_at FROM dnc_numbers WHERE number = $1")
                    .bind(number)
                    .fetch_optional(self.reader())
                    .await?,
            )
        }

        /// Adds a line to a call's notes (e.g. what went wrong with the dial hook).
        pub async fn note_call(&self, call_id: Uuid, text: &str) -> Result<bool> {
            let done = sqlx::query(dialect::NOTE_CALL)
                .bind(call_id)
                .bind(text)
                .execute(self.writer())
                .await?;
            Ok(done.rows_affected() == 1)
        }
        pub async fn unassign(&self, lead_id: Uuid) -> Result<bool> {
            let done = sqlx::query(dialect::UNASSIGN)
                .bind(lead_id)
                .execute(self.writer())
                .await?;
            Ok(done.rows_affected() > 0)
        }
        pub async fn expire_assignments(&self, now: DateTime<Utc>) -> Result<u64> {
            let done = sqlx::query(dialect::EXPIRE_ASSIGNMENTS)
                .bind(now)
                .execute(self.writer())
                .await?;
            Ok(done.rows_affected())
        }
        pub async fn due_callbacks(&self, agent_id: Option<i64>, until: DateTime<Utc>) -> Result<Vec<Callback>> {
            Ok(sqlx::query_as(
                dialect::DUE_CALLBACKS,
            )
            .bind(until)
            .bind(agent_id)
            .fetch_all(self.reader())
            .await?)
        }
    };
}
pub(crate) use store_queries;
