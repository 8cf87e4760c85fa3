//! Which time zones are inside calling hours right now. The queue filters leads by this list in
//! SQL, so claiming never scans leads it would have to refuse for the hour.

use chrono::{DateTime, Utc};

use super::hours::Window;
use super::Policy;

/// Names of every zone whose local time is inside the calling window at `now`, and whether the
/// policy's default zone (used for leads without one) is among them.
pub fn open_zones(policy: &Policy, now: DateTime<Utc>) -> (Vec<String>, bool) {
    let zones: Vec<String> = chrono_tz::TZ_VARIANTS
        .iter()
        .filter(|tz| matches!(policy.calling_hours.check(now, **tz), Window::Open))
        .map(|tz| tz.name().to_string())
        .collect();
    let default_open = matches!(policy.calling_hours.check(now, policy.default_timezone), Window::Open);
    (zones, default_open)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn zones_follow_the_local_clock() {
        let policy = Policy::default();
        // 15:00 UTC is 10:00 in New York and midnight in Tokyo
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap();
        let (zones, default_open) = open_zones(&policy, now);
        assert!(zones.iter().any(|z| z == "America/New_York"));
        assert!(!zones.iter().any(|z| z == "Asia/Tokyo"));
        assert!(default_open);
    }

    #[test]
    fn a_closed_default_zone_is_reported() {
        let policy = Policy::default();
        // 04:00 UTC is 23:00 in New York
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 4, 0, 0).unwrap();
        assert!(!open_zones(&policy, now).1);
    }
}
