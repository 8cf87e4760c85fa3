//! CSV import speed on both backends, the ordinary import and `import --bulk`, beside the
//! database's own tool loading the same file into a bare table (`psql \copy`, the sqlite3
//! shell's `.import`) and what the database does with the same rows when nothing else is in the
//! way, and the import's peak memory at two file sizes. Prints a table with the targets and
//! PASS/FAIL (bulk >= 0.5 x psql \copy on PostgreSQL, >= 100,000 rows/s on SQLite), writes it as
//! JSON to target/import-bench.json (or COLDCALL_BENCH_JSON); asserts nothing.
//!
//!     cargo bench --bench import               # 200,000 rows
//!     cargo bench --bench import -- 1000000    # another size
//!     cargo bench --bench import -- 200000 10000   # and another batch size (rows per transaction)
//!
//! The file looks like a HubSpot export: "First Name", "Phone Number" written nationally with
//! punctuation, "Lead Status" labels, comma-separated, quoted where needed. PostgreSQL is found
//! at COLDCALL_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres); the
//! PostgreSQL limit is `psql \copy` of the same file into a bare table, so psql must be on PATH;
//! the SQLite one is the sqlite3 shell's `.import` (skipped when sqlite3 is not on PATH).

mod support;

use std::path::Path;
use std::time::Instant;

use coldcall::domain::phone::format_international;
use coldcall::import::{ImportOptions, ImportReport, LeadImport};
use coldcall::store::{ConnectOptions, Store};

/// Rows per transaction (0: the import's default for the backend).
static BATCH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn options() -> ImportOptions {
    let mut options = ImportOptions::new("US");
    options.batch_size = BATCH.load(std::sync::atomic::Ordering::Relaxed);
    options
}

fn bulk_options() -> ImportOptions {
    ImportOptions {
        bulk: true,
        ..options()
    }
}

/// One line of the summary table: a figure in rows per second beside the raw tool's.
#[derive(serde::Serialize)]
struct Line {
    what: String,
    rows_per_second: f64,
    /// The raw tool on the same file, and this figure's share of it.
    limit: Option<f64>,
    ratio: Option<f64>,
    target: Option<String>,
    pass: Option<bool>,
}

static LINES: std::sync::Mutex<Vec<Line>> = std::sync::Mutex::new(Vec::new());

fn record(what: &str, rows_per_second: f64, limit: Option<f64>, target: Option<(&str, bool)>) {
    LINES.lock().unwrap().push(Line {
        what: what.into(),
        rows_per_second,
        limit,
        ratio: limit.map(|l| rows_per_second / l),
        target: target.map(|(t, _)| t.into()),
        pass: target.map(|(_, p)| p),
    });
}

const HEADER: &[&str] = &[
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Company Name",
    "Job Title",
    "Time Zone",
    "Lead Status",
    "Lead Source",
    "Notes",
];

fn main() {
    let numbers: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let rows = numbers.first().copied().unwrap_or(200_000);
    if let Some(batch) = numbers.get(1) {
        BATCH.store(*batch as usize, std::sync::atomic::Ordering::Relaxed);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(rows));
}

async fn run(rows: u64) {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.csv");
    let large = dir.path().join("leads.csv");
    write_file(&small, rows / 10);
    let started = Instant::now();
    write_file(&large, rows);
    let size = std::fs::metadata(&large).unwrap().len();
    println!(
        "file: {rows} rows, {:.1} MB, written in {:.1} s; rows per transaction: {} (0: the default)",
        size as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        BATCH.load(std::sync::atomic::Ordering::Relaxed)
    );

    sqlite(dir.path(), &small, &large, rows).await;
    postgres(&large, rows).await;
    summary(rows);
}

fn summary(rows: u64) {
    let lines = LINES.lock().unwrap();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!("\n{rows} rows; load average now {}", load.join(" "));
    println!("| what | rows/s | raw tool, same file | ratio | target | |");
    println!("|---|---|---|---|---|---|");
    for l in lines.iter() {
        let opt = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map(f).unwrap_or_default();
        println!(
            "| {} | {:.0} | {} | {} | {} | {} |",
            l.what,
            l.rows_per_second,
            opt(l.limit, &|v| format!("{v:.0}")),
            opt(l.ratio, &|v| format!("{v:.2}")),
            l.target.clone().unwrap_or_default(),
            l.pass.map(|p| if p { "PASS" } else { "FAIL" }).unwrap_or_default()
        );
    }
    let path = std::env::var("COLDCALL_BENCH_JSON").unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{target}/import-bench.json")
    });
    let json = serde_json::json!({ "rows": rows, "load_average": load, "lines": &*lines });
    match std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()) {
        Ok(()) => println!("written to {path}"),
        Err(e) => println!("could not write {path}: {e}"),
    }
}

/// A CRM-style file from the demo leads, numbers written as people write them.
fn write_file(path: &Path, rows: u64) {
    let mut out = csv::Writer::from_path(path).unwrap();
    out.write_record(HEADER).unwrap();
    for i in 0..rows {
        let f = coldcall::demo::demo_lead(i).expect("demo leads are valid");
        out.write_record([
            f.first_name.as_str(),
            &f.last_name,
            f.email.as_deref().unwrap_or(""),
            &format_international(&f.phone),
            &f.company,
            f.title.as_deref().unwrap_or(""),
            f.timezone.as_deref().unwrap_or(""),
            f.status.label(),
            f.source.as_deref().unwrap_or(""),
            f.notes.as_deref().unwrap_or(""),
        ])
        .unwrap();
    }
    out.flush().unwrap();
}

async fn import(store: &Store, path: &Path) -> ImportReport {
    LeadImport::open(path, options())
        .unwrap()
        .run(store, |_, _| {})
        .await
        .unwrap()
}

async fn import_bulk(store: &Store, path: &Path) -> ImportReport {
    LeadImport::open(path, bulk_options())
        .unwrap()
        .run(store, |_, _| {})
        .await
        .unwrap()
}

/// Imports and samples resident memory at each tenth of the file.
async fn import_sampling_memory(store: &Store, path: &Path) -> (ImportReport, Vec<u64>) {
    let import = LeadImport::open(path, options()).unwrap();
    let total = import.total_bytes().max(1);
    let mut samples = Vec::new();
    let report = import
        .run(store, |_, bytes| {
            if bytes * 10 / total > samples.len() as u64 {
                samples.push(support::memory_mb("VmRSS:"));
            }
        })
        .await
        .unwrap();
    (report, samples)
}

/// Reading and validating every row, nothing else: the client's own limit.
fn parse_only(path: &Path) -> f64 {
    use coldcall::import::mapping::Mapping;
    use coldcall::import::reader::RecordReader;
    let started = Instant::now();
    let mut reader = RecordReader::new(std::fs::File::open(path).unwrap(), b',');
    let header = reader.next_record().unwrap().unwrap();
    let headers: Vec<String> = header.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    let mapping = Mapping::new(&headers, &[]).unwrap();
    let mut rows = 0u64;
    while let Some(record) = reader.next_record().unwrap() {
        coldcall::import::row::parse_row(&record, &mapping, "US").unwrap();
        rows += 1;
    }
    rows as f64 / started.elapsed().as_secs_f64()
}

fn line(label: &str, report: &ImportReport) {
    println!(
        "{label}: {} rows in {:.2} s = {:.0} rows/s (imported {}, duplicates {}, rejected {})",
        report.rows_read, report.seconds, report.rows_per_second, report.imported, report.duplicates, report.rejected
    );
}

async fn sqlite(dir: &Path, small: &Path, large: &Path, rows: u64) {
    println!("\n-- SQLite");
    let open = |name: &str| {
        let url = format!("sqlite://{}", dir.join(name).display());
        async move {
            let store = Store::connect(&url, &ConnectOptions::default()).await.unwrap();
            store.migrate().await.unwrap();
            (store, url)
        }
    };
    let (store, _) = open("small.db").await;
    let before = peak_rss_mb();
    let report = import(&store, small).await;
    line("import (tenth of the file)", &report);
    let after_small = peak_rss_mb();
    store.close().await;

    println!(
        "read and validate only (one thread, no database): {:.0} rows/s",
        parse_only(large)
    );
    let (store, _) = open("large.db").await;
    let (report, samples) = import_sampling_memory(&store, large).await;
    line("import", &report);
    let after_large = peak_rss_mb();
    println!("resident memory at each tenth of the file: {samples:?} MB");
    println!(
        "peak resident memory: {before} MB before, {after_small} MB after {} rows, {after_large} MB after {} rows",
        rows / 10,
        rows
    );
    let again = import(&store, large).await;
    line("re-import of the same file (all duplicates)", &again);
    store.close().await;

    let (store, _) = open("bulk.db").await;
    let bulk = import_bulk(&store, large).await;
    line("import --bulk", &bulk);
    store.close().await;
    let shell = sqlite3_import(dir, large, rows);

    record("SQLite: ordinary import", report.rows_per_second, shell, None);
    record(
        "SQLite: import --bulk",
        bulk.rows_per_second,
        shell,
        Some(("≥ 100,000 rows/s", bulk.rows_per_second >= 100_000.0)),
    );
    if let Some(shell) = shell {
        record("SQLite: sqlite3 .import into a bare table", shell, None, None);
    }

    // The limit: the same validated rows as multi-row INSERTs into the same table (same
    // indexes and triggers) in one transaction, without reading, validating or de-duplicating.
    let (store, raw_url) = open("raw.db").await;
    store.close().await;
    let leads: Vec<_> = (0..rows).filter_map(|i| coldcall::demo::demo_lead(i).ok()).collect();
    let started = Instant::now();
    raw_sqlite_insert(&raw_url, &leads).await;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "limit: multi-row INSERT of the same rows into leads, one transaction: {:.2} s = {:.0} rows/s",
        secs,
        rows as f64 / secs
    );
    println!(
        "import vs limit: {:.0}% (target: >= 100000 rows/s)",
        100.0 * report.rows_per_second / (rows as f64 / secs)
    );
    record(
        "SQLite: the same rows into leads, multi-row INSERTs, one transaction (no file, no checks)",
        rows as f64 / secs,
        None,
        None,
    );
}

/// The sqlite3 shell's `.import` of the same file into a bare table (all text columns): the
/// fastest a file goes into SQLite. Rows per second, or None without sqlite3.
fn sqlite3_import(dir: &Path, file: &Path, rows: u64) -> Option<f64> {
    let db = dir.join("shell.db");
    let columns: Vec<String> = HEADER.iter().map(|h| format!("\"{h}\" TEXT")).collect();
    let script = format!(
        "PRAGMA journal_mode = WAL;\nPRAGMA synchronous = NORMAL;\nCREATE TABLE bare ({});\n.import --csv --skip 1 '{}' bare\n",
        columns.join(", "),
        file.display()
    );
    let started = Instant::now();
    let out = std::process::Command::new("sqlite3")
        .arg(&db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(script.as_bytes())?;
            child.wait()
        });
    let secs = started.elapsed().as_secs_f64();
    match out {
        Ok(status) if status.success() => {
            println!(
                "limit: sqlite3 .import into a bare table: {secs:.2} s = {:.0} rows/s",
                rows as f64 / secs
            );
            Some(rows as f64 / secs)
        }
        other => {
            println!("sqlite3 .import not measured: {other:?}");
            None
        }
    }
}

async fn raw_sqlite_insert(url: &str, leads: &[coldcall::domain::LeadFields]) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    let rows: Vec<_> = leads.iter().map(|f| (uuid::Uuid::now_v7(), f)).collect();
    support::insert_leads(&mut tx, &rows, 1_000, chrono::Utc::now()).await;
    tx.commit().await.unwrap();
}

async fn postgres(large: &Path, rows: u64) {
    println!("\n-- PostgreSQL");
    let admin_url = std::env::var("COLDCALL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin = match sqlx::PgPool::connect(&admin_url).await {
        Ok(pool) => pool,
        Err(e) => {
            println!("skipped: PostgreSQL not reachable at {admin_url}: {e}");
            return;
        }
    };
    let name = format!("coldcall_bench_{}", uuid::Uuid::now_v7().simple());
    // The name is made here from a UUID, never from input.
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&admin)
        .await
        .unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let url = format!("{base}/{name}");

    let store = Store::connect(&url, &ConnectOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    let report = import(&store, large).await;
    line("import", &report);
    let again = import(&store, large).await;
    line("re-import of the same file (all duplicates)", &again);
    store.close().await;

    let bulk_name = format!("{name}_bulk");
    sqlx::query(&format!("CREATE DATABASE \"{bulk_name}\""))
        .execute(&admin)
        .await
        .unwrap();
    let store = Store::connect(&format!("{base}/{bulk_name}"), &ConnectOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let bulk = import_bulk(&store, large).await;
    line("import --bulk", &bulk);
    store.close().await;

    // The database's own cost for the same rows: one INSERT … SELECT of them into an empty
    // leads table, through the same indexes and triggers.
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE snapshot AS SELECT * FROM leads; \
         TRUNCATE leads, lead_status_log, changes CASCADE;",
    )
    .execute(&pool)
    .await
    .unwrap();
    let started = Instant::now();
    sqlx::query(
        "INSERT INTO leads (id, first_name, last_name, email, phone, company, title, timezone, status, priority, \
         lead_score, conversion_probability, source, notes, consent_given, consent_date, do_not_call, do_not_email, \
         data_quality, created_at, updated_at, updated_by, status_reason) \
         SELECT id, first_name, last_name, email, phone, company, title, timezone, status, priority, lead_score, \
         conversion_probability, source, notes, consent_given, consent_date, do_not_call, do_not_email, \
         data_quality, created_at, updated_at, updated_by, status_reason FROM snapshot",
    )
    .execute(&pool)
    .await
    .unwrap();
    let secs = started.elapsed().as_secs_f64();
    pool.close().await;
    println!(
        "limit: INSERT ... SELECT of the same rows into leads (same indexes and triggers): {:.2} s = {:.0} rows/s",
        secs,
        rows as f64 / secs
    );
    println!(
        "import vs that: {:.0}%",
        100.0 * report.rows_per_second / (rows as f64 / secs)
    );
    let into_leads = rows as f64 / secs;

    // The limit: psql's \copy of the same file into a table without indexes or triggers.
    let bare = "CREATE TABLE bare (first_name text, last_name text, email text, phone text, company text, \
                title text, timezone text, status text, source text, notes text)";
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(bare).execute(&pool).await.unwrap();
    pool.close().await;
    let started = Instant::now();
    let copy = std::process::Command::new("psql")
        .arg(&url)
        .arg("-qc")
        .arg(format!(
            "\\copy bare FROM '{}' WITH (FORMAT csv, HEADER true)",
            large.display()
        ))
        .status();
    let secs = started.elapsed().as_secs_f64();
    match &copy {
        Ok(status) if status.success() => {
            println!(
                "limit: psql \\copy into a bare table: {:.2} s = {:.0} rows/s",
                secs,
                rows as f64 / secs
            );
            println!(
                "import vs limit: {:.0}%, import --bulk vs limit: {:.0}% (target: >= 50%)",
                100.0 * report.rows_per_second / (rows as f64 / secs),
                100.0 * bulk.rows_per_second / (rows as f64 / secs)
            );
        }
        other => println!("limit not measured: psql failed ({other:?})"),
    }
    let copy = matches!(copy, Ok(status) if status.success()).then(|| rows as f64 / secs);
    record("PostgreSQL: ordinary import", report.rows_per_second, copy, None);
    record(
        "PostgreSQL: import --bulk",
        bulk.rows_per_second,
        copy,
        copy.map(|c| ("≥ 0.5 × psql \\copy", bulk.rows_per_second >= 0.5 * c)),
    );
    if let Some(copy) = copy {
        record("PostgreSQL: psql \\copy into a bare table", copy, None, None);
    }
    record(
        "PostgreSQL: the same rows into leads, one INSERT … SELECT (no file, no checks)",
        into_leads,
        copy,
        None,
    );
    for db in [&name, &bulk_name] {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
            .execute(&admin)
            .await;
    }
    admin.close().await;
}

/// The process's peak resident memory so far, in MB.
fn peak_rss_mb() -> u64 {
    support::memory_mb("VmHWM:")
}
