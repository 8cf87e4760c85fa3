//! The statements of the import's batch apply (`flows::bulk`): how a batch's leads are looked up
//! and written, and how a batch of numbers goes on the do-not-call list. These are each
//! backend's bulk paths (COPY through a staging table on PostgreSQL, multi-row INSERTs on SQLite).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Tx;
use crate::domain::{ContactKind, LeadFields};
use crate::store::bulk::{DncRow, RowContact};
use crate::store::model::Lead;
use crate::store::Result;

/// What every lead a batch writes carries besides its fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchStamp<'a> {
    pub actor: Option<i64>,
    /// The reason of the status changes the batch makes.
    pub reason: &'a str,
    pub now: DateTime<Utc>,
}

/// A finished call written straight into the history (seeding a floor): its log, and its
/// effect on the lead's attempts and last call.
#[derive(Debug, Clone)]
pub struct HistoryCall {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub agent_id: i64,
    pub phone: String,
    pub disposition: &'static str,
    pub status: crate::domain::CallStatus,
    pub started_at: DateTime<Utc>,
    pub duration_s: i32,
}

pub(crate) trait BulkTx: Tx {
    /// What `pause_insert_triggers` took down, for `replay_insert_triggers` to write and put back.
    type Paused: Send;

    /// Pauses the row triggers that fire on each new lead and can as well run once for a whole
    /// batch (SQLite's change feed, status log and search index), so a bulk batch writes what
    /// they write in one statement each; None when there is nothing to pause (PostgreSQL's
    /// triggers on leads run once per statement already). Another writer never sees them
    /// paused: SQLite has one writer. Undone by a rollback. The changed leads of the batch are
    /// written after `replay_insert_triggers`, with every trigger on.
    async fn pause_insert_triggers(&mut self) -> Result<Option<Self::Paused>>;

    /// Writes for the leads inserted since the pause (their ids, in insert order) what the
    /// paused triggers would have written row by row, and puts the triggers back.
    async fn replay_insert_triggers(&mut self, paused: Self::Paused, inserted: &[Uuid]) -> Result<()>;

    /// Writes finished calls and counts each on its lead (attempts, last call); answers how
    /// many calls were written.
    async fn insert_history(&mut self, calls: &[HistoryCall]) -> Result<u64>;

    /// Every lead (deleted ones too) with one of these phones or emails, locked until the
    /// transaction ends (on SQLite the write lock taken at BEGIN already covers them).
    async fn lock_leads_by_keys(&mut self, phones: &[String], emails: &[String]) -> Result<Vec<Lead>>;

    /// Writes the new leads and the changed ones (`(_, id, fields)` as `BatchPlan` holds them);
    /// answers the ids of the new leads really written. A new lead whose phone or email another
    /// writer stored meanwhile is skipped, not an error. A changed lead's do-not-call and
    /// do-not-email flags are OR-ed with what is stored, so one set meanwhile is never lowered.
    async fn write_leads(
        &mut self,
        inserts: &[(usize, Uuid, LeadFields)],
        updates: &[(usize, Uuid, LeadFields)],
        stamp: &BatchStamp<'_>,
    ) -> Result<HashSet<Uuid>>;

    /// The contact points of these leads: (lead, kind, value).
    async fn contact_keys(&mut self, lead_ids: &[Uuid]) -> Result<Vec<(Uuid, ContactKind, String)>>;

    /// Writes contact points (`(_, lead id, point)` as `BatchPlan` holds them), neither primary nor
    /// verified; one the lead has already (same kind and value, stored meanwhile) is skipped.
    /// Answers the indexes (into `points`) of the points really written.
    async fn insert_contact_points(
        &mut self,
        points: &[(usize, Uuid, RowContact)],
        now: DateTime<Utc>,
    ) -> Result<HashSet<usize>>;

    /// Which of these numbers are on the do-not-call list.
    async fn listed_numbers(&mut self, numbers: &[&str]) -> Result<HashSet<String>>;

    /// Puts the numbers on the list; a number already listed keeps its entry (and its reason).
    /// Answers the numbers newly listed.
    async fn insert_dnc_rows(
        &mut self,
        rows: &[DncRow],
        by: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<HashSet<String>>;

    /// How many leads with one of these phones are not flagged do-not-call.
    async fn count_unflagged(&mut self, numbers: &[&str]) -> Result<u64>;

    /// Flags every lead with one of these phones do-not-call; answers how many were not yet.
    async fn flag_numbers_dnc(&mut self, numbers: &[&str], by: Option<i64>, now: DateTime<Utc>) -> Result<u64>;
}
