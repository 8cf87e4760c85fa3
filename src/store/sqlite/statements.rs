//! The statements the shared flows run, in SQLite's SQL. SQLite has one writer at a time and
//! every write transaction takes the write lock at BEGIN (`BEGIN IMMEDIATE`), so "lock this row"
//! is already true and the locking statements are plain reads.

use chrono::{DateTime, Utc};
use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

use super::dialect;
use super::{bind_lead, CALL_COLUMNS, LEAD_COLUMNS};
use super::{SqliteStore, QUEUE, QUEUE_DUE, QUEUE_OWN};
use crate::domain::call_end::OpenCallback;
use crate::domain::{ContactKind, Disposition, LeadFields, LeadStatus};
use crate::store::backend::{AuditRecord, Backend, CallClose, CallLock, NewCall, OutcomeWrite, Tx};
use crate::store::common::{CallFacts, CallFactsRow, DispositionRow, QueueParams};
use crate::store::model::*;
use crate::store::portable::columns::CONTACT_COLUMNS;
use crate::store::Result;

pub(crate) struct SqliteTx(Transaction<'static, Sqlite>);

impl Backend for SqliteStore {
    type Tx = SqliteTx;

    /// On the one writer connection, taking the write lock up front (see the module docs).
    async fn begin(&self) -> Result<SqliteTx> {
        Ok(SqliteTx(self.writer.begin_with("BEGIN IMMEDIATE").await?))
    }

    /// On the reader pool: WAL gives it one snapshot while the writer goes on.
    async fn begin_read(&self) -> Result<SqliteTx> {
        Ok(SqliteTx(self.pool.begin().await?))
    }

    /// Any read transaction is one snapshot in WAL mode: its first read fixes it.
    async fn begin_snapshot(&self) -> Result<SqliteTx> {
        Ok(SqliteTx(self.pool.begin().await?))
    }
}

/// The lead's facts for can-call in one statement.
const CALL_FACTS: &str = "SELECT l.id, l.deleted_at IS NOT NULL AS deleted, l.do_not_call, l.status, l.timezone, \
             l.call_attempts, l.phone, \
             EXISTS (SELECT 1 FROM dnc_numbers d WHERE d.number = l.phone) AS on_list, \
             ac.call_log_id AS active_call_id, ac.agent_id AS active_agent_id, aa.name AS active_agent_name, \
             ac.started_at AS active_started_at, ac.heartbeat_at AS active_heartbeat_at, \
             lc.agent_id AS last_agent_id, lca.name AS last_agent_name, lc.started_at AS last_started_at, \
             la.agent_id AS assigned_agent_id, laa.name AS assigned_agent_name, \
             la.expires_at AS assignment_expires_at, la.assigned_by = la.agent_id AND la.checkout_id IS NULL AS assignment_is_claim, \
             la.checkout_id IS NOT NULL AS assignment_offline, \
             (SELECT o.expires_at FROM offline_checkouts o WHERE o.floor IS NOT NULL) AS offline_copy_until \
             FROM leads l \
             LEFT JOIN active_calls ac ON ac.lead_id = l.id \
             LEFT JOIN agents aa ON aa.id = ac.agent_id \
             LEFT JOIN call_logs lc ON lc.id = (SELECT c.id FROM call_logs c WHERE c.lead_id = l.id \
                                                ORDER BY c.started_at DESC LIMIT 1) \
             LEFT JOIN agents lca ON lca.id = lc.agent_id \
             LEFT JOIN lead_assignments la ON la.lead_id = l.id AND la.active \
             LEFT JOIN agents laa ON laa.id = la.agent_id \
             WHERE l.id = $1";

impl SqliteTx {
    pub(super) fn conn(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.0
    }
}

impl Tx for SqliteTx {
    crate::store::portable::tx_statements!();

    // ------------------------------------------------------------------ settings and agents

    // ------------------------------------------------------------------ leads

    async fn lock_lead(&mut self, id: Uuid, live_only: bool) -> Result<Option<Lead>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE id = $1 AND (NOT $2 OR deleted_at IS NULL)"
        ))
        .bind(id)
        .bind(live_only)
        .fetch_optional(self.conn())
        .await?)
    }

    async fn insert_lead(&mut self, id: Uuid, f: &LeadFields, actor: Option<i64>, now: DateTime<Utc>) -> Result<Lead> {
        let sql = format!(
            "INSERT INTO leads (id, first_name, last_name, email, phone, company, title, timezone, status, priority, \
             lead_score, conversion_probability, source, notes, consent_given, consent_date, do_not_call, do_not_email, \
             data_quality, created_at, updated_at, updated_by, status_reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                     CASE WHEN $15 THEN $16 END, $17, $18, $19, $16, $16, $20, 'created') \
             RETURNING {LEAD_COLUMNS}"
        );
        Ok(bind_lead!(sqlx::query_as(&sql), id, f, now, actor)
            .fetch_one(self.conn())
            .await?)
    }

    async fn update_lead(
        &mut self,
        id: Uuid,
        f: &LeadFields,
        actor: Option<i64>,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<Lead>> {
        // do_not_call only ever turns on here: clearing it is a deliberate act, not an edit.
        let sql = format!(
            "UPDATE leads SET first_name = $2, last_name = $3, email = $4, phone = $5, company = $6, title = $7, \
             timezone = $8, status = $9, priority = $10, lead_score = $11, conversion_probability = $12, source = $13, \
             notes = $14, consent_date = CASE WHEN NOT $15 THEN NULL WHEN consent_given THEN consent_date ELSE $16 END, \
             consent_given = $15, do_not_call = do_not_call OR $17, do_not_email = $18, data_quality = $19, \
             updated_at = $16, updated_by = $20, status_reason = coalesce($21, 'edited') \
             WHERE id = $1 RETURNING {LEAD_COLUMNS}"
        );
        Ok(bind_lead!(sqlx::query_as(&sql), id, f, now, actor)
            .bind(reason)
            .fetch_optional(self.conn())
            .await?)
    }

    // ------------------------------------------------------------------ contacts

    // ------------------------------------------------------------------ calls

    async fn call_facts(&mut self, lead_id: Uuid, lock: bool) -> Result<Option<CallFacts>> {
        // The write lock taken at BEGIN already holds the row still (see the module docs).
        let _ = lock;
        let row: Option<CallFactsRow> = sqlx::query_as(CALL_FACTS)
            .bind(lead_id)
            .fetch_optional(self.conn())
            .await?;
        Ok(row.map(CallFacts::from))
    }

    async fn call_facts_if_free(&mut self, lead_id: Uuid) -> Result<Option<CallFacts>> {
        // The write lock taken at BEGIN already holds every row.
        self.call_facts(lead_id, false).await
    }

    // ------------------------------------------------------------------ do-not-call list

    // ------------------------------------------------------------------ callbacks

    async fn close_callbacks(&mut self, ids: &[Uuid], now: DateTime<Utc>) -> Result<()> {
        // Ids are stored as blobs, so they are closed one by one: a lead has a handful at most.
        for id in ids {
            sqlx::query("UPDATE callbacks SET done_at = $2 WHERE id = $1 AND done_at IS NULL")
                .bind(id)
                .bind(now)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    // ------------------------------------------------------------------ queue and assignments

    async fn due_callback_leads(
        &mut self,
        agent_id: i64,
        now: DateTime<Utc>,
        limit: u32,
        lock: bool,
    ) -> Result<Vec<Lead>> {
        let sql = format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE deleted_at IS NULL AND id IN \
             (SELECT lead_id FROM callbacks WHERE agent_id = $1 AND done_at IS NULL AND due_at <= $2) \
             ORDER BY (SELECT min(c.due_at) FROM callbacks c WHERE c.lead_id = leads.id AND c.agent_id = $1 \
                       AND c.done_at IS NULL), id LIMIT $3"
        );
        // Nothing to skip: the write lock taken at BEGIN keeps every other writer out.
        let _ = lock;
        Ok(sqlx::query_as(&sql)
            .bind(agent_id)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(self.conn())
            .await?)
    }

    async fn queue_leads(
        &mut self,
        agent_id: i64,
        now: DateTime<Utc>,
        params: &QueueParams,
        limit: u32,
        lock: bool,
        skip: &[Uuid],
    ) -> Result<Vec<Lead>> {
        // The write lock taken at BEGIN covers a claim's rows; a preview also shows what a feed
        // would make ready, walked apart so each part follows its own index.
        let due = if lock {
            String::new()
        } else {
            format!(
                "UNION ALL SELECT * FROM (SELECT q.lead_id AS qid, q.priority_rank AS qr, q.lead_score AS qs \
                 {QUEUE_DUE} LIMIT $8) "
            )
        };
        let sql = format!(
            "SELECT {LEAD_COLUMNS} FROM (\
             SELECT * FROM (SELECT q.lead_id AS qid, q.priority_rank AS qr, q.lead_score AS qs {QUEUE} LIMIT $8) \
             {due}\
             UNION ALL \
             SELECT * FROM (SELECT q.lead_id AS qid, q.priority_rank AS qr, q.lead_score AS qs {QUEUE_OWN} LIMIT $8)\
             ) pick JOIN leads ON leads.id = pick.qid ORDER BY qr DESC, qs DESC, qid LIMIT $8"
        );
        let skip: Vec<String> = skip.iter().map(|id| id.simple().to_string().to_uppercase()).collect();
        Ok(bind_queue!(sqlx::query_as(&sql), agent_id, now, params)
            .bind(i64::from(limit))
            .bind(serde_json::to_string(&skip).unwrap_or_else(|_| "[]".into()))
            .fetch_all(self.conn())
            .await?)
    }

    async fn feed_queue(&mut self, now: DateTime<Utc>, limit: u32) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE lead_queue SET state = 1 WHERE lead_id IN (SELECT lead_id FROM lead_queue \
             WHERE state = 0 AND due_hint <= $1 ORDER BY due_hint LIMIT $2)",
        )
        .bind(now.timestamp())
        .bind(i64::from(limit))
        .execute(self.conn())
        .await?
        .rows_affected())
    }

    async fn hold_queued(&mut self, lead_id: Uuid, until: Option<DateTime<Utc>>) -> Result<()> {
        sqlx::query(
            "UPDATE lead_queue SET state = CASE WHEN $2 IS NULL THEN 2 ELSE 0 END, \
             due_hint = coalesce($2, 9223372036854775807) WHERE lead_id = $1",
        )
        .bind(lead_id)
        .bind(until.map(|t| t.timestamp()))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn end_own_claim(&mut self, lead_id: Uuid) -> Result<()> {
        sqlx::query("UPDATE lead_assignments SET active = 0 WHERE lead_id = $1 AND active AND assigned_by = agent_id AND checkout_id IS NULL")
            .bind(lead_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
