//! The event loop: terminal keys, replies from the database, a one-second tick and signals,
//! all turned into calls on the app; the screen is drawn after each. The terminal is restored
//! on every way out: normal quit, Ctrl-C (a key in raw mode), SIGTERM/SIGHUP, and panics.

use std::time::Duration;

use chrono::Utc;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::time::{interval, sleep_until, Instant, MissedTickBehavior};

use super::app::App;
use super::feed::FeedOptions;
use super::phone::PhoneLine;
use super::request::{Reply, Request};
use super::view::{self, Theme};
use crate::store::Store;

/// Search-as-you-type waits this long after the last key; only the latest query runs.
const SEARCH_DEBOUNCE: Duration = Duration::from_millis(200);

/// Restores the terminal when dropped, whatever the way out. Restoring twice is harmless, and
/// this never panics.
struct RestoreGuard;

impl Drop for RestoreGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

pub async fn run(store: Store, mut app: App, theme: Theme, feed: FeedOptions) -> std::io::Result<()> {
    // `ratatui::init` also installs a panic hook that restores the terminal before the message.
    let mut terminal = ratatui::init();
    let _restore = RestoreGuard;
    let (tx, mut replies) = mpsc::unbounded_channel::<Reply>();
    // Softphone calls are followed in their own tasks; everything else goes to the store.
    let mut phone = PhoneLine::default();
    let mut send = |request: Request| {
        let Some(request) = phone.run(request, &tx) else {
            return;
        };
        let (store, tx) = (store.clone(), tx.clone());
        // Each request runs to completion in its own task; the loop never cancels one.
        tokio::spawn(async move {
            let _ = tx.send(request.run(&store).await);
        });
    };
    let mut search: Option<(Request, Instant)> = None;
    let route = |requests: Vec<Request>, search: &mut Option<(Request, Instant)>, send: &mut dyn FnMut(Request)| {
        for request in requests {
            if matches!(request, Request::Search { .. }) {
                *search = Some((request, Instant::now() + SEARCH_DEBOUNCE));
            } else {
                send(request);
            }
        }
    };

    let mut events = EventStream::new();
    let mut tick = interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;

    tokio::spawn(super::feed::run(store.clone(), feed, tx.clone()));
    route(app.start(), &mut search, &mut send);
    loop {
        terminal.draw(|frame| view::render(&app, &theme, frame))?;
        if app.quitting() {
            break;
        }
        let search_due = search.as_ref().map(|(_, at)| *at);
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind == KeyEventKind::Press => {
                    let requests = app.on_key(key);
                    route(requests, &mut search, &mut send);
                }
                Some(Ok(_)) => {}
                // The terminal is gone: nothing more can be typed or shown.
                Some(Err(_)) | None => break,
            },
            Some(reply) = replies.recv() => {
                let requests = app.on_reply(reply);
                route(requests, &mut search, &mut send);
            }
            _ = tick.tick() => {
                let requests = app.tick(Utc::now());
                route(requests, &mut search, &mut send);
            }
            _ = async { sleep_until(search_due.unwrap_or_else(Instant::now)).await }, if search_due.is_some() => {
                if let Some((request, _)) = search.take() {
                    send(request);
                }
            }
            _ = terminate.recv() => break,
            _ = hangup.recv() => break,
        }
        // State changes reach the floor at once, not only with the next tick.
        let presence = app.publish_presence();
        route(presence, &mut search, &mut send);
    }
    // A call still up on the softphone is hung up before the console goes (bounded too).
    phone.hang_up_all(Duration::from_secs(3)).await;
    // Tell the floor this agent left; a single statement, bounded so quitting never hangs.
    let offline = store.set_presence(app.agent().id, crate::domain::PresenceState::Offline, None);
    let _ = tokio::time::timeout(Duration::from_secs(1), offline).await;
    Ok(())
}
