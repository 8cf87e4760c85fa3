//! Callbacks, the do-not-call list and the disposition list.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::Disposition;
use crate::store::backend::{AuditRecord, Backend, Tx};
use crate::store::model::{Callback, DncEntry};
use crate::store::{Result, StoreError};

pub(crate) async fn schedule_callback<B: Backend>(
    b: &B,
    id: Uuid,
    lead_id: Uuid,
    agent_id: i64,
    due_at: DateTime<Utc>,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Callback> {
    let mut tx = b.begin().await?;
    tx.lock_lead(lead_id, true)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", lead_id))?;
    tx.insert_callback(id, lead_id, agent_id, due_at, note, now).await?;
    let callback = tx.callback(id).await?;
    tx.commit().await?;
    Ok(callback)
}

/// Gives an open callback to another agent; audited. False when there is no open callback.
pub(crate) async fn hand_callback<B: Backend>(
    b: &B,
    id: Uuid,
    to: i64,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut tx = b.begin().await?;
    let handed = tx.hand_callback(id, to).await?;
    if handed {
        tx.audit(
            &AuditRecord::new(now, by, "hand_callback", "callback", id)
                .new_value(serde_json::json!({ "agent_id": to })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(handed)
}

/// Puts a number on the list and flags every lead with it do-not-call; audited.
pub(crate) async fn dnc_add<B: Backend>(
    b: &B,
    number: &str,
    reason: Option<&str>,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<DncEntry> {
    let mut tx = b.begin().await?;
    let entry = tx.upsert_dnc(number, reason, by, now).await?;
    tx.flag_leads_dnc(number, by, now).await?;
    let mut record = AuditRecord::new(now, by, "dnc_add", "dnc", number);
    if let Some(reason) = reason {
        record = record.new_value(serde_json::json!({ "reason": reason }));
    }
    tx.audit(&record).await?;
    tx.commit().await?;
    Ok(entry)
}

/// Takes a number off the list (the leads' own flags stay); audited. False when it was not listed.
pub(crate) async fn dnc_remove<B: Backend>(b: &B, number: &str, by: Option<i64>, now: DateTime<Utc>) -> Result<bool> {
    let mut tx = b.begin().await?;
    let removed = tx.delete_dnc(number).await?;
    if removed {
        tx.audit(&AuditRecord::new(now, by, "dnc_remove", "dnc", number))
            .await?;
    }
    tx.commit().await?;
    Ok(removed)
}

/// Seeds the default dispositions into an empty table; a table with any row is left alone.
pub(crate) async fn seed_dispositions<B: Backend>(b: &B, defaults: &[Disposition]) -> Result<()> {
    let mut tx = b.begin().await?;
    if tx.count_dispositions().await? == 0 {
        for (order, d) in defaults.iter().enumerate() {
            tx.insert_disposition(d, order as i32).await?;
        }
    }
    tx.commit().await
}

/// Changes a shared setting (already validated); audited with the old and the new value.
pub(crate) async fn change_setting<B: Backend>(
    b: &B,
    key: &str,
    value: &str,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut tx = b.begin().await?;
    let old = tx.setting(key).await?;
    tx.put_setting(key, value, now).await?;
    let mut record = AuditRecord::new(now, actor, "change_setting", "setting", key).new_value(serde_json::json!(value));
    record.old_value = old.map(serde_json::Value::String);
    tx.audit(&record).await?;
    tx.commit().await
}
