//! Backup, verify and restore speed on a demo floor, both ways between SQLite and PostgreSQL.
//! Prints numbers; asserts nothing.
//!
//!     cargo bench --bench backup                # 100,000 leads
//!     cargo bench --bench backup -- 20000       # another size
//!
//! PostgreSQL is reached through COLDCALL_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres);
//! a database is created for the run and dropped after it. The floor is loaded with plain
//! multi-row INSERTs (loading is not what is measured): leads, one call for every other lead,
//! and the status log and search index the triggers write.

mod support;

use std::time::{Duration, Instant};

use coldcall::backup::Manifest;
use coldcall::store::{ConnectOptions, NewAgent, Store};
use futures::TryStreamExt;

fn main() {
    let leads: u64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(100_000);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(leads));
}

async fn run(count: u64) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("floor.db").display());
    let sqlite = Store::connect(&url, &ConnectOptions::default()).await.unwrap();
    sqlite.migrate().await.unwrap();
    let started = Instant::now();
    load(&sqlite, &url, count).await;
    println!(
        "loaded {count} leads into SQLite in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let file = dir.path().join("from-sqlite.backup.zst");
    let from_sqlite = backup(&sqlite, &file, "SQLite").await;
    raw_read(&url, &from_sqlite).await;
    verify(&file, &from_sqlite);

    let admin = std::env::var("COLDCALL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("coldcall_bench_{}", uuid::Uuid::now_v7().simple());
    let pool = sqlx::PgPool::connect(&admin)
        .await
        .expect("PostgreSQL must be reachable");
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&pool)
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    let pg_url = format!("{base}/{name}");
    let pg = Store::connect(&pg_url, &ConnectOptions::default()).await.unwrap();
    restore(&pg, &file, &from_sqlite, "PostgreSQL").await;
    let pg_file = dir.path().join("from-postgres.backup.zst");
    let from_pg = backup(&pg, &pg_file, "PostgreSQL").await;
    raw_read(&pg_url, &from_pg).await;

    let back_url = format!("sqlite://{}", dir.path().join("back.db").display());
    let back = Store::connect(&back_url, &ConnectOptions::default()).await.unwrap();
    restore(&back, &pg_file, &from_pg, "SQLite").await;
    let (_, again) = back.backup(std::io::sink()).await.unwrap();
    let same = |a: &Manifest, b: &Manifest| {
        a.tables
            .iter()
            .zip(&b.tables)
            .all(|(x, y)| x.rows == y.rows && x.sha256 == y.sha256)
    };
    println!(
        "content equal after SQLite → PostgreSQL → SQLite: {}",
        if same(&from_sqlite, &from_pg) && same(&from_pg, &again) {
            "yes"
        } else {
            "NO"
        }
    );

    pg.close().await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&pool)
        .await
        .unwrap();
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

fn rate(rows: u64, took: Duration) -> f64 {
    rows as f64 / took.as_secs_f64()
}

async fn backup(store: &Store, path: &std::path::Path, what: &str) -> Manifest {
    let started = Instant::now();
    let file = std::io::BufWriter::with_capacity(256 * 1024, std::fs::File::create(path).unwrap());
    let (file, manifest) = store.backup(file).await.unwrap();
    drop(file);
    let took = started.elapsed();
    let packed = std::fs::metadata(path).unwrap().len();
    let (_, unpacked) = coldcall::backup::verify(std::fs::File::open(path).unwrap()).unwrap();
    println!(
        "backup of {what}: {} rows in {:.2} s = {:.0} rows/s; {:.1} MB unpacked ({:.1} MB/s), {:.1} MB on disk (×{:.1})",
        manifest.total_rows(),
        took.as_secs_f64(),
        rate(manifest.total_rows(), took),
        mb(unpacked),
        mb(unpacked) / took.as_secs_f64(),
        mb(packed),
        unpacked as f64 / packed as f64
    );
    manifest
}

/// The limit: the same rows streamed out of the database with nothing done to them.
async fn raw_read(url: &str, manifest: &Manifest) {
    let started = Instant::now();
    let mut rows = 0u64;
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        for table in &manifest.tables {
            let sql = format!("SELECT * FROM \"{}\"", table.name);
            let mut stream = sqlx::query(&sql).fetch(&pool);
            while stream.try_next().await.unwrap().is_some() {
                rows += 1;
            }
        }
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        for table in &manifest.tables {
            let sql = format!("SELECT * FROM \"{}\"", table.name);
            let mut stream = sqlx::query(&sql).fetch(&pool);
            while stream.try_next().await.unwrap().is_some() {
                rows += 1;
            }
        }
        pool.close().await;
    }
    let took = started.elapsed();
    println!(
        "  raw read of the same {rows} rows (no encoding, no file): {:.2} s = {:.0} rows/s",
        took.as_secs_f64(),
        rate(rows, took)
    );
}

fn verify(path: &std::path::Path, manifest: &Manifest) {
    let started = Instant::now();
    let (checked, unpacked) = coldcall::backup::verify(std::fs::File::open(path).unwrap()).unwrap();
    let took = started.elapsed();
    assert_eq!(&checked, manifest);
    println!(
        "verify: {} rows in {:.2} s = {:.0} rows/s ({:.1} MB/s unpacked)",
        checked.total_rows(),
        took.as_secs_f64(),
        rate(checked.total_rows(), took),
        mb(unpacked) / took.as_secs_f64()
    );
}

async fn restore(store: &Store, path: &std::path::Path, manifest: &Manifest, into: &str) {
    let started = Instant::now();
    let summary = store.restore(path).await.unwrap();
    let took = started.elapsed();
    println!(
        "restore into {into} (verify pass, migrate, load in one transaction): {} rows in {:.2} s = {:.0} rows/s",
        summary.rows,
        took.as_secs_f64(),
        rate(manifest.total_rows(), took)
    );
}

async fn load(store: &Store, url: &str, count: u64) {
    use sqlx::Connection;
    let agent = store
        .add_agent(&NewAgent {
            name: "bench".into(),
            email: None,
            role: coldcall::domain::Role::Agent,
        })
        .await
        .unwrap();
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    let now = chrono::Utc::now();
    let mut index = 0;
    while index < count {
        let batch: Vec<_> = (index..(index + 500).min(count))
            .filter_map(|i| coldcall::demo::demo_lead(i).ok().map(|f| (i, uuid::Uuid::now_v7(), f)))
            .collect();
        index += 500;
        if batch.is_empty() {
            continue;
        }
        let rows: Vec<_> = batch.iter().map(|(_, id, f)| (*id, f)).collect();
        support::insert_leads(&mut tx, &rows, 500, now).await;
        let mut calls = sqlx::QueryBuilder::new(
            "INSERT INTO call_logs (id, lead_id, agent_id, phone_number, status, disposition, duration_s, notes, \
             started_at, ended_at) ",
        );
        calls.push_values(batch.iter().filter(|(i, _, _)| i % 2 == 0), |mut row, (i, id, f)| {
            row.push_bind(uuid::Uuid::now_v7())
                .push_bind(*id)
                .push_bind(agent.id)
                .push_bind(f.phone.clone())
                .push_bind("completed")
                .push_bind(if i % 4 == 0 { "interested" } else { "no_answer" })
                .push_bind((i % 300) as i32)
                .push_bind("left a message about the spring offer")
                .push_bind(now)
                .push_bind(now);
        });
        calls.build().execute(&mut *tx).await.unwrap();
    }
    // The feed rows the load's triggers wrote are not part of a floor's history.
    sqlx::query("DELETE FROM changes").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
}
