//! The can-call rule: whether an agent may dial a lead right now, and if not, why.
//!
//! The caller gathers the facts (from storage and the clock); this module only decides, so the
//! rule is the same for the dialer, the queue and the command line, and is easy to test.

use super::hours::{CallingHours, JointWindow};
use super::types::LeadStatus;
use super::zones::lead_zones;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Team-wide limits on calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Shortest time between two calls to the same lead, so two agents do not call back to back.
    pub min_gap: Duration,
    pub calling_hours: CallingHours,
    /// Used when the lead has no (usable) time zone.
    pub default_timezone: Tz,
    pub max_attempts: i32,
    /// A call lock whose heartbeat is older than this belongs to a crashed console and is stale.
    pub lock_ttl: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            min_gap: Duration::minutes(5),
            calling_hours: CallingHours::default(),
            default_timezone: chrono_tz::America::New_York,
            max_attempts: 6,
            lock_ttl: Duration::seconds(60),
        }
    }
}

/// What is known about the lead being dialled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadFacts {
    pub id: Uuid,
    pub deleted: bool,
    pub do_not_call: bool,
    pub status: LeadStatus,
    pub timezone: Option<String>,
    pub call_attempts: i32,
    pub phone: String,
}

/// A call on this lead that is (or was, if its heartbeat stopped) in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveCallFacts {
    pub agent_id: i64,
    pub agent_name: String,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
}

/// The most recent finished call on this lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastCallFacts {
    pub agent_id: i64,
    pub agent_name: String,
    pub started_at: DateTime<Utc>,
}

/// Who the lead is assigned to, if anyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentFacts {
    pub agent_id: i64,
    pub agent_name: String,
    /// `None` means the assignment does not expire.
    pub expires_at: Option<DateTime<Utc>>,
    /// The lead is reserved for an offline copy: worked there, and called from the floor by no
    /// one, its own agent included, until the reservation ends.
    #[serde(default)]
    pub offline: bool,
}

/// Everything the rule looks at for one attempt by `agent_id` at `now`.
#[derive(Debug, Clone, Copy)]
pub struct CallCheck<'a> {
    pub lead: Option<&'a LeadFacts>,
    pub number_on_dnc_list: bool,
    pub active_call: Option<&'a ActiveCallFacts>,
    pub last_call: Option<&'a LastCallFacts>,
    pub assignment: Option<&'a AssignmentFacts>,
    pub agent_id: i64,
    pub now: DateTime<Utc>,
    pub policy: &'a Policy,
    /// In an offline copy: when its reservation on the floor ends. From then on the leads are
    /// the floor's again, so the copy calls no one until it is synced.
    pub offline_copy_until: Option<DateTime<Utc>>,
}

/// Why a call is refused; the message is a sentence shown to the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    #[error("this lead does not exist")]
    LeadNotFound,
    #[error("this lead has been deleted")]
    LeadDeleted,
    /// The flag on the lead (`on_list: false`) or the number on the do-not-call list.
    #[error("{}", if *.on_list { "this number is on the do-not-call list" } else { "this lead is marked do not call" })]
    DoNotCall { on_list: bool },
    #[error("this lead is {} and is not called again", .status.label().to_lowercase())]
    FinalStatus { status: LeadStatus },
    #[error("this offline copy's reservation ended at {} UTC and its leads are the floor's again; \
             sync it (coldcall offline sync) to hand its work back", .until.format("%Y-%m-%d %H:%M"))]
    OfflineCopyExpired { until: DateTime<Utc> },
    #[error("{agent} is on a call with this lead since {} UTC", .since.format("%H:%M:%S"))]
    OnAnotherCall { agent: String, since: DateTime<Utc> },
    #[error("last call at {} UTC by {by}; next call allowed at {} UTC",
        .last_call_at.format("%H:%M:%S"), .allowed_at.format("%H:%M:%S"))]
    TooSoon {
        last_call_at: DateTime<Utc>,
        by: String,
        allowed_at: DateTime<Utc>,
    },
    #[error("outside calling hours in {timezone} (local {}); window opens at {} UTC",
        .local_time.format("%H:%M"), .opens_at.format("%Y-%m-%d %H:%M"))]
    OutsideCallingHours {
        timezone: String,
        local_time: NaiveDateTime,
        opens_at: DateTime<Utc>,
    },
    /// The lead's number allows zones whose windows never overlap: it can only be called once
    /// it is given its own zone.
    #[error(
        "this lead's number may be in any of {zones}, which are never all inside calling hours at once; \
             set the lead's time zone"
    )]
    NoCommonHours { zones: String },
    #[error("this lead has had {attempts} call attempts; the limit is {max}")]
    AttemptsExhausted { attempts: i32, max: i32 },
    #[error("this lead is checked out to {agent}'s offline copy until {} UTC", .until.format("%Y-%m-%d %H:%M"))]
    CheckedOut { agent: String, until: DateTime<Utc> },
    #[error("this lead is assigned to {agent}{}", until_suffix(.until))]
    AssignedToOther {
        agent: String,
        until: Option<DateTime<Utc>>,
    },
}

fn until_suffix(until: &Option<DateTime<Utc>>) -> String {
    until
        .map(|u| format!(" until {} UTC", u.format("%Y-%m-%d %H:%M")))
        .unwrap_or_default()
}

/// How long a lead refused for a reason that may clear at any moment stays out of the claim
/// queue before it is offered again.
pub const QUEUE_RECHECK_SECONDS: i64 = 60;

impl Refusal {
    /// Stable machine-readable name (the snake_case variant name, same as the serde tag).
    pub fn code(&self) -> &'static str {
        match self {
            Self::LeadNotFound => "lead_not_found",
            Self::LeadDeleted => "lead_deleted",
            Self::DoNotCall { .. } => "do_not_call",
            Self::FinalStatus { .. } => "final_status",
            Self::OnAnotherCall { .. } => "on_another_call",
            Self::TooSoon { .. } => "too_soon",
            Self::OutsideCallingHours { .. } | Self::NoCommonHours { .. } => "outside_calling_hours",
            Self::AttemptsExhausted { .. } => "attempts_exhausted",
            Self::AssignedToOther { .. } => "assigned_to_other",
            Self::CheckedOut { .. } => "checked_out",
            Self::OfflineCopyExpired { .. } => "offline_copy_expired",
        }
    }

    /// When a lead the claim queue offered but can-call refused should be offered again: the
    /// time the refusal names, a short recheck for one that names none and may clear at any
    /// moment (a lock, an assignment), or None for a lead that stays out of the queue until it
    /// changes (do-not-call, final, deleted, attempts used up).
    pub fn queue_retry_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let recheck = now + Duration::seconds(QUEUE_RECHECK_SECONDS);
        match self {
            Self::LeadNotFound
            | Self::LeadDeleted
            | Self::DoNotCall { .. }
            | Self::FinalStatus { .. }
            | Self::OfflineCopyExpired { .. }
            | Self::AttemptsExhausted { .. }
            | Self::NoCommonHours { .. } => None,
            Self::TooSoon { allowed_at, .. } => Some((*allowed_at).max(now)),
            Self::OutsideCallingHours { opens_at, .. } => Some((*opens_at).max(now)),
            Self::AssignedToOther { until: Some(until), .. } => Some((*until).clamp(now, recheck)),
            Self::CheckedOut { until, .. } => Some((*until).clamp(now, recheck)),
            Self::OnAnotherCall { .. } | Self::AssignedToOther { until: None, .. } => Some(recheck),
        }
    }

    /// The message as seen at `now`: like `Display`, but a too-soon refusal says how long ago
    /// the last call was ("last call 2 min ago by bob; ..."), which `Display` cannot know.
    pub fn message_at(&self, now: DateTime<Utc>) -> String {
        match self {
            Self::TooSoon {
                last_call_at,
                by,
                allowed_at,
            } => format!(
                "last call {} min ago by {by}; next call allowed at {} UTC",
                (now - *last_call_at).num_minutes().max(0),
                allowed_at.format("%H:%M:%S")
            ),
            other => other.to_string(),
        }
    }
}

/// Decides whether the call may go ahead. Checks run in the order of `Refusal`'s variants and
/// the first failing one is reported, so an agent always sees the most fundamental reason.
pub fn can_call(check: &CallCheck) -> Result<(), Refusal> {
    let now = check.now;
    let policy = check.policy;
    let lead = check.lead.ok_or(Refusal::LeadNotFound)?;
    if lead.deleted {
        return Err(Refusal::LeadDeleted);
    }
    if lead.do_not_call || check.number_on_dnc_list {
        return Err(Refusal::DoNotCall {
            on_list: check.number_on_dnc_list,
        });
    }
    if lead.status.is_final() {
        return Err(Refusal::FinalStatus { status: lead.status });
    }
    if let Some(until) = check.offline_copy_until.filter(|until| *until <= now) {
        return Err(Refusal::OfflineCopyExpired { until });
    }
    // A stale lock is left to the caller to reap; it must not block the lead forever.
    if let Some(call) = check.active_call.filter(|c| now - c.heartbeat_at <= policy.lock_ttl) {
        return Err(Refusal::OnAnotherCall {
            agent: call.agent_name.clone(),
            since: call.started_at,
        });
    }
    if let Some(last) = check.last_call {
        let allowed_at = last.started_at + policy.min_gap;
        if now < allowed_at {
            return Err(Refusal::TooSoon {
                last_call_at: last.started_at,
                by: last.agent_name.clone(),
                allowed_at,
            });
        }
    }
    let zones = lead_zones(lead.timezone.as_deref(), &lead.phone, policy.default_timezone);
    if let JointWindow::Closed {
        zone,
        local_now,
        opens_at,
    } = policy.calling_hours.check_all(now, &zones.zones)
    {
        return Err(match opens_at {
            Some(opens_at) => Refusal::OutsideCallingHours {
                timezone: zone.name().to_string(),
                local_time: local_now,
                opens_at,
            },
            None => Refusal::NoCommonHours { zones: zones.names() },
        });
    }
    if lead.call_attempts >= policy.max_attempts {
        return Err(Refusal::AttemptsExhausted {
            attempts: lead.call_attempts,
            max: policy.max_attempts,
        });
    }
    if let Some(a) = check.assignment {
        let live = a.expires_at.is_none_or(|until| until > now);
        if let (true, true, Some(until)) = (a.offline, live, a.expires_at) {
            return Err(Refusal::CheckedOut {
                agent: a.agent_name.clone(),
                until,
            });
        }
        if a.agent_id != check.agent_id && live {
            return Err(Refusal::AssignedToOther {
                agent: a.agent_name.clone(),
                until: a.expires_at,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::hours::Window;
    use proptest::prelude::*;

    const ME: i64 = 1;
    const OTHER: i64 = 2;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// 10:00 in New York on a winter weekday: inside calling hours.
    fn noon_ish() -> DateTime<Utc> {
        utc("2026-01-15T15:00:00Z")
    }

    fn lead() -> LeadFacts {
        LeadFacts {
            id: Uuid::nil(),
            deleted: false,
            do_not_call: false,
            status: LeadStatus::Contacted,
            timezone: Some("America/New_York".into()),
            call_attempts: 0,
            phone: "+14155550123".into(),
        }
    }

    fn active(heartbeat_ago: i64) -> ActiveCallFacts {
        ActiveCallFacts {
            agent_id: OTHER,
            agent_name: "alice".into(),
            started_at: utc("2026-01-15T14:02:11Z"),
            heartbeat_at: noon_ish() - Duration::seconds(heartbeat_ago),
        }
    }

    fn last(minutes_ago: i64) -> LastCallFacts {
        LastCallFacts {
            agent_id: OTHER,
            agent_name: "bob".into(),
            started_at: noon_ish() - Duration::minutes(minutes_ago),
        }
    }

    fn assigned(agent_id: i64, expires_at: Option<DateTime<Utc>>) -> AssignmentFacts {
        AssignmentFacts {
            agent_id,
            agent_name: "carol".into(),
            expires_at,
            offline: false,
        }
    }

    fn check<'a>(lead: Option<&'a LeadFacts>, policy: &'a Policy) -> CallCheck<'a> {
        CallCheck {
            lead,
            number_on_dnc_list: false,
            active_call: None,
            last_call: None,
            assignment: None,
            agent_id: ME,
            now: noon_ish(),
            policy,
            offline_copy_until: None,
        }
    }

    fn code(c: &CallCheck) -> &'static str {
        can_call(c).err().map_or("ok", |r| r.code())
    }

    #[test]
    fn clean_lead_is_callable() {
        let (p, l) = (Policy::default(), lead());
        assert_eq!(can_call(&check(Some(&l), &p)), Ok(()));
    }

    #[test]
    fn lead_not_found() {
        let p = Policy::default();
        let r = can_call(&check(None, &p)).unwrap_err();
        assert_eq!(r, Refusal::LeadNotFound);
        assert_eq!(r.to_string(), "this lead does not exist");
    }

    #[test]
    fn lead_deleted() {
        let p = Policy::default();
        let l = LeadFacts {
            deleted: true,
            ..lead()
        };
        assert_eq!(can_call(&check(Some(&l), &p)), Err(Refusal::LeadDeleted));
    }

    #[test]
    fn do_not_call_flag_and_list() {
        let p = Policy::default();
        let flagged = LeadFacts {
            do_not_call: true,
            ..lead()
        };
        let r = can_call(&check(Some(&flagged), &p)).unwrap_err();
        assert_eq!(r, Refusal::DoNotCall { on_list: false });
        assert_eq!(r.to_string(), "this lead is marked do not call");
        let l = lead();
        let c = CallCheck {
            number_on_dnc_list: true,
            ..check(Some(&l), &p)
        };
        let r = can_call(&c).unwrap_err();
        assert_eq!(r, Refusal::DoNotCall { on_list: true });
        assert_eq!(r.to_string(), "this number is on the do-not-call list");
    }

    #[test]
    fn final_status() {
        let p = Policy::default();
        let l = LeadFacts {
            status: LeadStatus::ClosedWon,
            ..lead()
        };
        let r = can_call(&check(Some(&l), &p)).unwrap_err();
        assert_eq!(
            r,
            Refusal::FinalStatus {
                status: LeadStatus::ClosedWon
            }
        );
        assert_eq!(r.to_string(), "this lead is closed won and is not called again");
    }

    #[test]
    fn on_another_call_unless_stale() {
        let (p, l) = (Policy::default(), lead());
        let fresh = active(30);
        let c = CallCheck {
            active_call: Some(&fresh),
            ..check(Some(&l), &p)
        };
        let r = can_call(&c).unwrap_err();
        assert_eq!(r.code(), "on_another_call");
        assert_eq!(r.to_string(), "alice is on a call with this lead since 14:02:11 UTC");
        let stale = active(61);
        let c = CallCheck {
            active_call: Some(&stale),
            ..check(Some(&l), &p)
        };
        assert_eq!(can_call(&c), Ok(()));
    }

    #[test]
    fn too_soon() {
        let (p, l) = (Policy::default(), lead());
        let recent = last(2);
        let c = CallCheck {
            last_call: Some(&recent),
            ..check(Some(&l), &p)
        };
        let r = can_call(&c).unwrap_err();
        assert_eq!(
            r,
            Refusal::TooSoon {
                last_call_at: utc("2026-01-15T14:58:00Z"),
                by: "bob".into(),
                allowed_at: utc("2026-01-15T15:03:00Z"),
            }
        );
        assert_eq!(
            r.message_at(noon_ish()),
            "last call 2 min ago by bob; next call allowed at 15:03:00 UTC"
        );
        assert_eq!(
            r.to_string(),
            "last call at 14:58:00 UTC by bob; next call allowed at 15:03:00 UTC"
        );
        // Exactly at the end of the gap the call is allowed.
        let old = last(5);
        let c = CallCheck {
            last_call: Some(&old),
            ..check(Some(&l), &p)
        };
        assert_eq!(can_call(&c), Ok(()));
    }

    #[test]
    fn outside_calling_hours() {
        let (p, l) = (Policy::default(), lead());
        let c = CallCheck {
            now: utc("2026-11-24T11:12:00Z"),
            ..check(Some(&l), &p)
        };
        let r = can_call(&c).unwrap_err();
        assert_eq!(r.code(), "outside_calling_hours");
        assert_eq!(
            r.to_string(),
            "outside calling hours in America/New_York (local 06:12); window opens at 2026-11-24 13:00 UTC"
        );
    }

    #[test]
    fn timezone_falls_back_to_policy_default_only_without_a_clue_in_the_number() {
        let p = Policy {
            default_timezone: chrono_tz::Asia::Tokyo,
            ..Policy::default()
        };
        // 00:00 in Tokyo, 10:00 in New York, 07:00 in San Francisco, 16:00 in Madrid.
        for tz in [None, Some("Not/AZone".to_string())] {
            // +800 (international freephone) gives no zone: the default decides.
            let l = LeadFacts {
                timezone: tz.clone(),
                phone: "+80012345678".into(),
                ..lead()
            };
            let r = can_call(&check(Some(&l), &p)).unwrap_err();
            assert!(r.to_string().contains("Asia/Tokyo"), "{r}");
            // A San Francisco number is judged in San Francisco, not by the default.
            let l = LeadFacts {
                timezone: tz.clone(),
                ..lead()
            };
            let r = can_call(&check(Some(&l), &p)).unwrap_err();
            assert!(r.to_string().contains("America/Los_Angeles (local 07:00)"), "{r}");
            let l = LeadFacts {
                timezone: tz,
                phone: "+34912345678".into(),
                ..lead()
            };
            assert_eq!(can_call(&check(Some(&l), &p)), Ok(()), "16:00 in Madrid");
        }
    }

    #[test]
    fn a_number_in_several_zones_waits_for_the_last_to_open() {
        let p = Policy::default();
        // +34 2… may be on the Canaries or in Madrid. 07:30 UTC: 08:30 in Madrid, 07:30 on the
        // Canaries.
        let l = LeadFacts {
            timezone: None,
            phone: "+34212345678".into(),
            ..lead()
        };
        let c = CallCheck {
            now: utc("2026-01-15T07:30:00Z"),
            ..check(Some(&l), &p)
        };
        match can_call(&c) {
            Err(Refusal::OutsideCallingHours { timezone, opens_at, .. }) => {
                assert_eq!(timezone, "Atlantic/Canary");
                assert_eq!(opens_at, utc("2026-01-15T08:00:00Z"));
            }
            other => panic!("{other:?}"),
        }
        // A number known only as Russian or Kazakh spans ten hours, from Europe/Bucharest to
        // Kamchatka: a 09:00-17:00 window is never open in all of them at once. Refused, with
        // what to do about it.
        let p = Policy {
            calling_hours: CallingHours::parse("09:00-17:00").unwrap(),
            ..Policy::default()
        };
        let l = LeadFacts {
            phone: "+70012345678".into(),
            ..l
        };
        let r = can_call(&check(Some(&l), &p)).unwrap_err();
        assert!(matches!(r, Refusal::NoCommonHours { .. }), "{r:?}");
        assert_eq!(r.code(), "outside_calling_hours");
        assert!(r.to_string().ends_with("set the lead's time zone"), "{r}");
    }

    #[test]
    fn attempts_exhausted() {
        let p = Policy::default();
        let l = LeadFacts {
            call_attempts: 6,
            ..lead()
        };
        let r = can_call(&check(Some(&l), &p)).unwrap_err();
        assert_eq!(r, Refusal::AttemptsExhausted { attempts: 6, max: 6 });
        let l = LeadFacts {
            call_attempts: 5,
            ..lead()
        };
        assert_eq!(can_call(&check(Some(&l), &p)), Ok(()));
    }

    #[test]
    fn assignment_rules() {
        let (p, l) = (Policy::default(), lead());
        let until = noon_ish() + Duration::hours(1);
        let theirs = assigned(OTHER, Some(until));
        let c = CallCheck {
            assignment: Some(&theirs),
            ..check(Some(&l), &p)
        };
        let r = can_call(&c).unwrap_err();
        assert_eq!(
            r.to_string(),
            "this lead is assigned to carol until 2026-01-15 16:00 UTC"
        );
        let forever = assigned(OTHER, None);
        let c = CallCheck {
            assignment: Some(&forever),
            ..check(Some(&l), &p)
        };
        assert_eq!(can_call(&c).unwrap_err().to_string(), "this lead is assigned to carol");

        let expired = assigned(OTHER, Some(noon_ish()));
        let mine = assigned(ME, None);
        for a in [&expired, &mine] {
            let c = CallCheck {
                assignment: Some(a),
                ..check(Some(&l), &p)
            };
            assert_eq!(can_call(&c), Ok(()));
        }
    }

    #[test]
    fn a_lead_checked_out_offline_is_called_from_the_floor_by_no_one() {
        let (p, l) = (Policy::default(), lead());
        let until = noon_ish() + Duration::hours(8);
        for owner in [ME, OTHER] {
            let reserved = AssignmentFacts {
                offline: true,
                ..assigned(owner, Some(until))
            };
            let c = CallCheck {
                assignment: Some(&reserved),
                ..check(Some(&l), &p)
            };
            assert_eq!(
                can_call(&c).unwrap_err().to_string(),
                "this lead is checked out to carol's offline copy until 2026-01-15 23:00 UTC",
                "owner {owner}"
            );
        }
        let ended = AssignmentFacts {
            offline: true,
            ..assigned(ME, Some(noon_ish()))
        };
        let c = CallCheck {
            assignment: Some(&ended),
            ..check(Some(&l), &p)
        };
        assert_eq!(can_call(&c), Ok(()), "the reservation has ended");
    }

    #[test]
    fn an_offline_copy_calls_no_one_once_its_reservation_has_ended() {
        let (p, l) = (Policy::default(), lead());
        let running = CallCheck {
            offline_copy_until: Some(noon_ish() + Duration::minutes(1)),
            ..check(Some(&l), &p)
        };
        assert_eq!(can_call(&running), Ok(()));
        let ended = CallCheck {
            offline_copy_until: Some(noon_ish()),
            ..check(Some(&l), &p)
        };
        let refusal = can_call(&ended).unwrap_err();
        assert_eq!(refusal.code(), "offline_copy_expired");
        assert!(refusal.to_string().contains("sync it"), "{refusal}");
        assert_eq!(
            refusal.queue_retry_at(noon_ish()),
            None,
            "it stays out of the copy's queue"
        );
    }

    #[test]
    fn order_first_failure_wins() {
        let p = Policy::default();
        let l = LeadFacts {
            do_not_call: true,
            status: LeadStatus::ClosedLost,
            call_attempts: 99,
            ..lead()
        };
        let (call, recent, theirs) = (active(0), last(1), assigned(OTHER, None));
        let everything = CallCheck {
            active_call: Some(&call),
            last_call: Some(&recent),
            assignment: Some(&theirs),
            now: utc("2026-01-15T05:00:00Z"),
            ..check(Some(&l), &p)
        };
        assert_eq!(code(&everything), "do_not_call");
        let deleted = LeadFacts {
            deleted: true,
            ..l.clone()
        };
        assert_eq!(
            code(&CallCheck {
                lead: Some(&deleted),
                ..everything
            }),
            "lead_deleted"
        );
        let l2 = LeadFacts {
            do_not_call: false,
            ..l.clone()
        };
        assert_eq!(
            code(&CallCheck {
                lead: Some(&l2),
                ..everything
            }),
            "final_status"
        );
        let l3 = LeadFacts {
            status: LeadStatus::New,
            ..l2.clone()
        };
        let c = CallCheck {
            lead: Some(&l3),
            ..everything
        };
        assert_eq!(code(&c), "on_another_call");
        assert_eq!(code(&CallCheck { active_call: None, ..c }), "too_soon");
        let c = CallCheck {
            active_call: None,
            last_call: None,
            ..c
        };
        assert_eq!(code(&c), "outside_calling_hours");
        let c = CallCheck { now: noon_ish(), ..c };
        assert_eq!(code(&c), "attempts_exhausted");
        let l4 = LeadFacts {
            call_attempts: 0,
            ..l3.clone()
        };
        assert_eq!(code(&CallCheck { lead: Some(&l4), ..c }), "assigned_to_other");
    }

    /// Random facts around a fixed lead, with each condition independently on or off.
    #[derive(Debug, Clone)]
    struct Scenario {
        lead: Option<LeadFacts>,
        on_list: bool,
        active: Option<ActiveCallFacts>,
        last: Option<LastCallFacts>,
        assignment: Option<AssignmentFacts>,
        now: DateTime<Utc>,
    }

    fn scenario() -> impl Strategy<Value = Scenario> {
        let lead = proptest::option::weighted(
            0.9,
            (
                any::<bool>(),
                prop::bool::weighted(0.2),
                prop::sample::select(LeadStatus::ALL.to_vec()),
                prop::sample::select(vec![
                    None,
                    Some("America/New_York".to_string()),
                    Some("asia/kolkata".to_string()),
                    Some("Australia/Sydney".to_string()),
                    Some("garbage".to_string()),
                ]),
                0i32..9,
            )
                .prop_map(|(deleted, dnc, status, timezone, call_attempts)| LeadFacts {
                    id: Uuid::nil(),
                    deleted: deleted && call_attempts % 3 == 0,
                    do_not_call: dnc,
                    status,
                    timezone,
                    call_attempts,
                    phone: String::new(),
                })
                .prop_flat_map(|l| {
                    // Numbers in one zone, in several (Spain, an Idaho area code split by a zone
                    // line, a non-geographic North American number), and in none.
                    prop::sample::select(vec![
                        "+14155550123",
                        "+34912345678",
                        "+34212345678",
                        "+12085001234",
                        "+15005550123",
                        "+80012345678",
                        "+61212345678",
                    ])
                    .prop_map(move |phone| LeadFacts {
                        phone: phone.into(),
                        ..l.clone()
                    })
                }),
        );
        let now = (0i64..14 * 86_400).prop_map(|s| utc("2026-03-01T00:00:00Z") + Duration::seconds(s));
        (
            lead,
            prop::bool::weighted(0.1),
            now,
            proptest::option::of((1i64..3, 0i64..120)),
            proptest::option::of((1i64..3, 0i64..10 * 60)),
            proptest::option::of((1i64..3, proptest::option::of(-3_600i64..3_600))),
        )
            .prop_map(|(lead, on_list, now, active, last, assignment)| Scenario {
                lead,
                on_list,
                active: active.map(|(agent_id, age)| ActiveCallFacts {
                    agent_id,
                    agent_name: format!("agent{agent_id}"),
                    started_at: now - Duration::seconds(age + 30),
                    heartbeat_at: now - Duration::seconds(age),
                }),
                last: last.map(|(agent_id, age)| LastCallFacts {
                    agent_id,
                    agent_name: format!("agent{agent_id}"),
                    started_at: now - Duration::seconds(age),
                }),
                assignment: assignment.map(|(agent_id, offset)| AssignmentFacts {
                    agent_id,
                    agent_name: format!("agent{agent_id}"),
                    expires_at: offset.map(|o| now + Duration::seconds(o)),
                    offline: false,
                }),
                now,
            })
    }

    proptest! {
        #[test]
        fn ok_iff_no_condition_fails(s in scenario()) {
            let p = Policy::default();
            let c = CallCheck {
                lead: s.lead.as_ref(),
                number_on_dnc_list: s.on_list,
                active_call: s.active.as_ref(),
                last_call: s.last.as_ref(),
                assignment: s.assignment.as_ref(),
                agent_id: ME,
                now: s.now,
                policy: &p,
                offline_copy_until: None,
            };
            // Each condition restated on its own, in refusal order.
            let conditions: Vec<(&str, bool)> = match &s.lead {
                None => vec![("lead_not_found", true)],
                Some(l) => {
                    let zones = crate::domain::zones::lead_zones(l.timezone.as_deref(), &l.phone, p.default_timezone);
                    let closed_somewhere = zones.zones.iter().any(|tz| p.calling_hours.check(s.now, *tz) != Window::Open);
                    vec![
                        ("lead_deleted", l.deleted),
                        ("do_not_call", l.do_not_call || s.on_list),
                        ("final_status", l.status.is_final()),
                        ("on_another_call", s.active.as_ref().is_some_and(|a| s.now - a.heartbeat_at <= p.lock_ttl)),
                        ("too_soon", s.last.as_ref().is_some_and(|c| s.now < c.started_at + p.min_gap)),
                        ("outside_calling_hours", closed_somewhere),
                        ("attempts_exhausted", l.call_attempts >= p.max_attempts),
                        ("assigned_to_other", s.assignment.as_ref().is_some_and(|a| {
                            a.agent_id != ME && a.expires_at.is_none_or(|e| e > s.now)
                        })),
                    ]
                }
            };
            let first_failure = conditions.iter().find(|(_, failed)| *failed).map(|(code, _)| *code);
            prop_assert_eq!(can_call(&c).err().map(|r| r.code()), first_failure);
        }

        /// A lead is never offered for a call when it is outside the window in any zone its
        /// number allows (and, with a zone of its own, in that zone).
        #[test]
        fn never_callable_outside_the_window_of_any_zone_its_number_allows(
            digits in prop::sample::select(vec!["1208", "1415", "1500", "1907", "34", "342", "3492", "44", "52", "61", "7", "55", "800", "86"]),
            rest in "[0-9]{8}",
            given in proptest::option::weighted(0.2, prop::sample::select(vec!["Asia/Kolkata", "America/Chicago", "nonsense"])),
            now in (0i64..366 * 86_400).prop_map(|s| utc("2026-01-01T00:00:00Z") + Duration::seconds(s)),
        ) {
            let p = Policy::default();
            let l = LeadFacts {
                timezone: given.map(str::to_string),
                phone: format!("+{digits}{rest}"),
                ..lead()
            };
            let c = CallCheck { now, ..check(Some(&l), &p) };
            if can_call(&c).is_ok() {
                let allowed: Vec<Tz> = match given.and_then(crate::domain::parse_tz) {
                    Some(tz) => vec![tz],
                    None => match crate::domain::phone_zones::zones_for_number(&l.phone) {
                        [] => vec![p.default_timezone],
                        zones => zones.to_vec(),
                    },
                };
                for tz in allowed {
                    let local = now.with_timezone(&tz).time();
                    prop_assert!(
                        p.calling_hours.start <= local && local < p.calling_hours.end,
                        "{} called at {} local in {}", l.phone, local, tz
                    );
                }
            }
        }
    }
}
