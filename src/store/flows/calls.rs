//! Calls: can-call, start, end, and the two ways a lock ends without an outcome (a stale lock
//! reaped, a supervisor's release). Lock order is always the lead row first, then its call lock.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::call_end::{call_duration, callbacks_answered, may_end_call, EndRefusal, EndedBy, Ender};
use crate::domain::disposition::{outcome_effects, OutcomeInput};
use crate::domain::{Policy, Refusal};
use crate::store::backend::{AuditRecord, Backend, CallClose, NewCall, OutcomeWrite, Tx};
use crate::store::common::{call_status_for, check_call, lock_is_stale, replayed_end};
use crate::store::model::{EndCall, EndedCall, ReapedLock, StartCall, StartedCall};
use crate::store::{Result, StoreError};

async fn policy_in<T: Tx>(tx: &mut T) -> Result<Policy> {
    Ok(super::floor_in(tx).await?.policy)
}

/// What start-call would say now, without taking the lock.
pub(crate) async fn can_call<B: Backend>(
    b: &B,
    lead_id: Uuid,
    agent_id: i64,
    now: DateTime<Utc>,
) -> Result<Result<(), Refusal>> {
    let mut tx = b.begin_read().await?;
    let policy = policy_in(&mut tx).await?;
    let facts = tx.call_facts(lead_id, false).await?;
    tx.rollback().await?;
    Ok(check_call(facts.as_ref(), &policy, agent_id, now))
}

/// Checks every rule with the lead row locked and takes the lead's lock in the same transaction.
/// A stale lock found on the way is reaped first, in the same transaction.
pub(crate) async fn start_call<B: Backend>(
    b: &B,
    call_id: Uuid,
    req: &StartCall,
    now: DateTime<Utc>,
) -> Result<StartedCall> {
    let mut tx = b.begin().await?;
    let policy = policy_in(&mut tx).await?;
    let mut facts = tx.call_facts(req.lead_id, true).await?;
    if let Some(f) = facts.take() {
        facts = Some(match f.active {
            Some((stale_call, ref lock)) if lock_is_stale(&policy, lock.heartbeat_at, now) => {
                reap(&mut tx, req.lead_id, stale_call, Some(req.agent_id), now, None).await?;
                f.after_reap()
            }
            _ => f,
        });
    }
    check_call(facts.as_ref(), &policy, req.agent_id, now)?;
    let phone = facts.map(|f| f.lead.phone).unwrap_or_default();
    let call = NewCall {
        id: call_id,
        lead_id: req.lead_id,
        agent_id: req.agent_id,
        phone: &phone,
        from_number: req.from_number.as_deref(),
        now,
    };
    tx.insert_call(&call).await?;
    if !tx.insert_lock(&call).await? {
        // Only reachable if something bypassed the row lock; the key still decides, and the
        // refusal names whoever holds the lead now.
        tx.rollback().await?;
        let mut tx = b.begin_read().await?;
        let facts = tx.call_facts(req.lead_id, false).await?;
        tx.rollback().await?;
        let refusal = check_call(facts.as_ref(), &policy, req.agent_id, now).err();
        return Err(refusal.unwrap_or(Refusal::LeadNotFound).into());
    }
    tx.commit().await?;
    Ok(StartedCall {
        call_id,
        lead_id: req.lead_id,
        agent_id: req.agent_id,
        phone_number: phone,
        started_at: now,
    })
}

/// Records the outcome, applies the disposition's effects to the lead and releases the lock, in
/// one transaction. The lock's call id is the fencing token: a console whose lock was reaped
/// cannot end or alter a newer call.
pub(crate) async fn end_call<B: Backend>(b: &B, req: &EndCall, now: DateTime<Utc>) -> Result<EndedCall> {
    let mut tx = b.begin().await?;
    let disposition = tx
        .disposition(&req.disposition)
        .await?
        .ok_or_else(|| StoreError::BadInput(format!("unknown disposition '{}'", req.disposition)))?;
    let Some(lock) = tx.lock_of_call(req.call_id).await? else {
        tx.rollback().await?;
        return already_ended(b, req).await;
    };
    let ended_by = match tx.agent(req.agent_id).await? {
        Some(agent) => may_end_call(
            lock.agent_id,
            &Ender {
                agent_id: agent.id,
                name: &agent.name,
                role: agent.role,
                force: req.force,
            },
        ),
        None => Err(EndRefusal::NotOwner),
    }
    .map_err(|e| StoreError::Forbidden(e.to_string()))?;
    let lead = tx
        .lock_lead(lock.lead_id, false)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", lock.lead_id))?;
    // Re-read under the lead's lock: a reaper may have closed the call in between.
    if tx.lock_of_call(req.call_id).await?.is_none() {
        tx.rollback().await?;
        return already_ended(b, req).await;
    }
    let policy = policy_in(&mut tx).await?;
    let effects = outcome_effects(&OutcomeInput {
        disposition: &disposition,
        current_status: lead.status,
        attempts_before: lead.call_attempts,
        call_started_at: lock.started_at,
        now,
        callback_at: req.callback_at,
        policy_max_attempts: policy.max_attempts,
    })
    .map_err(|e| StoreError::BadInput(e.to_string()))?;
    let duration_s = call_duration(req.duration_s.map(i64::from), lock.started_at, now)
        .map_err(|e| StoreError::BadInput(e.to_string()))?;
    tx.close_call(&CallClose {
        call_id: req.call_id,
        status: call_status_for(&disposition),
        disposition: &disposition.code,
        duration_s,
        notes: req.notes.as_deref(),
        recording_url: req.recording_url.as_deref(),
        ended_at: now,
        ended_by: req.agent_id,
        answered: disposition.is_contact,
    })
    .await?;
    let reason = format!("call outcome: {}", disposition.label);
    tx.apply_outcome(&OutcomeWrite {
        lead_id: lead.id,
        effects: &effects,
        reason: &reason,
        actor: req.agent_id,
        now,
    })
    .await?;
    if effects.add_to_dnc {
        tx.insert_dnc_if_absent(&lead.phone, &reason, req.agent_id, now).await?;
    }
    let answered = callbacks_answered(&tx.open_callbacks(lead.id).await?, now);
    if !answered.is_empty() {
        tx.close_callbacks(&answered, now).await?;
    }
    let callback_id = match effects.schedule_callback {
        Some(due_at) => {
            let id = Uuid::now_v7();
            tx.insert_callback(id, lead.id, lock.agent_id, due_at, req.notes.as_deref(), now)
                .await?;
            Some(id)
        }
        None => None,
    };
    // The agent's own claim on the lead is used up; supervisor assignments stay.
    tx.end_own_claim(lead.id).await?;
    tx.delete_lock(req.call_id).await?;
    if ended_by == EndedBy::Supervisor {
        tx.audit(&AuditRecord::new(
            now,
            Some(req.agent_id),
            "force_end_call",
            "call",
            req.call_id,
        ))
        .await?;
    }
    tx.commit().await?;
    Ok(EndedCall {
        call_id: req.call_id,
        lead_id: lead.id,
        disposition: disposition.code,
        duration_s,
        new_status: effects.new_status,
        next_call_at: effects.next_call_at,
        added_to_dnc: effects.add_to_dnc,
        callback_id,
    })
}

/// A retried end-call (e.g. after a lost connection) finds its call already closed: the same
/// outcome again is fine, anything else is reported.
async fn already_ended<B: Backend>(b: &B, req: &EndCall) -> Result<EndedCall> {
    let mut tx = b.begin_read().await?;
    let call = tx
        .call(req.call_id)
        .await?
        .ok_or_else(|| StoreError::not_found("call", req.call_id))?;
    let lead = tx
        .lead(call.lead_id)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", call.lead_id))?;
    tx.rollback().await?;
    replayed_end(req, &call, &lead)
}

/// Closes every lock whose heartbeat is older than the lock TTL as abandoned, one lead per
/// transaction, each re-checked under the lead's lock (its owner may have sent a heartbeat).
pub(crate) async fn reap_stale_locks<B: Backend>(
    b: &B,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<ReapedLock>> {
    let mut tx = b.begin_read().await?;
    let cutoff = now - policy_in(&mut tx).await?.lock_ttl;
    let stale = tx.stale_locks(cutoff).await?;
    tx.rollback().await?;
    let mut reaped = Vec::new();
    for lead_id in stale {
        let mut tx = b.begin().await?;
        tx.lock_lead(lead_id, false).await?;
        match tx.lock_of_lead(lead_id).await? {
            Some(lock) if lock.heartbeat_at < cutoff => {
                reap(&mut tx, lead_id, lock.call_id, actor, now, None).await?;
                tx.commit().await?;
                reaped.push(ReapedLock {
                    call_id: lock.call_id,
                    lead_id,
                    agent_id: lock.agent_id,
                    heartbeat_at: lock.heartbeat_at,
                });
            }
            _ => tx.rollback().await?,
        }
    }
    Ok(reaped)
}

/// A supervisor ends someone's call lock now, with a reason; the call is kept as abandoned.
pub(crate) async fn force_release<B: Backend>(
    b: &B,
    call_id: Uuid,
    by: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<ReapedLock> {
    let mut tx = b.begin().await?;
    let lock = tx
        .lock_of_call(call_id)
        .await?
        .ok_or_else(|| StoreError::not_found("active call", call_id))?;
    tx.lock_lead(lock.lead_id, false).await?;
    if tx.lock_of_call(call_id).await?.is_none() {
        return Err(StoreError::not_found("active call", call_id));
    }
    reap(&mut tx, lock.lead_id, call_id, Some(by), now, Some(reason)).await?;
    tx.commit().await?;
    Ok(ReapedLock {
        call_id,
        lead_id: lock.lead_id,
        agent_id: lock.agent_id,
        heartbeat_at: lock.heartbeat_at,
    })
}

/// Closes a lock whose console stopped sending heartbeats (or that a supervisor releases, with
/// `release` as the reason): the call stays on record as abandoned and counts as an attempt, and
/// the agent's own claim goes with it, or the lead would stay reserved. The caller holds the
/// lead row's lock.
async fn reap<T: Tx>(
    tx: &mut T,
    lead_id: Uuid,
    call_id: Uuid,
    actor: Option<i64>,
    now: DateTime<Utc>,
    release: Option<&str>,
) -> Result<()> {
    let note = match release {
        Some(reason) => format!("released by a supervisor: {reason}"),
        None => "lock expired without heartbeat; closed as abandoned".to_string(),
    };
    let started_at = tx.abandon_call(call_id, actor, &note, now).await?;
    tx.count_abandoned_attempt(lead_id, started_at, now).await?;
    tx.delete_lock(call_id).await?;
    tx.end_own_claim(lead_id).await?;
    let action = if release.is_some() {
        "force_release"
    } else {
        "reap_lock"
    };
    tx.audit(
        &AuditRecord::new(now, actor, action, "call", call_id)
            .new_value(serde_json::json!({ "lead_id": lead_id, "reason": release })),
    )
    .await
}
