//! Calls: can-call, start, end, and the two ways a lock ends without an outcome (a stale lock
//! reaped, a supervisor's release). Lock order is always the lead row first, then its call lock.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::call_end::{call_duration, callbacks_answered, may_end_call, EndRefusal, EndedBy, Ender};
use crate::domain::contact::caller_id;
use crate::domain::disposition::{outcome_effects, OutcomeInput};
use crate::domain::CallStatus;
use crate::domain::{Disposition, Policy, Refusal};
use crate::store::backend::{AuditRecord, Backend, CallClose, NewCall, OutcomeWrite, Tx};
use crate::store::common::{call_status_for, check_call, lock_is_stale, replayed_end, sip_times};
use crate::store::model::{EndCall, EndedCall, Lead, ReapedLock, StartCall, StartedCall};
use crate::store::{Result, StoreError};

/// The note a supervisor's release leaves on the call (and how a late outcome recognises it).
const RELEASED_BY_SUPERVISOR: &str = "released by a supervisor: ";

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
    // Checked here, not by each caller, so the console, the command line and the floor server's
    // route all store the same E.164 caller id or refuse it.
    let from_number = caller_id(req.from_number.as_deref()).map_err(StoreError::BadInput)?;
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
        from_number: from_number.as_deref(),
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
/// cannot end or alter a newer call. A console that was cut off for longer than the lock's TTL
/// still saves what the agent typed on its own call (see `late_outcome`).
pub(crate) async fn end_call<B: Backend>(b: &B, req: &EndCall, now: DateTime<Utc>) -> Result<EndedCall> {
    let mut tx = b.begin().await?;
    let disposition = tx
        .disposition(&req.disposition)
        .await?
        .ok_or_else(|| StoreError::BadInput(format!("unknown disposition '{}'", req.disposition)))?;
    let Some(lock) = tx.lock_of_call(req.call_id).await? else {
        return late_outcome(b, tx, req, &disposition, now).await;
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
        return late_outcome(b, tx, req, &disposition, now).await;
    }
    let outcome = Outcome {
        req,
        disposition: &disposition,
        lead: &lead,
        owner: lock.agent_id,
        started_at: lock.started_at,
        attempts_before: lead.call_attempts,
        note: None,
    };
    let ended = record_outcome(&mut tx, &outcome, now).await?;
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
    Ok(ended)
}

/// What an outcome is recorded against.
struct Outcome<'a> {
    req: &'a EndCall,
    disposition: &'a Disposition,
    lead: &'a Lead,
    /// The agent whose call it is (a callback it schedules is theirs).
    owner: i64,
    started_at: DateTime<Utc>,
    /// Attempts on the lead before this call.
    attempts_before: i32,
    /// A line added below the agent's notes (why the outcome came late).
    note: Option<&'a str>,
}

/// Writes the outcome on the call log and the disposition's effects on the lead: attempts, next
/// call, status, do-not-call, the callbacks it answers and the one it schedules, the agent's own
/// claim used up. The caller holds the lead row's lock.
async fn record_outcome<T: Tx>(tx: &mut T, o: &Outcome<'_>, now: DateTime<Utc>) -> Result<EndedCall> {
    let policy = policy_in(tx).await?;
    let effects = outcome_effects(&OutcomeInput {
        disposition: o.disposition,
        current_status: o.lead.status,
        attempts_before: o.attempts_before,
        call_started_at: o.started_at,
        now,
        callback_at: o.req.callback_at,
        policy_max_attempts: policy.max_attempts,
    })
    .map_err(|e| StoreError::BadInput(e.to_string()))?;
    let entry = log_entry(o, now)?;
    let duration_s = entry.duration_s;
    close_log(tx, o, &entry).await?;
    let reason = format!("call outcome: {}", o.disposition.label);
    tx.apply_outcome(&OutcomeWrite {
        lead_id: o.lead.id,
        effects: &effects,
        reason: &reason,
        actor: o.req.agent_id,
        now,
    })
    .await?;
    if effects.add_to_dnc {
        tx.insert_dnc_if_absent(&o.lead.phone, &reason, o.req.agent_id, now)
            .await?;
    }
    let answered = callbacks_answered(&tx.open_callbacks(o.lead.id).await?, now);
    if !answered.is_empty() {
        tx.close_callbacks(&answered, now).await?;
    }
    let callback_id = match effects.schedule_callback {
        Some(due_at) => {
            let id = Uuid::now_v7();
            tx.insert_callback(id, o.lead.id, o.owner, due_at, o.req.notes.as_deref(), now)
                .await?;
            Some(id)
        }
        None => None,
    };
    // The agent's own claim on the lead is used up; supervisor assignments stay.
    tx.end_own_claim(o.lead.id).await?;
    Ok(EndedCall {
        call_id: o.req.call_id,
        lead_id: o.lead.id,
        disposition: o.disposition.code.clone(),
        duration_s,
        new_status: effects.new_status,
        next_call_at: effects.next_call_at,
        added_to_dnc: effects.add_to_dnc,
        callback_id,
    })
}

/// What the call log records for the call: from the softphone when it dialled (its times,
/// its status, talk time from the answer), else from the disposition and the save time.
struct LogEntry {
    status: CallStatus,
    duration_s: i32,
    notes: Option<String>,
    ringing_at: Option<DateTime<Utc>>,
    answered_at: Option<DateTime<Utc>>,
    ended_at: DateTime<Utc>,
}

fn log_entry(o: &Outcome<'_>, now: DateTime<Utc>) -> Result<LogEntry> {
    let bad = |e: String| StoreError::BadInput(e);
    let Some(progress) = &o.req.progress else {
        return Ok(LogEntry {
            status: call_status_for(o.disposition),
            duration_s: call_duration(o.req.duration_s.map(i64::from), o.started_at, now)
                .map_err(|e| bad(e.to_string()))?,
            notes: join_notes(o.req.notes.as_deref(), o.note),
            ringing_at: None,
            // Manual dialling knows no answer time: a contact counts from the start.
            answered_at: o.disposition.is_contact.then_some(o.started_at),
            ended_at: now,
        });
    };
    let times = sip_times(progress, o.started_at, now).map_err(bad)?;
    let reason = crate::display::printable(progress.reason.trim())
        .chars()
        .take(200)
        .collect::<String>();
    let softphone_note = (!reason.is_empty()).then(|| format!("softphone: {reason}"));
    let added = join_notes(o.note, softphone_note.as_deref());
    Ok(LogEntry {
        status: progress.status,
        duration_s: times.talk_seconds,
        notes: join_notes(o.req.notes.as_deref(), added.as_deref()),
        ringing_at: times.ringing_at,
        answered_at: times.answered_at,
        ended_at: times.ended_at,
    })
}

async fn close_log<T: Tx>(tx: &mut T, o: &Outcome<'_>, entry: &LogEntry) -> Result<()> {
    tx.close_call(&CallClose {
        call_id: o.req.call_id,
        status: entry.status,
        disposition: &o.disposition.code,
        duration_s: entry.duration_s,
        notes: entry.notes.as_deref(),
        recording_url: o.req.recording_url.as_deref(),
        ended_at: entry.ended_at,
        ended_by: o.req.agent_id,
        ringing_at: entry.ringing_at,
        answered_at: entry.answered_at,
    })
    .await
}

fn join_notes(typed: Option<&str>, added: Option<&str>) -> Option<String> {
    match (typed.filter(|t| !t.trim().is_empty()), added) {
        (Some(t), Some(a)) => Some(format!("{t}\n{a}")),
        (Some(t), None) => Some(t.to_string()),
        (None, a) => a.map(str::to_string),
    }
}

/// The call has no lock any more. A retry of an end that already succeeded is answered from the
/// record. A call whose lock was reaped while its agent went on talking (a console cut off for
/// longer than the TTL) still gets the outcome and notes the agent typed: the call log is
/// completed, and the lead's effects apply unless a newer call exists on the lead, in which case
/// the newer call's effects stand and the conflict is noted on this call.
async fn late_outcome<B: Backend>(
    b: &B,
    mut tx: B::Tx,
    req: &EndCall,
    disposition: &Disposition,
    now: DateTime<Utc>,
) -> Result<EndedCall> {
    let Some(call) = tx.call(req.call_id).await? else {
        tx.rollback().await?;
        return Err(StoreError::not_found("call", req.call_id));
    };
    // A lock a supervisor released was ended on purpose: its owner stays fenced off.
    let released = call
        .notes
        .as_deref()
        .is_some_and(|n| n.contains(RELEASED_BY_SUPERVISOR));
    let reaped_before_an_outcome = call.disposition.is_none() && call.ended_at.is_some() && !released;
    if !reaped_before_an_outcome || call.agent_id != req.agent_id {
        tx.rollback().await?;
        return already_ended(b, req).await;
    }
    let lead = tx
        .lock_lead(call.lead_id, false)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", call.lead_id))?;
    // Re-read under the lead's lock: a retry of this same late end may have won the race.
    if tx.call(req.call_id).await?.is_some_and(|c| c.disposition.is_some()) {
        tx.rollback().await?;
        return already_ended(b, req).await;
    }
    let newer = tx.newer_call(call.lead_id, call.started_at, call.id).await?;
    let ended = match newer {
        None => {
            let outcome = Outcome {
                req,
                disposition,
                lead: &lead,
                owner: call.agent_id,
                started_at: call.started_at,
                // The reap already counted this call as an attempt.
                attempts_before: lead.call_attempts.saturating_sub(1).max(0),
                note: Some("outcome saved after the console was cut off and its lock expired"),
            };
            record_outcome(&mut tx, &outcome, now).await?
        }
        Some(newer_call) => {
            let note = format!(
                "outcome saved after the console was cut off and its lock expired; a newer call \
                 ({newer_call}) was made on this lead meanwhile, so its effects on the lead stand"
            );
            let outcome = Outcome {
                req,
                disposition,
                lead: &lead,
                owner: call.agent_id,
                started_at: call.started_at,
                attempts_before: lead.call_attempts,
                note: Some(&note),
            };
            let entry = log_entry(&outcome, now)?;
            let duration_s = entry.duration_s;
            close_log(&mut tx, &outcome, &entry).await?;
            EndedCall {
                call_id: call.id,
                lead_id: lead.id,
                disposition: disposition.code.clone(),
                duration_s,
                new_status: lead.status,
                next_call_at: lead.next_call_at,
                added_to_dnc: false,
                callback_id: None,
            }
        }
    };
    tx.audit(
        &AuditRecord::new(now, Some(req.agent_id), "late_outcome", "call", call.id)
            .new_value(serde_json::json!({ "disposition": disposition.code, "newer_call": newer })),
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
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
        Some(reason) => format!("{RELEASED_BY_SUPERVISOR}{reason}"),
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
