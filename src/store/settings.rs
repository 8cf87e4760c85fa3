//! Shared policy lives in the `settings` table so every console obeys the same rules. This maps
//! the stored key/value pairs to the domain's `Policy`, with one parser per key that both checks a
//! value before it is stored and reads it back: a value out of range (written by hand, or by an
//! older coldcall) is refused with an error naming the setting, never a panic or a silent default.

use chrono::Duration;

use crate::domain::{hours::parse_tz, CallingHours, Policy};

/// Every setting, what it means, and the range a floor would use.
pub const KEYS: &[(&str, &str)] = &[
    (
        "min_gap_seconds",
        "minimum seconds between two calls to the same lead (0 to 7 days)",
    ),
    (
        "calling_hours",
        "calling window in the lead's local time, e.g. 08:00-21:00",
    ),
    (
        "default_timezone",
        "IANA zone used for leads without one, e.g. America/New_York",
    ),
    ("max_attempts", "calls to a lead before it leaves the queue (1 to 100)"),
    (
        "lock_ttl_seconds",
        "seconds without heartbeat before a call lock is stale (10 to 3600)",
    ),
    (
        "claim_ttl_seconds",
        "seconds a claimed lead stays reserved for its agent (30 to 1 day)",
    ),
    (
        "callback_grace_seconds",
        "seconds a due callback stays with its owner before anyone may take it (0 to 7 days)",
    ),
];

const DAY: i64 = 24 * 60 * 60;

/// A whole number of seconds within [min, max].
fn seconds_in(key: &str, value: &str, min: i64, max: i64) -> Result<Duration, String> {
    match value.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Duration::seconds(n)),
        _ => Err(format!(
            "{key} must be a whole number of seconds from {min} to {max}, got '{}'",
            value.trim()
        )),
    }
}

fn count_in(key: &str, value: &str, min: i32, max: i32) -> Result<i32, String> {
    match value.trim().parse::<i32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "{key} must be a whole number from {min} to {max}, got '{}'",
            value.trim()
        )),
    }
}

/// The floor's settings as the flows use them.
#[derive(Debug, Clone, PartialEq)]
pub struct FloorSettings {
    pub policy: Policy,
    /// How long a claimed lead stays reserved for the agent who claimed it.
    pub claim_ttl: Duration,
    /// How long a due callback stays with its owner before any agent may take the lead.
    pub callback_grace: Duration,
}

impl Default for FloorSettings {
    fn default() -> Self {
        FloorSettings {
            policy: Policy::default(),
            claim_ttl: Duration::minutes(15),
            callback_grace: Duration::minutes(15),
        }
    }
}

impl FloorSettings {
    /// Applies one stored or typed value; an error names the setting and its range.
    fn apply(&mut self, key: &str, value: &str) -> Result<(), String> {
        let value = value.trim();
        match key {
            "min_gap_seconds" => self.policy.min_gap = seconds_in(key, value, 0, 7 * DAY)?,
            "max_attempts" => self.policy.max_attempts = count_in(key, value, 1, 100)?,
            "lock_ttl_seconds" => self.policy.lock_ttl = seconds_in(key, value, 10, 3600)?,
            "claim_ttl_seconds" => self.claim_ttl = seconds_in(key, value, 30, DAY)?,
            "callback_grace_seconds" => self.callback_grace = seconds_in(key, value, 0, 7 * DAY)?,
            "calling_hours" => {
                self.policy.calling_hours = CallingHours::parse(value).map_err(|e| format!("{key}: {e}"))?
            }
            "default_timezone" => {
                self.policy.default_timezone = parse_tz(value)
                    .ok_or_else(|| format!("{key}: unknown time zone '{value}' (e.g. America/New_York)"))?
            }
            _ => {
                return Err(format!(
                    "unknown setting '{key}' (known: {})",
                    KEYS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
                ))
            }
        }
        Ok(())
    }

    /// Reads the stored rows. A stored value that does not parse or is out of range is an error
    /// naming it and how to fix it: a floor must not dial on a rule nobody chose. Keys this
    /// version does not know (from a newer coldcall) are left alone.
    pub fn from_rows(rows: &[(String, String)]) -> Result<FloorSettings, String> {
        let mut floor = FloorSettings::default();
        for (key, value) in rows {
            if !KEYS.iter().any(|(k, _)| k == key) {
                continue;
            }
            floor.apply(key, value).map_err(|e| {
                format!("the stored setting is not usable: {e}; fix it with `coldcall settings set {key} VALUE`")
            })?;
        }
        Ok(floor)
    }
}

/// Checks one setting before it is stored; returns the normalised value to store.
pub fn validate(key: &str, value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.chars().any(char::is_control) {
        return Err(format!("{key}: control characters are not allowed"));
    }
    let mut probe = FloorSettings::default();
    probe.apply(key, value)?;
    Ok(match key {
        "default_timezone" => probe.policy.default_timezone.name().to_string(),
        "calling_hours" => value.to_string(),
        // Numbers are stored in their plain form ("+60" and " 60" become "60").
        _ => value
            .parse::<i64>()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| value.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn stored_values_become_the_policy() {
        let floor = FloorSettings::from_rows(&rows(&[
            ("min_gap_seconds", "600"),
            ("calling_hours", "09:00-17:00"),
            ("default_timezone", "Europe/Berlin"),
            ("max_attempts", "3"),
            ("claim_ttl_seconds", "120"),
            ("callback_grace_seconds", "0"),
        ]))
        .unwrap();
        let p = &floor.policy;
        assert_eq!(p.min_gap, Duration::minutes(10));
        assert_eq!(p.max_attempts, 3);
        assert_eq!(p.default_timezone, chrono_tz::Europe::Berlin);
        assert_eq!(p.calling_hours, CallingHours::parse("09:00-17:00").unwrap());
        assert_eq!(floor.claim_ttl, Duration::minutes(2));
        assert_eq!(floor.callback_grace, Duration::zero());
    }

    #[test]
    fn a_damaged_stored_value_is_refused_by_name_never_a_panic() {
        for (key, value) in [
            ("lock_ttl_seconds", "9300000000000000"),
            ("min_gap_seconds", "soon"),
            ("max_attempts", "0"),
            ("calling_hours", "21:00-08:00"),
            ("default_timezone", "Mars/Base"),
            ("claim_ttl_seconds", "-5"),
        ] {
            let err = FloorSettings::from_rows(&rows(&[(key, value)])).unwrap_err();
            assert!(err.contains(key), "{err}");
            assert!(err.contains("coldcall settings set"), "{err}");
        }
        assert!(FloorSettings::from_rows(&rows(&[("from_a_newer_version", "x")])).is_ok());
    }

    #[test]
    fn validation_names_the_setting_and_its_range() {
        assert_eq!(validate("max_attempts", " 4 "), Ok("4".to_string()));
        assert_eq!(validate("lock_ttl_seconds", "+60"), Ok("60".to_string()));
        assert!(validate("max_attempts", "0").unwrap_err().contains("max_attempts"));
        assert!(validate("max_attempts", "101").unwrap_err().contains("1 to 100"));
        let huge = validate("lock_ttl_seconds", "9300000000000000").unwrap_err();
        assert!(huge.contains("10 to 3600"), "{huge}");
        assert!(validate("lock_ttl_seconds", "9").is_err());
        assert!(validate("min_gap_seconds", &(7 * DAY + 1).to_string()).is_err());
        assert!(validate("calling_hours", "00:00-00:00").is_err());
        assert!(validate("default_timezone", "Mars/Base")
            .unwrap_err()
            .contains("Mars/Base"));
        assert!(validate("calling_hours", "08:00-21:00\u{1b}[2J").is_err());
        assert!(validate("colour", "red").unwrap_err().contains("unknown setting"));
    }

    #[test]
    fn every_key_listed_has_a_parser_and_its_default_passes() {
        let d = FloorSettings::default();
        let defaults = [
            ("min_gap_seconds", d.policy.min_gap.num_seconds().to_string()),
            ("max_attempts", d.policy.max_attempts.to_string()),
            ("lock_ttl_seconds", d.policy.lock_ttl.num_seconds().to_string()),
            ("claim_ttl_seconds", d.claim_ttl.num_seconds().to_string()),
            ("callback_grace_seconds", d.callback_grace.num_seconds().to_string()),
            ("calling_hours", "08:00-21:00".to_string()),
            ("default_timezone", d.policy.default_timezone.name().to_string()),
        ];
        for (key, _) in KEYS {
            let (_, value) = defaults
                .iter()
                .find(|(k, _)| k == key)
                .expect("a default for every key");
            assert!(validate(key, value).is_ok(), "{key}={value}");
        }
    }
}
