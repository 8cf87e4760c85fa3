//! Backup and restore: every table read from one snapshot, and written back in one transaction.

use std::io::{Read, Write};

use crate::backup::tables::TABLES;
use crate::backup::{BackupReader, BackupWriter};
use crate::store::backend::{Backend, SnapshotTx, Tx};
use crate::store::snapshot::restore_needs_empty;
use crate::store::Result;

/// Streams every table into `out` from one snapshot, so rows written by consoles while the backup
/// runs are either all in it or all out of it.
pub(crate) async fn backup<B: Backend, W: Write>(b: &B, out: &mut BackupWriter<W>) -> Result<()>
where
    B::Tx: SnapshotTx,
{
    let mut tx = b.begin_snapshot().await?;
    tx.lift_time_limits().await?;
    for spec in TABLES {
        out.begin_table(spec)?;
        // Writing the file blocks this task briefly; a backup is the only work of its process,
        // so there is nothing else on the runtime to hold up.
        tx.read_table(spec, |row| Ok(out.row(row)?)).await?;
    }
    tx.rollback().await?;
    Ok(())
}

/// Loads a verified backup into this (migrated, empty) database in one transaction: either
/// everything is restored or nothing is. The reader checks every row again as it goes and the
/// manifest at the end, before the commit. Answers how many rows were loaded.
pub(crate) async fn restore<B: Backend, R: Read>(b: &B, reader: &mut BackupReader<R>) -> Result<u64>
where
    B::Tx: SnapshotTx,
{
    let mut tx = b.begin().await?;
    tx.lift_time_limits().await?;
    for spec in TABLES.iter().filter(|t| !t.seeded) {
        if tx.has_rows(spec).await? {
            return Err(restore_needs_empty(spec.name));
        }
    }
    // The triggers would log every restored lead as a new status change and feed every row to
    // the change feed; the backup already holds the real history.
    let paused = tx.pause_for_load().await?;
    // What `migrate` seeded is replaced by the backup's.
    for spec in TABLES.iter().filter(|t| t.seeded) {
        tx.clear_table(spec).await?;
    }
    let mut restored = 0u64;
    let mut batch = Vec::new();
    while let Some(section) = reader.next_table()? {
        if section.spec.name == "lead_status_log" {
            // Rows the status trigger wrote if triggers were ever on; the backup's replace them.
            tx.clear_table(section.spec).await?;
        }
        let per_insert = tx.rows_per_insert(&section).max(1);
        while let Some(row) = reader.next_row()? {
            batch.push(row);
            if batch.len() == per_insert {
                tx.insert_rows(&section, &batch).await?;
                restored += batch.len() as u64;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            tx.insert_rows(&section, &batch).await?;
            restored += batch.len() as u64;
            batch.clear();
        }
    }
    // Anything wrong with the file's end or manifest undoes the whole restore.
    reader.finish()?;
    tx.resume_after_load(paused).await?;
    tx.commit().await?;
    Ok(restored)
}
