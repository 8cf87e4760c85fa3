//! The `ScriptTx` statements (call scripts): their SQL is the same on PostgreSQL and SQLite, so
//! each backend's `impl ScriptTx` is this macro alone.

macro_rules! script_statements {
    () => {
        async fn put_script(
            &mut self,
            name: &str,
            body: &str,
            by: Option<i64>,
            now: DateTime<Utc>,
        ) -> Result<Option<CallScript>> {
            let previous = self.script(name).await?;
            sqlx::query(
                "INSERT INTO call_scripts (name, body, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (name) DO UPDATE SET body = EXCLUDED.body, updated_at = EXCLUDED.updated_at, \
                 updated_by = EXCLUDED.updated_by",
            )
            .bind(name)
            .bind(body)
            .bind(now)
            .bind(by)
            .execute(self.conn())
            .await?;
            Ok(previous)
        }

        async fn scripts(&mut self) -> Result<Vec<CallScript>> {
            Ok(sqlx::query_as(&format!(
                "SELECT {SCRIPT_COLUMNS} FROM call_scripts ORDER BY name"
            ))
            .fetch_all(self.conn())
            .await?)
        }

        async fn script(&mut self, name: &str) -> Result<Option<CallScript>> {
            Ok(sqlx::query_as(&format!(
                "SELECT {SCRIPT_COLUMNS} FROM call_scripts WHERE name = $1"
            ))
            .bind(name)
            .fetch_optional(self.conn())
            .await?)
        }

        async fn delete_script(&mut self, name: &str) -> Result<bool> {
            Ok(sqlx::query("DELETE FROM call_scripts WHERE name = $1")
                .bind(name)
                .execute(self.conn())
                .await?
                .rows_affected()
                > 0)
        }

        async fn last_disposition(&mut self, lead_id: Uuid) -> Result<Option<String>> {
            Ok(sqlx::query_scalar(
                "SELECT disposition FROM call_logs WHERE lead_id = $1 AND ended_at IS NOT NULL \
                 AND disposition IS NOT NULL ORDER BY started_at DESC LIMIT 1",
            )
            .bind(lead_id)
            .fetch_optional(self.conn())
            .await?)
        }
    };
}
pub(crate) use script_statements;
