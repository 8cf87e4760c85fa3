//! A person's data on request: what an export holds, what an erasure did, and the values erased
//! fields take. Shared by both backends; the SQL lives in each backend's `gdpr` module.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::model::{Assignment, CallLog, Callback, Contact, DncEntry, Lead, StatusChange};

/// What erased text fields read afterwards (names and company must not be empty).
pub const ERASED: &str = "[erased]";

/// The audit action that records an erasure; its presence makes a second erasure a no-op.
pub const ERASE_ACTION: &str = "gdpr_erase";
pub const EXPORT_ACTION: &str = "gdpr_export";

/// The number an erased lead carries instead of the person's: +999 is a country code the ITU
/// keeps unassigned, so it can never ring anyone. It still has to be unique (leads.phone is), so
/// it is derived from the lead's id (the random bits of a UUID v7) and stepped on a collision.
pub fn placeholder_phone(lead_id: Uuid, attempt: u64) -> String {
    let seed = lead_id.as_u128() as u64;
    format!("+999{:012}", seed.wrapping_add(attempt) % 1_000_000_000_000)
}

pub fn is_placeholder_phone(number: &str) -> bool {
    number.len() == 16 && number.starts_with("+999")
}

/// An audit log entry, with the acting agent's name.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub agent_id: Option<i64>,
    pub agent_name: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub old_value: Option<serde_json::Value>,
    pub new_value: Option<serde_json::Value>,
}

/// The row as both backends return it (JSON as text).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: i64,
    at: DateTime<Utc>,
    agent_id: Option<i64>,
    agent_name: Option<String>,
    action: String,
    entity: String,
    entity_id: String,
    old_value: Option<String>,
    new_value: Option<String>,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        // Stored values are always JSON the store wrote; text that is not is kept as a string.
        let parse =
            |text: Option<String>| text.map(|t| serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t)));
        AuditEntry {
            id: r.id,
            at: r.at,
            agent_id: r.agent_id,
            agent_name: r.agent_name,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            old_value: parse(r.old_value),
            new_value: parse(r.new_value),
        }
    }
}

/// Everything held about one person (GDPR article 15 / 20): the lead and every row that
/// concerns it, complete (no paging), oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PersonalData {
    pub exported_at: DateTime<Utc>,
    pub lead: Lead,
    pub contacts: Vec<Contact>,
    pub calls: Vec<CallLog>,
    pub status_history: Vec<StatusChange>,
    pub assignments: Vec<Assignment>,
    pub callbacks: Vec<Callback>,
    /// Audit entries about the lead, its calls and callbacks, and its numbers on the DNC list.
    pub audit: Vec<AuditEntry>,
    /// Do-not-call entries for the lead's numbers (its phone and phone contacts).
    pub do_not_call: Vec<DncEntry>,
}

/// What an erasure did. Counts are of rows changed by this run (zero on a repeat).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Erasure {
    pub lead_id: Uuid,
    /// The lead had been erased before; this run only made sure nothing personal was left.
    pub already_erased: bool,
    pub contacts_removed: u64,
    pub calls_anonymised: u64,
    pub status_changes_anonymised: u64,
    pub callbacks_anonymised: u64,
    pub audit_entries_anonymised: u64,
    /// The person's numbers that stay on the do-not-call list: their wish not to be called
    /// outlives their data.
    pub kept_on_dnc_list: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_numbers_are_valid_unassigned_and_vary() {
        let id = Uuid::now_v7();
        let a = placeholder_phone(id, 0);
        let b = placeholder_phone(id, 1);
        assert_ne!(a, b);
        for n in [&a, &b] {
            assert!(is_placeholder_phone(n), "{n}");
            assert_eq!(n.len(), 16);
            assert!(n[1..].chars().all(|c| c.is_ascii_digit()));
        }
        assert!(!is_placeholder_phone("+12125550001"));
    }
}
