//! A person's data on PostgreSQL: export everything about a lead, and erase it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{audit, PgStore, Tx, CALL_COLUMNS, LEAD_COLUMNS};
use crate::store::model::*;
use crate::store::privacy::{self, AuditEntry, AuditRow, Erasure, PersonalData, ERASED};
use crate::store::{Result, StoreError};

impl PgStore {
    /// Reads everything about the lead from one snapshot, then notes the export in the audit log.
    pub async fn gdpr_export(&self, lead_id: Uuid, by: i64, now: DateTime<Utc>) -> Result<PersonalData> {
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?;
        let lead: Lead = sqlx::query_as(&format!("SELECT {LEAD_COLUMNS} FROM leads WHERE id = $1"))
            .bind(lead_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("lead", lead_id))?;
        let contacts: Vec<Contact> = sqlx::query_as(
            "SELECT id, lead_id, kind, value, label, is_primary, is_verified, created_at FROM contacts \
             WHERE lead_id = $1 ORDER BY created_at, id",
        )
        .bind(lead_id)
        .fetch_all(&mut *tx)
        .await?;
        let calls: Vec<CallLog> = sqlx::query_as(&format!(
            "SELECT {CALL_COLUMNS} FROM call_logs c JOIN agents a ON a.id = c.agent_id WHERE c.lead_id = $1 \
             ORDER BY c.started_at, c.id"
        ))
        .bind(lead_id)
        .fetch_all(&mut *tx)
        .await?;
        let status_history: Vec<StatusChange> = sqlx::query_as(
            "SELECT s.id, s.lead_id, s.old_status, s.new_status, s.changed_by, a.name AS changed_by_name, s.reason, \
             s.changed_at FROM lead_status_log s LEFT JOIN agents a ON a.id = s.changed_by WHERE s.lead_id = $1 \
             ORDER BY s.id",
        )
        .bind(lead_id)
        .fetch_all(&mut *tx)
        .await?;
        let assignments: Vec<Assignment> = sqlx::query_as(
            "SELECT la.id, la.lead_id, la.agent_id, a.name AS agent_name, la.assigned_by, la.assigned_at, la.expires_at, \
             la.active FROM lead_assignments la JOIN agents a ON a.id = la.agent_id WHERE la.lead_id = $1 \
             ORDER BY la.assigned_at, la.id",
        )
        .bind(lead_id)
        .fetch_all(&mut *tx)
        .await?;
        let callbacks: Vec<Callback> = sqlx::query_as(
            "SELECT c.id, c.lead_id, c.agent_id, a.name AS agent_name, l.first_name || ' ' || l.last_name AS lead_name, \
             c.due_at, c.note, c.created_at, c.done_at FROM callbacks c JOIN agents a ON a.id = c.agent_id \
             JOIN leads l ON l.id = c.lead_id WHERE c.lead_id = $1 ORDER BY c.created_at, c.id",
        )
        .bind(lead_id)
        .fetch_all(&mut *tx)
        .await?;
        let numbers = numbers_of(&lead, &contacts);
        let call_ids: Vec<String> = calls.iter().map(|c| c.id.to_string()).collect();
        let callback_ids: Vec<String> = callbacks.iter().map(|c| c.id.to_string()).collect();
        let audit_rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT al.id, al.at, al.agent_id, a.name AS agent_name, al.action, al.entity, al.entity_id, \
             al.old_value::text AS old_value, al.new_value::text AS new_value \
             FROM audit_log al LEFT JOIN agents a ON a.id = al.agent_id \
             WHERE (al.entity = 'lead' AND al.entity_id = $1) OR (al.entity = 'call' AND al.entity_id = ANY($2)) \
                OR (al.entity = 'callback' AND al.entity_id = ANY($3)) OR (al.entity = 'dnc' AND al.entity_id = ANY($4)) \
             ORDER BY al.id",
        )
        .bind(lead_id.to_string())
        .bind(&call_ids)
        .bind(&callback_ids)
        .bind(&numbers)
        .fetch_all(&mut *tx)
        .await?;
        let do_not_call: Vec<DncEntry> = sqlx::query_as(
            "SELECT number, reason, added_by, added_at FROM dnc_numbers WHERE number = ANY($1) ORDER BY number",
        )
        .bind(&numbers)
        .fetch_all(&mut *tx)
        .await?;
        tx.rollback().await?;

        let mut tx = self.begin().await?;
        audit(
            &mut tx,
            now,
            Some(by),
            privacy::EXPORT_ACTION,
            "lead",
            &lead_id.to_string(),
            None,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(PersonalData {
            exported_at: now,
            lead,
            contacts,
            calls,
            status_history,
            assignments,
            callbacks,
            audit: audit_rows.into_iter().map(AuditEntry::from).collect(),
            do_not_call,
        })
    }

    /// Anonymises the lead and everything about it in one transaction; see `Store::gdpr_erase`.
    pub async fn gdpr_erase(&self, lead_id: Uuid, by: i64, reason: &str, now: DateTime<Utc>) -> Result<Erasure> {
        let mut tx = self.begin().await?;
        let phone: String = sqlx::query_scalar("SELECT phone FROM leads WHERE id = $1 FOR UPDATE")
            .bind(lead_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("lead", lead_id))?;
        let on_call: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM active_calls WHERE lead_id = $1)")
            .bind(lead_id)
            .fetch_one(&mut *tx)
            .await?;
        if on_call {
            return Err(StoreError::Conflict(
                "the lead is on a call right now; erase it once the call has ended".into(),
            ));
        }
        let already_erased: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM audit_log WHERE entity = 'lead' AND entity_id = $1 AND action = $2)",
        )
        .bind(lead_id.to_string())
        .bind(privacy::ERASE_ACTION)
        .fetch_one(&mut *tx)
        .await?;
        let mut numbers: Vec<String> =
            sqlx::query_scalar("SELECT value FROM contacts WHERE lead_id = $1 AND kind = 'phone' ORDER BY value")
                .bind(lead_id)
                .fetch_all(&mut *tx)
                .await?;
        if !privacy::is_placeholder_phone(&phone) {
            numbers.insert(0, phone.clone());
        }
        let placeholder = if privacy::is_placeholder_phone(&phone) {
            phone.clone()
        } else {
            free_placeholder(&mut tx, lead_id).await?
        };
        let call_ids: Vec<String> = sqlx::query_scalar("SELECT id::text FROM call_logs WHERE lead_id = $1")
            .bind(lead_id)
            .fetch_all(&mut *tx)
            .await?;
        let callback_ids: Vec<String> = sqlx::query_scalar("SELECT id::text FROM callbacks WHERE lead_id = $1")
            .bind(lead_id)
            .fetch_all(&mut *tx)
            .await?;

        // The lead keeps what statistics count (status, priority, score, attempts, dates, source,
        // consent); it leaves lists and the queue (deleted) and can never be dialled (do-not-call
        // and a number that rings nowhere). The search index follows the row: PostgreSQL's is an
        // expression index over these columns, so the old words are gone from it with the update.
        sqlx::query(
            "UPDATE leads SET first_name = $2, last_name = $2, company = $2, email = NULL, phone = $3, title = NULL, \
             timezone = NULL, notes = NULL, status_reason = NULL, do_not_call = TRUE, \
             deleted_at = coalesce(deleted_at, $4), updated_at = $4, updated_by = $5 WHERE id = $1",
        )
        .bind(lead_id)
        .bind(ERASED)
        .bind(&placeholder)
        .bind(now)
        .bind(by)
        .execute(&mut *tx)
        .await?;
        let contacts_removed = sqlx::query("DELETE FROM contacts WHERE lead_id = $1")
            .bind(lead_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        // Calls keep agent, times, duration and outcome: the floor's figures do not change.
        let calls_anonymised = sqlx::query(
            "UPDATE call_logs SET phone_number = $2, notes = NULL, recording_url = NULL \
             WHERE lead_id = $1 AND (phone_number <> $2 OR notes IS NOT NULL OR recording_url IS NOT NULL)",
        )
        .bind(lead_id)
        .bind(&placeholder)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let status_changes_anonymised =
            sqlx::query("UPDATE lead_status_log SET reason = NULL WHERE lead_id = $1 AND reason IS NOT NULL")
                .bind(lead_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        let callbacks_anonymised =
            sqlx::query("UPDATE callbacks SET note = NULL WHERE lead_id = $1 AND note IS NOT NULL")
                .bind(lead_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        let kept_on_dnc_list: Vec<String> =
            sqlx::query_scalar("SELECT number FROM dnc_numbers WHERE number = ANY($1) ORDER BY number")
                .bind(&numbers)
                .fetch_all(&mut *tx)
                .await?;
        let gone: Vec<&String> = numbers.iter().filter(|n| !kept_on_dnc_list.contains(n)).collect();
        // Audit values about the lead may quote the person (a supervisor's reason); who did what
        // and when stays. Entries naming a number stay while that number is on the DNC list:
        // they are the record of the person's wish.
        let mut audit_entries_anonymised = sqlx::query(
            "UPDATE audit_log SET old_value = NULL, new_value = NULL \
             WHERE (old_value IS NOT NULL OR new_value IS NOT NULL) AND action <> $4 AND \
                   ((entity = 'lead' AND entity_id = $1) OR (entity = 'call' AND entity_id = ANY($2)) \
                    OR (entity = 'callback' AND entity_id = ANY($3)))",
        )
        .bind(lead_id.to_string())
        .bind(&call_ids)
        .bind(&callback_ids)
        .bind(privacy::ERASE_ACTION)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        audit_entries_anonymised += sqlx::query(
            "UPDATE audit_log SET entity_id = $2, old_value = NULL, new_value = NULL \
             WHERE entity = 'dnc' AND entity_id = ANY($1)",
        )
        .bind(&gone)
        .bind(ERASED)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if !already_erased {
            audit(
                &mut tx,
                now,
                Some(by),
                privacy::ERASE_ACTION,
                "lead",
                &lead_id.to_string(),
                None,
                Some(serde_json::json!({ "reason": reason })),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Erasure {
            lead_id,
            already_erased,
            contacts_removed,
            calls_anonymised,
            status_changes_anonymised,
            callbacks_anonymised,
            audit_entries_anonymised,
            kept_on_dnc_list,
        })
    }
}

/// The person's numbers: the lead's phone and its phone contacts.
fn numbers_of(lead: &Lead, contacts: &[Contact]) -> Vec<String> {
    let mut numbers = vec![lead.phone.clone()];
    numbers.extend(
        contacts
            .iter()
            .filter(|c| c.kind == crate::domain::ContactKind::Phone)
            .map(|c| c.value.clone()),
    );
    numbers.sort();
    numbers.dedup();
    numbers
}

async fn free_placeholder(tx: &mut Tx, lead_id: Uuid) -> Result<String> {
    for attempt in 0..1000 {
        let candidate = privacy::placeholder_phone(lead_id, attempt);
        let taken: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM leads WHERE phone = $1)")
            .bind(&candidate)
            .fetch_one(&mut **tx)
            .await?;
        if !taken {
            return Ok(candidate);
        }
    }
    Err(StoreError::Conflict(
        "no free placeholder number for the erased lead; try again".into(),
    ))
}
