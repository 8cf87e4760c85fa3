//! PostgreSQL backend: every SQL statement the shared floor runs.
//!
//! Rules that read-then-write lock the lead row first (`SELECT … FOR UPDATE`) and read the facts
//! in fresh statements after the lock is held, so under READ COMMITTED they see every commit that
//! happened before they got the lock. Constraints (one active call per lead, one live assignment
//! per lead) stay the last line of defence.

mod backup;
mod bulk;
mod dialect;
mod gdpr;
mod health;
mod identity;
mod merge;
mod offline;
mod scripts;

use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::ConnectOptions as _;
use uuid::Uuid;

use super::model::*;
use super::search::{like_contains, SearchTerms};
use super::{ConnectOptions, Result, StoreError};
use crate::domain::{Disposition, LeadStatus, PresenceState};
use crate::store::portable::columns::{CALL_COLUMNS, LEAD_COLUMNS};
use crate::store::portable::{bind_filters, bind_lead};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// The change feed's horizon: the oldest transaction that may still add rows to this database's
/// feed, as seen by the statement's own snapshot. Every row below it is final.
///
/// The snapshot lists the transactions still running (`xip`) across the whole cluster; the
/// simpler `pg_snapshot_xmin` would let one long transaction in another database stall every
/// screen. So running transactions that `pg_stat_activity` shows in another database are left
/// out (it shows any role each backend's database and 32-bit transaction id, compared here with
/// the low 32 bits of the snapshot's 64-bit ids). A transaction that ended between the snapshot
/// and that lookup has no row there and still counts: the horizon errs early, for one poll,
/// never late. The snapshot and the rows read with it are one statement's, so they agree.
/// (Prepared two-phase transactions have no backend; coldcall never prepares one.)
macro_rules! feed_horizon {
    () => {
        "SELECT least(pg_snapshot_xmax(s.snap), \
        (SELECT min(x) FROM pg_snapshot_xip(s.snap) AS x \
         WHERE (x::text)::bigint % 4294967296 NOT IN \
               (SELECT (a.backend_xid::text)::bigint FROM pg_stat_activity a \
                WHERE a.backend_xid IS NOT NULL AND a.datname IS DISTINCT FROM current_database()))) AS xid \
         FROM (SELECT pg_current_snapshot() AS snap) s"
    };
}

/// The list and search filters, shared by both queries; binds $1–$7.
const FILTERS: &str = "deleted_at IS NULL \
    AND ($1::text IS NULL OR status = $1) \
    AND ($2::text IS NULL OR priority = $2) \
    AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM lead_assignments a WHERE a.lead_id = leads.id AND a.active \
         AND a.agent_id = $3 AND (a.expires_at IS NULL OR a.expires_at > $6))) \
    AND ($4::smallint IS NULL OR lead_score >= $4) \
    AND ($5::smallint IS NULL OR lead_score <= $5) \
    AND (NOT $7 OR EXISTS (SELECT 1 FROM callbacks c WHERE c.lead_id = leads.id AND c.done_at IS NULL AND c.due_at <= $6))";

/// The text searched for pieces of unspaced scripts (see `SearchTerms::inner`), matched with
/// `strpos`, which takes no wildcards.
const INNER_DOCUMENT: &str = "lower(first_name || ' ' || last_name || ' ' || company || ' ' || \
    coalesce(title, '') || ' ' || coalesce(notes, ''))";

/// A search walks the list order only when at least this share of the live leads match, by the
/// planner's estimate: below it, reading every match through the search indexes and sorting
/// them costs less than the limit / share leads a walk reads (see `search_leads`).
const WALK_SHARE: f64 = 0.01;
/// What a lead read through the search indexes and sorted costs beside one read walking the list
/// order (measured on a million leads: a bitmap of matches took 2–8 µs a lead, a walk 1.6 µs).
const COLLECT_COST: f64 = 4.0;
/// The same for a phone or email fragment, whose estimate the planner takes from a hundred
/// sampled values: one sampled email holding a rare fragment reads as 1% of the leads (a
/// four-digit fragment matching 0.05% walked a million leads, 1.6 s), five as 5%.
const FRAGMENT_WALK_SHARE: f64 = 0.05;

/// The claim queue, in order, over the hopper (`lead_queue`, see its migration): mirrors can-call
/// in SQL so the walk skips what would be refused (every candidate is still checked by can-call
/// once its lead is locked). The ORDER BY is `lead_queue_ready_idx`'s, so a claim reads the
/// ready rows in index order and stops at the first that passes. `$state` picks the rows: the
/// ready ones for a claim (which feeds first), and for a read-only preview those a feed would
/// make ready too. Binds $1 agent, $2 now, $3 min-gap cutoff, $4 max attempts, $5 open zones,
/// $6 default zone open, $7 the time before which another agent's callback has outlived its
/// grace period and is anyone's.
macro_rules! queue_sql {
    ($state:literal) => {
        concat!(
            "FROM lead_queue q WHERE ",
            $state,
            " AND (q.next_call_at IS NULL OR q.next_call_at <= $2) \
               AND (q.last_call_at IS NULL OR q.last_call_at <= $3) \
               AND q.call_attempts < $4 \
               AND (q.timezone = ANY($5) OR (q.timezone IS NULL AND $6)) \
               AND NOT EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = q.lead_id) \
               AND NOT EXISTS (SELECT 1 FROM lead_assignments a WHERE a.lead_id = q.lead_id AND a.active \
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
const QUEUE: &str = queue_sql!("q.state = 1 AND NOT (q.lead_id = ANY($9))");
/// What a preview shows beside the ready set: the waiting rows the claim's feed would make
/// ready. A statement of its own, walked beside `QUEUE`: one walk over both (`state = 1 OR …`)
/// cannot follow either index and sorted the whole queue (78 ms at 100,000 leads).
const QUEUE_DUE: &str = queue_sql!("q.state = 0 AND q.due_hint <= $2 AND NOT (q.lead_id = ANY($9))");
/// The agent's own live claim, which stays theirs to take again in its place in the order.
const QUEUE_OWN: &str = queue_sql!(
    "q.lead_id IN (SELECT o.lead_id FROM lead_assignments o WHERE o.active AND o.agent_id = $1 \
     AND o.assigned_by = $1 AND o.checkout_id IS NULL) AND NOT (q.lead_id = ANY($9))"
);

/// Binds the claim queue's parameters ($1–$7, see `QUEUE`) on any query over it.
macro_rules! bind_queue {
    ($query:expr, $agent:expr, $now:expr, $p:expr) => {
        $query
            .bind($agent)
            .bind($now)
            .bind($p.gap_cutoff)
            .bind($p.max_attempts)
            .bind(&$p.zones)
            .bind($p.default_open)
            .bind($p.grace_cutoff)
    };
}

mod statements;

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    crate::store::portable::store_queries!();

    /// The pool the shared queries read from: one pool serves reads and writes alike.
    fn reader(&self) -> &PgPool {
        &self.pool
    }

    /// The pool the shared queries write through (the same pool as `reader`).
    fn writer(&self) -> &PgPool {
        &self.pool
    }

    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<PgStore> {
        let connect: PgConnectOptions = url.parse()?;
        // A stuck console must not hold locks or hold back vacuum: bound statements and idle
        // transactions on the server side as well.
        let connect = connect
            .options([
                ("statement_timeout", "15s"),
                ("lock_timeout", "5s"),
                ("idle_in_transaction_session_timeout", "30s"),
            ])
            // Every statement at debug (COLDCALL_LOG=sqlx=debug), slow ones as warnings.
            .log_statements(log::LevelFilter::Debug)
            .log_slow_statements(log::LevelFilter::Warn, options.slow_statement);
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(true)
            .connect_with(connect)
            .await?;
        Ok(PgStore { pool })
    }

    /// Whether this session's connection is encrypted, as the server sees it.
    pub async fn connection_encrypted(&self) -> Result<bool> {
        Ok(
            sqlx::query_scalar("SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), FALSE)")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub async fn close(&self) {
        self.pool.close().await
    }

    // ------------------------------------------------------------------ schema

    pub async fn migration_status(&self) -> Result<Vec<MigrationInfo>> {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&self.pool)
            .await?;
        let applied: Vec<i64> = if exists {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
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
        // The first page and the pages after a cursor are two statements: an `$8 IS NULL OR`
        // form in one would leave a generic plan unable to seek `leads_list_idx` to the cursor.
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
                 AND (priority_rank, lead_score, id) < ($8::smallint, $9::smallint, $10::uuid) \
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
    /// has (words through `leads_search_idx` over the stored `search_doc`, a fragment through the
    /// trigram indexes, pieces of unspaced scripts by `strpos`), and is read one of two ways:
    /// walking `leads_list_idx` in list order until `limit` leads match, which costs
    /// `limit / share` leads read, or collecting every match through the indexes and sorting them,
    /// which costs the matches. The planner's own estimate of the matches (EXPLAIN, with the
    /// terms bound, so it sees their frequency) of the words and of the fragment, each apart,
    /// picks: walk when either part alone matches at least `WALK_SHARE` of the leads (a fragment
    /// `FRAGMENT_WALK_SHARE`) and collecting would cost more. Left to itself the planner walks
    /// for a word it has no statistics on (it assumes 0.5% match) and for fragments, whose
    /// estimate comes from a hundred sampled values: a rare phone fragment read a million leads.
    pub async fn search_leads(
        &self,
        terms: &SearchTerms,
        filter: &LeadFilter,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Lead>> {
        // Words are alphanumeric only (see SearchTerms), so `word:*` is always a valid prefix query.
        let tsquery = (!terms.words.is_empty()).then(|| {
            terms
                .words
                .iter()
                .map(|w| format!("{w}:*"))
                .collect::<Vec<_>>()
                .join(" & ")
        });
        let fragment = terms.fragment.as_deref().map(like_contains);
        let inner = format!(
            "NOT EXISTS (SELECT 1 FROM unnest($10::text[]) AS w(piece) WHERE strpos({INNER_DOCUMENT}, w.piece) = 0)"
        );
        let words = match (tsquery.is_some(), terms.inner.is_empty()) {
            (true, true) => Some("search_doc @@ to_tsquery('simple', $8)".to_string()),
            (true, false) => Some(format!("search_doc @@ to_tsquery('simple', $8) AND {inner}")),
            (false, false) => Some(inner),
            (false, true) => None,
        };
        let fragment_part = fragment.is_some().then_some("(phone LIKE $9 OR email LIKE $9)");
        let matches = match (&words, fragment_part) {
            (Some(words), Some(fragment)) => format!("(({words}) OR {fragment})"),
            (Some(words), None) => format!("({words})"),
            (None, Some(fragment)) => fragment.to_string(),
            (None, None) => return Ok(Vec::new()),
        };
        // Every statement binds $8–$10, used or not: each is typed, so PostgreSQL takes them.
        macro_rules! bind_terms {
            ($query:expr) => {
                bind_filters!($query, filter, now)
                    .bind(&tsquery)
                    .bind(&fragment)
                    .bind(&terms.inner)
            };
        }
        let mut conn = self.pool.acquire().await?;
        // Pieces of unspaced scripts have no index: with no words beside them, the walk is the
        // only way.
        let walk = if tsquery.is_none() && !terms.inner.is_empty() {
            true
        } else {
            let leads: f32 = sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = 'leads'::regclass")
                .fetch_one(&mut *conn)
                .await?;
            let leads = f64::from(leads);
            // The planner's estimate of the leads a part matches.
            let mut estimate = async |part: &str| -> Result<Option<f64>> {
                let plan: Vec<String> = bind_terms!(sqlx::query_scalar(&format!(
                    "EXPLAIN SELECT 1 FROM leads WHERE {FILTERS} AND {part}"
                )))
                .fetch_all(&mut *conn)
                .await?;
                Ok(plan.first().and_then(|line| estimated_rows(line)))
            };
            let walks = |matches: f64, share: f64| {
                matches >= share * leads && COLLECT_COST * matches * matches >= f64::from(limit) * leads
            };
            // Never analysed (no reltuples): no estimate to trust, and collecting costs the
            // matches at worst where a walk for a rare term reads every lead.
            leads > 0.0 && {
                let by_words = match &words {
                    Some(words) => estimate(words).await?.is_some_and(|m| walks(m, WALK_SHARE)),
                    None => false,
                };
                by_words
                    || match fragment_part {
                        Some(fragment) => estimate(fragment).await?.is_some_and(|m| walks(m, FRAGMENT_WALK_SHARE)),
                        None => false,
                    }
            }
        };
        let sql = if walk {
            format!(
                "SELECT {LEAD_COLUMNS} FROM leads WHERE {FILTERS} AND {matches} \
                 ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $11"
            )
        } else {
            // OFFSET 0 keeps the ORDER BY out of the subquery, so its matches are read through
            // the search indexes (a bitmap), never by walking the list order.
            format!(
                "SELECT {LEAD_COLUMNS} FROM (SELECT {LEAD_COLUMNS}, priority_rank FROM leads \
                 WHERE {FILTERS} AND {matches} OFFSET 0) leads ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $11"
            )
        };
        Ok(bind_terms!(sqlx::query_as(&sql))
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await?)
    }

    // ------------------------------------------------------------------ contacts

    // ------------------------------------------------------------------ calls

    // ------------------------------------------------------------------ queue and assignments

    // ------------------------------------------------------------------ callbacks

    // ------------------------------------------------------------------ do-not-call list

    // ------------------------------------------------------------------ change feed

    /// The change feed from `cursor`. On PostgreSQL a sequence value is taken at insert, not at
    /// commit, so a lower id can become visible after a higher one was read. Paging by (writing
    /// transaction, id) and reading only below the feed horizon (see `feed_horizon!`) makes every
    /// page final: nothing can later appear before the cursor.
    pub async fn changes_since(&self, cursor: FeedCursor, limit: u32) -> Result<Vec<Change>> {
        Ok(sqlx::query_as(concat!(
            "WITH horizon AS (",
            feed_horizon!(),
            ") SELECT id, (tx::text)::bigint AS tx, kind, lead_id, op, at FROM changes, horizon \
             WHERE (tx, id) > ($1::text::xid8, $2) AND tx < horizon.xid ORDER BY tx, id LIMIT $3"
        ))
        .bind(cursor.tx.to_string())
        .bind(cursor.id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    /// A listener that wakes when a call lock is taken or released anywhere on the floor.
    pub async fn wakeups(&self) -> Result<Option<Wakeups>> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen("coldcall_changes").await?;
        Ok(Some(Wakeups(listener)))
    }

    pub async fn feed_head(&self) -> Result<FeedCursor> {
        let tx: i64 = sqlx::query_scalar(concat!(
            "SELECT (xid::text)::bigint FROM (",
            feed_horizon!(),
            ") horizon"
        ))
        .fetch_one(&self.pool)
        .await?;
        // Everything below the oldest running writer is final and counts as seen.
        Ok(FeedCursor {
            tx: tx - 1,
            id: i64::MAX,
        })
    }
}

/// Wake-ups from PostgreSQL's LISTEN/NOTIFY.
pub struct Wakeups(sqlx::postgres::PgListener);

impl Wakeups {
    /// Waits for the next wake-up. An error means the listening connection was lost; sqlx
    /// reconnects on the next call, and notifications sent meanwhile are lost (polling covers them).
    pub async fn next(&mut self) -> Result<()> {
        self.0.recv().await?;
        Ok(())
    }
}

/// The rows the first line of a text EXPLAIN estimates: `… (cost=0.00..1.00 rows=123 width=4)`.
fn estimated_rows(line: &str) -> Option<f64> {
    let rows = &line[line.find(" rows=")? + 6..];
    rows[..rows.find(' ')?].parse().ok()
}
