//! A person's data on SQLite: the statements of the export and the erasure (`flows::privacy`).
//! SQLite has no array type: a list is bound as one JSON array and read back with `json_each`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::statements::SqliteTx;
use super::{json_list, CALL_COLUMNS};
use crate::store::backend::{AuditSubjects, PrivacyTx};
use crate::store::model::*;
use crate::store::privacy::AuditRow;
use crate::store::Result;

impl PrivacyTx for SqliteTx {
    crate::store::portable::privacy_statements!();

    async fn audit_about(&mut self, about: &AuditSubjects<'_>, numbers: &[String]) -> Result<Vec<AuditRow>> {
        Ok(sqlx::query_as(
            "SELECT al.id, al.at, al.agent_id, a.name AS agent_name, al.action, al.entity, al.entity_id, \
             al.old_value, al.new_value \
             FROM audit_log al LEFT JOIN agents a ON a.id = al.agent_id \
             WHERE (al.entity = 'lead' AND al.entity_id = $1) \
                OR (al.entity = 'call' AND al.entity_id IN (SELECT value FROM json_each($2))) \
                OR (al.entity = 'callback' AND al.entity_id IN (SELECT value FROM json_each($3))) \
                OR (al.entity = 'dnc' AND al.entity_id IN (SELECT value FROM json_each($4))) \
             ORDER BY al.id",
        )
        .bind(about.lead_id.to_string())
        .bind(json_list(about.call_ids))
        .bind(json_list(about.callback_ids))
        .bind(json_list(numbers))
        .fetch_all(self.conn())
        .await?)
    }

    async fn dnc_entries(&mut self, numbers: &[String]) -> Result<Vec<DncEntry>> {
        Ok(sqlx::query_as(
            "SELECT number, reason, added_by, added_at FROM dnc_numbers \
             WHERE number IN (SELECT value FROM json_each($1)) ORDER BY number",
        )
        .bind(json_list(numbers))
        .fetch_all(self.conn())
        .await?)
    }

    async fn clear_audit_values(&mut self, about: &AuditSubjects<'_>, keep: &str) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE audit_log SET old_value = NULL, new_value = NULL \
             WHERE (old_value IS NOT NULL OR new_value IS NOT NULL) AND action <> $4 AND \
                   ((entity = 'lead' AND entity_id = $1) \
                    OR (entity = 'call' AND entity_id IN (SELECT value FROM json_each($2))) \
                    OR (entity = 'callback' AND entity_id IN (SELECT value FROM json_each($3))))",
        )
        .bind(about.lead_id.to_string())
        .bind(json_list(about.call_ids))
        .bind(json_list(about.callback_ids))
        .bind(keep)
        .execute(self.conn())
        .await?
        .rows_affected())
    }

    async fn erase_dnc_audit(&mut self, numbers: &[&String], erased: &str) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE audit_log SET entity_id = $2, old_value = NULL, new_value = NULL \
             WHERE entity = 'dnc' AND entity_id IN (SELECT value FROM json_each($1))",
        )
        .bind(json_list(numbers))
        .bind(erased)
        .execute(self.conn())
        .await?
        .rows_affected())
    }
}
