//! A client for baresip's control socket (the `ctrl_tcp` module, with `menu` for commands).
//!
//! Each call gets its own connection, held by one task from the dial to the end: the dial fails
//! at once, in words, when baresip is not there, and the end of the connection is the end of
//! the call, so a softphone that dies mid-call still yields an `Ended` for the call log.
//! Every wait is bounded: connecting, each reply, and the confirmation of a hang-up.

pub mod message;
mod tracker;

use std::net::SocketAddr;
use std::time::Duration;

use chrono::Utc;
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, timeout, Instant};
use tokio_util::codec::Framed;

use self::message::Message;
use self::tracker::Tracker;
use super::netstring::NetstringCodec;
use super::progress::{EndedBy, Progress};
use super::settings::BaresipSettings;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// baresip answers a command at once; a reply this late means it is stuck.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// After a hang-up, how long to wait for baresip's CALL_CLOSED before recording the end anyway.
const HANGUP_GRACE: Duration = Duration::from_secs(3);
/// Longer than any line rings; only bounds what the code accepts.
const RING_TIMEOUT_MAX: Duration = Duration::from_secs(3600);
/// A call makes at most four steps of progress; the queue never has to hold more.
const PROGRESS_QUEUE: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialError {
    #[error("cannot dial: {0}")]
    BadNumber(String),
    #[error("baresip is not running: nothing listens on {0}")]
    NotRunning(SocketAddr),
    #[error("cannot reach baresip on {addr}: {detail}")]
    Unreachable { addr: SocketAddr, detail: String },
    #[error("baresip on {addr} did not answer within {} s", .after.as_secs())]
    NoReply { addr: SocketAddr, after: Duration },
    #[error("baresip could not dial {uri}: {detail}")]
    Refused { uri: String, detail: String },
    #[error("baresip closed its control connection before the call started")]
    Closed,
    #[error("baresip's control connection failed: {0}")]
    Protocol(String),
}

/// One call placed through baresip. Progress arrives in order and always ends with
/// `Progress::Ended`; after that `next` returns `None`. Dropping the call hangs it up.
#[derive(Debug)]
pub struct Call {
    uri: String,
    progress: mpsc::Receiver<Progress>,
    hangup: mpsc::Sender<()>,
}

impl Call {
    /// The next step of the call; `None` once it has ended.
    pub async fn next(&mut self) -> Option<Progress> {
        self.progress.recv().await
    }

    /// Asks baresip to hang up; the `Ended` follows through `next`. Asking twice is harmless.
    pub fn hangup(&self) {
        // A full queue already holds a hang-up; a closed one means the call is over.
        let _ = self.hangup.try_send(());
    }

    /// The SIP URI dialled.
    pub fn uri(&self) -> &str {
        &self.uri
    }
}

/// Dials `number` (E.164) through baresip. Returns once baresip has accepted the dial (the
/// INVITE is on its way); the first progress is `Dialling`.
pub async fn dial(settings: &BaresipSettings, number: &str) -> Result<Call, DialError> {
    let uri = settings.uri.for_number(number).map_err(DialError::BadNumber)?;
    let (accepted_tx, accepted_rx) = oneshot::channel();
    let (progress_tx, progress_rx) = mpsc::channel(PROGRESS_QUEUE);
    let (hangup_tx, hangup_rx) = mpsc::channel(1);
    tokio::spawn(run(settings.clone(), uri.clone(), accepted_tx, progress_tx, hangup_rx));
    match accepted_rx.await {
        Ok(Ok(())) => Ok(Call {
            uri,
            progress: progress_rx,
            hangup: hangup_tx,
        }),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(DialError::Closed),
    }
}

type Connection = Framed<TcpStream, NetstringCodec>;

/// The task behind one call.
async fn run(
    settings: BaresipSettings,
    uri: String,
    accepted: oneshot::Sender<Result<(), DialError>>,
    progress: mpsc::Sender<Progress>,
    hangup: mpsc::Receiver<()>,
) {
    let mut link = match Link::dial(&settings, &uri).await {
        Ok(link) => link,
        Err(e) => {
            let _ = accepted.send(Err(e));
            return;
        }
    };
    let mut output = Output { progress, gone: false };
    // The queue is empty and holds more than a call's early events: these never wait.
    output.emit(Progress::Dialling {
        at: link.dialled_at,
        uri,
    });
    for step in std::mem::take(&mut link.early) {
        output.emit(step);
    }
    if accepted.send(Ok(())).is_err() {
        // Whoever dialled stopped waiting: do not leave the call ringing.
        output.gone = true;
    }
    link.follow(settings.ring_timeout, hangup, output).await;
}

/// Where progress goes. Once the console has dropped the call, progress is discarded and the
/// call is hung up.
struct Output {
    progress: mpsc::Sender<Progress>,
    gone: bool,
}

impl Output {
    fn emit(&mut self, step: Progress) {
        if self.gone {
            return;
        }
        // Bounded, and a call has fewer steps than the queue has room: a full queue means
        // the console stopped reading, which is the same as having dropped the call.
        if self.progress.try_send(step).is_err() {
            self.gone = true;
        }
    }
}

struct Link {
    conn: Connection,
    addr: SocketAddr,
    tracker: Tracker,
    dialled_at: chrono::DateTime<Utc>,
    started: Instant,
    /// Progress reported before baresip replied to the dial.
    early: Vec<Progress>,
    tokens: u64,
}

impl Link {
    /// Connects, sends `dial` and waits for baresip's reply.
    async fn dial(settings: &BaresipSettings, uri: &str) -> Result<Link, DialError> {
        let addr = settings.control;
        let stream = match timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Err(_) => {
                return Err(DialError::NoReply {
                    addr,
                    after: CONNECT_TIMEOUT,
                })
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Err(DialError::NotRunning(addr)),
            Ok(Err(e)) => {
                return Err(DialError::Unreachable {
                    addr,
                    detail: e.to_string(),
                })
            }
            Ok(Ok(stream)) => stream,
        };
        // Commands are tiny and each one matters at once.
        let _ = stream.set_nodelay(true);
        // The call's clock starts as the dial command leaves.
        let dialled_at = Utc::now();
        let mut link = Link {
            conn: Framed::new(stream, NetstringCodec::default()),
            addr,
            tracker: Tracker::new(dialled_at),
            dialled_at,
            started: Instant::now(),
            early: Vec::new(),
            tokens: 0,
        };
        let token = link.send("dial", Some(uri)).await?;
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            let frame = match timeout_at(deadline, link.conn.next()).await {
                None => {
                    return Err(DialError::NoReply {
                        addr,
                        after: REPLY_TIMEOUT,
                    })
                }
                Some(None) => return Err(DialError::Closed),
                Some(Some(Err(e))) => return Err(DialError::Protocol(e.to_string())),
                Some(Some(Ok(frame))) => frame,
            };
            match message::parse(&frame) {
                Ok(Message::Response(reply)) if reply.token.as_deref() == Some(token.as_str()) => {
                    if reply.ok {
                        return Ok(link);
                    }
                    let detail = if reply.data.is_empty() {
                        "it refused the call".to_string()
                    } else {
                        reply.data
                    };
                    return Err(DialError::Refused {
                        uri: uri.to_string(),
                        detail,
                    });
                }
                Ok(Message::Event(event)) => {
                    if let Some(step) = link.tracker.on_event(&event, Utc::now()) {
                        link.early.push(step);
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "baresip sent a frame that is not JSON; skipped"),
            }
        }
    }

    /// Follows the call to its end: events, the agent's hang-up, the ring timeout.
    async fn follow(mut self, ring_timeout: Duration, mut hangup: mpsc::Receiver<()>, mut output: Output) {
        // The settings' fields are public: a huge timeout must not overflow the clock.
        let ring_deadline = self.started + ring_timeout.min(RING_TIMEOUT_MAX);
        let mut hangup_deadline: Option<Instant> = None;
        let mut console_open = true;
        if output.gone {
            self.hang_up(
                EndedBy::Agent,
                "the console stopped following the call",
                &mut hangup_deadline,
                &mut output,
            )
            .await;
        }
        while !self.tracker.is_ended() {
            let ringing = !self.tracker.is_answered() && !self.tracker.is_hanging_up();
            tokio::select! {
                frame = self.conn.next() => match frame {
                    Some(Ok(frame)) => self.on_frame(&frame, &mut output),
                    Some(Err(e)) => self.lose(format!("baresip's control connection failed: {e}"), &mut output),
                    None => self.lose("baresip stopped: its control connection closed".into(), &mut output),
                },
                asked = hangup.recv(), if console_open => {
                    if asked.is_none() {
                        // The call was dropped: nobody will record it, but it must not stay up.
                        console_open = false;
                        output.gone = true;
                    }
                    self.hang_up(EndedBy::Agent, "hung up by the agent", &mut hangup_deadline, &mut output).await;
                }
                _ = sleep_until(ring_deadline), if ringing => {
                    // Over UDP a dead route is silence until the timeout: tell it apart.
                    let reason = match self.tracker.has_rung() {
                        true => format!("no answer within {} s", ring_timeout.as_secs()),
                        false => format!("no answer within {} s; it never rang", ring_timeout.as_secs()),
                    };
                    self.hang_up(EndedBy::RingTimeout, &reason, &mut hangup_deadline, &mut output).await;
                }
                _ = sleep_until(hangup_deadline.unwrap_or(ring_deadline)), if hangup_deadline.is_some() => {
                    tracing::warn!(after = ?HANGUP_GRACE, "baresip did not confirm the hang-up; the call is recorded as ended");
                    if let Some(step) = self.tracker.hangup_unconfirmed(Utc::now()) {
                        output.emit(step);
                    }
                }
            }
        }
    }

    fn on_frame(&mut self, frame: &[u8], output: &mut Output) {
        match message::parse(frame) {
            Ok(Message::Event(event)) => {
                if let Some(step) = self.tracker.on_event(&event, Utc::now()) {
                    output.emit(step);
                }
            }
            // Replies to a hang-up need no action: CALL_CLOSED (or the grace period) ends it.
            Ok(Message::Response(reply)) if !reply.ok => {
                tracing::warn!(reply = %reply.data, "baresip refused a command");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "baresip sent a frame that is not JSON; skipped"),
        }
    }

    async fn hang_up(&mut self, by: EndedBy, reason: &str, deadline: &mut Option<Instant>, output: &mut Output) {
        if !self.tracker.request_hangup(by, reason.to_string()) {
            return;
        }
        *deadline = Some(Instant::now() + HANGUP_GRACE);
        if let Err(e) = self.send("hangup", None).await {
            self.lose(format!("could not hang up: {e}"), output);
        }
    }

    /// The softphone is gone: the call ends now, for the call log.
    fn lose(&mut self, reason: String, output: &mut Output) {
        tracing::warn!(addr = %self.addr, %reason, "softphone lost during a call");
        if let Some(step) = self.tracker.lost(Utc::now(), reason) {
            output.emit(step);
        }
    }

    /// Sends one command and returns its token.
    async fn send(&mut self, command: &str, params: Option<&str>) -> Result<String, DialError> {
        self.tokens += 1;
        let token = format!("coldcall-{}", self.tokens);
        let body = message::command(command, params, &token);
        match timeout(WRITE_TIMEOUT, self.conn.send(body.as_slice())).await {
            Ok(Ok(())) => Ok(token),
            Ok(Err(e)) => Err(DialError::Protocol(e.to_string())),
            Err(_) => Err(DialError::NoReply {
                addr: self.addr,
                after: WRITE_TIMEOUT,
            }),
        }
    }
}

/// `tokio::time::timeout_at` with the result as an option: `None` when the deadline passed.
async fn timeout_at<F: std::future::Future>(deadline: Instant, future: F) -> Option<F::Output> {
    tokio::time::timeout_at(deadline, future).await.ok()
}
