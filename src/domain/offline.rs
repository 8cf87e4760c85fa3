//! How an offline copy's work merges back into the floor: the conflict rules, as plain
//! functions over three versions of a lead (as checked out, as worked offline, as on the floor
//! now). The store applies what these decide inside one transaction; README lists the rules.
//!
//! - A call log never conflicts: calls are inserted by their ids, once.
//! - Do-not-call wins from either side, and offline calls made after the floor put the lead on
//!   the list are named.
//! - A status changed on the floor since checkout wins over the offline change, unless the
//!   offline one is final (closed won or lost).
//! - A field edited on both sides keeps the floor's value; the offline value is reported.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{LeadFields, LeadStatus};

/// Fields with rules of their own: the status (see `merge_status`) and the requests not to be
/// contacted, which only accumulate.
const OWN_RULES: [&str; 3] = ["status", "do_not_call", "do_not_email"];

/// A field both sides changed to different values: the floor's is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldConflict {
    pub lead_id: Uuid,
    pub field: String,
    pub floor_value: Value,
    pub offline_value: Value,
}

/// The lead's editable fields after the merge, and what was kept from the floor over the copy.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMerge {
    pub merged: LeadFields,
    pub conflicts: Vec<FieldConflict>,
}

/// Merges the offline edits into the floor's lead field by field: a field only the copy changed
/// takes the copy's value, one only the floor changed keeps the floor's, one both changed to
/// different values keeps the floor's and is reported. The status is left as the floor has it
/// (see `merge_status`); do-not-call and do-not-email are set if either side set them.
pub fn merge_fields(lead_id: Uuid, base: &LeadFields, offline: &LeadFields, floor: &LeadFields) -> FieldMerge {
    let (base_map, offline_map, floor_map) = (as_map(base), as_map(offline), as_map(floor));
    let mut merged = floor_map.clone();
    let mut conflicts = Vec::new();
    for (field, offline_value) in &offline_map {
        if OWN_RULES.contains(&field.as_str()) {
            continue;
        }
        let base_value = base_map.get(field);
        let floor_value = floor_map.get(field);
        if base_value == Some(offline_value) || floor_value == Some(offline_value) {
            continue;
        }
        if floor_value == base_value {
            merged.insert(field.clone(), offline_value.clone());
        } else {
            conflicts.push(FieldConflict {
                lead_id,
                field: field.clone(),
                floor_value: floor_value.cloned().unwrap_or(Value::Null),
                offline_value: offline_value.clone(),
            });
        }
    }
    let mut merged: LeadFields =
        serde_json::from_value(Value::Object(merged)).expect("the fields of one lead make a lead again");
    merged.do_not_call = floor.do_not_call || offline.do_not_call;
    merged.do_not_email = floor.do_not_email || offline.do_not_email;
    FieldMerge { merged, conflicts }
}

fn as_map(fields: &LeadFields) -> Map<String, Value> {
    match serde_json::to_value(fields).expect("lead fields serialise") {
        Value::Object(map) => map,
        _ => unreachable!("a struct serialises to an object"),
    }
}

/// What happens to the status the copy ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMerge {
    /// The copy did not change the status: nothing to do.
    Unchanged,
    /// The offline changes apply, in order, with their own times and agent.
    ApplyOffline,
    /// The floor changed the status since checkout too, and the offline status is final: the
    /// offline changes apply, and the case is reported.
    ApplyOfflineOverFloor,
    /// The floor changed the status since checkout and the offline status is not final: the
    /// floor's stays, and the case is reported.
    KeepFloor,
}

pub fn merge_status(base: LeadStatus, offline: LeadStatus, floor: LeadStatus, offline_changed: bool) -> StatusMerge {
    if !offline_changed || offline == floor {
        StatusMerge::Unchanged
    } else if floor == base {
        StatusMerge::ApplyOffline
    } else if offline.is_final() {
        StatusMerge::ApplyOfflineOverFloor
    } else {
        StatusMerge::KeepFloor
    }
}

/// A status changed on both sides: which one the lead kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusConflict {
    pub lead_id: Uuid,
    pub floor_status: LeadStatus,
    pub offline_status: LeadStatus,
    pub kept: StatusKept,
}

/// The side whose status a lead kept after both changed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusKept {
    /// The floor's: the copy's was not final.
    Floor,
    /// The copy's: it was final (closed won or lost).
    Offline,
}

/// An offline call made after the floor put the lead (or its number) on the do-not-call list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallAfterDnc {
    pub lead_id: Uuid,
    pub call_id: Uuid,
    pub started_at: DateTime<Utc>,
    pub dnc_since: DateTime<Utc>,
}

/// The offline calls started at or after `dnc_since` (the moment the floor's list got the lead).
pub fn calls_after_dnc(
    lead_id: Uuid,
    dnc_since: Option<DateTime<Utc>>,
    offline_calls: &[(Uuid, DateTime<Utc>)],
) -> Vec<CallAfterDnc> {
    let Some(since) = dnc_since else {
        return Vec::new();
    };
    offline_calls
        .iter()
        .filter(|(_, started_at)| *started_at >= since)
        .map(|(call_id, started_at)| CallAfterDnc {
            lead_id,
            call_id: *call_id,
            started_at: *started_at,
            dnc_since: since,
        })
        .collect()
}

/// Someone on the floor called a lead of the copy after its reservation had ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloorCallMeanwhile {
    pub lead_id: Uuid,
    pub call_id: Uuid,
    pub agent: String,
    pub started_at: DateTime<Utc>,
}

/// Whether a lead is finished with and goes back to the floor at sync: closed, or not to be
/// called, or out of attempts.
pub fn lead_is_done(status: LeadStatus, do_not_call: bool, attempts: i32, max_attempts: i32) -> bool {
    status.is_final() || do_not_call || attempts >= max_attempts
}

/// What one sync did, kept in the copy and on the floor, and printed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncReport {
    pub checkout_id: Uuid,
    pub synced_at: DateTime<Utc>,
    /// Calls uploaded now (a call already on the floor is not counted again).
    pub calls_uploaded: u64,
    /// Calls still in progress in the copy: uploaded by the sync after they end.
    pub calls_in_progress: u64,
    pub status_changes_applied: u64,
    pub leads_edited: u64,
    pub contacts_added: u64,
    pub callbacks_added: u64,
    pub callbacks_completed: u64,
    pub dnc_numbers_added: u64,
    pub leads_released: u64,
    /// The reservation had ended before this sync.
    pub expired: bool,
    pub field_conflicts: Vec<FieldConflict>,
    pub status_conflicts: Vec<StatusConflict>,
    pub calls_after_dnc: Vec<CallAfterDnc>,
    pub floor_calls_meanwhile: Vec<FloorCallMeanwhile>,
}

impl SyncReport {
    pub fn conflicts(&self) -> usize {
        self.field_conflicts.len()
            + self.status_conflicts.len()
            + self.calls_after_dnc.len()
            + self.floor_calls_meanwhile.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Priority;
    use chrono::TimeZone;

    fn fields() -> LeadFields {
        LeadFields {
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            email: Some("ann@acme.example".into()),
            phone: "+14155550100".into(),
            company: "Acme".into(),
            title: None,
            timezone: None,
            status: LeadStatus::New,
            priority: Priority::Medium,
            lead_score: 50,
            conversion_probability: 0.0,
            source: None,
            notes: None,
            consent_given: false,
            do_not_call: false,
            do_not_email: false,
        }
    }

    #[test]
    fn a_field_changed_on_one_side_takes_that_sides_value() {
        let base = fields();
        let mut offline = fields();
        offline.title = Some("CTO".into());
        let mut floor = fields();
        floor.company = "Acme Inc".into();
        let m = merge_fields(Uuid::nil(), &base, &offline, &floor);
        assert_eq!(m.merged.title.as_deref(), Some("CTO"));
        assert_eq!(m.merged.company, "Acme Inc");
        assert!(m.conflicts.is_empty());
    }

    #[test]
    fn a_field_changed_on_both_sides_keeps_the_floors_and_reports_the_offline_value() {
        let base = fields();
        let mut offline = fields();
        offline.notes = Some("wants a demo".into());
        let mut floor = fields();
        floor.notes = Some("send pricing".into());
        let m = merge_fields(Uuid::nil(), &base, &offline, &floor);
        assert_eq!(m.merged.notes.as_deref(), Some("send pricing"));
        assert_eq!(m.conflicts.len(), 1);
        assert_eq!(m.conflicts[0].field, "notes");
        assert_eq!(m.conflicts[0].offline_value, Value::from("wants a demo"));
        assert_eq!(m.conflicts[0].floor_value, Value::from("send pricing"));
    }

    #[test]
    fn the_same_edit_on_both_sides_is_no_conflict() {
        let base = fields();
        let mut both = fields();
        both.lead_score = 80;
        let m = merge_fields(Uuid::nil(), &base, &both, &both);
        assert_eq!(m.merged, both);
        assert!(m.conflicts.is_empty());
    }

    #[test]
    fn do_not_call_sticks_from_either_side() {
        let base = fields();
        let mut offline = fields();
        offline.do_not_call = true;
        let floor = fields();
        assert!(merge_fields(Uuid::nil(), &base, &offline, &floor).merged.do_not_call);
        let mut floor = fields();
        floor.do_not_email = true;
        let m = merge_fields(Uuid::nil(), &base, &base, &floor);
        assert!(m.merged.do_not_email && !m.merged.do_not_call);
        assert!(m.conflicts.is_empty(), "flags never conflict");
    }

    #[test]
    fn the_merge_leaves_the_status_to_its_own_rule() {
        let base = fields();
        let mut offline = fields();
        offline.status = LeadStatus::Contacted;
        let m = merge_fields(Uuid::nil(), &base, &offline, &base);
        assert_eq!(m.merged.status, LeadStatus::New);
        assert!(m.conflicts.is_empty());
    }

    #[test]
    fn status_rules() {
        use LeadStatus::*;
        use StatusMerge::*;
        assert_eq!(merge_status(New, New, New, false), Unchanged);
        assert_eq!(merge_status(New, Contacted, New, true), ApplyOffline, "floor untouched");
        assert_eq!(
            merge_status(New, Contacted, Qualified, true),
            KeepFloor,
            "floor changed"
        );
        assert_eq!(
            merge_status(New, ClosedWon, Qualified, true),
            ApplyOfflineOverFloor,
            "final wins, and is reported"
        );
        assert_eq!(merge_status(New, ClosedLost, Nurturing, true), ApplyOfflineOverFloor);
        assert_eq!(
            merge_status(New, ClosedLost, New, true),
            ApplyOffline,
            "floor untouched: no conflict"
        );
        assert_eq!(merge_status(New, Qualified, Qualified, true), Unchanged, "same end");
        assert_eq!(
            merge_status(New, New, Contacted, true),
            KeepFloor,
            "changed offline and back"
        );
    }

    #[test]
    fn calls_after_the_floors_dnc_are_named() {
        let at = |h| Utc.with_ymd_and_hms(2026, 12, 2, h, 0, 0).unwrap();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let calls = [(a, at(9)), (b, at(11))];
        assert!(calls_after_dnc(Uuid::nil(), None, &calls).is_empty());
        let named = calls_after_dnc(Uuid::nil(), Some(at(10)), &calls);
        assert_eq!(named.len(), 1);
        assert_eq!(named[0].call_id, b);
        assert_eq!(
            calls_after_dnc(Uuid::nil(), Some(at(9)), &calls).len(),
            2,
            "at the moment counts"
        );
    }

    #[test]
    fn done_leads_go_back() {
        assert!(lead_is_done(LeadStatus::ClosedWon, false, 1, 6));
        assert!(lead_is_done(LeadStatus::Contacted, true, 1, 6));
        assert!(lead_is_done(LeadStatus::Contacted, false, 6, 6));
        assert!(!lead_is_done(LeadStatus::Contacted, false, 2, 6));
    }
}
