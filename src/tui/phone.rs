//! The console's line to the softphone. A dial runs in its own task for the whole call: it
//! places the call through baresip and sends each step of progress back to the app as a
//! `Reply::Phone`, ending with exactly one `Ended` (also when baresip dies mid-call). The app
//! never waits for it: the event loop hands `Request::Dial` and `Request::Hangup` here instead
//! of to the store, and the replies arrive with the others.

use std::collections::HashMap;

use tokio::sync::mpsc;
use uuid::Uuid;

use super::request::{PhoneEvent, Reply, Request};
use crate::dialer::baresip;
use crate::dialer::Progress;

/// The calls in progress on this console's softphone, by call id, each with the way to ask
/// its task to hang up.
#[derive(Debug, Default)]
pub struct PhoneLine {
    hangups: HashMap<Uuid, mpsc::Sender<()>>,
}

impl PhoneLine {
    /// Whether the request is for the softphone (not the store).
    pub fn takes(request: &Request) -> bool {
        matches!(request, Request::Dial { .. } | Request::Hangup { .. })
    }

    /// Starts a dial or asks for a hang-up; returns at once. Requests for the store are
    /// given back.
    pub fn run(&mut self, request: Request, replies: &mpsc::UnboundedSender<Reply>) -> Option<Request> {
        // Calls whose task has finished have nothing left to hang up.
        self.hangups.retain(|_, tx| !tx.is_closed());
        match request {
            Request::Dial {
                call_id,
                number,
                settings,
            } => {
                let (hangup_tx, hangup_rx) = mpsc::channel(1);
                self.hangups.insert(call_id, hangup_tx);
                tokio::spawn(follow(call_id, number, *settings, hangup_rx, replies.clone()));
                None
            }
            Request::Hangup { call_id } => {
                match self.hangups.get(&call_id) {
                    // A full queue already holds a hang-up.
                    Some(tx) => {
                        let _ = tx.try_send(());
                    }
                    // The call is already over (its Ended is on its way or was shown): nothing
                    // to hang up. Say so, so a console waiting for the end is not left waiting.
                    None => {
                        let _ = replies.send(Reply::Phone {
                            call_id,
                            event: PhoneEvent::Gone,
                        });
                    }
                }
                None
            }
            other => Some(other),
        }
    }

    /// Calls still followed.
    pub fn calls(&self) -> usize {
        self.hangups.values().filter(|tx| !tx.is_closed()).count()
    }

    /// Hangs up every call still up and waits, at most `bound`, until baresip has ended each:
    /// a console that quits mid-call leaves no call open on the softphone.
    pub async fn hang_up_all(&mut self, bound: std::time::Duration) {
        for tx in self.hangups.values() {
            let _ = tx.try_send(());
        }
        let deadline = tokio::time::Instant::now() + bound;
        while self.calls() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// One call from the dial to its end.
async fn follow(
    call_id: Uuid,
    number: String,
    settings: crate::dialer::BaresipSettings,
    mut hangup: mpsc::Receiver<()>,
    replies: mpsc::UnboundedSender<Reply>,
) {
    let send = |event: PhoneEvent| replies.send(Reply::Phone { call_id, event }).is_ok();
    let mut call = match baresip::dial(&settings, &number).await {
        Ok(call) => call,
        Err(e) => {
            send(PhoneEvent::DialFailed(e.to_string()));
            return;
        }
    };
    let mut console_open = true;
    loop {
        tokio::select! {
            step = call.next() => match step {
                Some(step) => {
                    let ended = matches!(step, Progress::Ended(_));
                    if !send(PhoneEvent::Progress(step)) {
                        // The console is gone: dropping the call hangs it up.
                        return;
                    }
                    if ended {
                        return;
                    }
                }
                // The client always sends Ended first; this is only reached if it did not.
                None => {
                    send(PhoneEvent::Gone);
                    return;
                }
            },
            asked = hangup.recv(), if console_open => match asked {
                Some(()) => call.hangup(),
                // The console dropped the line: hang up and keep reading to the end.
                None => {
                    console_open = false;
                    call.hangup();
                }
            },
        }
    }
}
