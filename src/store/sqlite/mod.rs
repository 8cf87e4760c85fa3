//! SQLite backend: every SQL statement of the single-agent, offline console.
//!
//! SQLite has one writer at a time. Every read-then-write runs in `BEGIN IMMEDIATE`, which takes
//! the write lock up front: a deferred transaction that reads and then writes would fail with
//! "database is locked" instead of waiting out the busy timeout. WAL lets readers go on meanwhile.
//! Constraints (one active call per lead, one live assignment per lead) stay the last line of defence.

mod backup;
mod bulk;
mod dialect;
mod gdpr;
mod health;
mod identity;
mod merge;
mod offline;
mod scripts;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::ConnectOptions as _;
use uuid::Uuid;

use super::model::*;
use super::search::SearchTerms;
use super::{ConnectOptions, Result, StoreError};

use crate::domain::{Disposition, LeadStatus, PresenceState};
use crate::store::portable::columns::{CALL_COLUMNS, LEAD_COLUMNS};
use crate::store::portable::{bind_filters, bind_lead};

/// The writer connection's page cache, in KiB when negative (SQLite's convention): 64 MiB.
const WRITER_CACHE: &str = "-65536";

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// What reading a search's match by rowid (and sorting it) costs beside one index entry of a
/// walk in list order; see `search_leads`. Measured on a million leads: 21,000 matches read and
/// sorted took 74 ms (3.5 µs each), a walk past 9,300 index entries to 200 matches 4.5 ms.
const WALK_PER_MATCH: f64 = 20.0;

/// The list and search filters, shared by both queries; binds $1–$7.
const FILTERS: &str = "deleted_at IS NULL \
    AND ($1 IS NULL OR status = $1) \
    AND ($2 IS NULL OR priority = $2) \
    AND ($3 IS NULL OR EXISTS (SELECT 1 FROM lead_assignments a WHERE a.lead_id = leads.id AND a.active = 1 \
         AND a.agent_id = $3 AND (a.expires_at IS NULL OR a.expires_at > $6))) \
    AND ($4 IS NULL OR lead_score >= $4) \
    AND ($5 IS NULL OR lead_score <= $5) \
    AND (NOT $7 OR EXISTS (SELECT 1 FROM callbacks c WHERE c.lead_id = leads.id AND c.done_at IS NULL AND c.due_at <= $6))";

/// The claim queue, in order, over the hopper (`lead_queue`, see its migration): mirrors can-call
/// in SQL so the walk skips what would be refused (every candidate is still checked by can-call
/// in the claim's transaction). The ORDER BY is `lead_queue_ready_idx`'s. `$state` picks the
/// rows: the ready ones for a claim (which feeds first), and for a read-only preview those a
/// feed would make ready too. Binds $1 agent, $2 now, $3 min-gap cutoff, $4 max attempts, $5
/// open zones (JSON), $6 default zone open, $7 the time before which another agent's callback
/// has outlived its grace period and is anyone's.
macro_rules! queue_sql {
    ($state:literal) => {
        concat!(
            "FROM lead_queue q WHERE ",
            $state,
            " AND (q.next_call_at IS NULL OR q.next_call_at <= $2) \
               AND (q.last_call_at IS NULL OR q.last_call_at <= $3) \
               AND q.call_attempts < $4 \
               AND (q.timezone IN (SELECT value FROM json_each($5)) OR (q.timezone IS NULL AND $6)) \
               AND NOT EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = q.lead_id) \
               AND NOT EXISTS (SELECT 1 FROM lead_assignments a WHERE a.lead_id = q.lead_id AND a.active = 1 \
                               AND (a.agent_id <> $1 OR a.checkout_id IS NOT NULL) \
                               AND (a.expires_at IS NULL OR a.expires_at > $2)) \
               AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.lead_id = q.lead_id AND c.done_at IS NULL \
                               AND c.agent_id <> $1 AND c.due_at > $7) \
               AND NOT EXISTS (SELECT 1 FROM dnc_numbers d WHERE d.number = q.phone) \
             ORDER BY q.priority_rank DESC, q.lead_score DESC, q.lead_id"
        )
    };
}

/// The rows a claim walks: the ready set.
const QUEUE: &str = queue_sql!("q.state = 1 AND hex(q.lead_id) NOT IN (SELECT value FROM json_each($9))");
/// What a preview shows beside the ready set: the waiting rows the claim's feed would make
/// ready. A statement of its own, walked beside `QUEUE`: one walk over both (`state = 1 OR …`)
/// cannot follow either index and sorts the whole queue.
const QUEUE_DUE: &str = queue_sql!(
    "q.state = 0 AND q.due_hint <= CAST(strftime('%s', $2) AS INTEGER) \
     AND hex(q.lead_id) NOT IN (SELECT value FROM json_each($9))"
);
/// The agent's own live claim, which stays theirs to take again in its place in the order.
const QUEUE_OWN: &str = queue_sql!(
    "q.lead_id IN (SELECT o.lead_id FROM lead_assignments o WHERE o.active = 1 AND o.agent_id = $1 \
     AND o.assigned_by = $1 AND o.checkout_id IS NULL) AND hex(q.lead_id) NOT IN (SELECT value FROM json_each($9))"
);

/// Binds the claim queue's parameters ($1–$7, see `QUEUE`) on any query over it.
macro_rules! bind_queue {
    ($query:expr, $agent:expr, $now:expr, $p:expr) => {
        $query
            .bind($agent)
            .bind($now)
            .bind($p.gap_cutoff)
            .bind($p.max_attempts)
            .bind(serde_json::to_string(&$p.zones).unwrap_or_else(|_| "[]".into()))
            .bind($p.default_open)
            .bind($p.grace_cutoff)
    };
}

mod statements;

#[derive(Clone)]
pub struct SqliteStore {
    /// Readers: run alongside each other and alongside the writer (WAL).
    pool: SqlitePool,
    /// The one connection that writes. Queueing writers here, in order, is fairer and faster than
    /// letting many connections poll SQLite's busy handler; other processes on the same file are
    /// still covered by the busy timeout.
    writer: SqlitePool,
}

impl SqliteStore {
    crate::store::portable::store_queries!();

    /// The readers' pool: reads run beside each other and beside the writer (WAL).
    fn reader(&self) -> &SqlitePool {
        &self.pool
    }

    /// The one connection that writes, so writers queue here in order.
    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    pub async fn connect(path: &Path, options: &ConnectOptions) -> Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private_files::create_dir(dir)
                .map_err(|e| StoreError::BadInput(format!("cannot create {}: {e}", dir.display())))?;
        }
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // two consoles on one file wait for each other instead of failing
            .busy_timeout(Duration::from_secs(10))
            .log_statements(log::LevelFilter::Debug)
            .log_slow_statements(log::LevelFilter::Warn, options.slow_statement);
        // The writer keeps more of the file's pages than SQLite's 2 MB default: a batch of ten
        // thousand leads touches every index and both search tables, and each page it misses
        // is a read from the file (a million-lead seed spent a third of its time in the kernel).
        // The pages are only those writes touch, so a console's writer stays small.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.clone().pragma("cache_size", WRITER_CACHE))
            .await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await?;
        // A file left readable by an older coldcall (or made by hand) is tightened: every lead
        // in it is personal data.
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            if let Ok(true) = crate::private_files::restrict(Path::new(&file)) {
                tracing::warn!(file = %Path::new(&file).display(), "made the database file readable by its owner only");
            }
        }
        Ok(SqliteStore { pool, writer })
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// Writes the whole database, what its write-ahead log holds included, as one new file.
    pub async fn write_file(&self, path: &std::path::Path) -> Result<()> {
        sqlx::query("VACUUM INTO $1")
            .bind(path.to_string_lossy().into_owned())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    // ------------------------------------------------------------------ schema

    pub async fn migration_status(&self) -> Result<Vec<MigrationInfo>> {
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
        )
        .fetch_one(&self.writer)
        .await?;
        let applied: Vec<i64> = if exists {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.writer)
                .await?
        } else {
            Vec::new()
        };
        Ok(super::migration_infos(&MIGRATOR, &applied))
    }

    // ------------------------------------------------------------------ agents and settings

    // ------------------------------------------------------------------ leads

    pub async fn list_leads(
        &self,
        filter: &LeadFilter,
        after: Option<LeadCursor>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Lead>> {
        // The first page and the pages after a cursor are two statements: with `$8 IS NULL OR`
        // in front of the row comparison SQLite cannot seek `leads_list_idx` to the cursor and
        // reads the list from the top (60–75 ms half a million leads deep).
        let Some(after) = after else {
            return Ok(bind_filters!(
                sqlx::query_as(&format!(
                    "SELECT {LEAD_COLUMNS} FROM leads WHERE {FILTERS} \
                     ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $8"
                )),
                filter,
                now
            )
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?);
        };
        Ok(bind_filters!(
            sqlx::query_as(&format!(
                "SELECT {LEAD_COLUMNS} FROM leads WHERE {FILTERS} \
                 AND (priority_rank, lead_score, id) < ($8, $9, $10) \
                 ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $11"
            )),
            filter,
            now
        )
        .bind(after.priority_rank)
        .bind(after.lead_score)
        .bind(after.id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Live leads matching the terms, in list order. The statement holds only the parts the text
    /// has (words through `leads_fts`, a fragment through `leads_trgm`, pieces of unspaced
    /// scripts by `instr`), and is read one of two ways: walking `leads_list_idx` in list order,
    /// testing each lead's rowid against the matches, until `limit` leads match (it reads
    /// `limit / share` index entries, and a lead's row only once it matches), or reading each
    /// match's row by rowid and sorting them all. Which is cheaper depends on how many match, so
    /// the search first reads the indexes' matches, stopping at the number from which the walk
    /// is the cheaper; when fewer match, those rowids are the ones read and sorted. Left to itself
    /// SQLite reads and sorts every match (a three-letter prefix took 240 ms on a million leads).
    pub async fn search_leads(
        &self,
        terms: &SearchTerms,
        filter: &LeadFilter,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Lead>> {
        // Words are alphanumeric only (see SearchTerms), so `"word"*` is always a valid prefix
        // query; a fragment is quoted with its own quotes doubled, as FTS5 strings require.
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
        // Pieces of unspaced scripts are matched with instr, which takes no wildcards; they go
        // in as one JSON array because SQLite binds no arrays.
        let inner = (!terms.inner.is_empty()).then(|| serde_json::to_string(&terms.inner).expect("strings serialise"));
        // One read transaction: the rowids read first are the matches of the same snapshot.
        let mut tx = self.pool.begin().await?;
        // The rowids the search indexes match, each with its side (0 words, 1 fragment), when
        // there are fewer than the walk needs to be the cheaper; None: walk.
        let collected: Option<Vec<(i64, i64)>> = match (&words, &fragment) {
            // Pieces of unspaced scripts alone have no index: the walk is the only way.
            (None, None) => None,
            _ => {
                // Walking costs about limit × leads / matches index entries, reading the matches
                // about WALK_PER_MATCH times as much each: the walk wins from sqrt(limit × leads
                // / WALK_PER_MATCH) matches on, and the read stops there.
                let leads: i64 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM leads")
                    .fetch_one(&mut *tx)
                    .await?;
                let enough = ((f64::from(limit) * leads as f64 / WALK_PER_MATCH).sqrt().ceil() as i64).max(1);
                let index_matches = match (&words, &fragment) {
                    (Some(_), Some(_)) => {
                        "SELECT rowid, 0 FROM leads_fts WHERE leads_fts MATCH $1 \
                         UNION ALL SELECT rowid, 1 FROM leads_trgm WHERE leads_trgm MATCH $2"
                    }
                    (Some(_), None) => "SELECT rowid, 0 FROM leads_fts WHERE leads_fts MATCH $1",
                    _ => "SELECT rowid, 1 FROM leads_trgm WHERE leads_trgm MATCH $2",
                };
                let found: Vec<(i64, i64)> = sqlx::query_as(&format!("{index_matches} LIMIT $3"))
                    .bind(&words)
                    .bind(&fragment)
                    .bind(enough)
                    .fetch_all(&mut *tx)
                    .await?;
                (found.len() < enough as usize).then_some(found)
            }
        };
        // The matches of each side: the search indexes' (walking), or the rowids just read from
        // them, as JSON arrays (collecting). $8 and $9 are bound either way, used or not.
        let (word_set, fragment_set, word_bind, fragment_bind) = match &collected {
            None => (
                "SELECT rowid FROM leads_fts WHERE leads_fts MATCH $8",
                "SELECT rowid FROM leads_trgm WHERE leads_trgm MATCH $9",
                words.clone(),
                fragment.clone(),
            ),
            Some(found) => {
                let side = |s: i64| {
                    let rowids: Vec<i64> = found.iter().filter(|f| f.1 == s).map(|f| f.0).collect();
                    serde_json::to_string(&rowids).expect("numbers serialise")
                };
                (
                    "SELECT value FROM json_each($8)",
                    "SELECT value FROM json_each($9)",
                    Some(side(0)),
                    Some(side(1)),
                )
            }
        };
        // Each part is in the statement only when it has something to match: FTS5 refuses a
        // NULL MATCH.
        let word_part = words.is_some().then(|| format!("seq IN ({word_set})"));
        let inner_part = inner.is_some().then_some(
            "NOT EXISTS (SELECT 1 FROM json_each($10) w WHERE instr(lower(first_name || ' ' || last_name || ' ' || \
             company || ' ' || coalesce(title, '') || ' ' || coalesce(notes, '')), w.value) = 0)",
        );
        let fragment_part = fragment.is_some().then(|| format!("seq IN ({fragment_set})"));
        let word_side = match (word_part, inner_part) {
            (Some(w), Some(i)) => Some(format!("{w} AND {i}")),
            (Some(w), None) => Some(w),
            (None, Some(i)) => Some(i.to_string()),
            (None, None) => None,
        };
        let matches = match (word_side, fragment_part) {
            (Some(w), Some(f)) => format!("(({w}) OR {f})"),
            (Some(w), None) => format!("({w})"),
            (None, Some(f)) => f,
            (None, None) => return Ok(Vec::new()),
        };
        // INDEXED BY makes SQLite walk the list order; NOT INDEXED leaves it only the rowids
        // of the matches (SQLite still looks rows up by rowid under NOT INDEXED).
        let access = if collected.is_some() {
            "NOT INDEXED"
        } else {
            "INDEXED BY leads_list_idx"
        };
        let leads = bind_filters!(
            sqlx::query_as(&format!(
                "SELECT {LEAD_COLUMNS} FROM leads {access} WHERE {FILTERS} AND {matches} \
                 ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $11"
            )),
            filter,
            now
        )
        .bind(word_bind)
        .bind(fragment_bind)
        .bind(inner)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(leads)
    }

    // ------------------------------------------------------------------ contacts

    // ------------------------------------------------------------------ calls

    // ------------------------------------------------------------------ queue and assignments

    // ------------------------------------------------------------------ callbacks

    // ------------------------------------------------------------------ do-not-call list

    // ------------------------------------------------------------------ change feed

    /// SQLite serialises writers, so feed ids become visible in id order: a plain id cursor is exact.
    pub async fn changes_since(&self, cursor: FeedCursor, limit: u32) -> Result<Vec<Change>> {
        Ok(
            sqlx::query_as("SELECT id, 0 AS tx, kind, lead_id, op, at FROM changes WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(cursor.id)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// SQLite has no notifications; consoles on one file rely on polling the feed.
    pub async fn wakeups(&self) -> Result<Option<crate::store::Wakeups>> {
        Ok(None)
    }

    pub async fn feed_head(&self) -> Result<FeedCursor> {
        let id: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM changes")
            .fetch_one(&self.pool)
            .await?;
        Ok(FeedCursor { tx: 0, id })
    }
}

/// A list bound as one JSON array and read back with `json_each` (SQLite has no array type), so
/// one parameter carries a whole batch.
fn json_list<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}
