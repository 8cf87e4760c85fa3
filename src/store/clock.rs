//! The store's source of "now". Rules depend on time (minimum gap, calling hours, lock TTL), so
//! tests replace the system clock with one they can move.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, DurationRound, Utc};

#[derive(Clone, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock that stands still at `at` until moved.
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock(Some(Arc::new(Mutex::new(truncate(at)))))
    }

    /// Microsecond precision: what both databases store, so values round-trip exactly.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => truncate(Utc::now()),
            Some(at) => *at.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Moves a fixed clock; does nothing to the system clock.
    pub fn advance(&self, by: Duration) {
        if let Some(at) = &self.0 {
            let mut at = at.lock().unwrap_or_else(|p| p.into_inner());
            *at = truncate(*at + by);
        }
    }

    pub fn set(&self, to: DateTime<Utc>) {
        if let Some(at) = &self.0 {
            *at.lock().unwrap_or_else(|p| p.into_inner()) = truncate(to);
        }
    }
}

fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::microseconds(1)).unwrap_or(t)
}
