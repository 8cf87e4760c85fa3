//! Header, footer (the keys that work here) and the status line.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::Theme;
use crate::tui::app::{App, Level, Modal, Pane};
use crate::tui::keymap::Action;

pub fn header(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let connection = if app.online() { "● online" } else { "○ OFFLINE" };
    let clock = app.now().with_timezone(&chrono::Local).format("%H:%M:%S").to_string();
    // Most important first: the database name is the part cut on narrow screens.
    let left = format!(
        " coldcall │ {} │ {} │ {} │ {}",
        crate::display::printable(&app.agent().name),
        app.agent_state().label(),
        connection,
        app.database(),
    );
    let width = area.width as usize;
    let room = width.saturating_sub(clock.len() + 1);
    let left: String = left.chars().take(room).collect();
    let pad = width.saturating_sub(left.chars().count() + clock.len() + 1);
    let line = format!("{left}{}{clock} ", " ".repeat(pad));
    frame.render_widget(Paragraph::new(line).style(theme.header()), area);
}

pub fn footer(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let keys = app.keymap();
    let hints: Vec<(String, &str)> = match app.modal() {
        Some(Modal::Outcome(_)) => vec![
            ("key".into(), "outcome"),
            ("Tab".into(), "notes/fields"),
            ("Enter".into(), "save"),
            ("Esc".into(), "back"),
        ],
        Some(Modal::Help) => vec![("any key".into(), "close")],
        Some(Modal::ConfirmDelete(..) | Modal::ConfirmQuit) => vec![("y".into(), "yes"), ("any other".into(), "no")],
        Some(_) => vec![
            ("Tab".into(), "next field"),
            ("Enter".into(), "save"),
            ("Esc".into(), "cancel"),
        ],
        None if app.lists().search().editing() => {
            vec![
                ("type".into(), "search"),
                ("Enter".into(), "results"),
                ("Esc".into(), "clear"),
            ]
        }
        None if app.is_supervising() => {
            let mut actions = vec![Action::Help, Action::Quit];
            if app.focus() == Pane::Calls {
                actions.push(Action::ReleaseLock);
            } else {
                actions.extend([Action::Assign, Action::WidenRange, Action::NextTab]);
            }
            actions.extend([Action::ToggleFloor, Action::FocusNext]);
            actions.into_iter().map(|a| (keys.key_for(a), a.label())).collect()
        }
        None => {
            // Most important first: the footer is cut at the right edge on narrow screens.
            let mut actions = Vec::new();
            if app.call().is_some() {
                actions.push(Action::EndCall);
            } else {
                actions.push(Action::ClaimNext);
                if app.current_lead().is_some() {
                    actions.push(Action::StartCall);
                }
            }
            actions.extend([Action::Help, Action::Quit]);
            if app.agent().role.can_force() {
                actions.extend([Action::ToggleFloor, Action::Assign]);
            }
            if app.focus() == Pane::Queue {
                actions.extend([Action::Search, Action::Open, Action::Filter, Action::NextTab]);
            } else if app.focus() == Pane::Detail {
                actions.extend([
                    Action::ChangeStatus,
                    Action::EditLead,
                    Action::AddContact,
                    Action::NextTab,
                    Action::Back,
                ]);
            }
            actions.extend([Action::FocusNext, Action::TogglePause]);
            actions.into_iter().map(|a| (keys.key_for(a), a.label())).collect()
        }
    };
    let mut spans = vec![Span::raw(" ")];
    for (key, label) in hints {
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::styled(format!(" {label}  "), theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn status_line(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    if !app.pending().is_empty() {
        spans.push(Span::styled(
            format!(" {} unsaved, retrying │", app.pending().len()),
            theme.warn(),
        ));
    }
    if let Some(status) = app.status().message() {
        let style = match status.level {
            Level::Info => theme.info(),
            Level::Warn => theme.warn(),
            Level::Error => theme.error(),
        };
        spans.push(Span::styled(format!(" {}", status.text), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
