//! The console's first screen when the database does not answer: it opens at once, says OFFLINE
//! and which host it is trying, and retries with growing pauses until the database answers or
//! the agent quits. A console never sits on a blank screen.

use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyCode, KeyEventKind, KeyModifiers};
use futures::StreamExt;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::store::{ConnectOptions, Store, StoreError};

/// Pauses between tries: 1, 2, 4, 8, then every 15 seconds.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64.checked_shl(attempt.min(4)).unwrap_or(15).min(15))
}

/// Whether an error means "the database cannot be reached (yet)" rather than "it said no".
pub fn is_unreachable(err: &StoreError) -> bool {
    matches!(
        err,
        StoreError::Database(sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_))
    )
}

/// What the screen says while waiting.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub target: String,
    pub attempt: u32,
    pub last_error: String,
    pub next_in: Duration,
}

pub fn lines(w: &Waiting) -> Vec<Line<'static>> {
    vec![
        Line::styled("OFFLINE", Style::default().add_modifier(Modifier::BOLD)),
        Line::from(""),
        Line::from(format!("Trying {} (attempt {})", w.target, w.attempt)),
        Line::from(format!("Last answer: {}", crate::display::printable(&w.last_error))),
        Line::from(format!("Next try in {} s. q quits.", w.next_in.as_secs())),
    ]
}

/// Retries `Store::connect` until it succeeds (Some) or the agent quits (None). Errors other
/// than an unreachable database end the wait with that error.
pub async fn wait_for_database(
    url: &str,
    options: &ConnectOptions,
    first: StoreError,
) -> Result<Option<Store>, StoreError> {
    let mut terminal = ratatui::init();
    let _restore = Restore;
    let mut events = EventStream::new();
    let mut waiting = Waiting {
        target: crate::store::redact_url(url),
        attempt: 1,
        last_error: first.to_string(),
        next_in: backoff(0),
    };
    loop {
        let _ = terminal.draw(|frame| {
            let [area] = Layout::vertical([Constraint::Min(0)]).areas(frame.area());
            let block = Block::default().borders(Borders::ALL).title(" coldcall ");
            frame.render_widget(
                Paragraph::new(lines(&waiting)).block(block).wrap(Wrap { trim: true }),
                area,
            );
        });
        let pause = tokio::time::sleep(waiting.next_in);
        tokio::pin!(pause);
        loop {
            tokio::select! {
                _ = &mut pause => break,
                event = events.next() => match event {
                    Some(Ok(Event::Key(key))) if key.kind == KeyEventKind::Press => {
                        let quit = matches!(key.code, KeyCode::Char('q') | KeyCode::Esc)
                            || (key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL));
                        if quit {
                            return Ok(None);
                        }
                    }
                    None => return Ok(None),
                    _ => {}
                },
            }
        }
        match Store::connect(url, options).await {
            Ok(store) => return Ok(Some(store)),
            Err(e) if is_unreachable(&e) => {
                waiting.last_error = e.to_string();
                waiting.next_in = backoff(waiting.attempt);
                waiting.attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_to_fifteen_seconds() {
        let secs: Vec<u64> = (0..7).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 15, 15, 15]);
        assert_eq!(backoff(u32::MAX).as_secs(), 15);
    }

    #[test]
    fn the_screen_names_the_host_and_never_the_password() {
        let w = Waiting {
            target: crate::store::redact_url("postgres://dial:s3cret@db.floor:5432/coldcall"),
            attempt: 3,
            last_error: "connection refused".into(),
            next_in: Duration::from_secs(4),
        };
        let text: String = lines(&w).iter().map(|l| l.to_string() + "\n").collect();
        assert!(text.contains("OFFLINE") && text.contains("db.floor:5432") && text.contains("attempt 3"));
        assert!(!text.contains("s3cret"));
    }
}
