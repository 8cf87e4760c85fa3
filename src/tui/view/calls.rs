//! Every active call on the floor, with a duration that ticks.

use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::{clock, Theme};
use crate::display::printable;
use crate::domain::phone::format_international;
use crate::tui::app::{App, Pane};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let focused = app.focus() == Pane::Calls;
    let calls = app.active_calls().all();
    let block = super::pane(format!(" Active calls ({}) ", calls.len()), focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if calls.is_empty() {
        frame.render_widget(Paragraph::new("no calls in progress").style(theme.dim()), inner);
        return;
    }
    let visible = inner.height.saturating_sub(1) as usize;
    let rows: Vec<Row> = calls
        .iter()
        .take(visible)
        .map(|c| {
            let mine = c.agent_id == app.agent().id;
            let row = Row::new(vec![
                Cell::from(printable(&c.agent_name)),
                Cell::from(printable(&c.lead_name)),
                Cell::from(printable(&c.company)),
                Cell::from(format_international(&c.phone_number)),
                Cell::from(clock((app.now() - c.started_at).num_seconds())),
            ]);
            if mine {
                row.style(theme.title())
            } else {
                row
            }
        })
        .collect();
    let selected = focused.then_some(app.active_calls().selected());
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Fill(2),
            Constraint::Fill(2),
            Constraint::Length(16),
            Constraint::Length(8),
        ],
    )
    .header(Row::new(vec!["Agent", "Lead", "Company", "Number", "Time"]).style(theme.title()))
    .row_highlight_style(theme.selected());
    let mut state = ratatui::widgets::TableState::default().with_selected(selected);
    frame.render_stateful_widget(table, inner, &mut state);
}
