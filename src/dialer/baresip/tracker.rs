//! Follows one outgoing call through baresip's events and says what progress each one makes.
//!
//! No I/O and no clock: the connection task feeds it events with the time they arrived, which
//! keeps the rules (which call is ours, what counts as answered, who ended it) testable alone.

use chrono::{DateTime, Utc};

use super::message::Event;
use crate::dialer::progress::{sip_status, Ended, EndedBy, Progress};

#[derive(Debug)]
pub struct Tracker {
    dialled_at: DateTime<Utc>,
    /// baresip's id of our call, learned from its first event: `dial` does not return it.
    call_id: Option<String>,
    ringing_at: Option<DateTime<Utc>>,
    answered_at: Option<DateTime<Utc>>,
    /// Set once coldcall asked baresip to hang up: who wanted it, and the reason to record.
    hangup: Option<(EndedBy, String)>,
    ended: bool,
}

impl Tracker {
    pub fn new(dialled_at: DateTime<Utc>) -> Tracker {
        Tracker {
            dialled_at,
            call_id: None,
            ringing_at: None,
            answered_at: None,
            hangup: None,
            ended: false,
        }
    }

    pub fn is_answered(&self) -> bool {
        self.answered_at.is_some()
    }

    pub fn has_rung(&self) -> bool {
        self.ringing_at.is_some()
    }

    pub fn is_ended(&self) -> bool {
        self.ended
    }

    pub fn is_hanging_up(&self) -> bool {
        self.hangup.is_some()
    }

    /// Notes that coldcall asks for a hang-up; false when there is nothing to hang up (the
    /// call ended, or a hang-up is already under way), so the command is sent once.
    pub fn request_hangup(&mut self, by: EndedBy, reason: String) -> bool {
        if self.ended || self.hangup.is_some() {
            return false;
        }
        self.hangup = Some((by, reason));
        true
    }

    pub fn on_event(&mut self, event: &Event, at: DateTime<Utc>) -> Option<Progress> {
        if self.ended || !self.is_ours(event) {
            return None;
        }
        match event.kind.as_str() {
            // 180, or 183 with early media (a ring tone or an announcement): both are ringing
            // for the agent.
            "CALL_RINGING" | "CALL_PROGRESS" if self.ringing_at.is_none() && self.answered_at.is_none() => {
                self.ringing_at = Some(at);
                Some(Progress::Ringing { at })
            }
            "CALL_ESTABLISHED" if self.answered_at.is_none() => {
                self.answered_at = Some(at);
                Some(Progress::Answered { at })
            }
            "CALL_CLOSED" => {
                let param = event.param.clone().unwrap_or_default();
                let status = sip_status(&param);
                let (by, reason) = match self.hangup.take() {
                    Some((by, reason)) => (by, reason),
                    None if param.is_empty() => (EndedBy::Remote, "the call ended".to_string()),
                    None => (EndedBy::Remote, param),
                };
                Some(self.end(at, reason, status, by))
            }
            _ => None,
        }
    }

    /// The softphone is gone (its connection closed or failed): the call is over for us.
    pub fn lost(&mut self, at: DateTime<Utc>, reason: String) -> Option<Progress> {
        (!self.ended).then(|| self.end(at, reason, None, EndedBy::SoftphoneLost))
    }

    /// A hang-up that baresip never confirmed: the call is recorded as ended anyway, for the
    /// reason the hang-up was asked.
    pub fn hangup_unconfirmed(&mut self, at: DateTime<Utc>) -> Option<Progress> {
        let (by, reason) = self.hangup.take()?;
        (!self.ended).then(|| self.end(at, reason, None, by))
    }

    fn end(&mut self, at: DateTime<Utc>, reason: String, sip_status: Option<u16>, by: EndedBy) -> Progress {
        self.ended = true;
        Progress::Ended(Ended {
            at,
            reason,
            sip_status,
            by,
            dialled_at: self.dialled_at,
            ringing_at: self.ringing_at,
            answered_at: self.answered_at,
        })
    }

    /// Our call is the first outgoing call baresip reports after the dial; events about other
    /// calls (one coming in, one left from before) are not ours.
    fn is_ours(&mut self, event: &Event) -> bool {
        let Some(id) = &event.call_id else {
            return false;
        };
        match &self.call_id {
            Some(ours) => ours == id,
            None if event.outgoing == Some(true) => {
                self.call_id = Some(id.clone());
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialer::progress::CallOutcome;
    use chrono::Duration;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn event(kind: &str, id: &str, outgoing: bool, param: Option<&str>) -> Event {
        Event {
            kind: kind.into(),
            call_id: Some(id.into()),
            outgoing: Some(outgoing),
            peer_uri: Some("sip:+12125550100@127.0.0.1:5080".into()),
            param: param.map(String::from),
        }
    }

    fn ended(p: Option<Progress>) -> Ended {
        match p {
            Some(Progress::Ended(e)) => e,
            other => panic!("expected an end, got {other:?}"),
        }
    }

    #[test]
    fn an_answered_call_counts_talk_from_the_answer() {
        let mut call = Tracker::new(t(0));
        assert_eq!(
            call.on_event(&event("CALL_RINGING", "a", true, None), t(1)),
            Some(Progress::Ringing { at: t(1) })
        );
        assert_eq!(
            call.on_event(&event("CALL_PROGRESS", "a", true, None), t(2)),
            None,
            "ringing once"
        );
        assert_eq!(
            call.on_event(&event("CALL_ESTABLISHED", "a", true, None), t(9)),
            Some(Progress::Answered { at: t(9) })
        );
        assert_eq!(call.on_event(&event("CALL_RTPESTAB", "a", true, None), t(9)), None);
        let end = ended(call.on_event(
            &event("CALL_CLOSED", "a", true, Some("Connection reset by peer")),
            t(12),
        ));
        assert_eq!(
            (end.ringing_at, end.answered_at, end.by),
            (Some(t(1)), Some(t(9)), EndedBy::Remote)
        );
        assert_eq!(end.talk_seconds(), 3);
        assert_eq!(end.outcome(), CallOutcome::Completed);
        assert!(call.is_ended());
        assert_eq!(
            call.on_event(&event("CALL_CLOSED", "a", true, None), t(13)),
            None,
            "one end only"
        );
        assert_eq!(call.lost(t(14), "gone".into()), None);
    }

    #[test]
    fn other_calls_are_ignored() {
        let mut call = Tracker::new(t(0));
        assert_eq!(call.on_event(&event("CALL_INCOMING", "in", false, None), t(1)), None);
        assert_eq!(
            call.on_event(&event("CALL_CLOSED", "in", false, Some("486 Busy Here")), t(1)),
            None
        );
        assert_eq!(
            call.on_event(&event("CALL_RINGING", "ours", true, None), t(2)),
            Some(Progress::Ringing { at: t(2) })
        );
        assert_eq!(call.on_event(&event("CALL_CLOSED", "old", true, None), t(3)), None);
        let no_call = Event {
            call_id: None,
            ..event("REGISTER_OK", "", true, None)
        };
        assert_eq!(call.on_event(&no_call, t(3)), None);
    }

    #[test]
    fn a_sip_failure_is_the_reason() {
        let mut call = Tracker::new(t(0));
        let end = ended(call.on_event(&event("CALL_CLOSED", "a", true, Some("486 Rejected")), t(1)));
        assert_eq!(
            (end.sip_status, end.reason.as_str(), end.outcome()),
            (Some(486), "486 Rejected", CallOutcome::Busy)
        );
    }

    #[test]
    fn a_ring_timeout_ends_as_no_answer() {
        let mut call = Tracker::new(t(0));
        call.on_event(&event("CALL_RINGING", "a", true, None), t(1));
        assert!(call.request_hangup(EndedBy::RingTimeout, "no answer within 30 s".into()));
        assert!(!call.request_hangup(EndedBy::Agent, "again".into()), "sent once");
        let end = ended(call.on_event(
            &event("CALL_CLOSED", "a", true, Some("Connection reset by user")),
            t(30),
        ));
        assert_eq!(
            (end.by, end.reason.as_str(), end.outcome()),
            (EndedBy::RingTimeout, "no answer within 30 s", CallOutcome::NoAnswer)
        );
    }

    #[test]
    fn an_unconfirmed_hangup_still_ends_the_call() {
        let mut call = Tracker::new(t(0));
        assert_eq!(call.hangup_unconfirmed(t(1)), None, "nothing was asked");
        call.request_hangup(EndedBy::Agent, "hung up by the agent".into());
        let end = ended(call.hangup_unconfirmed(t(5)));
        assert_eq!((end.by, end.outcome()), (EndedBy::Agent, CallOutcome::NoAnswer));
    }

    #[test]
    fn a_lost_softphone_ends_the_call_once() {
        let mut call = Tracker::new(t(0));
        call.on_event(&event("CALL_ESTABLISHED", "a", true, None), t(2));
        let end = ended(call.lost(t(2) + Duration::seconds(4), "baresip stopped".into()));
        assert_eq!(
            (end.by, end.talk_seconds(), end.outcome()),
            (EndedBy::SoftphoneLost, 4, CallOutcome::Completed)
        );
        assert_eq!(call.lost(t(9), "again".into()), None);
    }
}
