//! What `coldcall doctor` reads from a SQLite file: whether it is sound.

use super::SqliteStore;
use crate::store::{DatabaseHealth, Result};

impl SqliteStore {
    pub async fn health(&self) -> Result<DatabaseHealth> {
        // The first line says "ok", or names the first damage found.
        let answer: String = sqlx::query_scalar("PRAGMA quick_check(1)")
            .fetch_one(&self.pool)
            .await?;
        Ok(DatabaseHealth {
            integrity: Some(answer),
            ..DatabaseHealth::default()
        })
    }
}
