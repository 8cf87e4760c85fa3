//! Keeps a console live: polls the change feed with a cursor (once a second by default) and, on
//! PostgreSQL, also wakes at once when a call lock changes anywhere on the floor. Each poll's
//! changes go to the app, which refreshes only what they touch. Polling alone always converges;
//! notifications only make it faster. Through a floor server the console polls nothing: it
//! holds the server's change stream open and reads it again from its cursor after a break.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::request::Reply;
use crate::store::{Store, Wakeups};

#[derive(Debug, Clone, Copy)]
pub struct FeedOptions {
    pub poll_every: Duration,
    /// Listen for PostgreSQL notifications (ignored on SQLite).
    pub notify: bool,
}

impl Default for FeedOptions {
    fn default() -> Self {
        FeedOptions {
            poll_every: Duration::from_secs(1),
            notify: true,
        }
    }
}

/// After a wake-up the writer's rows may not be readable yet (an older transaction elsewhere
/// is still running), so the feed is read again a few times at this interval.
const SETTLE_RETRY: Duration = Duration::from_millis(25);
const SETTLE_TRIES: u32 = 8;

/// Runs until the app stops listening (its receiver is dropped).
pub async fn run(store: Store, options: FeedOptions, replies: UnboundedSender<Reply>) {
    let mut cursor = loop {
        match store.feed_head().await {
            Ok(cursor) => break cursor,
            Err(e) => {
                if replies.send(Reply::FeedDown(e.to_string())).is_err() {
                    return;
                }
                tokio::time::sleep(options.poll_every).await;
            }
        }
    };
    if store.remote().is_some() {
        return follow_server(store, cursor, options, replies).await;
    }
    let mut wakeups = if options.notify {
        store.wakeups().await.ok().flatten()
    } else {
        None
    };
    // The first read comes at once: it tells the app the feed is live (and the database up).
    let mut woken = false;
    loop {
        let mut tries = if woken { SETTLE_TRIES } else { 1 };
        loop {
            match store.changes_since(cursor, 500).await {
                Ok(changes) => {
                    let found = !changes.is_empty();
                    if let Some(last) = changes.last() {
                        cursor = last.cursor();
                    }
                    if replies.send(Reply::Changes(changes)).is_err() {
                        return;
                    }
                    tries -= 1;
                    if found || tries == 0 {
                        break;
                    }
                    tokio::time::sleep(SETTLE_RETRY).await;
                }
                Err(e) => {
                    if replies.send(Reply::FeedDown(e.to_string())).is_err() {
                        return;
                    }
                    break;
                }
            }
        }
        woken = wait(&mut wakeups, options.poll_every).await;
    }
}

/// Sleeps one poll interval, or less when a notification arrives; true when woken by one.
async fn wait(wakeups: &mut Option<Wakeups>, every: Duration) -> bool {
    let Some(listener) = wakeups else {
        tokio::time::sleep(every).await;
        return false;
    };
    tokio::select! {
        woken = listener.next() => match woken {
            Ok(()) => true,
            // The listening connection dropped; sqlx reconnects on the next wait. Poll meanwhile.
            Err(_) => {
                tokio::time::sleep(every).await;
                false
            }
        },
        _ = tokio::time::sleep(every) => false,
    }
}

/// Follows a floor server's change stream; after a break (the server restarting, the network
/// gone) it says the feed is down and opens the stream again from the last change it saw, so
/// nothing committed meanwhile is missed.
async fn follow_server(
    store: Store,
    mut cursor: crate::store::FeedCursor,
    options: FeedOptions,
    replies: UnboundedSender<Reply>,
) {
    use futures::StreamExt;
    loop {
        match store.change_stream(cursor).await {
            Ok(Some(mut stream)) => {
                // Open: the server answers.
                if replies.send(Reply::Changes(Vec::new())).is_err() {
                    return;
                }
                while let Some(item) = stream.next().await {
                    // What has already arrived goes to the app as one batch: one refresh.
                    let mut batch = vec![item];
                    while let Some(Some(more)) = futures::FutureExt::now_or_never(stream.next()) {
                        batch.push(more);
                    }
                    let (changes, broken): (Vec<_>, Vec<_>) = batch.into_iter().partition(|i| i.is_ok());
                    let changes: Vec<crate::store::Change> = changes.into_iter().filter_map(|c| c.ok()).collect();
                    if let Some(last) = changes.last() {
                        cursor = last.cursor();
                    }
                    if !changes.is_empty() && replies.send(Reply::Changes(changes)).is_err() {
                        return;
                    }
                    if let Some(Err(e)) = broken.into_iter().next() {
                        if replies.send(Reply::FeedDown(e.to_string())).is_err() {
                            return;
                        }
                        break;
                    }
                }
            }
            Ok(None) => return,
            Err(e) => {
                if replies.send(Reply::FeedDown(e.to_string())).is_err() {
                    return;
                }
            }
        }
        if replies.is_closed() {
            return;
        }
        tokio::time::sleep(options.poll_every).await;
    }
}
