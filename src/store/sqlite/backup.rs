//! Backup and restore on SQLite: every table read in one read transaction (WAL gives it a
//! snapshot while consoles keep writing), written back in one write transaction with the
//! triggers paused and the search indexes rebuilt at the end.
//!
//! Table and column names in this file's SQL come only from the compiled-in list in
//! `backup::tables` (never from the file being restored), which is why they may be spliced into
//! statements with `format!`; values are always bound.

use std::io::{Read, Write};

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use uuid::Uuid;

use super::{SqliteStore, Tx};
use crate::backup::tables::{Column, ColumnType, TableSpec, TABLES};
use crate::backup::{BackupReader, BackupWriter, TableSection, Value};
use crate::store::{Result, StoreError};

/// SQLite allows 32,766 bound values per statement; rows per INSERT stay well inside that.
const MAX_VALUES: usize = 32_000;
const MAX_ROWS: usize = 500;

impl SqliteStore {
    /// Streams every table into `out` from one read transaction on one connection: in WAL mode
    /// its first read fixes a snapshot, so writes made meanwhile are wholly in or wholly out.
    pub async fn backup_tables<W: Write>(&self, out: &mut BackupWriter<W>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let mut values = Vec::new();
        for spec in TABLES {
            out.begin_table(spec)?;
            let columns: Vec<String> = spec.columns.iter().map(|c| format!("\"{}\"", c.name)).collect();
            // Text keys sort bytewise (BINARY) and UUID blobs by their bytes, as PostgreSQL's
            // COLLATE "C" and uuid order do: both backends write rows in the same order.
            let sql = format!(
                "SELECT {} FROM \"{}\" ORDER BY \"{}\"",
                columns.join(", "),
                spec.name,
                spec.key
            );
            let mut rows = sqlx::query(&sql).fetch(&mut *tx);
            while let Some(row) = rows.try_next().await? {
                values.clear();
                for (i, column) in spec.columns.iter().enumerate() {
                    values.push(read_value(&row, i, column, spec)?);
                }
                // Writing the file blocks this task briefly; a backup is the only work of its
                // process, so there is nothing else on the runtime to hold up.
                out.row(&values)?;
            }
        }
        tx.rollback().await?;
        Ok(())
    }

    /// Loads a verified backup into this (migrated, empty) database in one transaction: either
    /// everything is restored or nothing is. The reader checks every row again as it goes and
    /// the manifest at the end, before the commit.
    pub async fn restore_tables<R: Read>(&self, reader: &mut BackupReader<R>) -> Result<u64> {
        let mut tx = self.begin().await?;
        ensure_empty(&mut tx).await?;
        let paused = pause_triggers(&mut tx).await?;
        for spec in TABLES.iter().filter(|t| t.seeded) {
            sqlx::query(&format!("DELETE FROM \"{}\"", spec.name))
                .execute(&mut *tx)
                .await?;
        }
        let mut restored = 0u64;
        let mut batch: Vec<Vec<Value>> = Vec::new();
        while let Some(section) = reader.next_table()? {
            let per_batch = (MAX_VALUES / section.columns.len().max(1)).clamp(1, MAX_ROWS);
            while let Some(row) = reader.next_row()? {
                batch.push(row);
                if batch.len() == per_batch {
                    insert_batch(&mut tx, &section, &batch).await?;
                    restored += batch.len() as u64;
                    batch.clear();
                }
            }
            if !batch.is_empty() {
                insert_batch(&mut tx, &section, &batch).await?;
                restored += batch.len() as u64;
                batch.clear();
            }
        }
        // Anything wrong with the file's end or manifest undoes the whole restore.
        reader.finish()?;
        // The search indexes are built in one pass over the restored leads, which is much faster
        // than the row-by-row updates of the triggers.
        for index in SEARCH_INDEXES {
            sqlx::query(&format!("INSERT INTO {index} ({index}) VALUES ('rebuild')"))
                .execute(&mut *tx)
                .await?;
        }
        for definition in &paused {
            sqlx::query(definition).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(restored)
    }
}

fn read_value(row: &SqliteRow, i: usize, column: &Column, spec: &TableSpec) -> Result<Value> {
    let value = match column.ty {
        ColumnType::Int => row.try_get::<Option<i64>, _>(i)?.map(Value::Int),
        ColumnType::Float => row.try_get::<Option<f64>, _>(i)?.map(Value::Float),
        ColumnType::Bool => row.try_get::<Option<bool>, _>(i)?.map(Value::Bool),
        ColumnType::Text => row.try_get::<Option<String>, _>(i)?.map(Value::Text),
        ColumnType::Uuid => row.try_get::<Option<Uuid>, _>(i)?.map(Value::Uuid),
        ColumnType::Timestamp => row.try_get::<Option<DateTime<Utc>>, _>(i)?.map(Value::timestamp),
        ColumnType::Json => match row.try_get::<Option<String>, _>(i)? {
            Some(text) => Some(
                Value::json(&text)
                    .map_err(|e| StoreError::BadInput(format!("table {}, column {}: {e}", spec.name, column.name)))?,
            ),
            None => None,
        },
    };
    Ok(value.unwrap_or(Value::Null))
}

/// The full-text and trigram indexes over `leads` (external-content FTS5 tables, see the schema
/// migration); fixed names, so they may be spliced into the rebuild statements.
const SEARCH_INDEXES: [&str; 2] = ["leads_fts", "leads_trgm"];

/// Drops the triggers of the backed-up tables and returns their definitions, to create again
/// once the rows are in. The triggers would log every restored lead as a new status change,
/// feed every row to the change feed and update the search indexes row by row; the backup
/// already holds the real history, and the indexes are rebuilt in one pass. SQLite has no way
/// to switch a trigger off, but its DDL is transactional: a failed restore rolls the triggers
/// back with everything else. Names and definitions come from the schema's own catalog.
async fn pause_triggers(tx: &mut Tx) -> Result<Vec<String>> {
    let tables: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' \
         AND tbl_name IN (SELECT value FROM json_each($1)) ORDER BY name",
    )
    .bind(serde_json::to_string(&tables).unwrap_or_else(|_| "[]".into()))
    .fetch_all(&mut **tx)
    .await?;
    for (name, _) in &triggers {
        sqlx::query(&format!("DROP TRIGGER \"{}\"", name.replace('"', "\"\"")))
            .execute(&mut **tx)
            .await?;
    }
    Ok(triggers.into_iter().map(|(_, sql)| sql).collect())
}

async fn ensure_empty(tx: &mut Tx) -> Result<()> {
    for spec in TABLES.iter().filter(|t| !t.seeded) {
        let any: bool = sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM \"{}\")", spec.name))
            .fetch_one(&mut **tx)
            .await?;
        if any {
            return Err(crate::store::snapshot::restore_needs_empty(spec.name));
        }
    }
    Ok(())
}

/// One multi-row INSERT: SQLite's per-statement cost is what limits bulk loads, not the rows.
async fn insert_batch(tx: &mut Tx, section: &TableSection, rows: &[Vec<Value>]) -> Result<()> {
    let names: Vec<String> = section.columns.iter().map(|c| format!("\"{}\"", c.name)).collect();
    let mut query: QueryBuilder<Sqlite> =
        QueryBuilder::new(format!("INSERT INTO \"{}\" ({}) ", section.spec.name, names.join(", ")));
    query.push_values(rows, |mut b, row| {
        for value in row {
            match value {
                Value::Null => b.push_bind(None::<i64>),
                Value::Int(n) => b.push_bind(*n),
                Value::Float(f) => b.push_bind(*f),
                Value::Bool(v) => b.push_bind(*v),
                Value::Text(s) | Value::Json(s) => b.push_bind(s.clone()),
                Value::Uuid(u) => b.push_bind(*u),
                // the same text the store writes for its own timestamps, so comparisons agree
                Value::Timestamp(t) => b.push_bind(*t),
            };
        }
    });
    query.build().execute(&mut **tx).await.map_err(|e| match e {
        sqlx::Error::Database(db) => StoreError::BadInput(format!(
            "restoring table {}: the database refused a row: {}",
            section.spec.name,
            db.message()
        )),
        other => other.into(),
    })?;
    Ok(())
}

impl SqliteStore {
    /// Every coldcall object in the database, one line each, sorted: type, name, table and its
    /// SQL with whitespace collapsed. Two databases with the same schema give the same list.
    /// SQLite's own tables and sqlx's bookkeeping table are left out.
    pub async fn schema_objects(&self) -> Result<Vec<String>> {
        let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT type, name, tbl_name, sql FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '_sqlx_migrations'",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut objects: Vec<String> = rows
            .into_iter()
            .map(|(kind, name, table, sql)| {
                let sql = sql.unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
                format!("{kind} {name} on {table}: {sql}")
            })
            .collect();
        objects.sort();
        Ok(objects)
    }
}
