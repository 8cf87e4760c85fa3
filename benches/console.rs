//! Console figures on a large SQLite floor: time to the first frame, frame render time, page
//! loads by keyset, search, and resident memory. Prints numbers; asserts nothing.
//!
//!     cargo bench --bench console               # 1,000,000 leads
//!     cargo bench --bench console -- 100000     # another size
//!
//! The leads are loaded with plain multi-row INSERTs in one transaction (the import path is
//! not what is measured here), then everything else goes through the real store and app.

mod support;

use std::time::{Duration, Instant};

use coldcall::store::{ConnectOptions, LeadFilter, Store};
use coldcall::tui::app::App;
use coldcall::tui::keymap::Keymap;
use coldcall::tui::request::Request;
use coldcall::tui::view::{self, Theme};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn main() {
    let leads: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(leads));
}

async fn run(count: u64) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Store::connect(&url, &ConnectOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    let started = Instant::now();
    load(&url, count).await;
    println!("loaded {count} leads in {:.1} s", started.elapsed().as_secs_f64());
    store.close().await;

    // A fresh console process: open the store, build the app, draw the first frame.
    let started = Instant::now();
    let store = Store::connect(&url, &ConnectOptions::default()).await.unwrap();
    let agent = store
        .add_agent(&coldcall::store::NewAgent {
            name: "bench".into(),
            email: None,
            role: coldcall::domain::Role::Agent,
        })
        .await
        .unwrap();
    let mut app = App::new(
        agent,
        store.describe().to_string(),
        "US".into(),
        Keymap::default(),
        store.now(),
    );
    let requests = app.start();
    settle(&mut app, &store, requests).await;
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    terminal
        .draw(|f| view::render(&app, &Theme { color: true }, f))
        .unwrap();
    println!(
        "first frame (open, queue of {} leads, draw): {:.1} ms",
        app.lists().leads().len(),
        ms(started.elapsed())
    );

    // the all-leads tab, one page at a time by keyset
    press(&mut app, &store, KeyCode::Char(']')).await;
    let mut page_times = Vec::new();
    let mut after = None;
    for _ in 0..200 {
        let t = Instant::now();
        let page = store.list_leads(&LeadFilter::default(), after, 200).await.unwrap();
        page_times.push(t.elapsed());
        after = page.next;
    }
    report("lead list page (200 rows, keyset)", &mut page_times);

    let mut frame_times = Vec::new();
    for i in 0..2_000 {
        if i % 10 == 0 {
            press(&mut app, &store, KeyCode::Char('j')).await;
        }
        let t = Instant::now();
        terminal
            .draw(|f| view::render(&app, &Theme { color: true }, f))
            .unwrap();
        frame_times.push(t.elapsed());
    }
    report("frame render 160x48", &mut frame_times);

    for (label, text) in [
        ("search word prefix 'smi'", "smi"),
        ("search full word 'garcia'", "garcia"),
        ("search phone fragment '5550'", "5550"),
        ("search company words 'lumen labs'", "lumen labs"),
    ] {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..20 {
            let t = Instant::now();
            found = store
                .search_leads(text, &LeadFilter::default(), 200)
                .await
                .unwrap()
                .len();
            times.push(t.elapsed());
        }
        report(&format!("{label} ({found} shown)"), &mut times);
    }

    let mut claims = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        store.queue_preview(app.agent().id, 200).await.unwrap();
        claims.push(t.elapsed());
    }
    report("my queue preview (200 rows)", &mut claims);
    println!("resident memory: {} MB", support::memory_mb("VmRSS:"));
}

async fn settle(app: &mut App, store: &Store, mut requests: Vec<Request>) {
    while let Some(request) = requests.pop() {
        let reply = request.run(store).await;
        requests.extend(app.on_reply(reply));
    }
}

async fn press(app: &mut App, store: &Store, code: KeyCode) {
    let requests = app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
    settle(app, store, requests).await;
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(label: &str, times: &mut [Duration]) {
    times.sort();
    let p = |q: f64| ms(times[((times.len() as f64 * q) as usize).min(times.len() - 1)]);
    println!(
        "{label}: p50 {:.3} ms, p95 {:.3} ms, p99 {:.3} ms, n={}",
        p(0.5),
        p(0.95),
        p(0.99),
        times.len()
    );
}

/// Demo leads in batches of 500 rows per INSERT, one transaction.
async fn load(url: &str, count: u64) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    let now = chrono::Utc::now();
    for start in (0..count).step_by(10_000) {
        let fields: Vec<_> = (start..(start + 10_000).min(count))
            .filter_map(|i| coldcall::demo::demo_lead(i).ok())
            .collect();
        let rows: Vec<_> = fields.iter().map(|f| (uuid::Uuid::now_v7(), f)).collect();
        support::insert_leads(&mut tx, &rows, 500, now).await;
    }
    tx.commit().await.unwrap();
}
