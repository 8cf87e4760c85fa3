//! Bulk import and export through the store: the rows and answers of a batch, and the plan that
//! decides, inside the batch's transaction, what each row does to the stored leads. The plan is
//! plain Rust shared by both backends, so a row is matched and merged the same way on each;
//! the backends only look leads up, write what the plan says and report what they wrote.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::model::{CallLog, Lead};
use crate::domain::merge::resolve;
use crate::domain::{ContactKind, DuplicateKeys, DuplicateMode, FieldSet, LeadFields};

/// One validated import row: the lead as it would be typed by hand, and which fields the row
/// actually gave (an empty cell gives nothing).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ImportRow {
    /// Physical line in the file where the row starts.
    pub line: u64,
    pub fields: LeadFields,
    pub provided: FieldSet,
    /// Further phone numbers and emails the row gives its lead (Phone 2, Mobile, E-mail 2, a
    /// vCard's other TEL and EMAIL lines), each once: they become the lead's contact points.
    pub contacts: Vec<RowContact>,
}

/// A further phone number (E.164) or email (lower case) of an imported row, with its label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RowContact {
    pub kind: ContactKind,
    pub value: String,
    pub label: Option<String>,
}

/// A batch of rows written in one transaction.
#[derive(Debug, Clone, Copy)]
pub struct ImportBatch<'a> {
    pub rows: &'a [ImportRow],
    pub mode: DuplicateMode,
    pub actor: Option<i64>,
    /// Kept as the reason of the status changes the import makes (the status log shows it).
    pub reason: &'a str,
    /// Decide everything, write nothing.
    pub dry_run: bool,
}

/// What happened to one row.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RowOutcome {
    /// A new lead.
    Imported { lead_id: Uuid },
    /// A stored lead was changed.
    Updated { lead_id: Uuid },
    /// A stored lead already says what the row says: nothing written.
    Unchanged { lead_id: Uuid },
    /// A stored lead has the row's phone or email and the mode keeps it as it is.
    Duplicate { lead_id: Uuid, note: String },
    /// An earlier row of the file already stands for this lead (`key` is the shared value).
    SameLeadAs { line: u64, key: String },
    /// The row cannot be taken; the reason says why and what to do.
    Rejected {
        kind: std::borrow::Cow<'static, str>,
        reason: String,
    },
}

/// The answer for one row, in the order the rows were given.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RowResult {
    pub line: u64,
    pub outcome: RowOutcome,
    /// The phone and email the matched stored lead had before the row was applied: later rows
    /// with those values are the same person even after an update changed them.
    pub matched: Option<DuplicateKeys>,
    /// The row's contact points written on its lead (a new lead gets them all; a stored one
    /// only those it did not have yet).
    pub contacts_added: u32,
    /// The row's contact points its stored lead already had (nothing written for them).
    pub contacts_present: u32,
}

/// What a backend must write for a batch, and the answers once it has.
#[derive(Debug)]
pub(crate) struct BatchPlan {
    pub results: Vec<RowResult>,
    /// New leads: (result index, new id, fields).
    pub inserts: Vec<(usize, Uuid, LeadFields)>,
    /// Changed leads: (result index, lead id, fields after the row is applied).
    pub updates: Vec<(usize, Uuid, LeadFields)>,
    /// Contact points to write: (result index, lead id, point). Never one the lead has already.
    pub contacts: Vec<(usize, Uuid, RowContact)>,
}

impl BatchPlan {
    /// Called with the ids the insert really wrote: a row whose phone or email another writer
    /// stored between our look-up and our insert was skipped by ON CONFLICT and is a duplicate.
    pub fn settle_inserts(&mut self, written: &std::collections::HashSet<Uuid>) {
        for (index, id, _) in &self.inserts {
            if !written.contains(id) {
                let result = &mut self.results[*index];
                result.outcome = RowOutcome::Duplicate {
                    lead_id: *id,
                    note: "a lead with this phone or email was added by someone else during the import".into(),
                };
                result.contacts_added = 0;
            }
        }
        // The skipped lead does not exist: its contact points have nothing to belong to.
        let inserted: HashSet<Uuid> = self.inserts.iter().map(|(_, id, _)| *id).collect();
        self.contacts
            .retain(|(_, lead_id, _)| !inserted.contains(lead_id) || written.contains(lead_id));
    }
}

/// The contact points stored leads have, by lead: (kind, value).
pub(crate) type StoredContacts = HashMap<Uuid, HashSet<(ContactKind, String)>>;

impl BatchPlan {
    /// Called with the indexes (into `contacts`) of the contact points really written: one
    /// stored by someone else between our look-up and our insert was already there.
    pub fn settle_contacts(&mut self, written: &HashSet<usize>) {
        for (i, (index, _, _)) in self.contacts.iter().enumerate() {
            if !written.contains(&i) {
                let result = &mut self.results[*index];
                result.contacts_added = result.contacts_added.saturating_sub(1);
                result.contacts_present += 1;
            }
        }
    }
}

/// Decides every row of a batch against the stored leads that share a phone or email with it.
/// `stored` must hold every lead (deleted ones too) whose phone or email appears in the batch,
/// and `stored_contacts` the contact points of those leads.
pub(crate) fn plan_batch(batch: &ImportBatch<'_>, stored: Vec<Lead>, stored_contacts: &StoredContacts) -> BatchPlan {
    let by_phone: HashMap<&str, &Lead> = stored.iter().map(|l| (l.phone.as_str(), l)).collect();
    let by_email: HashMap<&str, &Lead> = stored
        .iter()
        .filter_map(|l| l.email.as_deref().map(|e| (e, l)))
        .collect();
    // Every phone and email an earlier row of this batch stood for (its own, and the matched
    // lead's as stored), with that row's line: a later row sharing one is the same person.
    let mut used: HashMap<String, u64> = HashMap::new();
    let mut plan = BatchPlan {
        results: Vec::with_capacity(batch.rows.len()),
        inserts: Vec::new(),
        updates: Vec::new(),
        contacts: Vec::new(),
    };
    for row in batch.rows {
        let index = plan.results.len();
        let own_keys = || std::iter::once(&row.fields.phone).chain(row.fields.email.as_ref());
        let phone_lead = by_phone.get(row.fields.phone.as_str()).copied();
        let email_lead = row.fields.email.as_deref().and_then(|e| by_email.get(e).copied());
        let matched = match (phone_lead, email_lead) {
            (Some(lead), _) | (None, Some(lead)) => Some(DuplicateKeys {
                phone: lead.phone.clone(),
                email: lead.email.clone(),
            }),
            (None, None) => None,
        };
        let matched_keys = matched
            .iter()
            .flat_map(|k| std::iter::once(&k.phone).chain(k.email.as_ref()));
        let earlier = own_keys()
            .chain(matched_keys.clone())
            .find_map(|key| used.get(key).map(|line| (*line, key.clone())));
        let outcome = match (earlier, phone_lead, email_lead) {
            (Some((line, key)), _, _) => RowOutcome::SameLeadAs { line, key },
            (None, Some(a), Some(b)) if a.id != b.id => two_leads(batch.mode, row, a, b),
            (None, Some(lead), _) | (None, None, Some(lead)) => {
                match_stored(batch.mode, row, lead, index, &mut plan.updates)
            }
            (None, None, None) => {
                let id = Uuid::now_v7();
                plan.inserts.push((index, id, row.fields.clone()));
                RowOutcome::Imported { lead_id: id }
            }
        };
        if !matches!(outcome, RowOutcome::Rejected { .. } | RowOutcome::SameLeadAs { .. }) {
            for key in own_keys().chain(matched_keys) {
                used.entry(key.clone()).or_insert(row.line);
            }
        }
        let (contacts_added, contacts_present) = plan_contacts(
            &mut plan,
            index,
            row,
            &outcome,
            phone_lead.or(email_lead),
            stored_contacts,
        );
        plan.results.push(RowResult {
            line: row.line,
            outcome,
            matched,
            contacts_added,
            contacts_present,
        });
    }
    plan
}

/// Which of the row's contact points its lead gets: all of them on a new lead; on a stored lead
/// the row changed or found as it is, those it has not got yet (same kind and value), never
/// one equal to the lead's own phone or email. A lead kept as it is (skip, a deleted lead, a
/// rejected row) gets none. Answers (added, already there).
fn plan_contacts(
    plan: &mut BatchPlan,
    index: usize,
    row: &ImportRow,
    outcome: &RowOutcome,
    stored: Option<&Lead>,
    stored_contacts: &StoredContacts,
) -> (u32, u32) {
    let (lead_id, own) = match outcome {
        RowOutcome::Imported { lead_id } => (*lead_id, None),
        RowOutcome::Updated { lead_id } => {
            let next = plan.updates.last().map(|(_, _, f)| (f.phone.clone(), f.email.clone()));
            (*lead_id, next)
        }
        RowOutcome::Unchanged { lead_id } => (*lead_id, stored.map(|l| (l.phone.clone(), l.email.clone()))),
        _ => return (0, 0),
    };
    let (phone, email) = own.unwrap_or_else(|| (row.fields.phone.clone(), row.fields.email.clone()));
    let has = stored_contacts.get(&lead_id);
    let (mut added, mut present) = (0, 0);
    for c in &row.contacts {
        let is_own = match c.kind {
            ContactKind::Phone => c.value == phone,
            ContactKind::Email => email.as_deref() == Some(c.value.as_str()),
            _ => false,
        };
        if is_own || has.is_some_and(|h| h.contains(&(c.kind, c.value.clone()))) {
            present += 1;
        } else {
            added += 1;
            plan.contacts.push((index, lead_id, c.clone()));
        }
    }
    (added, present)
}

/// The row's phone is one lead's and its email another's: which one it means is a person's call.
fn two_leads(mode: DuplicateMode, row: &ImportRow, by_phone: &Lead, by_email: &Lead) -> RowOutcome {
    let what = format!(
        "phone {} belongs to lead {} ({}) and email {} to lead {} ({})",
        row.fields.phone,
        by_phone.id,
        by_phone.full_name(),
        by_email.email.as_deref().unwrap_or_default(),
        by_email.id,
        by_email.full_name()
    );
    match mode {
        DuplicateMode::Skip => RowOutcome::Duplicate {
            lead_id: by_phone.id,
            note: what,
        },
        _ => RowOutcome::Rejected {
            kind: "two leads".into(),
            reason: format!("{what}; fix the row or those leads, then import it again"),
        },
    }
}

fn match_stored(
    mode: DuplicateMode,
    row: &ImportRow,
    lead: &Lead,
    index: usize,
    updates: &mut Vec<(usize, Uuid, LeadFields)>,
) -> RowOutcome {
    if lead.deleted_at.is_some() {
        let note = format!("lead {} with this phone or email is deleted", lead.id);
        return match mode {
            DuplicateMode::Skip => RowOutcome::Duplicate { lead_id: lead.id, note },
            _ => RowOutcome::Rejected {
                kind: "deleted lead".into(),
                reason: format!(
                    "{note}; restore it (coldcall lead restore {}) to import into it",
                    lead.id
                ),
            },
        };
    }
    match resolve(&lead.fields(), &row.fields, row.provided, mode) {
        Some(next) => {
            updates.push((index, lead.id, next));
            RowOutcome::Updated { lead_id: lead.id }
        }
        None if mode == DuplicateMode::Skip => RowOutcome::Duplicate {
            lead_id: lead.id,
            note: "already in the database".into(),
        },
        None => RowOutcome::Unchanged { lead_id: lead.id },
    }
}

/// Every phone and every email of a batch, for the look-up of stored leads.
pub(crate) fn batch_keys(rows: &[ImportRow]) -> (Vec<String>, Vec<String>) {
    let phones = rows.iter().map(|r| r.fields.phone.clone()).collect();
    let emails = rows.iter().filter_map(|r| r.fields.email.clone()).collect();
    (phones, emails)
}

/// One number of a do-not-call list being imported (already in E.164).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DncRow {
    pub number: String,
    pub reason: Option<String>,
}

/// What a batch of do-not-call numbers did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DncBatchResult {
    /// Per row: true when the number was newly listed, false when it was already on the list.
    pub added: Vec<bool>,
    /// Leads with one of the numbers that were marked do-not-call now.
    pub leads_marked: u64,
}

/// Which calls an export takes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CallFilter {
    /// Calls started at or after.
    pub from: Option<DateTime<Utc>>,
    /// Calls started before.
    pub to: Option<DateTime<Utc>>,
    pub agent_id: Option<i64>,
}

/// Where the next page of exported calls starts (calls are exported oldest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CallCursor {
    pub started_at: DateTime<Utc>,
    pub id: Uuid,
}

/// A call with the names a report needs.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct CallRecord {
    #[sqlx(flatten)]
    pub call: CallLog,
    pub lead_name: String,
    pub company: String,
}

impl CallRecord {
    pub fn cursor(&self) -> CallCursor {
        CallCursor {
            started_at: self.call.started_at,
            id: self.call.id,
        }
    }
}
