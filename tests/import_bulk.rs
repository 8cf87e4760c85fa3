//! `import --bulk` on a real SQLite file and a real PostgreSQL database: a messy file imported
//! in bulk into one database and the ordinary way into another gives the same report, the same
//! rejects file and the same stored rows (leads, status log, contact points, the claim queue,
//! the change feed, search); a bulk import waits for a quiet floor; through a floor server it
//! is refused; and the real binary prints the same summary.

mod common;

use std::path::{Path, PathBuf};

use chrono::Duration;
use coldcall::domain::{DuplicateMode, PresenceState};
use coldcall::import::{ImportOptions, ImportReport, ImportStopped, LeadImport};
use coldcall::store::{BackendKind, Lead, LeadFilter, Store};
use common::*;

on_both_backends!(
    pass = db;
    a_bulk_import_stores_what_the_ordinary_import_stores,
    a_bulk_import_waits_for_a_quiet_floor,
);

/// Every case the import decides: statuses mapped and not, zones from the number, an invalid
/// phone and email, a short row, a repeat in the file (in a later batch), a stored lead updated
/// (status changed), a deleted one matched, a do-not-call row, further numbers as contact points.
const FILE: &str = "First Name,Last Name,Email,Phone,Mobile Phone,Company,Lead Status,Time Zone,Do Not Call,Notes\n\
Ada,Lovelace,ADA@Example.com,(415) 555-0123,(415) 555-0177,Engines Ltd,Customer,,,\"likes \"\"maths\"\"\nand poetry\"\n\
Bob,Stone,bob@,415 555 0199,,Acme,New,,,\n\
Cy,Dee,cy@example.com,415 555 0100,,Cy Co,Sizzling,,,\n\
Ana,García,ana@example.es,+34 912 345 678,,Madrid SL,Open - Not Contacted,,,\n\
Stored,Lead,stored@example.com,(212) 555-0101,(212) 555-0109,New Name Inc,Qualified,,,\n\
Ada,Lovelace,ada@example.com,+1 415-555-0123,,Engines Ltd,,,,\n\
Gone,Lead,gone@example.com,(212) 555-0102,,Gone Co,,,,\n\
Dee,Eve,,415 555 0111,,Dee Co,Contacted,America/Los_Angeles,yes,\n\
Fay,Gee,fay@example.com,12,,Tiny,,,,\n\
Short,Row\n\
Kim,Lee,kim@example.com,+44 20 7946 0958,,UK Ltd,Working - Contacted,,,\n\
Lu,Ma,lu@example.com,(646) 555-0142,,Ma & Co,,,,\n";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A second fresh database on the same backend as `db`.
async fn another(db: &TestDb) -> TestDb {
    match db.store.kind() {
        BackendKind::Sqlite => sqlite().await,
        _ => postgres().await,
    }
}

/// The leads the file meets in every database: one to update, one deleted (its id, which
/// the reject of the row matching it names).
async fn stored_leads(store: &Store) -> String {
    lead_with(store, 101, |i| {
        i.first_name = "Stored".into();
        i.last_name = "Lead".into();
        i.phone = "+12125550101".into();
        i.email = "stored@example.com".into();
        i.company = "Old Name".into();
    })
    .await;
    let gone = lead_with(store, 102, |i| {
        i.phone = "+12125550102".into();
        i.email = "gone@example.com".into();
    })
    .await;
    store.delete_lead(gone.id, None).await.unwrap();
    gone.id.to_string()
}

async fn run(store: &Store, path: &Path, rejects: &Path, bulk: bool) -> Result<ImportReport, ImportStopped> {
    let mut options = ImportOptions::new("US");
    options.mode = DuplicateMode::Update;
    options.batch_size = 3;
    options.rejects = Some(rejects.to_path_buf());
    options.bulk = bulk;
    let report = LeadImport::open(path, options).unwrap().run(store, |_, _| {}).await?;
    assert!(report.is_balanced(), "{report:?}");
    Ok(report)
}

async fn all_leads(store: &Store) -> Vec<Lead> {
    let filter = LeadFilter::default();
    let mut leads = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_leads(&filter, after, 1000).await.unwrap();
        leads.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    leads.sort_by(|a, b| a.phone.cmp(&b.phone));
    leads
}

/// Rows of one query, each as text cells, from outside the store (tests only).
async fn rows(db: &TestDb, sql: &str) -> Vec<Vec<Option<String>>> {
    use sqlx::Row;
    let read = |row: &dyn Fn(usize) -> Option<String>, n: usize| (0..n).map(row).collect::<Vec<_>>();
    match db.store.kind() {
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            let got = sqlx::query(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            got.iter()
                .map(|r| read(&|i| r.try_get::<Option<String>, _>(i).unwrap(), r.len()))
                .collect()
        }
        _ => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            let got = sqlx::query(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            got.iter()
                .map(|r| read(&|i| r.try_get::<Option<String>, _>(i).unwrap(), r.len()))
                .collect()
        }
    }
}

/// Everything an import leaves in a database, keyed by phone (ids differ between databases).
async fn stored(db: &TestDb) -> serde_json::Value {
    let store = &db.store;
    let mut leads = Vec::new();
    for lead in all_leads(store).await {
        let history: Vec<_> = store
            .status_history(lead.id)
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.old_status, s.new_status, s.changed_by, s.reason, s.changed_at))
            .collect();
        let mut contacts: Vec<_> = store
            .contacts(lead.id)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.kind, c.value, c.label, c.is_primary, c.created_at))
            .collect();
        contacts.sort_by(|a, b| a.1.cmp(&b.1));
        let mut lead = serde_json::to_value(&lead).unwrap();
        lead.as_object_mut().unwrap().remove("id");
        leads.push(serde_json::json!({ "lead": lead, "history": history, "contacts": contacts }));
    }
    let queue = rows(
        db,
        "SELECT l.phone, CAST(q.state AS TEXT), CAST(q.priority_rank AS TEXT), q.timezone \
         FROM lead_queue q JOIN leads l ON l.id = q.lead_id ORDER BY l.phone",
    )
    .await;
    let feed = rows(
        db,
        "SELECT c.kind, c.op, l.phone FROM changes c JOIN leads l ON l.id = c.lead_id ORDER BY c.id",
    )
    .await;
    // The triggers a bulk batch pauses are all back, as they were.
    let triggers = match db.store.kind() {
        BackendKind::Sqlite => {
            rows(
                db,
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name",
            )
            .await
        }
        _ => {
            rows(
                db,
                "SELECT tgname::text, tgenabled::text FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname",
            )
            .await
        }
    };
    let mut search = Vec::new();
    for text in ["lovelace", "madrid", "5550177", "stored@", "poetry", "garcía"] {
        let mut found: Vec<String> = store
            .search_leads(text, &LeadFilter::default(), 50)
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.phone)
            .collect();
        found.sort();
        search.push((text, found));
    }
    serde_json::json!({ "leads": leads, "queue": queue, "feed": feed, "search": search, "triggers": triggers })
}

/// The report without what differs by run (time, the mode, where the rejects went, the
/// deleted lead's id in its reject).
fn counts(report: &ImportReport, gone: &str) -> String {
    let mut value = serde_json::to_value(report).unwrap();
    let map = value.as_object_mut().unwrap();
    for volatile in ["seconds", "rows_per_second", "bulk", "rejects_file"] {
        map.remove(volatile);
    }
    value.to_string().replace(gone, "GONE")
}

async fn a_bulk_import_stores_what_the_ordinary_import_stores(db: &TestDb) {
    let ordinary_db = another(db).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "crm.csv", FILE);
    let (ordinary_rejects, bulk_rejects) = (dir.path().join("ordinary.csv"), dir.path().join("bulk.csv"));

    let ordinary_gone = stored_leads(&ordinary_db.store).await;
    let gone = stored_leads(&db.store).await;
    // The import comes a minute later (a change stamped with the stored time itself would be
    // stamped by the database's clock instead).
    for clock in [ordinary_db.clock(), db.clock()] {
        clock.advance(Duration::minutes(1));
    }
    let ordinary = run(&ordinary_db.store, &path, &ordinary_rejects, false).await.unwrap();
    let bulk = run(&db.store, &path, &bulk_rejects, true).await.unwrap();

    assert!(bulk.bulk && !ordinary.bulk);
    assert_eq!(bulk.ordinary_from_line, None, "nobody came on the floor");
    assert_eq!(counts(&bulk, &gone), counts(&ordinary, &ordinary_gone));
    // What the file holds, decided as it always is.
    assert_eq!(
        (
            bulk.rows_read,
            bulk.imported,
            bulk.updated,
            bulk.duplicates,
            bulk.rejected
        ),
        (12, 5, 1, 1, 5),
        "{bulk:?}"
    );
    assert_eq!(bulk.statuses_unmapped.get("Sizzling"), Some(&1));
    assert_eq!(bulk.contact_points, 2);
    let rejects = std::fs::read_to_string(&bulk_rejects).unwrap().replace(&gone, "GONE");
    assert_eq!(
        rejects,
        std::fs::read_to_string(&ordinary_rejects)
            .unwrap()
            .replace(&ordinary_gone, "GONE")
    );
    for reason in [
        "\n4,email: 'bob@' is not a valid email address",
        "\n5,\"status: 'Sizzling' has no mapping to a coldcall status",
        "\n8,duplicate: same lead as line 2 (+14155550123)",
        "\n9,lead GONE with this phone or email is deleted",
        "\n11,phone: '12' is not a valid phone number for region US",
        "\n12,\"row has 2 fields, header has 10\"",
    ] {
        assert!(rejects.contains(reason), "missing {reason:?} in\n{rejects}");
    }

    let (got, want) = (stored(db).await, stored(&ordinary_db).await);
    assert_eq!(got, want);
    // And what that is: the zone from the number, the status log of the new and updated
    // leads, the closed and do-not-call leads out of the queue, the feed, the search index.
    let leads = all_leads(&db.store).await;
    let ana = leads.iter().find(|l| l.phone == "+34912345678").unwrap();
    assert_eq!(ana.timezone.as_deref(), Some("Europe/Madrid"));
    let updated = leads.iter().find(|l| l.phone == "+12125550101").unwrap();
    assert_eq!(updated.company, "New Name Inc");
    let history = db.store.status_history(updated.id).await.unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0].reason.as_deref(), Some("imported from crm.csv"));
    let queue = got["queue"].as_array().unwrap();
    let queued = |phone: &str| queue.iter().any(|r| r[0] == phone);
    assert!(queued("+34912345678") && queued("+442079460958"));
    assert!(!queued("+14155550123"), "closed won (Customer) is not called again");
    assert!(!queued("+14155550111"), "do not call");
    let feed = got["feed"].as_array().unwrap();
    for lead in leads.iter().filter(|l| l.deleted_at.is_none()) {
        assert!(
            feed.iter().any(|c| c[2] == lead.phone.as_str()),
            "the feed has {}",
            lead.phone
        );
    }
    assert_eq!(
        got["search"][0][1],
        serde_json::json!(["+14155550123"]),
        "{}",
        got["search"]
    );
    assert_eq!(
        got["search"][1][1],
        serde_json::json!(["+34912345678"]),
        "{}",
        got["search"]
    );
}

async fn a_bulk_import_waits_for_a_quiet_floor(db: &TestDb) {
    let store = &db.store;
    let alice = agent(store, "alice").await;
    let bob = agent(store, "bob").await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "crm.csv", FILE);
    let rejects = dir.path().join("rejects.csv");

    // An open console: refused before anything is read or written.
    store.set_presence(alice.id, PresenceState::Ready, None).await.unwrap();
    let refused = run(store, &path, &rejects, true).await.unwrap_err();
    let message = refused.to_string();
    assert!(
        message.starts_with("nothing was imported: import --bulk needs a quiet floor, and 1 console is open (alice)"),
        "{message}"
    );
    assert!(
        message.contains("run the ordinary import (without --bulk)"),
        "{message}"
    );
    assert!(all_leads(store).await.is_empty());
    assert!(!rejects.exists());

    // A call in progress, the console signed off: still refused.
    let lead = lead_with(store, 7, |i| i.phone = "+12125550107".into()).await;
    start_call(store, lead.id, bob.id).await;
    store
        .set_presence(alice.id, PresenceState::Offline, None)
        .await
        .unwrap();
    let refused = run(store, &path, &rejects, true).await.unwrap_err();
    assert!(
        refused.to_string().contains("and 1 call is in progress (bob)"),
        "{refused}"
    );
    // The ordinary import goes on beside a working floor.
    let ordinary = run(store, &path, &rejects, false).await.unwrap();
    assert_eq!(ordinary.imported, 7, "{ordinary:?}");

    // Once the lock is older than the lock TTL the call is abandoned: the floor is quiet.
    db.clock().advance(Duration::minutes(5));
    assert_eq!(store.live_floor().await.unwrap(), None);
    let bulk = run(store, &path, &rejects, true).await.unwrap();
    assert_eq!((bulk.imported, bulk.unchanged), (0, 7), "{bulk:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_floor_server_a_bulk_import_is_refused() {
    let db = floor_server().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "crm.csv", FILE);
    let refused = run(&db.store, &path, &dir.path().join("r.csv"), true)
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("import --bulk runs against the database directly"),
        "{refused}"
    );
    let ordinary = run(&db.store, &path, &dir.path().join("r.csv"), false).await.unwrap();
    assert_eq!(ordinary.imported, 7);
}

mod cli {
    use super::common::binary::{code, stderr, stdout, Coldcall};
    use super::*;

    fn session(admin: &Coldcall, dir: &Path) {
        let file = write(dir, "crm.csv", FILE);
        let file = file.to_str().unwrap();
        let out = admin.run(&["import", file, "--bulk", "--on-duplicate", "update"]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let text = stdout(&out);
        for expected in [
            "crm.csv: 12 rows read (delimiter ',' · duplicates: update)",
            "  imported            7",
            "  rejected            4  (email 1, field count 1, phone 1, status 1)",
            "statuses with no mapping (rows rejected): 'Sizzling' (1)",
            "rows not taken, with line and reason:",
            "rows/s (bulk)",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        // Again, as JSON: everything is in already.
        let again = admin.json(&["import", file, "--bulk"]);
        assert_eq!(again["report"]["bulk"], true);
        assert_eq!(again["report"]["imported"], 0);
        assert_eq!(again["report"]["rows_read"], 12);
    }

    /// A console opened on the floor (its presence written as the console writes it).
    async fn open_console(url: &str) {
        let store = Store::connect(url, &coldcall::store::ConnectOptions::default())
            .await
            .unwrap();
        let alice = agent(&store, "alice").await;
        store
            .set_presence(alice.id, PresenceState::Paused, Some("coffee"))
            .await
            .unwrap();
        store.close().await;
    }

    fn refused(admin: &Coldcall, dir: &Path) {
        let file = write(dir, "later.csv", FILE);
        let out = admin.run(&["import", file.to_str().unwrap(), "--bulk"]);
        assert_eq!(code(&out), 1);
        assert!(
            stderr(&out).contains("import --bulk needs a quiet floor, and 1 console is open (alice)"),
            "{}",
            stderr(&out)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn import_bulk_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("floor.db").display().to_string();
        let admin = Coldcall::new(&url);
        let path = dir.path().to_path_buf();
        let admin = tokio::task::spawn_blocking(move || {
            session(&admin, &path);
            admin
        })
        .await
        .unwrap();
        open_console(&format!("sqlite://{url}")).await;
        refused(&admin, dir.path());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn import_bulk_on_postgres() {
        let db = postgres().await;
        let admin = Coldcall::new(&db.url);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let admin = tokio::task::spawn_blocking(move || {
            session(&admin, &path);
            admin
        })
        .await
        .unwrap();
        open_console(&db.url).await;
        refused(&admin, dir.path());
    }
}
