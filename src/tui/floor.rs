//! The supervisor's floor, as state: what was last read of it, which range of days its figures
//! cover, and when an agent's state counts as running long. No I/O; the app asks for a refresh
//! with the range worked out here.

pub use crate::console_settings::FloorLimits;
use crate::domain::PresenceState;
use crate::store::{ActiveCall, Callback, FloorFigures, Presence};
use chrono::{DateTime, Duration, Local, NaiveDate, TimeZone, Utc};

/// What a supervisor sees of the floor.
#[derive(Debug, Clone)]
pub struct Floor {
    pub presence: Vec<Presence>,
    pub figures: FloorFigures,
    /// Open callbacks already due, oldest first: the ones a supervisor may hand to someone else.
    pub overdue: Vec<Callback>,
    /// Offline copies still holding leads: whose, how many, until when.
    pub offline: Vec<crate::store::offline::OpenCheckout>,
}

/// How many days one step of the figures covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Span {
    #[default]
    Day,
    Week,
    Month,
}

impl Span {
    fn days(self) -> i64 {
        match self {
            Span::Day => 1,
            Span::Week => 7,
            Span::Month => 30,
        }
    }

    fn next(self) -> Span {
        match self {
            Span::Day => Span::Week,
            Span::Week => Span::Month,
            Span::Month => Span::Day,
        }
    }
}

/// The local days the figures cover: `span` days ending `back` spans before today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FloorRange {
    pub span: Span,
    pub back: i64,
}

impl FloorRange {
    /// One span earlier or later; never past today.
    pub fn step(&mut self, earlier: bool) {
        self.back = (self.back + if earlier { 1 } else { -1 }).max(0);
    }

    /// Day → 7 days → 30 days → day, ending today again.
    pub fn widen(&mut self) {
        self.span = self.span.next();
        self.back = 0;
    }

    /// The last local day covered.
    fn last_day(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&Local).date_naive() - Duration::days(self.back * self.span.days())
    }

    /// From local midnight of the first day to local midnight after the last.
    pub fn bounds(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let end = self.last_day(now) + Duration::days(1);
        let start = end - Duration::days(self.span.days());
        let midnight = |d: NaiveDate| {
            Local
                .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        };
        let to = midnight(end).unwrap_or(now);
        let from = midnight(start).unwrap_or(to - Duration::days(self.span.days()));
        (from, to)
    }

    /// "today", "yesterday", "Mon 2026-11-16", "7 days to today", "30 days to Sun 2026-10-25".
    pub fn label(&self, now: DateTime<Utc>) -> String {
        let day = match self.back * self.span.days() {
            0 => "today".to_string(),
            1 => "yesterday".to_string(),
            _ => self.last_day(now).format("%a %Y-%m-%d").to_string(),
        };
        match self.span {
            Span::Day => day,
            span => format!("{} days to {day}", span.days()),
        }
    }
}

/// An agent's state as the floor shows it: on a call whenever a call lock is theirs, however
/// the call was started (a console, the command line, a script), since the call began; else
/// what their console last said.
pub fn shown_state(
    presence: &Presence,
    calls: &[ActiveCall],
) -> (PresenceState, Option<String>, Option<DateTime<Utc>>) {
    match calls.iter().find(|c| c.agent_id == presence.agent_id) {
        Some(call) if presence.state != PresenceState::OnCall => (PresenceState::OnCall, None, Some(call.started_at)),
        _ => (presence.state, presence.reason.clone(), presence.since),
    }
}

/// The supervisor's side of the console: whether the floor is on screen, what was last read of
/// it, the range its figures cover, and the overdue callback selected.
#[derive(Debug, Clone, Default)]
pub struct FloorView {
    supervising: bool,
    floor: Option<Floor>,
    range: FloorRange,
    limits: FloorLimits,
    selected: usize,
}

impl FloorView {
    pub fn new(supervising: bool, limits: FloorLimits) -> FloorView {
        FloorView {
            supervising,
            limits,
            ..FloorView::default()
        }
    }

    pub fn supervising(&self) -> bool {
        self.supervising
    }

    pub fn floor(&self) -> Option<&Floor> {
        self.floor.as_ref()
    }

    pub fn range(&self) -> FloorRange {
        self.range
    }

    pub fn limits(&self) -> &FloorLimits {
        &self.limits
    }

    /// The selected overdue callback's row.
    pub fn selected(&self) -> usize {
        self.selected
    }

    pub fn selected_overdue(&self) -> Option<&Callback> {
        self.floor.as_ref().and_then(|f| f.overdue.get(self.selected))
    }

    /// The floor's figures for the range, when the floor is on screen.
    pub fn request(&self, now: DateTime<Utc>) -> Option<crate::tui::request::Request> {
        self.supervising.then(|| {
            let (from, to) = self.range.bounds(now);
            crate::tui::request::Request::Floor { from, to }
        })
    }

    pub fn toggle(&mut self) {
        self.supervising = !self.supervising;
    }

    pub fn step(&mut self, earlier: bool) {
        self.range.step(earlier);
    }

    pub fn widen(&mut self) {
        if self.supervising {
            self.range.widen();
        }
    }

    pub fn move_by(&mut self, by: i64) {
        let len = self.floor.as_ref().map_or(0, |f| f.overdue.len());
        self.selected = crate::tui::app::step(self.selected, by, len);
    }

    pub fn on_floor(&mut self, floor: Floor) {
        self.selected = self.selected.min(floor.overdue.len().saturating_sub(1));
        self.floor = Some(floor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noon() -> DateTime<Utc> {
        Local
            .with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
            .single()
            .expect("noon exists")
            .with_timezone(&Utc)
    }

    fn local_day(t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&Local).date_naive()
    }

    #[test]
    fn an_agent_holding_a_call_lock_shows_as_on_a_call() {
        let started = noon() - Duration::minutes(3);
        let presence = Presence {
            agent_id: 2,
            agent_name: "bob".into(),
            role: crate::domain::Role::Agent,
            state: PresenceState::Offline,
            reason: None,
            since: None,
            heartbeat_at: None,
        };
        let call = ActiveCall {
            lead_id: uuid::Uuid::now_v7(),
            call_id: uuid::Uuid::now_v7(),
            agent_id: 2,
            agent_name: "bob".into(),
            lead_name: "Ada Quinn".into(),
            company: "Quinn Freight".into(),
            phone_number: "+12125550001".into(),
            started_at: started,
            heartbeat_at: started,
        };
        assert_eq!(
            shown_state(&presence, std::slice::from_ref(&call)),
            (PresenceState::OnCall, None, Some(started))
        );
        let other = ActiveCall { agent_id: 3, ..call };
        assert_eq!(shown_state(&presence, &[other]).0, PresenceState::Offline);
    }

    #[test]
    fn a_day_is_local_midnight_to_midnight_and_steps_back_by_days() {
        let mut range = FloorRange::default();
        let (from, to) = range.bounds(noon());
        assert_eq!(local_day(from), NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        assert_eq!(local_day(to), NaiveDate::from_ymd_opt(2026, 11, 24).unwrap());
        assert_eq!(range.label(noon()), "today");
        range.step(true);
        assert_eq!(range.label(noon()), "yesterday");
        range.step(true);
        assert_eq!(range.label(noon()), "Sat 2026-11-21");
        range.step(false);
        range.step(false);
        range.step(false);
        assert_eq!(range.back, 0, "never past today");
    }

    #[test]
    fn wider_spans_cover_whole_days_ending_today_and_step_by_their_length() {
        let mut range = FloorRange::default();
        range.widen();
        let (from, to) = range.bounds(noon());
        assert_eq!(local_day(from), NaiveDate::from_ymd_opt(2026, 11, 17).unwrap());
        assert_eq!(local_day(to), NaiveDate::from_ymd_opt(2026, 11, 24).unwrap());
        assert_eq!(range.label(noon()), "7 days to today");
        range.step(true);
        assert_eq!(range.label(noon()), "7 days to Mon 2026-11-16");
        range.widen();
        assert_eq!(
            (range.span, range.back),
            (Span::Month, 0),
            "widening starts from today again"
        );
        let (from, _) = range.bounds(noon());
        assert_eq!(local_day(from), NaiveDate::from_ymd_opt(2026, 10, 25).unwrap());
        range.widen();
        assert_eq!(range.span, Span::Day);
    }
}
