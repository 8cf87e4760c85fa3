//! What the config file may say about the console, as plain types: the actions keys are bound
//! to, and when the floor marks a state as running long. They live outside `tui` so the config
//! can read them without depending on the console (which depends on the store, which depends on
//! the config).

use serde::Deserialize;

use crate::domain::PresenceState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ClaimNext,
    Search,
    Filter,
    Open,
    FocusNext,
    FocusPrev,
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
    Back,
    NextTab,
    PrevTab,
    StartCall,
    EndCall,
    ChangeStatus,
    EditLead,
    AddLead,
    AddContact,
    DeleteLead,
    TogglePause,
    ReleaseLock,
    ToggleFloor,
    WidenRange,
    Assign,
    MergeLead,
    Offline,
    Refresh,
    Help,
    Quit,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::ClaimNext,
        Action::Search,
        Action::Filter,
        Action::Open,
        Action::FocusNext,
        Action::FocusPrev,
        Action::Down,
        Action::Up,
        Action::PageDown,
        Action::PageUp,
        Action::Top,
        Action::Bottom,
        Action::Back,
        Action::NextTab,
        Action::PrevTab,
        Action::StartCall,
        Action::EndCall,
        Action::ChangeStatus,
        Action::EditLead,
        Action::AddLead,
        Action::AddContact,
        Action::DeleteLead,
        Action::TogglePause,
        Action::ReleaseLock,
        Action::ToggleFloor,
        Action::WidenRange,
        Action::Assign,
        Action::MergeLead,
        Action::Offline,
        Action::Refresh,
        Action::Help,
        Action::Quit,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Action::ClaimNext => "next lead",
            Action::Search => "search",
            Action::Filter => "filter",
            Action::Open => "open",
            Action::FocusNext => "next pane",
            Action::FocusPrev => "previous pane",
            Action::Down => "down",
            Action::Up => "up",
            Action::PageDown => "page down",
            Action::PageUp => "page up",
            Action::Top => "first",
            Action::Bottom => "last",
            Action::Back => "back",
            Action::NextTab => "next tab",
            Action::PrevTab => "previous tab",
            Action::StartCall => "call",
            Action::EndCall => "end call",
            Action::ChangeStatus => "status",
            Action::EditLead => "edit",
            Action::AddLead => "add a lead",
            Action::AddContact => "add contact",
            Action::DeleteLead => "delete",
            Action::TogglePause => "pause/ready",
            Action::ReleaseLock => "release call lock",
            Action::ToggleFloor => "floor / leads",
            Action::WidenRange => "day/week/month",
            Action::Assign => "assign/hand on",
            Action::MergeLead => "merge a duplicate",
            Action::Offline => "offline copy",
            Action::Refresh => "refresh",
            Action::Help => "help",
            Action::Quit => "quit",
        }
    }

    /// The keys an action has when the config file does not rebind it.
    pub fn default_keys(self) -> &'static [&'static str] {
        match self {
            Action::ClaimNext => &["n"],
            Action::Search => &["/"],
            Action::Filter => &["f"],
            Action::Open => &["enter"],
            Action::FocusNext => &["tab"],
            Action::FocusPrev => &["shift-tab"],
            Action::Down => &["j", "down"],
            Action::Up => &["k", "up"],
            Action::PageDown => &["pgdn"],
            Action::PageUp => &["pgup"],
            Action::Top => &["g", "home"],
            Action::Bottom => &["G", "end"],
            Action::Back => &["esc"],
            Action::NextTab => &["]", "right"],
            Action::PrevTab => &["[", "left"],
            Action::StartCall => &["c"],
            Action::EndCall => &["e"],
            Action::ChangeStatus => &["s"],
            Action::EditLead => &["E"],
            Action::AddLead => &["N"],
            Action::AddContact => &["a"],
            Action::DeleteLead => &["d"],
            Action::TogglePause => &["p"],
            Action::ReleaseLock => &["x"],
            Action::ToggleFloor => &["F"],
            Action::WidenRange => &["w"],
            Action::Assign => &["A"],
            Action::MergeLead => &["M"],
            Action::Offline => &["O"],
            Action::Refresh => &["ctrl-r"],
            Action::Help => &["?"],
            Action::Quit => &["q", "ctrl-c"],
        }
    }
}

/// Past these, an agent's state is marked on the floor (config `[floor]`, in minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FloorLimits {
    pub long_call_minutes: u32,
    pub long_pause_minutes: u32,
    pub long_wrap_up_minutes: u32,
}

impl Default for FloorLimits {
    fn default() -> Self {
        FloorLimits {
            long_call_minutes: 15,
            long_pause_minutes: 15,
            long_wrap_up_minutes: 2,
        }
    }
}

impl FloorLimits {
    /// Seconds in `state` after which it counts as long; None for states that cannot run long.
    pub fn limit(&self, state: PresenceState) -> Option<i64> {
        let minutes = match state {
            PresenceState::OnCall => self.long_call_minutes,
            PresenceState::Paused => self.long_pause_minutes,
            PresenceState::WrapUp => self.long_wrap_up_minutes,
            _ => return None,
        };
        Some(i64::from(minutes) * 60)
    }

    pub fn is_long(&self, state: PresenceState, seconds: i64) -> bool {
        self.limit(state).is_some_and(|limit| seconds > limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_mark_only_states_that_run_long() {
        let limits = FloorLimits {
            long_call_minutes: 20,
            ..FloorLimits::default()
        };
        assert!(!limits.is_long(PresenceState::OnCall, 20 * 60));
        assert!(limits.is_long(PresenceState::OnCall, 20 * 60 + 1));
        assert!(limits.is_long(PresenceState::WrapUp, 121));
        assert!(!limits.is_long(PresenceState::Ready, 10_000));
    }

    #[test]
    fn limits_come_from_the_config_with_defaults_for_what_is_left_out() {
        let limits: FloorLimits = toml::from_str("long_pause_minutes = 30").unwrap();
        assert_eq!(limits.long_pause_minutes, 30);
        assert_eq!(limits.long_call_minutes, 15);
        assert!(toml::from_str::<FloorLimits>("long_lunch_minutes = 30").is_err());
    }
}
