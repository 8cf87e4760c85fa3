//! Backup and restore on SQLite (`flows::snapshot`): tables read in one read transaction (WAL
//! gives it a snapshot while consoles keep writing), rows written back as multi-row INSERTs with
//! the triggers dropped meanwhile and the search indexes rebuilt at the end.
//!
//! Table and column names in this file's SQL come only from the compiled-in list in
//! `backup::tables` (never from the file being restored), which is why they may be spliced into
//! statements with `format!`; values are always bound.

use sqlx::{QueryBuilder, Sqlite};

use super::statements::SqliteTx;
use super::{json_list, SqliteStore};
use crate::backup::tables::{TableSpec, TABLES};
use crate::backup::{TableSection, Value};
use crate::store::backend::SnapshotTx;
use crate::store::snapshot::{pipe_rows, restore_refused};
use crate::store::Result;

/// SQLite allows 32,766 bound values per statement; rows per INSERT stay well inside that.
const MAX_VALUES: usize = 32_000;
const MAX_ROWS: usize = 500;

impl SnapshotTx for SqliteTx {
    /// SQLite sets no time limits on a transaction.
    async fn lift_time_limits(&mut self) -> Result<()> {
        Ok(())
    }

    async fn read_table<F>(&mut self, spec: &'static TableSpec, row: F) -> Result<()>
    where
        F: FnMut(&[Value]) -> Result<()>,
    {
        let columns: Vec<String> = spec.columns.iter().map(|c| format!("\"{}\"", c.name)).collect();
        // Text keys sort bytewise (BINARY) and UUID blobs by their bytes, as PostgreSQL's
        // COLLATE "C" and uuid order do: both backends write rows in the same order.
        let sql = format!(
            "SELECT {} FROM \"{}\" ORDER BY \"{}\"",
            columns.join(", "),
            spec.name,
            spec.key
        );
        pipe_rows(sqlx::query(&sql).fetch(self.conn()), spec, row).await
    }

    async fn has_rows(&mut self, table: &'static TableSpec) -> Result<bool> {
        Ok(
            sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM \"{}\")", table.name))
                .fetch_one(self.conn())
                .await?,
        )
    }

    async fn clear_table(&mut self, table: &'static TableSpec) -> Result<()> {
        sqlx::query(&format!("DELETE FROM \"{}\"", table.name))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn pause_for_load(&mut self) -> Result<Vec<String>> {
        drop_triggers(self).await
    }

    fn rows_per_insert(&self, section: &TableSection) -> usize {
        (MAX_VALUES / section.columns.len().max(1)).clamp(1, MAX_ROWS)
    }

    /// One multi-row INSERT: SQLite's per-statement cost is what limits bulk loads, not the rows.
    async fn insert_rows(&mut self, section: &TableSection, rows: &[Vec<Value>]) -> Result<()> {
        insert_batch(self, section, rows, false).await.map(drop)
    }

    /// The search indexes are built in one pass over the restored leads, which is much faster
    /// than the row-by-row updates of the triggers; then the triggers are created again.
    async fn resume_after_load(&mut self, paused: Vec<String>) -> Result<()> {
        for index in SEARCH_INDEXES {
            sqlx::query(&format!("INSERT INTO {index} ({index}) VALUES ('rebuild')"))
                .execute(self.conn())
                .await?;
        }
        for definition in &paused {
            sqlx::query(definition).execute(self.conn()).await?;
        }
        // The queue's ready set is derived: the triggers that keep it were paused, so it is
        // written once from the restored leads, as its migration first wrote it.
        sqlx::query("DELETE FROM lead_queue").execute(self.conn()).await?;
        sqlx::query(QUEUE_REBUILD).execute(self.conn()).await?;
        Ok(())
    }
}

/// The full-text and trigram indexes over `leads` (external-content FTS5 tables, see the schema
/// migration); fixed names, so they may be spliced into the rebuild statements.
/// Inserts the rows with one statement; with `skip_existing`, rows whose key or unique values are
/// there already are left out. Answers how many went in.
pub(super) async fn insert_batch(
    tx: &mut SqliteTx,
    section: &TableSection,
    rows: &[Vec<Value>],
    skip_existing: bool,
) -> Result<u64> {
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
    if skip_existing {
        query.push(" ON CONFLICT DO NOTHING");
    }
    let done = query
        .build()
        .execute(tx.conn())
        .await
        .map_err(|e| restore_refused(section, e))?;
    Ok(done.rows_affected())
}

const SEARCH_INDEXES: [&str; 2] = ["leads_fts", "leads_trgm"];

/// Drops the triggers of the backed-up tables and returns their definitions, to create again
/// once the rows are in. The triggers would log every restored lead as a new status change,
/// feed every row to the change feed and update the search indexes row by row; the backup
/// already holds the real history, and the indexes are rebuilt in one pass. SQLite has no way
/// to switch a trigger off, but its DDL is transactional: a failed restore rolls the triggers
/// back with everything else. Names and definitions come from the schema's own catalog.
async fn drop_triggers(tx: &mut SqliteTx) -> Result<Vec<String>> {
    let tables: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' \
         AND tbl_name IN (SELECT value FROM json_each($1)) ORDER BY name",
    )
    .bind(json_list(&tables))
    .fetch_all(tx.conn())
    .await?;
    for (name, _) in &triggers {
        sqlx::query(&format!("DROP TRIGGER \"{}\"", name.replace('"', "\"\"")))
            .execute(tx.conn())
            .await?;
    }
    Ok(triggers.into_iter().map(|(_, sql)| sql).collect())
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

/// Every live lead into the queue's ready set, as the queue migration first wrote it.
const QUEUE_REBUILD: &str = "INSERT INTO lead_queue (lead_id, priority_rank, lead_score, timezone, phone, call_attempts, last_call_at, \
                        next_call_at, state, due_hint) \
WITH s AS (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'min_gap_seconds'), 0) AS gap, \
                  coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'max_attempts'), 2147483647) \
                  AS max_attempts), \
     h AS (SELECT l.id, \
                  CASE WHEN EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = l.id) THEN 9223372036854775807 \
                       ELSE max(coalesce(CAST(strftime('%s', l.next_call_at) AS INTEGER), 0), \
                                coalesce(CAST(strftime('%s', l.last_call_at) AS INTEGER) + (SELECT gap FROM s), 0), \
                                coalesce((SELECT max(CAST(strftime('%s', a.expires_at) AS INTEGER)) \
                                            FROM lead_assignments a \
                                           WHERE a.lead_id = l.id AND a.active = 1 AND a.assigned_by = a.agent_id), 0)) \
                  END AS hint \
             FROM leads l) \
SELECT l.id, l.priority_rank, l.lead_score, l.timezone, l.phone, l.call_attempts, l.last_call_at, l.next_call_at, \
       CASE WHEN l.call_attempts >= s.max_attempts THEN 2 \
            WHEN h.hint = 0 THEN 1 ELSE 0 END, \
       h.hint \
  FROM leads l JOIN h ON h.id = l.id, s \
 WHERE l.deleted_at IS NULL AND l.do_not_call = 0 AND l.status NOT IN ('closed_won', 'closed_lost')";
