//! Leads and their contact points.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::LeadFields;
use crate::domain::LeadStatus;
use crate::store::backend::{AuditRecord, Backend, BulkTx, Tx};
use crate::store::model::{Contact, Lead, NewContact};
use crate::store::{Result, StoreError};

/// Refuses a phone or email another lead (deleted ones too) already has, naming that lead. (The
/// unique indexes still stop a copy stored meanwhile, with a plainer message.)
async fn check_taken<T: BulkTx>(tx: &mut T, id: Uuid, fields: &LeadFields) -> Result<()> {
    let emails: Vec<String> = fields.email.iter().cloned().collect();
    let holders = tx
        .lock_leads_by_keys(std::slice::from_ref(&fields.phone), &emails)
        .await?;
    if let Some(other) = holders.iter().find(|l| l.id != id) {
        let what = if other.phone == fields.phone {
            format!("phone number {}", other.phone)
        } else {
            format!("email {}", other.email.as_deref().unwrap_or_default())
        };
        let deleted = if other.deleted_at.is_some() {
            format!(" (deleted; restore it with: coldcall lead restore {})", other.id)
        } else {
            String::new()
        };
        return Err(StoreError::Conflict(format!(
            "lead {} ({}) already has the {what}{deleted}",
            other.id,
            other.full_name()
        )));
    }
    Ok(())
}

pub(crate) async fn create<B: Backend>(
    b: &B,
    id: Uuid,
    fields: &LeadFields,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Lead>
where
    B::Tx: BulkTx,
{
    let mut tx = b.begin().await?;
    check_taken(&mut tx, id, fields).await?;
    let lead = tx.insert_lead(id, fields, actor, now).await?;
    tx.commit().await?;
    Ok(lead)
}

/// Replaces the editable fields; a status change made this way is logged with `reason`.
pub(crate) async fn update<B: Backend>(
    b: &B,
    id: Uuid,
    fields: &LeadFields,
    actor: Option<i64>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Lead>
where
    B::Tx: BulkTx,
{
    let mut tx = b.begin().await?;
    check_taken(&mut tx, id, fields).await?;
    let lead = tx
        .update_lead(id, fields, actor, reason, now)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", id))?;
    tx.commit().await?;
    Ok(lead)
}

pub(crate) async fn set_status<B: Backend>(
    b: &B,
    id: Uuid,
    status: LeadStatus,
    reason: Option<&str>,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Lead> {
    let mut tx = b.begin().await?;
    let lead = tx
        .set_status(id, status, reason, actor, now)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", id))?;
    tx.commit().await?;
    Ok(lead)
}

/// Soft-deletes or restores a lead; a lead on a call cannot be deleted. Audited.
pub(crate) async fn set_deleted<B: Backend>(
    b: &B,
    id: Uuid,
    deleted: bool,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Lead> {
    let mut tx = b.begin().await?;
    if deleted && tx.lead_on_call(id).await? {
        return Err(StoreError::Conflict(
            "the lead is on a call; end the call before deleting it".into(),
        ));
    }
    let lead = tx
        .set_deleted(id, deleted, actor, now)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", id))?;
    let action = if deleted { "delete" } else { "restore" };
    tx.audit(&AuditRecord::new(now, actor, action, "lead", id)).await?;
    tx.commit().await?;
    Ok(lead)
}

/// Adds a contact point; a new primary one takes over from the old primary of its kind.
pub(crate) async fn add_contact<B: Backend>(
    b: &B,
    id: Uuid,
    lead_id: Uuid,
    contact: &NewContact,
    now: DateTime<Utc>,
) -> Result<Contact> {
    let mut tx = b.begin().await?;
    tx.lock_lead(lead_id, true)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", lead_id))?;
    if contact.is_primary {
        tx.clear_primary_contact(lead_id, contact.kind, None).await?;
    }
    let contact = tx.insert_contact(id, lead_id, contact, now).await?;
    tx.commit().await?;
    Ok(contact)
}

pub(crate) async fn update_contact<B: Backend>(b: &B, id: Uuid, contact: &NewContact) -> Result<Contact> {
    let mut tx = b.begin().await?;
    let lead_id = tx
        .contact_lead(id)
        .await?
        .ok_or_else(|| StoreError::not_found("contact", id))?;
    tx.lock_lead(lead_id, true)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", lead_id))?;
    if contact.is_primary {
        tx.clear_primary_contact(lead_id, contact.kind, Some(id)).await?;
    }
    let contact = tx.update_contact(id, contact).await?;
    tx.commit().await?;
    Ok(contact)
}
