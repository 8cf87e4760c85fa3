//! The ranges a floor's numbers and times must fall in. Every value a user gives passes through
//! here before it reaches arithmetic or the database, so one typing error can neither overflow a
//! sum nor write a year-13434 timestamp that breaks every later backup.

use chrono::{DateTime, Duration, TimeZone, Utc};

/// How far ahead a callback or an assignment may be set: a year and a day.
pub fn furthest_ahead() -> Duration {
    Duration::days(366)
}

/// Every timestamp coldcall writes lies in [2000-01-01, 2100-01-01).
pub fn is_sane(t: DateTime<Utc>) -> bool {
    let first = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single();
    let last = Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).single();
    matches!((first, last), (Some(first), Some(last)) if first <= t && t < last)
}

/// A time that must lie after `now` and at most a year ahead (a callback, an assignment's end).
pub fn future_time(field: &str, t: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if t <= now {
        return Err(format!("{field} must be in the future"));
    }
    if t - now > furthest_ahead() || !is_sane(t) {
        return Err(format!("{field} must be within a year from now"));
    }
    Ok(t)
}

/// How many rows a page or a listing may ask for: at least one, at most `max`.
pub fn page_size(field: &str, n: u32, max: u32) -> Result<u32, String> {
    if n == 0 || n > max {
        return Err(format!("{field} must be from 1 to {max}, got {n}"));
    }
    Ok(n)
}

/// Hours from a user (an assignment's lifetime): 1 to a year and a day.
pub fn hours(field: &str, h: i64) -> Result<Duration, String> {
    let max = furthest_ahead().num_hours();
    if !(1..=max).contains(&h) {
        return Err(format!("{field} must be from 1 to {max} hours, got {h}"));
    }
    Ok(Duration::hours(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_must_be_ahead_but_not_years_ahead() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap();
        assert!(future_time("callback time", now, now).unwrap_err().contains("future"));
        assert!(future_time("callback time", now + Duration::minutes(1), now).is_ok());
        assert!(future_time("callback time", now + Duration::days(366), now).is_ok());
        let far = future_time("callback time", now + Duration::days(367), now).unwrap_err();
        assert!(far.contains("callback time") && far.contains("year"), "{far}");
    }

    #[test]
    fn sane_timestamps_are_this_century() {
        assert!(is_sane(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()));
        assert!(!is_sane(Utc.with_ymd_and_hms(13434, 1, 1, 0, 0, 0).unwrap()));
        assert!(!is_sane(DateTime::<Utc>::MIN_UTC));
    }

    #[test]
    fn zero_rows_and_absurd_hours_are_refused_by_name() {
        assert!(page_size("--limit", 0, 1000).unwrap_err().contains("--limit"));
        assert_eq!(page_size("--limit", 1, 1000), Ok(1));
        assert!(page_size("--limit", 1001, 1000).is_err());
        assert!(hours("--hours", 100_000_000).unwrap_err().contains("--hours"));
        assert!(hours("--hours", 0).is_err());
        assert_eq!(hours("--hours", 8), Ok(Duration::hours(8)));
    }
}
