//! What a softphone tells about one call, and the outcome that follows from how it ended.
//!
//! These are plain values: the console shows them in the call banner and the call log stores
//! them. Talk time starts at the answer, never at the dial, so ringing is not counted as talk.

use chrono::{DateTime, Utc};

use crate::domain::CallStatus;
use crate::store::CallProgress;

/// One step of a call, in the order they happen. Every call that was dialled ends with exactly
/// one `Ended`, also when the softphone dies or the connection to it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The dial command was accepted and the call is being set up.
    Dialling {
        at: DateTime<Utc>,
        uri: String,
    },
    /// The far end rings (180), or sends early media such as a ring tone (183).
    Ringing {
        at: DateTime<Utc>,
    },
    /// Someone (or something) answered: talk time starts here.
    Answered {
        at: DateTime<Utc>,
    },
    Ended(Ended),
}

/// How a call ended, with the times the call log needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub at: DateTime<Utc>,
    /// In words, as the softphone or SIP gave it ("486 Busy Here", "Connection reset by peer").
    pub reason: String,
    /// The SIP final response, when the call failed with one.
    pub sip_status: Option<u16>,
    pub by: EndedBy,
    pub dialled_at: DateTime<Utc>,
    pub ringing_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// Which side ended the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    /// The far end or the network (a SIP status, or a hang-up from the other side).
    Remote,
    /// The agent hung up.
    Agent,
    /// Nobody answered within the configured ring timeout, so coldcall hung up.
    RingTimeout,
    /// The softphone stopped or its control connection broke; the call is over for us.
    SoftphoneLost,
}

/// What the call log records as the result of the call, and what the outcome form preselects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// Answered; the agent picks the real disposition (connected, interested, ...).
    Completed,
    Busy,
    NoAnswer,
    /// The far end refused the call (603 Decline).
    Declined,
    /// The number or the route is wrong, or the call could not be set up.
    Failed,
}

impl CallOutcome {
    /// The value the call log stores.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Completed => "completed",
            CallOutcome::Busy => "busy",
            CallOutcome::NoAnswer => "no_answer",
            CallOutcome::Declined => "declined",
            CallOutcome::Failed => "failed",
        }
    }

    /// The seed disposition the outcome form should open with, so recording a busy line or
    /// an unanswered call is one key. An answered call has no obvious disposition.
    pub fn disposition(self) -> Option<&'static str> {
        match self {
            CallOutcome::Completed => None,
            CallOutcome::Busy => Some("busy"),
            // Nobody talked: a declined call is retried later, like one not answered.
            CallOutcome::NoAnswer | CallOutcome::Declined => Some("no_answer"),
            CallOutcome::Failed => Some("wrong_number"),
        }
    }
}

impl CallOutcome {
    /// The call log's status for this outcome.
    pub fn status(self) -> CallStatus {
        match self {
            CallOutcome::Completed => CallStatus::Completed,
            CallOutcome::Busy => CallStatus::Busy,
            CallOutcome::NoAnswer => CallStatus::NoAnswer,
            CallOutcome::Declined => CallStatus::Declined,
            CallOutcome::Failed => CallStatus::Failed,
        }
    }
}

impl Ended {
    /// What the call log records from this call's progress (with the outcome form's save).
    pub fn call_progress(&self) -> CallProgress {
        CallProgress {
            ringing_at: self.ringing_at,
            answered_at: self.answered_at,
            ended_at: self.at,
            status: self.outcome().status(),
            reason: self.reason.clone(),
        }
    }

    pub fn outcome(&self) -> CallOutcome {
        outcome(self.answered_at.is_some(), self.by, self.sip_status)
    }

    /// Seconds from the answer to the end, to the nearest second; zero for a call never
    /// answered.
    pub fn talk_seconds(&self) -> i64 {
        let Some(answered) = self.answered_at else {
            return 0;
        };
        ((self.at - answered).num_milliseconds().max(0) + 500) / 1000
    }
}

/// The outcome of a call from whether it was answered, who ended it and the SIP status.
pub fn outcome(answered: bool, by: EndedBy, sip_status: Option<u16>) -> CallOutcome {
    if answered {
        // Whatever ended it (a hang-up, a lost softphone), a conversation took place.
        return CallOutcome::Completed;
    }
    match (by, sip_status) {
        (EndedBy::RingTimeout, _) => CallOutcome::NoAnswer,
        (_, Some(486 | 600)) => CallOutcome::Busy,
        // 487: the INVITE was cancelled before an answer, which is what giving up on a ringing
        // line looks like.
        (_, Some(408 | 480 | 487)) => CallOutcome::NoAnswer,
        (_, Some(603)) => CallOutcome::Declined,
        (_, Some(_)) => CallOutcome::Failed,
        // The agent gave up before anyone answered.
        (EndedBy::Agent, None) => CallOutcome::NoAnswer,
        (EndedBy::Remote | EndedBy::SoftphoneLost, None) => CallOutcome::Failed,
    }
}

/// The SIP status at the start of a reason such as "486 Busy Here"; none for reasons in
/// words ("Connection reset by peer").
pub fn sip_status(reason: &str) -> Option<u16> {
    let digits = reason.get(..3)?;
    let rest = &reason[3..];
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    let status: u16 = digits.parse().ok()?;
    (300..=699).contains(&status).then_some(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn sip_statuses_are_read_from_reasons() {
        assert_eq!(sip_status("486 Busy Here"), Some(486));
        assert_eq!(sip_status("486 Rejected"), Some(486));
        assert_eq!(sip_status("603"), Some(603));
        assert_eq!(sip_status("Connection reset by peer"), None);
        assert_eq!(sip_status("4860 x"), None);
        assert_eq!(sip_status("200 OK"), None, "not a failure");
        assert_eq!(sip_status(""), None);
        assert_eq!(sip_status("é8"), None, "no panic on a multi-byte character");
    }

    #[test]
    fn end_reasons_map_to_outcomes() {
        use CallOutcome::*;
        use EndedBy::*;
        let cases = [
            (false, Remote, Some(486), Busy),
            (false, Remote, Some(600), Busy),
            (false, Remote, Some(408), NoAnswer),
            (false, Remote, Some(480), NoAnswer),
            (false, RingTimeout, None, NoAnswer),
            (false, Remote, Some(603), Declined),
            (false, Remote, Some(404), Failed),
            (false, Remote, Some(484), Failed),
            (false, Remote, Some(503), Failed),
            (false, Remote, None, Failed),
            (false, SoftphoneLost, None, Failed),
            (false, Agent, None, NoAnswer),
            (true, Agent, None, Completed),
            (true, Remote, None, Completed),
            (true, SoftphoneLost, None, Completed),
        ];
        for (answered, by, status, expected) in cases {
            assert_eq!(outcome(answered, by, status), expected, "{answered} {by:?} {status:?}");
        }
        assert_eq!(Busy.disposition(), Some("busy"));
        assert_eq!(NoAnswer.disposition(), Some("no_answer"));
        assert_eq!(Failed.disposition(), Some("wrong_number"));
        assert_eq!(Completed.disposition(), None);
    }

    #[test]
    fn talk_time_starts_at_the_answer() {
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut ended = Ended {
            at: t0 + Duration::milliseconds(15_600),
            reason: "Connection reset by user".into(),
            sip_status: None,
            by: EndedBy::Agent,
            dialled_at: t0,
            ringing_at: Some(t0 + Duration::seconds(1)),
            answered_at: Some(t0 + Duration::seconds(12)),
        };
        assert_eq!(ended.talk_seconds(), 4, "3.6 s of talk rounds to 4");
        assert_eq!(ended.outcome(), CallOutcome::Completed);
        ended.answered_at = None;
        assert_eq!(ended.talk_seconds(), 0);
        assert_eq!(ended.outcome(), CallOutcome::NoAnswer);
    }
}
