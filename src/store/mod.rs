//! The async data layer. One API (`Store`) over two backends, picked once from the database URL:
//! PostgreSQL for a shared floor, a SQLite file for one agent offline. Each backend module holds
//! all of its SQL; rules are decided by `crate::domain` and made atomic by the backend's
//! transactions. Backends never read a clock: the store passes `now` in, so tests can move time.

mod backend;
mod bulk;
mod clock;
mod common;
mod error;
mod flows;
pub mod identity;
mod model;
pub mod offline;
mod portable;
pub(crate) mod postgres;
mod privacy;
pub mod remote;
pub mod search;
pub mod settings;
mod snapshot;
mod sqlite;
pub mod target;

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use backend::HistoryCall;
pub use bulk::{
    CallCursor, CallFilter, CallRecord, DncBatchResult, DncRow, ImportBatch, ImportRow, RowContact, RowOutcome,
    RowResult,
};
pub use clock::Clock;
pub use error::{Result, StoreError};
pub use flows::merge::MergeSummary;
pub use model::*;
pub use privacy::{AuditEntry, Erasure, PersonalData};
pub use snapshot::RestoreSummary;

pub(crate) use common::{migration_infos, undo_target, DispositionRow};
pub use postgres::Wakeups;

use crate::domain::authority::{authorize, Permission};
use crate::domain::bounds::{self, page_size};
use crate::domain::duplicates::DuplicatePair;
use crate::domain::text;
use crate::domain::{Disposition, LeadFields, LeadStatus, Policy, PresenceState, Refusal};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    Postgres,
    Sqlite,
    /// A floor server, over HTTP.
    Server,
}

#[derive(Clone)]
enum Backend {
    Postgres(postgres::PgStore),
    Sqlite(sqlite::SqliteStore),
    Remote(remote::RemoteStore),
}

/// Connection settings that matter beyond the URL.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub max_connections: u32,
    /// How long a caller waits for a free connection before getting an error.
    pub acquire_timeout: Duration,
    /// Reach a PostgreSQL server across a network without verified encryption (the user chose
    /// it: `COLDCALL_ALLOW_UNENCRYPTED=1`).
    pub allow_unencrypted: bool,
    /// A statement that takes longer is logged (as a warning, with its text and duration):
    /// `COLDCALL_SLOW_STATEMENT_MS`, default 250.
    pub slow_statement: Duration,
}

/// The slow-statement bound unless `COLDCALL_SLOW_STATEMENT_MS` says otherwise.
const SLOW_STATEMENT_MS: u64 = 250;

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
            allow_unencrypted: std::env::var("COLDCALL_ALLOW_UNENCRYPTED").is_ok_and(|v| v == "1" || v == "true"),
            slow_statement: Duration::from_millis(
                std::env::var("COLDCALL_SLOW_STATEMENT_MS")
                    .ok()
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(SLOW_STATEMENT_MS),
            ),
        }
    }
}

#[derive(Clone)]
pub struct Store {
    backend: Backend,
    clock: Clock,
    display: String,
    /// The URL asked for the server's certificate to be checked (`sslmode=verify-ca|verify-full`).
    verified_tls: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("database", &self.display).finish()
    }
}

/// Calls the same statement on whichever backend this store uses.
macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* $(,)? )) => {
        match &$self.backend {
            Backend::Postgres(b) => b.$method($($arg),*).await,
            Backend::Sqlite(b) => b.$method($($arg),*).await,
            Backend::Remote(_) => Err(StoreError::direct_only()),
        }
    };
}

/// Sends the call to the floor server when this store is one's client, and returns its answer.
macro_rules! remote {
    ($self:ident, $r:ident => $call:expr) => {
        if let Backend::Remote($r) = &$self.backend {
            return $call.await;
        }
    };
}

/// Runs a flow (written once, in `flows`) on whichever backend this store uses.
macro_rules! flow {
    ($self:ident, $flow:path, $($arg:expr),* $(,)?) => {
        match &$self.backend {
            Backend::Postgres(b) => $flow(b, $($arg),*).await,
            Backend::Sqlite(b) => $flow(b, $($arg),*).await,
            Backend::Remote(_) => Err(StoreError::direct_only()),
        }
    };
}

impl Store {
    /// Opens the database named by `url`: `postgres://…` / `postgresql://…` for PostgreSQL,
    /// `sqlite://PATH` or a plain file path for SQLite (the file is created when missing).
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Store> {
        let display = redact_url(url);
        let backend = match target::parse(url)? {
            target::Target::Postgres(url) => {
                target::check_transport(&url, options.allow_unencrypted)?;
                let options = ConnectOptions {
                    acquire_timeout: target::connect_timeout(&url).unwrap_or(options.acquire_timeout),
                    ..options.clone()
                };
                Backend::Postgres(postgres::PgStore::connect(&url, &options).await?)
            }
            target::Target::Sqlite(path) => Backend::Sqlite(sqlite::SqliteStore::connect(&path, options).await?),
        };
        Ok(Store {
            backend,
            clock: Clock::system(),
            display,
            verified_tls: target::ssl_mode(url).verifies(),
        })
    }

    /// A store that sends every call to the floor server `remote` is logged in to.
    pub fn on_server(remote: remote::RemoteStore) -> Store {
        Store {
            display: remote.server(),
            backend: Backend::Remote(remote),
            clock: Clock::system(),
            verified_tls: false,
        }
    }

    /// Replaces the clock (tests move time with `Clock::fixed`).
    pub fn with_clock(mut self, clock: Clock) -> Store {
        self.clock = clock;
        self
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Postgres(_) => BackendKind::Postgres,
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Remote(_) => BackendKind::Server,
        }
    }

    /// Where the data lives, with any password removed: safe to print and log.
    pub fn describe(&self) -> &str {
        &self.display
    }

    /// How the connection to the data is protected, for the header and `db status`.
    pub async fn connection_security(&self) -> Result<target::ConnectionSecurity> {
        use target::ConnectionSecurity::*;
        match &self.backend {
            Backend::Sqlite(_) => Ok(LocalFile),
            Backend::Remote(r) => Ok(r.security()),
            Backend::Postgres(pg) => Ok(match (pg.connection_encrypted().await?, self.verified_tls) {
                (true, true) => Verified,
                (true, false) => EncryptedUnverified,
                (false, _) => Plaintext,
            }),
        }
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Postgres(b) => b.close().await,
            Backend::Sqlite(b) => b.close().await,
            // Nothing is held open between requests.
            Backend::Remote(_) => {}
        }
    }

    /// Writes this SQLite database as one self-contained file at `path` (which must not exist):
    /// what a copy sent over the network or renamed into place must be, since a database file
    /// alone may lack what its write-ahead log still holds.
    pub async fn write_file(&self, path: &std::path::Path) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(b) => b.write_file(path).await,
            Backend::Postgres(_) | Backend::Remote(_) => Err(StoreError::BadInput(
                "only a SQLite database is written out as one file".into(),
            )),
        }
    }

    // ------------------------------------------------------------------ schema

    /// Applies pending migrations and seeds the default dispositions into an empty table.
    pub async fn migrate(&self) -> Result<()> {
        // A floor server migrates its own database when it starts.
        remote!(self, _r => async { Ok(()) });
        dispatch!(self.migrate())?;
        let defaults = crate::domain::disposition::default_dispositions();
        flow!(self, flows::lists::seed_dispositions, &defaults)
    }

    pub async fn migration_status(&self) -> Result<Vec<MigrationInfo>> {
        dispatch!(self.migration_status())
    }

    /// Reverts the newest applied migration.
    pub async fn migrate_down(&self) -> Result<Option<MigrationInfo>> {
        dispatch!(self.migrate_down())
    }

    /// Reverts every migration, then applies them again: an empty database.
    pub async fn reset(&self) -> Result<()> {
        while self.migrate_down().await?.is_some() {}
        self.migrate().await
    }

    // ------------------------------------------------------------------ agents and settings

    pub async fn add_agent(&self, agent: &NewAgent) -> Result<Agent> {
        remote!(self, r => r.add_agent(agent));
        let name = agent.name.trim();
        if name.is_empty() || name.chars().count() > 50 || name.chars().any(char::is_control) {
            return Err(StoreError::BadInput(
                "agent name: must be 1 to 50 characters, no control characters".into(),
            ));
        }
        let email = match agent.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            Some(e) if !email_address::EmailAddress::is_valid(e) => {
                return Err(StoreError::BadInput(format!(
                    "agent email: '{e}' is not a valid email address"
                )))
            }
            other => other.map(str::to_lowercase),
        };
        let agent = NewAgent {
            name: name.to_string(),
            email,
            role: agent.role,
        };
        dispatch!(self.add_agent(&agent, self.now()))
    }

    pub async fn agent_by_name(&self, name: &str) -> Result<Option<Agent>> {
        remote!(self, r => r.agent_by_name(name));
        dispatch!(self.agent_by_name(name))
    }

    pub async fn agent(&self, id: i64) -> Result<Option<Agent>> {
        remote!(self, r => r.agent_by_id(id));
        dispatch!(self.agent(id))
    }

    pub async fn agents(&self) -> Result<Vec<Agent>> {
        remote!(self, r => r.agents());
        dispatch!(self.agents())
    }

    pub async fn settings(&self) -> Result<Vec<(String, String)>> {
        remote!(self, r => r.settings());
        dispatch!(self.settings())
    }

    /// Changes a shared setting for every console, checked against its range first.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.change_setting(key, value, None).await
    }

    /// Changes a shared setting on behalf of `actor`; the old and new value go to the audit log.
    pub async fn change_setting(&self, key: &str, value: &str, actor: Option<i64>) -> Result<()> {
        remote!(self, r => r.change_setting(key, value, actor));
        let value = settings::validate(key, value).map_err(StoreError::BadInput)?;
        flow!(self, flows::lists::change_setting, key, &value, actor, self.now())
    }

    pub async fn policy(&self) -> Result<Policy> {
        Ok(self.floor_settings().await?.policy)
    }

    /// Every shared setting, checked: a stored value out of range is an error naming it.
    pub async fn floor_settings(&self) -> Result<settings::FloorSettings> {
        settings::FloorSettings::from_rows(&self.settings().await?).map_err(StoreError::BadSetting)
    }

    pub async fn dispositions(&self) -> Result<Vec<Disposition>> {
        remote!(self, r => r.dispositions());
        dispatch!(self.dispositions())
    }

    // ------------------------------------------------------------------ leads

    pub async fn create_lead(&self, fields: &LeadFields, actor: Option<i64>) -> Result<Lead> {
        remote!(self, r => r.create_lead(fields, actor));
        // A lead typed without a zone takes the one its number gives, as an imported lead does.
        let fields = &LeadFields {
            timezone: crate::domain::zones::zone_to_store(fields.timezone.as_deref(), &fields.phone, None),
            ..fields.clone()
        };
        flow!(self, flows::leads::create, Uuid::now_v7(), fields, actor, self.now())
    }

    /// Replaces the editable fields. A status change made this way is logged with `reason`.
    pub async fn update_lead(
        &self,
        id: Uuid,
        fields: &LeadFields,
        actor: Option<i64>,
        reason: Option<&str>,
    ) -> Result<Lead> {
        remote!(self, r => r.update_lead(id, fields, actor, reason));
        let reason = text::line("reason", reason).map_err(StoreError::BadInput)?;
        flow!(
            self,
            flows::leads::update,
            id,
            fields,
            actor,
            reason.as_deref(),
            self.now()
        )
    }

    /// Any lead by id, deleted ones included (so history stays reachable).
    pub async fn lead(&self, id: Uuid) -> Result<Option<Lead>> {
        remote!(self, r => r.lead(id));
        dispatch!(self.lead(id))
    }

    pub async fn set_status(
        &self,
        id: Uuid,
        status: LeadStatus,
        reason: Option<&str>,
        actor: Option<i64>,
    ) -> Result<Lead> {
        remote!(self, r => r.set_status(id, status, reason, actor));
        let reason = text::line("reason", reason).map_err(StoreError::BadInput)?;
        flow!(
            self,
            flows::leads::set_status,
            id,
            status,
            reason.as_deref(),
            actor,
            self.now()
        )
    }

    pub async fn delete_lead(&self, id: Uuid, actor: Option<i64>) -> Result<Lead> {
        remote!(self, r => r.set_deleted(id, true, actor));
        flow!(self, flows::leads::set_deleted, id, true, actor, self.now())
    }

    pub async fn restore_lead(&self, id: Uuid, actor: Option<i64>) -> Result<Lead> {
        remote!(self, r => r.set_deleted(id, false, actor));
        flow!(self, flows::leads::set_deleted, id, false, actor, self.now())
    }

    /// Leads (deleted ones too) whose id starts with `prefix` (hex digits, see
    /// `domain::ids`), at most `limit`, in id order: two tell an ambiguous prefix.
    pub async fn leads_by_id_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<Lead>> {
        remote!(self, r => r.leads_by_id_prefix(prefix, limit));
        let (lo, hi) = crate::domain::ids::prefix_range(prefix).map_err(StoreError::BadInput)?;
        dispatch!(self.leads_in_id_range(lo, hi, limit))
    }

    /// Calls whose id starts with `prefix`, at most `limit`, in id order.
    pub async fn calls_by_id_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<CallLog>> {
        remote!(self, r => r.calls_by_id_prefix(prefix, limit));
        let (lo, hi) = crate::domain::ids::prefix_range(prefix).map_err(StoreError::BadInput)?;
        dispatch!(self.calls_in_id_range(lo, hi, limit))
    }

    /// Open callbacks (on deleted leads too) whose id starts with `prefix`, the agent's own when
    /// `agent_id` is given (every agent's when None), at most `limit`, in id order.
    pub async fn callbacks_by_id_prefix(
        &self,
        prefix: &str,
        agent_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Callback>> {
        remote!(self, r => r.callbacks_by_id_prefix(prefix, agent_id, limit));
        let (lo, hi) = crate::domain::ids::prefix_range(prefix).map_err(StoreError::BadInput)?;
        dispatch!(self.callbacks_in_id_range(lo, hi, agent_id, limit))
    }

    /// Likely pairs of live leads that are one person (a number among another lead's numbers,
    /// the same email, the same name at the same company), best first, each with why and a score.
    pub async fn duplicate_leads(&self) -> Result<Vec<DuplicatePair>> {
        remote!(self, r => r.duplicate_leads());
        flow!(self, flows::merge::duplicates,)
    }

    /// Merges `other` into `keep`: calls, status history, contact points and callbacks move to
    /// `keep`, do-not-call and do-not-email stay if either had them, `other` is soft-deleted
    /// pointing at `keep`. Needs a supervisor; refused while either lead is on a call; audited.
    pub async fn merge_leads(&self, keep: Uuid, other: Uuid, by: i64) -> Result<MergeSummary> {
        remote!(self, r => r.merge_leads(keep, other, by));
        self.authorize(by, Permission::MergeLeads).await?;
        flow!(self, flows::merge::merge, keep, other, Some(by), self.now())
    }

    /// The lead this one was merged into, if it was.
    pub async fn merged_into(&self, id: Uuid) -> Result<Option<Uuid>> {
        remote!(self, r => r.merged_into(id));
        flow!(self, flows::merge::merged_into, id)
    }

    /// One page of live leads in list order (priority, score, newest), starting after `after`.
    pub async fn list_leads(&self, filter: &LeadFilter, after: Option<LeadCursor>, limit: u32) -> Result<Page<Lead>> {
        remote!(self, r => r.list_leads(filter, after, limit));
        let limit = page_size("limit", limit, 1000).map_err(StoreError::BadInput)?;
        let mut items = dispatch!(self.list_leads(filter, after, limit + 1, self.now()))?;
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(Lead::cursor)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    /// Live leads matching the text (name, company, email, title, notes words; phone or email
    /// fragments), in list order, at most `limit`.
    pub async fn search_leads(&self, text: &str, filter: &LeadFilter, limit: u32) -> Result<Vec<Lead>> {
        remote!(self, r => r.search_leads(text, filter, limit));
        let terms = search::SearchTerms::parse(text);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let limit = page_size("limit", limit, 500).map_err(StoreError::BadInput)?;
        dispatch!(self.search_leads(&terms, filter, limit, self.now()))
    }

    // ------------------------------------------------------------------ contacts

    pub async fn contacts(&self, lead_id: Uuid) -> Result<Vec<Contact>> {
        remote!(self, r => r.contacts(lead_id));
        dispatch!(self.contacts(lead_id))
    }

    /// Adds a contact point; a new primary one takes over from the old primary of its kind.
    pub async fn add_contact(&self, lead_id: Uuid, contact: &NewContact, region: &str) -> Result<Contact> {
        remote!(self, r => r.add_contact(lead_id, contact));
        let contact = normalize_contact(contact, region)?;
        flow!(
            self,
            flows::leads::add_contact,
            Uuid::now_v7(),
            lead_id,
            &contact,
            self.now()
        )
    }

    pub async fn update_contact(&self, id: Uuid, contact: &NewContact, region: &str) -> Result<Contact> {
        remote!(self, r => r.update_contact(id, contact));
        let contact = normalize_contact(contact, region)?;
        flow!(self, flows::leads::update_contact, id, &contact)
    }

    pub async fn remove_contact(&self, id: Uuid) -> Result<()> {
        remote!(self, r => r.remove_contact(id));
        dispatch!(self.remove_contact(id))
    }

    // ------------------------------------------------------------------ calls

    /// What start-call would say right now, without taking the lock.
    /// A lead that does not exist is an error (`NotFound`), not a refusal.
    pub async fn can_call(&self, lead_id: Uuid, agent_id: i64) -> Result<Result<(), Refusal>> {
        remote!(self, r => r.can_call(lead_id, agent_id));
        match flow!(self, flows::calls::can_call, lead_id, agent_id, self.now())? {
            Err(Refusal::LeadNotFound) => Err(StoreError::not_found("lead", lead_id)),
            verdict => Ok(verdict),
        }
    }

    /// Checks every rule and takes the lead's lock in one transaction.
    /// A lead that does not exist is an error (`NotFound`), not a refusal.
    pub async fn start_call(&self, req: &StartCall) -> Result<StartedCall> {
        remote!(self, r => r.start_call(req));
        match flow!(self, flows::calls::start_call, Uuid::now_v7(), req, self.now()) {
            Err(StoreError::Refused(Refusal::LeadNotFound)) => Err(StoreError::not_found("lead", req.lead_id)),
            other => other,
        }
    }

    /// Keeps the caller's lock alive; false when the lock is gone (reaped or ended elsewhere).
    pub async fn heartbeat(&self, call_id: Uuid, agent_id: i64) -> Result<bool> {
        remote!(self, r => r.heartbeat(call_id, agent_id));
        dispatch!(self.heartbeat(call_id, agent_id, self.now()))
    }

    /// Records the outcome and releases the lock in one transaction. Retrying a call that was
    /// already ended with the same outcome returns the first result instead of failing.
    pub async fn end_call(&self, req: &EndCall) -> Result<EndedCall> {
        remote!(self, r => r.end_call(req));
        if let Some(at) = req.callback_at {
            bounds::future_time("callback time", at, self.now()).map_err(StoreError::BadInput)?;
        }
        let req = EndCall {
            notes: text::note("notes", req.notes.as_deref()).map_err(StoreError::BadInput)?,
            recording_url: text::recording_url(req.recording_url.as_deref()).map_err(StoreError::BadInput)?,
            ..req.clone()
        };
        flow!(self, flows::calls::end_call, &req, self.now())
    }

    /// Closes every lock whose heartbeat is older than the lock TTL as abandoned.
    pub async fn reap_stale_locks(&self, actor: Option<i64>) -> Result<Vec<ReapedLock>> {
        remote!(self, r => r.reap_stale_locks(actor));
        flow!(self, flows::calls::reap_stale_locks, actor, self.now())
    }

    /// A supervisor (or admin) releases a call lock now, with a reason that is kept on the call
    /// and in the audit log; the call is recorded as abandoned.
    pub async fn force_release(&self, call_id: Uuid, by: i64, reason: &str) -> Result<ReapedLock> {
        remote!(self, r => r.force_release(call_id, by, reason));
        let reason = text::line("reason", Some(reason))
            .map_err(StoreError::BadInput)?
            .ok_or_else(|| StoreError::BadInput("say why the lock is released (--reason)".into()))?;
        self.authorize(by, Permission::ReleaseLock).await?;
        flow!(self, flows::calls::force_release, call_id, by, &reason, self.now())
    }

    /// Fails unless the agent `by` holds the permission (the domain decides who does).
    async fn authorize(&self, by: i64, permission: Permission) -> Result<()> {
        let agent = self
            .agent(by)
            .await?
            .ok_or_else(|| StoreError::not_found("agent", by))?;
        authorize(&agent.name, agent.role, permission).map_err(|e| StoreError::Forbidden(e.to_string()))
    }

    /// Adds a line to a call's notes; false when there is no such call.
    pub async fn note_call(&self, call_id: Uuid, text: &str) -> Result<bool> {
        remote!(self, r => r.note_call(call_id, text));
        let Some(text) = text::note("note", Some(text)).map_err(StoreError::BadInput)? else {
            return Ok(false);
        };
        dispatch!(self.note_call(call_id, &text))
    }

    pub async fn active_calls(&self) -> Result<Vec<ActiveCall>> {
        remote!(self, r => r.active_calls());
        dispatch!(self.active_calls())
    }

    pub async fn call(&self, call_id: Uuid) -> Result<Option<CallLog>> {
        remote!(self, r => r.call(call_id));
        dispatch!(self.call(call_id))
    }

    pub async fn call_history(&self, lead_id: Uuid) -> Result<Vec<CallLog>> {
        remote!(self, r => r.call_history(lead_id));
        dispatch!(self.call_history(lead_id))
    }

    pub async fn status_history(&self, lead_id: Uuid) -> Result<Vec<StatusChange>> {
        remote!(self, r => r.status_history(lead_id));
        dispatch!(self.status_history(lead_id))
    }

    // ------------------------------------------------------------------ presence

    /// Records an agent's state from their console; called on every change and as a heartbeat.
    pub async fn set_presence(&self, agent_id: i64, state: PresenceState, reason: Option<&str>) -> Result<()> {
        remote!(self, r => r.set_presence(agent_id, state, reason));
        let reason = text::line("pause reason", reason).map_err(StoreError::BadInput)?;
        dispatch!(self.set_presence(agent_id, state, reason.as_deref(), self.now()))
    }

    /// Every active agent and their state; a console silent for longer than the lock TTL shows
    /// as offline.
    pub async fn presence(&self) -> Result<Vec<Presence>> {
        remote!(self, r => r.presence());
        let ttl = self.policy().await?.lock_ttl;
        dispatch!(self.presence(self.now() - ttl))
    }

    /// The floor's figures for calls started in [from, to), and the lead funnel by status.
    pub async fn floor_figures(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<FloorFigures> {
        remote!(self, r => r.floor_figures(from, to));
        if to <= from {
            return Err(StoreError::BadInput("the period must end after it starts".into()));
        }
        let agents = dispatch!(self.agent_figures(from, to))?;
        let mut funnel = dispatch!(self.funnel())?;
        funnel.sort_by_key(|(status, _)| LeadStatus::ALL.iter().position(|s| s == status));
        Ok(FloorFigures {
            from,
            to,
            agents,
            funnel,
        })
    }

    // ------------------------------------------------------------------ queue and assignments

    /// Hands the agent the next lead: their own due callbacks first, then the shared queue by
    /// priority, score and oldest next-call time, skipping leads any rule would refuse. Two
    /// agents never receive the same lead.
    pub async fn claim_next(&self, agent_id: i64) -> Result<Option<Claim>> {
        remote!(self, r => r.claim_next(agent_id));
        flow!(self, flows::queue::claim_next, agent_id, self.now())
    }

    /// Why the queue holds leads back from this agent: counts by rule (`coldcall queue why`).
    pub async fn queue_why(&self, agent_id: i64) -> Result<QueueWhy> {
        remote!(self, r => r.queue_why(agent_id));
        flow!(self, flows::queue::queue_why, agent_id, self.now())
    }

    /// What claim-next would hand this agent, in order, without claiming anything.
    pub async fn queue_preview(&self, agent_id: i64, limit: u32) -> Result<Vec<Lead>> {
        remote!(self, r => r.queue_preview(agent_id, limit));
        let limit = page_size("limit", limit, 1000).map_err(StoreError::BadInput)?;
        flow!(self, flows::queue::queue_preview, agent_id, limit, self.now())
    }

    /// Gives the lead to an agent (replacing any live assignment). An agent may take a lead for
    /// themselves; giving one to someone else is a supervisor's call. `by` None is the admin's
    /// shell (the command line without an agent).
    pub async fn assign(
        &self,
        lead_id: Uuid,
        agent_id: i64,
        by: Option<i64>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<Assignment> {
        remote!(self, r => r.assign(lead_id, agent_id, by, expires_at));
        if let Some(at) = expires_at {
            bounds::future_time("assignment end", at, self.now()).map_err(StoreError::BadInput)?;
        }
        if let Some(by) = by.filter(|by| *by != agent_id) {
            self.authorize(by, Permission::AssignToOther).await?;
        }
        flow!(
            self,
            flows::queue::assign,
            Uuid::now_v7(),
            lead_id,
            agent_id,
            by,
            expires_at,
            self.now()
        )
    }

    /// Ends the lead's live assignment; false when it had none.
    pub async fn unassign(&self, lead_id: Uuid) -> Result<bool> {
        remote!(self, r => r.unassign(lead_id));
        dispatch!(self.unassign(lead_id))
    }

    /// Marks assignments past their expiry inactive; returns how many.
    pub async fn expire_assignments(&self) -> Result<u64> {
        remote!(self, r => r.expire_assignments());
        dispatch!(self.expire_assignments(self.now()))
    }

    pub async fn assignments(&self, lead_id: Uuid) -> Result<Vec<Assignment>> {
        remote!(self, r => r.assignments(lead_id));
        dispatch!(self.assignments(lead_id))
    }

    // ------------------------------------------------------------------ callbacks

    pub async fn schedule_callback(
        &self,
        lead_id: Uuid,
        agent_id: i64,
        due_at: DateTime<Utc>,
        note: Option<&str>,
    ) -> Result<Callback> {
        remote!(self, r => r.schedule_callback(lead_id, agent_id, due_at, note));
        bounds::future_time("callback time", due_at, self.now()).map_err(StoreError::BadInput)?;
        let note = text::note("callback note", note).map_err(StoreError::BadInput)?;
        flow!(
            self,
            flows::lists::schedule_callback,
            Uuid::now_v7(),
            lead_id,
            agent_id,
            due_at,
            note.as_deref(),
            self.now()
        )
    }

    /// Open callbacks due by `until` (all agents when `agent_id` is None), oldest first.
    pub async fn due_callbacks(&self, agent_id: Option<i64>, until: DateTime<Utc>) -> Result<Vec<Callback>> {
        remote!(self, r => r.due_callbacks(agent_id, until));
        dispatch!(self.due_callbacks(agent_id, until))
    }

    /// Hands an open callback to another agent (supervisors; `by` None is the admin's shell);
    /// false when there is no open callback by that id.
    pub async fn hand_callback(&self, id: Uuid, to: i64, by: Option<i64>) -> Result<bool> {
        remote!(self, r => r.hand_callback(id, to, by));
        if let Some(by) = by {
            self.authorize(by, Permission::HandCallback).await?;
        }
        flow!(self, flows::lists::hand_callback, id, to, by, self.now())
    }

    pub async fn complete_callback(&self, id: Uuid) -> Result<bool> {
        remote!(self, r => r.complete_callback(id));
        dispatch!(self.complete_callback(id, self.now()))
    }

    // ------------------------------------------------------------------ do-not-call list

    pub async fn dnc_add(&self, number: &str, reason: Option<&str>, by: Option<i64>) -> Result<DncEntry> {
        remote!(self, r => r.dnc_add(number, reason, by));
        let reason = text::line("do-not-call reason", reason).map_err(StoreError::BadInput)?;
        flow!(self, flows::lists::dnc_add, number, reason.as_deref(), by, self.now())
    }

    /// Takes a number off the do-not-call list: an admin's call (`by` None is the admin's shell).
    pub async fn dnc_remove(&self, number: &str, by: Option<i64>) -> Result<bool> {
        remote!(self, r => r.dnc_remove(number, by));
        if let Some(by) = by {
            self.authorize(by, Permission::RemoveFromDnc).await?;
        }
        flow!(self, flows::lists::dnc_remove, number, by, self.now())
    }

    pub async fn dnc_check(&self, number: &str) -> Result<Option<DncEntry>> {
        remote!(self, r => r.dnc_check(number));
        dispatch!(self.dnc_check(number))
    }

    // ------------------------------------------------------------------ change feed

    /// Changes after `cursor`, oldest first, at most `limit`. Nothing committed is ever skipped,
    /// even when transactions commit in another order than they wrote.
    pub async fn changes_since(&self, cursor: FeedCursor, limit: u32) -> Result<Vec<Change>> {
        remote!(self, r => r.changes_since(cursor, limit.clamp(1, 1000)));
        dispatch!(self.changes_since(cursor, limit.clamp(1, 10_000)))
    }

    /// Notifications that something screens must show at once has changed (PostgreSQL only;
    /// None on SQLite). They only wake a poller early: the feed stays the source of truth.
    pub async fn wakeups(&self) -> Result<Option<Wakeups>> {
        // Through a floor server the console follows its stream instead (`change_stream`).
        remote!(self, _r => async { Ok(None) });
        dispatch!(self.wakeups())
    }

    /// The floor server's change stream from `cursor` on, when this store is a server's client
    /// (None otherwise: poll `changes_since`). Each change arrives as it is committed.
    pub async fn change_stream(
        &self,
        cursor: FeedCursor,
    ) -> Result<Option<futures::stream::BoxStream<'static, Result<Change>>>> {
        use futures::StreamExt;
        match &self.backend {
            Backend::Remote(r) => Ok(Some(r.follow(cursor).await?.boxed())),
            _ => Ok(None),
        }
    }

    /// The floor server this store is a client of: its own agent and sessions.
    pub fn remote(&self) -> Option<&remote::RemoteStore> {
        match &self.backend {
            Backend::Remote(r) => Some(r),
            _ => None,
        }
    }

    /// The cursor a new screen starts from: everything already committed counts as seen.
    pub async fn feed_head(&self) -> Result<FeedCursor> {
        remote!(self, r => r.feed_head());
        dispatch!(self.feed_head())
    }

    // ------------------------------------------------------------------ import and export

    /// Writes one batch of import rows in one transaction: each row is matched to stored leads
    /// by phone and email (looked up inside the transaction, rows locked on PostgreSQL), decided
    /// by the duplicate mode, and new and changed leads are written together. Answers one result
    /// per row, in order. With `dry_run` nothing is written.
    pub async fn import_leads(&self, batch: &ImportBatch<'_>) -> Result<Vec<RowResult>> {
        remote!(self, r => r.import_leads(batch));
        if batch.rows.is_empty() {
            return Ok(Vec::new());
        }
        flow!(self, flows::bulk::import_leads, batch, self.now())
    }

    /// As `import_leads`, for a bulk load (`import --bulk`): the same decisions and the same
    /// rows stored, with the row triggers a new lead fires (SQLite's change feed, status log
    /// and search index) run once for the batch. Direct mode only; the importer keeps it to a
    /// quiet floor (`live_floor`).
    pub async fn import_leads_bulk(&self, batch: &ImportBatch<'_>) -> Result<Vec<RowResult>> {
        if batch.rows.is_empty() {
            return Ok(Vec::new());
        }
        flow!(self, flows::bulk::import_leads_bulk, batch, self.now())
    }

    /// What keeps the floor from being quiet (consoles open, calls in progress), or None; see
    /// `domain::bulk_load`.
    pub async fn live_floor(&self) -> Result<Option<crate::domain::bulk_load::LiveFloor>> {
        let ttl = self.policy().await?.lock_ttl;
        let presence: Vec<_> = self
            .presence()
            .await?
            .into_iter()
            .map(|p| (p.agent_name, p.state, p.heartbeat_at))
            .collect();
        let calls: Vec<_> = self
            .active_calls()
            .await?
            .into_iter()
            .map(|c| (c.agent_name, c.heartbeat_at))
            .collect();
        Ok(crate::domain::bulk_load::live_floor(&presence, &calls, ttl, self.now()))
    }

    /// Writes finished calls straight into the history in one transaction (`db seed`).
    pub async fn insert_history(&self, calls: &[HistoryCall]) -> Result<u64> {
        flow!(self, flows::bulk::insert_history, calls)
    }

    /// Feeds the claim queue everything that has come due (after a bulk load).
    pub async fn feed_queue(&self) -> Result<u64> {
        flow!(self, flows::bulk::feed_queue, self.now())
    }

    /// Puts a batch of numbers (E.164) on the do-not-call list in one transaction and marks the
    /// leads with those numbers do-not-call, as `dnc_add` does for one number.
    pub async fn import_dnc(&self, rows: &[DncRow], actor: Option<i64>, dry_run: bool) -> Result<DncBatchResult> {
        remote!(self, r => r.import_dnc(rows, actor, dry_run));
        if rows.is_empty() {
            return Ok(DncBatchResult::default());
        }
        flow!(self, flows::bulk::import_dnc, rows, actor, dry_run, self.now())
    }

    /// One audit-log entry for a whole import: what was imported (`leads` or `dnc`), from which
    /// file, and the counts.
    pub async fn record_import(
        &self,
        what: &str,
        file: &str,
        summary: &serde_json::Value,
        actor: Option<i64>,
    ) -> Result<()> {
        remote!(self, r => r.record_import(what, file, summary, actor));
        flow!(self, flows::bulk::record_import, what, file, summary, actor, self.now())
    }

    /// One page of calls for an export, oldest first, starting after `after`.
    pub async fn export_calls(
        &self,
        filter: &CallFilter,
        after: Option<CallCursor>,
        limit: u32,
    ) -> Result<Vec<CallRecord>> {
        remote!(self, r => r.export_calls(filter, after, limit));
        let limit = page_size("limit", limit, 5000).map_err(StoreError::BadInput)?;
        dispatch!(self.export_calls(filter, after, limit))
    }

    // ------------------------------------------------------------------ call scripts

    /// Stores a call script (admins): `default`, read on every call, or one named after a
    /// disposition code, the follow-up on the next call after that outcome. Its placeholders
    /// are checked now, so a typo is refused rather than read out to a lead. Audited.
    pub async fn set_script(&self, name: &str, body: &str, by: Option<i64>) -> Result<CallScript> {
        remote!(self, r => r.set_script(name, body, by));
        if let Some(by) = by {
            self.authorize(by, Permission::ManageScripts).await?;
        }
        flow!(self, flows::scripts::set_script, name, body, by, self.now())
    }

    pub async fn delete_script(&self, name: &str, by: Option<i64>) -> Result<bool> {
        remote!(self, r => r.delete_script(name, by));
        if let Some(by) = by {
            self.authorize(by, Permission::ManageScripts).await?;
        }
        flow!(self, flows::scripts::delete_script, name, by, self.now())
    }

    pub async fn scripts(&self) -> Result<Vec<CallScript>> {
        remote!(self, r => r.scripts());
        flow!(self, flows::scripts::scripts,)
    }

    pub async fn script(&self, name: &str) -> Result<Option<CallScript>> {
        remote!(self, r => r.script(name));
        flow!(self, flows::scripts::script, name)
    }

    /// The script to read on a call to `lead` by `agent`, its fields filled in.
    pub async fn script_for_call(&self, lead: &Lead, agent: &str) -> Result<Option<ScriptForCall>> {
        remote!(self, r => r.script_for_call(lead, agent));
        let Some(script) = flow!(self, flows::scripts::script_for_lead, lead.id)? else {
            return Ok(None);
        };
        Ok(Some(ScriptForCall {
            text: script_text(&script.body, lead, agent),
            name: script.name,
        }))
    }

    // ------------------------------------------------------------------ offline copies

    /// Reserves up to `req.leads` leads the filter picks for the agent until `req.hours` from now
    /// (no one else claims or calls them meanwhile, the agent on the floor included), and writes
    /// them into `copy`, a new SQLite database, with their contacts and history, the do-not-call
    /// entries of their numbers, the floor's settings and dispositions, and the checkout's
    /// identity. The copy names the floor without its credentials: it gives no access to it.
    /// Taking leads for another agent needs an admin.
    pub async fn offline_checkout(
        &self,
        copy: &Store,
        req: &offline::CheckoutRequest,
        filter: &LeadFilter,
    ) -> Result<offline::CheckoutSummary> {
        page_size("leads", req.leads, offline::MAX_CHECKOUT_LEADS).map_err(StoreError::BadInput)?;
        page_size("hours", req.hours, offline::MAX_CHECKOUT_HOURS).map_err(StoreError::BadInput)?;
        if req.by != req.agent_id {
            self.authorize(req.by, Permission::CheckOutForOthers).await?;
        }
        let out = copy.as_copy(self)?;
        let now = self.now();
        match &self.backend {
            Backend::Postgres(b) => flows::offline::checkout(b, out, req, filter, &self.display, now).await,
            Backend::Sqlite(b) => flows::offline::checkout(b, out, req, filter, &self.display, now).await,
            // Through a floor server a copy goes as a file (`offline_link`).
            Backend::Remote(_) => Err(StoreError::direct_only()),
        }
    }

    /// Sends the work done in the offline copy `copy` to this floor (calls, status changes with
    /// their times, edits, contact points, callbacks, do-not-call additions), releases the leads
    /// that are done, and brings the copy up to what the floor now has. Safe to repeat: a second
    /// sync changes nothing. The report names every conflict and how it was settled. `by`, when
    /// given, is who sends it: the copy's agent, or an admin.
    pub async fn offline_sync(&self, copy: &Store, by: Option<i64>) -> Result<offline::SyncReport> {
        let out = copy.as_copy(self)?;
        self.authorize_for_copy(copy, by).await?;
        let now = self.now();
        match &self.backend {
            Backend::Postgres(b) => flows::offline::sync(b, out, now).await,
            Backend::Sqlite(b) => flows::offline::sync(b, out, now).await,
            // Through a floor server a copy goes as a file (`offline_link`).
            Backend::Remote(_) => Err(StoreError::direct_only()),
        }
    }

    /// Reserves up to `more` further leads the filter picks under the copy's checkout, until the
    /// same end, and adds them to the copy. `by`, when given, is the copy's agent or an admin.
    pub async fn offline_take_more(
        &self,
        copy: &Store,
        more: u32,
        filter: &LeadFilter,
        by: Option<i64>,
    ) -> Result<u64> {
        page_size("more", more, offline::MAX_CHECKOUT_LEADS).map_err(StoreError::BadInput)?;
        let out = copy.as_copy(self)?;
        self.authorize_for_copy(copy, by).await?;
        let now = self.now();
        match &self.backend {
            Backend::Postgres(b) => flows::offline::take_more(b, out, more, filter, now).await,
            Backend::Sqlite(b) => flows::offline::take_more(b, out, more, filter, now).await,
            // Through a floor server a copy goes as a file (`offline_link`).
            Backend::Remote(_) => Err(StoreError::direct_only()),
        }
    }

    /// Only the copy's agent, or an admin, works a copy with the floor.
    async fn authorize_for_copy(&self, copy: &Store, by: Option<i64>) -> Result<()> {
        if let Some(by) = by {
            let owner = copy.offline_copy_of().await?.map(|c| c.agent_id);
            if owner != Some(by) {
                self.authorize(by, Permission::CheckOutForOthers).await?;
            }
        }
        Ok(())
    }

    /// Takes into this copy what a floor server answered a sync with: `sent` is the snapshot
    /// that went (`write_file`), `returned` the copy that came back. Work done here
    /// meanwhile is kept for the next sync. Answers the report and how many leads joined.
    pub async fn offline_adopt(&self, sent: &Store, returned: &Store) -> Result<(offline::SyncReport, u64)> {
        let (local, sent, returned) = (self.as_copy(sent)?, sent.as_copy(self)?, returned.as_copy(self)?);
        flows::offline::adopt(local, sent, returned, self.now()).await
    }

    /// The checkouts still reserving leads on this floor, the soonest to end first.
    pub async fn offline_checkouts(&self) -> Result<Vec<offline::OpenCheckout>> {
        remote!(self, r => r.offline_checkouts());
        flow!(self, flows::offline::open_checkouts, self.now())
    }

    /// This database's own checkout when it is an offline copy: whose, from where, until when.
    pub async fn offline_copy_of(&self) -> Result<Option<offline::Checkout>> {
        // A floor is never itself an offline copy.
        remote!(self, _r => async { Ok(None) });
        flow!(self, flows::offline::own_checkout,)
    }

    /// The SQLite backend of a copy for this floor (never the floor itself).
    fn as_copy(&self, floor: &Store) -> Result<&sqlite::SqliteStore> {
        match &self.backend {
            Backend::Sqlite(b) if self.display != floor.display => Ok(b),
            Backend::Sqlite(_) => Err(StoreError::BadInput(
                "an offline copy goes into its own file, not into the floor's database".into(),
            )),
            Backend::Postgres(_) | Backend::Remote(_) => {
                Err(StoreError::BadInput("an offline copy is a SQLite file".into()))
            }
        }
    }

    // ------------------------------------------------------------------ backups and personal data

    /// Writes a backup of every table to `out`, all from one snapshot, so consoles can keep
    /// working meanwhile. The database must be at this coldcall's schema (see `backup::tables`).
    pub async fn backup<W: std::io::Write>(&self, out: W) -> Result<(W, crate::backup::Manifest)> {
        let version = snapshot::schema_version_for_backup(&self.migration_status().await?)?;
        let backend = match self.kind() {
            BackendKind::Postgres => "postgres",
            BackendKind::Sqlite => "sqlite",
            BackendKind::Server => return Err(StoreError::direct_only()),
        };
        let header = crate::backup::Header::new(version, backend, self.now());
        let mut writer = crate::backup::BackupWriter::new(out, header)?;
        flow!(self, flows::snapshot::backup, &mut writer)?;
        Ok(writer.finish()?)
    }

    /// Restores the backup at `path` (from either backend) into this database, which must hold
    /// no data yet. The whole file is verified before anything is written; a damaged file, or one
    /// from a newer schema, is refused with the database untouched. The schema is created when
    /// missing, then every table is loaded in one transaction; the settings and dispositions
    /// `migrate` seeds are replaced by the backup's.
    pub async fn restore(&self, path: &std::path::Path) -> Result<RestoreSummary> {
        let open = || {
            std::fs::File::open(path)
                .map_err(|e| crate::backup::BackupError::io(format!("cannot open {}", path.display()), e))
        };
        let (manifest, _) = crate::backup::verify(open()?)?;
        snapshot::check_restorable(&manifest, &self.migration_status().await?)?;
        self.migrate().await?;
        // Read again for the load (the first pass kept nothing in memory); it is checked as it
        // goes, so a file changed in between still cannot be half restored.
        let mut reader = crate::backup::BackupReader::open(open()?)?;
        let rows = flow!(self, flows::snapshot::restore, &mut reader)?;
        Ok(RestoreSummary { manifest, rows })
    }

    /// What the database says of its own health, for `coldcall doctor`.
    pub async fn health(&self) -> Result<DatabaseHealth> {
        dispatch!(self.health())
    }

    /// Every schema object coldcall created, one normalised line each, sorted: equal lists mean
    /// equal schemas (used to prove migrations go down and up again cleanly).
    pub async fn schema_objects(&self) -> Result<Vec<String>> {
        dispatch!(self.schema_objects())
    }

    /// Everything held about the person behind a lead, as one document (supervisors and admins;
    /// the export itself is recorded in the audit log).
    pub async fn gdpr_export(&self, lead_id: Uuid, by: i64) -> Result<PersonalData> {
        remote!(self, r => r.gdpr_export(lead_id, by));
        self.authorize(by, Permission::ExportPersonalData).await?;
        flow!(self, flows::privacy::export, lead_id, by, self.now())
    }

    /// Erases the person behind a lead (supervisors and admins): names, email, phone, company,
    /// title, zone and notes of the lead, its contact points, call notes and recording links,
    /// status-change reasons, callback notes and audit values about it. What the floor's
    /// statistics count stays (calls with agent, times, duration and outcome; status history;
    /// assignments), anonymous. A number on the do-not-call list stays there. The erasure is
    /// recorded in the audit log with its reason; running it again changes nothing more.
    pub async fn gdpr_erase(&self, lead_id: Uuid, by: i64, reason: &str) -> Result<Erasure> {
        remote!(self, r => r.gdpr_erase(lead_id, by, reason));
        let reason = text::line("reason", Some(reason))
            .map_err(StoreError::BadInput)?
            .ok_or_else(|| {
                StoreError::BadInput(
                    "say why the person's data is erased (--reason), e.g. \"request by email of 2026-11-20\"".into(),
                )
            })?;
        self.authorize(by, Permission::ErasePersonalData).await?;
        flow!(self, flows::privacy::erase, lead_id, by, &reason, self.now())
    }
}

fn normalize_contact(contact: &NewContact, region: &str) -> Result<NewContact> {
    use crate::domain::contact;
    Ok(NewContact {
        value: contact::value(contact.kind, &contact.value, region).map_err(StoreError::BadInput)?,
        label: contact::label(contact.label.as_deref()).map_err(StoreError::BadInput)?,
        ..contact.clone()
    })
}

/// Removes the password from a connection URL so it can be shown and logged.
/// A script's text with the lead's fields (and the agent's name) filled in.
pub fn script_text(body: &str, lead: &Lead, agent: &str) -> String {
    let full_name = lead.full_name();
    crate::domain::script::fill(body, |field| match field {
        "first_name" => Some(lead.first_name.as_str()),
        "last_name" => Some(lead.last_name.as_str()),
        "full_name" => Some(full_name.as_str()),
        "company" => Some(lead.company.as_str()),
        "title" => lead.title.as_deref(),
        "email" => lead.email.as_deref(),
        "phone" => Some(lead.phone.as_str()),
        "agent" => Some(agent),
        _ => None,
    })
}

pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = rest.split_once('/').map(|(a, t)| (a, Some(t))).unwrap_or((rest, None));
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{user_info}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = tail.map(|t| t.split_once('?').map(|(path, _)| path).unwrap_or(t));
    match tail {
        Some(t) => format!("{scheme}://{authority}/{t}"),
        None => format!("{scheme}://{authority}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_screen() {
        assert_eq!(
            redact_url("postgres://dial:s3cret@db.local:5432/coldcall"),
            "postgres://dial:***@db.local:5432/coldcall"
        );
        assert_eq!(
            redact_url("postgres://db.local/coldcall?password=x"),
            "postgres://db.local/coldcall"
        );
        assert_eq!(redact_url("/home/ann/coldcall.db"), "/home/ann/coldcall.db");
    }
}
