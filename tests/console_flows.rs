//! The console's flows driven by key sequences, without a terminal: each request the app makes
//! is run against a real SQLite store and its reply fed back, then both the app state and the
//! database are checked.

mod common;

use chrono::Duration;
use coldcall::store::{FeedCursor, LeadFilter, StartCall, Store};
use coldcall::tui::app::{AgentState, App, Modal, Pane, QueueTab};
use coldcall::tui::keymap::Keymap;
use coldcall::tui::request::{Reply, Request};
use common::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

struct Console {
    app: App,
    store: Store,
}

impl Console {
    async fn open(store: &Store, agent_name: &str) -> Console {
        Console::open_as(store, agent_name, false).await
    }

    async fn open_as(store: &Store, agent_name: &str, supervising: bool) -> Console {
        let agent = store.agent_by_name(agent_name).await.unwrap().expect("agent exists");
        let mut app = App::new(
            agent,
            store.describe().to_string(),
            "US".into(),
            Keymap::default(),
            store.now(),
        )
        .supervising(supervising, Default::default());
        let requests = app.start();
        let mut console = Console {
            app,
            store: store.clone(),
        };
        console.settle(requests).await;
        console
    }

    /// Runs requests and every request their replies lead to, until the app is idle.
    async fn settle(&mut self, mut requests: Vec<Request>) {
        while let Some(request) = requests.pop() {
            let reply = request.run(&self.store).await;
            requests.extend(self.app.on_reply(reply));
        }
    }

    /// Presses keys written as text: single characters, or <Enter>, <Esc>, <Tab>, <Down>, <Up>,
    /// <BackTab>, <PgDn>, <C-u> (ctrl).
    async fn press(&mut self, keys: &str) {
        for key in parse_keys(keys) {
            let requests = self.app.on_key(key);
            self.settle(requests).await;
        }
    }

    /// One poll of the change feed from the start, as the console's feed task does.
    async fn poll_feed(&mut self) {
        let changes = self.store.changes_since(FeedCursor::default(), 100).await.unwrap();
        let requests = self.app.on_reply(Reply::Changes(changes));
        self.settle(requests).await;
    }

    async fn tick(&mut self, by: Duration) {
        self.store.clock().advance(by);
        let requests = self.app.tick(self.store.now());
        self.settle(requests).await;
    }

    /// Moves the selection down the list on screen to the lead, as an agent would with j.
    async fn select(&mut self, lead_id: uuid::Uuid) {
        let row = self
            .app
            .lists()
            .leads()
            .iter()
            .position(|l| l.id == lead_id)
            .expect("the lead is on this page");
        for _ in 0..row {
            self.press("j").await;
        }
    }

    fn status_text(&self) -> String {
        self.app.status().text().to_string()
    }
}

fn parse_keys(text: &str) -> Vec<KeyEvent> {
    let mut keys = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '<' && chars.peek().is_some_and(|n| n.is_ascii_alphabetic()) {
            let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
            let (code, modifiers) = match name.as_str() {
                "Enter" => (KeyCode::Enter, KeyModifiers::NONE),
                "Esc" => (KeyCode::Esc, KeyModifiers::NONE),
                "Tab" => (KeyCode::Tab, KeyModifiers::NONE),
                "BackTab" => (KeyCode::BackTab, KeyModifiers::SHIFT),
                "Down" => (KeyCode::Down, KeyModifiers::NONE),
                "Up" => (KeyCode::Up, KeyModifiers::NONE),
                "Left" => (KeyCode::Left, KeyModifiers::NONE),
                "Right" => (KeyCode::Right, KeyModifiers::NONE),
                "PgDn" => (KeyCode::PageDown, KeyModifiers::NONE),
                "PgUp" => (KeyCode::PageUp, KeyModifiers::NONE),
                "C-u" => (KeyCode::Char('u'), KeyModifiers::CONTROL),
                "C-c" => (KeyCode::Char('c'), KeyModifiers::CONTROL),
                other => panic!("unknown key <{other}>"),
            };
            keys.push(KeyEvent::new(code, modifiers));
        } else {
            keys.push(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }
    keys
}

async fn floor() -> (TestDb, Vec<coldcall::store::Lead>) {
    let db = sqlite().await;
    agent(&db.store, "alice").await;
    agent(&db.store, "bob").await;
    let mut leads = Vec::new();
    leads.push(
        lead_with(&db.store, 1, |i| {
            i.first_name = "Ada".into();
            i.last_name = "Quinn".into();
            i.company = "Quinn Freight".into();
            i.priority = "urgent".into();
        })
        .await,
    );
    for n in 2..6 {
        leads.push(lead(&db.store, n).await);
    }
    (db, leads)
}

#[tokio::test]
async fn next_lead_call_and_outcome_in_five_keys() {
    let (db, leads) = floor().await;
    let mut console = Console::open(&db.store, "alice").await;
    assert_eq!(console.app.lists().tab(), QueueTab::Mine);
    assert_eq!(
        console.app.lists().leads().len(),
        5,
        "my queue shows what claim-next would give"
    );

    console.press("n").await;
    let detail = console.app.open_lead().expect("the claimed lead is open");
    assert_eq!(detail.lead.id, leads[0].id, "the urgent lead comes first");
    assert_eq!(console.app.focus(), Pane::Detail);

    console.press("c").await;
    assert_eq!(*console.app.agent_state(), AgentState::OnCall);
    assert_eq!(console.app.call().unwrap().phone, "+12125550001");
    assert_eq!(
        console.app.active_calls().all().len(),
        1,
        "the floor pane shows the call"
    );

    console.tick(Duration::seconds(75)).await;
    assert_eq!(console.app.call_seconds(), Some(75));
    console.press("e").await;
    assert_eq!(*console.app.agent_state(), AgentState::WrapUp);
    assert!(matches!(console.app.modal(), Some(Modal::Outcome(_))));
    console.press("i<Tab>wants a demo<Enter>next week<Esc><Enter>").await;

    assert!(console.app.modal().is_none(), "{}", console.status_text());
    assert_eq!(*console.app.agent_state(), AgentState::Ready);
    assert!(console.app.call().is_none());
    let calls = db.store.call_history(leads[0].id).await.unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].disposition.as_deref(), Some("interested"));
    assert_eq!(calls[0].duration_s, Some(75));
    assert_eq!(calls[0].notes.as_deref(), Some("wants a demo\nnext week"));
    let history = db.store.status_history(leads[0].id).await.unwrap();
    assert_eq!(history[0].new_status.as_str(), "qualified");
    assert_eq!(history[0].changed_by_name.as_deref(), Some("alice"));
    assert!(db.store.active_calls().await.unwrap().is_empty());
    let detail = console.app.open_lead().unwrap();
    assert_eq!(detail.calls.len(), 1, "the detail shows the new call");
}

#[tokio::test]
async fn search_as_you_type_opens_the_only_match() {
    let (db, leads) = floor().await;
    let mut console = Console::open(&db.store, "alice").await;
    console.press("/quin").await;
    assert!(console.app.lists().search().editing());
    assert_eq!(console.app.lists().search().results().map(<[_]>::len), Some(1));
    console.press("<Enter>").await;
    assert_eq!(console.app.open_lead().map(|d| d.lead.id), Some(leads[0].id));
    console.press("<Esc><Esc>").await;
    assert!(console.app.open_lead().is_none());
    assert!(
        console.app.lists().search().results().is_none(),
        "Esc clears the search"
    );
}

#[tokio::test]
async fn a_refused_call_says_who_is_on_it() {
    let (db, leads) = floor().await;
    let bob = db.store.agent_by_name("bob").await.unwrap().unwrap();
    db.store
        .start_call(&StartCall {
            lead_id: leads[1].id,
            agent_id: bob.id,
            from_number: None,
        })
        .await
        .unwrap();
    let mut console = Console::open(&db.store, "alice").await;
    console.press("]").await;
    assert_eq!(console.app.lists().tab(), QueueTab::All);
    console.select(leads[1].id).await;
    console.press("<Enter>c").await;
    assert!(console.app.call().is_none());
    let text = console.status_text();
    assert!(text.contains("bob is on a call"), "{text}");
    assert_eq!(*console.app.agent_state(), AgentState::Ready);
}

#[tokio::test]
async fn status_change_with_a_reason_is_logged() {
    let (db, leads) = floor().await;
    let mut console = Console::open(&db.store, "alice").await;
    console.press("n").await;
    // New → Contacted → Qualified: two steps down the list
    console.press("s<Down><Down>met at the expo<Enter>").await;
    let lead = db.store.lead(leads[0].id).await.unwrap().unwrap();
    assert_eq!(lead.status.as_str(), "qualified");
    let history = db.store.status_history(leads[0].id).await.unwrap();
    assert_eq!(history[0].reason.as_deref(), Some("met at the expo"));
    assert_eq!(history[0].changed_by_name.as_deref(), Some("alice"));
    assert_eq!(console.app.open_lead().unwrap().lead.status.as_str(), "qualified");
}

#[tokio::test]
async fn an_edit_with_a_bad_phone_shows_the_error_and_saves_nothing() {
    let (db, leads) = floor().await;
    let mut console = Console::open(&db.store, "alice").await;
    console.press("n").await;
    // fields: first, last, company, title, phone
    console.press("E<Tab><Tab><Tab><Tab><C-u>12<Enter>").await;
    match console.app.modal() {
        Some(Modal::Edit(form)) => {
            let phone = form.fields.iter().find(|f| f.name == "phone").unwrap();
            assert!(
                phone
                    .error
                    .as_deref()
                    .unwrap_or("")
                    .contains("not a valid phone number"),
                "{phone:?}"
            );
        }
        other => panic!("the form stays open with the error, got {other:?}"),
    }
    assert_eq!(db.store.lead(leads[0].id).await.unwrap().unwrap().phone, leads[0].phone);
    // fixing it saves
    console.press("<C-u>(212) 555-0199<Enter>").await;
    assert!(console.app.modal().is_none());
    assert_eq!(db.store.lead(leads[0].id).await.unwrap().unwrap().phone, "+12125550199");
}

/// A contact number reads as the lead's own number reads, and an edit that leaves the shown
/// number as it is keeps the stored one.
#[tokio::test]
async fn numbers_read_as_they_are_dialled_and_an_edit_keeps_the_stored_one() {
    let (db, leads) = floor().await;
    let mut console = Console::open(&db.store, "alice").await;
    console.press("n").await;
    // the contact form: its kind (a phone), then the value
    console.press("a<Tab>(415) 555-0123<Enter>").await;
    assert_eq!(console.status_text(), "contact added: +1 415-555-0123");
    let contacts = db.store.contacts(leads[0].id).await.unwrap();
    assert_eq!(contacts[0].value, "+14155550123", "stored in E.164");

    console.press("E").await;
    let shown = match console.app.modal() {
        Some(Modal::Edit(form)) => form
            .fields
            .iter()
            .find(|f| f.name == "phone")
            .unwrap()
            .value()
            .to_string(),
        other => panic!("the edit form is open, got {other:?}"),
    };
    assert_eq!(shown, coldcall::domain::phone::format_international(&leads[0].phone));
    assert_ne!(shown, leads[0].phone, "grouped, not the stored form");
    console.press("<Enter>").await;
    assert!(console.app.modal().is_none(), "{}", console.status_text());
    assert_eq!(db.store.lead(leads[0].id).await.unwrap().unwrap().phone, leads[0].phone);
}

#[tokio::test]
async fn an_outcome_typed_while_the_database_is_away_is_kept_and_saved_later() {
    let (db, leads) = floor().await;
    let mut console = Console::open(&db.store, "alice").await;
    console.press("nc").await;
    console.press("e").await;
    // the database goes away before the outcome is saved
    db.store.close().await;
    console.press("b<Enter>").await;
    assert!(!console.app.online());
    assert_eq!(console.app.pending().len(), 1, "the outcome is kept");
    assert!(console.status_text().contains("kept"), "{}", console.status_text());
    // it comes back: the console's next successful feed poll saves the outcome
    let back = Store::connect(&db.url, &Default::default())
        .await
        .unwrap()
        .with_clock(db.store.clock().clone());
    console.store = back.clone();
    console.poll_feed().await;
    assert!(console.app.pending().is_empty(), "{}", console.status_text());
    assert!(console.app.online());
    let calls = back.call_history(leads[0].id).await.unwrap();
    assert_eq!(calls[0].disposition.as_deref(), Some("busy"));
    assert!(back.active_calls().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_lead_list_pages_by_keyset() {
    let db = sqlite().await;
    agent(&db.store, "alice").await;
    for n in 0..450 {
        lead(&db.store, n).await;
    }
    let mut console = Console::open(&db.store, "alice").await;
    console.press("]").await;
    assert_eq!(console.app.lists().leads().len(), 200, "one page at a time");
    let first_page: Vec<_> = console.app.lists().leads().iter().map(|l| l.id).collect();
    console.press("G").await;
    assert_eq!(console.app.lists().selected(), 199);
    console.press("j").await;
    assert_eq!(console.app.lists().leads().len(), 200);
    assert_eq!(console.app.lists().selected(), 0);
    assert!(
        !first_page.contains(&console.app.lists().leads()[0].id),
        "the next page"
    );
    console.press("<PgDn><PgDn>").await;
    console.press("G").await;
    console.press("j").await;
    assert_eq!(console.app.lists().leads().len(), 50, "the last page");
    console.press("g").await;
    console.press("k").await;
    console.press("gk").await;
    assert_eq!(
        console.app.lists().leads().iter().map(|l| l.id).collect::<Vec<_>>(),
        first_page,
        "back to the first page"
    );
    let all = db
        .store
        .list_leads(&LeadFilter::default(), None, 1000)
        .await
        .unwrap()
        .items;
    assert_eq!(all.len(), 450);
}

#[tokio::test]
async fn quitting_during_a_call_asks_first() {
    let (db, _) = floor().await;
    let mut console = Console::open(&db.store, "alice").await;
    console.press("nc").await;
    console.press("q").await;
    assert!(!console.app.quitting());
    assert!(matches!(console.app.modal(), Some(Modal::ConfirmQuit)));
    console.press("n").await;
    assert!(!console.app.quitting(), "any key but y stays");
    console.press("<C-c>y").await;
    assert!(console.app.quitting());
}

#[tokio::test]
async fn pause_and_ready() {
    let (db, _) = floor().await;
    let mut console = Console::open(&db.store, "alice").await;
    console.press("plunch<Enter>").await;
    assert_eq!(*console.app.agent_state(), AgentState::Paused("lunch".into()));
    let publish = console.app.publish_presence();
    console.settle(publish).await;
    let floor = db.store.presence().await.unwrap();
    let alice = floor.iter().find(|p| p.agent_name == "alice").unwrap();
    assert_eq!(
        (alice.state.as_str(), alice.reason.as_deref()),
        ("paused", Some("lunch")),
        "the floor sees the pause"
    );
    console.press("nc").await;
    assert!(console.app.call().is_none(), "no calls while paused");
    console.press("p").await;
    assert_eq!(*console.app.agent_state(), AgentState::Ready);
}

#[tokio::test]
async fn a_due_callback_is_announced_once() {
    let (db, leads) = floor().await;
    let alice = db.store.agent_by_name("alice").await.unwrap().unwrap();
    let mut console = Console::open(&db.store, "alice").await;
    db.store
        .schedule_callback(leads[2].id, alice.id, db.store.now() + Duration::minutes(5), None)
        .await
        .unwrap();
    console.tick(Duration::minutes(1)).await;
    assert!(!console.status_text().contains("callback due"), "not due yet");
    console.tick(Duration::minutes(5)).await;
    assert!(
        console.status_text().contains("callback due: Lead3 Tester; press n"),
        "{}",
        console.status_text()
    );
    console.press("n").await;
    assert_eq!(
        console.app.open_lead().map(|d| d.lead.id),
        Some(leads[2].id),
        "n takes the callback first"
    );
    console.tick(Duration::seconds(11)).await;
    assert!(
        !console.status_text().contains("callback due:"),
        "announced once: {}",
        console.status_text()
    );
}

#[tokio::test]
async fn the_dial_hook_gets_the_number_and_its_failure_is_on_record() {
    let (db, leads) = floor().await;
    let dir = tempfile::tempdir().unwrap();
    let dialled = dir.path().join("dialled");
    let hung_up = dir.path().join("hung-up");
    let mut console = Console::open(&db.store, "alice").await;
    let script = |file: &std::path::Path| format!("printf '%s %s' \"$0\" \"$1\" > '{}'", file.display());
    console.app.set_dial(Some(coldcall::dialer::DialHook {
        command: vec![
            "sh".into(),
            "-c".into(),
            script(&dialled),
            "{number}".into(),
            "{agent}".into(),
        ],
        hangup: vec![
            "sh".into(),
            "-c".into(),
            script(&hung_up),
            "{lead_id}".into(),
            "{agent}".into(),
        ],
    }));
    console.press("nc").await;
    assert!(console.app.call().is_some(), "{}", console.status_text());
    assert_eq!(std::fs::read_to_string(&dialled).unwrap(), "+12125550001 alice");
    console.press("e").await;
    console.press("o<Enter>").await;
    assert_eq!(
        std::fs::read_to_string(&hung_up).unwrap(),
        format!("{} alice", leads[0].id)
    );

    // a softphone that fails: the agent is told and the call keeps the reason
    console.tick(Duration::minutes(10)).await;
    console.app.set_dial(Some(coldcall::dialer::DialHook {
        command: vec!["sh".into(), "-c".into(), "echo softphone offline >&2; exit 7".into()],
        hangup: Vec::new(),
    }));
    console.press("<Esc>]").await;
    console.select(leads[1].id).await;
    console.press("<Enter>c").await;
    assert!(
        console.app.call().is_some(),
        "the call goes on: the number can be dialled by hand"
    );
    assert!(
        console.status_text().contains("dialling failed"),
        "{}",
        console.status_text()
    );
    let call = console.app.call().unwrap().call_id;
    let notes = db.store.call(call).await.unwrap().unwrap().notes.unwrap_or_default();
    assert!(
        notes.contains("dial hook failed") && notes.contains("softphone offline"),
        "{notes}"
    );
}

#[tokio::test]
async fn a_supervisor_sees_the_floor_and_releases_a_call() {
    use coldcall::domain::PresenceState;
    let (db, leads) = floor().await;
    supervisor(&db.store, "sam").await;
    let bob = db.store.agent_by_name("bob").await.unwrap().unwrap();
    let call = db
        .store
        .start_call(&StartCall {
            lead_id: leads[1].id,
            agent_id: bob.id,
            from_number: None,
        })
        .await
        .unwrap();
    db.store
        .set_presence(bob.id, PresenceState::OnCall, None)
        .await
        .unwrap();
    let mut console = Console::open_as(&db.store, "sam", true).await;
    let floor = console.app.floor_view().floor().cloned().expect("the floor is loaded");
    let bobs = floor.presence.iter().find(|p| p.agent_name == "bob").unwrap();
    assert_eq!(bobs.state, PresenceState::OnCall);
    assert!(floor
        .presence
        .iter()
        .any(|p| p.agent_name == "alice" && p.state == PresenceState::Offline));

    assert_eq!(floor.figures.total().calls, 1, "today's figures count bob's call");
    console.press("[").await;
    assert_eq!(console.app.floor_view().range().back, 1);
    assert_eq!(
        console.app.floor_view().floor().unwrap().figures.total().calls,
        0,
        "yesterday had none"
    );
    console.press("]]").await;
    assert_eq!(console.app.floor_view().range().back, 0, "never later than today");
    assert_eq!(console.app.floor_view().floor().unwrap().figures.total().calls, 1);

    // an agent cannot release; the supervisor selects the call and gives a reason
    console.press("<Tab>x<Enter>").await;
    assert!(
        matches!(console.app.modal(), Some(Modal::Release(..))),
        "a reason is required"
    );
    console.press("line went dead<Enter>").await;
    assert!(console.app.modal().is_none(), "{}", console.status_text());
    assert!(console.app.active_calls().all().is_empty());
    let record = db.store.call(call.call_id).await.unwrap().unwrap();
    assert_eq!(record.status.as_str(), "abandoned");
    assert!(record.notes.unwrap_or_default().contains("line went dead"));

    let mut agent_console = Console::open(&db.store, "alice").await;
    agent_console.press("<Tab>x").await;
    assert!(agent_console.app.modal().is_none());
    assert!(
        agent_console.status_text().contains("only supervisors"),
        "{}",
        agent_console.status_text()
    );
}

#[tokio::test]
async fn a_supervisor_hands_an_overdue_callback_on_and_assigns_a_lead_from_the_screen() {
    let (db, leads) = floor().await;
    let sam = supervisor(&db.store, "sam").await;
    let alice = db.store.agent_by_name("alice").await.unwrap().unwrap();
    let bob = db.store.agent_by_name("bob").await.unwrap().unwrap();
    let due = db.store.now() + Duration::minutes(5);
    let callback = db
        .store
        .schedule_callback(leads[2].id, alice.id, due, Some("asked for a Monday call"))
        .await
        .unwrap();
    let mut console = Console::open_as(&db.store, "sam", true).await;
    assert!(
        console.app.floor_view().floor().unwrap().overdue.is_empty(),
        "not due yet"
    );

    // the floor refreshes on its own as time passes
    console.tick(Duration::minutes(40)).await;
    let overdue = console.app.floor_view().floor().unwrap().overdue.clone();
    assert_eq!(overdue.iter().map(|c| c.id).collect::<Vec<_>>(), vec![callback.id]);

    // an unknown name is refused and nothing moves
    console.press("A").await;
    assert!(matches!(console.app.modal(), Some(Modal::Assign(_))));
    console.press("nobody<Enter>").await;
    assert!(
        console.status_text().contains("agent not found: nobody"),
        "{}",
        console.status_text()
    );
    assert_eq!(
        db.store.due_callbacks(None, db.store.now()).await.unwrap()[0].agent_id,
        alice.id
    );

    console.press("Abob<Enter>").await;
    assert!(
        console.status_text().contains("callback handed to bob"),
        "{}",
        console.status_text()
    );
    let handed = db.store.due_callbacks(None, db.store.now()).await.unwrap();
    assert_eq!(handed[0].agent_id, bob.id);
    assert_eq!(console.app.floor_view().floor().unwrap().overdue[0].agent_name, "bob");

    // the lead view: F leaves the floor, A on the selected lead assigns it
    console.press("F").await;
    assert!(!console.app.is_supervising());
    console.select(leads[3].id).await;
    console.press("Aalice<Enter>").await;
    assert!(
        console.status_text().contains("lead assigned to alice"),
        "{}",
        console.status_text()
    );
    let assignments = db.store.assignments(leads[3].id).await.unwrap();
    assert_eq!(assignments[0].agent_id, alice.id);
    assert_eq!(assignments[0].assigned_by, Some(sam.id));
    assert!(assignments[0].active);
    console.press("F").await;
    assert!(console.app.is_supervising(), "F goes back to the floor");

    // agents neither see the floor nor assign
    let mut agent_console = Console::open(&db.store, "bob").await;
    agent_console.press("F").await;
    assert!(!agent_console.app.is_supervising());
    agent_console.press("A").await;
    assert!(agent_console.app.modal().is_none());
    assert!(
        agent_console.status_text().contains("only supervisors"),
        "{}",
        agent_console.status_text()
    );
}

#[tokio::test]
async fn the_floor_figures_cover_a_week_or_a_month_when_widened() {
    let (db, leads) = floor().await;
    supervisor(&db.store, "sam").await;
    let bob = db.store.agent_by_name("bob").await.unwrap().unwrap();
    // a call three days ago, ended with an outcome
    db.store.clock().advance(Duration::days(-3));
    let call = db
        .store
        .start_call(&StartCall {
            lead_id: leads[1].id,
            agent_id: bob.id,
            from_number: None,
        })
        .await
        .unwrap();
    db.store
        .end_call(&coldcall::store::EndCall {
            call_id: call.call_id,
            agent_id: bob.id,
            disposition: "no_answer".into(),
            duration_s: None,
            notes: None,
            recording_url: None,
            callback_at: None,
            force: false,
            progress: None,
        })
        .await
        .unwrap();
    db.store.clock().advance(Duration::days(3));

    let mut console = Console::open_as(&db.store, "sam", true).await;
    let calls = |c: &Console| c.app.floor_view().floor().unwrap().figures.total().calls;
    assert_eq!(calls(&console), 0, "nothing today");
    console.press("w").await;
    assert_eq!(calls(&console), 1, "the last 7 days hold bob's call");
    console.press("[").await;
    assert_eq!(calls(&console), 0, "the 7 days before that had none");
    console.press("w").await;
    assert_eq!(console.app.floor_view().range().back, 0, "widening starts from today");
    assert_eq!(calls(&console), 1, "the last 30 days hold it too");
    console.press("w").await;
    assert_eq!(calls(&console), 0, "back to today");
}

#[tokio::test]
async fn a_paused_agent_claims_nothing() {
    let (db, leads) = floor().await;
    let mut console = Console::open(&db.store, "alice").await;
    console.press("plunch<Enter>").await;
    console.press("n").await;
    assert!(console.app.open_lead().is_none(), "nothing was handed out");
    assert!(
        console.status_text().contains("you are paused"),
        "{}",
        console.status_text()
    );
    assert!(
        db.store.assignments(leads[0].id).await.unwrap().is_empty(),
        "the lead is not reserved for a paused agent"
    );
    let bob = db.store.agent_by_name("bob").await.unwrap().unwrap();
    let bobs_queue = db.store.queue_preview(bob.id, 10).await.unwrap();
    assert_eq!(
        bobs_queue[0].id, leads[0].id,
        "the urgent lead is still first for others"
    );
}

#[tokio::test]
async fn a_filter_set_from_my_queue_shows_the_list_it_filters() {
    let (db, leads) = floor().await;
    let mut console = Console::open(&db.store, "alice").await;
    assert_eq!(console.app.lists().tab(), QueueTab::Mine);
    // priority: any → low → medium → high → urgent
    console.press("f<Tab><Right><Right><Right><Right><Enter>").await;
    assert_eq!(
        console.app.lists().tab(),
        QueueTab::All,
        "the filter applies to All leads"
    );
    let shown: Vec<_> = console.app.lists().leads().iter().map(|l| l.id).collect();
    assert_eq!(shown, vec![leads[0].id], "only the urgent lead");
}

#[tokio::test]
async fn the_outcome_is_named_by_its_label() {
    let (db, _) = floor().await;
    let mut console = Console::open(&db.store, "alice").await;
    console.press("nce").await;
    console.press("n<Enter>").await;
    assert!(
        console.status_text().starts_with("saved: No answer"),
        "{}",
        console.status_text()
    );
}

#[tokio::test]
async fn a_callback_outside_calling_hours_says_when_and_is_announced_again_when_callable() {
    let (db, _) = floor().await;
    let alice = db.store.agent_by_name("alice").await.unwrap().unwrap();
    // 15:00 UTC is midnight in Tokyo
    let aisha = lead_with(&db.store, 40, |i| {
        i.first_name = "Aisha".into();
        i.last_name = "Wright".into();
        i.timezone = "Asia/Tokyo".into();
    })
    .await;
    let mut console = Console::open(&db.store, "alice").await;
    db.store
        .schedule_callback(aisha.id, alice.id, db.store.now() + Duration::minutes(5), None)
        .await
        .unwrap();
    console.tick(Duration::minutes(6)).await;
    let said = console.status_text();
    assert!(
        said.starts_with("callback due: Aisha Wright; cannot call until"),
        "{said}"
    );
    assert!(said.contains("Asia/Tokyo") && !said.contains("press n"), "{said}");
    // 23:00 UTC is 08:00 in Tokyo: the window opens
    console.tick(Duration::hours(8)).await;
    assert_eq!(console.status_text(), "callback due: Aisha Wright; press n to take it");
}

#[tokio::test]
async fn an_empty_database_gets_its_first_lead_from_the_console() {
    let db = sqlite().await;
    agent(&db.store, "alice").await;
    let mut console = Console::open(&db.store, "alice").await;
    assert!(console.app.lists().leads().is_empty());
    // fields: first, last, company, title, phone
    console
        .press("NAda<Tab>Quinn<Tab>Quinn Freight<Tab><Tab>(212) 555-0101<Enter>")
        .await;
    assert!(console.app.modal().is_none(), "{}", console.status_text());
    let added = db.store.search_leads("Quinn", &LeadFilter::default(), 5).await.unwrap();
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].phone, "+12125550101");
    assert_eq!(
        console.app.open_lead().map(|d| d.lead.id),
        Some(added[0].id),
        "it opens"
    );
    assert!(
        console.status_text().starts_with("lead added: Ada Quinn"),
        "{}",
        console.status_text()
    );
}

#[tokio::test]
async fn a_refusal_goes_when_another_lead_is_in_front() {
    let (db, leads) = floor().await;
    let bob = db.store.agent_by_name("bob").await.unwrap().unwrap();
    db.store
        .start_call(&StartCall {
            lead_id: leads[1].id,
            agent_id: bob.id,
            from_number: None,
        })
        .await
        .unwrap();
    let mut console = Console::open(&db.store, "alice").await;
    console.press("]").await;
    console.select(leads[1].id).await;
    console.press("c").await;
    assert!(
        console.status_text().contains("bob is on a call"),
        "{}",
        console.status_text()
    );
    // the lead is the last row: move up to the one before it
    console.press("k").await;
    assert_eq!(console.status_text(), "", "the refusal was about the other lead");
}

#[tokio::test]
async fn a_supervisor_merges_a_duplicate_from_the_console() {
    let (db, leads) = floor().await;
    supervisor(&db.store, "sam").await;
    let (keep, other) = (&leads[0], &leads[1]);
    db.store
        .start_call(&coldcall::store::StartCall {
            lead_id: other.id,
            agent_id: db.store.agent_by_name("bob").await.unwrap().unwrap().id,
            from_number: None,
        })
        .await
        .unwrap();
    let mut console = Console::open_as(&db.store, "sam", false).await;
    console.select(keep.id).await;
    // Named by the start of its id, as on the command line; refused while it is on a call.
    let prefix = other.id.to_string()[..30].to_string();
    console.press("M").await;
    assert!(matches!(console.app.modal(), Some(Modal::Merge(_))));
    console.press(&format!("{prefix}<Enter>")).await;
    assert!(
        console.status_text().contains("call"),
        "refused during a call: {}",
        console.status_text()
    );
    assert!(db.store.lead(other.id).await.unwrap().unwrap().deleted_at.is_none());
    db.store.reap_stale_locks(None).await.unwrap();
    db.store.clock().advance(Duration::minutes(10));
    db.store.reap_stale_locks(None).await.unwrap();

    console.press("M").await;
    console.press(&format!("{prefix}<Enter>")).await;
    assert!(
        console.status_text().starts_with("merged into Ada Quinn: 1 call"),
        "{}",
        console.status_text()
    );
    assert_eq!(db.store.merged_into(other.id).await.unwrap(), Some(keep.id));
    assert_eq!(db.store.call_history(keep.id).await.unwrap().len(), 1, "the call moved");

    // An agent does not merge.
    let mut agent_console = Console::open(&db.store, "bob").await;
    agent_console.press("M").await;
    assert!(agent_console.app.modal().is_none());
    assert!(agent_console.status_text().contains("only supervisors merge leads"));
}
