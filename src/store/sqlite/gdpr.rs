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
