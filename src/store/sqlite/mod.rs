//! SQLite backend: every SQL statement of the single-agent, offline console.
//!
//! SQLite has one writer at a time. Every read-then-write runs in `BEGIN IMMEDIATE`, which takes
//! the write lock up front: a deferred transaction that reads and then writes would fail with
//! "database is locked" instead of waiting out the busy timeout. WAL lets readers go on meanwhile.
//! Constraints (one active call per lead, one live assignment per lead) stay the last line of defence.

/// Binds $1 id, $2–$15 the lead's fields through consent, $16 now, $17–$19 the flags and data
/// quality, $20 the actor: the shared parameter layout of the lead insert, the edit and the
/// import's update. A macro, so it serves `query` and `query_as` alike.
macro_rules! bind_lead {
    ($query:expr, $id:expr, $fields:expr, $now:expr, $actor:expr) => {{
        let f: &crate::domain::LeadFields = $fields;
        $query
            .bind($id)
            .bind(&f.first_name)
            .bind(&f.last_name)
            .bind(&f.email)
            .bind(&f.phone)
            .bind(&f.company)
            .bind(&f.title)
            .bind(&f.timezone)
            .bind(f.status)
            .bind(f.priority)
            .bind(f.lead_score)
            .bind(f.conversion_probability)
            .bind(&f.source)
            .bind(&f.notes)
            .bind(f.consent_given)
            .bind($now)
            .bind(f.do_not_call)
            .bind(f.do_not_email)
            .bind(f.data_quality())
            .bind($actor)
    }};
}

mod backup;
mod bulk;
mod gdpr;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

use super::model::*;
use super::search::SearchTerms;
use super::{settings, CallFacts, ConnectOptions, QueueParams, Result, StoreError};
use crate::domain::{
    self, disposition::OutcomeInput, AssignmentFacts, Disposition, LastCallFacts, LeadFacts, LeadFields, LeadStatus,
    PresenceState, Refusal,
};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

const LEAD_COLUMNS: &str = "id, first_name, last_name, email, phone, company, title, timezone, status, priority, \
    lead_score, conversion_probability, source, notes, consent_given, consent_date, do_not_call, do_not_email, \
    call_attempts, last_call_at, next_call_at, data_quality, created_at, updated_at, updated_by, deleted_at";

const CALL_COLUMNS: &str = "c.id, c.lead_id, c.agent_id, a.name AS agent_name, c.phone_number, c.from_number, \
    c.direction, c.status, c.disposition, c.duration_s, c.notes, c.recording_url, c.started_at, c.answered_at, \
    c.ended_at, c.ended_by";

/// The list and search filters, shared by both queries; binds $1–$7.
const FILTERS: &str = "deleted_at IS NULL \
    AND ($1 IS NULL OR status = $1) \
    AND ($2 IS NULL OR priority = $2) \
    AND ($3 IS NULL OR EXISTS (SELECT 1 FROM lead_assignments a WHERE a.lead_id = leads.id AND a.active = 1 \
         AND a.agent_id = $3 AND (a.expires_at IS NULL OR a.expires_at > $6))) \
    AND ($4 IS NULL OR lead_score >= $4) \
    AND ($5 IS NULL OR lead_score <= $5) \
    AND (NOT $7 OR EXISTS (SELECT 1 FROM callbacks c WHERE c.lead_id = leads.id AND c.done_at IS NULL AND c.due_at <= $6))";

/// The claim queue, in order: mirrors can-call in SQL so the scan skips what would be refused
/// (every candidate is still checked by can-call once its row is locked). Binds $1 agent, $2 now,
/// $3 min-gap cutoff, $4 max attempts, $5 open zones, $6 default zone open, $7 the time before
/// which another agent's callback has outlived its grace period and is anyone's.
const QUEUE: &str = "FROM leads \
             WHERE deleted_at IS NULL AND do_not_call = 0 AND status NOT IN ('closed_won', 'closed_lost') \
               AND (next_call_at IS NULL OR next_call_at <= $2) \
               AND (last_call_at IS NULL OR last_call_at <= $3) \
               AND call_attempts < $4 \
               AND (timezone IN (SELECT value FROM json_each($5)) OR (timezone IS NULL AND $6)) \
               AND NOT EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = leads.id) \
               AND NOT EXISTS (SELECT 1 FROM lead_assignments a WHERE a.lead_id = leads.id AND a.active = 1 \
                               AND a.agent_id <> $1 AND (a.expires_at IS NULL OR a.expires_at > $2)) \
               AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.lead_id = leads.id AND c.done_at IS NULL \
                               AND c.agent_id <> $1 AND c.due_at > $7) \
               AND NOT EXISTS (SELECT 1 FROM dnc_numbers d WHERE d.number = leads.phone) \
     ORDER BY priority_rank DESC, lead_score DESC, next_call_at ASC NULLS FIRST, id";

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

type Tx = Transaction<'static, Sqlite>;

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
    pub async fn connect(path: &Path, options: &ConnectOptions) -> Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::BadInput(format!("cannot create {}: {e}", dir.display())))?;
        }
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // two consoles on one file wait for each other instead of failing
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.clone())
            .await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await?;
        Ok(SqliteStore { pool, writer })
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// Every transaction here writes, so each takes the write lock at BEGIN (see module docs).
    async fn begin(&self) -> Result<Tx> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    // ------------------------------------------------------------------ schema

    pub async fn migrate(&self) -> Result<()> {
        Ok(MIGRATOR.run(&self.writer).await?)
    }

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

    pub async fn migrate_down(&self) -> Result<Option<MigrationInfo>> {
        let status = self.migration_status().await?;
        let Some((target, undone)) = super::undo_target(&status) else {
            return Ok(None);
        };
        MIGRATOR.undo(&self.writer, target).await?;
        Ok(Some(undone))
    }

    pub async fn seed_dispositions(&self, defaults: &[Disposition]) -> Result<()> {
        let mut tx = self.begin().await?;
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM dispositions")
            .fetch_one(&mut *tx)
            .await?;
        if count == 0 {
            for (order, d) in defaults.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO dispositions (code, label, hotkey, is_contact, is_sale, is_dnc, is_callback, is_final, \
                     next_status, recycle_after_s, max_attempts, sort_order) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(&d.code)
                .bind(&d.label)
                .bind(d.hotkey.map(String::from))
                .bind(d.is_contact)
                .bind(d.is_sale)
                .bind(d.is_dnc)
                .bind(d.is_callback)
                .bind(d.is_final)
                .bind(d.next_status)
                .bind(d.recycle_after.map(|r| r.num_seconds() as i32))
                .bind(d.max_attempts)
                .bind(order as i32)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    // ------------------------------------------------------------------ agents and settings

    pub async fn add_agent(&self, agent: &NewAgent, now: DateTime<Utc>) -> Result<Agent> {
        Ok(sqlx::query_as(
            "INSERT INTO agents (name, email, role, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, name, email, role, active, created_at",
        )
        .bind(&agent.name)
        .bind(&agent.email)
        .bind(agent.role)
        .bind(now)
        .fetch_one(&self.writer)
        .await?)
    }

    pub async fn agent_by_name(&self, name: &str) -> Result<Option<Agent>> {
        Ok(
            sqlx::query_as("SELECT id, name, email, role, active, created_at FROM agents WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn agent(&self, id: i64) -> Result<Option<Agent>> {
        Ok(
            sqlx::query_as("SELECT id, name, email, role, active, created_at FROM agents WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn agents(&self) -> Result<Vec<Agent>> {
        Ok(
            sqlx::query_as("SELECT id, name, email, role, active, created_at FROM agents ORDER BY name")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn settings(&self) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as("SELECT key, value FROM settings ORDER BY key")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn set_setting(&self, key: &str, value: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn dispositions(&self) -> Result<Vec<Disposition>> {
        let rows: Vec<super::DispositionRow> = sqlx::query_as(
            "SELECT code, label, hotkey, is_contact, is_sale, is_dnc, is_callback, is_final, next_status, \
             recycle_after_s, max_attempts FROM dispositions ORDER BY sort_order, code",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Disposition::from).collect())
    }

    // ------------------------------------------------------------------ leads

    pub async fn create_lead(&self, id: Uuid, f: &LeadFields, actor: Option<i64>, now: DateTime<Utc>) -> Result<Lead> {
        let sql = format!(
            "INSERT INTO leads (id, first_name, last_name, email, phone, company, title, timezone, status, priority, \
             lead_score, conversion_probability, source, notes, consent_given, consent_date, do_not_call, do_not_email, \
             data_quality, created_at, updated_at, updated_by, status_reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                     CASE WHEN $15 THEN $16 END, $17, $18, $19, $16, $16, $20, 'created') \
             RETURNING {LEAD_COLUMNS}"
        );
        let query = sqlx::query_as(&sql);
        Ok(bind_lead!(query, id, f, now, actor).fetch_one(&self.writer).await?)
    }

    pub async fn update_lead(
        &self,
        id: Uuid,
        f: &LeadFields,
        actor: Option<i64>,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Lead> {
        // do_not_call only ever turns on here: clearing it is a deliberate act, not an edit.
        let sql = format!(
            "UPDATE leads SET first_name = $2, last_name = $3, email = $4, phone = $5, company = $6, title = $7, \
             timezone = $8, status = $9, priority = $10, lead_score = $11, conversion_probability = $12, source = $13, \
             notes = $14, consent_date = CASE WHEN NOT $15 THEN NULL WHEN consent_given THEN consent_date ELSE $16 END, \
             consent_given = $15, do_not_call = do_not_call OR $17, do_not_email = $18, data_quality = $19, \
             updated_at = $16, updated_by = $20, status_reason = coalesce($21, 'edited') \
             WHERE id = $1 RETURNING {LEAD_COLUMNS}"
        );
        bind_lead!(sqlx::query_as(&sql), id, f, now, actor)
            .bind(reason)
            .fetch_optional(&self.writer)
            .await?
            .ok_or_else(|| StoreError::not_found("lead", id))
    }

    pub async fn lead(&self, id: Uuid) -> Result<Option<Lead>> {
        Ok(
            sqlx::query_as(&format!("SELECT {LEAD_COLUMNS} FROM leads WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn set_status(
        &self,
        id: Uuid,
        status: LeadStatus,
        reason: Option<&str>,
        actor: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Lead> {
        sqlx::query_as(&format!(
            "UPDATE leads SET status = $2, status_reason = $3, updated_by = $4, updated_at = $5 \
             WHERE id = $1 AND deleted_at IS NULL RETURNING {LEAD_COLUMNS}"
        ))
        .bind(id)
        .bind(status)
        .bind(reason)
        .bind(actor)
        .bind(now)
        .fetch_optional(&self.writer)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", id))
    }

    pub async fn set_deleted(&self, id: Uuid, deleted: bool, actor: Option<i64>, now: DateTime<Utc>) -> Result<Lead> {
        let mut tx = self.begin().await?;
        let on_call: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM active_calls WHERE lead_id = $1)")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if deleted && on_call {
            return Err(StoreError::Conflict(
                "the lead is on a call; end the call before deleting it".into(),
            ));
        }
        let lead: Lead = sqlx::query_as(&format!(
            "UPDATE leads SET deleted_at = CASE WHEN $2 THEN $3 END, updated_at = $3, updated_by = $4 \
             WHERE id = $1 RETURNING {LEAD_COLUMNS}"
        ))
        .bind(id)
        .bind(deleted)
        .bind(now)
        .bind(actor)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", id))?;
        audit(
            &mut tx,
            now,
            actor,
            if deleted { "delete" } else { "restore" },
            "lead",
            &id.to_string(),
            None,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(lead)
    }

    pub async fn list_leads(
        &self,
        filter: &LeadFilter,
        after: Option<LeadCursor>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Lead>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE {FILTERS} \
             AND ($8 IS NULL OR (priority_rank, lead_score, id) < ($8, $9, $10)) \
             ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $11"
        ))
        .bind(filter.status)
        .bind(filter.priority)
        .bind(filter.assigned_to)
        .bind(filter.min_score)
        .bind(filter.max_score)
        .bind(now)
        .bind(filter.callbacks_due)
        .bind(after.map(|c| c.priority_rank))
        .bind(after.map(|c| c.lead_score))
        .bind(after.map(|c| c.id))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

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
        let matches = match (&words, &fragment) {
            (Some(_), Some(_)) => {
                "(seq IN (SELECT rowid FROM leads_fts WHERE leads_fts MATCH $8) \
                                   OR seq IN (SELECT rowid FROM leads_trgm WHERE leads_trgm MATCH $9))"
            }
            (Some(_), None) => "seq IN (SELECT rowid FROM leads_fts WHERE leads_fts MATCH $8) AND $9 IS NULL",
            (None, _) => "seq IN (SELECT rowid FROM leads_trgm WHERE leads_trgm MATCH $9) AND $8 IS NULL",
        };
        Ok(sqlx::query_as(&format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE {FILTERS} AND {matches} \
             ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $10"
        ))
        .bind(filter.status)
        .bind(filter.priority)
        .bind(filter.assigned_to)
        .bind(filter.min_score)
        .bind(filter.max_score)
        .bind(now)
        .bind(filter.callbacks_due)
        .bind(words)
        .bind(fragment)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    // ------------------------------------------------------------------ contacts

    pub async fn contacts(&self, lead_id: Uuid) -> Result<Vec<Contact>> {
        Ok(sqlx::query_as(
            "SELECT id, lead_id, kind, value, label, is_primary, is_verified, created_at FROM contacts \
             WHERE lead_id = $1 ORDER BY kind, is_primary DESC, created_at",
        )
        .bind(lead_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn add_contact(&self, id: Uuid, lead_id: Uuid, c: &NewContact, now: DateTime<Utc>) -> Result<Contact> {
        let mut tx = self.begin().await?;
        lock_live_lead(&mut tx, lead_id).await?;
        if c.is_primary {
            sqlx::query("UPDATE contacts SET is_primary = FALSE WHERE lead_id = $1 AND kind = $2 AND is_primary")
                .bind(lead_id)
                .bind(c.kind)
                .execute(&mut *tx)
                .await?;
        }
        let contact = sqlx::query_as(
            "INSERT INTO contacts (id, lead_id, kind, value, label, is_primary, is_verified, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             RETURNING id, lead_id, kind, value, label, is_primary, is_verified, created_at",
        )
        .bind(id)
        .bind(lead_id)
        .bind(c.kind)
        .bind(&c.value)
        .bind(&c.label)
        .bind(c.is_primary)
        .bind(c.is_verified)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(contact)
    }

    pub async fn update_contact(&self, id: Uuid, c: &NewContact) -> Result<Contact> {
        let mut tx = self.begin().await?;
        let lead_id: Uuid = sqlx::query_scalar("SELECT lead_id FROM contacts WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("contact", id))?;
        lock_live_lead(&mut tx, lead_id).await?;
        if c.is_primary {
            sqlx::query(
                "UPDATE contacts SET is_primary = FALSE WHERE lead_id = $1 AND kind = $2 AND is_primary AND id <> $3",
            )
            .bind(lead_id)
            .bind(c.kind)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        let contact = sqlx::query_as(
            "UPDATE contacts SET kind = $2, value = $3, label = $4, is_primary = $5, is_verified = $6 WHERE id = $1 \
             RETURNING id, lead_id, kind, value, label, is_primary, is_verified, created_at",
        )
        .bind(id)
        .bind(c.kind)
        .bind(&c.value)
        .bind(&c.label)
        .bind(c.is_primary)
        .bind(c.is_verified)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(contact)
    }

    pub async fn remove_contact(&self, id: Uuid) -> Result<()> {
        let done = sqlx::query("DELETE FROM contacts WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("contact", id));
        }
        Ok(())
    }

    // ------------------------------------------------------------------ calls

    pub async fn can_call(&self, lead_id: Uuid, agent_id: i64, now: DateTime<Utc>) -> Result<Result<(), Refusal>> {
        let mut tx = self.begin().await?;
        let facts = load_facts(&mut tx, lead_id, false).await?;
        tx.rollback().await?;
        Ok(facts.check(agent_id, now))
    }

    pub async fn start_call(&self, call_id: Uuid, req: &StartCall, now: DateTime<Utc>) -> Result<StartedCall> {
        let mut tx = self.begin().await?;
        let mut facts = load_facts(&mut tx, req.lead_id, true).await?;
        if let Some(active) = &facts.active {
            if super::lock_is_stale(&facts.policy, active.heartbeat_at, now) {
                reap(
                    &mut tx,
                    req.lead_id,
                    facts.active_call_id,
                    Some(req.agent_id),
                    now,
                    None,
                )
                .await?;
                facts = load_facts(&mut tx, req.lead_id, false).await?;
            }
        }
        facts.check(req.agent_id, now)?;
        let phone = facts.lead.as_ref().map(|l| l.phone.clone()).unwrap_or_default();
        sqlx::query(
            "INSERT INTO call_logs (id, lead_id, agent_id, phone_number, from_number, direction, status, started_at) \
             VALUES ($1, $2, $3, $4, $5, 'outbound', 'initiated', $6)",
        )
        .bind(call_id)
        .bind(req.lead_id)
        .bind(req.agent_id)
        .bind(&phone)
        .bind(&req.from_number)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let locked = sqlx::query(
            "INSERT INTO active_calls (lead_id, call_log_id, agent_id, phone_number, started_at, heartbeat_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (lead_id) DO NOTHING",
        )
        .bind(req.lead_id)
        .bind(call_id)
        .bind(req.agent_id)
        .bind(&phone)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if locked.rows_affected() == 0 {
            // Only reachable if something bypassed the row lock; the key still decides.
            drop(tx);
            let mut tx = self.begin().await?;
            let facts = load_facts(&mut tx, req.lead_id, false).await?;
            return Err(facts
                .check(req.agent_id, now)
                .err()
                .unwrap_or(Refusal::LeadNotFound)
                .into());
        }
        tx.commit().await?;
        Ok(StartedCall {
            call_id,
            lead_id: req.lead_id,
            agent_id: req.agent_id,
            phone_number: phone,
            started_at: now,
        })
    }

    pub async fn heartbeat(&self, call_id: Uuid, agent_id: i64, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query("UPDATE active_calls SET heartbeat_at = $3 WHERE call_log_id = $1 AND agent_id = $2")
            .bind(call_id)
            .bind(agent_id)
            .bind(now)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn end_call(&self, req: &EndCall, now: DateTime<Utc>) -> Result<EndedCall> {
        let mut tx = self.begin().await?;
        let disposition = self.disposition_in(&mut tx, &req.disposition).await?;
        let lock: Option<(Uuid, i64, DateTime<Utc>)> =
            sqlx::query_as("SELECT lead_id, agent_id, started_at FROM active_calls WHERE call_log_id = $1")
                .bind(req.call_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((lead_id, owner, started_at)) = lock else {
            drop(tx);
            return self.already_ended(req).await;
        };
        if owner != req.agent_id {
            let role: Option<crate::domain::Role> = sqlx::query_scalar("SELECT role FROM agents WHERE id = $1")
                .bind(req.agent_id)
                .fetch_optional(&mut *tx)
                .await?;
            if !(req.force && role.is_some_and(|r| r.can_force())) {
                return Err(StoreError::Forbidden(
                    "only the agent on the call, or a supervisor with --force, can end it".into(),
                ));
            }
        }
        // Lock order is always lead row first, then its call lock, as in start-call and reaping.
        let lead: Lead = sqlx::query_as(&format!("SELECT {LEAD_COLUMNS} FROM leads WHERE id = $1"))
            .bind(lead_id)
            .fetch_one(&mut *tx)
            .await?;
        let still_ours: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM active_calls WHERE call_log_id = $1)")
            .bind(req.call_id)
            .fetch_one(&mut *tx)
            .await?;
        if !still_ours {
            drop(tx);
            return self.already_ended(req).await;
        }
        let policy = settings::policy_from(&settings_in(&mut tx).await?);
        let effects = domain::disposition::outcome_effects(&OutcomeInput {
            disposition: &disposition,
            current_status: lead.status,
            attempts_before: lead.call_attempts,
            call_started_at: started_at,
            now,
            callback_at: req.callback_at,
            policy_max_attempts: policy.max_attempts,
        })
        .map_err(|e| StoreError::BadInput(e.to_string()))?;
        let duration = req
            .duration_s
            .unwrap_or_else(|| (now - started_at).num_seconds().max(0) as i32);
        if duration < 0 {
            return Err(StoreError::BadInput("duration must not be negative".into()));
        }
        sqlx::query(
            "UPDATE call_logs SET status = $2, disposition = $3, duration_s = $4, notes = $5, recording_url = $6, \
             ended_at = $7, ended_by = $8, answered_at = CASE WHEN $9 THEN started_at END WHERE id = $1",
        )
        .bind(req.call_id)
        .bind(super::call_status_for(&disposition))
        .bind(&disposition.code)
        .bind(duration)
        .bind(&req.notes)
        .bind(&req.recording_url)
        .bind(now)
        .bind(req.agent_id)
        .bind(disposition.is_contact)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE leads SET call_attempts = $2, last_call_at = $3, next_call_at = $4, status = $5, \
             do_not_call = do_not_call OR $6, status_reason = $7, updated_by = $8, updated_at = $9 WHERE id = $1",
        )
        .bind(lead_id)
        .bind(effects.attempts)
        .bind(effects.last_call_at)
        .bind(effects.next_call_at)
        .bind(effects.new_status)
        .bind(effects.set_do_not_call)
        .bind(format!("call outcome: {}", disposition.label))
        .bind(req.agent_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if effects.add_to_dnc {
            sqlx::query(
                "INSERT INTO dnc_numbers (number, reason, added_by, added_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (number) DO NOTHING",
            )
            .bind(&lead.phone)
            .bind(format!("call outcome: {}", disposition.label))
            .bind(req.agent_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        // A call to the lead answers any callback that was due for it.
        sqlx::query("UPDATE callbacks SET done_at = $2 WHERE lead_id = $1 AND done_at IS NULL AND due_at <= $2")
            .bind(lead_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let callback_id = match effects.schedule_callback {
            Some(due_at) => {
                let id = Uuid::now_v7();
                sqlx::query(
                    "INSERT INTO callbacks (id, lead_id, agent_id, due_at, note, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(lead_id)
                .bind(owner)
                .bind(due_at)
                .bind(&req.notes)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                Some(id)
            }
            None => None,
        };
        // The agent's own claim on the lead is used up; supervisor assignments stay.
        sqlx::query(
            "UPDATE lead_assignments SET active = 0 WHERE lead_id = $1 AND active = 1 AND assigned_by = agent_id",
        )
        .bind(lead_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM active_calls WHERE call_log_id = $1")
            .bind(req.call_id)
            .execute(&mut *tx)
            .await?;
        if owner != req.agent_id {
            audit(
                &mut tx,
                now,
                Some(req.agent_id),
                "force_end_call",
                "call",
                &req.call_id.to_string(),
                None,
                None,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(EndedCall {
            call_id: req.call_id,
            lead_id,
            disposition: disposition.code,
            duration_s: duration,
            new_status: effects.new_status,
            next_call_at: effects.next_call_at,
            added_to_dnc: effects.add_to_dnc,
            callback_id,
        })
    }

    /// A retried end-call (e.g. after a lost connection) finds its call already closed: the same
    /// outcome again is fine, anything else is reported.
    async fn already_ended(&self, req: &EndCall) -> Result<EndedCall> {
        let call = self
            .call(req.call_id)
            .await?
            .ok_or_else(|| StoreError::not_found("call", req.call_id))?;
        let lead = self
            .lead(call.lead_id)
            .await?
            .ok_or_else(|| StoreError::not_found("lead", call.lead_id))?;
        super::replayed_end(req, &call, &lead)
    }

    async fn disposition_in(&self, tx: &mut Tx, code: &str) -> Result<Disposition> {
        let row: Option<super::DispositionRow> = sqlx::query_as(
            "SELECT code, label, hotkey, is_contact, is_sale, is_dnc, is_callback, is_final, next_status, \
             recycle_after_s, max_attempts FROM dispositions WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(&mut **tx)
        .await?;
        row.map(Disposition::from)
            .ok_or_else(|| StoreError::BadInput(format!("unknown disposition '{code}'")))
    }

    pub async fn reap_stale_locks(&self, actor: Option<i64>, now: DateTime<Utc>) -> Result<Vec<ReapedLock>> {
        let policy = settings::policy_from(&self.settings().await?);
        let cutoff = now - policy.lock_ttl;
        let stale: Vec<Uuid> = sqlx::query_scalar("SELECT lead_id FROM active_calls WHERE heartbeat_at < $1")
            .bind(cutoff)
            .fetch_all(&self.writer)
            .await?;
        let mut reaped = Vec::new();
        for lead_id in stale {
            let mut tx = self.begin().await?;
            // Re-read under the lead lock: the owner may have sent a heartbeat or ended the call.
            sqlx::query("SELECT id FROM leads WHERE id = $1")
                .bind(lead_id)
                .execute(&mut *tx)
                .await?;
            let lock: Option<(Uuid, i64, DateTime<Utc>)> = sqlx::query_as(
                "SELECT call_log_id, agent_id, heartbeat_at FROM active_calls WHERE lead_id = $1 AND heartbeat_at < $2",
            )
            .bind(lead_id)
            .bind(cutoff)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((call_id, agent_id, heartbeat_at)) = lock {
                reap(&mut tx, lead_id, Some(call_id), actor, now, None).await?;
                reaped.push(ReapedLock {
                    call_id,
                    lead_id,
                    agent_id,
                    heartbeat_at,
                });
            }
            tx.commit().await?;
        }
        Ok(reaped)
    }

    /// A supervisor ends someone's call lock now, with a reason; the call is kept as abandoned.
    pub async fn force_release(&self, call_id: Uuid, by: i64, reason: &str, now: DateTime<Utc>) -> Result<ReapedLock> {
        let mut tx = self.begin().await?;
        let lock: Option<(Uuid, i64, DateTime<Utc>)> =
            sqlx::query_as("SELECT lead_id, agent_id, heartbeat_at FROM active_calls WHERE call_log_id = $1")
                .bind(call_id)
                .fetch_optional(&mut *tx)
                .await?;
        let (lead_id, agent_id, heartbeat_at) = lock.ok_or_else(|| StoreError::not_found("active call", call_id))?;
        // Same lock order as everywhere: the lead row, then its call lock (re-read under it).
        sqlx::query("SELECT id FROM leads WHERE id = $1")
            .bind(lead_id)
            .execute(&mut *tx)
            .await?;
        let still: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM active_calls WHERE call_log_id = $1)")
            .bind(call_id)
            .fetch_one(&mut *tx)
            .await?;
        if !still {
            return Err(StoreError::not_found("active call", call_id));
        }
        reap(&mut tx, lead_id, Some(call_id), Some(by), now, Some(reason)).await?;
        tx.commit().await?;
        Ok(ReapedLock {
            call_id,
            lead_id,
            agent_id,
            heartbeat_at,
        })
    }

    /// Adds a line to a call's notes (e.g. what went wrong with the dial hook).
    pub async fn note_call(&self, call_id: Uuid, text: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE call_logs SET notes = coalesce(notes || char(10), '') || $2 WHERE id = $1")
            .bind(call_id)
            .bind(text)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn active_calls(&self) -> Result<Vec<ActiveCall>> {
        Ok(sqlx::query_as(
            "SELECT ac.lead_id, ac.call_log_id AS call_id, ac.agent_id, a.name AS agent_name, \
             l.first_name || ' ' || l.last_name AS lead_name, l.company, ac.phone_number, ac.started_at, ac.heartbeat_at \
             FROM active_calls ac JOIN agents a ON a.id = ac.agent_id JOIN leads l ON l.id = ac.lead_id \
             ORDER BY ac.started_at",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn call(&self, call_id: Uuid) -> Result<Option<CallLog>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {CALL_COLUMNS} FROM call_logs c JOIN agents a ON a.id = c.agent_id WHERE c.id = $1"
        ))
        .bind(call_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn call_history(&self, lead_id: Uuid) -> Result<Vec<CallLog>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {CALL_COLUMNS} FROM call_logs c JOIN agents a ON a.id = c.agent_id WHERE c.lead_id = $1 \
             ORDER BY c.started_at DESC, c.id DESC LIMIT 1000"
        ))
        .bind(lead_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn status_history(&self, lead_id: Uuid) -> Result<Vec<StatusChange>> {
        Ok(sqlx::query_as(
            "SELECT s.id, s.lead_id, s.old_status, s.new_status, s.changed_by, a.name AS changed_by_name, s.reason, \
             s.changed_at FROM lead_status_log s LEFT JOIN agents a ON a.id = s.changed_by WHERE s.lead_id = $1 \
             ORDER BY s.id DESC LIMIT 1000",
        )
        .bind(lead_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records what the agent's console says; `since` moves only when the state changes.
    pub async fn set_presence(
        &self,
        agent_id: i64,
        state: PresenceState,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO agent_presence (agent_id, state, reason, since, heartbeat_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (agent_id) DO UPDATE SET \
             since = CASE WHEN agent_presence.state = EXCLUDED.state AND agent_presence.reason IS NOT DISTINCT FROM EXCLUDED.reason \
                          THEN agent_presence.since ELSE EXCLUDED.since END, \
             state = EXCLUDED.state, reason = EXCLUDED.reason, heartbeat_at = EXCLUDED.heartbeat_at",
        )
        .bind(agent_id)
        .bind(state)
        .bind(reason)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Every active agent with their state; a stale heartbeat reads as offline.
    pub async fn presence(&self, stale_before: DateTime<Utc>) -> Result<Vec<Presence>> {
        Ok(sqlx::query_as(
            "SELECT a.id AS agent_id, a.name AS agent_name, a.role, \
             CASE WHEN p.heartbeat_at IS NULL OR p.heartbeat_at < $1 THEN 'offline' ELSE p.state END AS state, \
             p.reason, p.since, p.heartbeat_at \
             FROM agents a LEFT JOIN agent_presence p ON p.agent_id = a.id WHERE a.active ORDER BY a.name",
        )
        .bind(stale_before)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Calls, contacts, talk time and conversions per agent for calls started in [from, to).
    pub async fn agent_figures(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<AgentFigures>> {
        Ok(sqlx::query_as(
            "SELECT a.id AS agent_id, a.name AS agent_name, count(c.id) AS calls, \
             count(c.id) FILTER (WHERE d.is_contact) AS contacts, \
             coalesce(sum(c.duration_s), 0) AS talk_seconds, \
             count(c.id) FILTER (WHERE d.is_sale) AS conversions \
             FROM agents a \
             LEFT JOIN call_logs c ON c.agent_id = a.id AND c.started_at >= $1 AND c.started_at < $2 \
             LEFT JOIN dispositions d ON d.code = c.disposition \
             WHERE a.active GROUP BY a.id, a.name ORDER BY a.name",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Live leads by status.
    pub async fn funnel(&self) -> Result<Vec<(LeadStatus, i64)>> {
        Ok(
            sqlx::query_as("SELECT status, count(*) FROM leads WHERE deleted_at IS NULL GROUP BY status")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    // ------------------------------------------------------------------ queue and assignments

    pub async fn claim_next(&self, agent_id: i64, now: DateTime<Utc>) -> Result<Option<Claim>> {
        let mut tx = self.begin().await?;
        let rows = settings_in(&mut tx).await?;
        let claim_ttl = settings::claim_ttl(&rows);
        let callbacks: Vec<Uuid> = sqlx::query_scalar(
            "SELECT l.id FROM callbacks c JOIN leads l ON l.id = c.lead_id \
             WHERE c.agent_id = $1 AND c.done_at IS NULL AND c.due_at <= $2 AND l.deleted_at IS NULL \
             ORDER BY c.due_at LIMIT 8",
        )
        .bind(agent_id)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let params = QueueParams::new(&rows, now);
        let sql = format!("SELECT id {QUEUE} LIMIT 8");
        let queue: Vec<Uuid> = bind_queue!(sqlx::query_scalar(&sql), agent_id, now, params)
            .fetch_all(&mut *tx)
            .await?;
        let candidates = callbacks
            .into_iter()
            .map(|id| (id, ClaimSource::Callback))
            .chain(queue.into_iter().map(|id| (id, ClaimSource::Queue)));
        for (lead_id, source) in candidates {
            let facts = load_facts(&mut tx, lead_id, false).await?;
            if facts.check(agent_id, now).is_err() {
                continue;
            }
            let expires_at = now + claim_ttl;
            sqlx::query("UPDATE lead_assignments SET active = 0 WHERE active = 1 AND lead_id = $1 AND agent_id <> $2")
                .bind(lead_id)
                .bind(agent_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE lead_assignments SET active = 0 \
                 WHERE active = 1 AND agent_id = $1 AND assigned_by = $1 AND lead_id <> $2",
            )
            .bind(agent_id)
            .bind(lead_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO lead_assignments (id, lead_id, agent_id, assigned_by, assigned_at, expires_at, active) \
                 VALUES ($1, $2, $3, $3, $4, $5, TRUE) \
                 ON CONFLICT (lead_id) WHERE active = 1 DO UPDATE \
                 SET expires_at = CASE WHEN lead_assignments.expires_at IS NULL THEN NULL ELSE EXCLUDED.expires_at END",
            )
            .bind(Uuid::now_v7())
            .bind(lead_id)
            .bind(agent_id)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            let lead: Lead = sqlx::query_as(&format!("SELECT {LEAD_COLUMNS} FROM leads WHERE id = $1"))
                .bind(lead_id)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Some(Claim {
                lead,
                source,
                expires_at,
            }));
        }
        tx.commit().await?;
        Ok(None)
    }

    /// What claim-next would hand this agent, in order, without claiming: due callbacks of the
    /// agent first, then the shared queue.
    pub async fn queue_preview(&self, agent_id: i64, limit: u32, now: DateTime<Utc>) -> Result<Vec<Lead>> {
        let params = QueueParams::new(&self.settings().await?, now);
        let mut leads: Vec<Lead> = sqlx::query_as(&format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE deleted_at IS NULL AND id IN \
             (SELECT lead_id FROM callbacks WHERE agent_id = $1 AND done_at IS NULL AND due_at <= $2) \
             ORDER BY next_call_at LIMIT $3"
        ))
        .bind(agent_id)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let sql = format!("SELECT {LEAD_COLUMNS} {QUEUE} LIMIT $8");
        let queue: Vec<Lead> = bind_queue!(sqlx::query_as(&sql), agent_id, now, params)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        leads.extend(
            queue
                .into_iter()
                .filter(|l| !leads.iter().any(|c| c.id == l.id))
                .collect::<Vec<_>>(),
        );
        leads.truncate(limit as usize);
        Ok(leads)
    }

    pub async fn assign(
        &self,
        id: Uuid,
        lead_id: Uuid,
        agent_id: i64,
        by: Option<i64>,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Assignment> {
        let mut tx = self.begin().await?;
        lock_live_lead(&mut tx, lead_id).await?;
        sqlx::query("UPDATE lead_assignments SET active = 0 WHERE lead_id = $1 AND active = 1")
            .bind(lead_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO lead_assignments (id, lead_id, agent_id, assigned_by, assigned_at, expires_at, active) \
             VALUES ($1, $2, $3, $4, $5, $6, TRUE)",
        )
        .bind(id)
        .bind(lead_id)
        .bind(agent_id)
        .bind(by)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            now,
            by,
            "assign",
            "lead",
            &lead_id.to_string(),
            None,
            Some(serde_json::json!({ "agent_id": agent_id })),
        )
        .await?;
        let assignment = sqlx::query_as(
            "SELECT la.id, la.lead_id, la.agent_id, a.name AS agent_name, la.assigned_by, la.assigned_at, la.expires_at, \
             la.active FROM lead_assignments la JOIN agents a ON a.id = la.agent_id WHERE la.id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(assignment)
    }

    pub async fn unassign(&self, lead_id: Uuid) -> Result<bool> {
        let done = sqlx::query("UPDATE lead_assignments SET active = 0 WHERE lead_id = $1 AND active = 1")
            .bind(lead_id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn expire_assignments(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("UPDATE lead_assignments SET active = 0 WHERE active = 1 AND expires_at <= $1")
            .bind(now)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn assignments(&self, lead_id: Uuid) -> Result<Vec<Assignment>> {
        Ok(sqlx::query_as(
            "SELECT la.id, la.lead_id, la.agent_id, a.name AS agent_name, la.assigned_by, la.assigned_at, la.expires_at, \
             la.active FROM lead_assignments la JOIN agents a ON a.id = la.agent_id WHERE la.lead_id = $1 \
             ORDER BY la.assigned_at DESC, la.id DESC",
        )
        .bind(lead_id)
        .fetch_all(&self.pool)
        .await?)
    }

    // ------------------------------------------------------------------ callbacks

    pub async fn schedule_callback(
        &self,
        id: Uuid,
        lead_id: Uuid,
        agent_id: i64,
        due_at: DateTime<Utc>,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Callback> {
        let mut tx = self.begin().await?;
        lock_live_lead(&mut tx, lead_id).await?;
        sqlx::query(
            "INSERT INTO callbacks (id, lead_id, agent_id, due_at, note, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(lead_id)
        .bind(agent_id)
        .bind(due_at)
        .bind(note)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let callback = sqlx::query_as(
            "SELECT c.id, c.lead_id, c.agent_id, a.name AS agent_name, l.first_name || ' ' || l.last_name AS lead_name, \
             c.due_at, c.note, c.created_at, c.done_at FROM callbacks c JOIN agents a ON a.id = c.agent_id \
             JOIN leads l ON l.id = c.lead_id WHERE c.id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(callback)
    }

    pub async fn due_callbacks(&self, agent_id: Option<i64>, until: DateTime<Utc>) -> Result<Vec<Callback>> {
        Ok(sqlx::query_as(
            "SELECT c.id, c.lead_id, c.agent_id, a.name AS agent_name, l.first_name || ' ' || l.last_name AS lead_name, \
             c.due_at, c.note, c.created_at, c.done_at FROM callbacks c JOIN agents a ON a.id = c.agent_id \
             JOIN leads l ON l.id = c.lead_id \
             WHERE c.done_at IS NULL AND c.due_at <= $1 AND ($2 IS NULL OR c.agent_id = $2) \
               AND l.deleted_at IS NULL ORDER BY c.due_at LIMIT 1000",
        )
        .bind(until)
        .bind(agent_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Gives an open callback to another agent (a supervisor handing out an overdue one).
    pub async fn hand_callback(&self, id: Uuid, to: i64, by: Option<i64>, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE callbacks SET agent_id = $2 WHERE id = $1 AND done_at IS NULL")
            .bind(id)
            .bind(to)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 1 {
            let handed = serde_json::json!({ "agent_id": to });
            audit(
                &mut tx,
                now,
                by,
                "hand_callback",
                "callback",
                &id.to_string(),
                None,
                Some(handed),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn complete_callback(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query("UPDATE callbacks SET done_at = $2 WHERE id = $1 AND done_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    // ------------------------------------------------------------------ do-not-call list

    pub async fn dnc_add(
        &self,
        number: &str,
        reason: Option<&str>,
        by: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<DncEntry> {
        let mut tx = self.begin().await?;
        let entry = sqlx::query_as(
            "INSERT INTO dnc_numbers (number, reason, added_by, added_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (number) DO UPDATE SET reason = coalesce(EXCLUDED.reason, dnc_numbers.reason) \
             RETURNING number, reason, added_by, added_at",
        )
        .bind(number)
        .bind(reason)
        .bind(by)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE leads SET do_not_call = TRUE, updated_at = $2, updated_by = $3 WHERE phone = $1 AND NOT do_not_call",
        )
        .bind(number)
        .bind(now)
        .bind(by)
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            now,
            by,
            "dnc_add",
            "dnc",
            number,
            None,
            reason.map(|r| serde_json::json!({ "reason": r })),
        )
        .await?;
        tx.commit().await?;
        Ok(entry)
    }

    pub async fn dnc_remove(&self, number: &str, by: Option<i64>, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM dnc_numbers WHERE number = $1")
            .bind(number)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() > 0 {
            audit(&mut tx, now, by, "dnc_remove", "dnc", number, None, None).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn dnc_check(&self, number: &str) -> Result<Option<DncEntry>> {
        Ok(
            sqlx::query_as("SELECT number, reason, added_by, added_at FROM dnc_numbers WHERE number = $1")
                .bind(number)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

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
    pub async fn wakeups(&self) -> Result<Option<super::Wakeups>> {
        Ok(None)
    }

    pub async fn feed_head(&self) -> Result<FeedCursor> {
        let id: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM changes")
            .fetch_one(&self.pool)
            .await?;
        Ok(FeedCursor { tx: 0, id })
    }
}

async fn settings_in(tx: &mut Tx) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query_as("SELECT key, value FROM settings")
        .fetch_all(&mut **tx)
        .await?)
}

async fn lock_live_lead(tx: &mut Tx, lead_id: Uuid) -> Result<()> {
    sqlx::query_scalar::<_, Uuid>("SELECT id FROM leads WHERE id = $1 AND deleted_at IS NULL")
        .bind(lead_id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|_| ())
        .ok_or_else(|| StoreError::not_found("lead", lead_id))
}

/// Everything can-call needs, read after the lead row is locked (when `lock` is set).
async fn load_facts(tx: &mut Tx, lead_id: Uuid, lock: bool) -> Result<CallFacts> {
    // The IMMEDIATE transaction already holds the write lock; nothing row-level to take.
    let _ = lock;
    let sql = "SELECT id, deleted_at IS NOT NULL AS deleted, do_not_call, status, timezone, call_attempts, phone FROM leads WHERE id = $1";
    let lead: Option<LeadFacts> = sqlx::query_as::<_, super::LeadFactsRow>(sql)
        .bind(lead_id)
        .fetch_optional(&mut **tx)
        .await?
        .map(Into::into);
    let policy = settings::policy_from(&settings_in(tx).await?);
    let Some(lead) = lead else {
        return Ok(CallFacts::missing(policy));
    };
    let on_list: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM dnc_numbers WHERE number = $1)")
        .bind(&lead.phone)
        .fetch_one(&mut **tx)
        .await?;
    let active: Option<super::ActiveCallRow> = sqlx::query_as(
        "SELECT ac.call_log_id, ac.agent_id, a.name AS agent_name, ac.started_at, ac.heartbeat_at FROM active_calls ac \
         JOIN agents a ON a.id = ac.agent_id WHERE ac.lead_id = $1",
    )
    .bind(lead_id)
    .fetch_optional(&mut **tx)
    .await?;
    let last: Option<(i64, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT c.agent_id, a.name, c.started_at FROM call_logs c JOIN agents a ON a.id = c.agent_id \
         WHERE c.lead_id = $1 ORDER BY c.started_at DESC LIMIT 1",
    )
    .bind(lead_id)
    .fetch_optional(&mut **tx)
    .await?;
    let assignment: Option<(i64, String, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT la.agent_id, a.name, la.expires_at FROM lead_assignments la JOIN agents a ON a.id = la.agent_id \
         WHERE la.lead_id = $1 AND la.active = 1",
    )
    .bind(lead_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(CallFacts {
        lead: Some(lead),
        on_list,
        active_call_id: active.as_ref().map(|a| a.call_log_id),
        active: active.map(Into::into),
        last: last.map(|(agent_id, agent_name, started_at)| LastCallFacts {
            agent_id,
            agent_name,
            started_at,
        }),
        assignment: assignment.map(|(agent_id, agent_name, expires_at)| AssignmentFacts {
            agent_id,
            agent_name,
            expires_at,
        }),
        policy,
    })
}

/// Closes a lock whose console stopped sending heartbeats: the call is kept on record as
/// abandoned and counts as an attempt. The caller holds the lead row lock.
/// `release` carries a supervisor's reason for a forced release; None is a stale-lock reap.
async fn reap(
    tx: &mut Tx,
    lead_id: Uuid,
    call_id: Option<Uuid>,
    actor: Option<i64>,
    now: DateTime<Utc>,
    release: Option<&str>,
) -> Result<()> {
    let Some(call_id) = call_id else {
        return Ok(());
    };
    let started_at: DateTime<Utc> = sqlx::query_scalar(
        "UPDATE call_logs SET status = 'abandoned', ended_at = $2, ended_by = $3, \
         notes = coalesce(notes || char(10), '') || $4 \
         WHERE id = $1 RETURNING started_at",
    )
    .bind(call_id)
    .bind(now)
    .bind(actor)
    .bind(match release {
        Some(reason) => format!("released by a supervisor: {reason}"),
        None => "lock expired without heartbeat; closed as abandoned".to_string(),
    })
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE leads SET call_attempts = call_attempts + 1, \
         last_call_at = max(coalesce(last_call_at, $2), $2), updated_at = $3 WHERE id = $1",
    )
    .bind(lead_id)
    .bind(started_at)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM active_calls WHERE call_log_id = $1")
        .bind(call_id)
        .execute(&mut **tx)
        .await?;
    // The crashed agent's own claim goes with its call, or the lead would stay reserved.
    sqlx::query("UPDATE lead_assignments SET active = 0 WHERE lead_id = $1 AND active = 1 AND assigned_by = agent_id")
        .bind(lead_id)
        .execute(&mut **tx)
        .await?;
    audit(
        tx,
        now,
        actor,
        if release.is_some() {
            "force_release"
        } else {
            "reap_lock"
        },
        "call",
        &call_id.to_string(),
        None,
        Some(serde_json::json!({ "lead_id": lead_id, "reason": release })),
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn audit(
    tx: &mut Tx,
    now: DateTime<Utc>,
    actor: Option<i64>,
    action: &str,
    entity: &str,
    entity_id: &str,
    old_value: Option<serde_json::Value>,
    new_value: Option<serde_json::Value>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, agent_id, action, entity, entity_id, old_value, new_value) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(now)
    .bind(actor)
    .bind(action)
    .bind(entity)
    .bind(entity_id)
    .bind(old_value.map(|v| v.to_string()))
    .bind(new_value.map(|v| v.to_string()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
