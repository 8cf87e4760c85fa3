//! The queue: claim-next and its preview, which read the same statements so they can never
//! disagree, and assignments.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::backend::{AuditRecord, Backend, Tx};
use crate::store::common::{check_call, QueueParams};
use crate::store::model::{Assignment, Claim, ClaimSource, Lead};
use crate::store::{Result, StoreError};

/// Candidates a claim looks at per transaction: a few, so that a candidate another rule refuses
/// (checked under its lock) does not end the claim empty-handed.
const CLAIM_CANDIDATES: u32 = 8;

/// Hands the agent the next lead: their own due callbacks first, then the shared queue. Each
/// candidate is locked (others' locked rows are skipped) and checked by can-call before the
/// claim is written, so two agents never receive the same lead.
pub(crate) async fn claim_next<B: Backend>(b: &B, agent_id: i64, now: DateTime<Utc>) -> Result<Option<Claim>> {
    let mut tx = b.begin().await?;
    let floor = super::floor_in(&mut tx).await?;
    let params = QueueParams::new(&floor, now);
    let callbacks = tx.due_callback_leads(agent_id, now, CLAIM_CANDIDATES, true).await?;
    let queue = tx.queue_leads(agent_id, now, &params, CLAIM_CANDIDATES, true).await?;
    let candidates = callbacks
        .into_iter()
        .map(|lead| (lead, ClaimSource::Callback))
        .chain(queue.into_iter().map(|lead| (lead, ClaimSource::Queue)));
    for (lead, source) in candidates {
        let facts = tx.call_facts(lead.id, false).await?;
        if check_call(facts.as_ref(), &floor.policy, agent_id, now).is_err() {
            continue;
        }
        let expires_at = now + floor.claim_ttl;
        tx.end_assignments(lead.id, Some(agent_id)).await?;
        tx.end_own_claims_elsewhere(agent_id, lead.id).await?;
        tx.insert_claim(lead.id, agent_id, now, expires_at).await?;
        tx.commit().await?;
        return Ok(Some(Claim {
            lead,
            source,
            expires_at,
        }));
    }
    tx.rollback().await?;
    Ok(None)
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
    let queue = tx.queue_leads(agent_id, now, &params, limit, false).await?;
    tx.rollback().await?;
    for lead in queue {
        if !leads.iter().any(|l| l.id == lead.id) {
            leads.push(lead);
        }
    }
    leads.truncate(limit as usize);
    Ok(leads)
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
