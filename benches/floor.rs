//! The floor at scale on PostgreSQL: claim-next, start and end call, measured through coldcall
//! and, in the same run, the raw database doing the same work (pgbench `-M prepared` running the
//! claim's statements at the same concurrency). Prints a table with PASS/FAIL beside each target
//! and writes it as JSON (target/floor-bench.json, or the path in COLDCALL_BENCH_JSON).
//!
//!     cargo bench --bench floor                 # 100k-lead queue, 20 s per claim run
//!     cargo bench --bench floor -- 20000 6      # a 20k-lead queue, 6 s runs (a quick look)
//!
//! Needs a PostgreSQL server: COLDCALL_TEST_POSTGRES_URL (default
//! postgres://postgres@127.0.0.1:5432/postgres) and `pgbench` on the PATH; a scratch database
//! is created and dropped. Run it on a quiet machine: the figures are the machine's as much as
//! coldcall's, so the load average at start and end is printed with them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coldcall::store::{ConnectOptions, EndCall, StartCall, Store};
use uuid::Uuid;

/// Agents in the pool: each claim in a run is made by an agent who has not claimed before, so
/// claims pile up through the run as they do through a day, and a lead seen twice is a lead
/// handed out twice.
const AGENTS: i64 = 200_000;

fn main() {
    let mut numbers = std::env::args().skip(1).filter_map(|a| a.parse::<u64>().ok());
    let leads = numbers.next().unwrap_or(100_000);
    let seconds = numbers.next().unwrap_or(20);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(leads, seconds));
}

#[derive(serde::Serialize)]
struct Line {
    what: String,
    coldcall: f64,
    raw: Option<f64>,
    unit: &'static str,
    target: String,
    pass: Option<bool>,
}

impl Line {
    fn new(what: impl Into<String>, coldcall: f64, unit: &'static str) -> Line {
        Line {
            what: what.into(),
            coldcall,
            raw: None,
            unit,
            target: String::new(),
            pass: None,
        }
    }

    fn raw(mut self, raw: Option<f64>) -> Line {
        self.raw = raw;
        self
    }

    fn target(mut self, target: &str, pass: bool) -> Line {
        self.target = target.into();
        self.pass = Some(pass);
        self
    }
}

async fn run(leads: u64, seconds: u64) {
    let load_start = load_average();
    let admin_url = std::env::var("COLDCALL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .expect("PostgreSQL must be reachable");
    let name = format!("coldcall_floor_bench_{}", std::process::id());
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&admin)
        .await
        .unwrap();
    let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
    let options = ConnectOptions {
        max_connections: 64,
        ..ConnectOptions::default()
    };
    let store = Store::connect(&url, &options).await.unwrap();
    store.migrate().await.unwrap();
    // Every zone inside calling hours, so the whole queue is callable whenever this runs.
    store.set_setting("calling_hours", "00:00-23:59").await.unwrap();

    let started = Instant::now();
    let seeded = coldcall::demo::seed(&store, leads).await.unwrap();
    let seed_s = started.elapsed().as_secs_f64();
    eprintln!("seeded {} leads in {seed_s:.1} s", seeded.leads_added);
    let db = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!(
        "INSERT INTO agents (name, role) SELECT 'bench' || g, 'agent' FROM generate_series(1, {AGENTS}) g"
    ))
    .execute(&db)
    .await
    .unwrap();
    sqlx::query("VACUUM ANALYZE").execute(&db).await.unwrap();
    let first_agent: i64 = sqlx::query_scalar("SELECT min(id) FROM agents WHERE name LIKE 'bench%'")
        .fetch_one(&db)
        .await
        .unwrap();
    let next_agent = Arc::new(AtomicI64::new(first_agent));

    let mut lines = vec![Line::new(format!("db seed --leads {leads}"), seed_s, "s")];
    let run_for = Duration::from_secs(seconds);
    let mut store = store;
    for agents in [1usize, 16, 64] {
        let claims = claim_run(&store, agents, run_for, &next_agent).await;
        release_claims(&db).await;
        // pgbench needs its own connections: coldcall's pool gives its back meanwhile.
        store.close().await;
        let raw = pgbench_claims(&url, agents, seconds.min(10), first_agent).await;
        store = Store::connect(&url, &options).await.unwrap();
        release_claims(&db).await;
        let (first, last) = claims.first_last(run_for);
        let per_s = claims.count() as f64 / run_for.as_secs_f64();
        let throughput = Line::new(format!("claim next, {agents} agents: claims/s"), per_s, "/s").raw(raw);
        lines.push(if agents == 64 {
            throughput.target(">= 1000/s", per_s >= 1000.0)
        } else {
            throughput
        });
        lines.push(Line::new(
            format!("  {agents} agents: first 5 s, claims/s"),
            first,
            "/s",
        ));
        lines.push(
            Line::new(format!("  {agents} agents: last 5 s, claims/s"), last, "/s")
                .target(">= 90% of first 5 s", last >= 0.9 * first),
        );
        lines.push(Line::new(
            format!("  {agents} agents: p50"),
            claims.percentile(50.0),
            "ms",
        ));
        lines.push(Line::new(
            format!("  {agents} agents: p99"),
            claims.percentile(99.0),
            "ms",
        ));
        let twice = claims.handed_out_twice() as f64;
        lines
            .push(Line::new(format!("  {agents} agents: leads handed out twice"), twice, "").target("0", twice == 0.0));
    }

    // 500 agents each claiming about once every ten seconds: 50 claims a second offered.
    let offered = offered_claims(&store, 500, 50.0, run_for, &next_agent).await;
    release_claims(&db).await;
    let p99 = offered.percentile(99.0);
    lines.push(Line::new(
        "500 agents offered 50 claims/s: p50",
        offered.percentile(50.0),
        "ms",
    ));
    lines.push(Line::new("500 agents offered 50 claims/s: p99", p99, "ms").target("<= 50 ms", p99 <= 50.0));
    let twice = offered.handed_out_twice() as f64;
    lines.push(Line::new("  500 agents: leads handed out twice", twice, "").target("0", twice == 0.0));

    // 64 agents working leads: claim, start the call, end it (no answer: back in 30 minutes).
    // Unthrottled, the 64 agents are a closed loop with no time to read a lead or talk: the
    // floor's ceiling, where by Little's law latency is 64 / throughput. Paced, each agent
    // works one lead a second (64 calls a second, far more than 64 people dial), which is the
    // latency an agent feels.
    for (label, pace) in [
        ("unthrottled", None),
        ("paced 1 call/s each", Some(Duration::from_secs(1))),
    ] {
        let calls = call_run(&store, 64, run_for, pace, &next_agent).await;
        release_claims(&db).await;
        let two_active: i64 = calls.overlaps;
        for (what, samples) in [("start call", &calls.starts), ("end call", &calls.ends)] {
            let p99 = samples.percentile(99.0);
            lines.push(Line::new(
                format!("{what}, 64 agents {label}: p50"),
                samples.percentile(50.0),
                "ms",
            ));
            let line = Line::new(format!("{what}, 64 agents {label}: p99"), p99, "ms");
            lines.push(if pace.is_some() {
                line.target("<= 10 ms", p99 <= 10.0)
            } else {
                line
            });
        }
        lines.push(Line::new(
            format!("  {label}: calls/s through claim, start and end"),
            calls.per_s,
            "/s",
        ));
        lines.push(
            Line::new(
                format!("  {label}: leads that had two active calls"),
                two_active as f64,
                "",
            )
            .target("0", two_active == 0),
        );
    }

    let load_end = load_average();
    print_table(&lines, &load_start, &load_end);
    let json = serde_json::json!({
        "leads": leads,
        "seconds": seconds,
        "load_average_start": load_start,
        "load_average_end": load_end,
        "lines": lines,
    });
    let path = std::env::var("COLDCALL_BENCH_JSON").unwrap_or_else(|_| "target/floor-bench.json".into());
    if let Err(e) = std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()) {
        eprintln!("could not write {path}: {e}");
    } else {
        eprintln!("wrote {path}");
    }

    store.close().await;
    db.close().await;
    sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
}

/// Claims timed from the start of a run: (seconds since start, latency in ms, lead).
#[derive(Default)]
struct Samples(Vec<(f64, f64, Option<Uuid>)>);

impl Samples {
    fn count(&self) -> usize {
        self.0.len()
    }

    fn percentile(&self, p: f64) -> f64 {
        let mut ms: Vec<f64> = self.0.iter().map(|s| s.1).collect();
        if ms.is_empty() {
            return f64::NAN;
        }
        ms.sort_by(f64::total_cmp);
        ms[((p / 100.0) * (ms.len() - 1) as f64).round() as usize]
    }

    /// Claims a second in the first and the last five seconds of the run.
    fn first_last(&self, run: Duration) -> (f64, f64) {
        let end = run.as_secs_f64();
        let first = self.0.iter().filter(|s| s.0 < 5.0).count() as f64 / 5.0;
        let last = self.0.iter().filter(|s| s.0 >= end - 5.0).count() as f64 / 5.0;
        (first, last)
    }

    fn handed_out_twice(&self) -> usize {
        let mut seen: HashMap<Uuid, u32> = HashMap::new();
        for lead in self.0.iter().filter_map(|s| s.2) {
            *seen.entry(lead).or_default() += 1;
        }
        seen.values().filter(|n| **n > 1).count()
    }
}

async fn claim_run(store: &Store, agents: usize, run: Duration, next_agent: &Arc<AtomicI64>) -> Samples {
    let start = Instant::now();
    let tasks: Vec<_> = (0..agents)
        .map(|_| {
            let (store, next_agent) = (store.clone(), next_agent.clone());
            tokio::spawn(async move {
                let mut samples = Vec::new();
                while start.elapsed() < run {
                    let agent = next_agent.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    let claim = store.claim_next(agent).await.expect("claim");
                    samples.push((
                        start.elapsed().as_secs_f64(),
                        t.elapsed().as_secs_f64() * 1e3,
                        claim.map(|c| c.lead.id),
                    ));
                }
                samples
            })
        })
        .collect();
    let mut all = Samples::default();
    for task in tasks {
        all.0.extend(task.await.unwrap());
    }
    all
}

async fn offered_claims(
    store: &Store,
    agents: usize,
    per_second: f64,
    run: Duration,
    next_agent: &Arc<AtomicI64>,
) -> Samples {
    let start = Instant::now();
    let every = Duration::from_secs_f64(agents as f64 / per_second);
    let tasks: Vec<_> = (0..agents)
        .map(|i| {
            let (store, next_agent) = (store.clone(), next_agent.clone());
            tokio::spawn(async move {
                // Agents spread evenly over the interval, as a floor's are.
                tokio::time::sleep(every.mul_f64(i as f64 / agents as f64)).await;
                let mut samples = Vec::new();
                let mut tick = tokio::time::interval(every);
                while start.elapsed() < run {
                    tick.tick().await;
                    let agent = next_agent.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    let claim = store.claim_next(agent).await.expect("claim");
                    samples.push((
                        start.elapsed().as_secs_f64(),
                        t.elapsed().as_secs_f64() * 1e3,
                        claim.map(|c| c.lead.id),
                    ));
                }
                samples
            })
        })
        .collect();
    let mut all = Samples::default();
    for task in tasks {
        all.0.extend(task.await.unwrap());
    }
    all
}

struct CallRun {
    starts: Samples,
    ends: Samples,
    per_s: f64,
    overlaps: i64,
}

async fn call_run(
    store: &Store,
    agents: usize,
    run: Duration,
    pace: Option<Duration>,
    next_agent: &Arc<AtomicI64>,
) -> CallRun {
    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    // (lead, start, end) of every call, to find two calls active on one lead at once.
    let spans: Arc<Mutex<Vec<(Uuid, f64, f64)>>> = Arc::default();
    let tasks: Vec<_> = (0..agents)
        .map(|i| {
            let (store, next_agent, stop, spans) = (store.clone(), next_agent.clone(), stop.clone(), spans.clone());
            tokio::spawn(async move {
                let agent = next_agent.fetch_add(1, Ordering::Relaxed);
                let (mut starts, mut ends) = (Vec::new(), Vec::new());
                let mut tick = pace.map(|every| {
                    // Agents spread evenly over the interval, as a floor's are.
                    tokio::time::interval_at(
                        tokio::time::Instant::now() + every.mul_f64(i as f64 / agents as f64),
                        every,
                    )
                });
                while start.elapsed() < run && !stop.load(Ordering::Relaxed) {
                    if let Some(tick) = tick.as_mut() {
                        tick.tick().await;
                    }
                    let Some(claim) = store.claim_next(agent).await.expect("claim") else {
                        break;
                    };
                    let t = Instant::now();
                    let began = start.elapsed().as_secs_f64();
                    let call = store
                        .start_call(&StartCall {
                            lead_id: claim.lead.id,
                            agent_id: agent,
                            from_number: None,
                        })
                        .await
                        .expect("a claimed lead can be called");
                    starts.push((began, t.elapsed().as_secs_f64() * 1e3, None));
                    let t = Instant::now();
                    store
                        .end_call(&EndCall {
                            call_id: call.call_id,
                            agent_id: agent,
                            disposition: "no_answer".into(),
                            duration_s: Some(0),
                            ..EndCall::default()
                        })
                        .await
                        .expect("end call");
                    let ended = start.elapsed().as_secs_f64();
                    ends.push((ended, t.elapsed().as_secs_f64() * 1e3, None));
                    spans.lock().unwrap().push((claim.lead.id, began, ended));
                }
                (starts, ends)
            })
        })
        .collect();
    let (mut starts, mut ends) = (Samples::default(), Samples::default());
    for task in tasks {
        let (s, e) = task.await.unwrap();
        starts.0.extend(s);
        ends.0.extend(e);
    }
    let mut spans = spans.lock().unwrap().clone();
    spans.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let overlaps = spans.windows(2).filter(|w| w[0].0 == w[1].0 && w[1].1 < w[0].2).count() as i64;
    CallRun {
        per_s: ends.count() as f64 / run.as_secs_f64(),
        starts,
        ends,
        overlaps,
    }
}

/// Ends every live claim, so each run starts from the whole queue.
async fn release_claims(db: &sqlx::PgPool) {
    sqlx::query("UPDATE lead_assignments SET active = FALSE WHERE active")
        .execute(db)
        .await
        .unwrap();
}

/// The claim's statements as coldcall sends them (see store::postgres's QUEUE and the claim
/// flow), with the floor's settings as literals, run by pgbench at the same concurrency.
async fn pgbench_claims(url: &str, clients: usize, seconds: u64, first_agent: i64) -> Option<f64> {
    let zones: Vec<String> = {
        let db = sqlx::PgPool::connect(url).await.ok()?;
        let zones = sqlx::query_scalar("SELECT DISTINCT timezone FROM leads WHERE timezone IS NOT NULL")
            .fetch_all(&db)
            .await
            .ok()?;
        db.close().await;
        zones
    };
    let zones = format!(
        "ARRAY[{}]::text[]",
        zones.iter().map(|z| format!("'{z}'")).collect::<Vec<_>>().join(",")
    );
    let queue = format!(
        "FROM lead_queue q WHERE q.state = 1 AND NOT (q.lead_id = ANY('{{}}'::uuid[])) \
         AND (q.next_call_at IS NULL OR q.next_call_at <= now()) \
         AND (q.last_call_at IS NULL OR q.last_call_at <= now() - interval '300 seconds') \
         AND q.call_attempts < 6 \
         AND (q.timezone = ANY({zones}) OR (q.timezone IS NULL AND TRUE)) \
         AND NOT EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = q.lead_id) \
         AND NOT EXISTS (SELECT 1 FROM lead_assignments a WHERE a.lead_id = q.lead_id AND a.active \
                         AND a.agent_id <> :agent AND (a.expires_at IS NULL OR a.expires_at > now())) \
         AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.lead_id = q.lead_id AND c.done_at IS NULL \
                         AND c.agent_id <> :agent AND c.due_at > now() - interval '900 seconds') \
         AND NOT EXISTS (SELECT 1 FROM dnc_numbers d WHERE d.number = q.phone) \
         ORDER BY q.priority_rank DESC, q.lead_score DESC, q.lead_id"
    );
    let script = format!(
        "\\set agent random({first_agent}, {})\n\
         BEGIN;\n\
         SELECT key, value FROM settings;\n\
         SELECT id FROM leads WHERE deleted_at IS NULL AND id IN (SELECT lead_id FROM callbacks WHERE agent_id = :agent \
           AND done_at IS NULL AND due_at <= now()) LIMIT 8 FOR UPDATE SKIP LOCKED;\n\
         UPDATE lead_queue SET state = 1 WHERE lead_id IN (SELECT lead_id FROM lead_queue WHERE state = 0 \
           AND due_hint <= now() ORDER BY due_hint LIMIT 256 FOR UPDATE SKIP LOCKED);\n\
         SELECT qid AS lead FROM (SELECT * FROM (SELECT q.lead_id AS qid, q.priority_rank AS qr, q.lead_score AS qs \
           {queue} LIMIT 1 FOR UPDATE OF q SKIP LOCKED) r) pick JOIN leads ON leads.id = pick.qid \
           ORDER BY qr DESC, qs DESC, qid LIMIT 1 \\gset\n\
         SELECT l.id, l.status, (SELECT c.id FROM call_logs c WHERE c.lead_id = l.id ORDER BY c.started_at DESC LIMIT 1), \
           (SELECT agent_id FROM lead_assignments la WHERE la.lead_id = l.id AND la.active), \
           EXISTS (SELECT 1 FROM dnc_numbers d WHERE d.number = l.phone), \
           (SELECT ac.agent_id FROM active_calls ac WHERE ac.lead_id = l.id) \
           FROM leads l WHERE l.id = :lead FOR UPDATE OF l SKIP LOCKED;\n\
         UPDATE lead_assignments SET active = FALSE WHERE active AND lead_id = :lead AND agent_id <> :agent;\n\
         UPDATE lead_assignments SET active = FALSE WHERE active AND agent_id = :agent AND assigned_by = :agent \
           AND lead_id <> :lead;\n\
         INSERT INTO lead_assignments (id, lead_id, agent_id, assigned_by, assigned_at, expires_at, active) \
           VALUES (gen_random_uuid(), :lead, :agent, :agent, now(), now() + interval '900 seconds', TRUE) \
           ON CONFLICT (lead_id) WHERE active DO UPDATE SET expires_at = EXCLUDED.expires_at;\n\
         COMMIT;\n",
        first_agent + AGENTS - 1
    );
    let path = std::env::temp_dir().join(format!("coldcall-claim-{}.sql", std::process::id()));
    std::fs::write(&path, script).ok()?;
    let threads = clients.min(2).to_string();
    let output = tokio::process::Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-c", &clients.to_string(), "-j", &threads, "-T"])
        .arg(seconds.to_string())
        .arg("-f")
        .arg(&path)
        .arg(url)
        .output()
        .await
        .ok()?;
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&output.stdout);
    let tps = text
        .lines()
        .find(|l| l.starts_with("tps"))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok());
    if tps.is_none() {
        eprintln!("pgbench failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    tps
}

fn print_table(lines: &[Line], load_start: &str, load_end: &str) {
    println!();
    println!(
        "{:<52} {:>12} {:>12} {:>7}  {:<22} verdict",
        "what", "coldcall", "raw db", "ratio", "target"
    );
    for l in lines {
        let raw = l.raw.map(|r| format!("{r:.1}{}", l.unit)).unwrap_or_default();
        let ratio = l
            .raw
            .filter(|r| *r > 0.0)
            .map(|r| format!("{:.2}", l.coldcall / r))
            .unwrap_or_default();
        let verdict = match l.pass {
            Some(true) => "PASS",
            Some(false) => "FAIL",
            None => "",
        };
        println!(
            "{:<52} {:>12} {:>12} {:>7}  {:<22} {}",
            l.what,
            format!("{:.1}{}", l.coldcall, l.unit),
            raw,
            ratio,
            l.target,
            verdict
        );
    }
    println!("load average at start: {load_start}; at end: {load_end}");
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
