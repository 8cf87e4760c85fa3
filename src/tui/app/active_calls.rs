//! Every call in progress on the floor: the active-calls pane, the lock badges in lists, and
//! the call a supervisor selects to release.

use uuid::Uuid;

use crate::store::ActiveCall;

#[derive(Debug, Clone, Default)]
pub struct ActiveCalls {
    calls: Vec<ActiveCall>,
    selected: usize,
}

impl ActiveCalls {
    pub fn all(&self) -> &[ActiveCall] {
        &self.calls
    }

    pub fn selected(&self) -> usize {
        self.selected
    }

    pub fn selected_call(&self) -> Option<&ActiveCall> {
        self.calls.get(self.selected)
    }

    /// The call holding this lead's lock, if any.
    pub fn on_lead(&self, lead_id: Uuid) -> Option<&ActiveCall> {
        self.calls.iter().find(|c| c.lead_id == lead_id)
    }

    /// The call this agent is on, if any (wherever it was started).
    pub fn of_agent(&self, agent_id: i64) -> Option<&ActiveCall> {
        self.calls.iter().find(|c| c.agent_id == agent_id)
    }

    pub fn move_by(&mut self, by: i64) {
        self.selected = super::step(self.selected, by, self.calls.len());
    }

    /// The lock on this lead was released (a change on the feed said so): gone from the pane
    /// at once, before the floor's calls are read again.
    pub fn released(&mut self, lead_id: Uuid) {
        self.calls.retain(|c| c.lead_id != lead_id);
        self.selected = self.selected.min(self.calls.len().saturating_sub(1));
    }

    pub fn on_reply(&mut self, calls: Vec<ActiveCall>) {
        self.calls = calls;
        self.selected = self.selected.min(self.calls.len().saturating_sub(1));
    }
}
