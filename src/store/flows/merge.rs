//! Leads that are one person: the pairs `lead duplicates` lists, and `lead merge KEEP OTHER`,
//! which moves the other lead's history onto the kept one and soft-deletes it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::duplicates::{find_duplicates, merged_flags, DuplicatePair, LeadKeys};
use crate::domain::ContactKind;
use crate::store::backend::{Absorb, AuditRecord, Backend, BulkTx, MergeTx, Tx};
use crate::store::bulk::RowContact;
use crate::store::model::Lead;
use crate::store::{Result, StoreError};

/// Every likely pair among the live leads, best first (see `domain::duplicates`).
pub(crate) async fn duplicates<B: Backend>(b: &B) -> Result<Vec<DuplicatePair>>
where
    B::Tx: MergeTx,
{
    let mut tx = b.begin_snapshot().await?;
    let rows = tx.live_lead_keys().await?;
    let points = tx.live_contact_points().await?;
    tx.rollback().await?;
    let mut keys: Vec<LeadKeys> = rows
        .into_iter()
        .map(|r| LeadKeys {
            id: r.id,
            first_name: r.first_name,
            last_name: r.last_name,
            company: r.company,
            phone: r.phone,
            email: r.email,
            other_phones: Vec::new(),
            other_emails: Vec::new(),
        })
        .collect();
    let index: HashMap<Uuid, usize> = keys.iter().enumerate().map(|(i, k)| (k.id, i)).collect();
    for (lead_id, kind, value) in points {
        let Some(&i) = index.get(&lead_id) else { continue };
        match kind {
            ContactKind::Phone => keys[i].other_phones.push(value),
            ContactKind::Email => keys[i].other_emails.push(value),
            _ => {}
        }
    }
    Ok(find_duplicates(&keys))
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct MergeSummary {
    /// The kept lead, after the merge.
    pub kept: Lead,
    /// The merged lead, now deleted and pointing at the kept one.
    pub merged: Uuid,
    pub calls: u64,
    pub status_changes: u64,
    pub contacts: u64,
    pub callbacks: u64,
}

/// Moves `other`'s calls, status history, contact points and callbacks to `keep`, adds
/// `other`'s own phone and email to `keep`'s contact points (unless it has them), keeps
/// do-not-call and do-not-email if either lead had them, ends `other`'s assignments and
/// soft-deletes it with a pointer to `keep`. Refused while either lead is on a call. Audited.
pub(crate) async fn merge<B: Backend>(
    b: &B,
    keep: Uuid,
    other: Uuid,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<MergeSummary>
where
    B::Tx: MergeTx,
{
    if keep == other {
        return Err(StoreError::BadInput("a lead cannot be merged into itself".into()));
    }
    let mut tx = b.begin().await?;
    // Locked in id order, so two merges of the same pair wait for each other, not deadlock.
    let mut locked = HashMap::new();
    let mut order = [keep, other];
    order.sort();
    for id in order {
        let lead = tx
            .lock_lead(id, true)
            .await?
            .ok_or_else(|| StoreError::not_found("lead", id))?;
        locked.insert(id, lead);
    }
    for id in [keep, other] {
        if tx.lead_on_call(id).await? {
            return Err(StoreError::Conflict(format!(
                "lead {id} is on a call; merge the leads after the call ends"
            )));
        }
    }
    let (k, o) = (&locked[&keep], &locked[&other]);
    let (do_not_call, do_not_email) = merged_flags((k.do_not_call, k.do_not_email), (o.do_not_call, o.do_not_email));
    let calls = tx.move_calls(other, keep).await?;
    let status_changes = tx.move_status_log(other, keep).await?;
    let callbacks = tx.move_callbacks(other, keep).await?;
    let mut contacts = tx.move_contacts(other, keep).await?;
    // The other lead's own number and email stay reachable as the kept lead's contact points.
    let mut own: Vec<(usize, Uuid, RowContact)> = Vec::new();
    let held = tx.contact_keys(&[keep]).await?;
    let has = |kind: ContactKind, value: &str| held.iter().any(|(_, k, v)| *k == kind && v == value);
    if o.phone != k.phone && !has(ContactKind::Phone, &o.phone) {
        own.push((0, keep, point(ContactKind::Phone, &o.phone)));
    }
    if let Some(email) = o.email.as_deref() {
        if k.email.as_deref() != Some(email) && !has(ContactKind::Email, email) {
            own.push((0, keep, point(ContactKind::Email, email)));
        }
    }
    if !own.is_empty() {
        contacts += tx.insert_contact_points(&own, now).await?.len() as u64;
    }
    tx.end_assignments(other, None).await?;
    let absorb = Absorb {
        keep,
        other,
        do_not_call,
        do_not_email,
        actor,
        now,
    };
    tx.absorb(&absorb).await?;
    tx.set_merged_into(&absorb).await?;
    let kept = tx
        .lead(keep)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", keep))?;
    let summary = MergeSummary {
        kept,
        merged: other,
        calls,
        status_changes,
        contacts,
        callbacks,
    };
    tx.audit(
        &AuditRecord::new(now, actor, "merge", "lead", other).new_value(serde_json::json!({
            "into": keep,
            "calls": calls,
            "status_changes": status_changes,
            "contacts": contacts,
            "callbacks": callbacks,
            "do_not_call": do_not_call,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(summary)
}

/// The lead this one was merged into, if it was.
pub(crate) async fn merged_into<B: Backend>(b: &B, id: Uuid) -> Result<Option<Uuid>>
where
    B::Tx: MergeTx,
{
    let mut tx = b.begin_read().await?;
    let into = tx.merged_into(id).await?;
    tx.rollback().await?;
    Ok(into)
}

fn point(kind: ContactKind, value: &str) -> RowContact {
    RowContact {
        kind,
        value: value.to_string(),
        label: Some("merged".into()),
    }
}
