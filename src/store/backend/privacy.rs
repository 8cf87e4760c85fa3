//! The statements of a person's data on request (`flows::privacy`): everything stored about one
//! lead, read for an export, and the writes that anonymise it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Tx;
use crate::store::model::{Assignment, CallLog, Callback, Contact, DncEntry, StatusChange};
use crate::store::privacy::AuditRow;
use crate::store::Result;

/// Audit entries are kept about a lead, its calls and its callbacks (by id, as text), and the
/// numbers on the do-not-call list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuditSubjects<'a> {
    pub lead_id: Uuid,
    pub call_ids: &'a [String],
    pub callback_ids: &'a [String],
}

pub(crate) trait PrivacyTx: Tx {
    // ------------------------------------------------------------------ the export's reads

    /// The lead's contact points, oldest first.
    async fn contacts_of(&mut self, lead_id: Uuid) -> Result<Vec<Contact>>;
    /// The lead's calls, oldest first.
    async fn calls_of(&mut self, lead_id: Uuid) -> Result<Vec<CallLog>>;
    /// The lead's status changes, in the order they were made.
    async fn status_changes_of(&mut self, lead_id: Uuid) -> Result<Vec<StatusChange>>;
    /// The lead's assignments, oldest first.
    async fn assignments_of(&mut self, lead_id: Uuid) -> Result<Vec<Assignment>>;
    /// The lead's callbacks, oldest first.
    async fn callbacks_of(&mut self, lead_id: Uuid) -> Result<Vec<Callback>>;
    /// Audit entries about the subjects, or naming one of `numbers` on the do-not-call list.
    async fn audit_about(&mut self, about: &AuditSubjects<'_>, numbers: &[String]) -> Result<Vec<AuditRow>>;
    /// The do-not-call entries of these numbers, by number.
    async fn dnc_entries(&mut self, numbers: &[String]) -> Result<Vec<DncEntry>>;

    // ------------------------------------------------------------------ the erasure

    /// Whether the audit log holds an entry with this action about the lead.
    async fn lead_audited(&mut self, lead_id: Uuid, action: &str) -> Result<bool>;
    /// The values of the lead's phone contacts, in order.
    async fn phone_contacts(&mut self, lead_id: Uuid) -> Result<Vec<String>>;
    /// Whether any lead (deleted ones too) has this phone.
    async fn phone_taken(&mut self, phone: &str) -> Result<bool>;
    async fn call_ids(&mut self, lead_id: Uuid) -> Result<Vec<Uuid>>;
    async fn callback_ids(&mut self, lead_id: Uuid) -> Result<Vec<Uuid>>;
    /// Overwrites the lead's personal fields: names and company read `erased`, the phone is
    /// `phone`, the rest is emptied; the lead is flagged do-not-call and deleted (if not already).
    async fn erase_lead(&mut self, lead_id: Uuid, erased: &str, phone: &str, by: i64, now: DateTime<Utc>)
        -> Result<()>;
    /// Deletes the lead's contact points; answers how many.
    async fn delete_contacts(&mut self, lead_id: Uuid) -> Result<u64>;
    /// Sets the calls' number to `phone` and empties their notes and recording links; answers
    /// how many calls changed.
    async fn anonymise_calls(&mut self, lead_id: Uuid, phone: &str) -> Result<u64>;
    /// Empties the reasons of the lead's status changes; answers how many changed.
    async fn clear_status_reasons(&mut self, lead_id: Uuid) -> Result<u64>;
    /// Empties the notes of the lead's callbacks; answers how many changed.
    async fn clear_callback_notes(&mut self, lead_id: Uuid) -> Result<u64>;
    /// Empties the values of the audit entries about the subjects, but those with action `keep`;
    /// answers how many changed.
    async fn clear_audit_values(&mut self, about: &AuditSubjects<'_>, keep: &str) -> Result<u64>;
    /// Renames the audit entries about these do-not-call numbers to `erased` and empties their
    /// values; answers how many changed.
    async fn erase_dnc_audit(&mut self, numbers: &[&String], erased: &str) -> Result<u64>;
}
