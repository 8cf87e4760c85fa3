//! The `MergeTx` statements (merging duplicate leads) whose SQL PostgreSQL and SQLite both take
//! word for word, expanded inside each backend's `impl MergeTx`.

macro_rules! merge_statements {
    () => {
        async fn live_lead_keys(&mut self) -> Result<Vec<KeyRow>> {
            Ok(sqlx::query_as(
                "SELECT id, first_name, last_name, company, phone, email FROM leads WHERE deleted_at IS NULL ORDER BY id",
            )
            .fetch_all(self.conn())
            .await?)
        }

        async fn live_contact_points(&mut self) -> Result<Vec<(Uuid, ContactKind, String)>> {
            Ok(sqlx::query_as(
                "SELECT c.lead_id, c.kind, c.value FROM contacts c JOIN leads l ON l.id = c.lead_id \
                 WHERE l.deleted_at IS NULL AND c.kind IN ('phone', 'email') ORDER BY c.lead_id, c.kind, c.value",
            )
            .fetch_all(self.conn())
            .await?)
        }

        async fn move_calls(&mut self, from: Uuid, to: Uuid) -> Result<u64> {
            Ok(sqlx::query("UPDATE call_logs SET lead_id = $2 WHERE lead_id = $1")
                .bind(from)
                .bind(to)
                .execute(self.conn())
                .await?
                .rows_affected())
        }

        async fn move_status_log(&mut self, from: Uuid, to: Uuid) -> Result<u64> {
            Ok(
                sqlx::query("UPDATE lead_status_log SET lead_id = $2 WHERE lead_id = $1")
                    .bind(from)
                    .bind(to)
                    .execute(self.conn())
                    .await?
                    .rows_affected(),
            )
        }

        async fn move_callbacks(&mut self, from: Uuid, to: Uuid) -> Result<u64> {
            Ok(sqlx::query("UPDATE callbacks SET lead_id = $2 WHERE lead_id = $1")
                .bind(from)
                .bind(to)
                .execute(self.conn())
                .await?
                .rows_affected())
        }

        async fn absorb(&mut self, a: &Absorb) -> Result<()> {
            sqlx::query(
                "UPDATE leads SET do_not_call = $3, do_not_email = $4, \
                 call_attempts = leads.call_attempts + (SELECT o.call_attempts FROM leads o WHERE o.id = $2), \
                 last_call_at = CASE WHEN leads.last_call_at IS NULL THEN (SELECT o.last_call_at FROM leads o WHERE o.id = $2) \
                   ELSE coalesce((SELECT o.last_call_at FROM leads o WHERE o.id = $2 AND o.last_call_at > leads.last_call_at), \
                     leads.last_call_at) END, \
                 updated_at = $5, updated_by = $6 WHERE id = $1",
            )
            .bind(a.keep)
            .bind(a.other)
            .bind(a.do_not_call)
            .bind(a.do_not_email)
            .bind(a.now)
            .bind(a.actor)
            .execute(self.conn())
            .await?;
            Ok(())
        }

        async fn set_merged_into(&mut self, a: &Absorb) -> Result<()> {
            sqlx::query(
                "UPDATE leads SET deleted_at = $3, merged_into = $2, updated_at = $3, updated_by = $4 WHERE id = $1",
            )
            .bind(a.other)
            .bind(a.keep)
            .bind(a.now)
            .bind(a.actor)
            .execute(self.conn())
            .await?;
            Ok(())
        }

        async fn merged_into(&mut self, id: Uuid) -> Result<Option<Uuid>> {
            Ok(sqlx::query_scalar("SELECT merged_into FROM leads WHERE id = $1")
                .bind(id)
                .fetch_optional(self.conn())
                .await?
                .flatten())
        }

        async fn move_contacts(&mut self, from: Uuid, to: Uuid) -> Result<u64> {
            sqlx::query(
                "DELETE FROM contacts WHERE lead_id = $1 AND EXISTS \
                 (SELECT 1 FROM contacts k WHERE k.lead_id = $2 AND k.kind = contacts.kind AND k.value = contacts.value)",
            )
            .bind(from)
            .bind(to)
            .execute(self.conn())
            .await?;
            Ok(
                sqlx::query(dialect::MOVE_CONTACTS)
                    .bind(from)
                    .bind(to)
                    .execute(self.conn())
                    .await?
                    .rows_affected(),
            )
        }
    };
}
pub(crate) use merge_statements;
