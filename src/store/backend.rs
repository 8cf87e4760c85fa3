//! What a backend provides to the flows: transactions, and inside them small statements (lock
//! this lead, read these facts, insert this call, close it, write an audit row, …). The flows in
//! `store::flows` are written once over these traits; each backend's module holds the SQL text
//! of every statement and nothing else of the flow.
//!
//! A statement does one thing and decides nothing: a rule's decision is made by `crate::domain`
//! from what the statements read, and the flow applies it with further statements.

mod bulk;
mod merge;
mod offline;
mod privacy;
mod scripts;
mod snapshot;

pub use bulk::HistoryCall;
pub(crate) use bulk::{BatchStamp, BulkTx};
pub(crate) use merge::{Absorb, KeyRow, MergeTx};
pub(crate) use offline::OfflineTx;
pub(crate) use privacy::{AuditSubjects, PrivacyTx};
pub(crate) use scripts::ScriptTx;
pub(crate) use snapshot::SnapshotTx;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::common::{CallFacts, QueueParams};
use super::model::*;
use super::Result;
use crate::domain::call_end::OpenCallback;
use crate::domain::{ContactKind, Disposition, LeadFields, LeadStatus, OutcomeEffects};

/// A database that flows can run on.
pub(crate) trait Backend: Send + Sync {
    type Tx: Tx;

    /// A transaction that will write. On SQLite it takes the write lock at BEGIN, so a read
    /// followed by a write waits its turn instead of failing with "database is locked".
    async fn begin(&self) -> Result<Self::Tx>;

    /// A transaction that only reads: one consistent view, no write lock.
    async fn begin_read(&self) -> Result<Self::Tx>;

    /// A transaction that only reads, every statement of it from one snapshot taken at its first
    /// read, however many statements it runs and however long it takes (an export, a backup):
    /// writes committed meanwhile are wholly in it or wholly out of it.
    async fn begin_snapshot(&self) -> Result<Self::Tx>;
}

/// A lock on a lead: which call holds it, whose, since when, and its last heartbeat.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub(crate) struct CallLock {
    pub call_id: Uuid,
    pub lead_id: Uuid,
    pub agent_id: i64,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
}

/// A call log opened by start-call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewCall<'a> {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub agent_id: i64,
    pub phone: &'a str,
    pub from_number: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// What end-call writes on the call log.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallClose<'a> {
    pub call_id: Uuid,
    pub status: crate::domain::CallStatus,
    pub disposition: &'a str,
    pub duration_s: i32,
    /// What was typed; it goes after anything already noted on the call (a failed dial).
    pub notes: Option<&'a str>,
    pub recording_url: Option<&'a str>,
    pub ended_at: DateTime<Utc>,
    pub ended_by: i64,
    /// When the far end rang (from a softphone; none for manual dialling).
    pub ringing_at: Option<DateTime<Utc>>,
    /// When the far end answered: the softphone's time, or the call's start for a contact
    /// dialled by hand.
    pub answered_at: Option<DateTime<Utc>>,
}

/// What end-call writes on the lead, from the disposition's effects.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutcomeWrite<'a> {
    pub lead_id: Uuid,
    pub effects: &'a OutcomeEffects,
    pub reason: &'a str,
    pub actor: i64,
    pub now: DateTime<Utc>,
}

/// One audit-log row.
#[derive(Debug, Clone)]
pub(crate) struct AuditRecord<'a> {
    pub at: DateTime<Utc>,
    pub actor: Option<i64>,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: String,
    pub old_value: Option<serde_json::Value>,
    pub new_value: Option<serde_json::Value>,
}

impl<'a> AuditRecord<'a> {
    pub fn new(at: DateTime<Utc>, actor: Option<i64>, action: &'a str, entity: &'a str, id: impl ToString) -> Self {
        AuditRecord {
            at,
            actor,
            action,
            entity,
            entity_id: id.to_string(),
            old_value: None,
            new_value: None,
        }
    }

    pub fn new_value(mut self, value: serde_json::Value) -> Self {
        self.new_value = Some(value);
        self
    }
}

/// The statements the flows run inside one transaction.
pub(crate) trait Tx: Send + Sized {
    async fn commit(self) -> Result<()>;
    async fn rollback(self) -> Result<()>;

    // ------------------------------------------------------------------ settings and agents

    async fn settings(&mut self) -> Result<Vec<(String, String)>>;
    async fn setting(&mut self, key: &str) -> Result<Option<String>>;
    async fn put_setting(&mut self, key: &str, value: &str, now: DateTime<Utc>) -> Result<()>;
    async fn agent(&mut self, id: i64) -> Result<Option<Agent>>;
    async fn disposition(&mut self, code: &str) -> Result<Option<Disposition>>;
    async fn count_dispositions(&mut self) -> Result<i64>;
    async fn insert_disposition(&mut self, d: &Disposition, order: i32) -> Result<()>;
    async fn audit(&mut self, record: &AuditRecord<'_>) -> Result<()>;

    // ------------------------------------------------------------------ leads

    /// The lead, its row locked until the transaction ends (on SQLite the write lock taken at
    /// BEGIN already covers it). `live_only` leaves out deleted leads.
    async fn lock_lead(&mut self, id: Uuid, live_only: bool) -> Result<Option<Lead>>;
    async fn lead(&mut self, id: Uuid) -> Result<Option<Lead>>;
    async fn insert_lead(&mut self, id: Uuid, f: &LeadFields, actor: Option<i64>, now: DateTime<Utc>) -> Result<Lead>;
    async fn update_lead(
        &mut self,
        id: Uuid,
        f: &LeadFields,
        actor: Option<i64>,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<Lead>>;
    async fn set_status(
        &mut self,
        id: Uuid,
        status: LeadStatus,
        reason: Option<&str>,
        actor: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Option<Lead>>;
    async fn set_deleted(
        &mut self,
        id: Uuid,
        deleted: bool,
        actor: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Option<Lead>>;
    async fn lead_on_call(&mut self, id: Uuid) -> Result<bool>;

    // ------------------------------------------------------------------ contacts

    async fn contact_lead(&mut self, contact_id: Uuid) -> Result<Option<Uuid>>;
    /// Takes the primary mark off the lead's contacts of this kind (but `except`).
    async fn clear_primary_contact(&mut self, lead_id: Uuid, kind: ContactKind, except: Option<Uuid>) -> Result<()>;
    async fn insert_contact(&mut self, id: Uuid, lead_id: Uuid, c: &NewContact, now: DateTime<Utc>) -> Result<Contact>;
    async fn update_contact(&mut self, id: Uuid, c: &NewContact) -> Result<Contact>;

    // ------------------------------------------------------------------ calls

    /// Everything can-call needs about the lead, read in one statement; with `lock` the lead row
    /// is locked first. None when there is no such lead.
    async fn call_facts(&mut self, lead_id: Uuid, lock: bool) -> Result<Option<CallFacts>>;
    /// The facts with the lead row locked, unless another transaction holds that row: then (or
    /// when there is no such lead) None at once, never a wait. A claim locks its queue row
    /// before the lead, the other way round from every other flow, so it must not wait here.
    async fn call_facts_if_free(&mut self, lead_id: Uuid) -> Result<Option<CallFacts>>;
    async fn insert_call(&mut self, call: &NewCall<'_>) -> Result<()>;
    /// Takes the lead's lock for the call; false when the lead already has one (the key decides).
    async fn insert_lock(&mut self, call: &NewCall<'_>) -> Result<bool>;
    async fn lock_of_call(&mut self, call_id: Uuid) -> Result<Option<CallLock>>;
    async fn lock_of_lead(&mut self, lead_id: Uuid) -> Result<Option<CallLock>>;
    /// Leads whose lock's heartbeat is older than `cutoff`.
    async fn stale_locks(&mut self, cutoff: DateTime<Utc>) -> Result<Vec<Uuid>>;
    async fn delete_lock(&mut self, call_id: Uuid) -> Result<()>;
    async fn close_call(&mut self, close: &CallClose<'_>) -> Result<()>;
    /// Closes the call log as abandoned with a note; answers when the call started.
    async fn abandon_call(
        &mut self,
        call_id: Uuid,
        actor: Option<i64>,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>>;
    /// An abandoned call still counts as an attempt and as the lead's last call.
    async fn count_abandoned_attempt(
        &mut self,
        lead_id: Uuid,
        started_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()>;
    async fn apply_outcome(&mut self, write: &OutcomeWrite<'_>) -> Result<()>;
    async fn call(&mut self, call_id: Uuid) -> Result<Option<CallLog>>;
    /// A call on the lead started after `started_at` (other than `call_id`), the newest.
    async fn newer_call(&mut self, lead_id: Uuid, started_at: DateTime<Utc>, call_id: Uuid) -> Result<Option<Uuid>>;

    // ------------------------------------------------------------------ do-not-call list

    /// Puts the number on the list; an entry already there keeps its reason unless one is given.
    async fn upsert_dnc(
        &mut self,
        number: &str,
        reason: Option<&str>,
        by: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<DncEntry>;
    /// Puts the number on the list unless it is there already (then the entry stays as it is).
    async fn insert_dnc_if_absent(&mut self, number: &str, reason: &str, by: i64, now: DateTime<Utc>) -> Result<()>;
    async fn delete_dnc(&mut self, number: &str) -> Result<bool>;
    /// Flags every lead with this phone do-not-call.
    async fn flag_leads_dnc(&mut self, number: &str, by: Option<i64>, now: DateTime<Utc>) -> Result<()>;

    // ------------------------------------------------------------------ callbacks

    async fn open_callbacks(&mut self, lead_id: Uuid) -> Result<Vec<OpenCallback>>;
    async fn close_callbacks(&mut self, ids: &[Uuid], now: DateTime<Utc>) -> Result<()>;
    async fn insert_callback(
        &mut self,
        id: Uuid,
        lead_id: Uuid,
        agent_id: i64,
        due_at: DateTime<Utc>,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()>;
    async fn callback(&mut self, id: Uuid) -> Result<Callback>;
    /// Gives an open callback to another agent; false when there is no open callback by that id.
    async fn hand_callback(&mut self, id: Uuid, to: i64) -> Result<bool>;

    // ------------------------------------------------------------------ queue and assignments

    /// The agent's own callbacks due by `now`, oldest first; with `lock` their leads are locked,
    /// skipping those another transaction holds.
    async fn due_callback_leads(
        &mut self,
        agent_id: i64,
        now: DateTime<Utc>,
        limit: u32,
        lock: bool,
    ) -> Result<Vec<Lead>>;
    /// The shared queue in claim order, leaving out what the rules would refuse and the leads in
    /// `skip`: the ready set and the agent's own claim; with `lock` their queue rows are locked,
    /// skipping those another transaction holds, and without it (a preview) the leads a feed
    /// would make ready are shown too.
    async fn queue_leads(
        &mut self,
        agent_id: i64,
        now: DateTime<Utc>,
        params: &QueueParams,
        limit: u32,
        lock: bool,
        skip: &[Uuid],
    ) -> Result<Vec<Lead>>;
    /// Feeds the claim queue: up to `limit` waiting leads whose time has come (by `now`) become
    /// ready; answers how many did.
    async fn feed_queue(&mut self, now: DateTime<Utc>, limit: u32) -> Result<u64>;
    /// Takes a lead the claim refused out of the ready set: back at `until`, or parked until the
    /// lead changes when None.
    async fn hold_queued(&mut self, lead_id: Uuid, until: Option<DateTime<Utc>>) -> Result<()>;
    /// Every live lead counted by the first rule that keeps it from this agent's queue now
    /// (`callable` for none), in can-call's order; a full scan, for diagnosis.
    async fn queue_why(
        &mut self,
        agent_id: i64,
        now: DateTime<Utc>,
        params: &QueueParams,
    ) -> Result<Vec<(String, i64)>>;
    /// The queue's rows by state (0 waiting, 1 ready, 2 parked).
    async fn queue_states(&mut self) -> Result<Vec<(i64, i64)>>;
    /// Ends the lead's live assignment, unless it is `keep_agent`'s; answers how many ended.
    async fn end_assignments(&mut self, lead_id: Uuid, keep_agent: Option<i64>) -> Result<u64>;
    /// Ends the agent's own claims on leads other than `lead_id` (one claim at a time).
    async fn end_own_claims_elsewhere(&mut self, agent_id: i64, lead_id: Uuid) -> Result<()>;
    /// Ends the claim an agent took on the lead themselves; supervisor assignments stay.
    async fn end_own_claim(&mut self, lead_id: Uuid) -> Result<()>;
    /// The agent's claim on the lead until `expires_at`; renews a claim they already hold.
    async fn insert_claim(
        &mut self,
        lead_id: Uuid,
        agent_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    async fn insert_assignment(
        &mut self,
        id: Uuid,
        lead_id: Uuid,
        agent_id: i64,
        by: Option<i64>,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<()>;
    async fn assignment(&mut self, id: Uuid) -> Result<Assignment>;
}
