//! How changes on the feed become re-reads. A busy floor changes the leads at the head of every
//! agent's queue many times a second; a console re-reading its list and the floor's active calls
//! on every batch made those re-reads the database's whole load (25 consoles kept 1.8 cores
//! busy). Each kind of re-read a change asks for goes at once when the last went long enough
//! ago, else once at the end of its gap: what is on screen is never older than the gap.

use chrono::{DateTime, Duration, Utc};

/// The least time between two re-reads of the floor's active calls that changes ask for (a
/// released lock leaves the pane at once, without a re-read; a lock taken inside the gap shows
/// at its end).
pub const CALLS_GAP: Duration = Duration::seconds(2);

/// The same for the list on screen. Longer: every agent's queue tab shows the head of the same
/// queue, which a floor claims from many times a second, and its re-read is the dearest a
/// console makes (measured through the floor server: 12–15 ms at 100 consoles). Locks on its
/// rows show sooner, through the active calls' badges.
pub const LIST_GAP: Duration = Duration::seconds(10);

#[derive(Debug, Clone)]
pub struct Throttle {
    gap: Duration,
    last: Option<DateTime<Utc>>,
    pending: bool,
}

impl Throttle {
    pub fn new(gap: Duration) -> Throttle {
        Throttle {
            gap,
            last: None,
            pending: false,
        }
    }

    /// A change asks for a re-read; true when it may go now.
    pub fn ask(&mut self, now: DateTime<Utc>) -> bool {
        self.pending = true;
        self.due(now)
    }

    /// True when a re-read was asked for and the gap since the last one has passed (it is then
    /// counted as gone).
    pub fn due(&mut self, now: DateTime<Utc>) -> bool {
        if self.pending && self.last.is_none_or(|t| now - t >= self.gap) {
            self.went(now);
            true
        } else {
            false
        }
    }

    /// A re-read went for another reason (the periodic refresh): it answers what was asked.
    pub fn went(&mut self, now: DateTime<Utc>) {
        self.pending = false;
        self.last = Some(now);
    }

    /// A re-read that was due could not go (one is still in flight): it stays asked for.
    pub fn still_asked(&mut self) {
        self.pending = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn the_first_change_goes_at_once_and_those_inside_the_gap_go_once_at_its_end() {
        let mut throttle = Throttle::new(Duration::seconds(2));
        assert!(throttle.ask(at(0)));
        assert!(!throttle.ask(at(0)));
        assert!(!throttle.ask(at(1)));
        assert!(!throttle.due(at(1)), "inside the gap nothing goes");
        assert!(
            throttle.due(at(2)),
            "the changes inside the gap are read once at its end"
        );
        assert!(!throttle.due(at(3)), "and not again without a new change");
        assert!(!throttle.due(at(10)));
        assert!(throttle.ask(at(10)), "a change after a quiet gap goes at once");
    }

    #[test]
    fn a_periodic_refresh_answers_what_was_asked() {
        let mut throttle = Throttle::new(Duration::seconds(2));
        assert!(throttle.ask(at(0)));
        assert!(!throttle.ask(at(1)));
        throttle.went(at(1));
        assert!(!throttle.due(at(5)), "the refresh that went read the change");
    }

    #[test]
    fn a_re_read_that_could_not_go_stays_asked_for() {
        let mut throttle = Throttle::new(Duration::seconds(2));
        assert!(throttle.ask(at(0)));
        throttle.still_asked();
        assert!(!throttle.due(at(1)));
        assert!(throttle.due(at(2)));
    }
}
