//! The supervisor's floor, as state: what was last read of it, which range of days its figures
//! cover, and when an agent's state counts as running long. No I/O; the app asks for a refresh
//! with the range worked out here.

use chrono::{DateTime, Duration, Local, NaiveDate, TimeZone, Utc};
use serde::Deserialize;

use crate::domain::PresenceState;
use crate::store::{Callback, FloorFigures, Presence};

/// What a supervisor sees of the floor.
#[derive(Debug, Clone)]
pub struct Floor {
    pub presence: Vec<Presence>,
    pub figures: FloorFigures,
    /// Open callbacks already due, oldest first: the ones a supervisor may hand to someone else.
    pub overdue: Vec<Callback>,
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

/// Past these, an agent's state is marked on the floor (config `[floor]`, in minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FloorLimits {
    pub long_call_minutes: u32,
    pub long_pause_minutes: u32,
    pub long_wrap_up_minutes: u32,
}

impl Default for FloorLimits {
    fn default() -> Self {
        FloorLimits {
            long_call_minutes: 15,
            long_pause_minutes: 15,
            long_wrap_up_minutes: 2,
        }
    }
}

impl FloorLimits {
    /// Seconds in `state` after which it counts as long; None for states that cannot run long.
    pub fn limit(&self, state: PresenceState) -> Option<i64> {
        let minutes = match state {
            PresenceState::OnCall => self.long_call_minutes,
            PresenceState::Paused => self.long_pause_minutes,
            PresenceState::WrapUp => self.long_wrap_up_minutes,
            _ => return None,
        };
        Some(i64::from(minutes) * 60)
    }

    pub fn is_long(&self, state: PresenceState, seconds: i64) -> bool {
        self.limit(state).is_some_and(|limit| seconds > limit)
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

    #[test]
    fn limits_mark_only_states_that_run_long() {
        let limits = FloorLimits {
            long_call_minutes: 20,
            ..FloorLimits::default()
        };
        assert!(!limits.is_long(PresenceState::OnCall, 20 * 60));
        assert!(limits.is_long(PresenceState::OnCall, 20 * 60 + 1));
        assert!(limits.is_long(PresenceState::WrapUp, 121));
        assert!(!limits.is_long(PresenceState::Ready, 10_000));
    }

    #[test]
    fn limits_come_from_the_config_with_defaults_for_what_is_left_out() {
        let limits: FloorLimits = toml::from_str("long_pause_minutes = 30").unwrap();
        assert_eq!(limits.long_pause_minutes, 30);
        assert_eq!(limits.long_call_minutes, 15);
        assert!(toml::from_str::<FloorLimits>("long_lunch_minutes = 30").is_err());
    }
}
