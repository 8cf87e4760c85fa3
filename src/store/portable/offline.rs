//! The `OfflineTx` statements (offline copies: check-out, sync) whose SQL PostgreSQL and SQLite
//! both take word for word, expanded inside each backend's `impl OfflineTx`.

macro_rules! offline_statements {
    () => {
        async fn insert_rows_new(&mut self, section: &TableSection, rows: &[Vec<Value>]) -> Result<u64> {
            if rows.is_empty() {
                return Ok(0);
            }
            insert_batch(self, section, rows, true).await
        }

        async fn insert_checkout(&mut self, c: &Checkout) -> Result<()> {
            sqlx::query(&format!(
                "INSERT INTO offline_checkouts ({CHECKOUT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(c.id)
            .bind(c.agent_id)
            .bind(c.created_by)
            .bind(c.created_at)
            .bind(c.expires_at)
            .bind(&c.floor)
            .bind(c.closed_at)
            .bind(c.last_sync_at)
            .bind(&c.last_report)
            .execute(self.conn())
            .await?;
            Ok(())
        }

        async fn reopen_checkout(&mut self, id: Uuid) -> Result<()> {
            sqlx::query("UPDATE offline_checkouts SET closed_at = NULL WHERE id = $1")
                .bind(id)
                .execute(self.conn())
                .await?;
            Ok(())
        }

        async fn record_sync(
            &mut self,
            id: Uuid,
            at: DateTime<Utc>,
            report: &str,
            closed_at: Option<DateTime<Utc>>,
        ) -> Result<()> {
            sqlx::query(
                "UPDATE offline_checkouts SET last_sync_at = $2, last_report = $3, closed_at = coalesce(closed_at, $4) \
                 WHERE id = $1",
            )
            .bind(id)
            .bind(at)
            .bind(report)
            .bind(closed_at)
            .execute(self.conn())
            .await?;
            Ok(())
        }

        async fn applied(&mut self, checkout_id: Uuid, op: &str) -> Result<bool> {
            Ok(
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM offline_applied WHERE checkout_id = $1 AND op = $2)")
                    .bind(checkout_id)
                    .bind(op)
                    .fetch_one(self.conn())
                    .await?,
            )
        }

        async fn mark_applied(&mut self, checkout_id: Uuid, op: &str, now: DateTime<Utc>) -> Result<()> {
            sqlx::query(
                "INSERT INTO offline_applied (checkout_id, op, applied_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(checkout_id)
            .bind(op)
            .bind(now)
            .execute(self.conn())
            .await?;
            Ok(())
        }

        async fn own_checkout(&mut self) -> Result<Option<Checkout>> {
            Ok(sqlx::query_as(&format!(
                "SELECT {CHECKOUT_COLUMNS} FROM offline_checkouts WHERE floor IS NOT NULL LIMIT 1"
            ))
            .fetch_optional(self.conn())
            .await?)
        }

        async fn put_base(&mut self, checkout_id: Uuid, item: &str, body: Option<&str>) -> Result<()> {
            sqlx::query(
                "INSERT INTO offline_base (checkout_id, item, body) VALUES ($1, $2, $3) \
                 ON CONFLICT (checkout_id, item) DO UPDATE SET body = EXCLUDED.body",
            )
            .bind(checkout_id)
            .bind(item)
            .bind(body)
            .execute(self.conn())
            .await?;
            Ok(())
        }

        async fn base_items(&mut self, checkout_id: Uuid) -> Result<Vec<(String, Option<String>)>> {
            Ok(
                sqlx::query_as("SELECT item, body FROM offline_base WHERE checkout_id = $1 ORDER BY item")
                    .bind(checkout_id)
                    .fetch_all(self.conn())
                    .await?,
            )
        }

        async fn open_checkouts(&mut self, now: DateTime<Utc>) -> Result<Vec<OpenCheckout>> {
            Ok(sqlx::query_as(
                dialect::OPEN_CHECKOUTS,
            )
            .bind(now)
            .fetch_all(self.conn())
            .await?)
        }
        async fn reserve(&mut self, lead_id: Uuid, c: &Checkout, now: DateTime<Utc>) -> Result<()> {
            sqlx::query(
                dialect::RESERVE,
            )
            .bind(Uuid::now_v7())
            .bind(lead_id)
            .bind(c.agent_id)
            .bind(c.created_by)
            .bind(now)
            .bind(c.expires_at)
            .bind(c.id)
            .execute(self.conn())
            .await?;
            Ok(())
        }
        async fn reserved_leads(&mut self, checkout_id: Uuid, now: DateTime<Utc>) -> Result<Vec<Uuid>> {
            Ok(sqlx::query_scalar(
                dialect::RESERVED_LEADS,
            )
            .bind(checkout_id)
            .bind(now)
            .fetch_all(self.conn())
            .await?)
        }
        async fn add_offline_calls(
            &mut self,
            lead_id: Uuid,
            attempts: i64,
            last_call_at: Option<DateTime<Utc>>,
            next_call_at: Option<DateTime<Utc>>,
        ) -> Result<()> {
            sqlx::query(
                dialect::ADD_OFFLINE_CALLS,
            )
            .bind(lead_id)
            .bind(attempts)
            .bind(last_call_at)
            .bind(next_call_at)
            .execute(self.conn())
            .await?;
            Ok(())
        }
    };
}
pub(crate) use offline_statements;
