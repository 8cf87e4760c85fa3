//! Call scripts: stored by admins (checked by `domain::script`, audited), and picked for a call:
//! the follow-up named after the lead's last outcome, else `default`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::backend::{AuditRecord, Backend, ScriptTx, Tx};
use crate::store::model::CallScript;
use crate::store::{Result, StoreError};

/// The script every call reads when no follow-up applies.
pub const DEFAULT_SCRIPT: &str = "default";

pub(crate) async fn set_script<B: Backend>(
    b: &B,
    name: &str,
    body: &str,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<CallScript>
where
    B::Tx: ScriptTx,
{
    crate::domain::script::validate(name, body).map_err(StoreError::BadInput)?;
    let mut tx = b.begin().await?;
    if name != DEFAULT_SCRIPT && tx.disposition(name).await?.is_none() {
        return Err(StoreError::BadInput(format!(
            "a script is named {DEFAULT_SCRIPT:?} (read on every call) or after a disposition code (the \
             follow-up after that outcome); {name:?} is neither (see coldcall call dispositions)"
        )));
    }
    let previous = tx.put_script(name, body, by, now).await?;
    let mut audit =
        AuditRecord::new(now, by, "script_set", "script", name).new_value(serde_json::json!({ "bytes": body.len() }));
    audit.old_value = previous.map(|p| serde_json::json!({ "bytes": p.body.len() }));
    tx.audit(&audit).await?;
    let stored = tx
        .script(name)
        .await?
        .ok_or_else(|| StoreError::not_found("script", name))?;
    tx.commit().await?;
    Ok(stored)
}

pub(crate) async fn delete_script<B: Backend>(b: &B, name: &str, by: Option<i64>, now: DateTime<Utc>) -> Result<bool>
where
    B::Tx: ScriptTx,
{
    let mut tx = b.begin().await?;
    let deleted = tx.delete_script(name).await?;
    if deleted {
        tx.audit(&AuditRecord::new(now, by, "script_delete", "script", name))
            .await?;
    }
    tx.commit().await?;
    Ok(deleted)
}

pub(crate) async fn scripts<B: Backend>(b: &B) -> Result<Vec<CallScript>>
where
    B::Tx: ScriptTx,
{
    let mut tx = b.begin_read().await?;
    let all = tx.scripts().await?;
    tx.rollback().await?;
    Ok(all)
}

pub(crate) async fn script<B: Backend>(b: &B, name: &str) -> Result<Option<CallScript>>
where
    B::Tx: ScriptTx,
{
    let mut tx = b.begin_read().await?;
    let one = tx.script(name).await?;
    tx.rollback().await?;
    Ok(one)
}

/// The script for a call to the lead: the follow-up named after its last call's outcome when
/// there is one, else the default; None when neither is stored.
pub(crate) async fn script_for_lead<B: Backend>(b: &B, lead_id: Uuid) -> Result<Option<CallScript>>
where
    B::Tx: ScriptTx,
{
    let mut tx = b.begin_read().await?;
    let follow_up = match tx.last_disposition(lead_id).await? {
        Some(code) => tx.script(&code).await?,
        None => None,
    };
    let picked = match follow_up {
        Some(script) => Some(script),
        None => tx.script(DEFAULT_SCRIPT).await?,
    };
    tx.rollback().await?;
    Ok(picked)
}
