//! The `PrivacyTx` statements (GDPR export and erase) whose SQL PostgreSQL and SQLite both take
//! word for word, expanded inside each backend's `impl PrivacyTx`.

macro_rules! privacy_statements {
    () => {
        async fn contacts_of(&mut self, lead_id: Uuid) -> Result<Vec<Contact>> {
            Ok(sqlx::query_as(
                "SELECT id, lead_id, kind, value, label, is_primary, is_verified, created_at FROM contacts \
                 WHERE lead_id = $1 ORDER BY created_at, id",
            )
            .bind(lead_id)
            .fetch_all(self.conn())
            .await?)
        }

        async fn calls_of(&mut self, lead_id: Uuid) -> Result<Vec<CallLog>> {
            Ok(sqlx::query_as(&format!(
                "SELECT {CALL_COLUMNS} FROM call_logs c JOIN agents a ON a.id = c.agent_id WHERE c.lead_id = $1 \
                 ORDER BY c.started_at, c.id"
            ))
            .bind(lead_id)
            .fetch_all(self.conn())
            .await?)
        }

        async fn status_changes_of(&mut self, lead_id: Uuid) -> Result<Vec<StatusChange>> {
            Ok(sqlx::query_as(
                "SELECT s.id, s.lead_id, s.old_status, s.new_status, s.changed_by, a.name AS changed_by_name, s.reason, \
                 s.changed_at FROM lead_status_log s LEFT JOIN agents a ON a.id = s.changed_by WHERE s.lead_id = $1 \
                 ORDER BY s.id",
            )
            .bind(lead_id)
            .fetch_all(self.conn())
            .await?)
        }

        async fn assignments_of(&mut self, lead_id: Uuid) -> Result<Vec<Assignment>> {
            Ok(sqlx::query_as(
                "SELECT la.id, la.lead_id, la.agent_id, a.name AS agent_name, la.assigned_by, la.assigned_at, la.expires_at, \
                 la.active FROM lead_assignments la JOIN agents a ON a.id = la.agent_id WHERE la.lead_id = $1 \
                 ORDER BY la.assigned_at, la.id",
            )
            .bind(lead_id)
            .fetch_all(self.conn())
            .await?)
        }

        async fn callbacks_of(&mut self, lead_id: Uuid) -> Result<Vec<Callback>> {
            Ok(sqlx::query_as(
                "SELECT c.id, c.lead_id, c.agent_id, a.name AS agent_name, l.first_name || ' ' || l.last_name AS lead_name, \
                 c.due_at, c.note, c.created_at, c.done_at FROM callbacks c JOIN agents a ON a.id = c.agent_id \
                 JOIN leads l ON l.id = c.lead_id WHERE c.lead_id = $1 ORDER BY c.created_at, c.id",
            )
            .bind(lead_id)
            .fetch_all(self.conn())
            .await?)
        }

        async fn lead_audited(&mut self, lead_id: Uuid, action: &str) -> Result<bool> {
            Ok(sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM audit_log WHERE entity = 'lead' AND entity_id = $1 AND action = $2)",
            )
            .bind(lead_id.to_string())
            .bind(action)
            .fetch_one(self.conn())
            .await?)
        }

        async fn phone_contacts(&mut self, lead_id: Uuid) -> Result<Vec<String>> {
            Ok(
                sqlx::query_scalar("SELECT value FROM contacts WHERE lead_id = $1 AND kind = 'phone' ORDER BY value")
                    .bind(lead_id)
                    .fetch_all(self.conn())
                    .await?,
            )
        }

        async fn phone_taken(&mut self, phone: &str) -> Result<bool> {
            Ok(
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM leads WHERE phone = $1)")
                    .bind(phone)
                    .fetch_one(self.conn())
                    .await?,
            )
        }

        async fn call_ids(&mut self, lead_id: Uuid) -> Result<Vec<Uuid>> {
            Ok(sqlx::query_scalar("SELECT id FROM call_logs WHERE lead_id = $1")
                .bind(lead_id)
                .fetch_all(self.conn())
                .await?)
        }

        async fn callback_ids(&mut self, lead_id: Uuid) -> Result<Vec<Uuid>> {
            Ok(sqlx::query_scalar("SELECT id FROM callbacks WHERE lead_id = $1")
                .bind(lead_id)
                .fetch_all(self.conn())
                .await?)
        }

        async fn erase_lead(
            &mut self,
            lead_id: Uuid,
            erased: &str,
            phone: &str,
            by: i64,
            now: DateTime<Utc>,
        ) -> Result<()> {
            sqlx::query(
                "UPDATE leads SET first_name = $2, last_name = $2, company = $2, email = NULL, phone = $3, title = NULL, \
                 timezone = NULL, notes = NULL, status_reason = NULL, do_not_call = TRUE, \
                 deleted_at = coalesce(deleted_at, $4), updated_at = $4, updated_by = $5 WHERE id = $1",
            )
            .bind(lead_id)
            .bind(erased)
            .bind(phone)
            .bind(now)
            .bind(by)
            .execute(self.conn())
            .await?;
            Ok(())
        }

        async fn delete_contacts(&mut self, lead_id: Uuid) -> Result<u64> {
            Ok(sqlx::query("DELETE FROM contacts WHERE lead_id = $1")
                .bind(lead_id)
                .execute(self.conn())
                .await?
                .rows_affected())
        }

        async fn anonymise_calls(&mut self, lead_id: Uuid, phone: &str) -> Result<u64> {
            Ok(sqlx::query(
                "UPDATE call_logs SET phone_number = $2, notes = NULL, recording_url = NULL \
                 WHERE lead_id = $1 AND (phone_number <> $2 OR notes IS NOT NULL OR recording_url IS NOT NULL)",
            )
            .bind(lead_id)
            .bind(phone)
            .execute(self.conn())
            .await?
            .rows_affected())
        }

        async fn clear_status_reasons(&mut self, lead_id: Uuid) -> Result<u64> {
            Ok(
                sqlx::query("UPDATE lead_status_log SET reason = NULL WHERE lead_id = $1 AND reason IS NOT NULL")
                    .bind(lead_id)
                    .execute(self.conn())
                    .await?
                    .rows_affected(),
            )
        }

        async fn clear_callback_notes(&mut self, lead_id: Uuid) -> Result<u64> {
            Ok(
                sqlx::query("UPDATE callbacks SET note = NULL WHERE lead_id = $1 AND note IS NOT NULL")
                    .bind(lead_id)
                    .execute(self.conn())
                    .await?
                    .rows_affected(),
            )
        }
    };
}
pub(crate) use privacy_statements;
