//! The supervisor's floor: every agent with state and time in state (marked when it runs long),
//! today's figures per agent and for the floor, and the lead funnel.

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::{clock, Theme};
use crate::display::printable;
use crate::domain::PresenceState;
use crate::store::AgentFigures;
use crate::tui::app::{App, Floor, Pane};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let block = super::pane(
        format!(
            " Floor · figures for {} ([ ] step, w widen) ",
            app.floor_view().range().label(app.now())
        ),
        app.focus() == Pane::Queue,
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(floor) = app.floor_view().floor() else {
        frame.render_widget(Paragraph::new("loading…").style(theme.dim()), inner);
        return;
    };
    let agents_height = (floor.presence.len() as u16 + 1).min(inner.height / 3).max(2);
    let callbacks_height = if floor.overdue.is_empty() {
        0
    } else {
        (floor.overdue.len() as u16 + 1).min(inner.height / 4).max(2)
    };
    let offline_height = u16::from(!floor.offline.is_empty());
    let [agents_area, figures_area, callbacks_area, offline_area, funnel_area] = Layout::vertical([
        Constraint::Length(agents_height),
        Constraint::Min(2),
        Constraint::Length(callbacks_height),
        Constraint::Length(offline_height),
        Constraint::Length(1),
    ])
    .areas(inner);

    let rows: Vec<Row> = floor
        .presence
        .iter()
        .map(|p| {
            let (state, reason, since_at) = crate::tui::floor::shown_state(p, app.active_calls().all());
            let in_state = since_at.map(|since| (app.now() - since).num_seconds()).unwrap_or(0);
            let long = app.floor_view().limits().is_long(state, in_state);
            let style = if long { theme.warn() } else { Style::new() };
            let shown = match &reason {
                Some(reason) => format!("{} ({})", state.label(), printable(reason)),
                None => state.label().to_string(),
            };
            Row::new(vec![
                Cell::from(printable(&p.agent_name)),
                Cell::from(Span::styled(shown, style)),
                Cell::from(if state == PresenceState::Offline {
                    "-".into()
                } else {
                    clock(in_state)
                }),
                Cell::from(since(p.heartbeat_at, app.now())),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Fill(2),
            Constraint::Length(8),
            Constraint::Length(12),
        ],
    )
    .header(Row::new(vec!["Agent", "State", "For", "Seen"]).style(theme.title()));
    frame.render_widget(table, agents_area);

    let figure_row = |a: &AgentFigures| {
        Row::new(vec![
            Cell::from(printable(&a.agent_name)),
            Cell::from(a.calls.to_string()),
            Cell::from(a.contacts.to_string()),
            Cell::from(clock(a.talk_seconds)),
            Cell::from(clock(a.average_call_seconds())),
            Cell::from(a.conversions.to_string()),
        ])
    };
    let mut rows: Vec<Row> = floor
        .figures
        .agents
        .iter()
        .filter(|a| a.calls > 0)
        .map(figure_row)
        .collect();
    rows.push(figure_row(&floor.figures.total()).style(theme.title()));
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(9),
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Length(12),
        ],
    )
    .header(Row::new(vec!["Agent", "Calls", "Contacts", "Talk", "Avg call", "Conversions"]).style(theme.title()));
    frame.render_widget(table, figures_area);

    overdue_callbacks(app, floor, theme, frame, callbacks_area);
    if !floor.offline.is_empty() {
        frame.render_widget(Paragraph::new(offline_copies(floor)), offline_area);
    }

    let funnel: Vec<String> = floor
        .figures
        .funnel
        .iter()
        .map(|(s, n)| format!("{} {n}", s.label()))
        .collect();
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(funnel.join(" · "), theme.dim()))),
        funnel_area,
    );
}

/// Callbacks past due, oldest first; the selected one is what `A` hands to another agent.
fn overdue_callbacks(app: &App, floor: &Floor, theme: &Theme, frame: &mut Frame, area: Rect) {
    if area.height == 0 {
        return;
    }
    let visible = area.height.saturating_sub(1) as usize;
    // Keep the selection on screen: scroll by whole rows past the last visible one.
    let selected = app.floor_view().selected();
    let skip = selected.saturating_sub(visible.saturating_sub(1));
    let rows: Vec<Row> = floor
        .overdue
        .iter()
        .enumerate()
        .skip(skip)
        .take(visible)
        .map(|(i, cb)| {
            let row = Row::new(vec![
                Cell::from(printable(&cb.agent_name)),
                Cell::from(printable(&cb.lead_name)),
                Cell::from(clock((app.now() - cb.due_at).num_seconds())),
                Cell::from(printable(cb.note.as_deref().unwrap_or(""))),
            ]);
            if i == selected && app.focus() == Pane::Queue {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Fill(2),
            Constraint::Length(12),
            Constraint::Fill(2),
        ],
    )
    .header(
        Row::new(vec![
            format!("Overdue ({})", floor.overdue.len()),
            "Lead".into(),
            "Late".into(),
            "Note".into(),
        ])
        .style(theme.title()),
    );
    frame.render_widget(table, area);
}

/// "Offline: ann 50 leads until Sat 05 Dec 14:41 · …": the leads no one on the floor may call.
fn offline_copies(floor: &Floor) -> String {
    let copies: Vec<String> = floor
        .offline
        .iter()
        .map(|c| {
            format!(
                "{} {} leads until {}",
                printable(&c.agent_name),
                c.leads,
                c.expires_at.with_timezone(&chrono::Local).format("%a %d %b %H:%M")
            )
        })
        .collect();
    format!("Offline: {}", copies.join(" · "))
}

fn since(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match t {
        Some(t) => format!("{} ago", clock((now - t).num_seconds())),
        None => "never".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_copies_name_the_agent_the_leads_and_the_end() {
        let until = chrono::Utc::now();
        let checkout = |name: &str, leads| crate::store::offline::OpenCheckout {
            id: uuid::Uuid::nil(),
            agent_name: name.into(),
            leads,
            expires_at: until,
            last_sync_at: None,
        };
        let floor = Floor {
            presence: Vec::new(),
            figures: crate::store::FloorFigures {
                from: until,
                to: until,
                agents: Vec::new(),
                funnel: Vec::new(),
            },
            overdue: Vec::new(),
            offline: vec![checkout("ann", 50), checkout("bob", 3)],
        };
        let local = until.with_timezone(&chrono::Local).format("%a %d %b %H:%M");
        assert_eq!(
            offline_copies(&floor),
            format!("Offline: ann 50 leads until {local} · bob 3 leads until {local}")
        );
    }
}
