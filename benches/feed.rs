//! The change feed on PostgreSQL with a floor of agents polling: poll latency and the database
//! CPU all the polls cost, while a writer keeps changing leads. Prints numbers; asserts nothing.
//!
//!     cargo bench --bench feed                 # 200 agents polling once a second for 20 s
//!     cargo bench --bench feed -- 50 10        # 50 agents for 10 s
//!
//! Needs a PostgreSQL server: COLDCALL_TEST_POSTGRES_URL (default
//! postgres://postgres@127.0.0.1:5432/postgres); a scratch database is created and dropped.
//! Database CPU is read from /proc for every `postgres` process, so run it on a quiet server.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coldcall::domain::LeadStatus;
use coldcall::store::{ConnectOptions, Store};

fn main() {
    let mut numbers = std::env::args().skip(1).filter_map(|a| a.parse::<u64>().ok());
    let agents = numbers.next().unwrap_or(200);
    let seconds = numbers.next().unwrap_or(20);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(agents, seconds));
}

async fn run(agents: u64, seconds: u64) {
    let admin_url = std::env::var("COLDCALL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .expect("PostgreSQL must be reachable");
    let name = format!("coldcall_feed_bench_{}", std::process::id());
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&admin)
        .await
        .unwrap();
    let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);

    let options = ConnectOptions {
        max_connections: 16,
        ..ConnectOptions::default()
    };
    let store = Store::connect(&url, &options).await.unwrap();
    store.migrate().await.unwrap();
    let mut leads = Vec::new();
    for i in 0..200 {
        let fields = coldcall::demo::demo_lead(i).expect("valid demo lead");
        leads.push(store.create_lead(&fields, None).await.unwrap().id);
    }

    // One writer changing a lead's status twenty times a second: a busy floor's worth of feed.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            let mut written = 0u64;
            let statuses = [LeadStatus::Contacted, LeadStatus::Qualified];
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let lead = leads[written as usize % leads.len()];
                let status = statuses[written as usize % 2];
                let _ = store.set_status(lead, status, Some("bench"), None).await;
                written += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            written
        })
    };

    // The writer alone first: what the database spends without anyone polling.
    let cpu_before = postgres_cpu_seconds();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let baseline = postgres_cpu_seconds() - cpu_before;

    let cpu_before = postgres_cpu_seconds();
    let wall = Instant::now();
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let pollers: Vec<_> = (0..agents)
        .map(|agent| {
            let (store, latencies) = (store.clone(), latencies.clone());
            tokio::spawn(async move {
                // Consoles start at different moments; spread the polls over the second.
                tokio::time::sleep(Duration::from_millis(agent * 1000 / agents.max(1))).await;
                let mut cursor = store.feed_head().await.unwrap();
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                let mut seen = 0usize;
                for _ in 0..seconds {
                    tick.tick().await;
                    let started = Instant::now();
                    let page = store.changes_since(cursor, 500).await.unwrap();
                    latencies.lock().unwrap().push(started.elapsed());
                    if let Some(last) = page.last() {
                        cursor = last.cursor();
                    }
                    seen += page.len();
                }
                seen
            })
        })
        .collect();
    let mut seen = Vec::new();
    for poller in pollers {
        seen.push(poller.await.unwrap());
    }
    let elapsed = wall.elapsed().as_secs_f64();
    let cpu = postgres_cpu_seconds() - cpu_before;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.unwrap();

    let mut times = latencies.lock().unwrap().clone();
    times.sort();
    let p = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)].as_secs_f64() * 1000.0;
    println!("{agents} agents polling once a second for {seconds} s; {written} status changes written meanwhile");
    println!(
        "poll: p50 {:.3} ms, p95 {:.3} ms, p99 {:.3} ms, max {:.3} ms, n={}",
        p(0.5),
        p(0.95),
        p(0.99),
        p(1.0),
        times.len()
    );
    println!(
        "changes seen per agent: min {}, max {}",
        seen.iter().min().unwrap_or(&0),
        seen.iter().max().unwrap_or(&0)
    );
    println!(
        "database CPU: {:.1}% of one core with the pollers, {:.1}% with the writer alone; the polls cost {:.1}%",
        cpu / elapsed * 100.0,
        baseline / seconds as f64 * 100.0,
        (cpu - baseline * elapsed / seconds as f64) / elapsed * 100.0
    );

    store.close().await;
    sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
}

/// User plus system CPU seconds of every process named `postgres` on this machine.
fn postgres_cpu_seconds() -> f64 {
    let ticks_per_second = 100.0; // USER_HZ, 100 on Linux
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    let mut ticks = 0u64;
    for entry in entries.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid … utime(14) stime(15): split after the closing parenthesis.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        if !head.ends_with("(postgres") {
            continue;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| fields.get(n).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        ticks += field(11) + field(12);
    }
    ticks as f64 / ticks_per_second
}
