//! What `coldcall doctor` reads from PostgreSQL: transactions open too long, the server's clock,
//! and how many dead rows the claim queue carries.

use chrono::Utc;

use super::PgStore;
use crate::store::{DatabaseHealth, Result};

impl PgStore {
    pub async fn health(&self) -> Result<DatabaseHealth> {
        let long_transactions: Vec<(i32, f64, String, String)> = sqlx::query_as(
            "SELECT pid, extract(epoch FROM clock_timestamp() - xact_start)::float8, \
                    coalesce(state, ''), left(regexp_replace(query, '\\s+', ' ', 'g'), 120) \
             FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
               AND xact_start < clock_timestamp() - interval '60 seconds' \
             ORDER BY xact_start",
        )
        .fetch_all(&self.pool)
        .await?;
        let asked = Utc::now();
        let server: f64 = sqlx::query_scalar("SELECT extract(epoch FROM clock_timestamp())::float8")
            .fetch_one(&self.pool)
            .await?;
        let answered = Utc::now();
        // The server read its clock somewhere between the question and the answer.
        let here = (asked.timestamp_micros() + answered.timestamp_micros()) as f64 / 2e6;
        let queue_rows: Option<(i64, i64)> =
            sqlx::query_as("SELECT n_live_tup, n_dead_tup FROM pg_stat_user_tables WHERE relname = 'lead_queue'")
                .fetch_optional(&self.pool)
                .await?;
        Ok(DatabaseHealth {
            long_transactions: long_transactions
                .into_iter()
                .map(|(pid, s, state, query)| (i64::from(pid), s, state, query))
                .collect(),
            clock_skew_s: Some(server - here),
            queue_rows,
            integrity: None,
        })
    }
}
