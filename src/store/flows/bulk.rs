//! The import's batch apply: a batch of leads matched, decided and written in one transaction,
//! a batch of do-not-call numbers, and the audit entry of a whole import.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::store::backend::{AuditRecord, Backend, BatchStamp, BulkTx, HistoryCall, Tx};
use crate::store::bulk::{batch_keys, plan_batch, StoredContacts};
use crate::store::{DncBatchResult, DncRow, ImportBatch, Result, RowResult};

/// How a batch's new leads are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// Every row trigger fires row by row, as for a lead typed by hand.
    Ordinary,
    /// The row triggers a new lead fires are paused and written for the whole batch at once
    /// (`BulkTx::pause_insert_triggers`); the stored rows come out the same.
    Bulk,
}

/// Looks up (and locks) the stored leads that share a phone or email with the batch, lets the
/// plan decide every row, and writes what it says; see `Store::import_leads`.
pub(crate) async fn import_leads<B: Backend>(
    b: &B,
    batch: &ImportBatch<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<RowResult>>
where
    B::Tx: BulkTx,
{
    apply_batch(b, batch, Write::Ordinary, now).await
}

/// As `import_leads`, with the new leads' row triggers run once for the batch; see
/// `Store::import_leads_bulk`.
pub(crate) async fn import_leads_bulk<B: Backend>(
    b: &B,
    batch: &ImportBatch<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<RowResult>>
where
    B::Tx: BulkTx,
{
    apply_batch(b, batch, Write::Bulk, now).await
}

async fn apply_batch<B: Backend>(
    b: &B,
    batch: &ImportBatch<'_>,
    write: Write,
    now: DateTime<Utc>,
) -> Result<Vec<RowResult>>
where
    B::Tx: BulkTx,
{
    let mut tx = b.begin().await?;
    // Paused before anything is written: the batch's new leads are the rows written after it.
    let paused = match write {
        Write::Bulk if !batch.dry_run => tx.pause_insert_triggers().await?,
        _ => None,
    };
    let (phones, emails) = batch_keys(batch.rows);
    // Locks the matched leads until commit, so a console editing one waits instead of having its
    // change overwritten by a decision made on what it had before.
    let stored = tx.lock_leads_by_keys(&phones, &emails).await?;
    let wanted = batch.rows.iter().any(|r| !r.contacts.is_empty());
    let mut stored_contacts = StoredContacts::new();
    if wanted && !stored.is_empty() {
        let ids: Vec<_> = stored.iter().map(|l| l.id).collect();
        for (lead_id, kind, value) in tx.contact_keys(&ids).await? {
            stored_contacts.entry(lead_id).or_default().insert((kind, value));
        }
    }
    let mut plan = plan_batch(batch, stored, &stored_contacts);
    if batch.dry_run || (plan.inserts.is_empty() && plan.updates.is_empty() && plan.contacts.is_empty()) {
        tx.rollback().await?;
        return Ok(plan.results);
    }
    let stamp = BatchStamp {
        actor: batch.actor,
        reason: batch.reason,
        now,
    };
    let written = match paused {
        Some(paused) => {
            // New leads with their triggers paused and written once for all of them; changed
            // leads after, with every trigger on (the status log needs each one's old status).
            let written = if plan.inserts.is_empty() {
                HashSet::new()
            } else {
                tx.write_leads(&plan.inserts, &[], &stamp).await?
            };
            let inserted: Vec<_> = plan
                .inserts
                .iter()
                .map(|(_, id, _)| *id)
                .filter(|id| written.contains(id))
                .collect();
            tx.replay_insert_triggers(paused, &inserted).await?;
            if !plan.updates.is_empty() {
                tx.write_leads(&[], &plan.updates, &stamp).await?;
            }
            written
        }
        None => tx.write_leads(&plan.inserts, &plan.updates, &stamp).await?,
    };
    plan.settle_inserts(&written);
    if !plan.contacts.is_empty() {
        let added = tx.insert_contact_points(&plan.contacts, now).await?;
        plan.settle_contacts(&added);
    }
    tx.commit().await?;
    Ok(plan.results)
}

/// Puts the numbers on the do-not-call list and flags the leads with them, as `dnc_add` does for
/// one number; see `Store::import_dnc`.
pub(crate) async fn import_dnc<B: Backend>(
    b: &B,
    rows: &[DncRow],
    actor: Option<i64>,
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<DncBatchResult>
where
    B::Tx: BulkTx,
{
    let mut tx = b.begin().await?;
    let numbers: Vec<&str> = rows.iter().map(|r| r.number.as_str()).collect();
    // Same as adding one number: every lead with it is marked, listed before or not.
    let (added, leads_marked): (HashSet<String>, u64) = if dry_run {
        let listed = tx.listed_numbers(&numbers).await?;
        let added = numbers
            .iter()
            .filter(|n| !listed.contains(**n))
            .map(|n| n.to_string())
            .collect();
        let marked = tx.count_unflagged(&numbers).await?;
        tx.rollback().await?;
        (added, marked)
    } else {
        let added = tx.insert_dnc_rows(rows, actor, now).await?;
        let marked = tx.flag_numbers_dnc(&numbers, actor, now).await?;
        tx.commit().await?;
        (added, marked)
    };
    Ok(DncBatchResult {
        added: rows.iter().map(|r| added.contains(&r.number)).collect(),
        leads_marked,
    })
}

/// One audit-log entry for a whole import.
pub(crate) async fn record_import<B: Backend>(
    b: &B,
    what: &str,
    file: &str,
    summary: &serde_json::Value,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut tx = b.begin().await?;
    tx.audit(&AuditRecord::new(now, actor, "import", what, file).new_value(summary.clone()))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Writes finished calls straight into the history in one transaction (seeding a floor); the
/// leads' attempts and last calls follow, and the queue's triggers keep it in step.
pub(crate) async fn insert_history<B: Backend>(b: &B, calls: &[HistoryCall]) -> Result<u64>
where
    B::Tx: BulkTx,
{
    let mut tx = b.begin().await?;
    let written = tx.insert_history(calls).await?;
    tx.commit().await?;
    Ok(written)
}

/// Feeds the claim queue everything that has come due by `now`, batch by batch (after a bulk
/// load, so the first claims do not do it).
pub(crate) async fn feed_queue<B: Backend>(b: &B, now: DateTime<Utc>) -> Result<u64> {
    let mut total = 0;
    loop {
        let mut tx = b.begin().await?;
        let fed = tx.feed_queue(now, 50_000).await?;
        tx.commit().await?;
        total += fed;
        if fed == 0 {
            return Ok(total);
        }
    }
}
