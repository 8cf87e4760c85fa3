//! The open lead: contact detail and flags, its calls, its status history, and the call banner
//! with the number to dial in large type while a call is on.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use super::{clock, when, Theme};
use crate::display::{contact_value, printable};
use crate::domain::lead_zones;
use crate::domain::phone::format_international;
use crate::tui::app::{App, CurrentCall, Detail, DetailTab, Pane, Stage};

/// The height the lead's pane needs before the script is shown beside it during a call.
const SCRIPT_BESIDE_MIN_HEIGHT: u16 = 24;

pub fn render(app: &App, detail: &Detail, theme: &Theme, frame: &mut Frame, area: Rect) {
    let on_this_call = app.call().filter(|c| c.lead_id == detail.lead.id);
    let banner_height = if on_this_call.is_some() { 4 } else { 0 };
    let [banner, rest] = Layout::vertical([Constraint::Length(banner_height), Constraint::Min(3)]).areas(area);
    if let Some(call) = on_this_call {
        let seconds = app.call_seconds().unwrap_or(0);
        let lines = vec![
            Line::from(Span::styled(
                format!(
                    " {}  {}  {}",
                    banner_state(call),
                    clock(seconds),
                    printable(&call.lead_name)
                ),
                theme.on_call(),
            )),
            Line::from(Span::styled(
                match &call.line {
                    Some(_) => format!(" ☎  {}  via baresip", format_international(&call.phone)),
                    None => format!(" ☎  DIAL  {}", format_international(&call.phone)),
                },
                theme.on_call(),
            )),
        ];
        let block = Block::default().borders(Borders::ALL).border_style(theme.on_call());
        frame.render_widget(Paragraph::new(lines).style(theme.on_call()).block(block), banner);
    }

    let focused = app.focus() == Pane::Detail;
    let mut title = vec![Span::raw(" ")];
    for tab in DetailTab::ALL {
        let style = if tab == detail.tab {
            theme.selected()
        } else {
            theme.dim()
        };
        title.push(Span::styled(format!(" {} ", tab.title()), style));
        title.push(Span::raw(" "));
    }
    if detail.loading {
        title.push(Span::styled("loading… ", theme.dim()));
    }
    // On a tall screen the script reads beside the lead during the call; on a short one it
    // waits on its own tab (`]`), so the lead's detail is never pushed off an 80×24 screen.
    let beside = on_this_call.is_some()
        && detail.script.is_some()
        && detail.tab != DetailTab::Script
        && rest.height >= SCRIPT_BESIDE_MIN_HEIGHT;
    let (rest, script_area) = if beside {
        let [top, bottom] = Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(rest);
        (top, Some(bottom))
    } else {
        (rest, None)
    };
    if let Some(area) = script_area {
        let block = super::pane(Line::from(" Script (↑/↓ scroll) "), focused, theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        script(detail, theme, frame, inner);
    }
    let block = super::pane(Line::from(title), focused, theme);
    let inner = block.inner(rest);
    frame.render_widget(block, rest);
    match detail.tab {
        DetailTab::Info => info(app, detail, theme, frame, inner),
        DetailTab::Calls => calls(app, detail, theme, frame, inner),
        DetailTab::History => history(app, detail, theme, frame, inner),
        DetailTab::Script => script(detail, theme, frame, inner),
    }
}

/// The call script, filled in for the lead; ↑/↓ and PgUp/PgDn scroll it with the pane focused.
fn script(detail: &Detail, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(script) = &detail.script else {
        let text = "No script for this call. An admin stores one with: coldcall script set default FILE";
        frame.render_widget(
            Paragraph::new(Span::styled(text, theme.dim())).wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    let lines: Vec<Line> = script.text.lines().map(|l| Line::from(printable(l))).collect();
    let total = lines.len();
    let mut shown = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((detail.script_scroll, 0));
    if total > area.height as usize {
        shown = shown.block(Block::default().title_bottom(Line::from(Span::styled(
            format!(" {} · line {} of {total} ", script.name, detail.script_scroll + 1),
            theme.dim(),
        ))));
    }
    frame.render_widget(shown, area);
}

/// The call's state in the banner: the softphone's progress when it dials, with the end's
/// reason, else whether the agent has pressed end.
fn banner_state(call: &CurrentCall) -> String {
    let Some(line) = &call.line else {
        return match call.ended_at {
            Some(_) => "CALL ENDED".into(),
            None => "ON CALL".into(),
        };
    };
    match (line.stage(), &line.ended) {
        (Stage::Ended, Some(ended)) => format!("ENDED: {}", printable(&ended.reason)),
        (_, _) if line.hanging_up => "HANGING UP".into(),
        (Stage::Dialling, _) => "DIALLING".into(),
        (Stage::Ringing, _) => "RINGING".into(),
        (Stage::Answered, _) => "ANSWERED".into(),
        (Stage::Ended, None) => "ENDED".into(),
    }
}

fn info(app: &App, detail: &Detail, theme: &Theme, frame: &mut Frame, area: Rect) {
    let l = &detail.lead;
    let text = |s: &Option<String>| s.as_deref().map(printable).unwrap_or_else(|| "-".into());
    let label = |name: &str| Span::styled(format!("{name:<10}"), theme.dim());
    let mut flags = Vec::new();
    if l.do_not_call {
        flags.push(Span::styled("DO NOT CALL ", theme.flag()));
    }
    if l.do_not_email {
        flags.push(Span::styled("no email ", theme.flag()));
    }
    if l.consent_given {
        flags.push(Span::styled("consent ", theme.info()));
    } else {
        flags.push(Span::styled("no consent ", theme.dim()));
    }
    if l.deleted_at.is_some() {
        flags.push(Span::styled("DELETED ", theme.error()));
    }
    let mut lines = vec![
        Line::from(Span::styled(printable(&l.full_name()), theme.title())),
        Line::from(format!("{} · {}", text(&l.title), printable(&l.company))),
        Line::from(vec![label("phone"), Span::raw(format_international(&l.phone))]),
        Line::from(vec![label("email"), Span::raw(text(&l.email))]),
        // Where the zone comes from, worded as `lead show` words it ("… (from the number)").
        Line::from(vec![
            label("zone"),
            Span::raw(lead_zones(l.timezone.as_deref(), &l.phone, app.policy().default_timezone).to_string()),
        ]),
        Line::from(vec![
            label("status"),
            Span::raw(format!(
                "{}   priority {}   score {}",
                l.status.label(),
                l.priority.label(),
                l.lead_score
            )),
        ]),
        Line::from(vec![
            label("calls"),
            Span::raw(format!(
                "{} · last {} · next {}",
                attempts(l.call_attempts),
                when(l.last_call_at, app.now()),
                when(l.next_call_at, app.now())
            )),
        ]),
        Line::from(vec![
            label("quality"),
            Span::raw(format!("{}%   source {}", l.data_quality, text(&l.source))),
        ]),
        Line::from([vec![label("flags")], flags].concat()),
    ];
    for c in &detail.contacts {
        let primary = if c.is_primary { " (primary)" } else { "" };
        let tag = c
            .label
            .as_deref()
            .map(|l| format!(" {}", printable(l)))
            .unwrap_or_default();
        lines.push(Line::from(vec![
            label(c.kind.as_str()),
            Span::raw(format!("{}{tag}{primary}", contact_value(c.kind, &c.value))),
        ]));
    }
    if let Some(notes) = &l.notes {
        lines.push(Line::from(label("notes")));
        for line in notes.lines() {
            lines.push(Line::from(format!("  {}", printable(line))));
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn calls(app: &App, detail: &Detail, theme: &Theme, frame: &mut Frame, area: Rect) {
    if detail.calls.is_empty() {
        frame.render_widget(Paragraph::new("no calls yet").style(theme.dim()), area);
        return;
    }
    let visible = area.height.saturating_sub(1) as usize;
    let rows: Vec<Row> = detail
        .calls
        .iter()
        .take(visible)
        .map(|c| {
            Row::new(vec![
                Cell::from(when(Some(c.started_at), app.now())),
                Cell::from(printable(&c.agent_name)),
                Cell::from(
                    c.disposition
                        .as_deref()
                        .map_or_else(|| c.status.to_string(), |d| app.outcome_label(d)),
                ),
                Cell::from(c.duration_s.map(|d| clock(d.into())).unwrap_or_else(|| "-".into())),
                Cell::from(printable(&c.notes.clone().unwrap_or_default().replace('\n', " ⏎ "))),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(14),
            Constraint::Length(7),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(vec!["When", "Agent", "Outcome", "Time", "Notes"]).style(theme.title()));
    frame.render_widget(table, area);
}

fn history(app: &App, detail: &Detail, theme: &Theme, frame: &mut Frame, area: Rect) {
    let visible = area.height.saturating_sub(1) as usize;
    let rows: Vec<Row> = detail
        .statuses
        .iter()
        .take(visible)
        .map(|s| {
            Row::new(vec![
                Cell::from(when(Some(s.changed_at), app.now())),
                Cell::from(format!(
                    "{} → {}",
                    s.old_status.map(|o| o.label()).unwrap_or("·"),
                    s.new_status.label()
                )),
                Cell::from(printable(s.changed_by_name.as_deref().unwrap_or("system"))),
                Cell::from(printable(s.reason.as_deref().unwrap_or(""))),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(10),
            Constraint::Length(26),
            Constraint::Length(10),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(vec!["When", "Change", "By", "Why"]).style(theme.title()));
    frame.render_widget(table, area);
}

/// "1 attempt", "3 attempts".
fn attempts(n: i32) -> String {
    if n == 1 {
        "1 attempt".into()
    } else {
        format!("{n} attempts")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_attempt_is_singular() {
        assert_eq!(super::attempts(1), "1 attempt");
        assert_eq!(super::attempts(0), "0 attempts");
    }
}
