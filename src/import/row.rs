//! One CSV row → a lead, validated exactly like a lead typed by hand (`LeadInput::validate`
//! with the default region), or the reason it cannot be taken, naming the column.

use std::fmt;

use crate::domain::formula::unguard;
use crate::domain::{FieldError, FieldSet, LeadField, LeadInput};
use crate::store::ImportRow;

use super::mapping::Mapping;
use super::reader::Record;

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
}

impl RowError {
    /// A short name for counting rejects by kind ("phone", "email", "field count", ...).
    pub fn kind(&self) -> String {
        match self {
            RowError::FieldCount { .. } => "field count".into(),
            RowError::NotUtf8 { .. } => "encoding".into(),
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
pub fn parse_row(record: &Record<'_>, mapping: &Mapping, region: &str) -> Result<ImportRow, RowError> {
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

    let mut input = LeadInput::default();
    let mut provided = FieldSet::default();
    // Which column each field's value came from, to name it in a reject reason.
    let mut origin: Vec<(LeadField, usize)> = Vec::new();
    for field in LeadField::ALL {
        for &index in mapping.columns_for(*field) {
            let value = cell(index)?;
            if value.trim().is_empty() {
                continue;
            }
            *slot(&mut input, *field) = value.to_string();
            provided.insert(*field);
            origin.push((*field, index));
            break;
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
    input
        .validate(region)
        .map_err(|errors| {
            RowError::Invalid(
                errors
                    .0
                    .into_iter()
                    .map(|e| {
                        let column = origin
                            .iter()
                            .find(|(f, _)| f.as_str() == e.field)
                            .map(|(_, i)| mapping.header(*i).to_string())
                            .unwrap_or_default();
                        (e, column)
                    })
                    .collect(),
            )
        })
        .map(|fields| ImportRow {
            line: record.line,
            fields,
            provided,
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
