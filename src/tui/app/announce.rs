//! Callbacks coming due are announced in the status line once each, so the agent knows `n`
//! will give them the person who asked to be called back.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::Callback;

#[derive(Debug, Clone, Default)]
pub struct Announcer {
    announced: HashSet<Uuid>,
}

impl Announcer {
    /// The message for callbacks newly due at `now`, if any; `claim_key` is the key of claim-next.
    pub fn due(&mut self, callbacks: &[Callback], now: DateTime<Utc>, claim_key: &str) -> Option<String> {
        let due: Vec<&Callback> = callbacks
            .iter()
            .filter(|c| c.due_at <= now && !self.announced.contains(&c.id))
            .collect();
        let first = due.first()?;
        let more = if due.len() > 1 {
            format!(" (+{} more)", due.len() - 1)
        } else {
            String::new()
        };
        let text = format!(
            "callback due: {}{more}; press {claim_key} to take it",
            crate::display::printable(&first.lead_name),
        );
        self.announced.extend(due.iter().map(|c| c.id));
        Some(text)
    }
}
