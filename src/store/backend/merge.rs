//! The statements of `lead duplicates` and `lead merge` (`flows::merge`): every live lead's
//! keys for the duplicate search, and the moves of one lead's history onto another.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::BulkTx;
use crate::domain::ContactKind;
use crate::store::Result;

/// A live lead's own keys, as `lead duplicates` compares them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct KeyRow {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub phone: String,
    pub email: Option<String>,
}

/// What the kept lead takes from the merged one besides its rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Absorb {
    pub keep: Uuid,
    pub other: Uuid,
    pub do_not_call: bool,
    pub do_not_email: bool,
    pub actor: Option<i64>,
    pub now: DateTime<Utc>,
}

pub(crate) trait MergeTx: BulkTx {
    /// Every live lead's own keys.
    async fn live_lead_keys(&mut self) -> Result<Vec<KeyRow>>;
    /// The phone and email contact points of every live lead: (lead, kind, value).
    async fn live_contact_points(&mut self) -> Result<Vec<(Uuid, ContactKind, String)>>;

    /// Moves the calls of `from` to `to`; answers how many.
    async fn move_calls(&mut self, from: Uuid, to: Uuid) -> Result<u64>;
    /// Moves the status history of `from` to `to`; answers how many entries.
    async fn move_status_log(&mut self, from: Uuid, to: Uuid) -> Result<u64>;
    /// Moves the callbacks (open and done) of `from` to `to`; answers how many.
    async fn move_callbacks(&mut self, from: Uuid, to: Uuid) -> Result<u64>;
    /// Moves the contact points of `from` that `to` has not got (same kind and value) to `to`,
    /// no longer primary; the others are dropped with `from`'s copy. Answers how many moved.
    async fn move_contacts(&mut self, from: Uuid, to: Uuid) -> Result<u64>;
    /// The kept lead: the flags decided, the merged lead's attempts added and its last call if
    /// later.
    async fn absorb(&mut self, a: &Absorb) -> Result<()>;
    /// Soft-deletes the merged lead, pointing at the kept one.
    async fn set_merged_into(&mut self, a: &Absorb) -> Result<()>;
    /// The lead this one was merged into, if it was.
    async fn merged_into(&mut self, id: Uuid) -> Result<Option<Uuid>>;
}
