//! The queue: claim-next and its preview, which read the same statements so they can never
//! disagree, and assignments.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::backend::{AuditRecord, Backend, Tx};
use crate::store::common::{check_call, QueueParams};
use crate::store::model::{Assignment, Claim, ClaimSource, Lead, QueueWhy};
use crate::store::{Result, StoreError};

/// The agent's own due callbacks a claim looks at: a few, so that one another rule refuses
/// (checked under its lock) does not end the claim empty-handed.
const CLAIM_CANDIDATES: u32 = 8;

/// Leads the shared queue may offer one claim before it gives up: each refused one is held out
/// of the ready set (until the time its refusal names), so the next try sees another.
const QUEUE_TRIES: u32 = 8;

/// How long a queued lead whose row another transaction holds (an edit, a call starting) stays
/// out of the ready set before it is offered again.
const BUSY_HOLD_SECONDS: i64 = 5;

/// Waiting leads a claim feeds into the ready set, at most, before it takes one: enough that
/// the ready set keeps up with a floor, few enough that a claim never stalls on a feed.
const FEED_BATCH: u32 = 256;

/// Hands the agent the next lead: their own due callbacks first, then the shared queue. Each
/// candidate is locked (others' locked rows are skipped) and checked by can-call before the
/// claim is written, so two agents never receive the same lead. The shared queue is its ready
/// set (see `lead_queue`'s migration): the claim first feeds it what has come due, then takes
/// its head one lead at a time, so locks taken are locks used.
pub(crate) async fn claim_next<B: Backend>(b: &B, agent_id: i64, now: DateTime<Utc>) -> Result<Option<Claim>> {
    let mut tx = b.begin().await?;
    let floor = super::floor_in(&mut tx).await?;
    let params = QueueParams::new(&floor, now);
    for lead in tx.due_callback_leads(agent_id, now, CLAIM_CANDIDATES, true).await? {
        let facts = tx.call_facts(lead.id, false).await?;
        if check_call(facts.as_ref(), &floor.policy, agent_id, now).is_ok() {
            return take(tx, lead, ClaimSource::Callback, agent_id, now, &floor)
                .await
                .map(Some);
        }
    }
    tx.feed_queue(now, FEED_BATCH).await?;
    let mut refused = Vec::new();
    for _ in 0..QUEUE_TRIES {
        let Some(lead) = tx.queue_leads(agent_id, now, &params, 1, true, &refused).await?.pop() else {
            break;
        };
        refused.push(lead.id);
        // A lead someone is working on right now (its row locked) waits a moment in the queue.
        let Some(facts) = tx.call_facts_if_free(lead.id).await? else {
            tx.hold_queued(lead.id, Some(now + chrono::Duration::seconds(BUSY_HOLD_SECONDS)))
                .await?;
            continue;
        };
        match check_call(Some(&facts), &floor.policy, agent_id, now) {
            Ok(()) => {
                return take(tx, lead, ClaimSource::Queue, agent_id, now, &floor)
                    .await
                    .map(Some)
            }
            Err(refusal) => tx.hold_queued(lead.id, refusal.queue_retry_at(now)).await?,
        }
    }
    tx.commit().await?;
    Ok(None)
}

/// Writes the agent's claim on a lead can-call allowed, and commits.
async fn take<T: Tx>(
    mut tx: T,
    lead: Lead,
    source: ClaimSource,
    agent_id: i64,
    now: DateTime<Utc>,
    floor: &crate::store::settings::FloorSettings,
) -> Result<Claim> {
    let expires_at = now + floor.claim_ttl;
    tx.end_assignments(lead.id, Some(agent_id)).await?;
    tx.end_own_claims_elsewhere(agent_id, lead.id).await?;
    tx.insert_claim(lead.id, agent_id, now, expires_at).await?;
    tx.commit().await?;
    Ok(Claim {
        lead,
        source,
        expires_at,
    })
}

/// What claim-next would hand this agent, in order, without claiming: due callbacks of the agent
/// first, then the shared queue.
pub(crate) async fn queue_preview<B: Backend>(
    b: &B,
    agent_id: i64,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<Vec<Lead>> {
    let mut tx = b.begin_read().await?;
    let params = QueueParams::new(&super::floor_in(&mut tx).await?, now);
    let mut leads = tx.due_callback_leads(agent_id, now, limit, false).await?;
    let queue = tx.queue_leads(agent_id, now, &params, limit, false, &[]).await?;
    tx.rollback().await?;
    for lead in queue {
        if !leads.iter().any(|l| l.id == lead.id) {
            leads.push(lead);
        }
    }
    leads.truncate(limit as usize);
    Ok(leads)
}

/// Why the queue holds leads back from this agent: every live lead under the first rule that
/// keeps it out, and the queue's own rows by state.
pub(crate) async fn queue_why<B: Backend>(b: &B, agent_id: i64, now: DateTime<Utc>) -> Result<QueueWhy> {
    let mut tx = b.begin_read().await?;
    let params = QueueParams::new(&super::floor_in(&mut tx).await?, now);
    let held = tx.queue_why(agent_id, now, &params).await?;
    let states = tx.queue_states().await?;
    tx.rollback().await?;
    let count = |state: i64| states.iter().find(|(s, _)| *s == state).map_or(0, |(_, n)| *n);
    Ok(QueueWhy {
        callable: held.iter().find(|(r, _)| r == "callable").map_or(0, |(_, n)| *n),
        held: held.into_iter().filter(|(r, _)| r != "callable").collect(),
        waiting: count(0),
        ready: count(1),
        parked: count(2),
    })
}

/// Gives the lead to an agent, replacing any live assignment; audited.
pub(crate) async fn assign<B: Backend>(
    b: &B,
    id: Uuid,
    lead_id: Uuid,
    agent_id: i64,
    by: Option<i64>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Assignment> {
    let mut tx = b.begin().await?;
    tx.lock_lead(lead_id, true)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", lead_id))?;
    tx.end_assignments(lead_id, None).await?;
    tx.insert_assignment(id, lead_id, agent_id, by, expires_at, now).await?;
    tx.audit(
        &AuditRecord::new(now, by, "assign", "lead", lead_id).new_value(serde_json::json!({ "agent_id": agent_id })),
    )
    .await?;
    let assignment = tx.assignment(id).await?;
    tx.commit().await?;
    Ok(assignment)
}
