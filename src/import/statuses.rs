//! Lead status values of other CRMs → coldcall's statuses.
//!
//! Exports carry the source CRM's own status names ("Open - Not Contacted", "Attempted to
//! Contact", "Junk Lead"); each standard value of Salesforce, HubSpot, Pipedrive and Zoho maps to
//! the coldcall status that means the same for a calling floor. Values are compared loosely (case,
//! spaces and punctuation do not matter). `--map-status 'FROM=TO'` adds or overrides a mapping;
//! coldcall's own status names always stand for themselves.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::LeadStatus;

use super::mapping::normalize_header;

/// (CRM, its value, coldcall's status). The table README and `--dry-run` show.
pub const STANDARD: &[(&str, &str, LeadStatus)] = &[
    // Salesforce's default Lead Status picklist, and the values of older and newer orgs.
    ("Salesforce", "Open - Not Contacted", LeadStatus::New),
    ("Salesforce", "Working - Contacted", LeadStatus::Contacted),
    ("Salesforce", "Closed - Converted", LeadStatus::ClosedWon),
    ("Salesforce", "Closed - Not Converted", LeadStatus::ClosedLost),
    ("Salesforce", "Open", LeadStatus::New),
    ("Salesforce", "Working", LeadStatus::Contacted),
    ("Salesforce", "Contacted", LeadStatus::Contacted),
    ("Salesforce", "Nurturing", LeadStatus::Nurturing),
    ("Salesforce", "Qualified", LeadStatus::Qualified),
    ("Salesforce", "Unqualified", LeadStatus::ClosedLost),
    // HubSpot's Lead Status property, then its Lifecycle Stage values.
    ("HubSpot", "New", LeadStatus::New),
    ("HubSpot", "Open", LeadStatus::New),
    ("HubSpot", "In Progress", LeadStatus::Contacted),
    ("HubSpot", "Open Deal", LeadStatus::Proposal),
    ("HubSpot", "Unqualified", LeadStatus::ClosedLost),
    ("HubSpot", "Attempted to Contact", LeadStatus::Contacted),
    ("HubSpot", "Connected", LeadStatus::Contacted),
    ("HubSpot", "Bad Timing", LeadStatus::Nurturing),
    ("HubSpot", "Subscriber", LeadStatus::New),
    ("HubSpot", "Lead", LeadStatus::New),
    ("HubSpot", "Marketing Qualified Lead", LeadStatus::Qualified),
    ("HubSpot", "Sales Qualified Lead", LeadStatus::Qualified),
    ("HubSpot", "Opportunity", LeadStatus::Proposal),
    ("HubSpot", "Customer", LeadStatus::ClosedWon),
    ("HubSpot", "Evangelist", LeadStatus::ClosedWon),
    // Pipedrive: a deal's status, and the stages of its default pipeline.
    ("Pipedrive", "Open", LeadStatus::New),
    ("Pipedrive", "Won", LeadStatus::ClosedWon),
    ("Pipedrive", "Lost", LeadStatus::ClosedLost),
    ("Pipedrive", "Lead In", LeadStatus::New),
    ("Pipedrive", "Contact Made", LeadStatus::Contacted),
    ("Pipedrive", "Qualified", LeadStatus::Qualified),
    ("Pipedrive", "Needs Defined", LeadStatus::Qualified),
    ("Pipedrive", "Demo Scheduled", LeadStatus::Qualified),
    ("Pipedrive", "Proposal Made", LeadStatus::Proposal),
    ("Pipedrive", "Negotiations Started", LeadStatus::Negotiation),
    // Zoho CRM's Lead Status picklist.
    ("Zoho", "Not Contacted", LeadStatus::New),
    ("Zoho", "Attempted to Contact", LeadStatus::Contacted),
    ("Zoho", "Contact in Future", LeadStatus::Nurturing),
    ("Zoho", "Contacted", LeadStatus::Contacted),
    ("Zoho", "Pre-Qualified", LeadStatus::Qualified),
    ("Zoho", "Not Qualified", LeadStatus::ClosedLost),
    ("Zoho", "Junk Lead", LeadStatus::ClosedLost),
    ("Zoho", "Lost Lead", LeadStatus::ClosedLost),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusMapError {
    #[error("--map-status '{0}': expected FROM=TO, e.g. --map-status 'Hot Prospect=qualified'")]
    BadOverride(String),
    #[error("--map-status '{text}': {source}")]
    UnknownStatus {
        text: String,
        source: crate::domain::types::UnknownValue,
    },
}

/// How the value of a status cell was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusRead {
    /// Empty, or one of coldcall's own statuses: validation reads it as it is.
    AsIs,
    /// Another CRM's value, mapped.
    Mapped(LeadStatus),
    /// A value with no mapping.
    Unmapped,
}

/// The mapping in force for one import: the standard table with the overrides on top.
#[derive(Debug, Clone, Default)]
pub struct StatusMap {
    overrides: BTreeMap<String, LeadStatus>,
}

/// `FROM=TO` (FROM may itself contain '=', so the last one splits).
pub fn parse_override(text: &str) -> Result<(String, LeadStatus), StatusMapError> {
    let (from, to) = text
        .rsplit_once('=')
        .filter(|(from, _)| !from.trim().is_empty())
        .ok_or_else(|| StatusMapError::BadOverride(text.to_string()))?;
    let to = to.trim().parse().map_err(|source| StatusMapError::UnknownStatus {
        text: text.to_string(),
        source,
    })?;
    Ok((from.trim().to_string(), to))
}

fn standard(key: &str) -> Option<LeadStatus> {
    STANDARD
        .iter()
        .find(|(_, value, _)| normalize_header(value) == key)
        .map(|(_, _, status)| *status)
}

fn own(value: &str) -> Option<LeadStatus> {
    value.parse().ok()
}

impl StatusMap {
    pub fn new(overrides: &[(String, LeadStatus)]) -> StatusMap {
        StatusMap {
            overrides: overrides
                .iter()
                .map(|(from, to)| (normalize_header(from), *to))
                .collect(),
        }
    }

    /// Reads a status cell: an override first, then coldcall's own names, then the table.
    pub fn read(&self, value: &str) -> StatusRead {
        let value = value.trim();
        if value.is_empty() {
            return StatusRead::AsIs;
        }
        let key = normalize_header(value);
        if let Some(status) = self.overrides.get(&key) {
            return StatusRead::Mapped(*status);
        }
        if own(value).is_some() {
            return StatusRead::AsIs;
        }
        match standard(&key) {
            Some(status) => StatusRead::Mapped(status),
            None => StatusRead::Unmapped,
        }
    }
}

/// One line of the table for `--dry-run` and the JSON report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusRow {
    pub crm: &'static str,
    pub value: &'static str,
    pub status: LeadStatus,
}

/// The standard table, one line per CRM value.
pub fn table() -> Vec<StatusRow> {
    STANDARD
        .iter()
        .map(|(crm, value, status)| StatusRow {
            crm,
            value,
            status: *status,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_values_of_each_crm_map() {
        let map = StatusMap::default();
        for (crm, value, status) in STANDARD {
            match own(value) {
                // "Contacted", "Qualified": coldcall's own name, read as it is.
                Some(same) => {
                    assert_eq!(map.read(value), StatusRead::AsIs, "{crm} {value}");
                    assert_eq!(same, *status, "{crm} {value}");
                }
                None => assert_eq!(map.read(value), StatusRead::Mapped(*status), "{crm} {value}"),
            }
        }
        assert_eq!(
            map.read("working - contacted"),
            StatusRead::Mapped(LeadStatus::Contacted)
        );
        assert_eq!(map.read("OPEN_NOT_CONTACTED"), StatusRead::Mapped(LeadStatus::New));
        assert_eq!(map.read("Junk Lead"), StatusRead::Mapped(LeadStatus::ClosedLost));
    }

    #[test]
    fn one_value_means_one_status_whichever_crm_wrote_it() {
        for (crm, value, status) in STANDARD {
            for (other, same, theirs) in STANDARD {
                if normalize_header(value) == normalize_header(same) {
                    assert_eq!(status, theirs, "{crm} '{value}' and {other} '{same}' disagree");
                }
            }
        }
    }

    #[test]
    fn coldcall_names_stand_for_themselves_and_overrides_come_first() {
        let map = StatusMap::default();
        assert_eq!(map.read("closed_won"), StatusRead::AsIs);
        assert_eq!(map.read("Closed Won"), StatusRead::AsIs);
        assert_eq!(map.read(""), StatusRead::AsIs);
        assert_eq!(map.read("Hot Prospect"), StatusRead::Unmapped);
        let map = StatusMap::new(&[
            parse_override("Hot Prospect=qualified").unwrap(),
            parse_override("Unqualified=nurturing").unwrap(),
        ]);
        assert_eq!(map.read("hot prospect"), StatusRead::Mapped(LeadStatus::Qualified));
        assert_eq!(map.read("Unqualified"), StatusRead::Mapped(LeadStatus::Nurturing));
    }

    #[test]
    fn the_readme_shows_the_table_in_force() {
        let readme = include_str!("../../README.md");
        for (crm, value, status) in STANDARD {
            let line = format!("| {crm} | {value} | {} |", status.as_str());
            assert!(readme.contains(&line), "README lacks {line}");
        }
    }

    #[test]
    fn bad_overrides_say_what_is_wrong() {
        assert!(matches!(parse_override("Hot"), Err(StatusMapError::BadOverride(_))));
        assert!(matches!(parse_override("=new"), Err(StatusMapError::BadOverride(_))));
        let err = parse_override("Hot=sizzling").unwrap_err().to_string();
        assert!(err.contains("closed_won"), "{err}");
        assert_eq!(parse_override("a=b=won").ok(), None);
        assert_eq!(
            parse_override("a=b=closed won").unwrap(),
            ("a=b".to_string(), LeadStatus::ClosedWon)
        );
    }
}
