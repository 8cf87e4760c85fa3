//! A person's data on request: the export of everything stored about a lead, and its erasure.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::ContactKind;
use crate::store::backend::{AuditRecord, AuditSubjects, Backend, PrivacyTx, Tx};
use crate::store::model::{Contact, Lead};
use crate::store::privacy::{self, AuditEntry, Erasure, PersonalData, ERASED};
use crate::store::{Result, StoreError};

/// Reads everything about the lead from one snapshot, then notes the export in the audit log.
pub(crate) async fn export<B: Backend>(b: &B, lead_id: Uuid, by: i64, now: DateTime<Utc>) -> Result<PersonalData>
where
    B::Tx: PrivacyTx,
{
    let mut tx = b.begin_snapshot().await?;
    let lead = tx
        .lead(lead_id)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", lead_id))?;
    let contacts = tx.contacts_of(lead_id).await?;
    let calls = tx.calls_of(lead_id).await?;
    let status_history = tx.status_changes_of(lead_id).await?;
    let assignments = tx.assignments_of(lead_id).await?;
    let callbacks = tx.callbacks_of(lead_id).await?;
    let numbers = numbers_of(&lead, &contacts);
    let call_ids: Vec<String> = calls.iter().map(|c| c.id.to_string()).collect();
    let callback_ids: Vec<String> = callbacks.iter().map(|c| c.id.to_string()).collect();
    let about = AuditSubjects {
        lead_id,
        call_ids: &call_ids,
        callback_ids: &callback_ids,
    };
    let audit = tx.audit_about(&about, &numbers).await?;
    let do_not_call = tx.dnc_entries(&numbers).await?;
    tx.rollback().await?;

    let mut tx = b.begin().await?;
    tx.audit(&AuditRecord::new(
        now,
        Some(by),
        privacy::EXPORT_ACTION,
        "lead",
        lead_id,
    ))
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
        audit: audit.into_iter().map(AuditEntry::from).collect(),
        do_not_call,
    })
}

/// Anonymises the lead and everything about it in one transaction; see `Store::gdpr_erase`.
pub(crate) async fn erase<B: Backend>(
    b: &B,
    lead_id: Uuid,
    by: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Erasure>
where
    B::Tx: PrivacyTx,
{
    let mut tx = b.begin().await?;
    let phone = tx
        .lock_lead(lead_id, false)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", lead_id))?
        .phone;
    if tx.lead_on_call(lead_id).await? {
        return Err(StoreError::Conflict(
            "the lead is on a call right now; erase it once the call has ended".into(),
        ));
    }
    let already_erased = tx.lead_audited(lead_id, privacy::ERASE_ACTION).await?;
    let mut numbers = tx.phone_contacts(lead_id).await?;
    let placeholder = if privacy::is_placeholder_phone(&phone) {
        phone
    } else {
        numbers.insert(0, phone);
        free_placeholder(&mut tx, lead_id).await?
    };
    let call_ids: Vec<String> = tx.call_ids(lead_id).await?.iter().map(Uuid::to_string).collect();
    let callback_ids: Vec<String> = tx.callback_ids(lead_id).await?.iter().map(Uuid::to_string).collect();

    // The lead keeps what statistics count (status, priority, score, attempts, dates, source,
    // consent); it leaves lists and the queue (deleted) and can never be dialled (do-not-call
    // and a number that rings nowhere). The search index follows the row (an expression index on
    // PostgreSQL, update triggers on SQLite), so the old words are gone from it with the update.
    tx.erase_lead(lead_id, ERASED, &placeholder, by, now).await?;
    let contacts_removed = tx.delete_contacts(lead_id).await?;
    // Calls keep agent, times, duration and outcome: the floor's figures do not change.
    let calls_anonymised = tx.anonymise_calls(lead_id, &placeholder).await?;
    let status_changes_anonymised = tx.clear_status_reasons(lead_id).await?;
    let callbacks_anonymised = tx.clear_callback_notes(lead_id).await?;
    let kept_on_dnc_list: Vec<String> = tx
        .dnc_entries(&numbers)
        .await?
        .into_iter()
        .map(|entry| entry.number)
        .collect();
    let gone: Vec<&String> = numbers.iter().filter(|n| !kept_on_dnc_list.contains(n)).collect();
    // Audit values about the lead may quote the person (a supervisor's reason); who did what
    // and when stays. Entries naming a number stay while that number is on the DNC list:
    // they are the record of the person's wish.
    let about = AuditSubjects {
        lead_id,
        call_ids: &call_ids,
        callback_ids: &callback_ids,
    };
    let audit_entries_anonymised =
        tx.clear_audit_values(&about, privacy::ERASE_ACTION).await? + tx.erase_dnc_audit(&gone, ERASED).await?;
    if !already_erased {
        let record = AuditRecord::new(now, Some(by), privacy::ERASE_ACTION, "lead", lead_id)
            .new_value(serde_json::json!({ "reason": reason }));
        tx.audit(&record).await?;
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

/// The person's numbers: the lead's phone and its phone contacts.
fn numbers_of(lead: &Lead, contacts: &[Contact]) -> Vec<String> {
    let mut numbers = vec![lead.phone.clone()];
    numbers.extend(
        contacts
            .iter()
            .filter(|c| c.kind == ContactKind::Phone)
            .map(|c| c.value.clone()),
    );
    numbers.sort();
    numbers.dedup();
    numbers
}

/// A placeholder number no lead has yet (see `privacy::placeholder_phone`).
async fn free_placeholder<T: PrivacyTx>(tx: &mut T, lead_id: Uuid) -> Result<String> {
    for attempt in 0..1000 {
        let candidate = privacy::placeholder_phone(lead_id, attempt);
        if !tx.phone_taken(&candidate).await? {
            return Ok(candidate);
        }
    }
    Err(StoreError::Conflict(
        "no free placeholder number for the erased lead; try again".into(),
    ))
}
