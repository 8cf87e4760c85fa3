//! The live floor through one floor server: consoles, each one agent with its own session and
//! its own HTTP client (coldcall's own server client, `store::remote`, as the console uses it),
//! subscribed to the server's change stream and working leads over HTTP with think time, against
//! one `coldcall serve` (its default pool) and one PostgreSQL. Measures p50/p99 of every action,
//! how long a lock takes to reach every console, the database connections used beside the
//! server's pool, and the CPU of the server, of the database's backends and of this bench's own
//! client, at two console counts. Prints a table with PASS/FAIL beside each target and writes it
//! as JSON (target/floor-server-bench.json, or the path in COLDCALL_BENCH_JSON).
//!
//!     cargo bench --bench floor_server                 # 1,000 consoles (and 250), 60 s mix
//!     cargo bench --bench floor_server -- 200 20       # 200 consoles (and 50), 20 s mix
//!     cargo bench --bench floor_server -- 1000 60 100000   # the third number: leads seeded
//!
//! Each console count runs three phases against a fresh server:
//! 1. stream only: the consoles only listen while one agent takes 5 locks a second; what the
//!    floor's live updates cost the database and the server as consoles are added;
//! 2. the mix: every console works leads: presence, claim, open the lead (lead, contacts, call
//!    and status history), queue tab, think 1-3 s, start the call, active calls, talk 2-8 s,
//!    end it with an outcome (no answer, voicemail, not interested, wrong number: none brings
//!    the lead back within the run), wrap up 1-3 s, one cycle every 20 s (COLDCALL_BENCH_CYCLE_S);
//!    a search (a surname or a company word, 200 rows as the console asks) every 30 s
//!    (COLDCALL_BENCH_SEARCH_S); two pages of the lead list every 60 s; and the console's own
//!    timers (stale-lock reaping and callbacks every 10 s, active calls and the queue tab every
//!    30 s). COLDCALL_BENCH_LEAN=1 sends only claim, the lead, start, end, search and the list.
//!    Consoles listen during the mix but do not refresh on changes (phase 3 shows why);
//! 3. console refreshes (last, for the backlog it leaves): phase 1 again, with each console
//!    running coldcall's own console state (`tui::app::App`): every batch of changes and a
//!    tick a second go to it, and every request it asks for is run, one at a time, each kind
//!    timed apart. What a console re-reads on a change, and how often, is the console's code
//!    (see tui::app::live), not the bench's.
//!
//! Sessions are minted in the database as `coldcall login` would leave them (1,000 argon2id
//! logins would take the server's CPU for a minute). The bench's client shares the machine with
//! the server and PostgreSQL, so its own CPU is printed beside theirs; so is the load average.
//! Needs PostgreSQL (COLDCALL_TEST_POSTGRES_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres); a scratch database is created and dropped.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coldcall::domain::PresenceState;
use coldcall::server::auth;
use coldcall::store::remote::RemoteStore;
use coldcall::store::{ConnectOptions, EndCall, FeedCursor, LeadFilter, StartCall, Store, StoreError};
use futures::{FutureExt, StreamExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const LAST_NAMES: &str = include_str!("../assets/demo/last_names.txt");
const COMPANIES: &str = include_str!("../assets/demo/companies.txt");

/// The phases of one console count.
const LISTEN: u8 = 0;
const REACT: u8 = 1;
const MIX: u8 = 2;
const PHASES: [&str; 3] = ["stream only", "console refreshes", "mix"];
const REFRESH: &str = "console re-read (its own state: on changes and its tick)";
/// Between phases, for the last one's requests to drain.
const SETTLE: Duration = Duration::from_secs(3);

/// Phases 1 and 2: how long, and the locks a second the one driving agent takes.
const LISTEN_FOR: Duration = Duration::from_secs(15);
const REACT_FOR: Duration = Duration::from_secs(10);
const DRIVER_LOCKS_PER_S: f64 = 5.0;

/// Outcomes, with their share of calls; none brings the lead back within 30 minutes.
const OUTCOMES: &[(&str, f64)] = &[
    ("no_answer", 0.70),
    ("voicemail", 0.20),
    ("not_interested", 0.05),
    ("wrong_number", 0.05),
];

fn main() {
    let mut numbers = std::env::args().skip(1).filter_map(|a| a.parse::<u64>().ok());
    let consoles = numbers.next().unwrap_or(1000).max(1) as usize;
    let seconds = numbers.next().unwrap_or(60).max(5);
    let leads = numbers.next().unwrap_or(100_000);
    let fd_limit = raise_fd_limit();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(consoles, seconds, leads, fd_limit));
}

/// Raises this process's open-file limit to its hard limit (the server, started from here,
/// inherits it): each console holds its stream and a keep-alive connection or more, on both
/// ends of loopback.
fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
    let current = limit.rlim_cur as u64;
    current
}

/// What the mix offers, per console.
#[derive(Clone, Copy, serde::Serialize)]
struct Mix {
    cycle_s: f64,
    search_every_s: f64,
    list_every_s: f64,
    /// The console's own requests beside the actions (presence, the lead's histories, the
    /// queue tab, active calls, its timers).
    console_extras: bool,
}

impl Mix {
    fn from_env() -> Mix {
        let secs = |key: &str, default: f64| {
            std::env::var(key)
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| *v > 0.0)
                .unwrap_or(default)
        };
        Mix {
            cycle_s: secs("COLDCALL_BENCH_CYCLE_S", 20.0),
            search_every_s: secs("COLDCALL_BENCH_SEARCH_S", 30.0),
            list_every_s: 60.0,
            console_extras: std::env::var("COLDCALL_BENCH_LEAN").map_or(true, |v| v.is_empty() || v == "0"),
        }
    }

    fn describe(&self, consoles: usize) -> String {
        let n = consoles as f64;
        let mut text = format!(
            "{consoles} agents, one claim→call→outcome cycle every {:.0} s each ≈ {:.1} cycles/s, a search every {:.0} s each ≈ {:.1}/s, \
             two list pages every {:.0} s each ≈ {:.1} pages/s",
            self.cycle_s,
            n / self.cycle_s,
            self.search_every_s,
            n / self.search_every_s,
            self.list_every_s,
            2.0 * n / self.list_every_s,
        );
        if self.console_extras {
            text.push_str(&format!(
                "; with the console's own requests (3 presence updates, the lead's 4 reads 3 times, the queue tab twice \
                 and active calls twice a cycle; reaping and callbacks every 10 s, a refresh every 30 s) ≈ {:.0} requests/s in all",
                n * (22.0 / self.cycle_s + 1.0 / self.search_every_s + 2.0 / self.list_every_s + 0.2 + 2.0 / 30.0)
            ));
        } else {
            text.push_str(&format!(
                " (lean: claim, the lead, start, end) ≈ {:.0} requests/s in all",
                n * (4.0 / self.cycle_s + 1.0 / self.search_every_s + 2.0 / self.list_every_s)
            ));
        }
        text
    }
}

/// A small deterministic random source (xorshift*), one per task.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn secs(&mut self, lo: f64, hi: f64) -> Duration {
        Duration::from_secs_f64(lo + (hi - lo) * self.unit())
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }

    fn outcome(&mut self) -> &'static str {
        let mut x = self.unit();
        for (code, share) in OUTCOMES {
            if x < *share {
                return code;
            }
            x -= share;
        }
        OUTCOMES[0].0
    }
}

/// Milliseconds taken by each action.
type Latencies = HashMap<&'static str, Vec<f64>>;
/// Failures of each action: how many, and the first one's message.
type Failures = BTreeMap<&'static str, (u64, String)>;

/// Latencies of every action while a phase's window is open, and the failures.
#[derive(Default)]
struct Recorder {
    open: AtomicBool,
    ms: Mutex<Latencies>,
    failures: Mutex<Failures>,
}

impl Recorder {
    fn add<T>(&self, what: &'static str, started: Instant, result: &Result<T, StoreError>) {
        if !self.open.load(Ordering::Relaxed) {
            return;
        }
        let ms = started.elapsed().as_secs_f64() * 1e3;
        self.ms.lock().unwrap().entry(what).or_default().push(ms);
        if let Err(e) = result {
            let mut failures = self.failures.lock().unwrap();
            let entry = failures.entry(what).or_insert((0, e.to_string()));
            entry.0 += 1;
        }
    }

    async fn time<T>(
        &self,
        what: &'static str,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let result = work.await;
        self.add(what, started, &result);
        result
    }

    /// Takes what was recorded (and clears it for the next phase).
    fn take(&self) -> (Latencies, Failures) {
        (
            std::mem::take(&mut *self.ms.lock().unwrap()),
            std::mem::take(&mut *self.failures.lock().unwrap()),
        )
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// CPU seconds (user + system) of a process, from /proc, and its resident memory (KiB).
fn process_usage(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks: f64 = fields
        .get(11..13)
        .map_or(0.0, |f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum());
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0);
    (ticks / clock_ticks(), rss)
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf reads a constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The database's side, sampled twice a second from pg_stat_activity and /proc: the CPU of
/// every backend that served the scratch database (kept after a backend exits, so the sum only
/// grows), the most connections open to it at once, and the server's memory.
#[derive(Default)]
struct DbWatch {
    backend_cpu_s: HashMap<i32, f64>,
    max_connections: i64,
    /// Parallel workers and autovacuum on the database at once, most.
    max_other_backends: i64,
    max_server_rss_kib: u64,
}

impl DbWatch {
    fn cpu_s(&self) -> f64 {
        self.backend_cpu_s.values().sum()
    }
}

async fn sample_db(admin: &sqlx::PgPool, name: &str, server_pid: u32, watch: &Mutex<DbWatch>) {
    // Parallel query workers and autovacuum show under the database too: their CPU counts,
    // but only client backends are connections.
    let pids: Vec<(i32, bool)> =
        sqlx::query_as("SELECT pid, backend_type = 'client backend' FROM pg_stat_activity WHERE datname = $1")
            .bind(name)
            .fetch_all(admin)
            .await
            .unwrap_or_default();
    let mut w = watch.lock().unwrap();
    let clients = pids.iter().filter(|(_, client)| *client).count() as i64;
    w.max_connections = w.max_connections.max(clients);
    w.max_other_backends = w.max_other_backends.max(pids.len() as i64 - clients);
    for (pid, _) in pids {
        let (cpu, _) = process_usage(pid as u32);
        if cpu > 0.0 {
            w.backend_cpu_s.insert(pid, cpu);
        }
    }
    let rss = process_usage(server_pid).1;
    w.max_server_rss_kib = w.max_server_rss_kib.max(rss);
}

struct Server(Child);

impl Server {
    /// SIGTERM (the server finishes and flushes its log), then SIGKILL after 15 s.
    fn stop(mut self) {
        // SAFETY: kill only sends a signal to the child this bench started.
        unsafe {
            libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The causes of the server's "database error" log lines (what a 503 hides from the client).
fn server_errors(dir: &std::path::Path) -> BTreeMap<String, u64> {
    let mut causes = BTreeMap::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("coldcall.log"))
            {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for line in text.lines().filter(|l| l.contains("database error")) {
                    let cause = line
                        .split_once("error=")
                        .map_or(line, |(_, c)| c)
                        .trim_matches('"')
                        .chars()
                        .take(90)
                        .collect::<String>();
                    *causes.entry(cause).or_default() += 1;
                }
            }
        }
    }
    causes
}

/// What the whole bench shares.
struct Env {
    admin: sqlx::PgPool,
    name: String,
    url: String,
    /// (agent id, session token), one per console and the driving agent last.
    sessions: Vec<(i64, String)>,
    search_terms: Vec<String>,
    mix: Mix,
    pool_size: u32,
}

/// Every claim handed out in the bench: (lead, agent).
type Claims = Arc<Mutex<Vec<(Uuid, i64)>>>;

/// Locks whose arrival at the consoles is timed: lead → (phase, when start-call was sent).
type Locks = Arc<Mutex<HashMap<Uuid, (u8, Instant)>>>;

/// What every task of one console count shares.
struct Floor {
    phase: AtomicU8,
    /// Locks on leads whose id is divisible by this are timed at every console (so a run's
    /// arrivals stay a few hundred thousand).
    sample_every: AtomicU64,
    rec: Recorder,
    locks: Locks,
    claims: Claims,
    refused: Mutex<BTreeMap<String, u64>>,
    empty_claims: AtomicU64,
    reconnects: [AtomicU64; 3],
    /// Refreshes under way (phase 2 waits for them before the mix).
    refreshing: AtomicU64,
    /// Batches of changes that reached a console while consoles refresh: each asks for one.
    refreshes_asked: AtomicU64,
    /// Changes and batches that reached the consoles, by phase.
    delivered: [AtomicU64; 3],
    batches: [AtomicU64; 3],
}

impl Floor {
    fn sampled(&self, lead: Uuid) -> bool {
        lead.as_u128() % self.sample_every.load(Ordering::Relaxed).max(1) as u128 == 0
    }

    fn lock_sent(&self, lead: Uuid, at: Instant) {
        if self.sampled(lead) {
            self.locks
                .lock()
                .unwrap()
                .insert(lead, (self.phase.load(Ordering::Relaxed), at));
        }
    }

    fn refusal(&self, e: &StoreError) {
        let code = match e {
            StoreError::Refused(r) => r.code().to_string(),
            other => other.to_string(),
        };
        *self.refused.lock().unwrap().entry(code).or_default() += 1;
    }
}

/// One phase's figures.
#[derive(serde::Serialize)]
struct PhaseResult {
    #[serde(skip)]
    id: u8,
    phase: &'static str,
    seconds: f64,
    /// p50 and p99 (ms) and count of every action, by name.
    actions: BTreeMap<String, (f64, f64, usize)>,
    failures: BTreeMap<String, (u64, String)>,
    requests_per_s: f64,
    /// Refreshes the consoles' changes asked for, a second (phase 2).
    refreshes_asked_per_s: f64,
    /// A lock reaching each console (p50, p99 ms, samples), and the last console (p50, p99).
    feed_every: (f64, f64, usize),
    feed_last: (f64, f64, usize),
    /// Timed locks that did not reach every console.
    feed_missed: usize,
    db_cpu_pct: f64,
    server_cpu_pct: f64,
    client_cpu_pct: f64,
    max_db_connections: i64,
    max_other_backends: i64,
    /// Changes that reached consoles, summed over consoles, and the batches (stream reads)
    /// they came in, a second.
    changes_delivered_per_s: f64,
    batches_delivered_per_s: f64,
    load_average_end: String,
}

#[derive(serde::Serialize)]
struct RunResult {
    consoles: usize,
    subscribe_s: f64,
    phases: Vec<PhaseResult>,
    max_server_rss_mib: f64,
    client_rss_mib: f64,
    /// Streams that ended and were opened again from their cursor, by phase.
    reconnects: [u64; 3],
    empty_claims: u64,
    refused: BTreeMap<String, u64>,
    /// What the server's log says behind its 503s.
    server_errors: BTreeMap<String, u64>,
    load_average_start: String,
}

/// What one console's stream reader saw: timed locks' arrivals, and how many changes in all.
struct Seen {
    arrivals: Vec<(Uuid, Instant)>,
    changes: u64,
}

async fn run(consoles: usize, seconds: u64, leads: u64, fd_limit: u64) {
    let load_start = load_average();
    let mix = Mix::from_env();
    let needed = consoles as u64 * 8 + 256;
    if fd_limit < needed {
        eprintln!("warning: open-file limit {fd_limit} is below the {needed} this many consoles may need");
    }
    let admin_url = std::env::var("COLDCALL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .expect("PostgreSQL must be reachable");
    let name = format!("coldcall_floor_server_bench_{}", std::process::id());
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&admin)
        .await
        .unwrap();
    let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
    let max_connections: i64 =
        sqlx::query_scalar("SELECT setting::bigint FROM pg_settings WHERE name = 'max_connections'")
            .fetch_one(&admin)
            .await
            .unwrap();

    let store = Store::connect(&url, &ConnectOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    // Every zone inside calling hours, so the whole queue is callable whenever this runs.
    store.set_setting("calling_hours", "00:00-23:59").await.unwrap();
    let started = Instant::now();
    let seeded = coldcall::demo::seed(&store, leads).await.unwrap();
    eprintln!(
        "seeded {} leads in {:.1} s",
        seeded.leads_added,
        started.elapsed().as_secs_f64()
    );
    let db = sqlx::PgPool::connect(&url).await.unwrap();
    let agents: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO agents (name, role) SELECT 'console' || g, 'agent' FROM generate_series(1, $1) g RETURNING id",
    )
    .bind(consoles as i64 + 1)
    .fetch_all(&db)
    .await
    .unwrap();
    let mut sessions = Vec::new();
    for agent in &agents {
        let token = auth::new_token();
        store
            .create_session(
                &auth::secret_hash(&token),
                *agent,
                store.now() + chrono::Duration::hours(4),
                None,
            )
            .await
            .unwrap();
        sessions.push((*agent, token));
    }
    sqlx::query("VACUUM ANALYZE").execute(&db).await.unwrap();
    let first_agent = agents[0];
    let bench_start = store.now();
    store.close().await;
    db.close().await;

    let mut search_terms: Vec<String> = LAST_NAMES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    search_terms.extend(
        COMPANIES
            .lines()
            .flat_map(|l| l.split_whitespace().last())
            .filter(|w| w.len() >= 4)
            .map(str::to_string),
    );
    let env = Env {
        admin,
        name,
        url,
        sessions,
        search_terms,
        mix,
        pool_size: coldcall::server::config::ServerSettings::default().pool_size,
    };
    let claims: Claims = Arc::default();
    let counts: Vec<usize> = if consoles >= 8 {
        vec![consoles / 4, consoles]
    } else {
        vec![consoles]
    };
    let mut runs = Vec::new();
    for n in &counts {
        runs.push(run_floor(&env, *n, seconds, &claims).await);
    }

    // The checks: no lead handed to two agents, no lead with two calls active at once.
    let db = sqlx::PgPool::connect(&env.url).await.unwrap();
    let (handed_twice, claimed_again) = {
        let claims = claims.lock().unwrap();
        let mut agents_of: HashMap<Uuid, HashSet<i64>> = HashMap::new();
        let mut times: HashMap<Uuid, u32> = HashMap::new();
        for (lead, agent) in claims.iter() {
            agents_of.entry(*lead).or_default().insert(*agent);
            *times.entry(*lead).or_default() += 1;
        }
        (
            agents_of.values().filter(|a| a.len() > 1).count(),
            times.values().filter(|t| **t > 1).count(),
        )
    };
    let two_active: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT a.lead_id) FROM call_logs a JOIN call_logs b \
         ON b.lead_id = a.lead_id AND b.id <> a.id AND b.started_at >= a.started_at \
         AND b.started_at < COALESCE(a.ended_at, 'infinity') \
         WHERE a.agent_id >= $1 AND b.agent_id >= $1 AND a.started_at >= $2",
    )
    .bind(first_agent)
    .bind(bench_start)
    .fetch_one(&db)
    .await
    .unwrap();
    let calls_made: i64 = sqlx::query_scalar("SELECT count(*) FROM call_logs WHERE agent_id >= $1")
        .bind(first_agent)
        .fetch_one(&db)
        .await
        .unwrap();
    let still_active: i64 = sqlx::query_scalar("SELECT count(*) FROM active_calls WHERE agent_id >= $1")
        .bind(first_agent)
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    let claims_made = claims.lock().unwrap().len();

    let rows = table(
        &env,
        &runs,
        Checks {
            claims: claims_made,
            handed_twice,
            claimed_again,
            calls: calls_made,
            two_active,
            still_active,
        },
    );
    let load_end = load_average();
    println!();
    println!("{}", env.mix.describe(consoles));
    println!(
        "one `coldcall serve` (pool {}, release build) and PostgreSQL (max_connections {max_connections}) on loopback; \
         {leads} leads seeded; {seconds} s mix",
        env.pool_size
    );
    print_table(&rows, &runs);
    println!("load average at start: {load_start}; at end: {load_end}");
    let json = serde_json::json!({
        "consoles": consoles,
        "seconds": seconds,
        "leads": leads,
        "pool_size": env.pool_size,
        "postgres_max_connections": max_connections,
        "mix": env.mix,
        "offered": env.mix.describe(consoles),
        "load_average_start": load_start,
        "load_average_end": load_end,
        "runs": runs,
        "lines": rows,
    });
    let path = std::env::var("COLDCALL_BENCH_JSON").unwrap_or_else(|_| "target/floor-server-bench.json".into());
    if let Err(e) = std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()) {
        eprintln!("could not write {path}: {e}");
    } else {
        eprintln!("wrote {path}");
    }
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", env.name))
        .execute(&env.admin)
        .await;
}

/// One console count against a fresh server: the three phases.
async fn run_floor(env: &Env, n: usize, seconds: u64, claims: &Claims) -> RunResult {
    let load_average_start = load_average();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_coldcall"))
            .args([
                "--database",
                &env.url,
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env("COLDCALL_DATA_DIR", data_dir.path())
            .env_remove("COLDCALL_DATABASE_URL")
            .env_remove("COLDCALL_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("coldcall serve"),
    );
    let server_pid = server.0.id();
    let base = format!("http://127.0.0.1:{port}");
    let probe = reqwest::Client::new();
    let started = Instant::now();
    while probe.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Each console: its own client and session, as each agent's terminal is.
    let subscribing = Instant::now();
    let mut people: Vec<(i64, Store)> = futures::stream::iter(env.sessions[..n].iter().chain(env.sessions.last()))
        .map(|(agent, token)| {
            let base = base.clone();
            async move {
                let remote = RemoteStore::connect(&base, token, None)
                    .await
                    .expect("a minted session is accepted");
                (*agent, Store::on_server(remote))
            }
        })
        .buffered(32)
        .collect()
        .await;
    let (driver_id, driver) = people.pop().unwrap();
    let floor = Arc::new(Floor {
        phase: AtomicU8::new(LISTEN),
        sample_every: AtomicU64::new(1),
        rec: Recorder::default(),
        locks: Arc::default(),
        claims: claims.clone(),
        refused: Mutex::default(),
        empty_claims: AtomicU64::new(0),
        reconnects: Default::default(),
        refreshing: AtomicU64::new(0),
        refreshes_asked: AtomicU64::new(0),
        delivered: Default::default(),
        batches: Default::default(),
    });
    let stop_readers = CancellationToken::new();
    let head = driver.feed_head().await.unwrap();
    let (ready_tx, mut ready) = mpsc::unbounded_channel();
    let mut readers = Vec::new();
    let mut refreshers = Vec::new();
    for (agent, store) in &people {
        let (refresh, batches) = mpsc::unbounded_channel();
        readers.push(tokio::spawn(reader(
            store.clone(),
            head,
            floor.clone(),
            refresh,
            stop_readers.clone(),
            ready_tx.clone(),
        )));
        let agent = coldcall::store::Agent {
            id: *agent,
            name: format!("agent{agent}"),
            email: None,
            role: coldcall::domain::Role::Agent,
            active: true,
            created_at: chrono::Utc::now(),
        };
        refreshers.push(tokio::spawn(console(
            store.clone(),
            agent,
            floor.clone(),
            batches,
            stop_readers.clone(),
        )));
    }
    for _ in 0..n {
        ready.recv().await.unwrap();
    }
    let subscribe_s = subscribing.elapsed().as_secs_f64();
    eprintln!("{n} consoles subscribed in {subscribe_s:.1} s");

    let watch = Arc::new(Mutex::new(DbWatch::default()));
    let sampling = CancellationToken::new();
    let sampler = {
        let (admin, name, watch, sampling) = (env.admin.clone(), env.name.clone(), watch.clone(), sampling.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(500));
            while !sampling.is_cancelled() {
                every.tick().await;
                sample_db(&admin, &name, server_pid, &watch).await;
            }
        })
    };

    let mut phases = Vec::new();
    // The refreshes last: they leave the database with a backlog the mix must not inherit.
    for phase in [LISTEN, MIX, REACT] {
        floor.phase.store(phase, Ordering::Relaxed);
        let length = match phase {
            LISTEN => LISTEN_FOR,
            REACT => REACT_FOR,
            _ => Duration::from_secs(seconds),
        };
        let locks_expected = match phase {
            MIX => n as f64 / env.mix.cycle_s * length.as_secs_f64(),
            _ => DRIVER_LOCKS_PER_S * length.as_secs_f64(),
        };
        floor.sample_every.store(
            ((locks_expected * n as f64 / 300_000.0).ceil() as u64).max(1),
            Ordering::Relaxed,
        );
        sample_db(&env.admin, &env.name, server_pid, &watch).await;
        let db_before = {
            let mut w = watch.lock().unwrap();
            w.max_connections = 0;
            w.max_other_backends = 0;
            w.cpu_s()
        };
        let delivered_before = floor.delivered[phase as usize].load(Ordering::Relaxed);
        let batches_before = floor.batches[phase as usize].load(Ordering::Relaxed);
        let server_before = process_usage(server_pid).0;
        let client_before = process_usage(std::process::id()).0;
        let asked_before = floor.refreshes_asked.load(Ordering::Relaxed);
        let window = Instant::now();
        floor.rec.open.store(true, Ordering::Relaxed);
        let winding = if phase == MIX {
            let working = start_mix(env, &people, &floor);
            tokio::time::sleep(length).await;
            Some(working)
        } else {
            drive(&driver, driver_id, &floor, length).await;
            None
        };
        floor.rec.open.store(false, Ordering::Relaxed);
        let elapsed = window.elapsed().as_secs_f64();
        let asked = floor.refreshes_asked.load(Ordering::Relaxed) - asked_before;
        sample_db(&env.admin, &env.name, server_pid, &watch).await;
        let (db_after, max_db_connections, max_other_backends) = {
            let w = watch.lock().unwrap();
            (w.cpu_s(), w.max_connections, w.max_other_backends)
        };
        let delivered = floor.delivered[phase as usize].load(Ordering::Relaxed) - delivered_before;
        let batches = floor.batches[phase as usize].load(Ordering::Relaxed) - batches_before;
        let server_after = process_usage(server_pid).0;
        let client_after = process_usage(std::process::id()).0;
        let (ms, failures) = floor.rec.take();
        let requests: usize = ms.values().map(Vec::len).sum();
        let actions = ms
            .into_iter()
            .map(|(what, mut v)| {
                v.sort_by(f64::total_cmp);
                (what.to_string(), (percentile(&v, 0.5), percentile(&v, 0.99), v.len()))
            })
            .collect();
        phases.push(PhaseResult {
            id: phase,
            phase: PHASES[phase as usize],
            seconds: elapsed,
            actions,
            failures: failures.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            requests_per_s: requests as f64 / elapsed,
            refreshes_asked_per_s: asked as f64 / elapsed,
            feed_every: (f64::NAN, f64::NAN, 0),
            feed_last: (f64::NAN, f64::NAN, 0),
            feed_missed: 0,
            db_cpu_pct: 100.0 * (db_after - db_before) / elapsed,
            server_cpu_pct: 100.0 * (server_after - server_before) / elapsed,
            client_cpu_pct: 100.0 * (client_after - client_before) / elapsed,
            max_db_connections,
            max_other_backends,
            changes_delivered_per_s: delivered as f64 / elapsed,
            batches_delivered_per_s: batches as f64 / elapsed,
            load_average_end: load_average(),
        });
        eprintln!(
            "{n} consoles, {}: {elapsed:.1} s, {:.0} requests/s, database {:.0}% of a core, server {:.0}%, bench client {:.0}%, load {}",
            PHASES[phase as usize],
            requests as f64 / elapsed,
            100.0 * (db_after - db_before) / elapsed,
            100.0 * (server_after - server_before) / elapsed,
            100.0 * (client_after - client_before) / elapsed,
            load_average(),
        );
        // Calls under way are finished (a console never leaves its lock), outside the window.
        if let Some((stop, tasks)) = winding {
            stop.cancel();
            for task in tasks {
                let _ = task.await;
            }
        }
        // The refreshes still under way drain before the next phase.
        let draining = Instant::now();
        while floor.refreshing.load(Ordering::Relaxed) > 0 && draining.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(SETTLE).await;
    }
    sampling.cancel();
    let _ = sampler.await;
    phases.sort_by_key(|p| p.id);
    let stopped_at = Instant::now();
    stop_readers.cancel();
    let mut seen = Vec::new();
    for r in readers {
        seen.push(r.await.unwrap());
    }
    for r in refreshers {
        let _ = r.await;
    }

    // Every timed lock's arrival at each console, by phase.
    let locks = std::mem::take(&mut *floor.locks.lock().unwrap());
    let mut every: [Vec<f64>; 3] = Default::default();
    let mut per_lock: HashMap<Uuid, (usize, f64)> = HashMap::new();
    for s in &seen {
        for (lead, at) in &s.arrivals {
            if let Some((phase, sent)) = locks.get(lead) {
                let ms = at.saturating_duration_since(*sent).as_secs_f64() * 1e3;
                every[*phase as usize].push(ms);
                let entry = per_lock.entry(*lead).or_insert((0, 0.0));
                entry.0 += 1;
                entry.1 = entry.1.max(ms);
            }
        }
    }
    let changes: u64 = seen.iter().map(|s| s.changes).sum();
    for (phase, result) in phases.iter_mut().enumerate() {
        let mut last = Vec::new();
        let mut missed = 0;
        for (lead, (p, sent)) in &locks {
            if *p as usize != phase || stopped_at.duration_since(*sent) < Duration::from_secs(2) {
                continue;
            }
            match per_lock.get(lead) {
                Some((count, ms)) if *count >= n => last.push(*ms),
                _ => missed += 1,
            }
        }
        let v = &mut every[phase];
        v.sort_by(f64::total_cmp);
        last.sort_by(f64::total_cmp);
        result.feed_every = (percentile(v, 0.5), percentile(v, 0.99), v.len());
        result.feed_last = (percentile(&last, 0.5), percentile(&last, 0.99), last.len());
        result.feed_missed = missed;
    }
    eprintln!("{n} consoles received {changes} changes in all");
    let max_server_rss_mib = watch.lock().unwrap().max_server_rss_kib as f64 / 1024.0;
    let client_rss_mib = process_usage(std::process::id()).1 as f64 / 1024.0;
    drop(people);
    drop(driver);
    server.stop();
    let server_errors = server_errors(data_dir.path());
    let refused = std::mem::take(&mut *floor.refused.lock().unwrap());
    RunResult {
        consoles: n,
        subscribe_s,
        phases,
        max_server_rss_mib,
        client_rss_mib,
        reconnects: [0, 1, 2].map(|p| floor.reconnects[p].load(Ordering::Relaxed)),
        empty_claims: floor.empty_claims.load(Ordering::Relaxed),
        refused,
        server_errors,
        load_average_start,
    }
}

/// A console's change stream: notes when timed locks arrive, asks for a refresh when the
/// phase says consoles refresh, and opens the stream again from its cursor after a break.
async fn reader(
    store: Store,
    mut cursor: FeedCursor,
    floor: Arc<Floor>,
    refresh: mpsc::UnboundedSender<Vec<coldcall::store::Change>>,
    stop: CancellationToken,
    ready: mpsc::UnboundedSender<()>,
) -> Seen {
    let mut seen = Seen {
        arrivals: Vec::new(),
        changes: 0,
    };
    let mut opened = false;
    while !stop.is_cancelled() {
        let mut stream = match store.change_stream(cursor).await {
            Ok(Some(stream)) => stream,
            _ => {
                floor.reconnects[floor.phase.load(Ordering::Relaxed) as usize].fetch_add(1, Ordering::Relaxed);
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        if !opened {
            opened = true;
            let _ = ready.send(());
        }
        loop {
            tokio::select! {
                _ = stop.cancelled() => return seen,
                item = stream.next() => {
                    let Some(Ok(change)) = item else { break };
                    let at = Instant::now();
                    // What has already arrived is one batch, as the console reads it.
                    let mut batch = vec![change];
                    let mut broken = false;
                    while let Some(more) = stream.next().now_or_never() {
                        match more {
                            Some(Ok(change)) => batch.push(change),
                            _ => {
                                broken = true;
                                break;
                            }
                        }
                    }
                    for change in &batch {
                        seen.changes += 1;
                        cursor = change.cursor();
                        if change.kind == "active_call" && change.op == "insert" && floor.sampled(change.lead_id) {
                            seen.arrivals.push((change.lead_id, at));
                        }
                    }
                    let phase = floor.phase.load(Ordering::Relaxed);
                    floor.delivered[phase as usize].fetch_add(batch.len() as u64, Ordering::Relaxed);
                    floor.batches[phase as usize].fetch_add(1, Ordering::Relaxed);
                    if phase == REACT {
                        let _ = refresh.send(batch);
                    }
                    if broken {
                        break;
                    }
                }
            }
        }
        floor.reconnects[floor.phase.load(Ordering::Relaxed) as usize].fetch_add(1, Ordering::Relaxed);
    }
    seen
}

/// A console in phase 2: coldcall's own console state (`tui::app::App`) fed each batch of
/// changes as it arrives and its tick once a second, running every request it asks for and each
/// reply's follow-ups, one at a time (the console's event loop runs them beside each other).
/// What the console decides to re-read on a change, and how often, is the console's own code.
async fn console(
    store: Store,
    agent: coldcall::store::Agent,
    floor: Arc<Floor>,
    mut batches: mpsc::UnboundedReceiver<Vec<coldcall::store::Change>>,
    stop: CancellationToken,
) {
    use coldcall::tui::request::{Reply, Request};
    let mut app = coldcall::tui::app::App::new(
        agent,
        "bench".into(),
        "US".into(),
        coldcall::tui::keymap::Keymap::default(),
        chrono::Utc::now(),
    );
    let mut started = false;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        let batch = tokio::select! {
            _ = stop.cancelled() => return,
            batch = batches.recv() => match batch {
                Some(batch) => Some(batch),
                None => return,
            },
            _ = tick.tick() => None,
        };
        // The console lives in this phase only: what it would ask for outside it is not asked.
        if floor.phase.load(Ordering::Relaxed) != REACT {
            continue;
        }
        if !started {
            // Its opening requests (dispositions, policy, the first lists) are not re-reads.
            started = true;
            app.tick(chrono::Utc::now());
            let opening = app.start();
            run_console_requests(&store, &mut app, opening, None).await;
        }
        let mut requests = app.tick(chrono::Utc::now());
        if let Some(batch) = batch {
            requests.extend(app.on_reply(Reply::Changes(batch)));
        }
        requests.retain(|r| !matches!(r, Request::Hook { .. }));
        run_console_requests(&store, &mut app, requests, Some(&floor)).await;
    }
}

/// The name a console's re-read is timed under: "console: loading your queue".
fn console_what(what: &'static str) -> &'static str {
    static NAMES: Mutex<BTreeMap<&'static str, &'static str>> = Mutex::new(BTreeMap::new());
    NAMES
        .lock()
        .unwrap()
        .entry(what)
        .or_insert_with(|| Box::leak(format!("console: {what}").into_boxed_str()))
}

/// Runs a console's requests and what their replies ask for, timing each (when `floor` is
/// given) as one of the console's re-reads.
async fn run_console_requests(
    store: &Store,
    app: &mut coldcall::tui::app::App,
    mut requests: Vec<coldcall::tui::request::Request>,
    floor: Option<&Floor>,
) {
    use coldcall::tui::request::Reply;
    while let Some(request) = requests.pop() {
        let started = Instant::now();
        let request_what = request.what();
        if let Some(floor) = floor {
            floor.refreshes_asked.fetch_add(1, Ordering::Relaxed);
            floor.refreshing.fetch_add(1, Ordering::Relaxed);
        }
        let reply = request.run(store).await;
        if let Some(floor) = floor {
            floor.refreshing.fetch_sub(1, Ordering::Relaxed);
            let result = match &reply {
                Reply::Failed { message, .. } => Err(StoreError::Conflict(message.clone())),
                _ => Ok(()),
            };
            floor.rec.add(REFRESH, started, &result);
            floor.rec.add(console_what(request_what), started, &result);
        }
        requests.extend(app.on_reply(reply));
    }
}

/// Phases 1 and 2: one agent takes locks at a steady rate (claim, start, end at once).
async fn drive(store: &Store, agent: i64, floor: &Floor, length: Duration) {
    let deadline = Instant::now() + length;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / DRIVER_LOCKS_PER_S));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while Instant::now() < deadline {
        tick.tick().await;
        let claim = match floor.rec.time("driver: claim", store.claim_next(agent)).await {
            Ok(Some(claim)) => claim,
            Ok(None) => {
                floor.empty_claims.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            Err(_) => continue,
        };
        floor.claims.lock().unwrap().push((claim.lead.id, agent));
        floor.lock_sent(claim.lead.id, Instant::now());
        let started = store
            .start_call(&StartCall {
                lead_id: claim.lead.id,
                agent_id: agent,
                from_number: None,
            })
            .await;
        match started {
            Ok(call) => {
                let ended = store
                    .end_call(&EndCall {
                        call_id: call.call_id,
                        agent_id: agent,
                        disposition: "no_answer".into(),
                        duration_s: Some(0),
                        ..EndCall::default()
                    })
                    .await;
                if let Err(e) = ended {
                    floor.refusal(&e);
                }
            }
            Err(e) => floor.refusal(&e),
        }
    }
}

/// Sleeps, unless the run ends first (true then).
async fn pause(length: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        _ = stop.cancelled() => true,
        _ = tokio::time::sleep(length) => false,
    }
}

/// Runs `work` every `period`, the first time after `first`, until `stop`.
async fn every<F, Fut>(period: Duration, first: Duration, stop: CancellationToken, mut work: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    if pause(first, &stop).await {
        return;
    }
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => work().await,
        }
    }
}

/// Phase 3: every console starts working leads, until the token answered is cancelled.
fn start_mix(
    env: &Env,
    people: &[(i64, Store)],
    floor: &Arc<Floor>,
) -> (CancellationToken, Vec<tokio::task::JoinHandle<()>>) {
    let stop = CancellationToken::new();
    let mix = env.mix;
    let terms = Arc::new(env.search_terms.clone());
    let mut tasks = Vec::new();
    for (i, (agent, store)) in people.iter().enumerate() {
        let agent = *agent;
        let mut rng = Rng::new(agent as u64 * 7919 + i as u64);
        let cycle = Duration::from_secs_f64(mix.cycle_s);
        // The cycle: claim, call, outcome.
        {
            let (store, floor, stop) = (store.clone(), floor.clone(), stop.clone());
            let first = rng.secs(0.0, mix.cycle_s);
            let mut rng = Rng::new(rng.next());
            tasks.push(tokio::spawn(async move {
                if pause(first, &stop).await {
                    return;
                }
                let mut next = tokio::time::Instant::now();
                while !stop.is_cancelled() {
                    next += cycle;
                    work_one_lead(&store, agent, &floor, &mut rng, mix.console_extras).await;
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep_until(next) => {}
                    }
                }
            }));
        }
        // A search now and then.
        {
            let (store, floor, stop, terms) = (store.clone(), floor.clone(), stop.clone(), terms.clone());
            let first = rng.secs(0.0, mix.search_every_s);
            let rng = Arc::new(Mutex::new(Rng::new(rng.next())));
            tasks.push(tokio::spawn(every(
                Duration::from_secs_f64(mix.search_every_s),
                first,
                stop,
                move || {
                    let (store, floor, terms, rng) = (store.clone(), floor.clone(), terms.clone(), rng.clone());
                    async move {
                        let term = rng.lock().unwrap().pick(&terms).clone();
                        let _ = floor
                            .rec
                            .time("search", store.search_leads(&term, &LeadFilter::default(), 200))
                            .await;
                    }
                },
            )));
        }
        // Two pages of the lead list.
        {
            let (store, floor, stop) = (store.clone(), floor.clone(), stop.clone());
            let first = rng.secs(0.0, mix.list_every_s);
            tasks.push(tokio::spawn(every(
                Duration::from_secs_f64(mix.list_every_s),
                first,
                stop,
                move || {
                    let (store, floor) = (store.clone(), floor.clone());
                    async move {
                        let filter = LeadFilter::default();
                        let page = floor
                            .rec
                            .time("lead list, first page", store.list_leads(&filter, None, 200))
                            .await;
                        if let Ok(Some(next)) = page.map(|p| p.next) {
                            let _ = floor
                                .rec
                                .time("lead list, next page", store.list_leads(&filter, Some(next), 200))
                                .await;
                        }
                    }
                },
            )));
        }
        if !mix.console_extras {
            continue;
        }
        // The console's own timers (tui::app::tick): reaping and callbacks every 10 s, the
        // floor's calls and the queue tab every 30 s.
        {
            let (store, floor, stop) = (store.clone(), floor.clone(), stop.clone());
            let first = rng.secs(0.0, 10.0);
            tasks.push(tokio::spawn(every(Duration::from_secs(10), first, stop, move || {
                let (store, floor) = (store.clone(), floor.clone());
                async move {
                    let week = store.now() + chrono::Duration::days(7);
                    let _ = tokio::join!(
                        floor.rec.time("reap stale locks", store.reap_stale_locks(Some(agent))),
                        floor.rec.time("callbacks", store.due_callbacks(Some(agent), week)),
                    );
                }
            })));
        }
        {
            let (store, floor, stop) = (store.clone(), floor.clone(), stop.clone());
            let first = rng.secs(0.0, 30.0);
            tasks.push(tokio::spawn(every(Duration::from_secs(30), first, stop, move || {
                let (store, floor) = (store.clone(), floor.clone());
                async move {
                    let _ = tokio::join!(
                        floor.rec.time("active calls", store.active_calls()),
                        floor.rec.time("queue tab", store.queue_preview(agent, 200)),
                    );
                }
            })));
        }
    }
    (stop, tasks)
}

/// The lead's detail as the console loads it (tui::request::detail): the lead, then its
/// contacts, calls and status history side by side.
async fn open_lead(store: &Store, lead: Uuid) -> Result<(), StoreError> {
    store.lead(lead).await?;
    tokio::try_join!(
        store.contacts(lead),
        store.call_history(lead),
        store.status_history(lead)
    )?;
    Ok(())
}

/// One claim→call→outcome cycle, with the requests coldcall's console sends along the way.
async fn work_one_lead(store: &Store, agent: i64, floor: &Floor, rng: &mut Rng, extras: bool) {
    let rec = &floor.rec;
    if extras {
        let _ = rec
            .time("presence", store.set_presence(agent, PresenceState::Ready, None))
            .await;
    }
    let claim = match rec.time("claim", store.claim_next(agent)).await {
        Ok(Some(claim)) => claim,
        Ok(None) => {
            floor.empty_claims.fetch_add(1, Ordering::Relaxed);
            return;
        }
        Err(_) => return,
    };
    let lead = claim.lead.id;
    floor.claims.lock().unwrap().push((lead, agent));
    if extras {
        let _ = tokio::join!(
            rec.time("open lead (4 reads)", open_lead(store, lead)),
            rec.time("queue tab", store.queue_preview(agent, 200)),
        );
    } else {
        let _ = rec.time("read lead", store.lead(lead)).await;
    }
    tokio::time::sleep(rng.secs(1.0, 3.0)).await;
    let sent = Instant::now();
    floor.lock_sent(lead, sent);
    let started = store
        .start_call(&StartCall {
            lead_id: lead,
            agent_id: agent,
            from_number: None,
        })
        .await;
    rec.add("start call", sent, &started);
    let call = match started {
        Ok(call) => call,
        Err(e) => {
            floor.refusal(&e);
            return;
        }
    };
    if extras {
        let _ = tokio::join!(
            rec.time("presence", store.set_presence(agent, PresenceState::OnCall, None)),
            rec.time("active calls", store.active_calls()),
            rec.time("open lead (4 reads)", open_lead(store, lead)),
        );
    }
    let talk = rng.secs(2.0, 8.0);
    tokio::time::sleep(talk).await;
    let ended = rec
        .time(
            "end call",
            store.end_call(&EndCall {
                call_id: call.call_id,
                agent_id: agent,
                disposition: rng.outcome().into(),
                duration_s: Some(talk.as_secs() as i32),
                ..EndCall::default()
            }),
        )
        .await;
    if let Err(e) = ended {
        floor.refusal(&e);
    }
    if extras {
        let _ = tokio::join!(
            rec.time("presence", store.set_presence(agent, PresenceState::WrapUp, None)),
            rec.time("active calls", store.active_calls()),
            rec.time("open lead (4 reads)", open_lead(store, lead)),
            rec.time("queue tab", store.queue_preview(agent, 200)),
        );
    }
    tokio::time::sleep(rng.secs(1.0, 3.0)).await;
}

struct Checks {
    claims: usize,
    handed_twice: usize,
    claimed_again: usize,
    calls: i64,
    two_active: i64,
    still_active: i64,
}

/// One line of the table: a figure for each console count, the target, and the verdict.
#[derive(serde::Serialize)]
struct Row {
    what: String,
    values: Vec<String>,
    target: String,
    pass: Option<bool>,
}

fn row(what: impl Into<String>, values: Vec<String>) -> Row {
    Row {
        what: what.into(),
        values,
        target: String::new(),
        pass: None,
    }
}

impl Row {
    fn target(mut self, target: &str, pass: bool) -> Row {
        self.target = target.into();
        self.pass = Some(pass);
        self
    }
}

fn ms_pair(p: (f64, f64, usize)) -> String {
    if p.2 == 0 {
        "-".into()
    } else {
        format!("{:.1} / {:.1}", p.0, p.1)
    }
}

/// Where a figure is flat: the larger count's within a quarter (or one point of a core) of
/// the smaller's.
fn flat(small: f64, large: f64) -> bool {
    large <= small * 1.25 + 1.0
}

fn table(env: &Env, runs: &[RunResult], checks: Checks) -> Vec<Row> {
    let mut rows = Vec::new();
    let last = runs.len() - 1;
    let all = |f: &dyn Fn(&RunResult) -> String| runs.iter().map(f).collect::<Vec<_>>();
    rows.push(row(
        "consoles subscribed in",
        all(&|r| format!("{:.1} s", r.subscribe_s)),
    ));
    for (p, label) in [(0usize, "stream only, 5 locks/s"), (1, "console refreshes, 5 locks/s")] {
        let feed = |r: &RunResult| r.phases[p].feed_every;
        let p99 = feed(&runs[last]).1;
        rows.push(
            row(
                format!("{label}: lock → every console p50 / p99 ms"),
                all(&|r| ms_pair(feed(r))),
            )
            .target("p99 <= 100 ms", p99 <= 100.0),
        );
        rows.push(row(
            format!("{label}: lock → last console p50 / p99 ms"),
            all(&|r| ms_pair(r.phases[p].feed_last)),
        ));
        if p == 1 {
            let done = |r: &RunResult| {
                let a = r.phases[p]
                    .actions
                    .get(REFRESH)
                    .copied()
                    .unwrap_or((f64::NAN, f64::NAN, 0));
                (a, a.2 as f64 / r.phases[p].seconds, r.phases[p].refreshes_asked_per_s)
            };
            let (_, done_last, asked_last) = done(&runs[last]);
            rows.push(
                row(
                    format!("{label}: refreshes asked / done a second"),
                    all(&|r| {
                        let (_, d, a) = done(r);
                        format!("{a:.0} / {d:.0}")
                    }),
                )
                .target("all done", done_last >= 0.9 * asked_last),
            );
            rows.push(row(
                format!("{label}: refresh p50 / p99 ms"),
                all(&|r| ms_pair(done(r).0)),
            ));
            for name in runs[last].phases[p]
                .actions
                .keys()
                .filter(|n| n.starts_with("console: "))
            {
                rows.push(row(
                    format!("{label}: {name} p50 / p99 ms (count)"),
                    all(&|r| {
                        let a = r.phases[p].actions.get(name).copied().unwrap_or((0.0, 0.0, 0));
                        format!("{} ({})", ms_pair(a), a.2)
                    }),
                ));
            }
        }
        // Where the consoles asked for more refreshes than were done, what the database would
        // need to keep up (its CPU scaled by asked / done) is what must stay flat.
        let needed = |r: &RunResult| {
            let ph = &r.phases[p];
            let done = ph.actions.get(REFRESH).map_or(0, |a| a.2) as f64 / ph.seconds;
            let short = if p == 1 && done > 0.0 {
                (ph.refreshes_asked_per_s / done).max(1.0)
            } else {
                1.0
            };
            ph.db_cpu_pct * short
        };
        // A saturated database is flat at its ceiling: refreshes must also all be done.
        let kept_up = |r: &RunResult| {
            let ph = &r.phases[p];
            p != 1 || ph.actions.get(REFRESH).map_or(0, |a| a.2) as f64 / ph.seconds >= 0.9 * ph.refreshes_asked_per_s
        };
        let is_flat = flat(needed(&runs[0]), needed(&runs[last])) && runs.iter().all(kept_up);
        let db_row = row(
            if p == 1 {
                format!("{label}: database CPU, % of a core (to keep up)")
            } else {
                format!("{label}: database CPU, % of a core")
            },
            all(&|r| {
                if p == 1 {
                    format!("{:.0} ({:.0})", r.phases[p].db_cpu_pct, needed(r))
                } else {
                    format!("{:.1}", r.phases[p].db_cpu_pct)
                }
            }),
        );
        rows.push(if runs.len() > 1 {
            db_row.target("flat as consoles are added", is_flat)
        } else {
            db_row
        });
        rows.push(row(
            format!("{label}: server / bench client CPU, % of a core"),
            all(&|r| format!("{:.1} / {:.1}", r.phases[p].server_cpu_pct, r.phases[p].client_cpu_pct)),
        ));
        if p == 0 {
            rows.push(row(
                format!("{label}: changes / batches delivered a second, all consoles"),
                all(&|r| {
                    let ph = &r.phases[p];
                    format!("{:.0} / {:.0}", ph.changes_delivered_per_s, ph.batches_delivered_per_s)
                }),
            ));
        }
    }
    // The mix.
    let m = 2usize;
    let mut names: Vec<&String> = runs[last].phases[m].actions.keys().collect();
    let order = [
        "presence",
        "claim",
        "read lead",
        "open lead (4 reads)",
        "queue tab",
        "start call",
        "active calls",
        "end call",
        "search",
        "lead list, first page",
        "lead list, next page",
        "reap stale locks",
        "callbacks",
    ];
    names.sort_by_key(|n| order.iter().position(|o| o == n).unwrap_or(order.len()));
    for name in names {
        let p99 = runs[last].phases[m].actions[name].1;
        rows.push(
            row(
                format!("mix: {name} p50 / p99 ms"),
                all(&|r| ms_pair(r.phases[m].actions.get(name).copied().unwrap_or((0.0, 0.0, 0)))),
            )
            .target("p99 <= 100 ms", p99 <= 100.0),
        );
    }
    let feed = runs[last].phases[m].feed_every;
    rows.push(
        row(
            "mix: lock → every console p50 / p99 ms",
            all(&|r| ms_pair(r.phases[m].feed_every)),
        )
        .target("p99 <= 100 ms", feed.1 <= 100.0),
    );
    rows.push(row(
        "mix: lock → last console p50 / p99 ms",
        all(&|r| ms_pair(r.phases[m].feed_last)),
    ));
    rows.push(row(
        "mix: timed locks not seen by every console",
        all(&|r| r.phases[m].feed_missed.to_string()),
    ));
    rows.push(row(
        "mix: requests/s answered; failed",
        all(&|r| {
            let failed: u64 = r.phases[m].failures.values().map(|f| f.0).sum();
            format!("{:.0}; {failed}", r.phases[m].requests_per_s)
        }),
    ));
    let connections = runs
        .iter()
        .flat_map(|r| r.phases.iter().map(|p| p.max_db_connections))
        .max()
        .unwrap_or(0);
    rows.push(
        row(
            format!("database connections (most at once), server pool {}", env.pool_size),
            all(&|r| {
                r.phases
                    .iter()
                    .map(|p| p.max_db_connections)
                    .max()
                    .unwrap_or(0)
                    .to_string()
            }),
        )
        .target("<= the server's pool", connections <= env.pool_size as i64),
    );
    rows.push(row(
        "mix: changes / batches delivered a second, all consoles",
        all(&|r| {
            let ph = &r.phases[m];
            format!("{:.0} / {:.0}", ph.changes_delivered_per_s, ph.batches_delivered_per_s)
        }),
    ));
    // What one more console costs: the server's and the client's CPU per batch delivered,
    // from the difference between the two counts in the stream-only phase.
    if runs.len() > 1 {
        let (a, b) = (&runs[0].phases[0], &runs[last].phases[0]);
        let per = |cpu: f64, cpu0: f64| {
            let batches = b.batches_delivered_per_s - a.batches_delivered_per_s;
            if batches > 0.0 {
                format!("{:.1}", 1e4 * (cpu - cpu0) / batches)
            } else {
                "-".into()
            }
        };
        rows.push(row(
            "stream only: server / client CPU per batch per console, µs",
            vec![format!(
                "{} / {}",
                per(b.server_cpu_pct, a.server_cpu_pct),
                per(b.client_cpu_pct, a.client_cpu_pct)
            )],
        ));
    }
    rows.push(row(
        "parallel workers and autovacuum on the database, most at once",
        all(&|r| {
            r.phases
                .iter()
                .map(|p| p.max_other_backends)
                .max()
                .unwrap_or(0)
                .to_string()
        }),
    ));
    rows.push(row(
        "mix: database / server / bench client CPU, % of a core",
        all(&|r| {
            let p = &r.phases[m];
            format!(
                "{:.0} / {:.0} / {:.0}",
                p.db_cpu_pct, p.server_cpu_pct, p.client_cpu_pct
            )
        }),
    ));
    rows.push(row(
        "server resident memory, most; bench client",
        all(&|r| format!("{:.0} MiB; {:.0} MiB", r.max_server_rss_mib, r.client_rss_mib)),
    ));
    rows.push(row(
        "streams reopened (by phase); claims finding no lead",
        all(&|r| {
            let [a, b, c] = r.reconnects;
            format!("{a}/{b}/{c}; {}", r.empty_claims)
        }),
    ));
    rows.push(row(
        "start/end refused",
        all(&|r| {
            if r.refused.is_empty() {
                "0".into()
            } else {
                r.refused
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        }),
    ));
    rows.push(row(
        "load average (1, 5, 15 min) at the end of the mix",
        all(&|r| r.phases[m].load_average_end.clone()),
    ));
    let whole = |text: String| vec![text];
    rows.push(
        row(
            format!("leads handed to two agents (of {} claims)", checks.claims),
            whole(checks.handed_twice.to_string()),
        )
        .target("0", checks.handed_twice == 0),
    );
    rows.push(row(
        "leads claimed more than once",
        whole(checks.claimed_again.to_string()),
    ));
    rows.push(
        row(
            format!("leads with two active calls (of {} calls)", checks.calls),
            whole(checks.two_active.to_string()),
        )
        .target("0", checks.two_active == 0),
    );
    rows.push(row(
        "calls still active at the end",
        whole(checks.still_active.to_string()),
    ));
    rows
}

fn print_table(rows: &[Row], runs: &[RunResult]) {
    println!();
    let mut header = format!("{:<62}", "what");
    for r in runs {
        header.push_str(&format!(" {:>22}", format!("{} consoles", r.consoles)));
    }
    println!("{header}  {:<26} verdict", "target");
    for row in rows {
        let mut line = format!("{:<62}", row.what);
        for v in &row.values {
            line.push_str(&format!(" {v:>22}"));
        }
        for _ in row.values.len()..runs.len() {
            line.push_str(&format!(" {:>22}", ""));
        }
        let verdict = match row.pass {
            Some(true) => "PASS",
            Some(false) => "FAIL",
            None => "",
        };
        println!("{line}  {:<26} {verdict}", row.target);
    }
    for r in runs {
        for (cause, count) in &r.server_errors {
            println!(
                "{} consoles: the server logged {count} × database error: {cause}",
                r.consoles
            );
        }
        for p in &r.phases {
            for (what, (count, first)) in &p.failures {
                println!(
                    "{} consoles, {}: {count} × {what} failed, e.g. {first}",
                    r.consoles, p.phase
                );
            }
        }
    }
}
