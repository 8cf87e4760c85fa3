//! The agent's own work: their state (ready, on a call, wrap-up, paused), the call they are on,
//! and its outcome on the way to the database. A rejected outcome comes back to the form with
//! what was typed; the call's lock is kept alive by heartbeats until the outcome is saved.

use chrono::{DateTime, Local, Utc};
use uuid::Uuid;

use super::HEARTBEAT_EVERY;
use crate::dialer::{Ended, EndedBy, Progress};
use crate::domain::{Disposition, LeadStatus, PresenceState, Refusal};
use crate::store::{EndCall, EndedCall, StartCall, StartedCall};
use crate::tui::forms::{Outcome, OutcomeForm};
use crate::tui::request::Request;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentState {
    Ready,
    OnCall,
    WrapUp,
    Paused(String),
}

impl AgentState {
    /// The state as the floor records it.
    pub fn presence(&self) -> (PresenceState, Option<String>) {
        match self {
            AgentState::Ready => (PresenceState::Ready, None),
            AgentState::OnCall => (PresenceState::OnCall, None),
            AgentState::WrapUp => (PresenceState::WrapUp, None),
            AgentState::Paused(reason) => (PresenceState::Paused, (!reason.is_empty()).then(|| reason.clone())),
        }
    }

    pub fn label(&self) -> String {
        match self {
            AgentState::Ready => "READY".into(),
            AgentState::OnCall => "ON CALL".into(),
            AgentState::WrapUp => "WRAP-UP".into(),
            AgentState::Paused(reason) if reason.is_empty() => "PAUSED".into(),
            AgentState::Paused(reason) => format!("PAUSED: {reason}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CurrentCall {
    pub call_id: Uuid,
    pub lead_id: Uuid,
    pub lead_name: String,
    pub phone: String,
    pub started_at: DateTime<Utc>,
    /// Set when the agent pressed end: the talk time stops there.
    pub ended_at: Option<DateTime<Utc>>,
    /// The softphone's side of the call, when it was dialled through one; none when the agent
    /// dials by hand (also after the softphone failed to dial).
    pub line: Option<PhoneCall>,
}

/// A call as the softphone reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct PhoneCall {
    pub uri: Option<String>,
    pub ringing_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended: Option<Ended>,
    /// The agent asked to hang up; the outcome form opens when the softphone confirms.
    pub hanging_up: bool,
}

/// Where a softphone call is, for the banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Dialling,
    Ringing,
    Answered,
    Ended,
}

impl PhoneCall {
    fn dialling() -> PhoneCall {
        PhoneCall {
            uri: None,
            ringing_at: None,
            answered_at: None,
            ended: None,
            hanging_up: false,
        }
    }

    pub fn stage(&self) -> Stage {
        if self.ended.is_some() {
            Stage::Ended
        } else if self.answered_at.is_some() {
            Stage::Answered
        } else if self.ringing_at.is_some() {
            Stage::Ringing
        } else {
            Stage::Dialling
        }
    }

    /// The disposition the outcome form opens with: what the end says, except when the
    /// softphone was lost, which says nothing about the lead.
    pub fn disposition(&self) -> Option<&'static str> {
        let ended = self.ended.as_ref()?;
        if ended.by == EndedBy::SoftphoneLost {
            return None;
        }
        ended.outcome().disposition()
    }
}

/// What a step of softphone progress did to the call.
#[derive(Debug, Clone, PartialEq)]
pub enum Stepped {
    /// Not this console's call (a late event from one already recorded).
    NotOurs,
    Dialling(String),
    Ringing,
    Answered,
    /// The call is over; `waiting` says the agent had asked to hang up.
    Ended {
        ended: Ended,
        waiting: bool,
    },
}

/// Why a call cannot be started from here (said to the agent, nothing is asked of the store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotNow {
    AlreadyOnCall,
    Paused,
    NoLead,
}

#[derive(Debug, Clone)]
pub struct CallDesk {
    agent_id: i64,
    state: AgentState,
    call: Option<CurrentCall>,
    /// A status to apply after the outcome is saved (the agent chose a different one).
    status_after_outcome: Option<LeadStatus>,
    /// The outcome form being saved, so a rejected save brings it back with what was typed.
    outcome_draft: Option<Box<OutcomeForm>>,
    last_heartbeat: Option<DateTime<Utc>>,
    /// The state last sent to the floor, and when (a resend is the presence heartbeat).
    published: Option<(AgentState, DateTime<Utc>)>,
}

impl CallDesk {
    pub fn new(agent_id: i64) -> CallDesk {
        CallDesk {
            agent_id,
            state: AgentState::Ready,
            call: None,
            status_after_outcome: None,
            outcome_draft: None,
            last_heartbeat: None,
            published: None,
        }
    }

    pub fn state(&self) -> &AgentState {
        &self.state
    }

    pub fn call(&self) -> Option<&CurrentCall> {
        self.call.as_ref()
    }

    pub fn on_call(&self) -> bool {
        self.call.is_some()
    }

    pub fn paused(&self) -> bool {
        matches!(self.state, AgentState::Paused(_))
    }

    /// Seconds the call has lasted (stops when the agent pressed end). Through a softphone it
    /// is talk time: zero until the answer, stopped at the end.
    pub fn seconds(&self, now: DateTime<Utc>) -> Option<i64> {
        let call = self.call.as_ref()?;
        let Some(line) = &call.line else {
            return Some((call.ended_at.unwrap_or(now) - call.started_at).num_seconds().max(0));
        };
        let Some(answered) = line.answered_at else {
            return Some(0);
        };
        let until = line.ended.as_ref().map_or(call.ended_at.unwrap_or(now), |e| e.at);
        Some((until - answered).num_seconds().max(0))
    }

    // ------------------------------------------------------------------ state

    /// Ready and paused toggle; during a call there is no pausing.
    pub fn pause(&mut self, reason: String) {
        self.state = AgentState::Paused(reason);
    }

    pub fn ready(&mut self) {
        self.state = AgentState::Ready;
    }

    /// Claiming and calling are for ready agents only.
    pub fn can_take_work(&self) -> Result<(), NotNow> {
        if self.call.is_some() {
            return Err(NotNow::AlreadyOnCall);
        }
        if self.paused() {
            return Err(NotNow::Paused);
        }
        Ok(())
    }

    pub fn start(&self, lead_id: Option<Uuid>) -> Result<Request, NotNow> {
        self.can_take_work()?;
        let lead_id = lead_id.ok_or(NotNow::NoLead)?;
        Ok(Request::StartCall(StartCall {
            lead_id,
            agent_id: self.agent_id,
            from_number: None,
        }))
    }

    /// The call is on record and its lead locked; `softphone` says it is being dialled
    /// through one (the banner then follows its progress).
    pub fn on_started(&mut self, started: &StartedCall, lead_name: String, now: DateTime<Utc>, softphone: bool) {
        self.call = Some(CurrentCall {
            call_id: started.call_id,
            lead_id: started.lead_id,
            lead_name,
            phone: started.phone_number.clone(),
            started_at: started.started_at,
            ended_at: None,
            line: softphone.then(PhoneCall::dialling),
        });
        self.state = AgentState::OnCall;
        self.last_heartbeat = Some(now);
    }

    /// The agent pressed end on a call the softphone still holds: it is asked to hang up, and
    /// the outcome form opens when it confirms. Pressing end again while waiting opens the form
    /// at once (None here), so a softphone that never answers cannot hold the agent.
    pub fn hang_up(&mut self) -> Option<Request> {
        let call = self.call.as_mut()?;
        let line = call.line.as_mut()?;
        if line.ended.is_some() || line.hanging_up {
            return None;
        }
        line.hanging_up = true;
        Some(Request::Hangup { call_id: call.call_id })
    }

    /// The agent pressed end (or the softphone's call ended): the talk time stops and the
    /// outcome form opens (None: no call), with the disposition the softphone's end implies.
    pub fn end(&mut self, now: DateTime<Utc>, dispositions: &[Disposition]) -> Option<OutcomeForm> {
        let talk = match self.call.as_ref().is_some_and(|c| c.line.is_some()) {
            true => self.seconds(now),
            false => None,
        };
        let call = self.call.as_mut()?;
        let ended_at = *call.ended_at.get_or_insert(now);
        let duration = match talk {
            Some(talk) => talk as i32,
            None => (ended_at - call.started_at).num_seconds().max(0) as i32,
        };
        let preselect = call.line.as_ref().and_then(PhoneCall::disposition);
        self.state = AgentState::WrapUp;
        Some(OutcomeForm::new(call.call_id, call.lead_id, duration, dispositions.to_vec(), now).preselect(preselect))
    }

    /// A step of the softphone's progress on a call.
    pub fn on_progress(&mut self, call_id: Uuid, step: Progress) -> Stepped {
        let Some(line) = self
            .call
            .as_mut()
            .filter(|c| c.call_id == call_id)
            .and_then(|c| c.line.as_mut())
        else {
            return Stepped::NotOurs;
        };
        if line.ended.is_some() {
            return Stepped::NotOurs;
        }
        match step {
            Progress::Dialling { uri, .. } => {
                line.uri = Some(uri.clone());
                Stepped::Dialling(uri)
            }
            Progress::Ringing { at } => {
                line.ringing_at = Some(at);
                Stepped::Ringing
            }
            Progress::Answered { at } => {
                line.answered_at = Some(at);
                Stepped::Answered
            }
            Progress::Ended(ended) => {
                // The end carries every time, also those whose event was missed.
                line.ringing_at = ended.ringing_at.or(line.ringing_at);
                line.answered_at = ended.answered_at;
                line.ended = Some(ended.clone());
                Stepped::Ended {
                    ended,
                    waiting: line.hanging_up,
                }
            }
        }
    }

    /// The softphone could not place the call: the agent dials by hand from here (the call
    /// and its lock stay). Answers whether the agent was waiting for a hang-up.
    pub fn on_dial_failed(&mut self, call_id: Uuid) -> Option<bool> {
        let call = self.call.as_mut().filter(|c| c.call_id == call_id)?;
        let line = call.line.take()?;
        Some(line.hanging_up)
    }

    /// The softphone has no call any more but never said how it ended (it only happens if the
    /// end was lost): the call is treated as dialled by hand, for the agent to record.
    pub fn on_line_gone(&mut self, call_id: Uuid) -> bool {
        let Some(call) = self.call.as_mut().filter(|c| c.call_id == call_id) else {
            return false;
        };
        if call.line.as_ref().is_some_and(|l| l.ended.is_none()) {
            call.line = None;
            return true;
        }
        false
    }

    /// Back to the call: the outcome is not recorded until saved.
    pub fn outcome_cancelled(&mut self) {
        self.state = AgentState::OnCall;
        if let Some(call) = &mut self.call {
            call.ended_at = None;
        }
    }

    pub fn save_outcome(&mut self, form: Box<OutcomeForm>, outcome: Outcome) -> Request {
        self.status_after_outcome = outcome.status;
        let request = Request::EndCall(EndCall {
            call_id: form.call_id,
            agent_id: self.agent_id,
            disposition: outcome.disposition,
            duration_s: Some(form.duration_s),
            notes: outcome.notes,
            recording_url: None,
            callback_at: outcome.callback_at,
            force: false,
            // What the softphone said, when it dialled and the call has ended.
            progress: self
                .call
                .as_ref()
                .and_then(|c| c.line.as_ref())
                .and_then(|l| l.ended.as_ref())
                .map(Ended::call_progress),
        });
        self.outcome_draft = Some(form);
        request
    }

    /// The outcome is saved: the agent is ready again. Returns the call that ended and a
    /// status change still to make (the agent chose another than the outcome's).
    pub fn on_ended(&mut self, ended: &EndedCall) -> (Option<CurrentCall>, Option<Request>) {
        let call = self.call.take();
        self.outcome_draft = None;
        self.state = AgentState::Ready;
        let status = self
            .status_after_outcome
            .take()
            .filter(|s| *s != ended.new_status)
            .map(|status| Request::SetStatus {
                lead_id: ended.lead_id,
                status,
                reason: Some("chosen with the call outcome".into()),
                agent_id: self.agent_id,
            });
        (call, status)
    }

    /// The store rejected the outcome: the form comes back with what was typed and why.
    pub fn on_end_rejected(&mut self, message: &str) -> Option<Box<OutcomeForm>> {
        let mut form = self.outcome_draft.take()?;
        form.error = Some(message.to_string());
        self.state = AgentState::WrapUp;
        Some(form)
    }

    // ------------------------------------------------------------------ time

    /// The lock is held until the outcome is saved, so wrap-up keeps it alive too.
    pub fn heartbeat(&mut self, now: DateTime<Utc>) -> Option<Request> {
        let call = self.call.as_ref()?;
        if self.last_heartbeat.is_some_and(|t| now - t < HEARTBEAT_EVERY) {
            return None;
        }
        self.last_heartbeat = Some(now);
        Some(Request::Heartbeat {
            call_id: call.call_id,
            agent_id: self.agent_id,
        })
    }

    /// Sends the agent's state when it changed, and again as a heartbeat so the floor can tell
    /// a console that vanished (it reads as offline after the lock TTL).
    pub fn publish(&mut self, now: DateTime<Utc>) -> Option<Request> {
        let due = match &self.published {
            Some((state, at)) => *state != self.state || now - *at >= HEARTBEAT_EVERY,
            None => true,
        };
        if !due {
            return None;
        }
        self.published = Some((self.state.clone(), now));
        let (state, reason) = self.state.presence();
        Some(Request::Presence {
            agent_id: self.agent_id,
            state,
            reason,
        })
    }
}

/// A refusal as the status line says it: when the call becomes possible comes first, in the
/// agent's own clock, so it is what stays on a narrow screen.
pub fn refusal_text(refusal: &Refusal, now: DateTime<Utc>) -> String {
    let local = |t: DateTime<Utc>| {
        let t = t.with_timezone(&Local);
        if t.date_naive() == now.with_timezone(&Local).date_naive() {
            t.format("%H:%M").to_string()
        } else {
            t.format("%a %H:%M").to_string()
        }
    };
    match refusal {
        Refusal::OutsideCallingHours {
            timezone,
            local_time,
            opens_at,
        } => format!(
            "cannot call until {}: outside calling hours in {timezone} (it is {} there)",
            local(*opens_at),
            local_time.format("%H:%M")
        ),
        Refusal::TooSoon { allowed_at, .. } => {
            format!("cannot call until {}: {}", local(*allowed_at), refusal.message_at(now))
        }
        other => format!("cannot call: {}", other.message_at(now)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::disposition::default_dispositions;
    use chrono::Duration;

    fn started(at: DateTime<Utc>) -> StartedCall {
        StartedCall {
            call_id: Uuid::now_v7(),
            lead_id: Uuid::now_v7(),
            agent_id: 7,
            phone_number: "+12125550001".into(),
            started_at: at,
        }
    }

    fn ended(call: &StartedCall, new_status: LeadStatus) -> EndedCall {
        EndedCall {
            call_id: call.call_id,
            lead_id: call.lead_id,
            disposition: "busy".into(),
            duration_s: 60,
            new_status,
            next_call_at: None,
            added_to_dnc: false,
            callback_id: None,
        }
    }

    fn outcome(status: Option<LeadStatus>) -> Outcome {
        Outcome {
            disposition: "busy".into(),
            notes: Some("try mornings".into()),
            callback_at: None,
            status,
        }
    }

    #[test]
    fn a_refusal_says_first_when_the_call_can_be_made() {
        let now = Utc::now();
        let opens_at = now + Duration::hours(2);
        let refusal = Refusal::OutsideCallingHours {
            timezone: "America/New_York".into(),
            local_time: now.naive_utc(),
            opens_at,
        };
        let text = refusal_text(&refusal, now);
        let when = opens_at.with_timezone(&Local).format("%H:%M").to_string();
        assert!(text.starts_with("cannot call until "), "{text}");
        assert!(text.contains(&when), "{text}");
        assert!(text.contains("America/New_York"), "{text}");
    }

    #[test]
    fn a_paused_agent_takes_no_work() {
        let mut desk = CallDesk::new(7);
        desk.pause("lunch".into());
        assert_eq!(desk.start(Some(Uuid::now_v7())), Err(NotNow::Paused));
        assert_eq!(desk.can_take_work(), Err(NotNow::Paused));
        desk.ready();
        assert_eq!(desk.start(None), Err(NotNow::NoLead));
        assert!(desk.start(Some(Uuid::now_v7())).is_ok());
    }

    #[test]
    fn talk_time_stops_at_end_and_runs_again_when_the_form_is_left() {
        let now = Utc::now();
        let mut desk = CallDesk::new(7);
        desk.on_started(&started(now), "Ada Quinn".into(), now, false);
        assert_eq!(desk.can_take_work(), Err(NotNow::AlreadyOnCall));
        let form = desk.end(now + Duration::seconds(75), &default_dispositions()).unwrap();
        assert_eq!(form.duration_s, 75);
        assert_eq!(*desk.state(), AgentState::WrapUp);
        assert_eq!(desk.seconds(now + Duration::seconds(500)), Some(75));
        desk.outcome_cancelled();
        assert_eq!(*desk.state(), AgentState::OnCall);
        assert_eq!(desk.seconds(now + Duration::seconds(500)), Some(500));
    }

    #[test]
    fn a_rejected_outcome_comes_back_with_what_was_typed() {
        let now = Utc::now();
        let call = started(now);
        let mut desk = CallDesk::new(7);
        desk.on_started(&call, "Ada Quinn".into(), now, false);
        let mut form = desk.end(now, &default_dispositions()).unwrap();
        form.notes.input = tui_input::Input::new("try mornings".into());
        let request = desk.save_outcome(Box::new(form), outcome(None));
        assert!(
            matches!(request, Request::EndCall(EndCall { ref notes, .. }) if notes.as_deref() == Some("try mornings"))
        );
        let back = desk
            .on_end_rejected("unknown disposition")
            .expect("the form comes back");
        assert_eq!(back.notes.value(), "try mornings");
        assert_eq!(back.error.as_deref(), Some("unknown disposition"));
        assert_eq!(*desk.state(), AgentState::WrapUp);
    }

    #[test]
    fn a_saved_outcome_frees_the_agent_and_applies_a_different_chosen_status() {
        let now = Utc::now();
        let call = started(now);
        let mut desk = CallDesk::new(7);
        desk.on_started(&call, "Ada Quinn".into(), now, false);
        let form = desk.end(now, &default_dispositions()).unwrap();
        desk.save_outcome(Box::new(form), outcome(Some(LeadStatus::Nurturing)));
        let (ended_call, status) = desk.on_ended(&ended(&call, LeadStatus::Contacted));
        assert_eq!(ended_call.map(|c| c.call_id), Some(call.call_id));
        assert!(matches!(
            status,
            Some(Request::SetStatus {
                status: LeadStatus::Nurturing,
                ..
            })
        ));
        assert_eq!(*desk.state(), AgentState::Ready);
        assert!(
            desk.heartbeat(now + Duration::hours(1)).is_none(),
            "no call, no heartbeat"
        );
    }

    #[test]
    fn presence_is_sent_on_change_and_as_a_heartbeat() {
        let now = Utc::now();
        let mut desk = CallDesk::new(7);
        assert!(desk.publish(now).is_some());
        assert!(desk.publish(now + Duration::seconds(1)).is_none());
        desk.pause(String::new());
        assert!(
            desk.publish(now + Duration::seconds(2)).is_some(),
            "a change goes at once"
        );
        assert!(desk.publish(now + Duration::seconds(2) + HEARTBEAT_EVERY).is_some());
    }
}
