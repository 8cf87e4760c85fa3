//! Backups of real databases: a floor moves SQLite → PostgreSQL → SQLite with every table equal
//! (checksums are over canonical rows, so equal checksums mean equal content), restored
//! databases work (search, history, new ids), and damaged, newer or misdirected backups are
//! refused with the database untouched. Taken while agents keep working, a backup is one
//! consistent snapshot.

mod common;
mod floor;

use std::path::{Path, PathBuf};

use chrono::Duration;
use coldcall::backup::{self, tables, BackupError, Header, Manifest};
use coldcall::store::{FeedCursor, LeadFilter, Store, StoreError};
use common::*;

fn write_backup_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn backup_bytes(store: &Store) -> (Vec<u8>, Manifest) {
    store.backup(Vec::new()).await.expect("backup")
}

/// The per-table content of a manifest: what must be equal between two databases.
fn content(m: &Manifest) -> Vec<(String, Vec<String>, u64, String)> {
    m.tables
        .iter()
        .map(|t| (t.name.clone(), t.columns.clone(), t.rows, t.sha256.clone()))
        .collect()
}

/// Checks one lead out to ann, changes its status in the copy and syncs, so the checkout tables
/// have rows.
async fn work_a_lead_offline(store: &Store, floor: &floor::Floor, dir: &Path) {
    let path = dir.join("offline-copy.db");
    let copy = Store::connect(&path.to_string_lossy(), &coldcall::store::ConnectOptions::default())
        .await
        .unwrap()
        .with_clock(store.clock().clone());
    copy.migrate().await.unwrap();
    let request = coldcall::store::offline::CheckoutRequest {
        agent_id: floor.ann.id,
        by: floor.ann.id,
        leads: 1,
        hours: 8,
    };
    let summary = store
        .offline_checkout(&copy, &request, &LeadFilter::default())
        .await
        .unwrap();
    let lead = copy
        .list_leads(&LeadFilter::default(), None, 1)
        .await
        .unwrap()
        .items
        .remove(0);
    copy.set_status(
        lead.id,
        coldcall::domain::LeadStatus::Nurturing,
        Some("next quarter"),
        Some(floor.ann.id),
    )
    .await
    .unwrap();
    let report = store.offline_sync(&copy, None).await.unwrap();
    assert_eq!((summary.leads, report.status_changes_applied), (1, 1));
    copy.close().await;
}

/// Every table has rows, so the round trip proves something about each of them.
fn assert_every_table_has_rows(m: &Manifest) {
    for spec in tables::TABLES {
        let t = m.table(spec.name).unwrap_or_else(|| panic!("{} missing", spec.name));
        assert!(t.rows > 0, "the floor has no rows in {}", spec.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_floor_moves_sqlite_to_postgres_and_back_with_identical_content() {
    let dir = tempfile::tempdir().unwrap();
    let first = sqlite().await;
    let floor = floor::populate(&first.store, 20).await;
    work_a_lead_offline(&first.store, &floor, dir.path()).await;
    first
        .store
        .set_script("default", "Hello {first_name}, this is {agent}.", None)
        .await
        .unwrap();
    let (bytes, from_sqlite) = backup_bytes(&first.store).await;
    assert_eq!(from_sqlite.header.backend, "sqlite");
    assert_every_table_has_rows(&from_sqlite);
    let file = write_backup_file(dir.path(), "from-sqlite", &bytes);

    let pg = postgres().await;
    let restored = pg.store.restore(&file).await.expect("restore into PostgreSQL");
    assert_eq!(restored.rows, from_sqlite.total_rows());
    let (bytes, from_pg) = backup_bytes(&pg.store).await;
    assert_eq!(from_pg.header.backend, "postgres");
    assert_eq!(
        content(&from_pg),
        content(&from_sqlite),
        "PostgreSQL holds what SQLite held"
    );
    let file = write_backup_file(dir.path(), "from-postgres", &bytes);

    let last = sqlite().await;
    last.store.restore(&file).await.expect("restore into SQLite");
    let (_, back) = backup_bytes(&last.store).await;
    assert_eq!(content(&back), content(&from_sqlite), "and SQLite again");

    // The restore leaves the schema as migrate made it: every index rebuilt, every trigger on.
    assert_eq!(
        pg.store.schema_objects().await.unwrap(),
        postgres().await.store.schema_objects().await.unwrap()
    );
    assert_eq!(
        last.store.schema_objects().await.unwrap(),
        sqlite().await.store.schema_objects().await.unwrap()
    );

    // Restored databases work, not just compare equal.
    for store in [&pg.store, &last.store] {
        let zoe = store.lead(floor.zoe.id).await.unwrap().unwrap();
        assert_eq!(zoe, first.store.lead(floor.zoe.id).await.unwrap().unwrap());
        let found = store.search_leads("zoë", &LeadFilter::default(), 10).await.unwrap();
        assert_eq!(found.len(), 1, "the search index was rebuilt");
        let found = store.search_leads("555000", &LeadFilter::default(), 50).await.unwrap();
        assert!(!found.is_empty(), "phone fragments are searchable");
        assert_eq!(
            store.status_history(floor.zoe.id).await.unwrap(),
            first.store.status_history(floor.zoe.id).await.unwrap(),
            "history is restored, not written again by triggers"
        );
        assert_eq!(
            store.call_history(floor.zoe.id).await.unwrap(),
            first.store.call_history(floor.zoe.id).await.unwrap()
        );
        assert!(store.dnc_check(&floor.refused.phone).await.unwrap().is_some());
        assert_eq!(store.settings().await.unwrap(), first.store.settings().await.unwrap());
        assert_eq!(
            store.dispositions().await.unwrap(),
            first.store.dispositions().await.unwrap()
        );
        assert!(
            store
                .changes_since(FeedCursor::default(), 100)
                .await
                .unwrap()
                .is_empty(),
            "a restored database starts with an empty change feed"
        );

        // New rows take ids after the restored ones: agents, status log and audit log.
        let newcomer = agent(store, "newcomer").await;
        assert!(newcomer.id > floor.sam.id);
        let fresh = lead(store, 9_000).await;
        let history = store.status_history(fresh.id).await.unwrap();
        let restored_max = first.store.status_history(floor.zoe.id).await.unwrap()[0].id;
        assert!(history[0].id > restored_max);
        store
            .dnc_add("+12125550999", Some("new"), Some(newcomer.id))
            .await
            .unwrap();

        // The call that was on when the backup was taken is reaped once its lock is stale.
        let calls = store.active_calls().await.unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].lead_id, floor.on_call.id);
        store.clock().set(first.store.now() + Duration::minutes(5));
        assert_eq!(store.reap_stale_locks(None).await.unwrap().len(), 1);
    }
}

/// A byte flipped inside the leads part of the file: verify names the table, restore refuses
/// and writes nothing.
async fn a_flipped_byte_is_found_and_refused(store: &Store) {
    floor::populate(store, 400).await;
    let (bytes, manifest) = backup_bytes(store).await;
    // The parts are zstd frames in a fixed order: header, then one per table.
    let mut frames = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let size = zstd::zstd_safe::find_frame_compressed_size(&bytes[at..]).expect("frame");
        frames.push(at..at + size);
        at += size;
    }
    assert_eq!(
        frames.len(),
        1 + manifest.tables.len() + 1 + 1,
        "header, tables, manifest, trailer"
    );
    let leads = tables::TABLES.iter().position(|t| t.name == "leads").unwrap() + 1;
    let frame = frames[leads].clone();
    let mut damaged = bytes.clone();
    damaged[frame.start + (frame.end - frame.start) * 3 / 4] ^= 0x01;

    let err = backup::verify(&damaged[..]).unwrap_err();
    let BackupError::Corrupt(problems) = &err else {
        panic!("expected corruption, got {err}")
    };
    assert_eq!(problems[0].table.as_deref(), Some("leads"), "{err}");
    assert!(err.to_string().contains("table leads"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let file = write_backup_file(dir.path(), "damaged", &damaged);
    for target in [sqlite().await, postgres().await] {
        let before = target.store.schema_objects().await.unwrap();
        let err = target.store.restore(&file).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Backup(BackupError::Corrupt(_))),
            "restore must refuse a damaged file: {err}"
        );
        assert!(target.store.agents().await.unwrap().is_empty(), "nothing was written");
        assert_eq!(target.store.schema_objects().await.unwrap(), before);
    }
    // the intact file still restores
    let intact = write_backup_file(dir.path(), "intact", &bytes);
    sqlite().await.store.restore(&intact).await.unwrap();
}

async fn a_backup_from_a_newer_schema_is_refused(store: &Store) {
    let newer = Header::new(99_991_231_000_001, "postgres", store.now());
    let mut writer = backup::BackupWriter::new(Vec::new(), newer).unwrap();
    writer.begin_table(tables::table("agents").unwrap()).unwrap();
    let (bytes, _) = writer.finish().unwrap();
    backup::verify(&bytes[..]).expect("the file itself is intact");
    let dir = tempfile::tempdir().unwrap();
    let file = write_backup_file(dir.path(), "newer", &bytes);
    let err = store.restore(&file).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Backup(BackupError::Incompatible(m)) if m.contains("newer")),
        "{err}"
    );
}

async fn restore_refuses_a_database_that_holds_data(store: &Store) {
    let source = sqlite().await;
    floor::populate(&source.store, 0).await;
    let (bytes, _) = backup_bytes(&source.store).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_backup_file(dir.path(), "floor", &bytes);

    let existing = agent(store, "already-here").await;
    let err = store.restore(&file).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("empty database")),
        "{err}"
    );
    assert_eq!(store.agents().await.unwrap(), vec![existing], "nothing was added");
    assert_eq!(store.dispositions().await.unwrap().len(), 10, "seeded rows stay");
}

/// Agents keep adding leads and making calls while backups run; each backup is one snapshot:
/// it restores (foreign keys hold) and every lead in it has its creation in the status log,
/// which the same transaction wrote.
async fn a_backup_taken_while_agents_work_is_one_snapshot(store: &Store) {
    let ann = agent(store, "ann").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..2u32 {
        let store = store.clone();
        let stop = stop.clone();
        let agent_id = ann.id;
        workers.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let lead = lead(&store, 20_000 + w * 5_000 + n).await;
                let started = store
                    .start_call(&coldcall::store::StartCall {
                        lead_id: lead.id,
                        agent_id,
                        from_number: None,
                    })
                    .await
                    .unwrap();
                if n % 2 == 0 {
                    store
                        .end_call(&coldcall::store::EndCall {
                            call_id: started.call_id,
                            agent_id,
                            disposition: "interested".into(),
                            ..Default::default()
                        })
                        .await
                        .unwrap();
                }
                n += 1;
            }
            n
        }));
    }
    let dir = tempfile::tempdir().unwrap();
    // On a loaded machine the workers' first lead can take a while: the backups start once
    // agents are really working.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while store
        .list_leads(&LeadFilter::default(), None, 1)
        .await
        .unwrap()
        .items
        .is_empty()
    {
        assert!(std::time::Instant::now() < deadline, "the workers never added a lead");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for round in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let (bytes, manifest) = backup_bytes(store).await;
        let leads = manifest.table("leads").unwrap().rows;
        assert!(leads > 0);
        let file = write_backup_file(dir.path(), &format!("round{round}"), &bytes);
        let target = sqlite().await;
        target
            .store
            .restore(&file)
            .await
            .expect("a consistent snapshot restores");
        let created = target
            .store
            .list_leads(&LeadFilter::default(), None, 1000)
            .await
            .unwrap()
            .items;
        assert_eq!(created.len() as u64, leads);
        for lead in created.iter().take(50) {
            let history = target.store.status_history(lead.id).await.unwrap();
            assert_eq!(history.last().unwrap().reason.as_deref(), Some("created"));
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for w in workers {
        total += w.await.unwrap();
    }
    assert!(total > 0, "the agents got work done during the backups");
}

/// Every table and column of the schema is either in the backup or listed as left out with a
/// reason, so a new table or column cannot be forgotten silently.
async fn the_backup_covers_every_table_and_column(db: &TestDb) {
    let columns: Vec<(String, String)> = if db.url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let rows = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        rows
    } else {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let rows = sqlx::query_as(
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_xinfo(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations' \
             AND m.name NOT LIKE 'leads_fts%' AND m.name NOT LIKE 'leads_trgm%'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        rows
    };
    assert!(columns.len() > 50);
    for (table, column) in &columns {
        if tables::NOT_BACKED_UP.iter().any(|(t, _)| t == table) {
            continue;
        }
        let spec = tables::table(table).unwrap_or_else(|| panic!("table {table} is neither backed up nor left out"));
        let derived = tables::DERIVED_COLUMNS.contains(&(table.as_str(), column.as_str()));
        assert!(
            spec.column(column).is_some() || derived,
            "column {table}.{column} is not in the backup"
        );
    }
    for spec in tables::TABLES {
        for column in spec.columns {
            assert!(
                columns.iter().any(|(t, c)| t == spec.name && c == column.name),
                "the backup lists {}.{} which the schema lacks",
                spec.name,
                column.name
            );
        }
    }
}

on_both_backends!(
    a_flipped_byte_is_found_and_refused,
    a_backup_from_a_newer_schema_is_refused,
    restore_refuses_a_database_that_holds_data,
    a_backup_taken_while_agents_work_is_one_snapshot,
);

on_both_backends!(pass = db; the_backup_covers_every_table_and_column);
