//! Consoles subscribed to one floor server's change feed (server-sent events) while locks are
//! taken: how long a lock change takes to reach the last console, the database connections the
//! server holds, and the server process's CPU and memory. The consoles poll nothing themselves.
//! Prints numbers; asserts nothing.
//!
//!     cargo bench --bench server_feed              # 500 consoles, 20 locks
//!     cargo bench --bench server_feed -- 100 10    # 100 consoles, 10 locks
//!
//! Runs the real `coldcall serve` on loopback over a scratch PostgreSQL database
//! (COLDCALL_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres).

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use coldcall::server::auth;
use coldcall::store::{ConnectOptions, NewAgent, Store};
use futures::StreamExt;
use tokio::sync::mpsc;

fn main() {
    let mut numbers = std::env::args().skip(1).filter_map(|a| a.parse::<usize>().ok());
    let consoles = numbers.next().unwrap_or(500);
    let locks = numbers.next().unwrap_or(20);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(consoles, locks));
}

/// CPU seconds (user + system) and resident memory (KiB) of a process, from /proc.
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
    (ticks / 100.0, rss)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn run(consoles: usize, locks: usize) {
    let admin_url = std::env::var("COLDCALL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .expect("PostgreSQL must be reachable");
    let name = format!("coldcall_server_feed_bench_{}", std::process::id());
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&admin)
        .await
        .unwrap();
    let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);

    let store = Store::connect(&url, &ConnectOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    let agent = store
        .add_agent(&NewAgent {
            name: "caller".into(),
            email: None,
            role: coldcall::domain::Role::Agent,
        })
        .await
        .unwrap();
    let mut leads = Vec::new();
    for n in 0..locks {
        let fields = coldcall::domain::LeadInput {
            first_name: format!("Lead{n}"),
            last_name: "Bench".into(),
            phone: format!("+1212555{:04}", n),
            company: format!("Company {n}"),
            timezone: "UTC".into(),
            ..Default::default()
        }
        .validate("US")
        .unwrap();
        leads.push(store.create_lead(&fields, None).await.unwrap());
    }
    // Calling hours and the gap must not refuse the bench's calls.
    store.set_setting("calling_hours", "00:00-23:59").await.unwrap();
    let mut tokens = Vec::new();
    // One more session: the agent who takes the locks, through the server as a console would.
    for _ in 0..=consoles {
        let token = auth::new_token();
        store
            .create_session(
                &auth::secret_hash(&token),
                agent.id,
                store.now() + chrono::Duration::hours(2),
                None,
            )
            .await
            .unwrap();
        tokens.push(token);
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pool_size = 8;
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_coldcall"))
            .args(["--database", &url, "serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--pool-size", &pool_size.to_string()])
            .env("COLDCALL_DATA_DIR", data_dir.path())
            .env_remove("COLDCALL_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("coldcall serve"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The consoles: each reports the first time it sees a change naming each lead.
    let (seen_tx, mut seen) = mpsc::unbounded_channel::<(usize, String, Instant)>();
    let (ready_tx, mut ready) = mpsc::unbounded_channel::<()>();
    let ids: Vec<String> = leads.iter().map(|l| l.id.to_string()).collect();
    let caller = tokens.pop().unwrap();
    // From here on every connection to the database is the server's.
    store.close().await;
    for (console, token) in tokens.into_iter().enumerate() {
        let (client, base, ids, seen_tx, ready_tx) = (
            client.clone(),
            base.clone(),
            ids.clone(),
            seen_tx.clone(),
            ready_tx.clone(),
        );
        tokio::spawn(async move {
            let response = client
                .get(format!("{base}/api/v1/changes"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("subscribe");
            let _ = ready_tx.send(());
            let mut body = response.bytes_stream();
            let mut reported = HashSet::new();
            let mut text = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                text.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = text.find('\n') {
                    let line: String = text.drain(..=end).collect();
                    for id in ids.iter().filter(|id| line.contains(id.as_str())) {
                        if reported.insert(id.clone()) {
                            let _ = seen_tx.send((console, id.clone(), Instant::now()));
                        }
                    }
                }
            }
        });
    }
    for _ in 0..consoles {
        ready.recv().await.unwrap();
    }
    println!(
        "{consoles} consoles subscribed to one server (pool {pool_size}) in {:?}",
        started.elapsed()
    );

    let pid = server.0.id();
    let connections = || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1")
            .bind(&name)
            .fetch_one(&admin)
            .await
            .unwrap();
        n
    };
    let (cpu_before, _) = process_usage(pid);
    let window = Instant::now();
    let (mut to_last, mut to_each) = (Vec::new(), Vec::new());
    let mut max_connections = 0;
    let mut max_rss = 0;
    for lead in &leads {
        let at = Instant::now();
        let response = client
            .post(format!("{base}/api/v1/leads/{}/start-call", lead.id))
            .bearer_auth(&caller)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "start call: {}",
            response.text().await.unwrap_or_default()
        );
        let id = lead.id.to_string();
        let mut reached = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut last = at;
        while reached < consoles {
            match tokio::time::timeout_at(deadline, seen.recv()).await {
                Ok(Some((_, seen_id, when))) if seen_id == id => {
                    reached += 1;
                    to_each.push((when - at).as_secs_f64() * 1000.0);
                    last = last.max(when);
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        if reached < consoles {
            println!(
                "lock on {}: only {reached} of {consoles} consoles within 10 s",
                lead.first_name
            );
        }
        to_last.push((last - at).as_secs_f64() * 1000.0);
        max_connections = max_connections.max(connections().await);
        max_rss = max_rss.max(process_usage(pid).1);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (cpu_after, _) = process_usage(pid);
    let elapsed = window.elapsed().as_secs_f64();
    to_last.sort_by(f64::total_cmp);
    to_each.sort_by(f64::total_cmp);
    println!(
        "lock change → console: p50 {:.1} ms, p99 {:.1} ms over every console; to the last console p50 {:.1} ms, p99 {:.1} ms ({locks} locks)",
        percentile(&to_each, 0.5),
        percentile(&to_each, 0.99),
        percentile(&to_last, 0.5),
        percentile(&to_last, 0.99),
    );
    println!(
        "database connections to this database (all the server's): at most {max_connections}, for a pool of {pool_size}"
    );
    println!(
        "server process: {:.1}% of one core over {elapsed:.1} s, resident memory at most {:.1} MiB",
        100.0 * (cpu_after - cpu_before) / elapsed,
        max_rss as f64 / 1024.0
    );
    drop(server);
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&admin)
        .await;
}
