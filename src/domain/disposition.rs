//! Call outcomes (dispositions) and what each one does to the lead.
//!
//! Agents end every call by picking a disposition with one key; the flags on it decide the
//! lead's next status, when it is dialled again and whether it goes on the do-not-call list.

use super::types::LeadStatus;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// One outcome an agent can choose at the end of a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disposition {
    pub code: String,
    pub label: String,
    pub hotkey: Option<char>,
    /// A person was reached (as opposed to voicemail, no answer...).
    pub is_contact: bool,
    pub is_sale: bool,
    pub is_dnc: bool,
    pub is_callback: bool,
    /// The lead is done; it is not recycled.
    pub is_final: bool,
    pub next_status: Option<LeadStatus>,
    /// Dial again after this long, until the attempt limit.
    pub recycle_after: Option<Duration>,
    /// Overrides the team's attempt limit for recycling.
    pub max_attempts: Option<i32>,
}

/// Shortest allowed recycle delay, so a failing number is not redialled in a tight loop.
const MIN_RECYCLE_MINUTES: i64 = 2;
const CODE_MAX: usize = 32;

/// Flags of a seed disposition, so the seed table below stays one line per outcome.
#[derive(Clone, Copy)]
struct Flags {
    contact: bool,
    sale: bool,
    dnc: bool,
    callback: bool,
    final_: bool,
}

const NONE: Flags = Flags {
    contact: false,
    sale: false,
    dnc: false,
    callback: false,
    final_: false,
};
const CONTACT: Flags = Flags { contact: true, ..NONE };

fn seed(
    code: &str,
    label: &str,
    hotkey: char,
    flags: Flags,
    next_status: Option<LeadStatus>,
    recycle_after: Option<Duration>,
) -> Disposition {
    Disposition {
        code: code.into(),
        label: label.into(),
        hotkey: Some(hotkey),
        is_contact: flags.contact,
        is_sale: flags.sale,
        is_dnc: flags.dnc,
        is_callback: flags.callback,
        is_final: flags.final_,
        next_status,
        recycle_after,
        max_attempts: None,
    }
}

/// The set every new team starts with.
pub fn default_dispositions() -> Vec<Disposition> {
    use LeadStatus::{ClosedLost, Contacted, Proposal, Qualified};
    let sale = Flags { sale: true, ..CONTACT };
    let callback = Flags {
        callback: true,
        ..CONTACT
    };
    let lost = Flags { final_: true, ..NONE };
    let refused = Flags {
        final_: true,
        ..CONTACT
    };
    let dnc = Flags { dnc: true, ..refused };
    let mins = Duration::minutes;
    vec![
        seed("connected", "Connected", 'o', CONTACT, Some(Contacted), None),
        seed("interested", "Interested", 'i', CONTACT, Some(Qualified), None),
        seed("meeting_booked", "Meeting booked", 'm', sale, Some(Proposal), None),
        seed("callback", "Callback", 'k', callback, Some(Contacted), None),
        seed("no_answer", "No answer", 'n', NONE, None, Some(mins(30))),
        seed("busy", "Busy", 'b', NONE, None, Some(mins(10))),
        seed("voicemail", "Voicemail", 'v', NONE, None, Some(Duration::hours(4))),
        seed("wrong_number", "Wrong number", 'w', lost, Some(ClosedLost), None),
        seed("not_interested", "Not interested", 'x', refused, Some(ClosedLost), None),
        seed("do_not_call", "Do not call", 'd', dnc, Some(ClosedLost), None),
    ]
}

/// Everything needed to work out what a finished call does to its lead.
#[derive(Debug, Clone, Copy)]
pub struct OutcomeInput<'a> {
    pub disposition: &'a Disposition,
    pub current_status: LeadStatus,
    pub attempts_before: i32,
    pub call_started_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub callback_at: Option<DateTime<Utc>>,
    pub policy_max_attempts: i32,
}

/// Changes to apply to the lead (and the do-not-call list) after a call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeEffects {
    pub new_status: LeadStatus,
    pub attempts: i32,
    pub last_call_at: DateTime<Utc>,
    pub next_call_at: Option<DateTime<Utc>>,
    pub add_to_dnc: bool,
    pub set_do_not_call: bool,
    pub schedule_callback: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutcomeError {
    #[error("disposition '{0}' needs a callback time")]
    CallbackTimeRequired(String),
    #[error("callback time must be in the future")]
    CallbackInPast,
}

/// Works out the effects of ending a call with `input.disposition`.
pub fn outcome_effects(input: &OutcomeInput) -> Result<OutcomeEffects, OutcomeError> {
    let d = input.disposition;
    let attempts = input.attempts_before + 1;

    let new_status = match d.next_status {
        Some(status) => status,
        // Reaching a person for the first time moves a fresh lead along on its own.
        None if d.is_contact && input.current_status == LeadStatus::New => LeadStatus::Contacted,
        None => input.current_status,
    };

    let schedule_callback = if d.is_callback {
        let at = input
            .callback_at
            .ok_or_else(|| OutcomeError::CallbackTimeRequired(d.code.clone()))?;
        if at <= input.now {
            return Err(OutcomeError::CallbackInPast);
        }
        Some(at)
    } else {
        None
    };

    let next_call_at = if schedule_callback.is_some() {
        schedule_callback
    } else if d.is_dnc || d.is_final {
        None
    } else {
        let limit = d.max_attempts.unwrap_or(input.policy_max_attempts);
        d.recycle_after
            .filter(|_| attempts < limit)
            .map(|delay| input.now + delay)
    };

    Ok(OutcomeEffects {
        new_status,
        attempts,
        last_call_at: input.call_started_at,
        next_call_at,
        add_to_dnc: d.is_dnc,
        set_do_not_call: d.is_dnc,
        schedule_callback,
    })
}

/// Checks one disposition on its own.
pub fn validate_disposition(d: &Disposition) -> Result<(), String> {
    let code_ok = (1..=CODE_MAX).contains(&d.code.len())
        && d.code.starts_with(|c: char| c.is_ascii_lowercase())
        && !d.code.ends_with('_')
        && !d.code.contains("__")
        && d.code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !code_ok {
        return Err(format!(
            "code '{}' must be snake_case (a-z, 0-9, _), start with a letter and be 1 to {CODE_MAX} characters",
            d.code
        ));
    }
    if d.label.trim().is_empty() {
        return Err(format!("disposition '{}' needs a label", d.code));
    }
    if d.recycle_after
        .is_some_and(|r| r < Duration::minutes(MIN_RECYCLE_MINUTES))
    {
        return Err(format!(
            "disposition '{}' must recycle after at least {MIN_RECYCLE_MINUTES} minutes",
            d.code
        ));
    }
    // A do-not-call outcome that left the lead open would put it straight back in the queue.
    if d.is_dnc && !d.is_final {
        return Err(format!(
            "disposition '{}' is do-not-call, so it must also be final",
            d.code
        ));
    }
    Ok(())
}

/// Checks a whole set: each disposition, plus unique codes and hotkeys so one key press always
/// means one outcome.
pub fn validate_set(set: &[Disposition]) -> Result<(), String> {
    let mut codes = HashSet::new();
    let mut hotkeys = HashSet::new();
    for d in set {
        validate_disposition(d)?;
        if !codes.insert(d.code.as_str()) {
            return Err(format!("code '{}' is used more than once", d.code));
        }
        if let Some(key) = d.hotkey {
            if !hotkeys.insert(key) {
                return Err(format!("hotkey '{key}' is used more than once (again by '{}')", d.code));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn now() -> DateTime<Utc> {
        utc("2026-01-15T15:00:00Z")
    }

    fn started() -> DateTime<Utc> {
        utc("2026-01-15T14:55:00Z")
    }

    fn by_code(code: &str) -> Disposition {
        default_dispositions()
            .into_iter()
            .find(|d| d.code == code)
            .expect("default disposition")
    }

    fn input(d: &Disposition) -> OutcomeInput<'_> {
        OutcomeInput {
            disposition: d,
            current_status: LeadStatus::New,
            attempts_before: 0,
            call_started_at: started(),
            now: now(),
            callback_at: None,
            policy_max_attempts: 6,
        }
    }

    fn effects(code: &str) -> OutcomeEffects {
        outcome_effects(&input(&by_code(code))).unwrap()
    }

    #[test]
    fn default_set_is_valid() {
        let set = default_dispositions();
        assert_eq!(set.len(), 10);
        assert_eq!(validate_set(&set), Ok(()));
    }

    #[test]
    fn contact_outcomes_move_status() {
        for (code, status) in [
            ("connected", LeadStatus::Contacted),
            ("interested", LeadStatus::Qualified),
            ("meeting_booked", LeadStatus::Proposal),
        ] {
            let e = effects(code);
            assert_eq!(e.new_status, status, "{code}");
            assert_eq!(e.attempts, 1);
            assert_eq!(e.last_call_at, started());
            assert_eq!(e.next_call_at, None);
            assert!(!e.add_to_dnc && !e.set_do_not_call);
            assert_eq!(e.schedule_callback, None);
        }
        assert!(by_code("meeting_booked").is_sale);
    }

    #[test]
    fn callback_needs_a_future_time() {
        let d = by_code("callback");
        assert_eq!(
            outcome_effects(&input(&d)),
            Err(OutcomeError::CallbackTimeRequired("callback".into()))
        );
        assert_eq!(
            OutcomeError::CallbackTimeRequired("callback".into()).to_string(),
            "disposition 'callback' needs a callback time"
        );
        let past = OutcomeInput {
            callback_at: Some(now()),
            ..input(&d)
        };
        assert_eq!(outcome_effects(&past), Err(OutcomeError::CallbackInPast));
        let at = now() + Duration::days(1);
        let e = outcome_effects(&OutcomeInput {
            callback_at: Some(at),
            ..input(&d)
        })
        .unwrap();
        assert_eq!(e.new_status, LeadStatus::Contacted);
        assert_eq!(e.next_call_at, Some(at));
        assert_eq!(e.schedule_callback, Some(at));
    }

    #[test]
    fn unanswered_outcomes_recycle() {
        for (code, delay) in [
            ("no_answer", Duration::minutes(30)),
            ("busy", Duration::minutes(10)),
            ("voicemail", Duration::hours(4)),
        ] {
            let e = effects(code);
            assert_eq!(e.new_status, LeadStatus::New, "{code}");
            assert_eq!(e.next_call_at, Some(now() + delay), "{code}");
            assert!(!e.add_to_dnc);
        }
    }

    #[test]
    fn closing_outcomes() {
        for code in ["wrong_number", "not_interested"] {
            let e = effects(code);
            assert_eq!(e.new_status, LeadStatus::ClosedLost, "{code}");
            assert_eq!(e.next_call_at, None);
            assert!(!e.add_to_dnc && !e.set_do_not_call);
        }
    }

    #[test]
    fn do_not_call_sets_flags() {
        let e = effects("do_not_call");
        assert_eq!(e.new_status, LeadStatus::ClosedLost);
        assert!(e.add_to_dnc && e.set_do_not_call);
        assert_eq!(e.next_call_at, None);
    }

    #[test]
    fn max_attempts_stop_recycling() {
        let d = by_code("no_answer");
        // Sixth attempt reaches the policy limit of 6.
        let last = OutcomeInput {
            attempts_before: 5,
            ..input(&d)
        };
        let e = outcome_effects(&last).unwrap();
        assert_eq!((e.attempts, e.next_call_at), (6, None));
        let fifth = OutcomeInput {
            attempts_before: 4,
            ..input(&d)
        };
        assert!(outcome_effects(&fifth).unwrap().next_call_at.is_some());
        // A disposition's own limit wins over the policy.
        let strict = Disposition {
            max_attempts: Some(2),
            ..d.clone()
        };
        let second = OutcomeInput {
            attempts_before: 1,
            ..input(&strict)
        };
        assert_eq!(outcome_effects(&second).unwrap().next_call_at, None);
    }

    #[test]
    fn status_without_next_status() {
        let neutral = Disposition {
            next_status: None,
            ..by_code("connected")
        };
        // A contact on a New lead makes it Contacted; otherwise the status stays.
        assert_eq!(
            outcome_effects(&input(&neutral)).unwrap().new_status,
            LeadStatus::Contacted
        );
        let later = OutcomeInput {
            current_status: LeadStatus::Negotiation,
            ..input(&neutral)
        };
        assert_eq!(outcome_effects(&later).unwrap().new_status, LeadStatus::Negotiation);
        let no_contact = by_code("busy");
        assert_eq!(
            outcome_effects(&input(&no_contact)).unwrap().new_status,
            LeadStatus::New
        );
    }

    #[test]
    fn validation_rules() {
        let ok = by_code("busy");
        assert_eq!(validate_disposition(&ok), Ok(()));
        for bad_code in ["", "Busy", "1busy", "busy_", "bu__sy", "busy-line", &"a".repeat(33)] {
            let d = Disposition {
                code: bad_code.into(),
                ..ok.clone()
            };
            assert!(validate_disposition(&d).is_err(), "{bad_code:?}");
        }
        let d = Disposition {
            code: "a".repeat(32),
            ..ok.clone()
        };
        assert_eq!(validate_disposition(&d), Ok(()));
        let d = Disposition {
            label: " ".into(),
            ..ok.clone()
        };
        assert!(validate_disposition(&d).is_err());
        let d = Disposition {
            recycle_after: Some(Duration::seconds(119)),
            ..ok.clone()
        };
        assert!(validate_disposition(&d).is_err());
        let d = Disposition {
            is_dnc: true,
            ..ok.clone()
        };
        assert!(validate_disposition(&d).unwrap_err().contains("final"));
    }

    #[test]
    fn set_needs_unique_hotkeys_and_codes() {
        let mut set = default_dispositions();
        set.push(Disposition {
            code: "no_answer_again".into(),
            ..by_code("no_answer")
        });
        assert!(validate_set(&set).unwrap_err().contains("hotkey 'n'"));
        let mut set = default_dispositions();
        set.push(Disposition {
            hotkey: None,
            ..by_code("busy")
        });
        assert!(validate_set(&set).unwrap_err().contains("code 'busy'"));
    }
}
