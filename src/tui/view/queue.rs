//! The lead queue: tabs, the search box, and a table that builds only the rows on screen.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;

use super::{when, Theme};
use crate::display::printable;
use crate::store::Lead;
use crate::tui::app::{App, Pane, QueueTab};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let focused = app.focus() == Pane::Queue;
    let block = super::pane(tabs_title(app, theme), focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let lists = app.lists();
    let search = lists.search();
    let show_search = search.visible();
    let [search_area, table_area] =
        Layout::vertical([Constraint::Length(u16::from(show_search)), Constraint::Min(1)]).areas(inner);
    if show_search {
        let value = printable(search.text());
        let count = search
            .results()
            .map(|r| format!("  {} found", r.len()))
            .unwrap_or_default();
        let line = Line::from(vec![
            Span::styled("/ ", theme.key()),
            Span::raw(value),
            Span::styled(count, theme.dim()),
        ]);
        frame.render_widget(Paragraph::new(line), search_area);
        if search.editing() {
            let x = search_area.x + 2 + search.cursor() as u16;
            frame.set_cursor_position((x.min(search_area.right().saturating_sub(1)), search_area.y));
        }
    }

    if lists.tab() == QueueTab::Callbacks && search.results().is_none() {
        callbacks_table(app, theme, frame, table_area);
        return;
    }
    let (leads, selected) = lists.shown();
    if leads.is_empty() {
        let text = if lists.loading() {
            "loading…"
        } else if search.results().is_some() {
            "no lead matches"
        } else if lists.tab() == QueueTab::Mine {
            "nothing assigned to you: press n for the next lead"
        } else {
            "no leads"
        };
        frame.render_widget(Paragraph::new(text).style(theme.dim()), table_area);
        return;
    }
    lead_table(app, theme, frame, table_area, leads, selected);
}

fn tabs_title(app: &App, theme: &Theme) -> Line<'static> {
    let lists = app.lists();
    let mut spans = vec![Span::raw(" ")];
    for tab in QueueTab::ALL {
        let style = if tab == lists.tab() {
            theme.selected()
        } else {
            theme.dim()
        };
        spans.push(Span::styled(format!(" {} ", tab.title()), style));
        spans.push(Span::raw(" "));
    }
    if *lists.filter() != Default::default() {
        spans.push(Span::styled("[filtered] ", theme.warn()));
    }
    if let Some(page) = lists.page_number() {
        spans.push(Span::styled(format!("page {page} "), theme.dim()));
    }
    Line::from(spans)
}

/// The rows around the selection that fit in `height`, and the selection's index among them.
fn window(len: usize, selected: usize, height: usize) -> (usize, usize) {
    if height == 0 || len <= height {
        return (0, selected);
    }
    let start = selected.saturating_sub(height / 2).min(len - height);
    (start, selected - start)
}

fn lead_table(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, leads: &[Lead], selected: usize) {
    let visible = area.height.saturating_sub(1) as usize;
    let (start, selected_in_view) = window(leads.len(), selected, visible);
    let wide = area.width >= 100;
    let rows: Vec<Row> = leads[start..(start + visible).min(leads.len())]
        .iter()
        .map(|lead| {
            let lock = app.active_calls().on_lead(lead.id);
            let badge = match lock {
                Some(call) => Span::styled(format!("☎ {}", printable(&call.agent_name)), theme.lock()),
                None if lead.do_not_call => Span::styled("DNC", theme.flag()),
                None => Span::raw(""),
            };
            let mut cells = vec![
                Cell::from(printable(&lead.full_name())),
                Cell::from(printable(&lead.company)),
                Cell::from(lead.status.label()),
                Cell::from(lead.priority.label()),
                Cell::from(lead.lead_score.to_string()),
                Cell::from(when(lead.last_call_at, app.now())),
            ];
            if wide {
                cells.push(Cell::from(when(lead.next_call_at, app.now())));
            }
            cells.push(Cell::from(Line::from(badge)));
            Row::new(cells)
        })
        .collect();
    let mut header = vec!["Name", "Company", "Status", "Priority", "Score", "Last call"];
    let mut widths = vec![
        Constraint::Fill(3),
        Constraint::Fill(3),
        Constraint::Length(11),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Length(10),
    ];
    if wide {
        header.push("Next call");
        widths.push(Constraint::Length(10));
    }
    header.push("");
    widths.push(Constraint::Length(9));
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.title()))
        .row_highlight_style(theme.selected())
        .column_spacing(1);
    let mut state = TableState::default().with_selected(Some(selected_in_view));
    frame.render_stateful_widget(table, area, &mut state);
}

fn callbacks_table(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let callbacks = app.lists().callbacks();
    if callbacks.is_empty() {
        frame.render_widget(
            Paragraph::new("no callbacks in the next 7 days").style(theme.dim()),
            area,
        );
        return;
    }
    let visible = area.height.saturating_sub(1) as usize;
    let (start, selected_in_view) = window(callbacks.len(), app.lists().selected(), visible);
    let rows: Vec<Row> = callbacks[start..(start + visible).min(callbacks.len())]
        .iter()
        .map(|c| {
            let due = if c.due_at <= app.now() {
                Span::styled("due", theme.warn())
            } else {
                Span::raw("")
            };
            Row::new(vec![
                Cell::from(when(Some(c.due_at), app.now())),
                Cell::from(printable(&c.lead_name)),
                Cell::from(printable(c.note.as_deref().unwrap_or(""))),
                Cell::from(Line::from(due)),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(10),
            Constraint::Fill(2),
            Constraint::Fill(3),
            Constraint::Length(4),
        ],
    )
    .header(Row::new(vec!["When", "Lead", "Note", ""]).style(theme.title()))
    .row_highlight_style(theme.selected());
    let mut state = TableState::default().with_selected(Some(selected_in_view));
    frame.render_stateful_widget(table, area, &mut state);
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_window_keeps_the_selection_visible() {
        assert_eq!(super::window(5, 3, 10), (0, 3));
        assert_eq!(super::window(100, 50, 10), (45, 5));
        assert_eq!(super::window(100, 99, 10), (90, 9));
        assert_eq!(super::window(100, 0, 10), (0, 0));
    }
}
