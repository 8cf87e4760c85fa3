//! The console dialling through real baresip processes on loopback (no SIP server, no mocks):
//! the app is driven by keys as in `console_flows`, its store requests run against a real SQLite
//! file, and its softphone requests go through the same phone line the event loop uses, whose
//! replies are fed back as they arrive. `scripts/install-baresip` installs baresip.

mod common;
#[path = "common/baresip.rs"]
mod phones;

use std::time::{Duration, Instant};

use chrono::Utc;
use coldcall::dialer::{BaresipSettings, UriTemplate};
use coldcall::domain::CallStatus;
use coldcall::store::{Clock, Lead, Store};
use coldcall::tui::app::{AgentState, App, Modal, Stage};
use coldcall::tui::keymap::Keymap;
use coldcall::tui::phone::PhoneLine;
use coldcall::tui::request::{Reply, Request};
use common::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use phones::{tone_wav, Answer, Baresip, Remote};
use tokio::sync::mpsc;

const STEP: Duration = Duration::from_secs(10);

struct Console {
    app: App,
    store: Store,
    phone: PhoneLine,
    tx: mpsc::UnboundedSender<Reply>,
    replies: mpsc::UnboundedReceiver<Reply>,
}

impl Console {
    async fn open(store: &Store, softphone: Option<BaresipSettings>) -> Console {
        let agent = store.agent_by_name("alice").await.unwrap().unwrap();
        let mut app = App::new(agent, "test".into(), "US".into(), Keymap::default(), store.now());
        app.set_softphone(softphone);
        let requests = app.start();
        let (tx, replies) = mpsc::unbounded_channel();
        let mut console = Console {
            app,
            store: store.clone(),
            phone: PhoneLine::default(),
            tx,
            replies,
        };
        console.settle(requests).await;
        console
    }

    /// Runs store requests to the end, as the event loop does; softphone requests go to the
    /// phone line, whose replies come later (see `until`).
    async fn settle(&mut self, mut requests: Vec<Request>) {
        while let Some(request) = requests.pop() {
            let Some(request) = self.phone.run(request, &self.tx) else {
                continue;
            };
            let reply = request.run(&self.store).await;
            requests.extend(self.app.on_reply(reply));
        }
    }

    async fn press(&mut self, keys: &str) {
        for c in keys.chars() {
            let code = match c {
                '\n' => KeyCode::Enter,
                c => KeyCode::Char(c),
            };
            let requests = self.app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
            self.settle(requests).await;
        }
    }

    /// Feeds the softphone's replies to the app until `done` holds; returns when it held.
    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) -> Instant {
        let deadline = tokio::time::Instant::now() + 2 * STEP;
        while !done(&self.app) {
            let reply = tokio::time::timeout_at(deadline, self.replies.recv())
                .await
                .unwrap_or_else(|_| panic!("{what}: not within {STEP:?}; status: {}", self.app.status().text()))
                .expect("the channel stays open");
            let mut requests = self.app.on_reply(reply);
            requests.extend(self.app.tick(Utc::now()));
            self.settle(requests).await;
        }
        Instant::now()
    }

    /// Feeds replies until the banner shows the call answered.
    async fn until_answered(&mut self) -> Instant {
        self.until("answered", |app| {
            app.call()
                .and_then(|c| c.line.as_ref())
                .is_some_and(|l| l.answered_at.is_some())
        })
        .await
    }

    fn stage(&self) -> Option<Stage> {
        self.app.call().and_then(|c| c.line.as_ref()).map(|l| l.stage())
    }

    fn chosen(&self) -> Option<String> {
        match self.app.modal() {
            Some(Modal::Outcome(form)) => form.chosen().map(|d| d.code.clone()),
            _ => None,
        }
    }
}

/// A floor on the real clock (SIP times are real) with one lead in a zone where it is office
/// hours now, and the agent alice.
async fn floor() -> (TestDb, Store, Lead) {
    let db = sqlite().await;
    let store = db.store.clone().with_clock(Clock::system());
    agent(&store, "alice").await;
    let lead = lead_with(&store, 1, |i| {
        i.first_name = "Ada".into();
        i.timezone = zone_in_office_hours().into();
    })
    .await;
    (db, store, lead)
}

/// The agent's phone, and the lead's phone answering the lead's number.
async fn phones(lead: &Lead, answer: Answer) -> (Baresip, Baresip) {
    let audio = tone_wav(60);
    let agent = Baresip::start("agent", "agent", Answer::Manual, &audio).await;
    let far = Baresip::start("lead", &lead.phone, answer, &audio).await;
    (agent, far)
}

fn settings(agent: &Baresip, far: &Baresip, ring_timeout: Duration) -> BaresipSettings {
    BaresipSettings::new(
        agent.control,
        UriTemplate::parse(&far.uri_template()).unwrap(),
        ring_timeout,
    )
}

async fn last_call(store: &Store, lead: &Lead) -> coldcall::store::CallLog {
    store.call_history(lead.id).await.unwrap().remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_call_answer_talk_and_hang_up_records_the_talk_time() {
    let (_db, store, lead) = floor().await;
    let (agent, far) = phones(&lead, Answer::Manual).await;
    let mut remote = Remote::connect(&far).await;
    let mut console = Console::open(&store, Some(settings(&agent, &far, Duration::from_secs(30)))).await;

    console.press("n").await;
    assert_eq!(console.app.open_lead().map(|d| d.lead.id), Some(lead.id));
    let pressed = Instant::now();
    console.press("c").await;
    assert_eq!(*console.app.agent_state(), AgentState::OnCall);
    assert_eq!(console.stage(), Some(Stage::Dialling));
    remote.event("CALL_INCOMING", STEP).await;
    let incoming = Instant::now();
    console
        .until("ringing", |app| {
            app.call()
                .and_then(|c| c.line.as_ref())
                .is_some_and(|l| l.stage() == Stage::Ringing)
        })
        .await;
    assert_eq!(console.app.call_seconds(), Some(0), "ringing is not talk");

    // The lead picks up after a couple of rings.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let accepted = remote.send("accept").await;
    let answered = console.until_answered().await;
    let banner_lag = (Utc::now() - accepted).num_milliseconds();
    tokio::time::sleep(Duration::from_secs(3)).await;
    console.app.tick(Utc::now());
    let talk = console.app.call_seconds().unwrap();
    assert!((2..=4).contains(&talk), "the banner's talk timer says {talk} s");

    // e hangs up through baresip; the form opens when baresip confirms.
    console.press("e").await;
    console
        .until("the outcome form", |app| matches!(app.modal(), Some(Modal::Outcome(_))))
        .await;
    assert_eq!(console.stage(), Some(Stage::Ended));
    assert_eq!(console.chosen(), None, "an answered call has no obvious outcome");
    assert_eq!(*console.app.agent_state(), AgentState::WrapUp);
    remote.event("CALL_CLOSED", STEP).await;
    console.press("i\n").await;
    assert_eq!(*console.app.agent_state(), AgentState::Ready);

    let call = last_call(&store, &lead).await;
    assert_eq!(call.status, CallStatus::Completed);
    assert_eq!(call.disposition.as_deref(), Some("interested"));
    let answered_at = call.answered_at.expect("answered_at is recorded");
    let ringing_at = call.ringing_at.expect("ringing_at is recorded");
    let ended_at = call.ended_at.unwrap();
    assert!(call.started_at <= ringing_at && ringing_at < answered_at && answered_at < ended_at);
    assert!(
        (answered_at - ringing_at).num_milliseconds() >= 1900,
        "the ringing is before the answer"
    );
    let duration = call.duration_s.unwrap();
    assert!(
        (3..=4).contains(&duration),
        "duration {duration} s is the talk time, not the ringing"
    );
    eprintln!(
        "measured: c → INVITE at the far end {} ms; far end's accept → banner answered {} ms; \
         answered → e → form {:?}",
        (incoming - pressed).as_millis(),
        banner_lag,
        answered.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_line_opens_the_form_with_busy_chosen_and_saves_in_one_key() {
    let (_db, store, lead) = floor().await;
    let (agent, far) = phones(&lead, Answer::Manual).await;
    let mut remote = Remote::connect(&far).await;
    let mut console = Console::open(&store, Some(settings(&agent, &far, Duration::from_secs(30)))).await;
    console.press("nc").await;
    remote.event("CALL_INCOMING", STEP).await;
    remote.send("hangup").await;
    // The far end ended it: the console moves to wrap-up by itself.
    console
        .until("the outcome form", |app| matches!(app.modal(), Some(Modal::Outcome(_))))
        .await;
    assert_eq!(*console.app.agent_state(), AgentState::WrapUp);
    assert_eq!(console.chosen().as_deref(), Some("busy"));
    assert!(
        console.app.status().text().contains("486"),
        "{}",
        console.app.status().text()
    );
    console.press("\n").await;
    assert_eq!(*console.app.agent_state(), AgentState::Ready);
    let call = last_call(&store, &lead).await;
    assert_eq!(
        (call.status, call.disposition.as_deref()),
        (CallStatus::Busy, Some("busy"))
    );
    assert_eq!((call.answered_at, call.duration_s), (None, Some(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_call_ends_as_no_answer_at_the_ring_timeout() {
    let (_db, store, lead) = floor().await;
    let (agent, far) = phones(&lead, Answer::Manual).await;
    let mut console = Console::open(&store, Some(settings(&agent, &far, Duration::from_secs(5)))).await;
    console.press("nc").await;
    let dialled = Instant::now();
    console
        .until("the outcome form", |app| matches!(app.modal(), Some(Modal::Outcome(_))))
        .await;
    let waited = dialled.elapsed().as_secs_f64();
    assert!((4.5..7.0).contains(&waited), "ended after {waited} s");
    assert_eq!(console.chosen().as_deref(), Some("no_answer"));
    console.press("\n").await;
    let call = last_call(&store, &lead).await;
    assert_eq!(call.status, CallStatus::NoAnswer);
    assert_eq!(call.disposition.as_deref(), Some("no_answer"));
    assert!(call.ringing_at.is_some() && call.answered_at.is_none());
    assert!(call.notes.unwrap_or_default().contains("no answer within 5 s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_killed_mid_call_leaves_the_call_ended_and_recorded() {
    let (_db, store, lead) = floor().await;
    let (mut agent, far) = phones(&lead, Answer::Auto).await;
    let mut console = Console::open(&store, Some(settings(&agent, &far, Duration::from_secs(30)))).await;
    console.press("nc").await;
    console.until_answered().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    agent.kill().await;
    console
        .until("the outcome form", |app| matches!(app.modal(), Some(Modal::Outcome(_))))
        .await;
    assert!(
        console.app.status().text().contains("baresip stopped"),
        "{}",
        console.app.status().text()
    );
    assert_eq!(console.chosen(), None, "a lost softphone says nothing about the lead");
    console.press("o\n").await;
    assert_eq!(*console.app.agent_state(), AgentState::Ready);
    assert!(console.app.call().is_none());
    let call = last_call(&store, &lead).await;
    assert_eq!(call.status, CallStatus::Completed, "it was answered");
    assert!(call.ended_at.is_some() && call.answered_at.is_some());
    assert!((1..=3).contains(&call.duration_s.unwrap()), "{:?}", call.duration_s);
    assert!(store.active_calls().await.unwrap().is_empty(), "the lock is released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_absent_falls_back_to_manual_dialling_in_words() {
    let (_db, store, lead) = floor().await;
    // Nothing listens here.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let settings = BaresipSettings::new(
        port,
        UriTemplate::parse("sip:{number}@127.0.0.1:5999").unwrap(),
        Duration::from_secs(30),
    );
    let mut console = Console::open(&store, Some(settings)).await;
    console.press("nc").await;
    console
        .until("the fallback", |app| app.call().is_some_and(|c| c.line.is_none()))
        .await;
    let text = console.app.status().text().to_string();
    assert!(
        text.contains("baresip is not running") && text.contains("by hand"),
        "{text}"
    );
    assert_eq!(
        *console.app.agent_state(),
        AgentState::OnCall,
        "the call goes on by hand"
    );
    // Manual dialling as before: e opens the form at once.
    console.press("e").await;
    assert!(matches!(console.app.modal(), Some(Modal::Outcome(_))));
    console.press("n\n").await;
    let call = last_call(&store, &lead).await;
    assert_eq!(call.disposition.as_deref(), Some("no_answer"));
    assert_eq!(call.ringing_at, None);
    let notes = call.notes.unwrap_or_default();
    assert!(
        notes.contains("softphone: baresip is not running") && notes.contains("dialled by hand"),
        "the failure is on record: {notes:?}"
    );
}

/// Quitting the console mid-call (confirmed) hangs the softphone's call up: the far end sees
/// it close, so no call stays up on the line after the console has gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_mid_call_hangs_the_softphone_call_up() {
    let (_db, store, lead) = floor().await;
    let (agent, far) = phones(&lead, Answer::Manual).await;
    let mut remote = Remote::connect(&far).await;
    let mut console = Console::open(&store, Some(settings(&agent, &far, Duration::from_secs(30)))).await;
    console.press("nc").await;
    remote.event("CALL_INCOMING", STEP).await;
    remote.send("accept").await;
    console.until_answered().await;
    console.press("q").await;
    assert!(
        matches!(console.app.modal(), Some(Modal::ConfirmQuit)),
        "a call asks first"
    );
    console.press("y").await;
    assert!(console.app.quitting());
    assert_eq!(
        console.phone.calls(),
        1,
        "the call is still up until the console hangs it up"
    );
    console.phone.hang_up_all(STEP).await;
    assert_eq!(console.phone.calls(), 0);
    remote.event("CALL_CLOSED", STEP).await;
}
