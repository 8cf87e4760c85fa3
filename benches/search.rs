//! Search and the lead list on a million leads, both backends: each query through the Store API
//! (what a console or the CLI gets) beside the same SQL run by the database on one held
//! connection (`raw`), with p50/p95/p99, PASS/FAIL against issue 12's targets (search p95 ≤
//! 20 ms, pages p99 ≤ 5 ms) and the table written as JSON (target/search-bench.json, or the path
//! in COLDCALL_BENCH_JSON). Asserts nothing.
//!
//!     cargo bench --bench search                      # 1,000,000 leads, 200 runs a query
//!     cargo bench --bench search -- 100000 50         # 100k leads, 50 runs (a quick look)
//!     COLDCALL_BENCH_BACKENDS=sqlite cargo bench --bench search    # one backend
//!     COLDCALL_BENCH_KEEP=1 cargo bench --bench search             # keep the seeded databases
//!
//! The databases are seeded with `coldcall::demo::seed` (db seed's leads: 40 first names, 47
//! surnames, 30 companies, so every name is common) into a scratch PostgreSQL database
//! (COLDCALL_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres) and a
//! SQLite file, both dropped at the end. With COLDCALL_BENCH_KEEP=1 they are named by their size
//! (`coldcall_search_bench_N`, target/search-bench-N.db), kept, and reused — migrated to the
//! current schema — by the next run. Each run of a line takes the next term of its kind, so
//! nothing is served from one cached result; coldcall and the raw statement alternate run by run
//! so a busy machine weighs on both alike. The raw statement mirrors the backend's (see
//! `raw_search`) and must return the same leads in the same order, or the bench stops.

use std::time::Instant;

use coldcall::store::search::{like_contains, SearchTerms};
use coldcall::store::{ConnectOptions, LeadCursor, LeadFilter, Store};
use sqlx::{Column, Connection, Row};
use uuid::Uuid;

const FIRST_NAMES: &str = include_str!("../assets/demo/first_names.txt");
const LAST_NAMES: &str = include_str!("../assets/demo/last_names.txt");
const COMPANIES: &str = include_str!("../assets/demo/companies.txt");

/// The console's page and search size (tui::request).
const PAGE: u32 = 200;
const SEARCH_P95_MS: f64 = 20.0;
const PAGE_P99_MS: f64 = 5.0;

fn main() {
    let mut numbers = std::env::args().skip(1).filter_map(|a| a.parse::<u64>().ok());
    let leads = numbers.next().unwrap_or(1_000_000);
    let runs = numbers.next().unwrap_or(200) as usize;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(leads, runs));
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Backend {
    Postgres,
    Sqlite,
}

#[derive(serde::Serialize)]
struct Line {
    backend: Backend,
    what: String,
    /// Leads the query returned, on average over its runs.
    rows: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    raw_p50_ms: f64,
    raw_p95_ms: f64,
    raw_p99_ms: f64,
    target: String,
    pass: bool,
    /// The load average when the line was measured.
    load: String,
    /// The three slowest coldcall runs: what they looked for, and ms.
    slowest: Vec<(String, f64)>,
}

fn lines_of(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// A small deterministic generator, so two runs search for the same terms.
struct Spread(u64);

impl Spread {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// The kinds of search the issue names, each a list of terms the runs take in turn.
fn search_kinds() -> Vec<(&'static str, Vec<String>)> {
    let first = lines_of(FIRST_NAMES);
    let last = lines_of(LAST_NAMES);
    let companies = lines_of(COMPANIES);
    let ascii = |s: &str| -> String { s.to_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect() };
    let company_words: Vec<String> = companies
        .iter()
        .flat_map(|c| c.split_whitespace())
        .map(ascii)
        .filter(|w| w.len() >= 6)
        .map(|w| w[..5].to_string())
        .collect();
    let mut spread = Spread(12);
    let phone: Vec<String> = (0..64).map(|_| format!("{:04}", spread.next() % 10_000)).collect();
    let email: Vec<String> = (0..64)
        .map(|i| {
            format!(
                "{}.{}",
                ascii(first[(i * 7) % first.len()]),
                ascii(last[(i * 11) % last.len()])
            )
        })
        .collect();
    let prefix: Vec<String> = first
        .iter()
        .chain(&last)
        .chain(&companies)
        .map(|w| ascii(w))
        .filter(|w| w.len() >= 3)
        .map(|w| w[..3].to_string())
        .collect();
    let nothing: Vec<String> = (0..64)
        .map(|_| {
            (0..7)
                .map(|_| char::from(b'a' + (spread.next() % 26) as u8))
                .collect::<String>()
                .replace(['a', 'e', 'i', 'o', 'u'], "q")
        })
        .collect();
    vec![
        ("search: a surname", last.iter().map(|s| s.to_string()).collect()),
        (
            "search: a common first name",
            first.iter().map(|s| s.to_string()).collect(),
        ),
        ("search: a company fragment (word prefix)", company_words),
        ("search: a 4-digit phone fragment", phone),
        ("search: an email fragment (first.last)", email),
        ("search: a 3-letter prefix", prefix),
        ("search: a word no lead has", nothing),
    ]
}

async fn run(leads: u64, runs: usize) {
    let keep = std::env::var("COLDCALL_BENCH_KEEP").is_ok_and(|v| !v.is_empty() && v != "0");
    let backends: Vec<Backend> = match std::env::var("COLDCALL_BENCH_BACKENDS").as_deref() {
        Ok("sqlite") => vec![Backend::Sqlite],
        Ok("postgres") => vec![Backend::Postgres],
        _ => vec![Backend::Postgres, Backend::Sqlite],
    };
    let load_start = load_average();
    let mut lines = Vec::new();
    for backend in backends {
        let mut db = Scratch::open(backend, leads, keep).await;
        lines.extend(measure(backend, &mut db, runs).await);
        db.finish(keep).await;
    }
    let load_end = load_average();
    print_table(&lines, &load_start, &load_end);
    let json = serde_json::json!({
        "leads": leads,
        "runs": runs,
        "load_average_start": load_start,
        "load_average_end": load_end,
        "lines": lines,
    });
    let path = std::env::var("COLDCALL_BENCH_JSON").unwrap_or_else(|_| "target/search-bench.json".into());
    match std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()) {
        Ok(()) => eprintln!("wrote {path}"),
        Err(e) => eprintln!("could not write {path}: {e}"),
    }
}

/// A seeded database: the store, and one plain connection for the raw statements.
struct Scratch {
    store: Store,
    raw: Raw,
    /// How to remove it: the PostgreSQL server's admin pool and the database's name, or the file.
    remove: Remove,
}

enum Raw {
    Postgres(sqlx::PgConnection),
    Sqlite(sqlx::SqliteConnection),
}

enum Remove {
    Postgres(sqlx::PgPool, String),
    Sqlite(std::path::PathBuf),
}

impl Scratch {
    async fn open(backend: Backend, leads: u64, keep: bool) -> Scratch {
        let suffix = if keep {
            leads.to_string()
        } else {
            format!("{leads}_{}", std::process::id())
        };
        let (url, remove) = match backend {
            Backend::Postgres => {
                let admin_url = std::env::var("COLDCALL_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
                let admin = sqlx::PgPool::connect(&admin_url)
                    .await
                    .expect("PostgreSQL must be reachable");
                let name = format!("coldcall_search_bench_{suffix}");
                let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                    .bind(&name)
                    .fetch_one(&admin)
                    .await
                    .unwrap();
                if !exists {
                    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                        .execute(&admin)
                        .await
                        .unwrap();
                }
                let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
                (url, Remove::Postgres(admin, name))
            }
            Backend::Sqlite => {
                let path = std::path::PathBuf::from(format!("target/search-bench-{suffix}.db"));
                (format!("sqlite://{}", path.display()), Remove::Sqlite(path))
            }
        };
        let store = Store::connect(&url, &ConnectOptions::default()).await.unwrap();
        store.migrate().await.unwrap();
        let mut raw = match backend {
            Backend::Postgres => Raw::Postgres(sqlx::PgConnection::connect(&url).await.unwrap()),
            Backend::Sqlite => Raw::Sqlite(sqlx::SqliteConnection::connect(&url).await.unwrap()),
        };
        let count = "SELECT count(*) FROM leads WHERE deleted_at IS NULL";
        let have: i64 = match &mut raw {
            Raw::Postgres(c) => sqlx::query_scalar(count).fetch_one(c).await.unwrap(),
            Raw::Sqlite(c) => sqlx::query_scalar(count).fetch_one(c).await.unwrap(),
        };
        let have = have as u64;
        if have < leads {
            let started = Instant::now();
            let seeded = coldcall::demo::seed(&store, leads - have).await.unwrap();
            eprintln!(
                "{backend:?}: seeded {} leads in {:.1} s",
                seeded.leads_added,
                started.elapsed().as_secs_f64()
            );
        } else {
            eprintln!("{backend:?}: reusing {have} leads");
        }
        if let Raw::Postgres(c) = &mut raw {
            // A database that has settled after its load, as autovacuum leaves it.
            sqlx::query("VACUUM ANALYZE").execute(c).await.unwrap();
        }
        Scratch { store, raw, remove }
    }

    async fn finish(self, keep: bool) {
        self.store.close().await;
        match self.raw {
            Raw::Postgres(c) => c.close().await.unwrap(),
            Raw::Sqlite(c) => c.close().await.unwrap(),
        }
        if keep {
            return;
        }
        match self.remove {
            Remove::Postgres(admin, name) => {
                sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
                    .execute(&admin)
                    .await
                    .unwrap();
            }
            Remove::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
        }
    }
}

#[derive(Default)]
struct Samples {
    coldcall: Vec<f64>,
    raw: Vec<f64>,
    rows: usize,
    /// What each coldcall run looked for (a term, a depth), beside its time.
    labels: Vec<String>,
}

fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut ms = samples.to_vec();
    if ms.is_empty() {
        return f64::NAN;
    }
    ms.sort_by(f64::total_cmp);
    ms[((p / 100.0) * (ms.len() - 1) as f64).round() as usize]
}

impl Samples {
    fn line(&self, backend: Backend, what: &str, target: String, pass: bool) -> Line {
        Line {
            backend,
            what: what.into(),
            rows: self.rows as f64 / self.coldcall.len().max(1) as f64,
            p50_ms: percentile(&self.coldcall, 50.0),
            p95_ms: percentile(&self.coldcall, 95.0),
            p99_ms: percentile(&self.coldcall, 99.0),
            raw_p50_ms: percentile(&self.raw, 50.0),
            raw_p95_ms: percentile(&self.raw, 95.0),
            raw_p99_ms: percentile(&self.raw, 99.0),
            target,
            pass,
            load: load_average(),
            slowest: {
                let mut runs: Vec<(String, f64)> =
                    self.labels.iter().cloned().zip(self.coldcall.iter().copied()).collect();
                runs.sort_by(|a, b| b.1.total_cmp(&a.1));
                runs.truncate(3);
                runs
            },
        }
    }
}

async fn measure(backend: Backend, db: &mut Scratch, runs: usize) -> Vec<Line> {
    let mut lines = Vec::new();
    let none = LeadFilter::default();
    for (what, terms) in search_kinds() {
        let mut samples = Samples::default();
        // A few untimed runs, so both sides start from the same warm caches.
        for term in terms.iter().take(8) {
            db.store.search_leads(term, &none, PAGE).await.unwrap();
            raw_search(&mut db.raw, term).await;
        }
        for i in 0..runs {
            let term = &terms[i % terms.len()];
            let t = Instant::now();
            let found = db.store.search_leads(term, &none, PAGE).await.unwrap();
            samples.coldcall.push(t.elapsed().as_secs_f64() * 1e3);
            samples.labels.push(term.clone());
            samples.rows += found.len();
            let t = Instant::now();
            let raw = raw_search(&mut db.raw, term).await;
            samples.raw.push(t.elapsed().as_secs_f64() * 1e3);
            let ids: Vec<Uuid> = found.iter().map(|l| l.id).collect();
            assert_eq!(
                ids, raw,
                "{backend:?} {what}: {term:?}: the raw statement found other leads"
            );
        }
        let p95 = percentile(&samples.coldcall, 95.0);
        lines.push(samples.line(
            backend,
            what,
            format!("p95 <= {SEARCH_P95_MS} ms"),
            p95 <= SEARCH_P95_MS,
        ));
        eprintln!(
            "{}  slowest: {:?}",
            row(lines.last().unwrap()),
            lines.last().unwrap().slowest
        );
    }

    for depth in [0u64, 5_000, 100_000, 500_000] {
        let cursors = cursors_at(&mut db.raw, depth, 16).await;
        if cursors.is_empty() {
            continue;
        }
        let mut samples = Samples::default();
        for cursor in &cursors {
            db.store.list_leads(&none, *cursor, PAGE).await.unwrap();
            raw_page(&mut db.raw, *cursor).await;
        }
        for i in 0..runs {
            let cursor = cursors[i % cursors.len()];
            let t = Instant::now();
            let page = db.store.list_leads(&none, cursor, PAGE).await.unwrap();
            samples.coldcall.push(t.elapsed().as_secs_f64() * 1e3);
            samples.labels.push(format!("cursor {}", i % cursors.len()));
            samples.rows += page.items.len();
            let t = Instant::now();
            let raw = raw_page(&mut db.raw, cursor).await;
            samples.raw.push(t.elapsed().as_secs_f64() * 1e3);
            let ids: Vec<Uuid> = page.items.iter().map(|l| l.id).collect();
            assert_eq!(ids[..], raw[..ids.len()], "{backend:?}: page at {depth}");
        }
        let what = if depth == 0 {
            "list: first page".to_string()
        } else {
            format!("list: a page {depth} rows deep")
        };
        let p99 = percentile(&samples.coldcall, 99.0);
        lines.push(samples.line(backend, &what, format!("p99 <= {PAGE_P99_MS} ms"), p99 <= PAGE_P99_MS));
        eprintln!(
            "{}  slowest: {:?}",
            row(lines.last().unwrap()),
            lines.last().unwrap().slowest
        );
    }
    lines
}

/// Cursors of the leads from `depth` on in list order (the first page has none).
async fn cursors_at(raw: &mut Raw, depth: u64, n: u64) -> Vec<Option<LeadCursor>> {
    if depth == 0 {
        return vec![None];
    }
    let sql = "SELECT priority_rank, lead_score, id FROM leads WHERE deleted_at IS NULL \
               ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $1 OFFSET $2";
    let rows: Vec<(i16, i16, Uuid)> = match raw {
        Raw::Postgres(c) => sqlx::query_as(sql).bind(n as i64).bind(depth as i64).fetch_all(c).await,
        Raw::Sqlite(c) => sqlx::query_as(sql).bind(n as i64).bind(depth as i64).fetch_all(c).await,
    }
    .unwrap();
    rows.into_iter()
        .map(|(priority_rank, lead_score, id)| {
            Some(LeadCursor {
                priority_rank,
                lead_score,
                id,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------- the raw statements
//
// The text each backend's store sends for an unfiltered search or page (store::postgres and
// store::sqlite, `search_leads` and `list_leads`), with the same parameters bound; the columns
// selected are the store's lead columns, read here without building a `Lead`.

const LEAD_COLUMNS: &str = "id, first_name, last_name, email, phone, company, title, timezone, status, priority, \
    lead_score, conversion_probability, source, notes, consent_given, consent_date, do_not_call, do_not_email, \
    call_attempts, last_call_at, next_call_at, data_quality, created_at, updated_at, updated_by, deleted_at";

const PG_FILTERS: &str = "deleted_at IS NULL \
    AND ($1::text IS NULL OR status = $1) \
    AND ($2::text IS NULL OR priority = $2) \
    AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM lead_assignments a WHERE a.lead_id = leads.id AND a.active \
         AND a.agent_id = $3 AND (a.expires_at IS NULL OR a.expires_at > $6))) \
    AND ($4::smallint IS NULL OR lead_score >= $4) \
    AND ($5::smallint IS NULL OR lead_score <= $5) \
    AND (NOT $7 OR EXISTS (SELECT 1 FROM callbacks c WHERE c.lead_id = leads.id AND c.done_at IS NULL AND c.due_at <= $6))";

const SQLITE_FILTERS: &str = "deleted_at IS NULL \
    AND ($1 IS NULL OR status = $1) \
    AND ($2 IS NULL OR priority = $2) \
    AND ($3 IS NULL OR EXISTS (SELECT 1 FROM lead_assignments a WHERE a.lead_id = leads.id AND a.active = 1 \
         AND a.agent_id = $3 AND (a.expires_at IS NULL OR a.expires_at > $6))) \
    AND ($4 IS NULL OR lead_score >= $4) \
    AND ($5 IS NULL OR lead_score <= $5) \
    AND (NOT $7 OR EXISTS (SELECT 1 FROM callbacks c WHERE c.lead_id = leads.id AND c.done_at IS NULL AND c.due_at <= $6))";

/// Binds the unfiltered filter parameters $1–$7.
macro_rules! no_filter {
    ($query:expr) => {
        $query
            .bind(None::<String>)
            .bind(None::<String>)
            .bind(None::<i64>)
            .bind(None::<i16>)
            .bind(None::<i16>)
            .bind(chrono::Utc::now())
            .bind(false)
    };
}

fn ids<R: Row>(rows: Vec<R>) -> Vec<Uuid>
where
    for<'r> Uuid: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    rows.iter()
        .map(|r| {
            debug_assert_eq!(r.columns()[0].name(), "id");
            r.get::<Uuid, usize>(0)
        })
        .collect()
}

async fn raw_search(raw: &mut Raw, text: &str) -> Vec<Uuid> {
    let terms = SearchTerms::parse(text);
    // The bench's terms have no pieces of unspaced scripts: that part of the statement is left out.
    assert!(terms.inner.is_empty());
    match raw {
        Raw::Postgres(conn) => {
            let tsquery = (!terms.words.is_empty()).then(|| {
                terms
                    .words
                    .iter()
                    .map(|w| format!("{w}:*"))
                    .collect::<Vec<_>>()
                    .join(" & ")
            });
            let fragment = terms.fragment.as_deref().map(like_contains);
            let matches = match (&tsquery, &fragment) {
                (Some(_), Some(_)) => "((search_doc @@ to_tsquery('simple', $8)) OR phone LIKE $9 OR email LIKE $9)",
                (Some(_), None) => "(search_doc @@ to_tsquery('simple', $8))",
                (None, Some(_)) => "(phone LIKE $9 OR email LIKE $9)",
                (None, None) => unreachable!(),
            };
            let leads: f32 = sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = 'leads'::regclass")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            let leads = f64::from(leads);
            let mut walk = false;
            for (part, present, share) in [
                ("search_doc @@ to_tsquery('simple', $8)", tsquery.is_some(), 0.01),
                ("(phone LIKE $9 OR email LIKE $9)", fragment.is_some(), 0.05),
            ] {
                if !present || walk {
                    continue;
                }
                let plan: Vec<String> = no_filter!(sqlx::query_scalar(&format!(
                    "EXPLAIN SELECT 1 FROM leads WHERE {PG_FILTERS} AND {part}"
                )))
                .bind(&tsquery)
                .bind(&fragment)
                .bind(&terms.inner)
                .fetch_all(&mut *conn)
                .await
                .unwrap();
                let line = &plan[0];
                let rows = &line[line.find(" rows=").unwrap() + 6..];
                let estimate: f64 = rows[..rows.find(' ').unwrap()].parse().unwrap();
                walk = estimate >= share * leads && 4.0 * estimate * estimate >= f64::from(PAGE) * leads;
            }
            let sql = if walk {
                format!(
                    "SELECT {LEAD_COLUMNS} FROM leads WHERE {PG_FILTERS} AND {matches} \
                     ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $11"
                )
            } else {
                format!(
                    "SELECT {LEAD_COLUMNS} FROM (SELECT {LEAD_COLUMNS}, priority_rank FROM leads \
                     WHERE {PG_FILTERS} AND {matches} OFFSET 0) leads ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $11"
                )
            };
            let rows = no_filter!(sqlx::query(&sql))
                .bind(&tsquery)
                .bind(&fragment)
                .bind(&terms.inner)
                .bind(i64::from(PAGE))
                .fetch_all(&mut *conn)
                .await
                .unwrap();
            ids(rows)
        }
        Raw::Sqlite(conn) => {
            let words = (!terms.words.is_empty()).then(|| {
                terms
                    .words
                    .iter()
                    .map(|w| format!("\"{w}\"*"))
                    .collect::<Vec<_>>()
                    .join(" AND ")
            });
            let fragment = terms
                .fragment
                .as_deref()
                .map(|f| format!("\"{}\"", f.replace('"', "\"\"")));
            let index_matches = match (&words, &fragment) {
                (Some(_), Some(_)) => {
                    "SELECT rowid, 0 FROM leads_fts WHERE leads_fts MATCH $1 \
                     UNION ALL SELECT rowid, 1 FROM leads_trgm WHERE leads_trgm MATCH $2"
                }
                (Some(_), None) => "SELECT rowid, 0 FROM leads_fts WHERE leads_fts MATCH $1",
                (None, Some(_)) => "SELECT rowid, 1 FROM leads_trgm WHERE leads_trgm MATCH $2",
                (None, None) => unreachable!(),
            };
            let mut tx = conn.begin().await.unwrap();
            let leads: i64 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM leads")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            let enough = ((f64::from(PAGE) * leads as f64 / 20.0).sqrt().ceil() as i64).max(1);
            let found: Vec<(i64, i64)> = sqlx::query_as(&format!("{index_matches} LIMIT $3"))
                .bind(&words)
                .bind(&fragment)
                .bind(enough)
                .fetch_all(&mut *tx)
                .await
                .unwrap();
            let collect = found.len() < enough as usize;
            let (word_set, fragment_set, word_bind, fragment_bind) = if collect {
                let side = |s: i64| {
                    let rowids: Vec<i64> = found.iter().filter(|f| f.1 == s).map(|f| f.0).collect();
                    serde_json::to_string(&rowids).unwrap()
                };
                (
                    "SELECT value FROM json_each($8)",
                    "SELECT value FROM json_each($9)",
                    Some(side(0)),
                    Some(side(1)),
                )
            } else {
                (
                    "SELECT rowid FROM leads_fts WHERE leads_fts MATCH $8",
                    "SELECT rowid FROM leads_trgm WHERE leads_trgm MATCH $9",
                    words.clone(),
                    fragment.clone(),
                )
            };
            let matches = match (&words, &fragment) {
                (Some(_), Some(_)) => format!("((seq IN ({word_set})) OR seq IN ({fragment_set}))"),
                (Some(_), None) => format!("(seq IN ({word_set}))"),
                _ => format!("seq IN ({fragment_set})"),
            };
            let access = if collect {
                "NOT INDEXED"
            } else {
                "INDEXED BY leads_list_idx"
            };
            let sql = format!(
                "SELECT {LEAD_COLUMNS} FROM leads {access} WHERE {SQLITE_FILTERS} AND {matches} \
                 ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $11"
            );
            let rows = no_filter!(sqlx::query(&sql))
                .bind(word_bind)
                .bind(fragment_bind)
                .bind(None::<String>)
                .bind(i64::from(PAGE))
                .fetch_all(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            ids(rows)
        }
    }
}

async fn raw_page(raw: &mut Raw, after: Option<LeadCursor>) -> Vec<Uuid> {
    let limit = i64::from(PAGE) + 1;
    match (raw, after) {
        (Raw::Postgres(conn), None) => {
            let sql = format!(
                "SELECT {LEAD_COLUMNS} FROM leads WHERE {PG_FILTERS} \
                 ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $8"
            );
            ids(no_filter!(sqlx::query(&sql)).bind(limit).fetch_all(conn).await.unwrap())
        }
        (Raw::Postgres(conn), Some(after)) => {
            let sql = format!(
                "SELECT {LEAD_COLUMNS} FROM leads WHERE {PG_FILTERS} \
                 AND (priority_rank, lead_score, id) < ($8::smallint, $9::smallint, $10::uuid) \
                 ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $11"
            );
            let query = no_filter!(sqlx::query(&sql))
                .bind(after.priority_rank)
                .bind(after.lead_score)
                .bind(after.id)
                .bind(limit);
            ids(query.fetch_all(conn).await.unwrap())
        }
        (Raw::Sqlite(conn), None) => {
            let sql = format!(
                "SELECT {LEAD_COLUMNS} FROM leads WHERE {SQLITE_FILTERS} \
                 ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $8"
            );
            ids(no_filter!(sqlx::query(&sql)).bind(limit).fetch_all(conn).await.unwrap())
        }
        (Raw::Sqlite(conn), Some(after)) => {
            let sql = format!(
                "SELECT {LEAD_COLUMNS} FROM leads WHERE {SQLITE_FILTERS} \
                 AND (priority_rank, lead_score, id) < ($8, $9, $10) \
                 ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $11"
            );
            let query = no_filter!(sqlx::query(&sql))
                .bind(after.priority_rank)
                .bind(after.lead_score)
                .bind(after.id)
                .bind(limit);
            ids(query.fetch_all(conn).await.unwrap())
        }
    }
}

// ---------------------------------------------------------------------- the table

fn row(l: &Line) -> String {
    let backend = match l.backend {
        Backend::Postgres => "PostgreSQL",
        Backend::Sqlite => "SQLite",
    };
    let (figure, raw) = if l.what.starts_with("list") {
        (l.p99_ms, l.raw_p99_ms)
    } else {
        (l.p95_ms, l.raw_p95_ms)
    };
    format!(
        "{backend:<11} {:<42} {:>6.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>6.2}  {:<16} {:<5} {}",
        l.what,
        l.rows,
        l.p50_ms,
        figure,
        l.raw_p50_ms,
        raw,
        if raw > 0.0 { figure / raw } else { f64::NAN },
        l.target,
        if l.pass { "PASS" } else { "FAIL" },
        l.load
    )
}

fn print_table(lines: &[Line], load_start: &str, load_end: &str) {
    println!();
    println!("(p95 for searches, p99 for pages; raw: the same SQL on one held connection; ratio = coldcall / raw)");
    println!(
        "{:<11} {:<42} {:>6} {:>8} {:>8} {:>8} {:>8} {:>6}  {:<16} {:<5} load",
        "backend", "what", "rows", "p50 ms", "p95/99", "raw p50", "raw p95", "ratio", "target", ""
    );
    for l in lines {
        println!("{}", row(l));
    }
    println!("load average at start: {load_start}; at end: {load_end}");
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
