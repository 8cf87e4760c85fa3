//! The change feed's fan-out. One task per server reads the database's feed once per interval
//! (and wakes early on the lock notification, listened for once), keeps the recent changes in
//! memory and broadcasts each batch; every subscriber is served from there. The database's cost
//! for live updates is therefore the same for one console as for a thousand.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use tokio::sync::{broadcast, watch};
use utoipa::IntoParams;

use super::auth::Actor;
use super::problem::{ApiResult, Problem, ProblemBody};
use super::AppState;
use crate::store::{Change, FeedCursor, Store};

/// How many recent changes the server keeps for subscribers that reconnect.
const RECENT: usize = 20_000;
/// Changes read from the database in one statement.
const BATCH: u32 = 1_000;

struct Recent {
    changes: VecDeque<Change>,
    /// Every change after `floor` is in `changes` (or not yet read).
    floor: FeedCursor,
    /// The last change read.
    head: FeedCursor,
}

pub struct FeedHub {
    recent: RwLock<Recent>,
    tx: broadcast::Sender<Arc<Vec<Encoded>>>,
}

/// A change as every stream sends it, encoded once when it is published: with a thousand
/// consoles subscribed, encoding it once a console was the server's largest cost.
struct Encoded {
    cursor: FeedCursor,
    event: Event,
}

impl FeedHub {
    pub fn new(head: FeedCursor) -> FeedHub {
        let (tx, _) = broadcast::channel(1024);
        FeedHub {
            recent: RwLock::new(Recent {
                changes: VecDeque::new(),
                floor: head,
                head,
            }),
            tx,
        }
    }

    pub fn head(&self) -> FeedCursor {
        self.recent.read().unwrap_or_else(|e| e.into_inner()).head
    }

    fn publish(&self, batch: Vec<Change>) {
        let Some(last) = batch.last().map(Change::cursor) else {
            return;
        };
        {
            let mut recent = self.recent.write().unwrap_or_else(|e| e.into_inner());
            recent.changes.extend(batch.iter().cloned());
            while recent.changes.len() > RECENT {
                if let Some(old) = recent.changes.pop_front() {
                    recent.floor = old.cursor();
                }
            }
            recent.head = last;
        }
        let encoded = batch
            .iter()
            .map(|change| Encoded {
                cursor: change.cursor(),
                event: event(change),
            })
            .collect();
        // No subscriber is not an error.
        let _ = self.tx.send(Arc::new(encoded));
    }

    /// The kept changes after `cursor`, or None when `cursor` is older than what is kept.
    fn since(&self, cursor: FeedCursor) -> Option<Vec<Change>> {
        let recent = self.recent.read().unwrap_or_else(|e| e.into_inner());
        (cursor >= recent.floor).then(|| recent.changes.iter().filter(|c| c.cursor() > cursor).cloned().collect())
    }

    /// Reads the database's feed until `shutdown`, publishing what it finds.
    pub async fn run(self: Arc<Self>, store: Store, interval: Duration, mut shutdown: watch::Receiver<bool>) {
        let mut wakeups = None;
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if wakeups.is_none() {
                wakeups = store.wakeups().await.ok().flatten();
            }
            let woke = async {
                match wakeups.as_mut() {
                    Some(w) => w.next().await.is_ok(),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = ticker.tick() => {}
                ok = woke => if !ok { wakeups = None },
                _ = shutdown.changed() => return,
            }
            let mut cursor = self.head();
            loop {
                match store.changes_since(cursor, BATCH).await {
                    Ok(batch) => {
                        let full = batch.len() == BATCH as usize;
                        if let Some(last) = batch.last() {
                            cursor = last.cursor();
                        }
                        self.publish(batch);
                        if !full {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the change feed failed; trying again");
                        break;
                    }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ChangesQuery {
    /// Resume after this cursor (`TX:ID`, the `id` of the last event received). Without it (and
    /// without a `Last-Event-ID` header) the stream starts with what changes from now on.
    pub cursor: Option<String>,
}

/// The change feed as server-sent events: `event: change`, `id: TX:ID`, data the change as JSON.
/// Reconnect with `?cursor=` (or `Last-Event-ID`) to get everything after it.
#[utoipa::path(get, path = "/api/v1/changes", tag = "feed", params(ChangesQuery),
    responses((status = 200, description = "text/event-stream of changes", content_type = "text/event-stream"),
        (status = 401, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn changes(
    actor: Actor,
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<ChangesQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let given = q.cursor.or_else(|| {
        headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    let hub = state.feed.clone();
    // Subscribe before reading the backlog, so nothing falls between the two.
    let rx = hub.tx.subscribe();
    let mut cursor = match given {
        Some(text) => text.parse::<FeedCursor>().map_err(|e| Problem::invalid("cursor", e))?,
        None => hub.head(),
    };
    let mut backlog = Vec::new();
    if hub.since(cursor).is_none() {
        // Older than what the server keeps: read the gap from the database once.
        let head = hub.head();
        while cursor < head {
            let batch = state.store.changes_since(cursor, BATCH).await?;
            let Some(last) = batch.last().map(Change::cursor) else {
                break;
            };
            cursor = last;
            backlog.extend(batch);
        }
    }
    backlog.extend(hub.since(cursor).unwrap_or_default());
    let mut shutdown = state.shutdown.clone();
    let live = stream::unfold(
        (rx, backlog.last().map(Change::cursor).unwrap_or(cursor)),
        |(mut rx, last)| async move {
            loop {
                match rx.recv().await {
                    Ok(batch) => {
                        let fresh: Vec<Event> = batch
                            .iter()
                            .filter(|e| e.cursor > last)
                            .map(|e| e.event.clone())
                            .collect();
                        if let Some(new_last) = batch.last().map(|e| e.cursor).filter(|c| *c > last) {
                            return Some((fresh, (rx, new_last)));
                        }
                    }
                    // Too slow to keep up: end the stream; the client resumes from its cursor.
                    Err(_) => return None,
                }
            }
        },
    )
    .flat_map(stream::iter);
    let stopping = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    let ended = session_ended(state.store.clone(), actor.session.clone());
    let events = stream::iter(backlog.iter().map(event).collect::<Vec<_>>())
        .chain(live)
        .map(Ok)
        .take_until(futures::future::select(Box::pin(stopping), Box::pin(ended)));
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// How often an open stream checks that its session still holds: one primary-key read per
/// stream per interval (500 consoles: 17 reads a second).
const SESSION_CHECK: Duration = Duration::from_secs(30);

/// Resolves when the session behind a stream ends (logged out, revoked, the agent deactivated,
/// its absolute end reached): a revoked console stops hearing the floor within the interval,
/// and its next request is refused at once.
async fn session_ended(store: Store, session: String) {
    let mut every = tokio::time::interval(SESSION_CHECK);
    loop {
        every.tick().await;
        match store.session(&session).await {
            Ok(Some(s)) if s.ended_at.is_none() && store.now() < s.expires_at => {}
            // The database not answering is no reason to drop a console.
            Err(_) => {}
            Ok(_) => return,
        }
    }
}

fn event(change: &Change) -> Event {
    Event::default()
        .event("change")
        .id(change.cursor().to_string())
        .json_data(change)
        .unwrap_or_else(|_| Event::default().comment("unencodable change"))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SinceQuery {
    /// Changes after this cursor (`TX:ID`).
    pub cursor: String,
    /// At most this many (default and most 1,000).
    pub limit: Option<u32>,
}

/// The changes after a cursor as one JSON list, oldest first: what a client that does not hold
/// the stream open reads. Answered from the server's memory when the cursor is recent.
#[utoipa::path(get, path = "/api/v1/changes/since", tag = "feed", params(SinceQuery),
    responses((status = 200, description = "Change list", body = serde_json::Value),
        (status = 401, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn since(
    _actor: Actor,
    State(state): State<Arc<AppState>>,
    Query(q): Query<SinceQuery>,
) -> ApiResult<axum::Json<Vec<Change>>> {
    let cursor = q
        .cursor
        .parse::<FeedCursor>()
        .map_err(|e| Problem::invalid("cursor", e))?;
    let limit = q.limit.unwrap_or(BATCH).clamp(1, BATCH) as usize;
    let mut changes = match state.feed.since(cursor) {
        Some(kept) => kept,
        None => state.store.changes_since(cursor, limit as u32).await?,
    };
    changes.truncate(limit);
    Ok(axum::Json(changes))
}

/// Where the feed stands now: a new screen starts here after loading what it shows.
#[utoipa::path(get, path = "/api/v1/changes/head", tag = "feed",
    responses((status = 200, description = "the cursor, as {\"cursor\": \"TX:ID\"}", body = serde_json::Value),
        (status = 401, body = ProblemBody)))]
pub async fn head(_actor: Actor, State(state): State<Arc<AppState>>) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "cursor": state.feed.head().to_string() }))
}
