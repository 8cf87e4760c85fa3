//! Which column of a file fills which lead field.
//!
//! Headers are matched loosely ("First Name", "first_name", "FirstName" and "FIRST-NAME" are one
//! header) against the names common CRM exports use (Salesforce, HubSpot, Pipedrive, Zoho, Close,
//! spreadsheets) and against coldcall's own export. Several columns may feed one field ("Phone"
//! and "Mobile Phone"): the first one with a value in a row wins, in the order of the alias list.
//! `--map COLUMN=FIELD` overrides the guess for a field; `--map COLUMN=ignore` leaves a column out;
//! `--set FIELD=VALUE` gives every row one value for a field (a column for it is then ignored).
//!
//! The headers of address-book exports are known too: Google Contacts (its older "Given Name /
//! Family Name / Phone 1 - Value" layout and its newer "First Name / Last Name / Organization
//! Name" one), Outlook, Thunderbird and Apple. A column that marks rows deleted in the source
//! (Salesforce's `IsDeleted`) is read so that those rows are skipped. Every phone or email column
//! after the one that fills the lead's own phone or email is a further contact point of the lead,
//! labelled from its header ("mobile", "home") or from the label column beside it (Google's
//! "Phone 2 - Type").

use std::fmt;

use serde::Serialize;

use crate::domain::LeadField;

/// Where a column goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "field")]
pub enum Target {
    Field(LeadField),
    /// "Name" / "Full Name": split into first and last name when those have no column.
    FullName,
    /// "IsDeleted" / "Deleted": a true value skips the row.
    Deleted,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Field(field) => f.write_str(field.as_str()),
            Target::FullName => f.write_str("full name (split into first_name and last_name)"),
            Target::Deleted => f.write_str("deleted in the source (such rows are skipped)"),
        }
    }
}

/// How a column was placed, for the mapping an admin reviews with `--dry-run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// Recognised from its header.
    Recognised,
    /// Named by `--map`.
    Mapped,
    /// Another column feeds the same field first; this one is used when that one is empty.
    Fallback,
    /// Left out with `--map COLUMN=ignore`, or replaced by a `--map` for its field.
    Ignored,
    /// Replaced by `--set` for its field.
    Set,
    /// The label of a phone or email column ("Phone 2 - Type" beside "Phone 2 - Value").
    Label,
    /// A column coldcall writes in exports but does not import (ids, counters, timestamps).
    ExportOnly,
    /// Not a lead field coldcall knows.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub index: usize,
    pub header: String,
    pub target: Option<Target>,
    pub placement: Placement,
}

/// The whole mapping of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mapping {
    pub columns: Vec<Column>,
    /// Per field, the columns that feed it, best first.
    #[serde(skip)]
    sources: Vec<(LeadField, Vec<usize>)>,
    #[serde(skip)]
    full_name: Option<usize>,
    #[serde(skip)]
    deleted: Option<usize>,
    /// Per column, the column holding its label (Google's "Phone 2 - Type" beside "Phone 2 -
    /// Value").
    #[serde(skip)]
    labels: Vec<Option<usize>>,
    /// `--set FIELD=VALUE`: the value every row gets.
    pub sets: Vec<(LeadField, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("--map '{0}': expected COLUMN=FIELD, e.g. --map 'Mobile=phone'")]
    BadOverride(String),
    #[error("--map '{column}': the file has no such column (its columns: {columns})")]
    NoSuchColumn { column: String, columns: String },
    #[error("--map '{column}={field}': '{field}' is not a lead field (fields: {fields}, full_name, or ignore)")]
    NoSuchField {
        column: String,
        field: String,
        fields: String,
    },
    #[error("--set '{0}': expected FIELD=VALUE, e.g. --set 'company=Acme Ltd'")]
    BadSet(String),
    #[error("--set '{text}': '{field}' is not a lead field (fields: {fields})")]
    NoSuchSetField {
        text: String,
        field: String,
        fields: String,
    },
    #[error("--map '{0}': more than one column has that name; rename one in the file")]
    Ambiguous(String),
    #[error("the header row is empty: the first line of the file must name the columns")]
    NoHeader,
    #[error("{}", missing_message(.0))]
    MissingRequired(Vec<LeadField>),
}

fn missing_message(fields: &[LeadField]) -> String {
    let each: Vec<String> = fields
        .iter()
        .map(|f| {
            let examples = examples(*f);
            format!("{f} (a header such as {examples})")
        })
        .collect();
    format!(
        "missing required column{}: {}; name the column that holds it with --map 'YOUR COLUMN={}', \
         or give every row one value with --set '{}=VALUE'",
        if fields.len() == 1 { "" } else { "s" },
        each.join(", "),
        fields[0],
        fields[0]
    )
}

/// Header spellings per field, compared after `normalize_header`. Order matters where several
/// columns feed one field: the earlier alias wins when both have a value.
const ALIASES: &[(LeadField, &[&str])] = &[
    (
        LeadField::FirstName,
        &[
            "firstname",
            "first",
            "givenname",
            "forename",
            "fname",
            "contactfirstname",
            "personfirstname",
            "leadfirstname",
            "vorname",
            "prenom",
            "nombre",
        ],
    ),
    (
        LeadField::LastName,
        &[
            "lastname",
            "last",
            "surname",
            "familyname",
            "lname",
            "contactlastname",
            "personlastname",
            "leadlastname",
            "nachname",
            "nom",
            "apellido",
            "apellidos",
        ],
    ),
    (
        LeadField::Email,
        &[
            "email",
            "emailaddress",
            "email1",
            "primaryemail",
            "workemail",
            "businessemail",
            "contactemail",
            "personemail",
            "emailwork",
            "mail",
            // Google Contacts, Outlook, Thunderbird, Apple
            "email1value",
            "emailhome",
            "emailicloud",
            "email2",
            "personalemail",
            "otheremail",
            "secondaryemail",
            "email2address",
            "email3address",
            "email2value",
            "email3value",
            "email4value",
            "email5value",
            "emailother",
        ],
    ),
    (
        LeadField::Phone,
        &[
            "phone",
            "phonenumber",
            "telephone",
            "telephonenumber",
            "tel",
            "primaryphone",
            "directphone",
            "directdial",
            "workphone",
            "businessphone",
            "officephone",
            "mainphone",
            "phone1",
            "phone1value",
            "contactphone",
            "personphone",
            "phonework",
            "phonemain",
            "companymainphone",
            "mobile",
            "mobilephone",
            "mobilephonenumber",
            "mobilenumber",
            "cell",
            "cellphone",
            "cellular",
            "phonemobile",
            "phoneiphone",
            "phone2",
            "phone2value",
            "businessphone2",
            "homephone",
            "phonehome",
            "homephone2",
            "otherphone",
            "phoneother",
            "phone3value",
            "phone4value",
            "phone5value",
            "phone6value",
            "phone7value",
            "carphone",
            "telefon",
            "telefono",
            "telephone1",
        ],
    ),
    (
        LeadField::Company,
        &[
            "company",
            "companyname",
            "organization",
            "organisation",
            "organizationname",
            "organisationname",
            "organization1name",
            "account",
            "accountname",
            "business",
            "businessname",
            "employer",
            "firm",
            "firma",
            "empresa",
            "societe",
            "entreprise",
        ],
    ),
    (
        LeadField::Title,
        &[
            "jobtitle",
            "title",
            "organizationtitle",
            "organization1title",
            "position",
            "designation",
            "jobposition",
            "role",
            "jobrole",
            "function",
        ],
    ),
    (LeadField::Timezone, &["timezone", "tz", "timezonename", "zone"]),
    (LeadField::Status, &["status", "leadstatus"]),
    (LeadField::Priority, &["priority", "leadpriority"]),
    (LeadField::LeadScore, &["leadscore", "score"]),
    (
        LeadField::ConversionProbability,
        &[
            "conversionprobability",
            "probability",
            "closeprobability",
            "winprobability",
        ],
    ),
    (
        LeadField::Source,
        &[
            "source",
            "leadsource",
            "originalsource",
            "origin",
            "channel",
            "sourcename",
        ],
    ),
    (
        LeadField::Notes,
        &["notes", "note", "comments", "comment", "description", "remarks", "memo"],
    ),
    (
        LeadField::ConsentGiven,
        &[
            "consentgiven",
            "consent",
            "optin",
            "marketingconsent",
            "gdprconsent",
            "hasconsent",
        ],
    ),
    (
        LeadField::DoNotCall,
        &[
            "donotcall",
            "dnc",
            "nocall",
            "donotphone",
            "dontcall",
            "calloptout",
            "optoutcall",
        ],
    ),
    (
        LeadField::DoNotEmail,
        &[
            "donotemail",
            "emailoptout",
            "hasoptedoutofemail",
            "optedoutofemail",
            "unsubscribed",
            "dontemail",
            "optoutemail",
        ],
    ),
];

const FULL_NAME: &[&str] = &[
    "name",
    "fullname",
    "displayname",
    "contactname",
    "contact",
    "personname",
    "leadname",
    "contactperson",
];

/// Columns that mark a row deleted in the source CRM.
const DELETED: &[&str] = &["isdeleted", "deleted"];

/// Columns of coldcall's own export (and of its rejects files) that import does not read.
const EXPORT_ONLY: &[&str] = &[
    "id",
    "consentdate",
    "callattempts",
    "lastcallat",
    "nextcallat",
    "dataquality",
    "createdat",
    "updatedat",
    "importline",
    "importerror",
];

/// "E-mail Address" → "emailaddress": lower case, letters and digits only.
pub fn normalize_header(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn recognise(header: &str) -> Option<(Target, usize)> {
    let key = normalize_header(header);
    if let Some(rank) = FULL_NAME.iter().position(|a| *a == key) {
        return Some((Target::FullName, rank));
    }
    if let Some(rank) = DELETED.iter().position(|a| *a == key) {
        return Some((Target::Deleted, rank));
    }
    ALIASES.iter().find_map(|(field, aliases)| {
        aliases
            .iter()
            .position(|a| *a == key)
            .map(|rank| (Target::Field(*field), rank))
    })
}

fn examples(field: LeadField) -> String {
    let pretty: &[&str] = match field {
        LeadField::FirstName => &["First Name", "Given Name"],
        LeadField::LastName => &["Last Name", "Surname"],
        LeadField::Phone => &["Phone", "Mobile Phone", "Telephone"],
        LeadField::Company => &["Company", "Company Name", "Organization"],
        LeadField::Email => &["Email", "E-mail Address"],
        _ => &[],
    };
    if pretty.is_empty() {
        format!("'{field}'")
    } else {
        pretty.iter().map(|p| format!("'{p}'")).collect::<Vec<_>>().join(" or ")
    }
}

/// Parses `COLUMN=FIELD` (the column may itself contain '=', so the last one splits).
pub fn parse_override(text: &str) -> Result<(String, String), MappingError> {
    let (column, field) = text
        .rsplit_once('=')
        .ok_or_else(|| MappingError::BadOverride(text.to_string()))?;
    if column.trim().is_empty() {
        return Err(MappingError::BadOverride(text.to_string()));
    }
    Ok((column.trim().to_string(), field.trim().to_string()))
}

/// Parses `FIELD=VALUE` for `--set` (the value may contain '=', so the first one splits).
pub fn parse_set(text: &str) -> Result<(LeadField, String), MappingError> {
    let (field, value) = text
        .split_once('=')
        .ok_or_else(|| MappingError::BadSet(text.to_string()))?;
    let key = normalize_header(field);
    let field = LeadField::ALL
        .iter()
        .find(|f| normalize_header(f.as_str()) == key)
        .copied()
        .ok_or_else(|| MappingError::NoSuchSetField {
            text: text.to_string(),
            field: field.trim().to_string(),
            fields: LeadField::ALL.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", "),
        })?;
    Ok((field, value.trim().to_string()))
}

/// The fields a column can map to, for `import --help`.
pub fn mappable_fields() -> String {
    let mut names: Vec<&str> = LeadField::ALL.iter().map(|f| f.as_str()).collect();
    names.push("full_name");
    names.push("ignore");
    names.join(", ")
}

/// "Phone 2 - Value" → "Phone 2 - Type" / "Phone 2 - Label": Google writes each phone's and
/// email's label in the column before its value.
fn label_column(headers: &[String], index: usize) -> Option<usize> {
    let key = normalize_header(&headers[index]);
    let stem = key.strip_suffix("value")?;
    [format!("{stem}type"), format!("{stem}label")]
        .iter()
        .find_map(|wanted| headers.iter().position(|h| normalize_header(h) == *wanted))
}

enum Wanted {
    Target(Target),
    Ignore,
}

fn wanted(column: &str, field: &str) -> Result<Wanted, MappingError> {
    let key = normalize_header(field);
    if matches!(key.as_str(), "ignore" | "skip" | "none" | "") {
        return Ok(Wanted::Ignore);
    }
    if matches!(key.as_str(), "fullname" | "name") {
        return Ok(Wanted::Target(Target::FullName));
    }
    LeadField::ALL
        .iter()
        .find(|f| normalize_header(f.as_str()) == key)
        .map(|f| Wanted::Target(Target::Field(*f)))
        .ok_or_else(|| MappingError::NoSuchField {
            column: column.to_string(),
            field: field.to_string(),
            fields: LeadField::ALL.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", "),
        })
}

fn find_column(headers: &[String], column: &str) -> Result<usize, MappingError> {
    if let Some(index) = headers.iter().position(|h| h.trim() == column) {
        return Ok(index);
    }
    let key = normalize_header(column);
    let found: Vec<usize> = (0..headers.len())
        .filter(|&i| normalize_header(&headers[i]) == key)
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(MappingError::NoSuchColumn {
            column: column.to_string(),
            columns: headers.iter().map(|h| format!("'{h}'")).collect::<Vec<_>>().join(", "),
        }),
        _ => Err(MappingError::Ambiguous(column.to_string())),
    }
}

impl Mapping {
    /// Builds the mapping from the header row and the `--map` overrides, and checks that every
    /// required field has a column.
    pub fn new(headers: &[String], overrides: &[(String, String)]) -> Result<Mapping, MappingError> {
        Mapping::with_sets(headers, overrides, &[])
    }

    /// As `new`, with `--set FIELD=VALUE` pairs: a set field needs no column, and a column
    /// that would feed it is left out.
    pub fn with_sets(
        headers: &[String],
        overrides: &[(String, String)],
        sets: &[(LeadField, String)],
    ) -> Result<Mapping, MappingError> {
        if headers.iter().all(|h| h.trim().is_empty()) {
            return Err(MappingError::NoHeader);
        }
        // (target, rank): rank orders several columns of one field; overrides come first.
        let mut placed: Vec<(Option<(Target, usize)>, Placement)> = headers
            .iter()
            .map(|h| {
                let key = normalize_header(h);
                match recognise(h) {
                    Some(found) => (Some(found), Placement::Recognised),
                    None if EXPORT_ONLY.contains(&key.as_str()) => (None, Placement::ExportOnly),
                    None => (None, Placement::Unknown),
                }
            })
            .collect();
        let mut overridden: Vec<Target> = Vec::new();
        for (order, (column, field)) in overrides.iter().enumerate() {
            let index = find_column(headers, column)?;
            match wanted(column, field)? {
                Wanted::Ignore => placed[index] = (None, Placement::Ignored),
                Wanted::Target(target) => {
                    overridden.push(target);
                    placed[index] = (Some((target, order)), Placement::Mapped);
                }
            }
        }
        // A --map for a field replaces the columns guessed for it.
        for (slot, placement) in placed.iter_mut() {
            if *placement == Placement::Recognised && slot.is_some_and(|(t, _)| overridden.contains(&t)) {
                *slot = None;
                *placement = Placement::Ignored;
            }
        }
        // Outlook writes the name prefix ("Mr.") as "Title" beside "Job Title": with a job
        // title column present, a bare "Title" is not the job.
        let has_job_title = headers.iter().any(|h| normalize_header(h) == "jobtitle");
        for (index, (slot, placement)) in placed.iter_mut().enumerate() {
            if has_job_title && *placement == Placement::Recognised && normalize_header(&headers[index]) == "title" {
                *slot = None;
                *placement = Placement::Unknown;
            }
        }
        // --set replaces every column of its field.
        for (slot, placement) in placed.iter_mut() {
            if slot.is_some_and(|(t, _)| sets.iter().any(|(f, _)| t == Target::Field(*f))) {
                *slot = None;
                *placement = Placement::Set;
            }
        }

        let mut sources = Vec::new();
        for field in LeadField::ALL {
            let mut feeding: Vec<(usize, usize)> = placed
                .iter()
                .enumerate()
                .filter_map(|(i, (slot, _))| match slot {
                    Some((Target::Field(f), rank)) if f == field => Some((*rank, i)),
                    _ => None,
                })
                .collect();
            feeding.sort();
            if !feeding.is_empty() {
                sources.push((*field, feeding.into_iter().map(|(_, i)| i).collect::<Vec<_>>()));
            }
        }
        let mut full_names: Vec<(usize, usize)> = placed
            .iter()
            .enumerate()
            .filter_map(|(i, (slot, _))| match slot {
                Some((Target::FullName, rank)) => Some((*rank, i)),
                _ => None,
            })
            .collect();
        full_names.sort();
        let full_name = full_names.first().map(|(_, i)| *i);
        let deleted = placed
            .iter()
            .position(|(slot, _)| matches!(slot, Some((Target::Deleted, _))));
        let labels: Vec<Option<usize>> = (0..headers.len())
            .map(|i| match placed[i].0 {
                Some((Target::Field(LeadField::Phone | LeadField::Email), _)) => label_column(headers, i),
                _ => None,
            })
            .collect();

        let mut columns: Vec<Column> = headers
            .iter()
            .enumerate()
            .map(|(index, header)| Column {
                index,
                header: header.clone(),
                target: placed[index].0.map(|(t, _)| t),
                placement: placed[index].1.clone(),
            })
            .collect();
        for (_, feeding) in &sources {
            for index in &feeding[1..] {
                columns[*index].placement = Placement::Fallback;
            }
        }
        for (_, index) in full_names.iter().skip(1) {
            columns[*index].placement = Placement::Fallback;
        }
        for index in labels.iter().flatten() {
            if columns[*index].placement == Placement::Unknown {
                columns[*index].placement = Placement::Label;
            }
        }

        let mapping = Mapping {
            columns,
            sources,
            full_name,
            deleted,
            labels,
            sets: sets.to_vec(),
        };
        let missing = mapping.missing_required();
        if !missing.is_empty() {
            return Err(MappingError::MissingRequired(missing));
        }
        Ok(mapping)
    }

    fn missing_required(&self) -> Vec<LeadField> {
        LeadField::REQUIRED
            .iter()
            .copied()
            .filter(|f| {
                let named = matches!(f, LeadField::FirstName | LeadField::LastName) && self.full_name.is_some();
                let set = self.sets.iter().any(|(field, _)| field == f);
                !named && !set && self.columns_for(*f).is_empty()
            })
            .collect()
    }

    /// The columns that feed `field`, best first.
    pub fn columns_for(&self, field: LeadField) -> &[usize] {
        self.sources
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, c)| c.as_slice())
            .unwrap_or(&[])
    }

    /// The column a full name is split from, when there is one.
    pub fn full_name_column(&self) -> Option<usize> {
        self.full_name
    }

    /// The column whose true value marks a row deleted in the source.
    pub fn deleted_column(&self) -> Option<usize> {
        self.deleted
    }

    /// The column holding the label of `index`'s value, when the file has one.
    pub fn label_column(&self, index: usize) -> Option<usize> {
        self.labels.get(index).copied().flatten()
    }

    pub fn header(&self, index: usize) -> &str {
        &self.columns[index].header
    }

    /// Columns whose values are not imported, for the summary.
    pub fn unused(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| {
            matches!(
                c.placement,
                Placement::Unknown | Placement::Ignored | Placement::ExportOnly | Placement::Set
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn overrides(pairs: &[&str]) -> Vec<(String, String)> {
        pairs.iter().map(|p| parse_override(p).unwrap()).collect()
    }

    #[test]
    fn crm_headers_are_recognised() {
        let h = headers(&[
            "First Name",
            "last_name",
            "E-mail Address",
            "Mobile Phone",
            "Company Name",
            "Job Title",
            "Lead Source",
            "Favourite Colour",
            "id",
        ]);
        let m = Mapping::new(&h, &[]).unwrap();
        assert_eq!(m.columns_for(LeadField::FirstName), [0]);
        assert_eq!(m.columns_for(LeadField::LastName), [1]);
        assert_eq!(m.columns_for(LeadField::Email), [2]);
        assert_eq!(m.columns_for(LeadField::Phone), [3]);
        assert_eq!(m.columns_for(LeadField::Company), [4]);
        assert_eq!(m.columns_for(LeadField::Title), [5]);
        assert_eq!(m.columns_for(LeadField::Source), [6]);
        assert_eq!(m.columns[7].placement, Placement::Unknown);
        assert_eq!(m.columns[8].placement, Placement::ExportOnly);
    }

    #[test]
    fn several_phone_columns_fall_back_in_alias_order() {
        let h = headers(&["Name", "Mobile Phone Number", "Phone Number", "Company"]);
        let m = Mapping::new(&h, &[]).unwrap();
        assert_eq!(
            m.columns_for(LeadField::Phone),
            [2, 1],
            "the main phone first, the mobile when it is empty"
        );
        assert_eq!(m.columns[1].placement, Placement::Fallback);
        assert_eq!(m.full_name_column(), Some(0));
    }

    #[test]
    fn overrides_replace_the_guess() {
        let h = headers(&["Vorname", "Nachname", "Handy", "Telefon", "Firma", "Lead Status"]);
        let m = Mapping::new(&h, &overrides(&["Handy=phone", "Lead Status=ignore"])).unwrap();
        assert_eq!(m.columns_for(LeadField::Phone), [2]);
        assert_eq!(
            m.columns[3].placement,
            Placement::Ignored,
            "Telefon was replaced by the --map"
        );
        assert_eq!(m.columns[5].placement, Placement::Ignored);
        assert!(m.columns_for(LeadField::Status).is_empty());
        // a loose field name works too
        let m = Mapping::new(&h, &overrides(&["handy=Phone Number"]));
        assert!(matches!(m, Err(MappingError::NoSuchField { .. })), "{m:?}");
    }

    #[test]
    fn missing_required_columns_are_named() {
        let h = headers(&["First Name", "Last Name", "Email"]);
        let err = Mapping::new(&h, &[]).unwrap_err();
        assert_eq!(
            err,
            MappingError::MissingRequired(vec![LeadField::Phone, LeadField::Company])
        );
        let text = err.to_string();
        assert!(
            text.starts_with("missing required columns: phone (a header such as 'Phone'"),
            "{text}"
        );
        assert!(text.contains("--map 'YOUR COLUMN=phone'"), "{text}");
    }

    #[test]
    fn bad_overrides_say_what_is_wrong() {
        let h = headers(&["First Name", "Last Name", "Phone", "Company"]);
        assert!(matches!(
            Mapping::new(&h, &overrides(&["Fone=phone"])),
            Err(MappingError::NoSuchColumn { .. })
        ));
        assert!(parse_override("phone").is_err());
        assert_eq!(parse_override("a=b=email").unwrap(), ("a=b".into(), "email".into()));
    }

    #[test]
    fn the_export_header_maps_back_to_every_field() {
        let h: Vec<String> = LeadField::ALL.iter().map(|f| f.as_str().to_string()).collect();
        let m = Mapping::new(&h, &[]).unwrap();
        for (i, f) in LeadField::ALL.iter().enumerate() {
            assert_eq!(m.columns_for(*f), [i], "{f}");
        }
    }
}
