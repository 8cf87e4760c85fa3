//! The lead queue: tabs, the search box, and a table that builds only the rows on screen.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;

use super::fit::fit;
use super::{when, Theme};
use crate::display::printable;
use crate::store::Lead;
use crate::tui::app::{App, Pane, QueueTab};
use crate::tui::keymap::Action;

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
        let add = app.keymap().key_for(Action::AddLead);
        let text = if lists.loading() {
            "loading…".to_string()
        } else if search.results().is_some() {
            "no lead matches".to_string()
        } else if lists.tab() == QueueTab::Mine {
            format!(
                "no lead to call now (none yet, all claimed, or outside calling hours): ] shows all leads, \
                 {add} adds one; coldcall import FILE.csv or coldcall db seed loads many"
            )
        } else if lists.filtered(lists.tab()) {
            "no lead matches the filter (f changes it)".to_string()
        } else {
            format!(
                "the database holds no leads yet: press {add} to add one, or load some from the command line \
                 (coldcall import FILE.csv, or coldcall db seed for demo leads)"
            )
        };
        let text = Paragraph::new(text)
            .style(theme.dim())
            .wrap(ratatui::widgets::Wrap { trim: true });
        frame.render_widget(text, table_area);
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
        if lists.filtered(tab) {
            spans.push(Span::styled("[filtered]", theme.warn()));
        }
        spans.push(Span::raw(" "));
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

/// The lead table's columns, in the order they are given up when space is short: the name is
/// never cut to make room, the status goes only after everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Name,
    Status,
    Lock,
    Company,
    Priority,
    Score,
    LastCall,
    NextCall,
}

impl Column {
    const BY_IMPORTANCE: [Column; 8] = [
        Column::Name,
        Column::Status,
        Column::Lock,
        Column::Company,
        Column::Priority,
        Column::Score,
        Column::LastCall,
        Column::NextCall,
    ];
    /// Left to right on screen.
    const ON_SCREEN: [Column; 8] = [
        Column::Name,
        Column::Company,
        Column::Status,
        Column::Priority,
        Column::Score,
        Column::LastCall,
        Column::NextCall,
        Column::Lock,
    ];

    fn title(self) -> &'static str {
        match self {
            Column::Name => "Name",
            Column::Status => "Status",
            Column::Lock => "",
            Column::Company => "Company",
            Column::Priority => "Priority",
            Column::Score => "Score",
            Column::LastCall => "Last call",
            Column::NextCall => "Next call",
        }
    }

    /// The narrowest the column may be; name and company share what is left over.
    fn min_width(self) -> u16 {
        match self {
            Column::Name => 16,
            Column::Status => 11,
            Column::Lock => 9,
            Column::Company => 12,
            Column::Priority => 8,
            Column::Score => 5,
            Column::LastCall | Column::NextCall => 10,
        }
    }
}

/// The columns that fit in `width`, left to right, with their widths.
fn columns(width: u16) -> Vec<(Column, u16)> {
    let mut chosen = Vec::new();
    let mut used: u16 = 0;
    for column in Column::BY_IMPORTANCE {
        let spacing = u16::from(!chosen.is_empty());
        if used + spacing + column.min_width() <= width {
            used += spacing + column.min_width();
            chosen.push(column);
        }
    }
    let spare = width.saturating_sub(used);
    let flexible = chosen
        .iter()
        .filter(|c| matches!(c, Column::Name | Column::Company))
        .count() as u16;
    Column::ON_SCREEN
        .into_iter()
        .filter(|c| chosen.contains(c))
        .map(|c| {
            let extra = match c {
                // The name takes the odd column when the spare room does not split evenly.
                Column::Name => spare - spare / flexible.max(1) * (flexible.max(1) - 1),
                Column::Company => spare / flexible.max(1),
                _ => 0,
            };
            (c, c.min_width() + extra)
        })
        .collect()
}

fn lead_table(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, leads: &[Lead], selected: usize) {
    let visible = area.height.saturating_sub(1) as usize;
    let (start, selected_in_view) = window(leads.len(), selected, visible);
    let columns = columns(area.width);
    let rows: Vec<Row> = leads[start..(start + visible).min(leads.len())]
        .iter()
        .map(|lead| {
            let cells = columns.iter().map(|&(column, width)| {
                let width = width as usize;
                match column {
                    Column::Name => Cell::from(fit(&printable(&lead.full_name()), width)),
                    Column::Company => Cell::from(fit(&printable(&lead.company), width)),
                    Column::Status => Cell::from(lead.status.label()),
                    Column::Priority => Cell::from(lead.priority.label()),
                    Column::Score => Cell::from(lead.lead_score.to_string()),
                    Column::LastCall => Cell::from(when(lead.last_call_at, app.now())),
                    Column::NextCall => Cell::from(when(lead.next_call_at, app.now())),
                    Column::Lock => Cell::from(Line::from(match app.active_calls().on_lead(lead.id) {
                        Some(call) => {
                            Span::styled(fit(&format!("☎ {}", printable(&call.agent_name)), width), theme.lock())
                        }
                        None if lead.do_not_call => Span::styled("DNC", theme.flag()),
                        None => Span::raw(""),
                    })),
                }
            });
            Row::new(cells.collect::<Vec<_>>())
        })
        .collect();
    let header: Vec<&str> = columns.iter().map(|(c, _)| c.title()).collect();
    let widths: Vec<Constraint> = columns.iter().map(|(_, w)| Constraint::Length(*w)).collect();
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
    fn short_space_drops_columns_and_never_cuts_the_name_below_its_width() {
        use super::Column;
        let names = |w| super::columns(w).into_iter().map(|(c, _)| c).collect::<Vec<_>>();
        // beside an open lead at 120 columns the list is 58 wide inside its border
        let half = super::columns(58);
        let name = half.iter().find(|(c, _)| *c == Column::Name).unwrap().1;
        assert!(name >= 16, "{half:?}");
        assert!(!names(58).contains(&Column::LastCall));
        assert!(names(58).contains(&Column::Status));
        assert_eq!(names(30), vec![Column::Name, Column::Status]);
        assert_eq!(names(20), vec![Column::Name]);
        let total: u16 = half.iter().map(|(_, w)| w).sum::<u16>() + half.len() as u16 - 1;
        assert_eq!(total, 58, "the columns fill the width");
        assert_eq!(names(158).len(), 8, "wide screens show everything");
    }

    #[test]
    fn the_window_keeps_the_selection_visible() {
        assert_eq!(super::window(5, 3, 10), (0, 3));
        assert_eq!(super::window(100, 50, 10), (45, 5));
        assert_eq!(super::window(100, 99, 10), (90, 9));
        assert_eq!(super::window(100, 0, 10), (0, 0));
    }
}
