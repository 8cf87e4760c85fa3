//! Shared policy lives in the `settings` table so every console obeys the same rules. This maps
//! the stored key/value pairs to the domain's `Policy` and checks values before they are stored.

use chrono::Duration;

use crate::domain::{hours::parse_tz, CallingHours, Policy};

pub const KEYS: &[(&str, &str)] = &[
    ("min_gap_seconds", "minimum seconds between two calls to the same lead"),
    (
        "calling_hours",
        "calling window in the lead's local time, e.g. 08:00-21:00",
    ),
    (
        "default_timezone",
        "IANA zone used for leads without one, e.g. America/New_York",
    ),
    ("max_attempts", "calls to a lead before it leaves the queue"),
    (
        "lock_ttl_seconds",
        "seconds without heartbeat before a call lock is stale",
    ),
    (
        "claim_ttl_seconds",
        "seconds a claimed lead stays reserved for its agent",
    ),
];

/// Checks one setting; returns the normalised value to store.
pub fn validate(key: &str, value: &str) -> Result<String, String> {
    let value = value.trim();
    let positive = |min: i64| -> Result<String, String> {
        match value.parse::<i64>() {
            Ok(n) if n >= min => Ok(n.to_string()),
            _ => Err(format!("{key} must be a whole number of at least {min}, got '{value}'")),
        }
    };
    match key {
        "min_gap_seconds" => positive(0),
        "max_attempts" => positive(1),
        "lock_ttl_seconds" => positive(5),
        "claim_ttl_seconds" => positive(30),
        "callback_grace_seconds" => positive(0),
        "calling_hours" => CallingHours::parse(value)
            .map(|_| value.to_string())
            .map_err(|e| format!("{key}: {e}")),
        "default_timezone" => parse_tz(value)
            .map(|tz| tz.name().to_string())
            .ok_or_else(|| format!("{key}: unknown time zone '{value}' (e.g. America/New_York)")),
        _ => Err(format!(
            "unknown setting '{key}' (known: {})",
            KEYS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Builds the policy from stored rows; a missing or unreadable value keeps the default, so a
/// damaged settings row can never stop the floor from working.
pub fn policy_from(rows: &[(String, String)]) -> Policy {
    let mut policy = Policy::default();
    for (key, value) in rows {
        let secs = || value.parse::<i64>().ok();
        match key.as_str() {
            "min_gap_seconds" => policy.min_gap = secs().map(Duration::seconds).unwrap_or(policy.min_gap),
            "max_attempts" => policy.max_attempts = value.parse().unwrap_or(policy.max_attempts),
            "lock_ttl_seconds" => policy.lock_ttl = secs().map(Duration::seconds).unwrap_or(policy.lock_ttl),
            "calling_hours" => policy.calling_hours = CallingHours::parse(value).unwrap_or(policy.calling_hours),
            "default_timezone" => policy.default_timezone = parse_tz(value).unwrap_or(policy.default_timezone),
            _ => {}
        }
    }
    policy
}

/// How long a claimed lead stays reserved for the agent who claimed it.
pub fn claim_ttl(rows: &[(String, String)]) -> Duration {
    rows.iter()
        .find(|(k, _)| k == "claim_ttl_seconds")
        .and_then(|(_, v)| v.parse().ok())
        .map(Duration::seconds)
        .unwrap_or(Duration::minutes(15))
}

/// How long a due callback stays with its owner before any agent may take the lead.
pub fn callback_grace(rows: &[(String, String)]) -> Duration {
    rows.iter()
        .find(|(k, _)| k == "callback_grace_seconds")
        .and_then(|(_, v)| v.parse().ok())
        .map(Duration::seconds)
        .unwrap_or(Duration::minutes(15))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_become_the_policy() {
        let rows = vec![
            ("min_gap_seconds".to_string(), "600".to_string()),
            ("calling_hours".to_string(), "09:00-17:00".to_string()),
            ("default_timezone".to_string(), "Europe/Berlin".to_string()),
            ("max_attempts".to_string(), "3".to_string()),
        ];
        let p = policy_from(&rows);
        assert_eq!(p.min_gap, Duration::minutes(10));
        assert_eq!(p.max_attempts, 3);
        assert_eq!(p.default_timezone, chrono_tz::Europe::Berlin);
        assert_eq!(p.calling_hours, CallingHours::parse("09:00-17:00").unwrap());
    }

    #[test]
    fn damaged_values_keep_defaults() {
        let rows = vec![("min_gap_seconds".to_string(), "soon".to_string())];
        assert_eq!(policy_from(&rows).min_gap, Policy::default().min_gap);
    }

    #[test]
    fn validation_names_the_setting() {
        assert_eq!(validate("max_attempts", " 4 "), Ok("4".to_string()));
        assert!(validate("max_attempts", "0").unwrap_err().contains("max_attempts"));
        assert!(validate("default_timezone", "Mars/Base")
            .unwrap_err()
            .contains("Mars/Base"));
        assert!(validate("colour", "red").unwrap_err().contains("unknown setting"));
    }
}
