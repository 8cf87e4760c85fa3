//! How a lead that arrives again (an import row matching a stored lead) combines with the stored
//! one. Pure rules, shared by both backends, so "update" and "merge" mean the same everywhere.
//!
//! Two values are never lowered by any mode: the do-not-call flag and the do-not-email flag.
//! A list from another system saying "no" next to a person who asked us not to call them must
//! not undo that request (the complaint users of other CRMs make most about imports).

use serde::{Deserialize, Serialize};

use super::lead::LeadFields;

/// The editable fields of a lead, as an import column can provide them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadField {
    FirstName,
    LastName,
    Email,
    Phone,
    Company,
    Title,
    Timezone,
    Status,
    Priority,
    LeadScore,
    ConversionProbability,
    Source,
    Notes,
    ConsentGiven,
    DoNotCall,
    DoNotEmail,
}

impl LeadField {
    pub const ALL: &[LeadField] = &[
        LeadField::FirstName,
        LeadField::LastName,
        LeadField::Email,
        LeadField::Phone,
        LeadField::Company,
        LeadField::Title,
        LeadField::Timezone,
        LeadField::Status,
        LeadField::Priority,
        LeadField::LeadScore,
        LeadField::ConversionProbability,
        LeadField::Source,
        LeadField::Notes,
        LeadField::ConsentGiven,
        LeadField::DoNotCall,
        LeadField::DoNotEmail,
    ];

    /// A lead cannot be stored without these.
    pub const REQUIRED: &[LeadField] = &[
        LeadField::FirstName,
        LeadField::LastName,
        LeadField::Phone,
        LeadField::Company,
    ];

    /// The field's name, identical to the `LeadFields` member and to the export's column header.
    pub fn as_str(self) -> &'static str {
        match self {
            LeadField::FirstName => "first_name",
            LeadField::LastName => "last_name",
            LeadField::Email => "email",
            LeadField::Phone => "phone",
            LeadField::Company => "company",
            LeadField::Title => "title",
            LeadField::Timezone => "timezone",
            LeadField::Status => "status",
            LeadField::Priority => "priority",
            LeadField::LeadScore => "lead_score",
            LeadField::ConversionProbability => "conversion_probability",
            LeadField::Source => "source",
            LeadField::Notes => "notes",
            LeadField::ConsentGiven => "consent_given",
            LeadField::DoNotCall => "do_not_call",
            LeadField::DoNotEmail => "do_not_email",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl std::fmt::Display for LeadField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which fields a row actually gave a value for. An empty cell gives nothing: an update never
/// blanks out what is stored because another system left a column empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FieldSet(u32);

impl FieldSet {
    pub fn all() -> FieldSet {
        FieldSet(LeadField::ALL.iter().fold(0, |bits, f| bits | f.bit()))
    }

    pub fn insert(&mut self, field: LeadField) {
        self.0 |= field.bit();
    }

    pub fn remove(&mut self, field: LeadField) {
        self.0 &= !field.bit();
    }

    pub fn contains(self, field: LeadField) -> bool {
        self.0 & field.bit() != 0
    }
}

impl FromIterator<LeadField> for FieldSet {
    fn from_iter<I: IntoIterator<Item = LeadField>>(iter: I) -> Self {
        let mut set = FieldSet::default();
        for field in iter {
            set.insert(field);
        }
        set
    }
}

/// What to do with a row whose phone or email already belongs to a stored lead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateMode {
    /// Leave the stored lead as it is (a do-not-call or do-not-email request still sticks).
    #[default]
    Skip,
    /// Overwrite every field the row gives a value for.
    Update,
    /// Fill only the fields the stored lead has no value for.
    Merge,
}

impl DuplicateMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DuplicateMode::Skip => "skip",
            DuplicateMode::Update => "update",
            DuplicateMode::Merge => "merge",
        }
    }
}

impl std::str::FromStr for DuplicateMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "skip" => Ok(DuplicateMode::Skip),
            "update" => Ok(DuplicateMode::Update),
            "merge" => Ok(DuplicateMode::Merge),
            other => Err(format!("'{other}' is not a duplicate mode (use skip, update or merge)")),
        }
    }
}

/// The stored lead after `incoming` is applied under `mode`, or None when nothing would change
/// (so an unchanged lead is never written: no new updated_at, no change-feed entry).
pub fn resolve(
    stored: &LeadFields,
    incoming: &LeadFields,
    provided: FieldSet,
    mode: DuplicateMode,
) -> Option<LeadFields> {
    let mut next = stored.clone();
    match mode {
        DuplicateMode::Skip => {}
        DuplicateMode::Update => overwrite(&mut next, incoming, provided),
        DuplicateMode::Merge => fill_empty(&mut next, incoming, provided),
    }
    // Requests not to be contacted only ever accumulate, whatever the mode.
    next.do_not_call = stored.do_not_call || (provided.contains(LeadField::DoNotCall) && incoming.do_not_call);
    next.do_not_email = stored.do_not_email || (provided.contains(LeadField::DoNotEmail) && incoming.do_not_email);
    (next != *stored).then_some(next)
}

fn overwrite(next: &mut LeadFields, incoming: &LeadFields, provided: FieldSet) {
    let has = |f| provided.contains(f);
    if has(LeadField::FirstName) {
        next.first_name = incoming.first_name.clone();
    }
    if has(LeadField::LastName) {
        next.last_name = incoming.last_name.clone();
    }
    if has(LeadField::Email) {
        next.email = incoming.email.clone();
    }
    if has(LeadField::Phone) {
        next.phone = incoming.phone.clone();
    }
    if has(LeadField::Company) {
        next.company = incoming.company.clone();
    }
    if has(LeadField::Title) {
        next.title = incoming.title.clone();
    }
    if has(LeadField::Timezone) {
        next.timezone = incoming.timezone.clone();
    }
    if has(LeadField::Status) {
        next.status = incoming.status;
    }
    if has(LeadField::Priority) {
        next.priority = incoming.priority;
    }
    if has(LeadField::LeadScore) {
        next.lead_score = incoming.lead_score;
    }
    if has(LeadField::ConversionProbability) {
        next.conversion_probability = incoming.conversion_probability;
    }
    if has(LeadField::Source) {
        next.source = incoming.source.clone();
    }
    if has(LeadField::Notes) {
        next.notes = incoming.notes.clone();
    }
    if has(LeadField::ConsentGiven) {
        next.consent_given = incoming.consent_given;
    }
}

/// Merge treats a missing optional value, a zero score or probability and an unset consent as
/// empty. Names, company and phone are never empty; status and priority always hold a decision
/// someone made (or the default), so merge leaves them to `update` and to the status log.
fn fill_empty(next: &mut LeadFields, incoming: &LeadFields, provided: FieldSet) {
    let has = |f| provided.contains(f);
    let fill = |slot: &mut Option<String>, value: &Option<String>, given: bool| {
        if given && slot.is_none() {
            *slot = value.clone();
        }
    };
    fill(&mut next.email, &incoming.email, has(LeadField::Email));
    fill(&mut next.title, &incoming.title, has(LeadField::Title));
    fill(&mut next.timezone, &incoming.timezone, has(LeadField::Timezone));
    fill(&mut next.source, &incoming.source, has(LeadField::Source));
    fill(&mut next.notes, &incoming.notes, has(LeadField::Notes));
    if has(LeadField::LeadScore) && next.lead_score == 0 {
        next.lead_score = incoming.lead_score;
    }
    if has(LeadField::ConversionProbability) && next.conversion_probability == 0.0 {
        next.conversion_probability = incoming.conversion_probability;
    }
    if has(LeadField::ConsentGiven) && !next.consent_given {
        next.consent_given = incoming.consent_given;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{LeadInput, LeadStatus};

    fn lead(edit: impl FnOnce(&mut LeadInput)) -> LeadFields {
        let mut input = LeadInput {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            phone: "+14155550123".into(),
            company: "Engines".into(),
            ..LeadInput::default()
        };
        edit(&mut input);
        input.validate("US").unwrap()
    }

    fn given(fields: &[LeadField]) -> FieldSet {
        fields.iter().copied().collect()
    }

    #[test]
    fn skip_changes_nothing_but_a_do_not_call_request() {
        let stored = lead(|_| {});
        let incoming = lead(|i| i.company = "Other".into());
        assert_eq!(resolve(&stored, &incoming, FieldSet::all(), DuplicateMode::Skip), None);
        let dnc = lead(|i| i.do_not_call = "yes".into());
        let next = resolve(&stored, &dnc, FieldSet::all(), DuplicateMode::Skip).unwrap();
        assert!(next.do_not_call);
        assert_eq!(next.company, "Engines");
    }

    #[test]
    fn update_overwrites_only_what_the_row_gives() {
        let stored = lead(|i| {
            i.title = "CTO".into();
            i.notes = "met at the fair".into();
        });
        let incoming = lead(|i| {
            i.company = "New Co".into();
            i.status = "qualified".into();
        });
        let next = resolve(
            &stored,
            &incoming,
            given(&[
                LeadField::FirstName,
                LeadField::LastName,
                LeadField::Phone,
                LeadField::Company,
                LeadField::Status,
            ]),
            DuplicateMode::Update,
        )
        .unwrap();
        assert_eq!(next.company, "New Co");
        assert_eq!(next.status, LeadStatus::Qualified);
        assert_eq!(next.title.as_deref(), Some("CTO"), "an empty cell never blanks a value");
        assert_eq!(next.notes.as_deref(), Some("met at the fair"));
    }

    #[test]
    fn merge_fills_only_empty_fields() {
        let stored = lead(|i| i.title = "CTO".into());
        let incoming = lead(|i| {
            i.title = "CEO".into();
            i.email = "ada@example.com".into();
            i.status = "qualified".into();
            i.lead_score = "70".into();
        });
        let next = resolve(&stored, &incoming, FieldSet::all(), DuplicateMode::Merge).unwrap();
        assert_eq!(next.title.as_deref(), Some("CTO"));
        assert_eq!(next.email.as_deref(), Some("ada@example.com"));
        assert_eq!(next.status, LeadStatus::New, "merge leaves the status alone");
        assert_eq!(next.lead_score, 70);
    }

    #[test]
    fn no_mode_clears_do_not_call_or_do_not_email() {
        let stored = lead(|i| {
            i.do_not_call = "yes".into();
            i.do_not_email = "yes".into();
        });
        let incoming = lead(|i| {
            i.do_not_call = "no".into();
            i.do_not_email = "no".into();
        });
        for mode in [DuplicateMode::Skip, DuplicateMode::Update, DuplicateMode::Merge] {
            assert_eq!(resolve(&stored, &incoming, FieldSet::all(), mode), None, "{mode:?}");
        }
    }

    #[test]
    fn a_row_equal_to_the_stored_lead_changes_nothing() {
        let stored = lead(|i| i.email = "ada@example.com".into());
        for mode in [DuplicateMode::Skip, DuplicateMode::Update, DuplicateMode::Merge] {
            assert_eq!(resolve(&stored, &stored, FieldSet::all(), mode), None, "{mode:?}");
        }
    }

    #[test]
    fn modes_parse() {
        assert_eq!("Update".parse(), Ok(DuplicateMode::Update));
        assert!("overwrite"
            .parse::<DuplicateMode>()
            .unwrap_err()
            .contains("skip, update or merge"));
    }
}
