//! Sqlite: the statements of `lead duplicates` and `lead merge` (`flows::merge`).

use uuid::Uuid;

use super::statements::SqliteTx;
use crate::domain::ContactKind;
use crate::store::backend::{Absorb, KeyRow, MergeTx};
use crate::store::Result;

impl MergeTx for SqliteTx {
    crate::store::portable::merge_statements!();

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
            sqlx::query("UPDATE contacts SET lead_id = $2, is_primary = 0 WHERE lead_id = $1")
                .bind(from)
                .bind(to)
                .execute(self.conn())
                .await?
                .rows_affected(),
        )
    }
}
