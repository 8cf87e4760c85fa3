//! Forms and dialogs drawn over the console.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::{clock, Theme};
use crate::display::printable;
use crate::domain::LeadStatus;
use crate::tui::app::{App, Modal};
use crate::tui::forms::{ContactForm, EditForm, Field, FilterForm, OutcomeFocus, OutcomeForm, StatusForm};
use crate::tui::keymap::Action;

pub fn render(app: &App, modal: &Modal, theme: &Theme, frame: &mut Frame, screen: Rect) {
    let (title, width, height) = match modal {
        Modal::Outcome(f) => (
            " Call outcome ",
            70,
            f.dispositions.len() as u16 + 10 + f.notes.value().lines().count() as u16,
        ),
        Modal::Status(_) => (" Change status ", 50, 14),
        Modal::Edit(f) if f.is_new() => (" Add a lead ", 76, f.fields.len() as u16 + 2),
        Modal::Edit(f) => (" Edit lead ", 76, f.fields.len() as u16 + 2),
        Modal::Contact(_) => (" Add contact point ", 60, 10),
        Modal::Filter(_) => (" Filter All leads and search ", 50, 10),
        Modal::Pause(_) => (" Pause ", 50, 5),
        Modal::ConfirmDelete(..) => (" Delete lead ", 50, 5),
        Modal::Release(..) => (" Release call lock ", 60, 6),
        Modal::Assign(_) => (" Assign ", 60, 5),
        Modal::Merge(_) => (" Merge a duplicate ", 64, 6),
        Modal::Checkout(_) => (" Take leads away in an offline copy ", 70, 7),
        Modal::ConfirmQuit => (" Quit ", 56, 6),
        Modal::Help => {
            let one_column = Action::ALL.len() as u16 + 2;
            let height = if one_column > screen.height {
                Action::ALL.len().div_ceil(2) as u16 + 2
            } else {
                one_column
            };
            (" Keys ", 64, height)
        }
    };
    let area = centered(screen, width, height);
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.focused_border())
        .title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    match modal {
        Modal::Outcome(form) => outcome(form, app.now(), theme, frame, inner),
        Modal::Status(form) => status(form, theme, frame, inner),
        Modal::Edit(form) => edit(form, theme, frame, inner),
        Modal::Contact(form) => contact(form, theme, frame, inner),
        Modal::Filter(form) => filter(form, theme, frame, inner),
        Modal::Pause(field) => {
            let lines = vec![
                Line::from("Why are you pausing? (optional, Enter to pause)"),
                field_line(field, true, theme),
            ];
            frame.render_widget(Paragraph::new(lines), inner);
            cursor(frame, field, inner.x + field.label.len() as u16 + 2, inner.y + 1);
        }
        Modal::ConfirmDelete(_, name) => {
            let text = format!(
                "Delete {}? It leaves queues and search; its history stays. (y/n)",
                printable(name)
            );
            frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), inner);
        }
        Modal::Release(_, agent, field) => {
            let lines = vec![
                Line::from(format!("End {}'s call now? It is kept as abandoned.", printable(agent))),
                Line::from("Why (kept on the call and in the audit log):"),
                field_line(field, true, theme),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
            cursor(frame, field, inner.x + field.label.len() as u16 + 2, inner.y + 2);
        }
        Modal::Assign(form) => {
            let lines = vec![
                Line::from(format!("Give {} to:", printable(&form.what))),
                field_line(&form.agent, true, theme),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
            cursor(
                frame,
                &form.agent,
                inner.x + form.agent.label.len() as u16 + 2,
                inner.y + 1,
            );
        }
        Modal::Merge(form) => {
            let lines = vec![
                Line::from(format!("Keep {}; merge into it the lead:", printable(&form.keep_name))),
                field_line(&form.other, true, theme),
                Line::from(Span::styled(
                    "Its calls, history, contact points and callbacks move; it is deleted.",
                    theme.dim(),
                )),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
            cursor(
                frame,
                &form.other,
                inner.x + form.other.label.len() as u16 + 2,
                inner.y + 1,
            );
        }
        Modal::Checkout(form) => {
            let lines = vec![
                Line::from("Reserved for you until you sync them back; no one else calls them."),
                field_line(&form.leads, form.focus == 0, theme),
                field_line(&form.hours, form.focus == 1, theme),
                field_line(&form.file, form.focus == 2, theme),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
            let field = [&form.leads, &form.hours, &form.file][form.focus];
            cursor(
                frame,
                field,
                inner.x + field.label.len() as u16 + 2,
                inner.y + 1 + form.focus as u16,
            );
        }
        Modal::ConfirmQuit => {
            let text = "A call is in progress. Quit anyway? Its lock expires after the TTL and the call is \
                        recorded as abandoned. (y/n)";
            frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), inner);
        }
        Modal::Help => help(app, theme, frame, inner),
    }
}

fn centered(screen: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(screen.width);
    let height = height.min(screen.height);
    Rect {
        x: screen.x + (screen.width - width) / 2,
        y: screen.y + (screen.height - height) / 2,
        width,
        height,
    }
}

fn field_line<'a>(field: &'a Field, focused: bool, theme: &Theme) -> Line<'a> {
    let style = if focused {
        theme.selected()
    } else {
        ratatui::style::Style::new()
    };
    let mut spans = vec![
        Span::styled(format!("{}: ", field.label), theme.dim()),
        Span::styled(printable(field.value()), style),
    ];
    if let Some(error) = &field.error {
        spans.push(Span::styled(format!("  ✗ {error}"), theme.error()));
    }
    Line::from(spans)
}

fn cursor(frame: &mut Frame, field: &Field, x: u16, y: u16) {
    frame.set_cursor_position((x + field.input.visual_cursor() as u16, y));
}

fn outcome(form: &OutcomeForm, now: chrono::DateTime<chrono::Utc>, theme: &Theme, frame: &mut Frame, area: Rect) {
    let [head, list, rest] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(form.dispositions.len() as u16),
        Constraint::Min(4),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(format!(
            "talk time {} · press the outcome's key",
            clock(form.duration_s.into())
        ))
        .style(theme.dim()),
        head,
    );
    let items: Vec<Line> = form
        .dispositions
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let chosen = form.selected == Some(i);
            let marker = if chosen { "●" } else { " " };
            let style = if chosen {
                theme.selected()
            } else {
                ratatui::style::Style::new()
            };
            let mut flags = Vec::new();
            if d.is_callback {
                flags.push("asks for a time");
            }
            if d.is_dnc {
                flags.push("adds to do-not-call");
            }
            Line::from(vec![
                Span::styled(format!(" {marker} "), style),
                Span::styled(
                    d.hotkey.map(|h| format!("[{h}] ")).unwrap_or_else(|| "    ".into()),
                    theme.key(),
                ),
                Span::styled(d.label.clone(), style),
                Span::styled(
                    if flags.is_empty() {
                        String::new()
                    } else {
                        format!("  ({})", flags.join(", "))
                    },
                    theme.dim(),
                ),
            ])
        })
        .collect();
    let list_style = if form.focus == OutcomeFocus::Disposition {
        theme.title()
    } else {
        theme.dim()
    };
    frame.render_widget(Paragraph::new(items).style(list_style), list);

    let mut lines = Vec::new();
    let notes_focused = form.focus == OutcomeFocus::Notes;
    lines.push(Line::from(Span::styled(
        if notes_focused {
            "Notes (Enter: new line, Ctrl-s: save, Tab: next, Esc: outcomes):"
        } else {
            "Notes (Tab to write):"
        },
        theme.dim(),
    )));
    for line in form.notes.value().split('\n') {
        lines.push(Line::from(Span::styled(
            format!("  {}", printable(line)),
            if notes_focused {
                theme.selected()
            } else {
                ratatui::style::Style::new()
            },
        )));
    }
    if form.chosen().is_some_and(|d| d.is_callback) {
        lines.push(field_line(&form.callback, form.focus == OutcomeFocus::Callback, theme));
        // The time is typed on the agent's clock; read it back as the lead will live it.
        let zone = now.with_timezone(&chrono::Local).format("UTC%:z");
        let mut note = vec![Span::styled(format!("  your clock ({zone}) "), theme.dim())];
        let time = form.callback_time();
        if let Some(time) = &time {
            note.push(Span::styled(time.text.clone(), theme.dim()));
        }
        lines.push(Line::from(note));
        if let Some(warning) = time.and_then(|t| t.warning(form.hours())) {
            lines.push(Line::from(Span::styled(format!("  ⚠ {warning}"), theme.warn())));
        }
    }
    let status = form.status.map(LeadStatus::label).unwrap_or("as the outcome says");
    let status_style = if form.focus == OutcomeFocus::Status {
        theme.selected()
    } else {
        ratatui::style::Style::new()
    };
    lines.push(Line::from(vec![
        Span::styled("Next status: ", theme.dim()),
        Span::styled(format!("‹ {status} ›"), status_style),
    ]));
    if let Some(error) = &form.error {
        lines.push(Line::from(Span::styled(format!("✗ {error}"), theme.error())));
    }
    frame.render_widget(Paragraph::new(lines), rest);
}

fn status(form: &StatusForm, theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = LeadStatus::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let style = if i == form.cursor {
                theme.selected()
            } else {
                ratatui::style::Style::new()
            };
            Line::from(Span::styled(format!("  {}", s.label()), style))
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(field_line(&form.reason, true, theme));
    frame.render_widget(Paragraph::new(lines), area);
    let y = area.y + LeadStatus::ALL.len() as u16 + 1;
    cursor(frame, &form.reason, area.x + form.reason.label.len() as u16 + 2, y);
}

fn edit(form: &EditForm, theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    for (i, field) in form.fields.iter().enumerate() {
        if field.name == "priority" {
            let style = if i == form.focus {
                theme.selected()
            } else {
                ratatui::style::Style::new()
            };
            let shown = form.priority().map_or(field.value(), |p| p.label());
            lines.push(Line::from(vec![
                Span::styled(format!("{}: ", field.label), theme.dim()),
                Span::styled(format!("‹ {shown} ›"), style),
            ]));
            continue;
        }
        lines.push(field_line(field, i == form.focus, theme));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    if let Some(field) = form.fields.get(form.focus).filter(|_| !form.on_priority()) {
        cursor(
            frame,
            field,
            area.x + field.label.len() as u16 + 2,
            area.y + form.focus as u16,
        );
    }
}

fn contact(form: &ContactForm, theme: &Theme, frame: &mut Frame, area: Rect) {
    let pick = |i: usize| {
        if form.focus == i {
            theme.selected()
        } else {
            ratatui::style::Style::new()
        }
    };
    let lines = vec![
        Line::from(vec![
            Span::styled("Kind: ", theme.dim()),
            Span::styled(format!("‹ {} ›", form.kind), pick(0)),
        ]),
        field_line(&form.value, form.focus == 1, theme),
        field_line(&form.label, form.focus == 2, theme),
        Line::from(vec![
            Span::styled("Primary: ", theme.dim()),
            Span::styled(if form.primary { "[x]" } else { "[ ]" }, pick(3)),
        ]),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

fn filter(form: &FilterForm, theme: &Theme, frame: &mut Frame, area: Rect) {
    let pick = |i: usize| {
        if form.focus == i {
            theme.selected()
        } else {
            ratatui::style::Style::new()
        }
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled("Status:   ", theme.dim()),
            Span::styled(
                format!("‹ {} ›", form.status.map(|s| s.label()).unwrap_or("any")),
                pick(0),
            ),
        ]),
        Line::from(vec![
            Span::styled("Priority: ", theme.dim()),
            Span::styled(
                format!("‹ {} ›", form.priority.map(|p| p.label()).unwrap_or("any")),
                pick(1),
            ),
        ]),
        Line::from(vec![
            Span::styled("Assigned: ", theme.dim()),
            Span::styled(
                if form.mine_only {
                    "‹ to me ›"
                } else {
                    "‹ anyone ›"
                },
                pick(2),
            ),
        ]),
        field_line(&form.min_score, form.focus == 3, theme),
        field_line(&form.max_score, form.focus == 4, theme),
    ];
    if let Some(error) = &form.error {
        lines.push(Line::from(Span::styled(format!("✗ {error}"), theme.error())));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn help(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    // One column when it fits, two on short screens (every key must be visible at 80×24).
    let columns = if Action::ALL.len() as u16 > area.height { 2 } else { 1 };
    let per_column = Action::ALL.len().div_ceil(columns);
    let key_width = if columns == 1 { 18 } else { 12 };
    let areas = Layout::horizontal(vec![Constraint::Ratio(1, columns as u32); columns]).split(area);
    for (column, actions) in Action::ALL.chunks(per_column).enumerate() {
        let lines: Vec<Line> = actions
            .iter()
            .map(|a| {
                Line::from(vec![
                    Span::styled(format!("{:<key_width$}", app.keymap().keys_for(*a)), theme.key()),
                    Span::raw(a.label()),
                ])
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), areas[column]);
    }
}
