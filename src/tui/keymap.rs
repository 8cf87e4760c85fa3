//! Keybindings are data: every action has a name and a list of keys, the defaults below can be
//! overridden from the config file (`[keys] claim_next = ["n", "ctrl-n"]`), and the help overlay
//! and footer are generated from the same table, so they never disagree with what keys do.

use std::collections::HashMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub use crate::console_settings::Action;

/// One key with its modifiers, as written in the config file: "n", "G", "ctrl-c", "shift-tab".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    pub fn from_event(event: &KeyEvent) -> Key {
        // Shift is folded into the character for letters and symbols; kept only for BackTab.
        Key {
            code: event.code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        }
    }

    pub fn parse(text: &str) -> Result<Key, String> {
        let mut key = Key {
            code: KeyCode::Null,
            ctrl: false,
            alt: false,
        };
        let mut rest = text;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                key.ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                key.alt = true;
                rest = r;
            } else {
                break;
            }
        }
        key.code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "shift-tab" | "backtab" => KeyCode::BackTab,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" => KeyCode::PageUp,
            "pgdn" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "delete" => KeyCode::Delete,
            s if s.chars().count() == 1 => KeyCode::Char(s.chars().next().unwrap_or(' ')),
            s if s.len() > 1 && s.starts_with('f') && s[1..].parse::<u8>().is_ok() => {
                KeyCode::F(s[1..].parse().unwrap_or(1))
            }
            _ => return Err(format!("unknown key '{text}' (e.g. n, G, ctrl-c, shift-tab, pgdn, f5)")),
        };
        Ok(key)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            write!(f, "Ctrl-")?;
        }
        if self.alt {
            write!(f, "Alt-")?;
        }
        match self.code {
            KeyCode::Enter => write!(f, "Enter"),
            KeyCode::Esc => write!(f, "Esc"),
            KeyCode::Tab => write!(f, "Tab"),
            KeyCode::BackTab => write!(f, "Shift-Tab"),
            KeyCode::Up => write!(f, "↑"),
            KeyCode::Down => write!(f, "↓"),
            KeyCode::Left => write!(f, "←"),
            KeyCode::Right => write!(f, "→"),
            KeyCode::PageUp => write!(f, "PgUp"),
            KeyCode::PageDown => write!(f, "PgDn"),
            KeyCode::Home => write!(f, "Home"),
            KeyCode::End => write!(f, "End"),
            KeyCode::Char(' ') => write!(f, "Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Keymap {
    by_key: HashMap<Key, Action>,
    by_action: HashMap<Action, Vec<Key>>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::with_overrides(&HashMap::new()).unwrap_or_else(|_| Keymap {
            by_key: HashMap::new(),
            by_action: HashMap::new(),
        })
    }
}

impl Keymap {
    /// The defaults with some actions rebound. An override replaces all keys of that action;
    /// a key bound to two actions is an error, so a config can never make a key ambiguous.
    pub fn with_overrides(overrides: &HashMap<Action, Vec<String>>) -> Result<Keymap, String> {
        let mut by_key = HashMap::new();
        let mut by_action = HashMap::new();
        for &action in Action::ALL {
            let keys: Vec<Key> = match overrides.get(&action) {
                Some(texts) => texts.iter().map(|t| Key::parse(t)).collect::<Result<_, _>>()?,
                None => action
                    .default_keys()
                    .iter()
                    .map(|t| Key::parse(t))
                    .collect::<Result<_, _>>()?,
            };
            for key in &keys {
                if let Some(other) = by_key.insert(*key, action) {
                    return Err(format!(
                        "key {key} is bound to both '{}' and '{}'",
                        other.label(),
                        action.label()
                    ));
                }
            }
            by_action.insert(action, keys);
        }
        Ok(Keymap { by_key, by_action })
    }

    pub fn action(&self, event: &KeyEvent) -> Option<Action> {
        self.by_key.get(&Key::from_event(event)).copied()
    }

    /// The first key of an action, as shown in the footer and help ("n", "Ctrl-r").
    pub fn key_for(&self, action: Action) -> String {
        self.by_action
            .get(&action)
            .and_then(|k| k.first())
            .map(|k| k.to_string())
            .unwrap_or_else(|| "-".into())
    }

    pub fn keys_for(&self, action: Action) -> String {
        self.by_action
            .get(&action)
            .map(|keys| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(" / "))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn defaults_cover_the_named_keys() {
        let map = Keymap::default();
        assert_eq!(
            map.action(&press(KeyCode::Char('n'), KeyModifiers::NONE)),
            Some(Action::ClaimNext)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            map.action(&press(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::FocusPrev)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('c'), KeyModifiers::NONE)),
            Some(Action::StartCall)
        );
    }

    #[test]
    fn overrides_rebind_and_conflicts_are_refused() {
        let mut overrides = HashMap::new();
        overrides.insert(Action::ClaimNext, vec!["space".to_string()]);
        let map = Keymap::with_overrides(&overrides).unwrap();
        assert_eq!(
            map.action(&press(KeyCode::Char(' '), KeyModifiers::NONE)),
            Some(Action::ClaimNext)
        );
        assert_eq!(map.action(&press(KeyCode::Char('n'), KeyModifiers::NONE)), None);
        overrides.insert(Action::ClaimNext, vec!["c".to_string()]);
        assert!(Keymap::with_overrides(&overrides)
            .unwrap_err()
            .contains("bound to both"));
        overrides.insert(Action::ClaimNext, vec!["hyper-x".to_string()]);
        assert!(Keymap::with_overrides(&overrides).unwrap_err().contains("unknown key"));
    }
}
