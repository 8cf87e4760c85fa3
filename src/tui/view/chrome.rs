//! Header, footer (the keys that work here) and the status line.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::fit::{fit, width};
use super::Theme;
use crate::domain::authority::Permission;
use crate::tui::app::{App, Level, Modal, Pane};
use crate::tui::forms::OutcomeFocus;
use crate::tui::keymap::Action;

pub fn header(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let badge = app.security().map_or("", |s| s.badge());
    let mut database = app.database().to_string();
    let connection = match (app.offline_copy(), app.online(), badge) {
        // A copy is worked without the floor: what matters is whose it is and until when.
        (Some(copy), ..) => {
            let until = copy.expires_at.with_timezone(&chrono::Local).format("%a %d %b %H:%M");
            database = format!("from {}", copy.floor.as_deref().unwrap_or("the floor"));
            format!("OFFLINE COPY until {until}")
        }
        (None, false, _) => "○ OFFLINE".to_string(),
        (None, true, "") => "● online".to_string(),
        (None, true, badge) => format!("● online {badge}"),
    };
    let clock = app.now().with_timezone(&chrono::Local).format("%H:%M:%S").to_string();
    // Most important first: the database name is the part cut on narrow screens.
    let left = format!(
        " coldcall │ {} │ {} │ {} │ {}",
        crate::display::printable(&app.agent().name),
        app.agent_state().label(),
        connection,
        database,
    );
    let width = area.width as usize;
    let room = width.saturating_sub(clock.len() + 2);
    let left = fit(&left, room);
    let pad = width.saturating_sub(super::fit::width(&left) + clock.len() + 1);
    let line = format!("{left}{}{clock} ", " ".repeat(pad));
    frame.render_widget(Paragraph::new(line).style(theme.header()), area);
}

pub fn footer(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let keys = app.keymap();
    let hints: Vec<(String, &str)> = match app.modal() {
        Some(Modal::Outcome(form)) => match form.focus {
            OutcomeFocus::Disposition => vec![
                ("key".into(), "outcome"),
                ("Tab".into(), "notes/fields"),
                ("Enter".into(), "save"),
                ("Esc".into(), "back to the call"),
            ],
            OutcomeFocus::Notes => vec![
                ("Enter".into(), "new line"),
                ("Ctrl-s".into(), "save"),
                ("Tab".into(), "next field"),
                ("Esc".into(), "outcomes"),
            ],
            OutcomeFocus::Callback => vec![
                ("type".into(), "YYYY-MM-DD HH:MM"),
                ("Enter".into(), "save"),
                ("Tab".into(), "next field"),
                ("Esc".into(), "outcomes"),
            ],
            OutcomeFocus::Status => vec![
                ("←/→".into(), "change status"),
                ("Enter".into(), "save"),
                ("Tab".into(), "next field"),
                ("Esc".into(), "outcomes"),
            ],
        },
        Some(Modal::Help) => vec![("any key".into(), "close")],
        Some(Modal::ConfirmDelete(..) | Modal::ConfirmQuit) => vec![("y".into(), "yes"), ("any other".into(), "no")],
        Some(Modal::Status(_)) => vec![
            ("↑/↓".into(), "status"),
            ("type".into(), "reason"),
            ("Enter".into(), "save"),
            ("Esc".into(), "cancel"),
        ],
        Some(Modal::Edit(form)) if form.on_priority() => vec![
            ("←/→".into(), "change priority"),
            ("Tab".into(), "next field"),
            ("Enter".into(), "save"),
            ("Esc".into(), "cancel"),
        ],
        Some(Modal::Contact(_) | Modal::Filter(_)) => vec![
            ("Tab".into(), "next field"),
            ("←/→".into(), "change a choice"),
            ("Enter".into(), "save"),
            ("Esc".into(), "cancel"),
        ],
        Some(Modal::Checkout(_)) => vec![
            ("Tab".into(), "next field"),
            ("Enter".into(), "take them"),
            ("Esc".into(), "cancel"),
        ],
        Some(Modal::Pause(_) | Modal::Release(..) | Modal::Assign(_) | Modal::Merge(_)) => {
            vec![
                ("type".into(), "text"),
                ("Enter".into(), "ok"),
                ("Esc".into(), "cancel"),
            ]
        }
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
            if app.may(Permission::WatchFloor) {
                actions.push(Action::ToggleFloor);
            }
            if app.may(Permission::AssignToOther) {
                actions.push(Action::Assign);
            }
            if app.focus() == Pane::Queue {
                actions.extend([
                    Action::Search,
                    Action::Open,
                    Action::Filter,
                    Action::NextTab,
                    Action::AddLead,
                ]);
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
    // Whole hints only: the ones that do not fit are left out rather than cut mid-word.
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for (key, label) in hints {
        let label = format!(" {label}  ");
        let needed = width(&key) + width(label.trim_end());
        if used + needed > area.width as usize {
            break;
        }
        used += width(&key) + width(&label);
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::styled(label, theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn status_line(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    let mut room = area.width as usize;
    if !app.pending().is_empty() {
        let kept = format!(" {} unsaved, retrying │", app.pending().len());
        room = room.saturating_sub(width(&kept));
        spans.push(Span::styled(kept, theme.warn()));
    }
    if let Some(status) = app.status().message() {
        let style = match status.level {
            Level::Info => theme.info(),
            Level::Warn => theme.warn(),
            Level::Error => theme.error(),
        };
        spans.push(Span::styled(fit(&format!(" {}", status.text), room), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

#[cfg(test)]
mod tests {
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    use crate::tui::app::App;
    use crate::tui::keymap::Keymap;
    use crate::tui::view::Theme;

    #[test]
    fn at_80_columns_the_database_path_yields_to_the_clock() {
        let app = App::new(
            crate::tui::app::tests::agent(crate::domain::Role::Agent),
            "postgres://dialer@db.floor.example.com:5432/coldcall_production_eu_west".into(),
            "US".into(),
            Keymap::default(),
            chrono::Utc::now(),
        );
        let mut terminal = Terminal::new(TestBackend::new(80, 1)).unwrap();
        terminal
            .draw(|frame| super::header(&app, &Theme { color: false }, frame, frame.area()))
            .unwrap();
        let line = terminal.backend().to_string();
        assert!(line.contains("… "), "the path is cut with an ellipsis: {line}");
        let clock = regex_free_clock(&line);
        assert!(clock, "the clock stays whole at the right: {line}");
    }

    #[test]
    fn the_header_says_whether_the_connection_is_encrypted() {
        use crate::store::target::ConnectionSecurity;
        let mut app = App::new(
            crate::tui::app::tests::agent(crate::domain::Role::Agent),
            "postgres://db.floor.example.com/coldcall".into(),
            "US".into(),
            Keymap::default(),
            chrono::Utc::now(),
        );
        let draw = |app: &App| {
            let mut terminal = Terminal::new(TestBackend::new(120, 1)).unwrap();
            terminal
                .draw(|frame| super::header(app, &Theme { color: false }, frame, frame.area()))
                .unwrap();
            terminal.backend().to_string()
        };
        for (security, shown) in [
            (ConnectionSecurity::Plaintext, "⚠ NOT ENCRYPTED"),
            (ConnectionSecurity::EncryptedUnverified, "TLS unverified"),
            (ConnectionSecurity::Verified, "TLS ✓"),
        ] {
            app.on_reply(crate::tui::request::Reply::Security(security));
            let line = draw(&app);
            assert!(line.contains(shown), "{security:?} shows {shown:?}: {line}");
        }
        app.on_reply(crate::tui::request::Reply::Security(ConnectionSecurity::LocalFile));
        let line = draw(&app);
        assert!(
            !line.contains("TLS") && !line.contains("ENCRYPTED"),
            "a local file has no badge: {line}"
        );
    }

    #[test]
    fn an_offline_copy_says_so_until_when_and_from_which_floor() {
        let mut app = App::new(
            crate::tui::app::tests::agent(crate::domain::Role::Agent),
            "/home/ann/road.db".into(),
            "US".into(),
            Keymap::default(),
            chrono::Utc::now(),
        );
        let expires_at = chrono::Utc::now() + chrono::Duration::hours(48);
        app.on_reply(crate::tui::request::Reply::OfflineCopy(Some(Box::new(
            crate::store::offline::Checkout {
                id: uuid::Uuid::nil(),
                agent_id: 1,
                created_by: Some(1),
                created_at: chrono::Utc::now(),
                expires_at,
                floor: Some("postgres://db.floor.example.com/coldcall".into()),
                closed_at: None,
                last_sync_at: None,
                last_report: None,
            },
        ))));
        let draw = |width| {
            let mut terminal = Terminal::new(TestBackend::new(width, 1)).unwrap();
            terminal
                .draw(|frame| super::header(&app, &Theme { color: false }, frame, frame.area()))
                .unwrap();
            terminal.backend().to_string()
        };
        let until = expires_at
            .with_timezone(&chrono::Local)
            .format("%a %d %b %H:%M")
            .to_string();
        let wide = draw(160);
        assert!(wide.contains(&format!("OFFLINE COPY until {until}")), "{wide}");
        assert!(wide.contains("from postgres://db.floor.example.com/coldcall"), "{wide}");
        assert!(!wide.contains("road.db") && !wide.contains("online"), "{wide}");
        let narrow = draw(80);
        assert!(narrow.contains("OFFLINE COPY until"), "kept at 80 columns: {narrow}");
        assert!(regex_free_clock(&narrow), "{narrow}");
    }

    /// The footer offers the floor and assigning to those the domain lets do them, no one else.
    #[test]
    fn the_footer_offers_supervisors_keys_to_supervisors_only() {
        use crate::domain::Role;
        let footer = |role: Role| {
            let app = App::new(
                crate::tui::app::tests::agent(role),
                String::new(),
                "US".into(),
                Keymap::default(),
                chrono::Utc::now(),
            );
            let mut terminal = Terminal::new(TestBackend::new(200, 1)).unwrap();
            terminal
                .draw(|frame| super::footer(&app, &Theme { color: false }, frame, frame.area()))
                .unwrap();
            terminal.backend().to_string()
        };
        let agent = footer(Role::Agent);
        assert!(!agent.contains("floor / leads") && !agent.contains("assign"), "{agent}");
        for role in [Role::Supervisor, Role::Admin] {
            let line = footer(role);
            assert!(
                line.contains("F floor / leads") && line.contains("A assign/hand on"),
                "{line}"
            );
        }
    }

    /// "hh:mm:ss " at the end of the line.
    fn regex_free_clock(line: &str) -> bool {
        let line = line.trim_end_matches(['"', '\n']).trim_end();
        let tail: Vec<char> = line.chars().rev().take(8).collect();
        tail.len() == 8 && tail[2] == ':' && tail[5] == ':'
    }
}
