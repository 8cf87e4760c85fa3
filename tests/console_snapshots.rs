//! Each screen rendered to a test backend at 80×24 and 160×48 and compared with a reviewed
//! snapshot. Clock readings and the temporary database path are filtered out.

mod common;

use chrono::Duration;
use coldcall::store::Store;
use coldcall::tui::app::App;
use coldcall::tui::keymap::Keymap;
use coldcall::tui::request::Request;
use coldcall::tui::view::{self, Theme};
use common::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

async fn settle(app: &mut App, store: &Store, mut requests: Vec<Request>) {
    while let Some(request) = requests.pop() {
        let reply = request.run(store).await;
        requests.extend(app.on_reply(reply));
    }
}

async fn press(app: &mut App, store: &Store, keys: &[KeyCode]) {
    for code in keys {
        let requests = app.on_key(KeyEvent::new(*code, KeyModifiers::NONE));
        settle(app, store, requests).await;
    }
}

fn chars(text: &str) -> Vec<KeyCode> {
    text.chars().map(KeyCode::Char).collect()
}

/// A small floor with deterministic names, one call by bob in progress.
async fn floor() -> (TestDb, App) {
    let db = sqlite().await;
    let store = &db.store;
    let alice = agent(store, "alice").await;
    let bob = agent(store, "bob").await;
    for (n, (first, last, company, priority)) in [
        ("Ada", "Quinn", "Quinn Freight", "urgent"),
        ("Bea", "Olsen", "Harborline Shipping", "high"),
        ("Cal", "Moreno", "Lumen Labs", "medium"),
        ("Dee", "Nakamura", "Redwood Legal", "medium"),
        ("Eli", "Kowalski", "Zephyr Airlines", "low"),
        ("Zoë", "Łukasiewicz", "東京 Trading 🚀", "low"),
    ]
    .into_iter()
    .enumerate()
    {
        lead_with(store, n as u32 + 1, |i| {
            i.first_name = first.into();
            i.last_name = last.into();
            i.company = company.into();
            i.priority = priority.into();
            i.lead_score = (90 - n * 10).to_string();
            i.title = "Head of Operations".into();
            i.notes = "Asked for pricing last quarter.".into();
        })
        .await;
    }
    let busy = store
        .search_leads("Nakamura", &Default::default(), 1)
        .await
        .unwrap()
        .remove(0);
    store
        .start_call(&coldcall::store::StartCall {
            lead_id: busy.id,
            agent_id: bob.id,
            from_number: None,
        })
        .await
        .unwrap();
    store.clock().advance(Duration::seconds(83));
    let bobs = store.active_calls().await.unwrap().remove(0);
    assert!(
        store.heartbeat(bobs.call_id, bob.id).await.unwrap(),
        "bob's console is alive"
    );
    let mut app = App::new(
        alice,
        "sqlite:///tmp/floor.db".into(),
        "US".into(),
        Keymap::default(),
        store.now(),
    );
    let requests = app.start();
    settle(&mut app, store, requests).await;
    (db, app)
}

fn render(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| view::render(app, &Theme { color: false }, frame))
        .unwrap();
    terminal.backend().to_string()
}

fn check(name: &str, app: &App) {
    check_at(name, app, &SIZES);
}

fn check_at(name: &str, app: &App, sizes: &[(u16, u16)]) {
    for &(width, height) in sizes {
        let screen = render(app, width, height);
        insta::with_settings!({
            snapshot_suffix => format!("{width}x{height}"),
            filters => vec![
                // the wall clock in the header and times of day in lists
                (r"\d{2}:\d{2}:\d{2}", "[clock]"),
                (r"\b\d{2}:\d{2}\b", "[time]"),
            ],
        }, {
            insta::assert_snapshot!(name, screen);
        });
    }
}

#[tokio::test]
async fn queue() {
    let (_db, app) = floor().await;
    check("queue", &app);
}

#[tokio::test]
async fn lead_detail() {
    let (db, mut app) = floor().await;
    // A second number, stored in E.164, reads grouped as the lead's own number does.
    let ada = db
        .store
        .search_leads("Quinn", &Default::default(), 1)
        .await
        .unwrap()
        .remove(0);
    let office = coldcall::store::NewContact {
        kind: coldcall::domain::ContactKind::Phone,
        value: "+44 20 7946 0958".into(),
        label: Some("London office".into()),
        is_primary: false,
        is_verified: false,
    };
    db.store.add_contact(ada.id, &office, "US").await.unwrap();
    press(&mut app, &db.store, &[KeyCode::Enter]).await;
    check("lead_detail", &app);
}

/// Beside an open lead at 120 columns the queue keeps whole names and drops columns instead.
#[tokio::test]
async fn lead_beside_the_queue() {
    let (db, mut app) = floor().await;
    press(&mut app, &db.store, &[KeyCode::Enter]).await;
    check_at("lead_beside_the_queue", &app, &[(120, 30)]);
}

#[tokio::test]
async fn on_call() {
    let (db, mut app) = floor().await;
    press(&mut app, &db.store, &chars("nc")).await;
    db.store.clock().advance(Duration::seconds(30));
    let requests = app.tick(db.store.now());
    settle(&mut app, &db.store, requests).await;
    check("on_call", &app);
}

/// A call with a script stored: beside the lead on a tall screen, on its own tab at 80×24.
#[tokio::test]
async fn on_call_with_a_script() {
    let (db, mut app) = floor().await;
    db.store
        .set_script(
            "default",
            "Hi {first_name}, this is {agent} from Acme.\nIs {company} still looking at freight?\n\nIf yes: book a demo.\nIf no: ask when to call back.",
            None,
        )
        .await
        .unwrap();
    press(&mut app, &db.store, &chars("nc")).await;
    check("on_call_with_a_script", &app);
}

#[tokio::test]
async fn outcome_form() {
    let (db, mut app) = floor().await;
    press(&mut app, &db.store, &chars("nce")).await;
    press(&mut app, &db.store, &[KeyCode::Char('k'), KeyCode::Tab]).await;
    press(&mut app, &db.store, &chars("call after lunch")).await;
    check("outcome_form", &app);
}

#[tokio::test]
async fn search_results() {
    let (db, mut app) = floor().await;
    press(&mut app, &db.store, &chars("/lumen")).await;
    check("search_results", &app);
}

#[tokio::test]
async fn refused_call_and_help() {
    let (db, mut app) = floor().await;
    press(&mut app, &db.store, &chars("]")).await;
    let row = app
        .lists()
        .leads()
        .iter()
        .position(|l| l.last_name == "Nakamura")
        .unwrap();
    for _ in 0..row {
        press(&mut app, &db.store, &chars("j")).await;
    }
    press(&mut app, &db.store, &[KeyCode::Enter, KeyCode::Char('c')]).await;
    check("refused_call", &app);
    press(&mut app, &db.store, &chars("?")).await;
    check("help", &app);
}

#[tokio::test]
async fn edit_with_errors() {
    let (db, mut app) = floor().await;
    press(&mut app, &db.store, &chars("nE")).await;
    press(&mut app, &db.store, &[KeyCode::Tab; 5]).await;
    let clear = app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    settle(&mut app, &db.store, clear).await;
    let mut keys = chars("not-an-email");
    keys.push(KeyCode::Enter);
    press(&mut app, &db.store, &keys).await;
    check("edit_with_errors", &app);
}

#[test]
fn tiny_and_odd_sizes_do_not_panic() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_db, app) = rt.block_on(floor());
    for (w, h) in [(0, 0), (1, 1), (10, 3), (20, 6), (33, 9), (500, 200)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal
            .draw(|frame| view::render(&app, &Theme { color: true }, frame))
            .unwrap();
    }
}

#[tokio::test]
async fn supervisor_floor() {
    let (db, _) = floor().await;
    let sam = db
        .store
        .add_agent(&coldcall::store::NewAgent {
            name: "sam".into(),
            email: None,
            role: coldcall::domain::Role::Supervisor,
        })
        .await
        .unwrap();
    let bob = db.store.agent_by_name("bob").await.unwrap().unwrap();
    // a callback of bob's that nobody took: the supervisor may hand it on
    let lead = db.store.list_leads(&Default::default(), None, 1).await.unwrap().items[0].id;
    let due = db.store.now() + chrono::Duration::minutes(5);
    db.store
        .schedule_callback(lead, bob.id, due, Some("wants the price list"))
        .await
        .unwrap();
    db.store.clock().advance(chrono::Duration::minutes(20));
    db.store
        .set_presence(bob.id, coldcall::domain::PresenceState::OnCall, None)
        .await
        .unwrap();
    let mut app = App::new(
        sam,
        "sqlite:///tmp/floor.db".into(),
        "US".into(),
        Keymap::default(),
        db.store.now(),
    )
    .supervising(true, Default::default());
    let requests = app.start();
    settle(&mut app, &db.store, requests).await;
    check("supervisor_floor", &app);
}

/// A console on a database with no leads says so, and how to get some.
#[tokio::test]
async fn empty_database() {
    let db = sqlite().await;
    let alice = agent(&db.store, "alice").await;
    let mut app = App::new(
        alice,
        "sqlite:///tmp/empty.db".into(),
        "US".into(),
        Keymap::default(),
        db.store.now(),
    );
    let requests = app.start();
    settle(&mut app, &db.store, requests).await;
    press(&mut app, &db.store, &chars("]")).await;
    check_at("empty_database", &app, &[(80, 24)]);
}
