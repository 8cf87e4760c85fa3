//! The `Tx` statements whose SQL PostgreSQL and SQLite both take word for word.
//!
//! Expanded inside each backend's `impl Tx`, where `self.conn()` is that backend's connection
//! and names such as `LEAD_COLUMNS` are that backend's own; a statement whose text differs
//! between the dialects is written in each backend's `statements.rs` instead.

macro_rules! tx_statements {
    () => {
        async fn commit(self) -> Result<()> {
            Ok(self.0.commit().await?)
        }

        async fn rollback(self) -> Result<()> {
            Ok(self.0.rollback().await?)
        }

        async fn settings(&mut self) -> Result<Vec<(String, String)>> {
            Ok(sqlx::query_as("SELECT key, value FROM settings")
                .fetch_all(self.conn())
                .await?)
        }

        async fn setting(&mut self, key: &str) -> Result<Option<String>> {
            Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(key)
                .fetch_optional(self.conn())
                .await?)
        }

        async fn put_setting(&mut self, key: &str, value: &str, now: DateTime<Utc>) -> Result<()> {
            sqlx::query(
                "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
            )
            .bind(key)
            .bind(value)
            .bind(now)
            .execute(self.conn())
            .await?;
            Ok(())
        }

        async fn agent(&mut self, id: i64) -> Result<Option<Agent>> {
            Ok(
                sqlx::query_as("SELECT id, name, email, role, active, created_at FROM agents WHERE id = $1")
                    .bind(id)
                    .fetch_optional(self.conn())
                    .await?,
            )
        }

        async fn disposition(&mut self, code: &str) -> Result<Option<Disposition>> {
            let row: Option<DispositionRow> = sqlx::query_as(
                "SELECT code, label, hotkey, is_contact, is_sale, is_dnc, is_callback, is_final, next_status, \
                 recycle_after_s, max_attempts FROM dispositions WHERE code = $1",
            )
            .bind(code)
            .fetch_optional(self.conn())
            .await?;
            Ok(row.map(Disposition::from))
        }

        async fn count_dispositions(&mut self) -> Result<i64> {
            Ok(sqlx::query_scalar("SELECT count(*) FROM dispositions")
                .fetch_one(self.conn())
                .await?)
        }

        async fn insert_disposition(&mut self, d: &Disposition, order: i32) -> Result<()> {
            sqlx::query(
                "INSERT INTO dispositions (code, label, hotkey, is_contact, is_sale, is_dnc, is_callback, is_final, \
                 next_status, recycle_after_s, max_attempts, sort_order) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&d.code)
            .bind(&d.label)
            .bind(d.hotkey.map(String::from))
            .bind(d.is_contact)
            .bind(d.is_sale)
            .bind(d.is_dnc)
            .bind(d.is_callback)
            .bind(d.is_final)
            .bind(d.next_status)
            .bind(d.recycle_after.map(|r| r.num_seconds() as i32))
            .bind(d.max_attempts)
            .bind(order)
            .execute(self.conn())
            .await?;
            Ok(())
        }

        async fn lead(&mut self, id: Uuid) -> Result<Option<Lead>> {
            Ok(
                sqlx::query_as(&format!("SELECT {LEAD_COLUMNS} FROM leads WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(self.conn())
                    .await?,
            )
        }

        async fn set_status(
            &mut self,
            id: Uuid,
            status: LeadStatus,
            reason: Option<&str>,
            actor: Option<i64>,
            now: DateTime<Utc>,
        ) -> Result<Option<Lead>> {
            Ok(sqlx::query_as(&format!(
                "UPDATE leads SET status = $2, status_reason = $3, updated_by = $4, updated_at = $5 \
                 WHERE id = $1 AND deleted_at IS NULL RETURNING {LEAD_COLUMNS}"
            ))
            .bind(id)
            .bind(status)
            .bind(reason)
            .bind(actor)
            .bind(now)
            .fetch_optional(self.conn())
            .await?)
        }

        async fn set_deleted(
            &mut self,
            id: Uuid,
            deleted: bool,
            actor: Option<i64>,
            now: DateTime<Utc>,
        ) -> Result<Option<Lead>> {
            Ok(sqlx::query_as(&format!(
                "UPDATE leads SET deleted_at = CASE WHEN $2 THEN $3 END, updated_at = $3, updated_by = $4 \
                 WHERE id = $1 RETURNING {LEAD_COLUMNS}"
            ))
            .bind(id)
            .bind(deleted)
            .bind(now)
            .bind(actor)
            .fetch_optional(self.conn())
            .await?)
        }

        async fn lead_on_call(&mut self, id: Uuid) -> Result<bool> {
            Ok(
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM active_calls WHERE lead_id = $1)")
                    .bind(id)
                    .fetch_one(self.conn())
                    .await?,
            )
        }

        async fn contact_lead(&mut self, contact_id: Uuid) -> Result<Option<Uuid>> {
            Ok(sqlx::query_scalar("SELECT lead_id FROM contacts WHERE id = $1")
                .bind(contact_id)
                .fetch_optional(self.conn())
                .await?)
        }

        async fn insert_contact(&mut self, id: Uuid, lead_id: Uuid, c: &NewContact, now: DateTime<Utc>) -> Result<Contact> {
            Ok(sqlx::query_as(&format!(
                "INSERT INTO contacts (id, lead_id, kind, value, label, is_primary, is_verified, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {CONTACT_COLUMNS}"
            ))
            .bind(id)
            .bind(lead_id)
            .bind(c.kind)
            .bind(&c.value)
            .bind(&c.label)
            .bind(c.is_primary)
            .bind(c.is_verified)
            .bind(now)
            .fetch_one(self.conn())
            .await?)
        }

        async fn update_contact(&mut self, id: Uuid, c: &NewContact) -> Result<Contact> {
            Ok(sqlx::query_as(&format!(
                "UPDATE contacts SET kind = $2, value = $3, label = $4, is_primary = $5, is_verified = $6 WHERE id = $1 \
                 RETURNING {CONTACT_COLUMNS}"
            ))
            .bind(id)
            .bind(c.kind)
            .bind(&c.value)
            .bind(&c.label)
            .bind(c.is_primary)
            .bind(c.is_verified)
            .fetch_one(self.conn())
            .await?)
        }

        async fn insert_call(&mut self, c: &NewCall<'_>) -> Result<()> {
            sqlx::query(
                "INSERT INTO call_logs (id, lead_id, agent_id, phone_number, from_number, direction, status, started_at) \
                 VALUES ($1, $2, $3, $4, $5, 'outbound', 'initiated', $6)",
            )
            .bind(c.id)
            .bind(c.lead_id)
            .bind(c.agent_id)
            .bind(c.phone)
            .bind(c.from_number)
            .bind(c.now)
            .execute(self.conn())
            .await?;
            Ok(())
        }

        async fn insert_lock(&mut self, c: &NewCall<'_>) -> Result<bool> {
            let done = sqlx::query(
                "INSERT INTO active_calls (lead_id, call_log_id, agent_id, phone_number, started_at, heartbeat_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (lead_id) DO NOTHING",
            )
            .bind(c.lead_id)
            .bind(c.id)
            .bind(c.agent_id)
            .bind(c.phone)
            .bind(c.now)
            .execute(self.conn())
            .await?;
            Ok(done.rows_affected() == 1)
        }

        async fn lock_of_call(&mut self, call_id: Uuid) -> Result<Option<CallLock>> {
            Ok(sqlx::query_as(
                "SELECT call_log_id AS call_id, lead_id, agent_id, started_at, heartbeat_at FROM active_calls \
                 WHERE call_log_id = $1",
            )
            .bind(call_id)
            .fetch_optional(self.conn())
            .await?)
        }

        async fn lock_of_lead(&mut self, lead_id: Uuid) -> Result<Option<CallLock>> {
            Ok(sqlx::query_as(
                "SELECT call_log_id AS call_id, lead_id, agent_id, started_at, heartbeat_at FROM active_calls \
                 WHERE lead_id = $1",
            )
            .bind(lead_id)
            .fetch_optional(self.conn())
            .await?)
        }

        async fn stale_locks(&mut self, cutoff: DateTime<Utc>) -> Result<Vec<Uuid>> {
            Ok(
                sqlx::query_scalar("SELECT lead_id FROM active_calls WHERE heartbeat_at < $1")
                    .bind(cutoff)
                    .fetch_all(self.conn())
                    .await?,
            )
        }

        async fn delete_lock(&mut self, call_id: Uuid) -> Result<()> {
            sqlx::query("DELETE FROM active_calls WHERE call_log_id = $1")
                .bind(call_id)
                .execute(self.conn())
                .await?;
            Ok(())
        }

        async fn apply_outcome(&mut self, w: &OutcomeWrite<'_>) -> Result<()> {
            sqlx::query(
                "UPDATE leads SET call_attempts = $2, last_call_at = $3, next_call_at = $4, status = $5, \
                 do_not_call = do_not_call OR $6, status_reason = $7, updated_by = $8, updated_at = $9 WHERE id = $1",
            )
            .bind(w.lead_id)
            .bind(w.effects.attempts)
            .bind(w.effects.last_call_at)
            .bind(w.effects.next_call_at)
            .bind(w.effects.new_status)
            .bind(w.effects.set_do_not_call)
            .bind(w.reason)
            .bind(w.actor)
            .bind(w.now)
            .execute(self.conn())
            .await?;
            Ok(())
        }

        async fn call(&mut self, call_id: Uuid) -> Result<Option<CallLog>> {
            Ok(sqlx::query_as(&format!(
                "SELECT {CALL_COLUMNS} FROM call_logs c JOIN agents a ON a.id = c.agent_id WHERE c.id = $1"
            ))
            .bind(call_id)
            .fetch_optional(self.conn())
            .await?)
        }

        async fn newer_call(&mut self, lead_id: Uuid, started_at: DateTime<Utc>, call_id: Uuid) -> Result<Option<Uuid>> {
            Ok(sqlx::query_scalar(
                "SELECT id FROM call_logs WHERE lead_id = $1 AND started_at >= $2 AND id <> $3 \
                 ORDER BY started_at DESC LIMIT 1",
            )
            .bind(lead_id)
            .bind(started_at)
            .bind(call_id)
            .fetch_optional(self.conn())
            .await?)
        }

        async fn upsert_dnc(
            &mut self,
            number: &str,
            reason: Option<&str>,
            by: Option<i64>,
            now: DateTime<Utc>,
        ) -> Result<DncEntry> {
            Ok(sqlx::query_as(
                "INSERT INTO dnc_numbers (number, reason, added_by, added_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (number) DO UPDATE SET reason = coalesce(EXCLUDED.reason, dnc_numbers.reason) \
                 RETURNING number, reason, added_by, added_at",
            )
            .bind(number)
            .bind(reason)
            .bind(by)
            .bind(now)
            .fetch_one(self.conn())
            .await?)
        }

        async fn insert_dnc_if_absent(&mut self, number: &str, reason: &str, by: i64, now: DateTime<Utc>) -> Result<()> {
            sqlx::query(
                "INSERT INTO dnc_numbers (number, reason, added_by, added_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (number) DO NOTHING",
            )
            .bind(number)
            .bind(reason)
            .bind(by)
            .bind(now)
            .execute(self.conn())
            .await?;
            Ok(())
        }

        async fn delete_dnc(&mut self, number: &str) -> Result<bool> {
            let done = sqlx::query("DELETE FROM dnc_numbers WHERE number = $1")
                .bind(number)
                .execute(self.conn())
                .await?;
            Ok(done.rows_affected() > 0)
        }

        async fn open_callbacks(&mut self, lead_id: Uuid) -> Result<Vec<OpenCallback>> {
            let rows: Vec<(Uuid, DateTime<Utc>)> =
                sqlx::query_as("SELECT id, due_at FROM callbacks WHERE lead_id = $1 AND done_at IS NULL")
                    .bind(lead_id)
                    .fetch_all(self.conn())
                    .await?;
            Ok(rows
                .into_iter()
                .map(|(id, due_at)| OpenCallback { id, due_at })
                .collect())
        }

        async fn insert_callback(
            &mut self,
            id: Uuid,
            lead_id: Uuid,
            agent_id: i64,
            due_at: DateTime<Utc>,
            note: Option<&str>,
            now: DateTime<Utc>,
        ) -> Result<()> {
            sqlx::query(
                "INSERT INTO callbacks (id, lead_id, agent_id, due_at, note, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(lead_id)
            .bind(agent_id)
            .bind(due_at)
            .bind(note)
            .bind(now)
            .execute(self.conn())
            .await?;
            Ok(())
        }

        async fn callback(&mut self, id: Uuid) -> Result<Callback> {
            Ok(sqlx::query_as(
                "SELECT c.id, c.lead_id, c.agent_id, a.name AS agent_name, l.first_name || ' ' || l.last_name AS lead_name, \
                 c.due_at, c.note, c.created_at, c.done_at FROM callbacks c JOIN agents a ON a.id = c.agent_id \
                 JOIN leads l ON l.id = c.lead_id WHERE c.id = $1",
            )
            .bind(id)
            .fetch_one(self.conn())
            .await?)
        }

        async fn hand_callback(&mut self, id: Uuid, to: i64) -> Result<bool> {
            let done = sqlx::query("UPDATE callbacks SET agent_id = $2 WHERE id = $1 AND done_at IS NULL")
                .bind(id)
                .bind(to)
                .execute(self.conn())
                .await?;
            Ok(done.rows_affected() == 1)
        }

        async fn queue_states(&mut self) -> Result<Vec<(i64, i64)>> {
            Ok(
                sqlx::query_as("SELECT CAST(state AS BIGINT), count(*) FROM lead_queue GROUP BY state")
                    .fetch_all(self.conn())
                    .await?,
            )
        }

        async fn assignment(&mut self, id: Uuid) -> Result<Assignment> {
            Ok(sqlx::query_as(
                "SELECT la.id, la.lead_id, la.agent_id, a.name AS agent_name, la.assigned_by, la.assigned_at, la.expires_at, \
                 la.active FROM lead_assignments la JOIN agents a ON a.id = la.agent_id WHERE la.id = $1",
            )
            .bind(id)
            .fetch_one(self.conn())
            .await?)
        }

        async fn audit(&mut self, r: &AuditRecord<'_>) -> Result<()> {
            sqlx::query(
                dialect::AUDIT,
            )
            .bind(r.at)
            .bind(r.actor)
            .bind(r.action)
            .bind(r.entity)
            .bind(&r.entity_id)
            .bind(r.old_value.as_ref().map(|v| v.to_string()))
            .bind(r.new_value.as_ref().map(|v| v.to_string()))
            .execute(self.conn())
            .await?;
            Ok(())
        }
        async fn clear_primary_contact(&mut self, lead_id: Uuid, kind: ContactKind, except: Option<Uuid>) -> Result<()> {
            sqlx::query(
                dialect::CLEAR_PRIMARY_CONTACT,
            )
            .bind(lead_id)
            .bind(kind)
            .bind(except)
            .execute(self.conn())
            .await?;
            Ok(())
        }
        async fn close_call(&mut self, c: &CallClose<'_>) -> Result<()> {
            sqlx::query(
                dialect::CLOSE_CALL,
            )
            .bind(c.call_id)
            .bind(c.status)
            .bind(c.disposition)
            .bind(c.duration_s)
            .bind(c.notes)
            .bind(c.recording_url)
            .bind(c.ended_at)
            .bind(c.ended_by)
            .bind(c.answered_at)
            .bind(c.ringing_at)
            .execute(self.conn())
            .await?;
            Ok(())
        }
        async fn abandon_call(
            &mut self,
            call_id: Uuid,
            actor: Option<i64>,
            note: &str,
            now: DateTime<Utc>,
        ) -> Result<DateTime<Utc>> {
            Ok(sqlx::query_scalar(
                dialect::ABANDON_CALL,
            )
            .bind(call_id)
            .bind(now)
            .bind(actor)
            .bind(note)
            .fetch_one(self.conn())
            .await?)
        }
        async fn count_abandoned_attempt(
            &mut self,
            lead_id: Uuid,
            started_at: DateTime<Utc>,
            now: DateTime<Utc>,
        ) -> Result<()> {
            sqlx::query(
                dialect::COUNT_ABANDONED_ATTEMPT,
            )
            .bind(lead_id)
            .bind(started_at)
            .bind(now)
            .execute(self.conn())
            .await?;
            Ok(())
        }
        async fn flag_leads_dnc(&mut self, number: &str, by: Option<i64>, now: DateTime<Utc>) -> Result<()> {
            sqlx::query(
                dialect::FLAG_LEADS_DNC,
            )
            .bind(number)
            .bind(now)
            .bind(by)
            .execute(self.conn())
            .await?;
            Ok(())
        }
        async fn queue_why(
            &mut self,
            agent_id: i64,
            now: DateTime<Utc>,
            params: &QueueParams,
        ) -> Result<Vec<(String, i64)>> {
            Ok(bind_queue!(
                sqlx::query_as(
                    dialect::QUEUE_WHY
                ),
                agent_id,
                now,
                params
            )
            .fetch_all(self.conn())
            .await?)
        }
        async fn end_assignments(&mut self, lead_id: Uuid, keep_agent: Option<i64>) -> Result<u64> {
            let done = sqlx::query(
                dialect::END_ASSIGNMENTS,
            )
            .bind(lead_id)
            .bind(keep_agent)
            .execute(self.conn())
            .await?;
            Ok(done.rows_affected())
        }
        async fn end_own_claims_elsewhere(&mut self, agent_id: i64, lead_id: Uuid) -> Result<()> {
            sqlx::query(
                dialect::END_OWN_CLAIMS_ELSEWHERE,
            )
            .bind(agent_id)
            .bind(lead_id)
            .execute(self.conn())
            .await?;
            Ok(())
        }
        async fn insert_claim(
            &mut self,
            lead_id: Uuid,
            agent_id: i64,
            now: DateTime<Utc>,
            expires_at: DateTime<Utc>,
        ) -> Result<()> {
            sqlx::query(
                dialect::INSERT_CLAIM,
            )
            .bind(Uuid::now_v7())
            .bind(lead_id)
            .bind(agent_id)
            .bind(now)
            .bind(expires_at)
            .execute(self.conn())
            .await?;
            Ok(())
        }
        async fn insert_assignment(
            &mut self,
            id: Uuid,
            lead_id: Uuid,
            agent_id: i64,
            by: Option<i64>,
            expires_at: Option<DateTime<Utc>>,
            now: DateTime<Utc>,
        ) -> Result<()> {
            sqlx::query(
                dialect::INSERT_ASSIGNMENT,
            )
            .bind(id)
            .bind(lead_id)
            .bind(agent_id)
            .bind(by)
            .bind(now)
            .bind(expires_at)
            .execute(self.conn())
            .await?;
            Ok(())
        }
    };
}
pub(crate) use tx_statements;
