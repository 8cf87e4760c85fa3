//! Drawing the console: one module per pane. Rendering reads the app state and never changes
//! it; only rows that fit on screen are built.

mod calls;
mod chrome;
mod detail;
mod fit;
mod floor;
mod modal;
mod queue;
pub mod theme;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::Frame;

use super::app::{App, Pane};
pub use theme::Theme;

/// Wide enough to show the queue and the open lead side by side.
const SIDE_BY_SIDE_WIDTH: u16 = 120;

pub fn render(app: &App, theme: &Theme, frame: &mut Frame) {
    let area = frame.area();
    if area.width < 20 || area.height < 6 {
        // Too small to be useful; draw nothing rather than panic on negative sizes.
        return;
    }
    let [header, body, footer, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    chrome::header(app, theme, frame, header);
    chrome::footer(app, theme, frame, footer);
    chrome::status_line(app, theme, frame, status);

    let calls_height = if body.height >= 30 { 8 } else { 5 };
    let [main, calls_area] = Layout::vertical([Constraint::Min(3), Constraint::Length(calls_height)]).areas(body);
    calls::render(app, theme, frame, calls_area);
    render_main(app, theme, frame, main);

    if let Some(modal) = app.modal() {
        modal::render(app, modal, theme, frame, area);
    }
}

fn render_main(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    if app.is_supervising() {
        return floor::render(app, theme, frame, area);
    }
    let wide = area.width >= SIDE_BY_SIDE_WIDTH;
    match (app.open_lead(), wide) {
        (Some(detail), true) => {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
            queue::render(app, theme, frame, left);
            detail::render(app, detail, theme, frame, right);
        }
        // Narrow screens show one of the two; the call banner keeps the open lead in front.
        (Some(detail), false) if app.focus() == Pane::Detail || app.call().is_some() => {
            detail::render(app, detail, theme, frame, area)
        }
        _ => queue::render(app, theme, frame, area),
    }
}

/// A pane's frame; the focused pane's border stands out.
pub fn pane<'a>(
    title: impl Into<ratatui::text::Line<'a>>,
    focused: bool,
    theme: &Theme,
) -> ratatui::widgets::Block<'a> {
    ratatui::widgets::Block::default()
        .borders(ratatui::widgets::Borders::ALL)
        .border_style(if focused {
            theme.focused_border()
        } else {
            theme.border()
        })
        .title(title)
}

/// "3:07" or "1:02:03".
pub fn clock(seconds: i64) -> String {
    let s = seconds.max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Short relative or absolute time for lists: "14:05", "Mon 09:30", "2026-11-03".
pub fn when(t: Option<chrono::DateTime<chrono::Utc>>, now: chrono::DateTime<chrono::Utc>) -> String {
    let Some(t) = t else { return "-".into() };
    let local = t.with_timezone(&chrono::Local);
    let today = now.with_timezone(&chrono::Local).date_naive();
    let days = (local.date_naive() - today).num_days();
    if days == 0 {
        local.format("%H:%M").to_string()
    } else if days.abs() < 7 {
        local.format("%a %H:%M").to_string()
    } else {
        local.format("%Y-%m-%d").to_string()
    }
}
