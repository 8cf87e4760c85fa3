//! When a bulk load may run: only while the floor is quiet.
//!
//! `import --bulk` stores what the ordinary import stores, in batches several times as large
//! (and on SQLite with the per-row triggers of new leads paused and run once per batch), so a
//! console's write to the leads can wait for a whole batch to commit. It is for loading a
//! floor, not for feeding a working one: it waits for a quiet floor, with no console open and
//! no call in progress. A console is open while its presence heartbeat is fresher than the lock
//! TTL and it has not signed off; a call is in progress while its lock's heartbeat is (a stale
//! lock is abandoned, and reaped). The ordinary import stays safe beside a working floor.

use chrono::{DateTime, Duration, Utc};

use super::PresenceState;

/// What keeps the floor from being quiet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveFloor {
    /// Agents whose console is open, by name.
    pub consoles: Vec<String>,
    /// Agents on a call, by name (a call counts whatever the console says).
    pub calls: Vec<String>,
}

impl std::fmt::Display for LiveFloor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if !self.consoles.is_empty() {
            let n = self.consoles.len();
            parts.push(format!(
                "{n} console{} open ({})",
                if n == 1 { " is" } else { "s are" },
                self.consoles.join(", ")
            ));
        }
        if !self.calls.is_empty() {
            let n = self.calls.len();
            parts.push(format!(
                "{n} call{} in progress ({})",
                if n == 1 { " is" } else { "s are" },
                self.calls.join(", ")
            ));
        }
        f.write_str(&parts.join(" and "))
    }
}

/// The floor as the store reports it: each agent's presence (state and last heartbeat) and
/// each call lock (agent and last heartbeat). Answers what is live, or None when the floor is
/// quiet and a bulk load may run.
pub fn live_floor(
    presence: &[(String, PresenceState, Option<DateTime<Utc>>)],
    calls: &[(String, DateTime<Utc>)],
    lock_ttl: Duration,
    now: DateTime<Utc>,
) -> Option<LiveFloor> {
    let fresh = |at: DateTime<Utc>| now - at <= lock_ttl;
    let mut consoles: Vec<String> = presence
        .iter()
        .filter(|(_, state, at)| *state != PresenceState::Offline && at.is_some_and(fresh))
        .map(|(name, _, _)| name.clone())
        .collect();
    let mut on_call: Vec<String> = calls
        .iter()
        .filter(|(_, at)| fresh(*at))
        .map(|(name, _)| name.clone())
        .collect();
    consoles.sort();
    consoles.dedup();
    on_call.sort();
    on_call.dedup();
    if consoles.is_empty() && on_call.is_empty() {
        None
    } else {
        Some(LiveFloor {
            consoles,
            calls: on_call,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap() + Duration::seconds(s)
    }

    #[test]
    fn a_fresh_console_or_call_makes_the_floor_live() {
        let ttl = Duration::seconds(60);
        let now = at(100);
        let presence = vec![
            ("bob".to_string(), PresenceState::Ready, Some(at(90))),
            ("alice".to_string(), PresenceState::Paused, Some(at(41))),
            ("cy".to_string(), PresenceState::Ready, Some(at(39))),
            ("dee".to_string(), PresenceState::Offline, Some(at(99))),
            ("eve".to_string(), PresenceState::Ready, None),
        ];
        let live = live_floor(&presence, &[], ttl, now).unwrap();
        assert_eq!(
            live.consoles,
            ["alice", "bob"],
            "stale, signed off and never seen are not live"
        );
        assert_eq!(live.to_string(), "2 consoles are open (alice, bob)");

        let calls = vec![("dee".to_string(), at(95)), ("old".to_string(), at(10))];
        let live = live_floor(&[], &calls, ttl, now).unwrap();
        assert_eq!(
            live.to_string(),
            "1 call is in progress (dee)",
            "a stale lock is abandoned"
        );
        assert_eq!(live_floor(&presence[2..4], &calls[1..], ttl, now), None);
    }
}
