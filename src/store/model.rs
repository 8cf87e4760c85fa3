//! Rows and requests of the store API, shared by both backends. Column types are chosen so one
//! `FromRow` derive decodes the same row from PostgreSQL and from SQLite.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use uuid::Uuid;

use crate::domain::{CallStatus, ContactKind, Direction, LeadFields, LeadStatus, PresenceState, Priority, Role};

/// Stores the domain enums as their snake_case text on both backends, so they can be bound and
/// decoded directly (including as `Option<_>`).
macro_rules! text_enum {
    ($($ty:ty),*) => {$(
        impl<DB: sqlx::Database> sqlx::Type<DB> for $ty
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $ty
        where
            String: sqlx::Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                Ok(<String as sqlx::Decode<'r, DB>>::decode(value)?.parse::<$ty>()?)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $ty
        where
            &'q str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&'q str as sqlx::Encode<'q, DB>>::encode_by_ref(&self.as_str(), buf)
            }
        }
    )*};
}
text_enum!(
    LeadStatus,
    Priority,
    Role,
    CallStatus,
    Direction,
    ContactKind,
    PresenceState
);

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, FromRow)]
pub struct Agent {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewAgent {
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, FromRow)]
pub struct Lead {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: String,
    pub company: String,
    pub title: Option<String>,
    pub timezone: Option<String>,
    pub status: LeadStatus,
    pub priority: Priority,
    pub lead_score: i16,
    pub conversion_probability: f64,
    pub source: Option<String>,
    pub notes: Option<String>,
    pub consent_given: bool,
    pub consent_date: Option<DateTime<Utc>>,
    pub do_not_call: bool,
    pub do_not_email: bool,
    pub call_attempts: i32,
    pub last_call_at: Option<DateTime<Utc>>,
    pub next_call_at: Option<DateTime<Utc>>,
    pub data_quality: i16,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<i64>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Lead {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// The editable fields, e.g. to pre-fill an edit form or to apply a partial change.
    pub fn fields(&self) -> LeadFields {
        LeadFields {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            company: self.company.clone(),
            title: self.title.clone(),
            timezone: self.timezone.clone(),
            status: self.status,
            priority: self.priority,
            lead_score: self.lead_score,
            conversion_probability: self.conversion_probability,
            source: self.source.clone(),
            notes: self.notes.clone(),
            consent_given: self.consent_given,
            do_not_call: self.do_not_call,
            do_not_email: self.do_not_email,
        }
    }

    /// Where the next page of a list starts (keyset pagination).
    pub fn cursor(&self) -> LeadCursor {
        LeadCursor {
            priority_rank: self.priority.rank(),
            lead_score: self.lead_score,
            id: self.id,
        }
    }
}

/// Position in the lead list, which is ordered by priority, score, then newest id, all descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadCursor {
    pub priority_rank: i16,
    pub lead_score: i16,
    pub id: Uuid,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LeadFilter {
    pub status: Option<LeadStatus>,
    pub priority: Option<Priority>,
    /// Only leads with a live assignment to this agent.
    pub assigned_to: Option<i64>,
    pub min_score: Option<i16>,
    pub max_score: Option<i16>,
    /// Only leads with an open callback that is due now.
    pub callbacks_due: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass back to get the next page; None when this was the last one.
    pub next: Option<LeadCursor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, FromRow)]
pub struct Contact {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub kind: ContactKind,
    pub value: String,
    pub label: Option<String>,
    pub is_primary: bool,
    pub is_verified: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewContact {
    pub kind: ContactKind,
    pub value: String,
    pub label: Option<String>,
    pub is_primary: bool,
    pub is_verified: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, FromRow)]
pub struct CallLog {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub agent_id: i64,
    pub agent_name: String,
    pub phone_number: String,
    pub from_number: Option<String>,
    pub direction: Direction,
    pub status: CallStatus,
    pub disposition: Option<String>,
    pub duration_s: Option<i32>,
    pub notes: Option<String>,
    pub recording_url: Option<String>,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<i64>,
    /// When the far end rang, as the softphone said (none for manual dialling).
    pub ringing_at: Option<DateTime<Utc>>,
}

/// An active call on the floor, with the names a screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, FromRow)]
pub struct ActiveCall {
    pub lead_id: Uuid,
    pub call_id: Uuid,
    pub agent_id: i64,
    pub agent_name: String,
    pub lead_name: String,
    pub company: String,
    pub phone_number: String,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, FromRow)]
pub struct StatusChange {
    pub id: i64,
    pub lead_id: Uuid,
    pub old_status: Option<LeadStatus>,
    pub new_status: LeadStatus,
    pub changed_by: Option<i64>,
    pub changed_by_name: Option<String>,
    pub reason: Option<String>,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, FromRow)]
pub struct Assignment {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub agent_id: i64,
    pub agent_name: String,
    pub assigned_by: Option<i64>,
    pub assigned_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, FromRow)]
pub struct Callback {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub agent_id: i64,
    pub agent_name: String,
    pub lead_name: String,
    pub due_at: DateTime<Utc>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, FromRow)]
pub struct DncEntry {
    pub number: String,
    pub reason: Option<String>,
    pub added_by: Option<i64>,
    pub added_at: DateTime<Utc>,
}

/// Why a lead was handed out by claim-next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimSource {
    /// A callback owned by this agent is due.
    Callback,
    /// The next lead of the shared queue.
    Queue,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Claim {
    pub lead: Lead,
    pub source: ClaimSource,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartCall {
    pub lead_id: Uuid,
    pub agent_id: i64,
    pub from_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StartedCall {
    pub call_id: Uuid,
    pub lead_id: Uuid,
    pub agent_id: i64,
    pub phone_number: String,
    pub started_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndCall {
    pub call_id: Uuid,
    pub agent_id: i64,
    pub disposition: String,
    /// Talk time in seconds; measured from the start of the call when not given.
    pub duration_s: Option<i32>,
    pub notes: Option<String>,
    pub recording_url: Option<String>,
    /// Required when the disposition schedules a callback.
    pub callback_at: Option<DateTime<Utc>>,
    /// A supervisor ending someone else's call.
    pub force: bool,
    /// What the softphone said about the call, when it was dialled through one. It sets the
    /// call log's times and status, and the duration is the talk time from the answer; without
    /// it (manual dialling) the log is filled from the disposition as before.
    pub progress: Option<CallProgress>,
}

/// A call's progress as a softphone reported it (SIP), for the call log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CallProgress {
    pub ringing_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    /// When the call ended (hung up, rejected, timed out), not when the outcome was saved.
    pub ended_at: DateTime<Utc>,
    /// From the end reason: busy, no answer, declined, failed, or completed after an answer.
    pub status: crate::domain::CallStatus,
    /// The end reason in words ("486 Busy Here"), kept in the call's notes.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct EndedCall {
    pub call_id: Uuid,
    pub lead_id: Uuid,
    pub disposition: String,
    pub duration_s: i32,
    pub new_status: LeadStatus,
    pub next_call_at: Option<DateTime<Utc>>,
    pub added_to_dnc: bool,
    pub callback_id: Option<Uuid>,
}

/// A lock that outlived its heartbeat and was closed as abandoned.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ReapedLock {
    pub call_id: Uuid,
    pub lead_id: Uuid,
    pub agent_id: i64,
    pub heartbeat_at: DateTime<Utc>,
}

/// Position in the change feed. On PostgreSQL `tx` is the writing transaction's id (see the
/// postgres backend for why); on SQLite it is always 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FeedCursor {
    pub tx: i64,
    pub id: i64,
}

impl std::fmt::Display for FeedCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.tx, self.id)
    }
}

impl std::str::FromStr for FeedCursor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("'{s}' is not a feed cursor (expected TX:ID, e.g. 0:42)");
        let (tx, id) = s.split_once(':').ok_or_else(bad)?;
        Ok(FeedCursor {
            tx: tx.parse().map_err(|_| bad())?,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, FromRow)]
pub struct Change {
    pub id: i64,
    pub tx: i64,
    /// What changed about the lead: lead, active_call, call, callback, assignment.
    pub kind: String,
    pub lead_id: Uuid,
    pub op: String,
    pub at: DateTime<Utc>,
}

impl Change {
    pub fn cursor(&self) -> FeedCursor {
        FeedCursor {
            tx: self.tx,
            id: self.id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, FromRow)]
pub struct MigrationInfo {
    pub version: i64,
    pub description: String,
    pub applied: bool,
}

/// An agent as the floor sees them. `state` is offline when the console's heartbeat is older
/// than the lock TTL, whatever it last said.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, FromRow)]
pub struct Presence {
    pub agent_id: i64,
    pub agent_name: String,
    pub role: Role,
    pub state: PresenceState,
    pub reason: Option<String>,
    /// When the current state began (None: never seen).
    pub since: Option<DateTime<Utc>>,
    pub heartbeat_at: Option<DateTime<Utc>>,
}

/// One agent's figures over a period.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, FromRow)]
pub struct AgentFigures {
    pub agent_id: i64,
    pub agent_name: String,
    pub calls: i64,
    /// Calls whose outcome counts as a contact.
    pub contacts: i64,
    pub talk_seconds: i64,
    /// Calls whose outcome counts as a sale (e.g. a meeting booked).
    pub conversions: i64,
}

impl AgentFigures {
    pub fn average_call_seconds(&self) -> i64 {
        if self.calls == 0 {
            0
        } else {
            self.talk_seconds / self.calls
        }
    }
}

/// The floor's figures over a period, and how the live leads stand by status.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct FloorFigures {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub agents: Vec<AgentFigures>,
    pub funnel: Vec<(LeadStatus, i64)>,
}

impl FloorFigures {
    /// The whole floor as one row.
    pub fn total(&self) -> AgentFigures {
        let sum = |f: fn(&AgentFigures) -> i64| self.agents.iter().map(f).sum();
        AgentFigures {
            agent_id: 0,
            agent_name: "floor".into(),
            calls: sum(|a| a.calls),
            contacts: sum(|a| a.contacts),
            talk_seconds: sum(|a| a.talk_seconds),
            conversions: sum(|a| a.conversions),
        }
    }
}

/// Why the queue holds leads back from an agent (`coldcall queue why`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct QueueWhy {
    /// Live leads the rules allow this agent now.
    pub callable: i64,
    /// Live leads held back, by the first rule that holds each (can-call's order).
    pub held: Vec<(String, i64)>,
    /// The queue's rows: waiting to come due, ready for a claim, parked (attempts used up).
    pub waiting: i64,
    pub ready: i64,
    pub parked: i64,
}

/// A call script as stored: `default` is read on every call, one named after a disposition is
/// the follow-up read on the next call to a lead whose last call ended with it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, FromRow)]
pub struct CallScript {
    pub name: String,
    pub body: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<i64>,
}

/// The script to read on a call, with the lead's fields filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ScriptForCall {
    pub name: String,
    pub text: String,
}

/// What a database says of its own health (`coldcall doctor`); each backend fills what it has.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct DatabaseHealth {
    /// Transactions open longer than a minute: (process, seconds, state, statement).
    pub long_transactions: Vec<(i64, f64, String, String)>,
    /// The database server's clock minus this machine's, in seconds.
    pub clock_skew_s: Option<f64>,
    /// The claim queue table's live and dead rows.
    pub queue_rows: Option<(i64, i64)>,
    /// SQLite's quick check ("ok").
    pub integrity: Option<String>,
}
