//! One CSV row → a lead, validated exactly like a lead typed by hand (`LeadInput::validate`
//! with the default region), or the reason it cannot be taken, naming the column.
//!
//! Before validation the row's values are read the way their source meant them: another CRM's
//! status name through the status map, Outlook's priority "Normal", `--set` values, Google's
//! "a ::: b" cells holding several numbers or addresses. After it, the lead's further phone
//! numbers and emails become contact points and the origin of its calling zone is known.

use std::fmt;

use chrono_tz::Tz;

use crate::domain::contact;
use crate::domain::formula::unguard;
use crate::domain::{lead_zones, ContactKind, FieldError, FieldSet, LeadField, LeadInput, LeadStatus, ZoneOrigin};
use crate::store::{ImportRow, RowContact};

use super::mapping::{normalize_header, Mapping};
use super::reader::Record;
use super::statuses::{StatusMap, StatusRead};

/// What a row is read with.
#[derive(Debug, Clone)]
pub struct RowRules {
    pub mapping: Mapping,
    /// Country for phone numbers written without a country code.
    pub region: String,
    pub statuses: StatusMap,
    /// The team's default zone, for leads whose number gives no clue.
    pub default_zone: Tz,
}

/// A row read into a lead, with what the import reports about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedLead {
    /// The lead, with its further phone numbers and emails (from a column after the one that
    /// filled the lead's own, or from the same cell, as Google writes "a ::: b") in `contacts`.
    pub row: ImportRow,
    /// Further numbers or emails that are not valid, left out (they never reject the lead).
    pub invalid_contacts: u32,
    /// Where the lead's calling zone comes from.
    pub zone: ZoneOrigin,
    /// Another CRM's status value and the status it was read as.
    pub status_mapped: Option<(String, LeadStatus)>,
}

/// Why a row cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowError {
    /// The row has another number of cells than the header (a stray delimiter or quote).
    FieldCount {
        got: usize,
        expected: usize,
        last_line: u64,
    },
    /// A cell is not UTF-8 text (a file saved in a legacy encoding).
    NotUtf8 { column: String },
    /// Field values that fail validation, each with the column it came from.
    Invalid(Vec<(FieldError, String)>),
    /// The source marks the row deleted: skipped, not rejected.
    Deleted { column: String },
}

impl RowError {
    /// The status value that has no mapping, when that is (one of) the row's problems.
    pub fn unmapped_status(&self) -> Option<String> {
        match self {
            RowError::Invalid(errors) => errors
                .iter()
                .find(|(e, _)| e.field == "status" && e.message.contains("has no mapping"))
                .and_then(|(e, _)| e.message.split('\'').nth(1).map(str::to_string)),
            _ => None,
        }
    }

    /// A short name for counting rejects by kind ("phone", "email", "field count", ...).
    pub fn kind(&self) -> String {
        match self {
            RowError::FieldCount { .. } => "field count".into(),
            RowError::NotUtf8 { .. } => "encoding".into(),
            RowError::Deleted { .. } => "deleted".into(),
            RowError::Invalid(errors) => errors.iter().map(|(e, _)| e.field).collect::<Vec<_>>().join("+"),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowError::FieldCount {
                got,
                expected,
                last_line,
            } => {
                write!(f, "row has {got} fields, header has {expected}")?;
                if *got < *expected && *last_line > 0 {
                    write!(f, " (the row runs to line {last_line}: is a quote left open?)")?;
                }
                Ok(())
            }
            RowError::NotUtf8 { column } => write!(
                f,
                "column '{column}' is not UTF-8 text; save the file as \"CSV UTF-8\" and import it again"
            ),
            RowError::Deleted { column } => write!(f, "marked deleted in the source (column '{column}')"),
            RowError::Invalid(errors) => {
                let parts: Vec<String> = errors
                    .iter()
                    .map(|(e, column)| {
                        if column.is_empty() {
                            format!("{}: {}", e.field, e.message)
                        } else {
                            format!("{}: {} (column '{column}')", e.field, e.message)
                        }
                    })
                    .collect();
                f.write_str(&parts.join("; "))
            }
        }
    }
}

/// Reads one record into a lead. `region` is the country for numbers without a country code.
/// (The import reads rows with `read_row`; this is the same without the status map and zones.)
pub fn parse_row(record: &Record<'_>, mapping: &Mapping, region: &str) -> Result<ImportRow, RowError> {
    let rules = RowRules {
        mapping: mapping.clone(),
        region: region.to_string(),
        statuses: StatusMap::default(),
        default_zone: chrono_tz::America::New_York,
    };
    read_row(record, &rules).map(|parsed| parsed.row)
}

/// Google Contacts writes several values of one kind in one cell: "a@x.com ::: b@y.com".
fn split_values(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(":::").map(str::trim).filter(|v| !v.is_empty())
}

/// "Mobile Phone" → "mobile", "Business Phone 2" → "work", "Phone 3 - Value" → "phone 3".
fn label_from_header(header: &str) -> String {
    let key = normalize_header(header);
    let words: &[(&str, &str)] = &[
        ("mobile", "mobile"),
        ("cell", "mobile"),
        ("iphone", "mobile"),
        ("handy", "mobile"),
        ("home", "home"),
        ("personal", "home"),
        ("business", "work"),
        ("work", "work"),
        ("office", "work"),
        ("direct", "work"),
        ("main", "main"),
        ("primary", "main"),
        ("secondary", "other"),
        ("other", "other"),
        ("car", "car"),
    ];
    if let Some((_, label)) = words.iter().find(|(w, _)| key.contains(w)) {
        return (*label).to_string();
    }
    let cleaned = header
        .trim()
        .trim_end_matches("- Value")
        .trim_end_matches("Value")
        .trim();
    let cleaned = cleaned.trim_end_matches(['-', ' ']).to_lowercase();
    if cleaned.is_empty() {
        "other".into()
    } else {
        cleaned
    }
}

/// Reads one record into a lead with everything the import reports about it.
pub fn read_row(record: &Record<'_>, rules: &RowRules) -> Result<ParsedLead, RowError> {
    let mapping = &rules.mapping;
    let expected = mapping.columns.len();
    if record.len() != expected {
        // A row that spans several lines and has too few cells is the classic open quote.
        let spans = record.last_line > record.line;
        return Err(RowError::FieldCount {
            got: record.len(),
            expected,
            last_line: if spans { record.last_line } else { 0 },
        });
    }
    let cell = |index: usize| -> Result<&str, RowError> {
        let bytes = record.get(index).unwrap_or_default();
        let text = std::str::from_utf8(bytes).map_err(|_| RowError::NotUtf8 {
            column: mapping.header(index).to_string(),
        })?;
        Ok(unguard(text))
    };
    if let Some(index) = mapping.deleted_column() {
        let value = cell(index)?.trim().to_ascii_lowercase();
        if matches!(value.as_str(), "1" | "true" | "yes" | "y" | "x") {
            return Err(RowError::Deleted {
                column: mapping.header(index).to_string(),
            });
        }
    }

    let mut input = LeadInput::default();
    let mut provided = FieldSet::default();
    // Which column each field's value came from, to name it in a reject reason.
    let mut origin: Vec<(LeadField, usize)> = Vec::new();
    // Further phone numbers and emails: (field, raw value, label).
    let mut extras: Vec<(LeadField, String, String)> = Vec::new();
    for field in LeadField::ALL {
        let several = matches!(field, LeadField::Phone | LeadField::Email);
        for &index in mapping.columns_for(*field) {
            let value = cell(index)?;
            if value.trim().is_empty() {
                continue;
            }
            if several {
                let label = match mapping.label_column(index).map(cell).transpose()? {
                    Some(label) if !label.trim().is_empty() => {
                        label.trim().trim_start_matches('*').trim().to_lowercase()
                    }
                    _ => label_from_header(mapping.header(index)),
                };
                for part in split_values(value) {
                    if provided.contains(*field) {
                        extras.push((*field, part.to_string(), label.clone()));
                    } else {
                        *slot(&mut input, *field) = part.to_string();
                        provided.insert(*field);
                        origin.push((*field, index));
                    }
                }
                continue;
            }
            *slot(&mut input, *field) = value.to_string();
            provided.insert(*field);
            origin.push((*field, index));
            break;
        }
    }
    for (field, value) in &mapping.sets {
        *slot(&mut input, *field) = value.clone();
        if value.trim().is_empty() {
            provided.remove(*field);
        } else {
            provided.insert(*field);
        }
    }
    if let Some(index) = mapping.full_name_column() {
        let (first, last) = split_name(cell(index)?);
        for (field, value) in [(LeadField::FirstName, first), (LeadField::LastName, last)] {
            if !provided.contains(field) && !value.is_empty() {
                *slot(&mut input, field) = value.to_string();
                provided.insert(field);
                origin.push((field, index));
            }
        }
    }
    // Outlook and Google write "Normal" where coldcall says medium.
    if normalize_header(&input.priority) == "normal" {
        input.priority = "medium".into();
    }
    let mut status_mapped = None;
    let mut unmapped = None;
    match rules.statuses.read(&input.status) {
        StatusRead::AsIs => {}
        StatusRead::Mapped(status) => {
            status_mapped = Some((input.status.trim().to_string(), status));
            input.status = status.as_str().to_string();
        }
        StatusRead::Unmapped => {
            unmapped = Some(std::mem::take(&mut input.status).trim().to_string());
        }
    }

    let column_of = |field: &str| {
        origin
            .iter()
            .find(|(f, _)| f.as_str() == field)
            .map(|(_, i)| mapping.header(*i).to_string())
            .unwrap_or_default()
    };
    let validated = input.validate(&rules.region);
    let mut errors: Vec<(FieldError, String)> = match &validated {
        Ok(_) => Vec::new(),
        Err(errors) => errors.0.iter().map(|e| (e.clone(), column_of(e.field))).collect(),
    };
    if let Some(value) = &unmapped {
        let statuses: Vec<&str> = LeadStatus::ALL.iter().map(|s| s.as_str()).collect();
        errors.push((
            FieldError {
                field: "status",
                message: format!(
                    "'{value}' has no mapping to a coldcall status; add --map-status '{value}=STATUS' ({})",
                    statuses.join(", ")
                ),
            },
            column_of("status"),
        ));
    }
    let fields = match validated {
        Ok(fields) if errors.is_empty() => fields,
        _ => return Err(RowError::Invalid(errors)),
    };

    let mut contacts: Vec<RowContact> = Vec::new();
    let mut invalid_contacts = 0;
    for (field, value, label) in extras {
        let kind = match field {
            LeadField::Phone => ContactKind::Phone,
            _ => ContactKind::Email,
        };
        // The same checks as a contact point added by hand; one that fails them (a bad number,
        // escape codes in its label) is left out and counted, not a reason to lose the lead.
        let (Ok(value), Ok(label)) = (
            contact::value(kind, &value, &rules.region),
            contact::label(Some(&label)),
        ) else {
            invalid_contacts += 1;
            continue;
        };
        let own = match field {
            LeadField::Phone => fields.phone == value,
            _ => fields.email.as_deref() == Some(value.as_str()),
        };
        if !own && !contacts.iter().any(|c| c.kind == kind && c.value == value) {
            contacts.push(RowContact { kind, value, label });
        }
    }
    // A zone the row gives is its own. Without one, a number that places the lead in one zone
    // gives it that zone, written with the lead (so the queue's zone filter sees it) but not
    // counted as given: `--on-duplicate update` or `merge` never replaces a stored zone with it.
    // A number that allows several zones, or none, leaves the zone empty: can-call then judges
    // the lead in all of them, or in the default zone.
    let mut fields = fields;
    let zone = if provided.contains(LeadField::Timezone) {
        ZoneOrigin::Given
    } else {
        let zones = lead_zones(None, &fields.phone, rules.default_zone);
        if zones.origin == ZoneOrigin::Number {
            fields.timezone = zones.zones.first().map(|tz| tz.name().to_string());
        }
        zones.origin
    };
    Ok(ParsedLead {
        row: ImportRow {
            line: record.line,
            fields,
            provided,
            contacts,
        },
        invalid_contacts,
        zone,
        status_mapped,
    })
}

/// "Ada King Lovelace" → ("Ada King", "Lovelace"); one word is a first name only.
fn split_name(full: &str) -> (&str, &str) {
    let full = full.trim();
    match full.rsplit_once(char::is_whitespace) {
        Some((first, last)) => (first.trim_end(), last),
        None => (full, ""),
    }
}

fn slot(input: &mut LeadInput, field: LeadField) -> &mut String {
    match field {
        LeadField::FirstName => &mut input.first_name,
        LeadField::LastName => &mut input.last_name,
        LeadField::Email => &mut input.email,
        LeadField::Phone => &mut input.phone,
        LeadField::Company => &mut input.company,
        LeadField::Title => &mut input.title,
        LeadField::Timezone => &mut input.timezone,
        LeadField::Status => &mut input.status,
        LeadField::Priority => &mut input.priority,
        LeadField::LeadScore => &mut input.lead_score,
        LeadField::ConversionProbability => &mut input.conversion_probability,
        LeadField::Source => &mut input.source,
        LeadField::Notes => &mut input.notes,
        LeadField::ConsentGiven => &mut input.consent_given,
        LeadField::DoNotCall => &mut input.do_not_call,
        LeadField::DoNotEmail => &mut input.do_not_email,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::reader::RecordReader;

    fn rows(text: &str) -> Vec<Result<ImportRow, RowError>> {
        let mut reader = RecordReader::new(text.as_bytes(), b',');
        let header = reader.next_record().unwrap().unwrap();
        let headers: Vec<String> = header.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        let mapping = Mapping::new(&headers, &[]).unwrap();
        let mut out = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            out.push(parse_row(&record, &mapping, "US"));
        }
        out
    }

    #[test]
    fn a_row_is_validated_like_a_typed_lead() {
        let parsed = rows("First Name,Last Name,Phone,Company,E-mail\nAda,Lovelace,(415) 555-0123,Engines,ADA@X.COM\n");
        let row = parsed[0].as_ref().unwrap();
        assert_eq!(row.line, 2);
        assert_eq!(row.fields.phone, "+14155550123");
        assert_eq!(row.fields.email.as_deref(), Some("ada@x.com"));
        assert!(row.provided.contains(LeadField::Email));
        assert!(!row.provided.contains(LeadField::Title));
    }

    #[test]
    fn reasons_name_the_field_and_the_column() {
        let parsed = rows("First Name,Last Name,Phone,Company,E-mail\nAda,Lovelace,123,Engines,nope\nA,B,C\n");
        assert_eq!(
            parsed[0].as_ref().unwrap_err().to_string(),
            "email: 'nope' is not a valid email address (column 'E-mail'); \
             phone: '123' is not a valid phone number for region US (column 'Phone')"
        );
        assert_eq!(
            parsed[1].as_ref().unwrap_err().to_string(),
            "row has 3 fields, header has 5"
        );
    }

    #[test]
    fn a_full_name_is_split_and_guarded_cells_are_restored() {
        let parsed = rows("Name,Phone,Company\nAda King Lovelace,'+14155550123,'=Engines\n");
        let row = parsed[0].as_ref().unwrap();
        assert_eq!(
            (row.fields.first_name.as_str(), row.fields.last_name.as_str()),
            ("Ada King", "Lovelace")
        );
        assert_eq!(row.fields.phone, "+14155550123");
        assert_eq!(row.fields.company, "=Engines");
    }

    #[test]
    fn fallback_columns_fill_empty_cells() {
        let parsed = rows("First Name,Last Name,Phone,Mobile,Company\nAda,L,,415 555 0123,E\n");
        assert_eq!(parsed[0].as_ref().unwrap().fields.phone, "+14155550123");
    }
}
