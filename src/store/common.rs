//! Pieces both backends use around their SQL: the facts can-call reads, row shapes that need
//! converting, and small decisions that must not differ between PostgreSQL and SQLite.

use chrono::{DateTime, Duration, Utc};
use sqlx::migrate::Migrator;
use uuid::Uuid;

use super::model::{CallLog, EndCall, EndedCall, Lead, MigrationInfo};
use super::{Result, StoreError};
use crate::domain::{
    can_call, ActiveCallFacts, AssignmentFacts, CallCheck, CallStatus, Disposition, LastCallFacts, LeadFacts,
    LeadStatus, Policy, Refusal,
};

/// What the database says about a lead at the moment a rule is checked, read in one statement.
#[derive(Debug, Clone)]
pub(crate) struct CallFacts {
    pub lead: LeadFacts,
    pub on_list: bool,
    pub active: Option<(Uuid, ActiveCallFacts)>,
    pub last: Option<LastCallFacts>,
    pub assignment: Option<AssignmentFacts>,
    /// The live assignment is a claim the agent took themselves (not a supervisor's).
    pub assignment_is_claim: bool,
    /// In an offline copy: when its reservation ends.
    pub offline_copy_until: Option<DateTime<Utc>>,
}

impl CallFacts {
    /// The facts after a stale lock on the lead was reaped in the same transaction: the lock is
    /// gone, the abandoned call counts as an attempt (it stays the lead's last call) and a claim
    /// an agent took on the lead went with it.
    pub fn after_reap(mut self) -> CallFacts {
        self.active = None;
        self.lead.call_attempts = self.lead.call_attempts.saturating_add(1);
        if self.assignment_is_claim {
            self.assignment = None;
            self.assignment_is_claim = false;
        }
        self
    }
}

/// Can-call over what was read; None is a lead that does not exist.
pub(crate) fn check_call(
    facts: Option<&CallFacts>,
    policy: &Policy,
    agent_id: i64,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    can_call(&CallCheck {
        lead: facts.map(|f| &f.lead),
        number_on_dnc_list: facts.is_some_and(|f| f.on_list),
        active_call: facts.and_then(|f| f.active.as_ref().map(|(_, a)| a)),
        last_call: facts.and_then(|f| f.last.as_ref()),
        assignment: facts.and_then(|f| f.assignment.as_ref()),
        agent_id,
        now,
        policy,
        offline_copy_until: facts.and_then(|f| f.offline_copy_until),
    })
}

/// The one row the facts statement of each backend reads: the lead's columns can-call needs,
/// whether its number is listed, its lock, its last call and its live assignment (at most one
/// of each, by the schema's keys), each with the agent's name.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CallFactsRow {
    id: Uuid,
    deleted: bool,
    do_not_call: bool,
    status: LeadStatus,
    timezone: Option<String>,
    call_attempts: i32,
    phone: String,
    on_list: bool,
    active_call_id: Option<Uuid>,
    active_agent_id: Option<i64>,
    active_agent_name: Option<String>,
    active_started_at: Option<DateTime<Utc>>,
    active_heartbeat_at: Option<DateTime<Utc>>,
    last_agent_id: Option<i64>,
    last_agent_name: Option<String>,
    last_started_at: Option<DateTime<Utc>>,
    assigned_agent_id: Option<i64>,
    assigned_agent_name: Option<String>,
    assignment_expires_at: Option<DateTime<Utc>>,
    assignment_is_claim: Option<bool>,
    assignment_offline: Option<bool>,
    offline_copy_until: Option<DateTime<Utc>>,
}

impl From<CallFactsRow> for CallFacts {
    fn from(r: CallFactsRow) -> Self {
        let active = match (
            r.active_call_id,
            r.active_agent_id,
            r.active_started_at,
            r.active_heartbeat_at,
        ) {
            (Some(call_id), Some(agent_id), Some(started_at), Some(heartbeat_at)) => Some((
                call_id,
                ActiveCallFacts {
                    agent_id,
                    agent_name: r.active_agent_name.unwrap_or_default(),
                    started_at,
                    heartbeat_at,
                },
            )),
            _ => None,
        };
        let last = match (r.last_agent_id, r.last_started_at) {
            (Some(agent_id), Some(started_at)) => Some(LastCallFacts {
                agent_id,
                agent_name: r.last_agent_name.unwrap_or_default(),
                started_at,
            }),
            _ => None,
        };
        let assignment = r.assigned_agent_id.map(|agent_id| AssignmentFacts {
            agent_id,
            agent_name: r.assigned_agent_name.unwrap_or_default(),
            expires_at: r.assignment_expires_at,
            offline: r.assignment_offline.unwrap_or(false),
        });
        CallFacts {
            lead: LeadFacts {
                id: r.id,
                deleted: r.deleted,
                do_not_call: r.do_not_call,
                status: r.status,
                timezone: r.timezone,
                call_attempts: r.call_attempts,
                phone: r.phone,
            },
            on_list: r.on_list,
            active,
            last,
            assignment,
            assignment_is_claim: r.assignment_is_claim.unwrap_or(false),
            offline_copy_until: r.offline_copy_until,
        }
    }
}

/// A `dispositions` row as stored (hotkey as text, recycle delay in seconds).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DispositionRow {
    code: String,
    label: String,
    hotkey: Option<String>,
    is_contact: bool,
    is_sale: bool,
    is_dnc: bool,
    is_callback: bool,
    is_final: bool,
    next_status: Option<LeadStatus>,
    recycle_after_s: Option<i32>,
    max_attempts: Option<i32>,
}

impl From<DispositionRow> for Disposition {
    fn from(r: DispositionRow) -> Self {
        Disposition {
            code: r.code,
            label: r.label,
            hotkey: r.hotkey.and_then(|h| h.chars().next()),
            is_contact: r.is_contact,
            is_sale: r.is_sale,
            is_dnc: r.is_dnc,
            is_callback: r.is_callback,
            is_final: r.is_final,
            next_status: r.next_status,
            recycle_after: r.recycle_after_s.map(|s| Duration::seconds(s.into())),
            max_attempts: r.max_attempts,
        }
    }
}

/// The values the claim queue's SQL binds after the agent and `now` ($3–$7), worked out once
/// from the shared settings so the claim and its preview can never disagree.
#[derive(Debug, Clone)]
pub(crate) struct QueueParams {
    pub gap_cutoff: DateTime<Utc>,
    pub max_attempts: i32,
    pub zones: Vec<String>,
    pub default_open: bool,
    pub grace_cutoff: DateTime<Utc>,
}

impl QueueParams {
    pub fn new(floor: &super::settings::FloorSettings, now: DateTime<Utc>) -> QueueParams {
        let policy = &floor.policy;
        let (zones, default_open) = crate::domain::zones::open_zones(policy, now);
        QueueParams {
            gap_cutoff: now - policy.min_gap,
            max_attempts: policy.max_attempts,
            zones,
            default_open,
            grace_cutoff: now - floor.callback_grace,
        }
    }
}

/// A lock is stale once its heartbeat is older than the TTL; can-call then ignores it and the
/// next writer reaps it. Same comparison as the rule, so both agree to the microsecond.
pub(crate) fn lock_is_stale(policy: &Policy, heartbeat_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - heartbeat_at > policy.lock_ttl
}

/// The call-log status an outcome implies.
pub(crate) fn call_status_for(d: &Disposition) -> CallStatus {
    match d.code.as_str() {
        "busy" => CallStatus::Busy,
        "voicemail" => CallStatus::Voicemail,
        "no_answer" | "wrong_number" => CallStatus::Failed,
        _ => CallStatus::Completed,
    }
}

/// A softphone's report as the call log stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SipTimes {
    pub ringing_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    /// From the answer to the end, to the nearest second: ringing is not talk.
    pub talk_seconds: i32,
}

/// Checks a softphone's report and keeps its times inside the call: the console's clock may
/// differ from the one that stamped the call's start, so every time is clamped between the
/// start and now, and ringing ≤ answered ≤ ended. The status must agree with the answer: only
/// an answered call is completed, and an answered call is always completed.
pub(crate) fn sip_times(
    p: &super::model::CallProgress,
    started_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> std::result::Result<SipTimes, String> {
    let ends = [
        CallStatus::Busy,
        CallStatus::NoAnswer,
        CallStatus::Declined,
        CallStatus::Failed,
        CallStatus::Completed,
    ];
    if !ends.contains(&p.status) {
        return Err(format!("'{}' is not how a call ends", p.status));
    }
    if (p.status == CallStatus::Completed) != p.answered_at.is_some() {
        return Err(match p.status {
            CallStatus::Completed => "a completed call needs the time it was answered".into(),
            other => format!("an answered call cannot end as '{other}'"),
        });
    }
    let now = now.max(started_at);
    let clamp = |t: DateTime<Utc>| t.clamp(started_at, now);
    let ended_at = clamp(p.ended_at);
    let answered_at = p.answered_at.map(|t| clamp(t).min(ended_at));
    let ringing_at = p.ringing_at.map(|t| clamp(t).min(answered_at.unwrap_or(ended_at)));
    let talk_ms = answered_at.map_or(0, |a| (ended_at - a).num_milliseconds());
    let talk_seconds = ((talk_ms + 500) / 1000).min(i64::from(crate::domain::call_end::MAX_CALL_SECONDS)) as i32;
    Ok(SipTimes {
        ringing_at,
        answered_at,
        ended_at,
        talk_seconds,
    })
}

/// The answer to an end-call retried after it already succeeded: the same outcome is answered
/// from the record; a different one, or a call that was reaped meanwhile, is an error.
pub(crate) fn replayed_end(req: &EndCall, call: &CallLog, lead: &Lead) -> Result<EndedCall> {
    if call.ended_at.is_none() {
        return Err(StoreError::Conflict(
            "the call has no lock; it cannot be ended here".into(),
        ));
    }
    match call.disposition.as_deref() {
        Some(code) if code == req.disposition && call.agent_id == req.agent_id => Ok(EndedCall {
            call_id: call.id,
            lead_id: call.lead_id,
            disposition: code.to_string(),
            duration_s: call.duration_s.unwrap_or(0),
            new_status: lead.status,
            next_call_at: lead.next_call_at,
            added_to_dnc: lead.do_not_call,
            callback_id: None,
        }),
        Some(code) => Err(StoreError::Conflict(format!(
            "the call was already ended with outcome '{code}'"
        ))),
        None => Err(StoreError::Conflict(format!(
            "the call was closed as {} at {} (its lock expired); record a new call instead",
            call.status,
            call.ended_at
                .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default()
        ))),
    }
}

pub(crate) fn migration_infos(migrator: &Migrator, applied: &[i64]) -> Vec<MigrationInfo> {
    migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| MigrationInfo {
            version: m.version,
            description: m.description.to_string(),
            applied: applied.contains(&m.version),
        })
        .collect()
}

/// The version to undo down to so that exactly the newest applied migration is reverted.
pub(crate) fn undo_target(status: &[MigrationInfo]) -> Option<(i64, MigrationInfo)> {
    let applied: Vec<&MigrationInfo> = status.iter().filter(|m| m.applied).collect();
    let newest = (*applied.last()?).clone();
    let target = applied.iter().rev().nth(1).map(|m| m.version).unwrap_or(0);
    Some((target, newest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model::CallProgress;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn softphone_times_stay_inside_the_call_and_talk_starts_at_the_answer() {
        let p = CallProgress {
            ringing_at: Some(at(2)),
            answered_at: Some(at(9)),
            ended_at: at(12),
            status: CallStatus::Completed,
            reason: "Connection reset by user".into(),
        };
        let t = sip_times(&p, at(0), at(20)).unwrap();
        assert_eq!(
            (t.ringing_at, t.answered_at, t.ended_at),
            (Some(at(2)), Some(at(9)), at(12))
        );
        assert_eq!(t.talk_seconds, 3);
        // A console clock a minute ahead of the database's: clamped, never after now.
        let ahead = CallProgress {
            ringing_at: Some(at(62)),
            answered_at: Some(at(69)),
            ended_at: at(72),
            ..p.clone()
        };
        let t = sip_times(&ahead, at(0), at(20)).unwrap();
        assert_eq!((t.answered_at, t.ended_at, t.talk_seconds), (Some(at(20)), at(20), 0));
        // Behind: nothing before the start.
        let t = sip_times(&p, at(30), at(40)).unwrap();
        assert_eq!((t.ringing_at, t.ended_at), (Some(at(30)), at(30)));
    }

    #[test]
    fn the_status_must_agree_with_the_answer() {
        let busy = CallProgress {
            ringing_at: None,
            answered_at: None,
            ended_at: at(3),
            status: CallStatus::Busy,
            reason: "486 Busy Here".into(),
        };
        assert_eq!(sip_times(&busy, at(0), at(5)).unwrap().talk_seconds, 0);
        let answered_busy = CallProgress {
            answered_at: Some(at(1)),
            ..busy.clone()
        };
        assert!(sip_times(&answered_busy, at(0), at(5)).is_err());
        let unanswered_completed = CallProgress {
            status: CallStatus::Completed,
            ..busy.clone()
        };
        assert!(sip_times(&unanswered_completed, at(0), at(5)).is_err());
        let ringing = CallProgress {
            status: CallStatus::Ringing,
            ..busy
        };
        assert!(sip_times(&ringing, at(0), at(5)).is_err());
    }
}
