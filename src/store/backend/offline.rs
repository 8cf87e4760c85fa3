//! The statements of offline copies (`flows::offline`): rows of a table picked by a column,
//! rows inserted only where new, the checkout's own records on the floor, and the copy's record
//! of what it held at checkout. The floor may be either backend; a copy is always a SQLite file,
//! whose statements are the same trait's.
//!
//! As in `snapshot`, table and column names come only from the compiled-in list in
//! `backup::tables`; values are always bound.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::SnapshotTx;
use crate::backup::tables::TableSpec;
use crate::backup::{TableSection, Value};
use crate::store::model::LeadFilter;
use crate::store::offline::{Checkout, OpenCheckout};
use crate::store::Result;

pub(crate) trait OfflineTx: SnapshotTx {
    /// The rows of the table whose `column` holds one of `keys` (all of one kind: UUIDs or
    /// text), in key order, handed to `row` one at a time.
    async fn read_rows_where<F>(
        &mut self,
        spec: &'static TableSpec,
        column: &str,
        keys: &[Value],
        row: F,
    ) -> Result<()>
    where
        F: FnMut(&[Value]) -> Result<()>;

    /// Inserts the rows, leaving out any whose key or unique values are already there (so an
    /// upload sent twice goes in once); answers how many went in.
    async fn insert_rows_new(&mut self, section: &TableSection, rows: &[Vec<Value>]) -> Result<u64>;

    // ------------------------------------------------------------------ on the floor

    /// Leads the list filter picks that the agent could take with them now: live, not on the
    /// do-not-call list or flagged, not final, attempts left, no call on them, no one else's
    /// (or any checkout's) live assignment. In the lead list's order; can-call still checks each.
    async fn checkout_candidates(
        &mut self,
        agent_id: i64,
        filter: &LeadFilter,
        max_attempts: i32,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>>;

    async fn insert_checkout(&mut self, checkout: &Checkout) -> Result<()>;
    /// The checkouts still reserving leads at `now`, the soonest to end first.
    async fn open_checkouts(&mut self, now: DateTime<Utc>) -> Result<Vec<OpenCheckout>>;
    /// Opens a checkout again that had given every lead back (it takes more).
    async fn reopen_checkout(&mut self, id: Uuid) -> Result<()>;
    /// The checkout, its row locked until the transaction ends (one sync at a time).
    async fn lock_checkout(&mut self, id: Uuid) -> Result<Option<Checkout>>;
    async fn record_sync(
        &mut self,
        id: Uuid,
        at: DateTime<Utc>,
        report: &str,
        closed_at: Option<DateTime<Utc>>,
    ) -> Result<()>;
    /// Reserves the lead for the checkout's agent until `until`: an assignment that carries the
    /// checkout's id.
    async fn reserve(&mut self, lead_id: Uuid, checkout: &Checkout, now: DateTime<Utc>) -> Result<()>;
    /// Ends the checkout's live reservations of these leads; answers how many ended.
    async fn release_reserved(&mut self, checkout_id: Uuid, lead_ids: &[Uuid]) -> Result<u64>;
    /// The leads the checkout still reserves (live and unexpired at `now`).
    async fn reserved_leads(&mut self, checkout_id: Uuid, now: DateTime<Utc>) -> Result<Vec<Uuid>>;
    /// Whether a sync already applied this operation of the checkout.
    async fn applied(&mut self, checkout_id: Uuid, op: &str) -> Result<bool>;
    async fn mark_applied(&mut self, checkout_id: Uuid, op: &str, now: DateTime<Utc>) -> Result<()>;
    /// Counts calls made offline on the lead: attempts added, and its last and next call moved
    /// on to the copy's when those are later.
    async fn add_offline_calls(
        &mut self,
        lead_id: Uuid,
        attempts: i64,
        last_call_at: Option<DateTime<Utc>>,
        next_call_at: Option<DateTime<Utc>>,
    ) -> Result<()>;

    // ------------------------------------------------------------------ in a copy

    /// The copy's own checkout: the one row that names the floor it came from.
    async fn own_checkout(&mut self) -> Result<Option<Checkout>>;
    /// Records an item of the state at checkout (or after the last sync): `lead:<id>` with the
    /// lead's fields, `row:<table>:<key>` for a row the floor already has, `report:<time>`.
    async fn put_base(&mut self, checkout_id: Uuid, item: &str, body: Option<&str>) -> Result<()>;
    async fn base_items(&mut self, checkout_id: Uuid) -> Result<Vec<(String, Option<String>)>>;
}
