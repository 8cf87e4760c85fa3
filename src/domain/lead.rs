//! Lead validation, data-quality score and duplicate keys.
//!
//! Leads arrive from forms and CSV imports as loose text. Validation turns that text into one
//! normalised shape and reports every problem at once, so a person can fix a row in one pass.

use super::hours::parse_tz;
use super::phone::normalize_phone;
use super::types::{LeadStatus, Priority};
use serde::{Deserialize, Serialize};

/// Raw field values as a person or a CSV row gives them. Empty strings mean "not given".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LeadInput {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub company: String,
    pub title: String,
    pub timezone: String,
    pub status: String,
    pub priority: String,
    pub lead_score: String,
    pub conversion_probability: String,
    pub source: String,
    pub notes: String,
    pub consent_given: String,
    pub do_not_call: String,
    pub do_not_email: String,
}

/// A validated, normalised lead ready to store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadFields {
    pub first_name: String,
    pub last_name: String,
    /// Lower-cased.
    pub email: Option<String>,
    /// E.164.
    pub phone: String,
    pub company: String,
    pub title: Option<String>,
    /// A valid IANA name in chrono-tz's canonical spelling.
    pub timezone: Option<String>,
    pub status: LeadStatus,
    pub priority: Priority,
    /// 0..=100.
    pub lead_score: i16,
    /// 0..=1.
    pub conversion_probability: f64,
    pub source: Option<String>,
    pub notes: Option<String>,
    pub consent_given: bool,
    pub do_not_call: bool,
    pub do_not_email: bool,
}

/// One problem with one field; `field` is the struct field name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// Every field problem found in one input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
pub struct ValidationErrors(pub Vec<FieldError>);

/// Values that identify the same person across imports.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DuplicateKeys {
    pub phone: String,
    pub email: Option<String>,
}

const NAME_MAX: usize = 50;
const COMPANY_MAX: usize = 100;
const TITLE_MAX: usize = 100;
const SOURCE_MAX: usize = 100;
/// Notes hold what CRMs export in a description (Salesforce allows 32,000 characters) and more.
pub const NOTES_MAX: usize = 65_536;

/// Points for the required fields (names, phone, company), which every valid lead has.
const QUALITY_BASE: i16 = 40;

/// (field name, points, whether the lead has it).
type QualityWeight = (&'static str, i16, fn(&LeadFields) -> bool);

/// Points for each optional piece of information; with the base they add up to 100. Email and
/// consent weigh most because they decide whether the lead can be followed up at all.
const QUALITY_WEIGHTS: &[QualityWeight] = &[
    ("email", 20, |f| f.email.is_some()),
    ("title", 10, |f| f.title.is_some()),
    ("timezone", 10, |f| f.timezone.is_some()),
    ("source", 5, |f| f.source.is_some()),
    ("notes", 5, |f| f.notes.is_some()),
    ("consent_given", 10, |f| f.consent_given),
];

/// Collects field errors while fields are checked one by one.
#[derive(Default)]
struct Checker(Vec<FieldError>);

impl Checker {
    /// Keeps the value or records the error under `field`.
    fn check<T>(&mut self, field: &'static str, result: Result<T, String>) -> Option<T> {
        result
            .map_err(|message| self.0.push(FieldError { field, message }))
            .ok()
    }
}

impl LeadInput {
    /// Checks and normalises every field; all failures are reported together.
    pub fn validate(&self, default_region: &str) -> Result<LeadFields, ValidationErrors> {
        let mut c = Checker::default();
        let first_name = c.check("first_name", required_text(&self.first_name, NAME_MAX));
        let last_name = c.check("last_name", required_text(&self.last_name, NAME_MAX));
        let email = c.check("email", email(&self.email));
        let phone = c.check("phone", phone(&self.phone, default_region));
        let company = c.check("company", required_text(&self.company, COMPANY_MAX));
        let title = c.check("title", optional_text(&self.title, TITLE_MAX));
        let timezone = c.check("timezone", timezone(&self.timezone));
        let status = c.check("status", enum_or(&self.status, LeadStatus::New));
        let priority = c.check("priority", enum_or(&self.priority, Priority::Medium));
        let lead_score = c.check("lead_score", lead_score(&self.lead_score));
        let conversion_probability = c.check("conversion_probability", probability(&self.conversion_probability));
        let source = c.check("source", optional_text(&self.source, SOURCE_MAX));
        let notes = c.check("notes", notes(&self.notes));
        let consent_given = c.check("consent_given", flag(&self.consent_given));
        let do_not_call = c.check("do_not_call", flag(&self.do_not_call));
        let do_not_email = c.check("do_not_email", flag(&self.do_not_email));

        // Each `None` above has recorded its error, so this only fails when there are errors.
        let (
            Some(first_name),
            Some(last_name),
            Some(email),
            Some(phone),
            Some(company),
            Some(title),
            Some(timezone),
            Some(status),
            Some(priority),
            Some(lead_score),
            Some(conversion_probability),
            Some(source),
            Some(notes),
            Some(consent_given),
            Some(do_not_call),
            Some(do_not_email),
        ) = (
            first_name,
            last_name,
            email,
            phone,
            company,
            title,
            timezone,
            status,
            priority,
            lead_score,
            conversion_probability,
            source,
            notes,
            consent_given,
            do_not_call,
            do_not_email,
        )
        else {
            return Err(ValidationErrors(c.0));
        };
        Ok(LeadFields {
            first_name,
            last_name,
            email,
            phone,
            company,
            title,
            timezone,
            status,
            priority,
            lead_score,
            conversion_probability,
            source,
            notes,
            consent_given,
            do_not_call,
            do_not_email,
        })
    }
}

impl LeadFields {
    /// Back to raw input (for edit forms and round trips): validate(to_input()) == self.
    pub fn to_input(&self) -> LeadInput {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        LeadInput {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: opt(&self.email),
            phone: self.phone.clone(),
            company: self.company.clone(),
            title: opt(&self.title),
            timezone: opt(&self.timezone),
            status: self.status.as_str().to_string(),
            priority: self.priority.as_str().to_string(),
            lead_score: self.lead_score.to_string(),
            // `Display` for f64 prints the shortest text that parses back to the same value.
            conversion_probability: self.conversion_probability.to_string(),
            source: opt(&self.source),
            notes: opt(&self.notes),
            consent_given: self.consent_given.to_string(),
            do_not_call: self.do_not_call.to_string(),
            do_not_email: self.do_not_email.to_string(),
        }
    }

    /// Completeness 0..=100: the required fields give the base, each optional piece of
    /// information adds its weight from `QUALITY_WEIGHTS`.
    pub fn data_quality(&self) -> i16 {
        let extra: i16 = QUALITY_WEIGHTS
            .iter()
            .filter(|(_, _, present)| present(self))
            .map(|(_, points, _)| points)
            .sum();
        (QUALITY_BASE + extra).clamp(0, 100)
    }

    /// Keys used to find an existing lead for the same person.
    pub fn duplicate_keys(&self) -> DuplicateKeys {
        DuplicateKeys {
            phone: self.phone.clone(),
            email: self.email.clone(),
        }
    }
}

/// Control characters would corrupt the screen and exports, so they are refused, never stripped.
fn check_chars(value: &str, allowed: &[char]) -> Result<(), String> {
    if value.chars().any(|c| c.is_control() && !allowed.contains(&c)) {
        return Err("contains control characters".into());
    }
    Ok(())
}

fn check_len(value: &str, max: usize) -> Result<(), String> {
    // Counted in characters, since a limit in bytes would punish non-Latin names.
    if value.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok(())
}

fn required_text(raw: &str, max: usize) -> Result<String, String> {
    optional_text(raw, max)?.ok_or_else(|| "is required".into())
}

fn optional_text(raw: &str, max: usize) -> Result<Option<String>, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    check_chars(value, &[])?;
    check_len(value, max)?;
    Ok(Some(value.to_string()))
}

/// Notes are free text, so line breaks and tabs are kept. Windows line endings from CSV files
/// become plain "\n" so that the same note does not differ by platform.
fn notes(raw: &str) -> Result<Option<String>, String> {
    let value = raw.replace("\r\n", "\n");
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    check_chars(value, &['\n', '\t'])?;
    check_len(value, NOTES_MAX)?;
    Ok(Some(value.to_string()))
}

/// An email address normalised as validation does (lower case), or `None` when it is not valid.
pub fn normalize_email(raw: &str) -> Option<String> {
    email(raw).ok().flatten()
}

fn email(raw: &str) -> Result<Option<String>, String> {
    let value = raw.trim().to_lowercase();
    if value.is_empty() {
        return Ok(None);
    }
    // The library accepts "a@localhost"; a reachable prospect needs a dotted domain.
    let dotted_domain = value.rsplit_once('@').is_some_and(|(_, domain)| domain.contains('.'));
    if !email_address::EmailAddress::is_valid(&value) || !dotted_domain {
        return Err(format!("'{}' is not a valid email address", raw.trim()));
    }
    Ok(Some(value))
}

fn phone(raw: &str, default_region: &str) -> Result<String, String> {
    if raw.trim().is_empty() {
        return Err("is required".into());
    }
    normalize_phone(raw, default_region).map_err(|e| e.to_string())
}

fn timezone(raw: &str) -> Result<Option<String>, String> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    parse_tz(raw).map(|tz| Some(tz.name().to_string())).ok_or_else(|| {
        format!(
            "'{}' is not a known time zone (use an IANA name such as America/New_York)",
            raw.trim()
        )
    })
}

fn enum_or<T>(raw: &str, default: T) -> Result<T, String>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    if raw.trim().is_empty() {
        return Ok(default);
    }
    raw.parse().map_err(|e: T::Err| e.to_string())
}

fn lead_score(raw: &str) -> Result<i16, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(0);
    }
    match raw.parse::<i16>() {
        Ok(score) if (0..=100).contains(&score) => Ok(score),
        _ => Err(format!("'{raw}' must be a whole number from 0 to 100")),
    }
}

/// Accepts a fraction ("0.35") or a percentage ("35%").
fn probability(raw: &str) -> Result<f64, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(0.0);
    }
    let parsed = match raw.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => raw.parse::<f64>(),
    };
    match parsed {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "'{raw}' must be a number from 0 to 1 or a percentage such as 35%"
        )),
    }
}

const TRUE_WORDS: &[&str] = &["true", "yes", "y", "1", "x"];
const FALSE_WORDS: &[&str] = &["", "false", "no", "n", "0"];

/// Yes/no columns come from spreadsheets in many spellings; anything unrecognised is an error
/// rather than a guess, because these flags carry consent and do-not-call decisions.
fn flag(raw: &str) -> Result<bool, String> {
    let value = raw.trim().to_lowercase();
    if TRUE_WORDS.contains(&value.as_str()) {
        Ok(true)
    } else if FALSE_WORDS.contains(&value.as_str()) {
        Ok(false)
    } else {
        Err(format!(
            "'{}' is not yes or no (use true/false, yes/no, y/n, 1/0 or x)",
            raw.trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn valid_input() -> LeadInput {
        LeadInput {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            phone: "(415) 555-0123".into(),
            company: "Analytical Engines Ltd".into(),
            ..LeadInput::default()
        }
    }

    /// Validates `valid_input()` changed by `edit` and returns the error fields.
    fn errors_after(edit: impl FnOnce(&mut LeadInput)) -> Vec<&'static str> {
        let mut input = valid_input();
        edit(&mut input);
        match input.validate("US") {
            Ok(_) => vec![],
            Err(ValidationErrors(errs)) => errs.iter().map(|e| e.field).collect(),
        }
    }

    fn validated(edit: impl FnOnce(&mut LeadInput)) -> LeadFields {
        let mut input = valid_input();
        edit(&mut input);
        input.validate("US").expect("input should be valid")
    }

    fn message_for(edit: impl FnOnce(&mut LeadInput), field: &str) -> String {
        let mut input = valid_input();
        edit(&mut input);
        let errs = input.validate("US").unwrap_err().0;
        errs.into_iter()
            .find(|e| e.field == field)
            .expect("field should fail")
            .message
    }

    #[test]
    fn minimal_input_gets_defaults() {
        let f = validated(|_| {});
        assert_eq!(f.first_name, "Ada");
        assert_eq!(f.phone, "+14155550123");
        assert_eq!(f.email, None);
        assert_eq!(f.status, LeadStatus::New);
        assert_eq!(f.priority, Priority::Medium);
        assert_eq!(f.lead_score, 0);
        assert_eq!(f.conversion_probability, 0.0);
        assert!(!f.consent_given && !f.do_not_call && !f.do_not_email);
    }

    #[test]
    fn names() {
        assert_eq!(validated(|i| i.first_name = "  Zoë ".into()).first_name, "Zoë");
        // 50 multi-byte characters are fine; 51 are not.
        assert_eq!(errors_after(|i| i.last_name = "é".repeat(50)), [] as [&str; 0]);
        assert_eq!(
            message_for(|i| i.last_name = "é".repeat(51), "last_name"),
            "must be at most 50 characters"
        );
        assert_eq!(message_for(|i| i.first_name = "  ".into(), "first_name"), "is required");
        assert_eq!(
            message_for(|i| i.first_name = "A\u{7}da".into(), "first_name"),
            "contains control characters"
        );
    }

    #[test]
    fn email_rules() {
        let f = validated(|i| i.email = " Ada@Example.COM ".into());
        assert_eq!(f.email.as_deref(), Some("ada@example.com"));
        assert_eq!(errors_after(|i| i.email = "ada@localhost".into()), ["email"]);
        assert_eq!(errors_after(|i| i.email = "not an email".into()), ["email"]);
        assert_eq!(errors_after(|i| i.email = "a@b@c.com".into()), ["email"]);
    }

    #[test]
    fn phone_rules() {
        assert_eq!(errors_after(|i| i.phone = String::new()), ["phone"]);
        assert_eq!(message_for(|i| i.phone = " ".into(), "phone"), "is required");
        assert_eq!(
            message_for(|i| i.phone = "123".into(), "phone"),
            "'123' is not a valid phone number for region US"
        );
        let f = validated(|i| i.phone = "+44 20 7946 0958".into());
        assert_eq!(f.phone, "+442079460958");
    }

    #[test]
    fn company_and_title() {
        assert_eq!(errors_after(|i| i.company = String::new()), ["company"]);
        assert_eq!(errors_after(|i| i.company = "c".repeat(101)), ["company"]);
        assert_eq!(errors_after(|i| i.company = "c".repeat(100)), [] as [&str; 0]);
        assert_eq!(errors_after(|i| i.company = "Acme\r".into()), [] as [&str; 0]);
        assert_eq!(errors_after(|i| i.company = "Ac\rme".into()), ["company"]);
        assert_eq!(validated(|i| i.title = " CTO ".into()).title.as_deref(), Some("CTO"));
        assert_eq!(errors_after(|i| i.title = "t".repeat(101)), ["title"]);
    }

    #[test]
    fn timezone_rules() {
        let f = validated(|i| i.timezone = "america/new_york".into());
        assert_eq!(f.timezone.as_deref(), Some("America/New_York"));
        let msg = message_for(|i| i.timezone = "Eastern".into(), "timezone");
        assert!(msg.contains("America/New_York"), "{msg}");
    }

    #[test]
    fn status_and_priority() {
        let f = validated(|i| {
            i.status = "Closed Won".into();
            i.priority = "HIGH".into();
        });
        assert_eq!((f.status, f.priority), (LeadStatus::ClosedWon, Priority::High));
        let msg = message_for(|i| i.status = "foo".into(), "status");
        assert!(msg.starts_with("unknown status 'foo' (expected one of: new,"), "{msg}");
        let msg = message_for(|i| i.priority = "meh".into(), "priority");
        assert!(msg.contains("low, medium, high, urgent"), "{msg}");
    }

    #[test]
    fn score_and_probability() {
        assert_eq!(validated(|i| i.lead_score = " 85 ".into()).lead_score, 85);
        for bad in ["101", "-1", "8.5", "lots"] {
            assert_eq!(errors_after(|i| i.lead_score = bad.into()), ["lead_score"], "{bad}");
        }
        for (text, p) in [("0.35", 0.35), ("35%", 0.35), ("100 %", 1.0), ("0", 0.0)] {
            let f = validated(|i| i.conversion_probability = text.into());
            assert_eq!(f.conversion_probability, p, "{text}");
        }
        for bad in ["35", "1.01", "-0.1", "NaN", "inf", "abc%"] {
            let field = errors_after(|i| i.conversion_probability = bad.into());
            assert_eq!(field, ["conversion_probability"], "{bad}");
        }
    }

    #[test]
    fn source_and_notes() {
        assert_eq!(errors_after(|i| i.source = "s".repeat(101)), ["source"]);
        let f = validated(|i| i.notes = "line one\r\n\tline two".into());
        assert_eq!(f.notes.as_deref(), Some("line one\n\tline two"));
        // A Salesforce description (up to 32,000 characters) fits; 65,536 characters is the limit.
        assert_eq!(errors_after(|i| i.notes = "n".repeat(32_000)), Vec::<&str>::new());
        assert_eq!(errors_after(|i| i.notes = "é".repeat(NOTES_MAX)), Vec::<&str>::new());
        assert_eq!(errors_after(|i| i.notes = "n".repeat(NOTES_MAX + 1)), ["notes"]);
        assert_eq!(errors_after(|i| i.notes = "bell\u{7}".into()), ["notes"]);
    }

    #[test]
    fn booleans() {
        for yes in ["true", "YES", "y", "1", "X", " Yes "] {
            assert!(validated(|i| i.consent_given = yes.into()).consent_given, "{yes}");
        }
        for no in ["", "false", "No", "n", "0"] {
            assert!(!validated(|i| i.do_not_call = no.into()).do_not_call, "{no}");
        }
        assert_eq!(errors_after(|i| i.do_not_email = "maybe".into()), ["do_not_email"]);
    }

    #[test]
    fn all_errors_are_reported() {
        let input = LeadInput {
            email: "nope".into(),
            lead_score: "200".into(),
            consent_given: "perhaps".into(),
            ..LeadInput::default()
        };
        let err = input.validate("US").unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "first_name",
                "last_name",
                "email",
                "phone",
                "company",
                "lead_score",
                "consent_given"
            ]
        );
        assert!(err
            .to_string()
            .starts_with("first_name: is required; last_name: is required; email: "));
    }

    #[test]
    fn quality_and_keys() {
        let bare = validated(|_| {});
        assert_eq!(bare.data_quality(), QUALITY_BASE);
        let full = validated(|i| {
            i.email = "ada@example.com".into();
            i.title = "CTO".into();
            i.timezone = "Europe/London".into();
            i.source = "fair".into();
            i.notes = "met at the fair".into();
            i.consent_given = "yes".into();
        });
        assert_eq!(full.data_quality(), 100);
        let weights: i16 = QUALITY_WEIGHTS.iter().map(|(_, w, _)| w).sum();
        assert_eq!(QUALITY_BASE + weights, 100);
        assert_eq!(
            full.duplicate_keys(),
            DuplicateKeys {
                phone: "+14155550123".into(),
                email: Some("ada@example.com".into())
            }
        );
    }

    fn text(max: usize) -> impl Strategy<Value = String> {
        // Starts and ends with a visible character so the value is already trimmed.
        let body = format!("[a-zA-ZÀ-ÿ0-9]([a-zA-ZÀ-ÿ0-9 '.,&-]{{0,{}}}[a-zA-ZÀ-ÿ0-9])?", max - 2);
        proptest::string::string_regex(&body).unwrap()
    }

    fn phone_number() -> impl Strategy<Value = String> {
        prop_oneof![
            "[2-9][0-8][0-9][2-9][0-9]{6}".prop_map(|d| (d, "US")),
            "20[0-9]{8}".prop_map(|d| (format!("+44{d}"), "GB")),
            "30[0-9]{5,8}".prop_map(|d| (format!("+49{d}"), "DE")),
        ]
        .prop_filter_map("valid number", |(d, region)| normalize_phone(&d, region).ok())
    }

    fn lead_fields() -> impl Strategy<Value = LeadFields> {
        let zones: Vec<String> = chrono_tz::TZ_VARIANTS.iter().map(|t| t.name().into()).collect();
        let people = (
            text(NAME_MAX),
            text(NAME_MAX),
            proptest::option::of(
                "[a-z0-9+_-]{1,10}(\\.[a-z0-9+_-]{1,10})?@[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?\\.[a-z]{2,6}",
            ),
            phone_number(),
            text(COMPANY_MAX),
            proptest::option::of(text(TITLE_MAX)),
            proptest::option::of(prop::sample::select(zones)),
        );
        let sales = (
            prop::sample::select(LeadStatus::ALL.to_vec()),
            prop::sample::select(Priority::ALL.to_vec()),
            0i16..=100,
            0.0f64..=1.0,
            proptest::option::of(text(SOURCE_MAX)),
            proptest::option::of("[a-z]([a-z .\n\t]{0,300}[a-z])?"),
            any::<(bool, bool, bool)>(),
        );
        (people, sales).prop_map(|(p, s)| LeadFields {
            first_name: p.0,
            last_name: p.1,
            email: p.2,
            phone: p.3,
            company: p.4,
            title: p.5,
            timezone: p.6,
            status: s.0,
            priority: s.1,
            lead_score: s.2,
            conversion_probability: s.3,
            source: s.4,
            notes: s.5,
            consent_given: s.6 .0,
            do_not_call: s.6 .1,
            do_not_email: s.6 .2,
        })
    }

    proptest! {
        #[test]
        fn round_trip(fields in lead_fields()) {
            prop_assert_eq!(fields.to_input().validate("US"), Ok(fields));
        }

        #[test]
        fn quality_in_range_and_monotone(fields in lead_fields(), which in 0usize..6) {
            let before = fields.data_quality();
            prop_assert!((0..=100).contains(&before));
            let mut more = fields.clone();
            match which {
                0 => more.email = Some("ada@example.com".into()),
                1 => more.title = Some("CTO".into()),
                2 => more.timezone = Some("Europe/Paris".into()),
                3 => more.source = Some("referral".into()),
                4 => more.notes = Some("warm".into()),
                _ => more.consent_given = true,
            }
            prop_assert!(more.data_quality() >= before);
        }
    }
}
