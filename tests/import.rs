//! Lead and do-not-call imports of messy files, run unchanged on a real SQLite file and a real
//! PostgreSQL database: exact counts, exact reject reasons and lines, what the database holds
//! afterwards, and what a second import of the same file changes (nothing).

mod common;

use std::path::{Path, PathBuf};

use chrono::Duration;
use coldcall::domain::ContactKind;
use coldcall::domain::{DuplicateMode, LeadStatus, ZoneOrigin};
use coldcall::import::{DncImport, DncImportOptions, ImportError, ImportOptions, ImportReport, LeadImport};
use coldcall::store::{
    BackendKind, CallFilter, Clock, EndCall, FeedCursor, Lead, LeadFilter, NewContact, StartCall, Store,
};
use common::*;

on_both_backends!(
    pass = db;
    a_messy_file_is_counted_and_every_reject_has_its_line_and_reason,
    batch_size_does_not_change_the_outcome,
    missing_required_columns_stop_before_anything_is_written,
    importing_the_same_file_again_changes_nothing,
    duplicates_in_the_database_follow_the_mode,
    an_import_never_clears_do_not_call,
    imported_leads_reach_the_change_feed_status_log_and_audit_log,
    a_row_matching_two_leads_or_a_deleted_one_is_not_guessed,
    a_failure_mid_file_keeps_committed_batches_and_a_rerun_finishes,
    a_dry_run_decides_everything_and_writes_nothing,
    a_do_not_call_list_is_imported_and_marks_leads,
    a_bare_list_of_numbers_needs_no_header,
    calls_export_in_order_by_page_and_filter,
    a_salesforce_lead_export_imports_as_it_is,
    google_contacts_import_in_both_layouts,
    outlook_and_thunderbird_exports_import,
    an_apple_contacts_export_imports,
    vcards_from_phones_and_mail_clients_import,
    set_gives_every_row_a_value_a_file_lacks,
    imported_leads_are_called_in_the_hours_their_number_allows,
    further_numbers_and_emails_become_contact_points_and_are_never_doubled,
);

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn import_with(store: &Store, path: &Path, edit: impl FnOnce(&mut ImportOptions)) -> ImportReport {
    let mut options = ImportOptions::new("US");
    edit(&mut options);
    let report = LeadImport::open(path, options)
        .unwrap()
        .run(store, |_, _| {})
        .await
        .unwrap();
    assert!(report.is_balanced(), "{report:?}");
    report
}

async fn import(store: &Store, path: &Path) -> ImportReport {
    import_with(store, path, |_| {}).await
}

async fn all_leads(store: &Store) -> Vec<Lead> {
    let mut leads = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_leads(&LeadFilter::default(), after, 1000).await.unwrap();
        leads.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    leads.sort_by(|a, b| a.phone.cmp(&b.phone));
    leads
}

fn by_phone<'a>(leads: &'a [Lead], phone: &str) -> &'a Lead {
    leads
        .iter()
        .find(|l| l.phone == phone)
        .unwrap_or_else(|| panic!("no lead {phone}"))
}

/// Polls the feed until `done` holds. On PostgreSQL a change becomes readable once every older
/// transaction in the cluster has finished (other tests' included), so it may take a moment.
async fn feed_until(
    store: &Store,
    from: FeedCursor,
    done: impl Fn(&[coldcall::store::Change]) -> bool,
) -> Vec<coldcall::store::Change> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let changes = store.changes_since(from, 10_000).await.unwrap();
        if done(&changes) {
            return changes;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the feed did not show the change in 10 s: {changes:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The feed's position once everything committed so far is readable: a marker lead is added
/// and awaited. On PostgreSQL a head taken earlier can still sit before changes that were
/// already committed (it is conservative), so "nothing changed since" is asked from here.
async fn settled(store: &Store, from: FeedCursor) -> FeedCursor {
    static MARKERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = 9_900 + MARKERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let marker = lead_with(store, n, |i| i.phone = format!("+1212555{n}")).await;
    let changes = feed_until(store, from, |c| c.iter().any(|c| c.lead_id == marker.id)).await;
    changes.iter().map(|c| c.cursor()).max().unwrap_or(from)
}

/// Every change after `from` (a settled position) once the feed has settled again, the
/// second marker left out: empty means nothing happened, not nothing visible yet.
async fn settled_changes(store: &Store, from: FeedCursor) -> Vec<coldcall::store::Change> {
    let to = settled(store, from).await;
    let changes = store.changes_since(from, 10_000).await.unwrap();
    changes.into_iter().filter(|c| c.cursor() < to).collect()
}

/// Runs SQL outside the store (tests only: triggers that fail on purpose, audit reads).
async fn raw_execute(db: &TestDb, sql: &str) {
    match db.store.kind() {
        BackendKind::Postgres | BackendKind::Server => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
}

/// (entity, entity_id, new_value as text) of the audit log's import entries.
async fn import_audits(db: &TestDb) -> Vec<(String, String, String)> {
    let sql = "SELECT entity, entity_id, CAST(new_value AS TEXT) FROM audit_log WHERE action = 'import' ORDER BY id";
    match db.store.kind() {
        BackendKind::Postgres | BackendKind::Server => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        }
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        }
    }
}

/// Semicolons, a byte-order mark, CRLF line ends, a quoted cell with a line break and quotes,
/// blank lines, a duplicate that differs only in phone formatting, an invalid email, a 1 MB
/// cell, formula cells (guarded and not), an invalid phone, a short row, and an email repeated
/// with another phone.
fn messy_file() -> Vec<u8> {
    let mut text =
        String::from("\u{feff}First Name;Last Name;E-mail Address;Mobile Phone;Company Name;Notes;Lead Source\r\n");
    text.push_str(
        "Ada;Lovelace;ADA@Example.com;(415) 555-0123;Engines Ltd;\"likes \"\"maths\"\"\r\nand poetry\";fair\r\n",
    ); // 2-3
    text.push_str("\r\n"); // 4
    text.push_str("Ada;Lovelace;ada@example.com;+1 415-555-0123;Engines Ltd;;fair\r\n"); // 5
    text.push_str("Bob;Stone;bob@;415 555 0199;Acme;;\r\n"); // 6
    text.push_str("Cy;Dee;cy@example.com;415 555 0100;\"=HYPERLINK(\"\"http://x\"\")\";;\r\n"); // 7
    text.push_str(&format!(
        "Dee;Eve;dee@example.com;415 555 0111;Big Notes Inc;{};\r\n",
        "x".repeat(1 << 20)
    )); // 8
    text.push_str(";;;;;;\r\n"); // 9
    text.push_str("Fay;Gee;fay@example.com;12;Tiny;;\r\n"); // 10
    text.push_str("Short;Row\r\n"); // 11
    text.push_str("'@hal;Ives;hal@example.com;415 555 0122;'-Minus Co;;web\r\n"); // 12
    text.push_str("Ivy;Jay;IVY@EXAMPLE.COM;00 44 20 7946 0958;Jay & Co;;\r\n"); // 13
    text.push_str("Kim;Lee;ivy@example.com;415 555 0133;Other;;\r\n"); // 14
    text.into_bytes()
}

const MESSY_REJECTS: &[(u64, &str)] = &[
    (5, "duplicate: same lead as line 2 (+14155550123)"),
    (
        6,
        "email: 'bob@' is not a valid email address (column 'E-mail Address')",
    ),
    (8, "notes: must be at most 65536 characters (column 'Notes')"),
    (
        10,
        "phone: '12' is not a valid phone number for region US (column 'Mobile Phone')",
    ),
    (11, "row has 2 fields, header has 7"),
    (14, "duplicate: same lead as line 13 (ivy@example.com)"),
];

async fn check_messy_import(db: &TestDb, batch_size: usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "crm export.csv", &messy_file());
    let report = import_with(&db.store, &path, |o| o.batch_size = batch_size).await;
    assert_eq!(report.delimiter, ";");
    assert_eq!(
        (
            report.rows_read,
            report.imported,
            report.updated,
            report.duplicates,
            report.rejected
        ),
        (10, 4, 0, 2, 4),
        "{report:?}"
    );
    assert_eq!(report.duplicates_in_file, 2);
    assert_eq!(report.blank_lines, 2);
    let kinds: Vec<(&str, u64)> = report.rejected_by_kind.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    assert_eq!(kinds, [("email", 1), ("field count", 1), ("notes", 1), ("phone", 1)]);
    let noted: Vec<(u64, &str)> = report.rejects.iter().map(|n| (n.line, n.reason.as_str())).collect();
    assert_eq!(noted, MESSY_REJECTS);

    // The rejects file: beside the input, same delimiter, line and reason first, cells as given.
    let rejects_path = dir.path().join("crm export.rejects.csv");
    assert_eq!(report.rejects_file.as_ref().unwrap().path, rejects_path);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_path(&rejects_path)
        .unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "import_line",
            "import_error",
            "First Name",
            "Last Name",
            "E-mail Address",
            "Mobile Phone",
            "Company Name",
            "Notes",
            "Lead Source"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let lines: Vec<(u64, &str)> = rows.iter().map(|r| (r[0].parse().unwrap(), &r[1])).collect();
    assert_eq!(lines, MESSY_REJECTS);
    assert_eq!(
        &rows[0][5], "'+1 415-555-0123",
        "a cell starting with + is written formula-safe"
    );
    assert_eq!(rows[2][7].len(), 1 << 20, "the 1 MB cell is kept whole");
    assert_eq!(rows[4].len(), 4, "the short row keeps its own cells");

    let leads = all_leads(&db.store).await;
    assert_eq!(leads.len(), 4);
    let ada = by_phone(&leads, "+14155550123");
    assert_eq!(ada.email.as_deref(), Some("ada@example.com"));
    assert_eq!(ada.notes.as_deref(), Some("likes \"maths\"\nand poetry"));
    assert_eq!(ada.source.as_deref(), Some("fair"));
    assert_eq!(by_phone(&leads, "+14155550100").company, "=HYPERLINK(\"http://x\")");
    let hal = by_phone(&leads, "+14155550122");
    assert_eq!((hal.first_name.as_str(), hal.company.as_str()), ("@hal", "-Minus Co"));
    let ivy = by_phone(&leads, "+442079460958");
    assert_eq!(ivy.email.as_deref(), Some("ivy@example.com"));
}

async fn a_messy_file_is_counted_and_every_reject_has_its_line_and_reason(db: &TestDb) {
    check_messy_import(db, 2000).await;
}

/// The same file in batches of three rows: in-file duplicates are then found across batches
/// (by the importer) instead of within one (by the store); the answer must not differ.
async fn batch_size_does_not_change_the_outcome(db: &TestDb) {
    check_messy_import(db, 3).await;
}

async fn missing_required_columns_stop_before_anything_is_written(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "contacts.csv",
        b"First Name,Last Name,Email\nAda,Lovelace,ada@example.com\n",
    );
    let err = LeadImport::open(&path, ImportOptions::new("US"))
        .err()
        .expect("refused");
    assert!(matches!(err, ImportError::Mapping { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "{}: missing required columns: phone (a header such as 'Phone' or 'Mobile Phone' or 'Telephone'), \
             company (a header such as 'Company' or 'Company Name' or 'Organization'); name the column that \
             holds it with --map 'YOUR COLUMN=phone', or give every row one value with --set 'phone=VALUE'",
            path.display()
        )
    );
    // Naming the columns makes the same file importable.
    let path = write(
        dir.path(),
        "contacts2.csv",
        b"First Name,Last Name,Handy,Firma\nAda,Lovelace,415 555 0123,Engines\n",
    );
    let report = import_with(&db.store, &path, |o| {
        o.overrides = vec![("Handy".into(), "phone".into()), ("Firma".into(), "company".into())]
    })
    .await;
    assert_eq!(report.imported, 1);
    assert!(all_leads(&db.store).await.iter().all(|l| l.phone == "+14155550123"));
}

async fn importing_the_same_file_again_changes_nothing(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "leads.csv", &messy_file());
    import(&db.store, &path).await;
    let head = settled(&db.store, db.store.feed_head().await.unwrap()).await;
    let before = all_leads(&db.store).await;
    // An hour later, so any write would show in updated_at.
    let later = db
        .store
        .clone()
        .with_clock(Clock::fixed(office_hours() + Duration::hours(1)));
    for mode in [DuplicateMode::Skip, DuplicateMode::Update, DuplicateMode::Merge] {
        let report = import_with(&later, &path, |o| o.mode = mode).await;
        assert_eq!(
            (report.imported, report.updated, report.rejected),
            (0, 0, 4),
            "{mode:?}"
        );
        assert_eq!(report.duplicates, 6, "{mode:?}: 4 stored leads and 2 repeated rows");
        if mode == DuplicateMode::Skip {
            assert_eq!(report.duplicates_in_database, 4);
        } else {
            assert_eq!(report.unchanged, 4, "{mode:?}");
        }
    }
    assert_eq!(all_leads(&db.store).await, before);
    assert_eq!(settled_changes(&db.store, head).await, [], "no change-feed entries");
}

async fn duplicates_in_the_database_follow_the_mode(db: &TestDb) {
    let stored = lead_with(&db.store, 1, |i| {
        i.phone = "+14155550123".into();
        i.email = "ada@example.com".into();
        i.title = "CTO".into();
        i.company = "Engines".into();
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    // Matched by phone written differently; title left empty, company and status changed.
    let path = write(
        dir.path(),
        "update.csv",
        b"first_name,last_name,phone,company,title,status,lead_score,source\n\
          Lead1,Tester,(415) 555-0123,Analytical Engines,,qualified,70,fair\n",
    );
    let skip = import(&db.store, &path).await;
    assert_eq!((skip.duplicates_in_database, skip.updated), (1, 0));
    assert_eq!(db.store.lead(stored.id).await.unwrap().unwrap(), stored);

    let merge = import_with(&db.store, &path, |o| o.mode = DuplicateMode::Merge).await;
    assert_eq!(merge.updated, 1);
    let merged = db.store.lead(stored.id).await.unwrap().unwrap();
    assert_eq!(merged.company, "Engines", "merge keeps a value that is there");
    assert_eq!(merged.status, LeadStatus::New, "merge leaves the status alone");
    assert_eq!(
        (merged.lead_score, merged.source.as_deref()),
        (70, Some("fair")),
        "merge fills what is empty"
    );

    let update = import_with(&db.store, &path, |o| o.mode = DuplicateMode::Update).await;
    assert_eq!(update.updated, 1);
    let updated = db.store.lead(stored.id).await.unwrap().unwrap();
    assert_eq!(updated.company, "Analytical Engines");
    assert_eq!(updated.status, LeadStatus::Qualified);
    assert_eq!(
        updated.title.as_deref(),
        Some("CTO"),
        "an empty cell never blanks a stored value"
    );
    assert_eq!(updated.email.as_deref(), Some("ada@example.com"));
    let history = db.store.status_history(stored.id).await.unwrap();
    assert_eq!(history[0].new_status, LeadStatus::Qualified);
    assert_eq!(history[0].reason.as_deref(), Some("imported from update.csv"));
    assert_eq!(all_leads(&db.store).await.len(), 1);
}

async fn an_import_never_clears_do_not_call(db: &TestDb) {
    let listed = lead_with(&db.store, 1, |i| i.do_not_call = "yes".into()).await;
    db.store.dnc_add(&listed.phone, Some("asked"), None).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "dnc.csv",
        format!(
            "First Name,Last Name,Phone,Company,Do Not Call,Do Not Email\nNew,Name,{},Co,no,no\nSam,Ray,212 555 0077,Co,yes,\n",
            listed.phone
        )
        .as_bytes(),
    );
    for mode in [DuplicateMode::Skip, DuplicateMode::Update, DuplicateMode::Merge] {
        import_with(&db.store, &path, |o| o.mode = mode).await;
        let lead = db.store.lead(listed.id).await.unwrap().unwrap();
        assert!(lead.do_not_call, "{mode:?}");
        assert!(db.store.dnc_check(&listed.phone).await.unwrap().is_some(), "{mode:?}");
    }
    let sam = all_leads(&db.store)
        .await
        .into_iter()
        .find(|l| l.first_name == "Sam")
        .unwrap();
    assert!(sam.do_not_call, "a row's own do-not-call flag is taken");

    // A do-not-call request in a later file sticks even when duplicates are skipped.
    let other = lead(&db.store, 2).await;
    let path = write(
        dir.path(),
        "later.csv",
        format!(
            "phone,first_name,last_name,company,dnc\n{},Lead2,Tester,Company 2,yes\n",
            other.phone
        )
        .as_bytes(),
    );
    let report = import(&db.store, &path).await;
    assert_eq!(report.updated, 1);
    assert!(db.store.lead(other.id).await.unwrap().unwrap().do_not_call);
}

async fn imported_leads_reach_the_change_feed_status_log_and_audit_log(db: &TestDb) {
    let ann = agent(&db.store, "ann").await;
    let head = db.store.feed_head().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "leads.csv", &messy_file());
    import_with(&db.store, &path, |o| o.actor = Some(ann.id)).await;
    let leads = all_leads(&db.store).await;
    let ids: Vec<_> = leads.iter().map(|l| l.id).collect();
    let changes = feed_until(&db.store, head, |c| {
        ids.iter().all(|id| c.iter().any(|c| c.lead_id == *id))
    })
    .await;
    for lead in &leads {
        assert!(
            changes
                .iter()
                .any(|c| c.lead_id == lead.id && c.kind == "lead" && c.op == "insert"),
            "the feed records {}",
            lead.phone
        );
        assert_eq!(lead.updated_by, Some(ann.id));
        let history = db.store.status_history(lead.id).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].reason.as_deref(), Some("imported from leads.csv"));
        assert_eq!(history[0].changed_by, Some(ann.id));
    }
    // Search finds imported leads (the search index triggers ran).
    let found = db
        .store
        .search_leads("lovelace", &LeadFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);

    let audits = import_audits(db).await;
    assert_eq!(audits.len(), 1);
    assert_eq!((audits[0].0.as_str(), audits[0].1.as_str()), ("leads", "leads.csv"));
    let counts: serde_json::Value = serde_json::from_str(&audits[0].2).unwrap();
    assert_eq!(counts["rows_read"], 10);
    assert_eq!(counts["imported"], 4);
    assert_eq!(counts["rejected"], 4);
}

async fn a_row_matching_two_leads_or_a_deleted_one_is_not_guessed(db: &TestDb) {
    let a = lead(&db.store, 1).await;
    let b = lead(&db.store, 2).await;
    let gone = lead(&db.store, 3).await;
    db.store.delete_lead(gone.id, None).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "mixed.csv",
        format!(
            "first_name,last_name,phone,email,company\nX,Y,{},{},Co\nZ,W,{},,Co\n",
            a.phone,
            b.email.clone().unwrap(),
            gone.phone
        )
        .as_bytes(),
    );
    let skip = import(&db.store, &path).await;
    assert_eq!((skip.duplicates_in_database, skip.rejected), (2, 0));
    let update = import_with(&db.store, &path, |o| o.mode = DuplicateMode::Update).await;
    assert_eq!(update.rejected, 2);
    assert_eq!(
        update.rejects[0].reason,
        format!(
            "phone {} belongs to lead {} (Lead1 Tester) and email {} to lead {} (Lead2 Tester); \
             fix the row or those leads, then import it again",
            a.phone,
            a.id,
            b.email.unwrap(),
            b.id
        )
    );
    assert_eq!(
        update.rejects[1].reason,
        format!(
            "lead {} with this phone or email is deleted; restore it (coldcall lead restore {}) to import into it",
            gone.id, gone.id
        )
    );
    assert_eq!(db.store.lead(a.id).await.unwrap().unwrap(), a);
}

async fn a_failure_mid_file_keeps_committed_batches_and_a_rerun_finishes(db: &TestDb) {
    // A database that fails on one row, as a real failure would fail a whole batch.
    let poison = "+12125550025";
    match db.store.kind() {
        BackendKind::Postgres | BackendKind::Server => {
            raw_execute(
                db,
                &format!(
                    "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                     IF NEW.phone = '{poison}' THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$; \
                     CREATE TRIGGER poison BEFORE INSERT ON leads FOR EACH ROW EXECUTE FUNCTION poison();"
                ),
            )
            .await
        }
        BackendKind::Sqlite => {
            raw_execute(
                db,
                &format!(
                    "CREATE TRIGGER poison BEFORE INSERT ON leads WHEN NEW.phone = '{poison}' \
                     BEGIN SELECT RAISE(ABORT, 'disk full'); END;"
                ),
            )
            .await
        }
    }
    let mut text = String::from("first_name,last_name,phone,company\n");
    for n in 0..35 {
        text.push_str(&format!("Lead{n},Tester,212 555 {n:04},Company {n}\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "big.csv", text.as_bytes());
    let mut options = ImportOptions::new("US");
    options.batch_size = 10;
    let stopped = LeadImport::open(&path, options.clone())
        .unwrap()
        .run(&db.store, |_, _| {})
        .await
        .expect_err("the third batch fails");
    assert_eq!(stopped.line, 22, "the failed batch starts at row 21, on line 22");
    assert_eq!((stopped.report.rows_read, stopped.report.imported), (20, 20));
    let message = stopped.to_string();
    assert!(message.starts_with("the import stopped at line 22: "), "{message}");
    assert!(message.contains("disk full"), "{message}");
    assert!(
        message.contains("Rows before line 22 are committed (20 imported, 0 updated)"),
        "{message}"
    );
    assert_eq!(all_leads(&db.store).await.len(), 20);

    match db.store.kind() {
        BackendKind::Postgres | BackendKind::Server => raw_execute(db, "DROP TRIGGER poison ON leads").await,
        BackendKind::Sqlite => raw_execute(db, "DROP TRIGGER poison").await,
    }
    let rerun = LeadImport::open(&path, options)
        .unwrap()
        .run(&db.store, |_, _| {})
        .await
        .unwrap();
    assert_eq!((rerun.imported, rerun.duplicates_in_database), (15, 20));
    assert_eq!(all_leads(&db.store).await.len(), 35);
}

async fn a_dry_run_decides_everything_and_writes_nothing(db: &TestDb) {
    lead_with(&db.store, 1, |i| i.phone = "+14155550100".into()).await; // Cy's number
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "leads.csv", &messy_file());
    let head = settled(&db.store, db.store.feed_head().await.unwrap()).await;
    let dry = import_with(&db.store, &path, |o| o.dry_run = true).await;
    assert!(dry.dry_run);
    assert_eq!(
        (
            dry.rows_read,
            dry.imported,
            dry.duplicates_in_database,
            dry.duplicates_in_file,
            dry.rejected
        ),
        (10, 3, 1, 2, 4)
    );
    assert_eq!(dry.rejects_file, None);
    assert!(!dir.path().join("leads.rejects.csv").exists());
    assert_eq!(
        all_leads(&db.store).await.len(),
        2,
        "the stored lead and the feed marker"
    );
    assert_eq!(settled_changes(&db.store, head).await, []);
    assert!(import_audits(db).await.is_empty());

    let real = import(&db.store, &path).await;
    assert_eq!(
        (
            real.imported,
            real.duplicates_in_database,
            real.duplicates_in_file,
            real.rejected
        ),
        (
            dry.imported,
            dry.duplicates_in_database,
            dry.duplicates_in_file,
            dry.rejected
        )
    );
    // A clean file afterwards removes the stale rejects file of the earlier run.
    let clean = write(
        dir.path(),
        "leads.csv",
        b"first_name,last_name,phone,company\nNew,One,212 555 0042,Co\n",
    );
    let report = import(&db.store, &clean).await;
    assert_eq!((report.imported, report.rejects_file.clone()), (1, None));
    assert!(!dir.path().join("leads.rejects.csv").exists());
}

async fn a_do_not_call_list_is_imported_and_marks_leads(db: &TestDb) {
    let lead = lead_with(&db.store, 1, |i| i.phone = "+14155550123".into()).await;
    db.store
        .dnc_add("+14155550100", Some("asked on the phone"), None)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "dnc.csv",
        b"Phone Number\tReason\n(415) 555-0123\tcomplaint\n+1 415 555 0123\trepeat\n415.555.0100\t\n\
          not a number\tx\n\n212 555 0199\t\n",
    );
    let run = |dry_run: bool| {
        let path = path.clone();
        let store = db.store.clone();
        async move {
            let mut options = DncImportOptions::new("US");
            options.dry_run = dry_run;
            let report = DncImport::open(&path, options)
                .unwrap()
                .run(&store, |_, _| {})
                .await
                .unwrap();
            assert!(report.is_balanced(), "{report:?}");
            report
        }
    };
    let dry = run(true).await;
    assert_eq!(
        (dry.added, dry.duplicates, dry.rejected, dry.leads_marked),
        (2, 2, 1, 1)
    );
    assert!(!db.store.lead(lead.id).await.unwrap().unwrap().do_not_call);

    let report = run(false).await;
    assert_eq!(
        (report.rows_read, report.added, report.duplicates, report.rejected),
        (5, 2, 2, 1)
    );
    assert_eq!(report.leads_marked, 1);
    assert_eq!(report.blank_lines, 1);
    assert_eq!(
        (report.number_column.as_str(), report.reason_column.as_deref()),
        ("Phone Number", Some("Reason"))
    );
    assert_eq!(report.rejects[0].line, 5);
    assert_eq!(
        report.rejects[0].reason,
        "number: 'not a number' is not a valid phone number for region US"
    );
    assert!(db.store.lead(lead.id).await.unwrap().unwrap().do_not_call);
    let entry = db.store.dnc_check("+14155550123").await.unwrap().unwrap();
    assert_eq!(entry.reason.as_deref(), Some("complaint"));
    let kept = db.store.dnc_check("+14155550100").await.unwrap().unwrap();
    assert_eq!(
        kept.reason.as_deref(),
        Some("asked on the phone"),
        "a listed number keeps its entry"
    );
    let defaulted = db.store.dnc_check("+12125550199").await.unwrap().unwrap();
    assert_eq!(defaulted.reason.as_deref(), Some("imported from dnc.csv"));

    let again = run(false).await;
    assert_eq!((again.added, again.duplicates, again.leads_marked), (0, 4, 0));
    let audits = import_audits(db).await;
    assert_eq!(audits.iter().filter(|a| a.0 == "dnc").count(), 2);
}

async fn a_bare_list_of_numbers_needs_no_header(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "numbers.txt", b"4155550123\n4155550124\n4155550124\n");
    let report = DncImport::open(&path, DncImportOptions::new("US"))
        .unwrap()
        .run(&db.store, |_, _| {})
        .await
        .unwrap();
    assert!(!report.has_header);
    assert_eq!((report.rows_read, report.added, report.duplicates), (3, 2, 1));
    assert!(db.store.dnc_check("+14155550123").await.unwrap().is_some());

    let path = write(dir.path(), "odd.csv", b"Numbers to block\n4155550125\n");
    let err = DncImport::open(&path, DncImportOptions::new("US")).err().unwrap();
    assert!(err.to_string().contains("no column of numbers"), "{err}");
    assert!(err.to_string().contains("--map 'YOUR COLUMN=number'"), "{err}");
}

async fn calls_export_in_order_by_page_and_filter(db: &TestDb) {
    let store = &db.store;
    let (ann, bob) = (agent(store, "ann").await, agent(store, "bob").await);
    let mut calls = Vec::new();
    for n in 1..=5 {
        let who = if n <= 3 { &ann } else { &bob };
        let lead = lead(store, n).await;
        let started = store
            .start_call(&StartCall {
                lead_id: lead.id,
                agent_id: who.id,
                from_number: None,
            })
            .await
            .unwrap();
        store.clock().advance(Duration::seconds(30));
        // The second call went through the softphone: it rang 4 s after the start.
        let progress = (n == 2).then(|| coldcall::store::CallProgress {
            ringing_at: Some(started.started_at + Duration::seconds(4)),
            answered_at: Some(started.started_at + Duration::seconds(10)),
            ended_at: store.now(),
            status: coldcall::domain::CallStatus::Completed,
            reason: "completed".into(),
        });
        store
            .end_call(&EndCall {
                call_id: started.call_id,
                agent_id: who.id,
                disposition: "interested".into(),
                notes: (n == 2).then(|| "=cmd|' /C calc'!A0".to_string()),
                progress,
                ..EndCall::default()
            })
            .await
            .unwrap();
        calls.push(started);
        store.clock().advance(Duration::seconds(30));
    }

    // Keyset pages of two walk every call once, oldest first.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.export_calls(&CallFilter::default(), after, 2).await.unwrap();
        seen.extend(page.iter().map(|r| r.call.id));
        match page.last() {
            Some(last) if page.len() == 2 => after = Some(last.cursor()),
            _ => break,
        }
    }
    assert_eq!(seen, calls.iter().map(|c| c.call_id).collect::<Vec<_>>());

    let bobs = CallFilter {
        agent_id: Some(bob.id),
        ..CallFilter::default()
    };
    assert_eq!(store.export_calls(&bobs, None, 100).await.unwrap().len(), 2);
    let window = CallFilter {
        from: Some(calls[1].started_at),
        to: Some(calls[3].started_at),
        agent_id: None,
    };
    let inside: Vec<_> = store.export_calls(&window, None, 100).await.unwrap();
    assert_eq!(
        inside.iter().map(|r| r.call.id).collect::<Vec<_>>(),
        [calls[1].call_id, calls[2].call_id]
    );
    assert_eq!(inside[0].lead_name, "Lead2 Tester");
    assert_eq!(inside[0].company, "Company 2");

    let mut out = Vec::new();
    let written = coldcall::export::export_calls(store, &CallFilter::default(), &mut out)
        .await
        .unwrap();
    assert_eq!(written, 5);
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let cell = |row: usize, name: &str| {
        let i = headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"));
        rows[row][i].to_string()
    };
    assert_eq!(cell(1, "agent"), "ann");
    assert_eq!(cell(1, "lead_name"), "Lead2 Tester");
    assert_eq!(cell(1, "disposition"), "interested");
    assert_eq!(cell(1, "duration_s"), "20", "talk time from the answer");
    let started = calls[1].started_at;
    assert_eq!(
        cell(1, "ringing_at"),
        (started + Duration::seconds(4)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert_eq!(
        cell(1, "answered_at"),
        (started + Duration::seconds(10)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert_eq!(cell(0, "ringing_at"), "", "dialled by hand: no ringing time");
    assert!(
        cell(1, "notes").starts_with("'=cmd|' /C calc'!A0"),
        "a note is never a formula in a spreadsheet"
    );
}

// ---- Exports in the shapes real CRMs, address books and phones write them ------------------

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Imports a fixture with its rejects file in a temporary folder (never beside the fixture).
async fn import_fixture(
    store: &Store,
    name: &str,
    edit: impl FnOnce(&mut ImportOptions),
) -> (ImportReport, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.csv");
    let report = import_with(store, &fixture(name), |o| {
        o.rejects = Some(rejects);
        edit(o);
    })
    .await;
    (report, dir)
}

fn reasons(report: &ImportReport) -> Vec<(u64, String)> {
    report.rejects.iter().map(|n| (n.line, n.reason.clone())).collect()
}

async fn a_salesforce_lead_export_imports_as_it_is(db: &TestDb) {
    let store = &db.store;
    let (r, _dir) = import_fixture(store, "salesforce_leads.csv", |_| {}).await;
    assert_eq!(r.rows_read, 20);
    assert_eq!(r.skipped_deleted, 2, "IsDeleted = 1");
    assert_eq!(r.imported, 15);
    assert_eq!(r.duplicates_in_file, 1);
    assert_eq!(r.rejected, 2);
    assert_eq!(
        reasons(&r),
        [
            (
                14,
                "phone: '12345' is not a valid phone number for region US (column 'Phone')".to_string()
            ),
            (
                15,
                "status: 'Hot Prospect' has no mapping to a coldcall status; add --map-status \
                 'Hot Prospect=STATUS' (new, contacted, qualified, proposal, negotiation, closed_won, \
                 closed_lost, nurturing) (column 'Status')"
                    .to_string()
            ),
            (16, "duplicate: same lead as line 2 (+14155550101)".to_string()),
        ]
    );
    let mapped: Vec<(&str, LeadStatus, u64)> = r
        .statuses_mapped
        .iter()
        .map(|(from, (to, n))| (from.as_str(), *to, *n))
        .collect();
    assert_eq!(
        mapped,
        [
            ("Closed - Converted", LeadStatus::ClosedWon, 2),
            ("Closed - Not Converted", LeadStatus::ClosedLost, 1),
            ("Open - Not Contacted", LeadStatus::New, 5),
            ("Unqualified", LeadStatus::ClosedLost, 2),
            ("Working", LeadStatus::Contacted, 2),
            ("Working - Contacted", LeadStatus::Contacted, 4),
        ]
    );
    assert_eq!(r.statuses_unmapped.get("Hot Prospect"), Some(&1));
    assert_eq!(r.zones.get(&ZoneOrigin::Number), Some(&14));
    assert_eq!(
        r.zones.get(&ZoneOrigin::Several),
        Some(&1),
        "Idaho's 208 spans two zones"
    );
    assert_eq!(r.zones.get(&ZoneOrigin::Default), None);
    assert_eq!(
        (r.contact_points, r.invalid_contact_points),
        (3, 0),
        "the mobile numbers beside the phone"
    );

    let leads = all_leads(store).await;
    assert_eq!(leads.len(), 15);
    let carmen = by_phone(&leads, "+34912345106");
    assert!(
        carmen.notes.as_deref().unwrap().chars().count() > 20_000,
        "a long description fits"
    );
    assert_eq!(carmen.status, LeadStatus::New);
    assert_eq!(carmen.timezone.as_deref(), Some("Europe/Madrid"), "from the number");
    assert_eq!(
        by_phone(&leads, "+12085550108").timezone,
        None,
        "an area code across a zone line: judged in both zones when called"
    );
    assert_eq!(by_phone(&leads, "+12125550104").status, LeadStatus::ClosedWon);
    assert_eq!(by_phone(&leads, "+34928123107").status, LeadStatus::ClosedLost);
    assert!(by_phone(&leads, "+13105550109").do_not_call);
    assert!(by_phone(&leads, "+16175550110").do_not_email);
    assert!(!leads.iter().any(|l| l.last_name == "Doe" || l.last_name == "Roe"));

    // The admin maps the custom value and runs the file again: the rest is already in.
    let (again, _dir) = import_fixture(store, "salesforce_leads.csv", |o| {
        o.statuses = vec![("Hot Prospect".into(), LeadStatus::Qualified)];
    })
    .await;
    assert_eq!((again.imported, again.rejected, again.skipped_deleted), (1, 1, 2));
    assert_eq!(again.duplicates_in_database, 15);
    let leads = all_leads(store).await;
    assert_eq!(by_phone(&leads, "+15125550114").status, LeadStatus::Qualified);
}

async fn google_contacts_import_in_both_layouts(db: &TestDb) {
    let store = &db.store;
    let (old, _dir) = import_fixture(store, "google_contacts_old.csv", |_| {}).await;
    assert_eq!((old.rows_read, old.imported, old.rejected), (5, 4, 1));
    assert_eq!(
        reasons(&old),
        [(5, "last_name: is required; company: is required".to_string())]
    );
    assert_eq!(
        old.contact_points, 3,
        "a mobile, and a second number and email in one cell"
    );
    let (new, _dir) = import_fixture(store, "google_contacts_new.csv", |_| {}).await;
    assert_eq!(
        (new.rows_read, new.imported, new.rejected, new.duplicates_in_file),
        (5, 3, 1, 1)
    );
    assert_eq!(
        reasons(&new),
        [
            (
                4,
                "phone: '030 1234 5603' is not a valid phone number for region US (column 'Phone 1 - Value')"
                    .to_string()
            ),
            (6, "duplicate: same lead as line 3 (+12125550102)".to_string()),
        ]
    );
    assert_eq!((new.contact_points, new.invalid_contact_points), (2, 1));
    let leads = all_leads(store).await;
    assert_eq!(leads.len(), 7);
    let niels = by_phone(&leads, "+4520123402");
    assert_eq!(
        (niels.email.as_deref(), niels.company.as_str(), niels.title.as_deref()),
        (Some("niels@atom.example"), "Atom ApS", Some("Physicist"))
    );
    let wu = by_phone(&leads, "+12125550102");
    assert_eq!(wu.notes.as_deref(), Some("Asked for a callback in the afternoon"));
}

async fn outlook_and_thunderbird_exports_import(db: &TestDb) {
    let store = &db.store;
    let (outlook, _dir) = import_fixture(store, "outlook_contacts.csv", |_| {}).await;
    assert_eq!((outlook.rows_read, outlook.imported, outlook.rejected), (4, 3, 1));
    assert_eq!(reasons(&outlook), [(5, "company: is required".to_string())]);
    assert_eq!(outlook.contact_points, 3);
    let (tb, _dir) = import_fixture(store, "thunderbird_contacts.csv", |_| {}).await;
    assert_eq!((tb.rows_read, tb.imported, tb.rejected), (4, 3, 1));
    assert_eq!(
        reasons(&tb),
        [(
            5,
            "email: 'blaise@' is not a valid email address (column 'Primary Email')".to_string()
        )]
    );
    assert_eq!(tb.contact_points, 2);
    let leads = all_leads(store).await;
    let anna = by_phone(&leads, "+49301234567");
    assert_eq!(anna.title.as_deref(), Some("Vertriebsleiterin"), "not Outlook's 'Frau'");
    assert_eq!(anna.priority, coldcall::domain::Priority::Medium, "Outlook's 'Normal'");
    let sofia = by_phone(&leads, "+46701234567");
    assert_eq!(
        (sofia.title.as_deref(), sofia.priority),
        (None, coldcall::domain::Priority::High)
    );
    let ramanujan = by_phone(&leads, "+914423456789");
    assert_eq!(
        (ramanujan.first_name.as_str(), ramanujan.last_name.as_str()),
        ("Srinivasa", "Ramanujan"),
        "split from the display name"
    );
}

/// A CSV in the shape of Apple's Contacts: its field names ("First name", "Job title"), one
/// column per labelled number and address ("Phone : iPhone", "Email : iCloud", "Address : work :
/// City"), a note over two lines; it maps without `--map`.
async fn an_apple_contacts_export_imports(db: &TestDb) {
    let store = &db.store;
    let (apple, _dir) = import_fixture(store, "apple_contacts.csv", |_| {}).await;
    assert_eq!(
        (
            apple.rows_read,
            apple.imported,
            apple.rejected,
            apple.duplicates_in_file
        ),
        (6, 3, 2, 1)
    );
    assert_eq!(
        reasons(&apple),
        [
            (6, "company: is required".to_string()),
            (
                7,
                "phone: '555-01' is not a valid phone number for region US (column 'Phone : iPhone')".to_string()
            ),
            (8, "duplicate: same lead as line 2 (+12125550162)".to_string()),
        ],
        "a row's line is where it starts: the two-line note moves the rows after it"
    );
    assert_eq!((apple.contact_points, apple.invalid_contact_points), (3, 0));
    let leads = all_leads(store).await;
    assert_eq!(leads.len(), 3);
    let grace = by_phone(&leads, "+12125550162");
    assert_eq!(
        (
            grace.email.as_deref(),
            grace.company.as_str(),
            grace.title.as_deref(),
            grace.notes.as_deref()
        ),
        (
            Some("grace@cobol.example"),
            "Cobol Systems",
            Some("Rear Admiral"),
            Some("Met at the compiler meetup")
        ),
        "the work number and email are the lead's own"
    );
    let mut points: Vec<(ContactKind, String)> = store
        .contacts(grace.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.kind, c.value))
        .collect();
    points.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        points,
        [
            (ContactKind::Phone, "+12125550161".into()),
            (ContactKind::Email, "grace@home.example".into())
        ]
    );
    let marie = by_phone(&leads, "+33612345678");
    assert_eq!(
        (marie.email.as_deref(), marie.timezone.as_deref()),
        (Some("marie.curie@icloud.example"), Some("Europe/Paris")),
        "an iCloud address is an email"
    );
    let alan = by_phone(&leads, "+442079460958");
    assert_eq!(
        (alan.email.as_deref(), alan.notes.as_deref()),
        (Some("alan@enigma.example"), Some("Call after 3pm,\nask for Alan"))
    );
}

async fn vcards_from_phones_and_mail_clients_import(db: &TestDb) {
    let store = &db.store;
    let (android, _dir) = import_fixture(store, "android.vcf", |_| {}).await;
    assert_eq!(android.format, "vcard");
    assert_eq!((android.rows_read, android.imported, android.rejected), (4, 3, 1));
    assert_eq!(reasons(&android), [(21, "company: is required".to_string())]);
    assert_eq!((android.contact_points, android.invalid_contact_points), (1, 1));
    let (iphone, _dir) = import_fixture(store, "iphone.vcf", |_| {}).await;
    assert_eq!(
        (iphone.rows_read, iphone.imported, iphone.duplicates_in_file),
        (3, 2, 1)
    );
    assert_eq!(iphone.contact_points, 1);
    let (outlook, _dir) = import_fixture(store, "outlook.vcf", |_| {}).await;
    assert_eq!((outlook.rows_read, outlook.imported, outlook.rejected), (3, 2, 1));
    assert_eq!(
        reasons(&outlook),
        [(
            27,
            "phone: '555-0199' is not a valid phone number for region US (column 'Phone 1 - Value')".to_string()
        )]
    );
    let (tb, _dir) = import_fixture(store, "thunderbird.vcf", |_| {}).await;
    assert_eq!(
        (tb.rows_read, tb.imported, tb.contact_points),
        (2, 2, 2),
        "{:?}",
        tb.rejects
    );
    assert_eq!(tb.zones.get(&ZoneOrigin::Given), Some(&1), "TZ:Europe/Paris");

    let leads = all_leads(store).await;
    assert_eq!(leads.len(), 9);
    let jurgen = by_phone(&leads, "+4915112345602");
    assert_eq!(
        (jurgen.first_name.as_str(), jurgen.last_name.as_str()),
        ("Jürgen", "Müller")
    );
    assert_eq!(jurgen.company, "Müller & Söhne KG");
    assert_eq!(
        jurgen.notes.as_deref(),
        Some("Kunde seit 2019, bevorzugt Anrufe am Vormittag. Bitte vor dem Anruf die letzte Bestellung prüfen.")
    );
    let yui = by_phone(&leads, "+81312345602");
    assert_eq!(
        yui.notes.as_deref(),
        Some("Met at the Tokyo expo, wants pricing\nfor 40 seats")
    );
    assert_eq!(yui.email.as_deref(), Some("yui@sakura.example"));
    let anna = by_phone(&leads, "+49301234567");
    assert_eq!(
        anna.notes.as_deref(),
        Some("Messe Berlin\nRückruf erbeten, am liebsten vormittags.")
    );
    let claire = by_phone(&leads, "+33123456789");
    assert_eq!(claire.timezone.as_deref(), Some("Europe/Paris"));
    assert_eq!(
        claire.notes.as_deref(),
        Some("Rencontrée au salon, à rappeler\nen mars")
    );
    assert_eq!(by_phone(&leads, "+2348021234567").company, "Lagos Logistics Ltd");
}

async fn set_gives_every_row_a_value_a_file_lacks(db: &TestDb) {
    let store = &db.store;
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "people.csv",
        b"First Name,Last Name,Phone,Lead Status\nAda,Lovelace,415 555 0123,Attempted to Contact\n\
          Bob,Stone,+34 912 345 678,\n",
    );
    let refused = LeadImport::open(&path, ImportOptions::new("US"))
        .err()
        .expect("no company");
    assert!(refused.to_string().contains("--set 'company=VALUE'"), "{refused}");
    let r = import_with(store, &path, |o| {
        o.sets = vec![
            (coldcall::domain::LeadField::Company, "Acme Ltd".into()),
            (coldcall::domain::LeadField::Source, "Trade show".into()),
        ];
    })
    .await;
    assert_eq!((r.imported, r.rejected), (2, 0));
    let leads = all_leads(store).await;
    assert!(leads
        .iter()
        .all(|l| l.company == "Acme Ltd" && l.source.as_deref() == Some("Trade show")));
    assert_eq!(by_phone(&leads, "+14155550123").status, LeadStatus::Contacted);
}

/// The case that costs a floor its licence: a Spanish number with no time-zone column is judged
/// in Madrid, not by New York's hours; a number that may be in two zones waits for both; only a
/// number that gives no clue (a satellite phone) falls back to the default zone.
async fn imported_leads_are_called_in_the_hours_their_number_allows(db: &TestDb) {
    let store = &db.store;
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "world.csv",
        "First Name,Last Name,Phone,Company,Time Zone\n\
         Carmen,Ruiz,+34 912 345 678,Sol,\n\
         Margaret,Hamilton,(208) 555-0108,Apollo,\n\
         Sat,Phone,+870 301 234 567,Inmarsat Client,\n\
         Given,Zone,+34 912 345 679,Sol,America/Chicago\n"
            .as_bytes(),
    );
    let r = import_with(store, &path, |_| {}).await;
    assert_eq!(r.imported, 4);
    let zones: Vec<(ZoneOrigin, u64)> = r.zones.iter().map(|(o, n)| (*o, *n)).collect();
    assert_eq!(
        zones,
        [
            (ZoneOrigin::Given, 1),
            (ZoneOrigin::Number, 1),
            (ZoneOrigin::Several, 1),
            (ZoneOrigin::Default, 1)
        ]
    );
    let leads = all_leads(store).await;
    let ann = agent(store, "ann").await;
    let refusal = |phone: &str| {
        let id = by_phone(&leads, phone).id;
        async move { store.can_call(id, ann.id).await.unwrap().err().map(|r| r.to_string()) }
    };
    // 01:30 UTC on a winter night: 20:30 in New York and 02:30 in Madrid.
    store
        .clock()
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 1, 15, 1, 30, 0).unwrap());
    let madrid = refusal("+34912345678").await.expect("never at 02:30 in Madrid");
    assert!(
        madrid.contains("outside calling hours in Europe/Madrid (local 02:30)"),
        "{madrid}"
    );
    assert_eq!(
        refusal("+870301234567").await,
        None,
        "the default zone: 20:30 in New York"
    );
    assert_eq!(refusal("+34912345679").await, None, "its own zone: 19:30 in Chicago");
    // 15:30 UTC: 08:30 in Denver (Boise) but 07:30 in Los Angeles: Idaho's 208-5 waits.
    store
        .clock()
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 1, 15, 15, 30, 0).unwrap());
    let idaho = refusal("+12085550108").await.expect("Los Angeles is not up yet");
    assert!(idaho.contains("America/Los_Angeles (local 07:30)"), "{idaho}");
    assert_eq!(refusal("+34912345678").await, None, "16:30 in Madrid");
}

async fn further_numbers_and_emails_become_contact_points_and_are_never_doubled(db: &TestDb) {
    let store = &db.store;
    let ada = lead_with(store, 1, |i| {
        i.first_name = "Ada".into();
        i.last_name = "Lovelace".into();
        i.company = "Engines".into();
        i.phone = "+14155550123".into();
        i.email = "ada@example.com".into();
    })
    .await;
    let desk = NewContact {
        kind: ContactKind::Phone,
        value: "+14155550199".into(),
        label: Some("desk".into()),
        is_primary: true,
        is_verified: true,
    };
    store.add_contact(ada.id, &desk, "US").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Ada's mobile is her stored desk number; Alan's mobile is his own phone.
    let path = write(
        dir.path(),
        "contacts.csv",
        b"First Name,Last Name,Company,Phone,Mobile Phone,Home Phone,E-mail,E-mail 2\n\
          Ada,Lovelace,Engines,(415) 555-0123,(415) 555-0199,(415) 555-0177,ada@example.com,ada@home.example\n\
          Grace,Hopper,Navy,(212) 555-0101,(212) 555-0102,,grace@navy.example,Grace@Home.example\n\
          Alan,Turing,Bletchley,(212) 555-0103,(212) 555-0103,,,\n",
    );
    let points = |r: &ImportReport| (r.contact_points, r.contact_points_present);

    // Skip keeps the stored lead as it is: only the new lead gets its points.
    let skip = import(store, &path).await;
    assert_eq!((skip.imported, skip.duplicates_in_database), (2, 1));
    assert_eq!(points(&skip), (2, 0));
    let leads = all_leads(store).await;
    let grace = by_phone(&leads, "+12125550101");
    let mut got: Vec<(ContactKind, String, Option<String>, bool, bool)> = store
        .contacts(grace.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.kind, c.value, c.label, c.is_primary, c.is_verified))
        .collect();
    got.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        got,
        [
            (
                ContactKind::Phone,
                "+12125550102".into(),
                Some("mobile".into()),
                false,
                false
            ),
            (
                ContactKind::Email,
                "grace@home.example".into(),
                Some("e-mail 2".into()),
                false,
                false
            ),
        ]
    );
    assert!(store
        .contacts(by_phone(&leads, "+12125550103").id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.contacts(ada.id).await.unwrap().len(), 1);

    // A dry run in merge mode says what it would add, and adds nothing.
    let dry = import_with(store, &path, |o| {
        o.mode = DuplicateMode::Merge;
        o.dry_run = true;
    })
    .await;
    assert_eq!(points(&dry), (2, 3));
    assert_eq!(store.contacts(ada.id).await.unwrap().len(), 1);

    // Merge adds to the stored lead only what it has not got; Grace has hers already.
    let merge = import_with(store, &path, |o| o.mode = DuplicateMode::Merge).await;
    assert_eq!(points(&merge), (2, 3));
    let mut got: Vec<(String, Option<String>, bool)> = store
        .contacts(ada.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.value, c.label, c.is_primary))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("+14155550177".into(), Some("home".into()), false),
            ("+14155550199".into(), Some("desk".into()), true),
            ("ada@home.example".into(), Some("e-mail 2".into()), false),
        ],
        "the stored point keeps its label and marks"
    );

    // Again, in update mode: every point is there already, none is written or removed.
    let update = import_with(store, &path, |o| o.mode = DuplicateMode::Update).await;
    assert_eq!(points(&update), (0, 5));
    assert_eq!(store.contacts(ada.id).await.unwrap().len(), 3);
    assert_eq!(store.contacts(grace.id).await.unwrap().len(), 2);
}
