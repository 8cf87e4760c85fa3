//! Offline copies: what a checkout is, and what one asks for. The flows are in
//! `flows::offline`, the conflict rules in `domain::offline`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

pub use crate::domain::offline::SyncReport;

/// A checkout: on the floor, the record of leads reserved for one agent's offline copy until
/// `expires_at`; in the copy, the same row with `floor` naming where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct Checkout {
    pub id: Uuid,
    pub agent_id: i64,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// In a copy: the floor it was taken from (no password, no token: it gives no access).
    pub floor: Option<String>,
    /// When the last sync released every lead, or the checkout was ended.
    pub closed_at: Option<DateTime<Utc>>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_report: Option<String>,
}

impl Checkout {
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now
    }
}

/// A checkout still running on the floor, for the supervisor's view.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct OpenCheckout {
    pub id: Uuid,
    pub agent_name: String,
    /// Leads it still reserves.
    pub leads: i64,
    pub expires_at: DateTime<Utc>,
    pub last_sync_at: Option<DateTime<Utc>>,
}

/// What a checkout asks for.
#[derive(Debug, Clone)]
pub struct CheckoutRequest {
    /// The agent who will work the copy.
    pub agent_id: i64,
    /// Who asks: the agent themselves, or an admin acting for them.
    pub by: i64,
    /// How many leads, taken in the order the agent's queue would hand them out.
    pub leads: u32,
    /// How long the reservation lasts.
    pub hours: u32,
}

/// What a checkout wrote.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CheckoutSummary {
    pub checkout: Checkout,
    pub leads: u64,
    pub calls: u64,
    pub dnc_numbers: u64,
}

/// The most leads one checkout may take: a copy is a few days' work for one agent.
pub const MAX_CHECKOUT_LEADS: u32 = 2_000;
/// The longest reservation: two weeks on the road.
pub const MAX_CHECKOUT_HOURS: u32 = 14 * 24;
