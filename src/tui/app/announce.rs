//! Callbacks coming due are announced in the status line: "press n" only when `n` can give the
//! lead now; otherwise when it can be called, and "press n" again once it can.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::Refusal;
use crate::store::Callback;

#[derive(Debug, Clone, Default)]
pub struct Announcer {
    /// Announced as ready to take.
    callable: HashSet<Uuid>,
    /// Announced as due but not callable yet.
    waiting: HashSet<Uuid>,
}

impl Announcer {
    /// The message for callbacks newly due (or newly callable) at `now`, if any. `blocked` says
    /// why a due callback cannot be called yet; `claim_key` is the key of claim-next.
    pub fn due(
        &mut self,
        callbacks: &[Callback],
        blocked: &[(Uuid, Refusal)],
        now: DateTime<Utc>,
        claim_key: &str,
    ) -> Option<String> {
        let why = |c: &Callback| blocked.iter().find(|(id, _)| *id == c.id).map(|(_, r)| r);
        let due: Vec<&Callback> = callbacks.iter().filter(|c| c.due_at <= now).collect();
        let ready: Vec<&Callback> = due
            .iter()
            .copied()
            .filter(|c| why(c).is_none() && !self.callable.contains(&c.id))
            .collect();
        if let Some(first) = ready.first() {
            self.callable.extend(ready.iter().map(|c| c.id));
            return Some(format!(
                "callback due: {}{}; press {claim_key} to take it",
                crate::display::printable(&first.lead_name),
                more(ready.len())
            ));
        }
        let waiting: Vec<(&Callback, &Refusal)> = due
            .iter()
            .filter_map(|c| why(c).map(|r| (*c, r)))
            .filter(|(c, _)| !self.waiting.contains(&c.id))
            .collect();
        let (first, refusal) = waiting.first()?;
        self.waiting.extend(waiting.iter().map(|(c, _)| c.id));
        Some(format!(
            "callback due: {}{}; {}",
            crate::display::printable(&first.lead_name),
            more(waiting.len()),
            super::call::refusal_text(refusal, now)
        ))
    }
}

fn more(count: usize) -> String {
    if count > 1 {
        format!(" (+{} more)", count - 1)
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn callback(name: &str, due_at: DateTime<Utc>) -> Callback {
        Callback {
            id: Uuid::now_v7(),
            lead_id: Uuid::now_v7(),
            agent_id: 7,
            agent_name: "alice".into(),
            lead_name: name.into(),
            due_at,
            note: None,
            created_at: due_at,
            done_at: None,
        }
    }

    #[test]
    fn n_is_promised_only_when_it_can_give_the_callback() {
        let now = Utc::now();
        let aisha = callback("Aisha Wright", now - Duration::minutes(1));
        let night = Refusal::OutsideCallingHours {
            timezone: "America/Los_Angeles".into(),
            local_time: now.naive_utc(),
            opens_at: now + Duration::hours(3),
        };
        let mut announcer = Announcer::default();
        let list = std::slice::from_ref(&aisha);
        let said = announcer.due(list, &[(aisha.id, night.clone())], now, "n").unwrap();
        assert!(
            said.starts_with("callback due: Aisha Wright; cannot call until"),
            "{said}"
        );
        assert!(!said.contains("press n"), "{said}");
        assert_eq!(announcer.due(list, &[(aisha.id, night)], now, "n"), None, "said once");
        let later = now + Duration::hours(3);
        assert_eq!(
            announcer.due(list, &[], later, "n").as_deref(),
            Some("callback due: Aisha Wright; press n to take it"),
            "announced again once it can be called"
        );
        assert_eq!(announcer.due(list, &[], later, "n"), None);
    }

    #[test]
    fn callbacks_not_yet_due_are_not_announced() {
        let now = Utc::now();
        let later = callback("Bea Olsen", now + Duration::minutes(5));
        let mut announcer = Announcer::default();
        assert_eq!(announcer.due(std::slice::from_ref(&later), &[], now, "n"), None);
    }
}
