//! Phone number normalisation to E.164.
//!
//! Every number is stored as E.164 so that duplicates are found and the do-not-call list
//! matches no matter how the number was typed.

use phonenumber::country::Id;
use phonenumber::metadata::Database;
use std::str::FromStr;
use std::sync::LazyLock;

/// The release of libphonenumber's metadata `data/PhoneNumberMetadata.xml` is, as published.
pub const METADATA_RELEASE: &str = "9.0.35";

/// libphonenumber's metadata, shipped as data: newer than what the `phonenumber` crate's
/// newest release carries (9.0.33). Parsed once, on the first number.
static METADATA: LazyLock<Database> = LazyLock::new(|| {
    Database::parse(include_str!("../../data/PhoneNumberMetadata.xml"))
        .expect("the shipped phone metadata parses (a test loads it)")
});

fn parse(region: Option<Id>, text: &str) -> Option<phonenumber::PhoneNumber> {
    phonenumber::parse_with(&METADATA, region, text)
        .ok()
        .filter(|n| phonenumber::is_valid_with(&METADATA, n))
}

fn format(number: &phonenumber::PhoneNumber, mode: phonenumber::Mode) -> String {
    number.format().database(&METADATA).mode(mode).to_string()
}

/// Why a phone number could not be normalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("phone number is empty")]
    Empty,
    #[error("'{0}' is not a known region code (use a two-letter code such as US, GB or DE)")]
    UnknownRegion(String),
    /// `region` is the country the number was read as dialled from: only for a number written
    /// without its country code, since one written with it is judged on its own.
    #[error("'{input}' is not a valid phone number{}", .region.as_ref().map(|r| format!(" for region {r}")).unwrap_or_default())]
    Invalid { input: String, region: Option<String> },
}

/// Words that start an extension; longest first so "extension" is not read as "ext" + "ension".
const EXTENSION_MARKERS: &[&str] = &["extension", "ext.", "ext", "x", "#"];

/// Characters people use to group digits; anything else (letters, symbols) makes the number invalid.
fn is_grouping(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '.' | '(' | ')' | '/')
}

/// Parses `input` as dialled from `default_region` and returns it in E.164 form ("+14155550123").
///
/// Extensions ("ext. 12", "x12", "#12") are dropped: the dialer cannot use them and they must not
/// make two writings of the same line look different.
pub fn normalize_phone(input: &str, default_region: &str) -> Result<String, PhoneError> {
    let region = default_region.trim().to_ascii_uppercase();
    let region_id = Id::from_str(&region).map_err(|_| PhoneError::UnknownRegion(default_region.to_string()))?;

    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Empty);
    }
    // A number written with its country code ("+34 …", "0034 …") does not depend on the region.
    let international = trimmed.starts_with('+') || trimmed.starts_with("00");
    let invalid = || PhoneError::Invalid {
        input: trimmed.to_string(),
        region: (!international).then(|| region.clone()),
    };

    let main = strip_extension(trimmed).ok_or_else(invalid)?;
    let main = main.trim_end_matches(is_grouping);
    // Only digits, grouping characters and one leading '+' may remain; this rejects letters,
    // which the parser would otherwise turn into digits as on a phone keypad.
    let body = main.strip_prefix('+').unwrap_or(main);
    if !body.chars().all(|c| c.is_ascii_digit() || is_grouping(c)) {
        return Err(invalid());
    }
    // "00" is the international prefix in most of the world; accept it whatever the region.
    let main = match main.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => main.to_string(),
    };

    // A number that carries its own country code is parsed without the default region: the
    // parser would otherwise apply that region's national-prefix rules to a foreign number
    // (with US, "+91 1120000000" would lose its leading 1 and fail).
    let region_hint = (!main.starts_with('+')).then_some(region_id);
    // A national number that begins with its own country's calling code (Réunion's 262…,
    // Rwanda's 250…) is read by the parser as if the code had been dialled; written with the
    // national prefix it is read as meant.
    let number = parse(region_hint, &main)
        .or_else(|| {
            let prefix = region_hint.and_then(|_| METADATA.by_id(region.as_str())?.national_prefix())?;
            parse(region_hint, &format!("{prefix}{main}"))
        })
        .ok_or_else(invalid)?;
    let e164 = format(&number, phonenumber::Mode::E164);
    // Some numbers are valid only inside their country (Brazil's 0900 premium lines, for one):
    // written in E.164 they no longer parse as valid, so the stored number would be refused on
    // its next edit and never match the do-not-call list. Keep only numbers that survive it.
    match parse(None, &e164) {
        Some(_) => Ok(e164),
        None => Err(invalid()),
    }
}

/// An E.164 number grouped the way it is dialled internationally ("+44 20 7946 0958"), for
/// reading off a screen; anything unparseable is returned as it is.
pub fn format_international(e164: &str) -> String {
    phonenumber::parse_with(&METADATA, None, e164)
        .map(|n| format(&n, phonenumber::Mode::International))
        .unwrap_or_else(|_| e164.to_string())
}

/// Splits off a trailing extension. Returns `None` when a marker is followed by something
/// other than digits, since then the input is not a phone number with an extension.
fn strip_extension(input: &str) -> Option<&str> {
    let lower = input.to_ascii_lowercase();
    let Some((at, marker)) = EXTENSION_MARKERS
        .iter()
        .filter_map(|m| lower.find(m).map(|at| (at, *m)))
        .min_by_key(|(at, m)| (*at, std::cmp::Reverse(m.len())))
    else {
        return Some(input);
    };
    // `to_ascii_lowercase` keeps byte offsets, so `at` is valid in `input` too.
    let ext = input[at + marker.len()..].trim_start_matches([' ', '.', ':']);
    let ext_ok = !ext.is_empty() && ext.len() <= 7 && ext.chars().all(|c| c.is_ascii_digit());
    ext_ok.then_some(&input[..at])
}

#[cfg(test)]
mod tests {

    /// Every territory's example numbers of each kind the metadata gives one for (fixed line,
    /// mobile, toll free, …), as the shipped data has them: (region, kind, national number).
    fn example_numbers() -> Vec<(String, String, String)> {
        let xml = include_str!("../../data/PhoneNumberMetadata.xml");
        let mut out = Vec::new();
        for territory in xml.split("<territory id=\"").skip(1) {
            let region = territory.split('"').next().unwrap_or_default().to_string();
            let territory = territory.split("</territory>").next().unwrap_or_default();
            let mut rest = territory;
            while let Some(at) = rest.find("<exampleNumber>") {
                // The kind is the element the example sits in: the last one opened before it.
                let before = &rest[..at];
                let kind = before
                    .rfind("\n      <")
                    .map(|i| before[i + 8..].split(['>', ' ']).next().unwrap_or_default().to_string())
                    .unwrap_or_default();
                let after = &rest[at + "<exampleNumber>".len()..];
                let example = after
                    .split("</exampleNumber>")
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                out.push((region.clone(), kind, example));
                rest = after;
            }
        }
        out
    }

    #[test]
    fn the_shipped_metadata_loads_and_every_regions_example_numbers_normalise() {
        // Non-geographic entities (001) have no region to dial from; numbers that cannot be
        // dialled from abroad are not what a floor calls.
        let examples: Vec<_> = example_numbers()
            .into_iter()
            .filter(|(region, kind, _)| region != "001" && kind != "noInternationalDialling")
            .collect();
        let regions: std::collections::BTreeSet<&str> = examples.iter().map(|(r, _, _)| r.as_str()).collect();
        assert!(regions.len() >= 240, "{} regions", regions.len());
        let refused: Vec<String> = examples
            .iter()
            .filter(|(region, _, national)| normalize_phone(national, region).is_err())
            .map(|(region, kind, national)| format!("{region} {kind} {national}"))
            .collect();
        eprintln!(
            "metadata {METADATA_RELEASE}: {} of {} example numbers of {} regions normalise; refused: {refused:?}",
            examples.len() - refused.len(),
            examples.len(),
            regions.len()
        );
        // The one known gap: a national number that begins with its country's own national
        // prefix (Russia's 8-800 toll-free lines) loses that digit in the `phonenumber` parser,
        // even written in E.164. Such service numbers are not what a floor calls; anything else
        // refused is a regression.
        for (region, _, national) in examples
            .iter()
            .filter(|(region, _, national)| normalize_phone(national, region).is_err())
        {
            let meta = METADATA.by_id(region.as_str()).expect("the region's metadata");
            let begins_with_prefix = meta
                .national_prefix_for_parsing()
                .and_then(|prefix| prefix.find(national))
                .is_some_and(|found| found.start() == 0)
                || meta.national_prefix().is_some_and(|p| national.starts_with(p));
            assert!(
                begins_with_prefix,
                "{region} {national} is refused, and it does not begin with a national prefix"
            );
        }
        assert!(refused.len() <= 10, "refused: {refused:?}");
        assert_eq!(normalize_phone("262161234", "RE").unwrap(), "+262262161234");
        assert_eq!(normalize_phone("250123456", "RW").unwrap(), "+250250123456");
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_common_writings() {
        let us = "+14155550123";
        for input in [
            "(415) 555-0123",
            "415.555.0123",
            "415-555-0123",
            "4155550123",
            "+1 415 555 0123",
            "1 (415) 555-0123",
            "  415 555 0123  ",
            "415-555-0123 ext. 42",
            "415-555-0123 x42",
            "415-555-0123 #42",
            "415-555-0123 extension 42",
        ] {
            assert_eq!(normalize_phone(input, "US").as_deref(), Ok(us), "{input}");
        }
        let gb = "+442079460958";
        for input in ["+44 20 7946 0958", "00 44 20 7946 0958", "020 7946 0958"] {
            assert_eq!(normalize_phone(input, "GB").as_deref(), Ok(gb), "{input}");
        }
        // The 00 prefix also works from a region whose own international prefix differs.
        assert_eq!(normalize_phone("00 44 20 7946 0958", "US").as_deref(), Ok(gb));
        assert_eq!(normalize_phone("030 123456", "de").as_deref(), Ok("+4930123456"));
    }

    #[test]
    fn rejects_bad_input() {
        for input in [
            "123",
            "415-555-CALL",
            "abc",
            "4155550123456789012",
            "+1 415 555 0123 ext. ab",
            "++14155550123",
        ] {
            assert!(normalize_phone(input, "US").is_err(), "{input}");
        }
        assert_eq!(normalize_phone("", "US"), Err(PhoneError::Empty));
        assert_eq!(normalize_phone("   ", "US"), Err(PhoneError::Empty));
    }

    #[test]
    fn error_messages_are_clear() {
        assert_eq!(
            normalize_phone("123", "US").unwrap_err().to_string(),
            "'123' is not a valid phone number for region US"
        );
        for input in ["+34 91 12", "0034 91 12", "+1 415 555 01"] {
            assert_eq!(
                normalize_phone(input, "US").unwrap_err().to_string(),
                format!("'{input}' is not a valid phone number"),
                "a number with its country code is not judged for region US"
            );
        }
        assert_eq!(
            normalize_phone("4155550123", "ZZ"),
            Err(PhoneError::UnknownRegion("ZZ".into()))
        );
    }

    /// Ten-digit North American numbers with plausible area codes and exchanges.
    fn us_digits() -> impl Strategy<Value = String> {
        "[2-9][0-8][0-9][2-9][0-9]{6}"
    }

    fn region() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["US", "GB", "DE", "FR", "AU", "IN", "BR", "JP"])
    }

    #[test]
    fn a_number_valid_only_inside_its_country_is_refused() {
        assert!(matches!(
            normalize_phone("0900000000", "BR"),
            Err(PhoneError::Invalid { .. })
        ));
    }

    proptest! {
        #[test]
        fn normalising_is_idempotent(digits in "[0-9]{6,12}", region in region(), other in region()) {
            if let Ok(e164) = normalize_phone(&digits, region) {
                prop_assert_eq!(normalize_phone(&e164, region), Ok(e164.clone()));
                prop_assert_eq!(normalize_phone(&e164, other), Ok(e164));
            }
        }

        #[test]
        fn us_numbers_are_idempotent(d in us_digits()) {
            if let Ok(e164) = normalize_phone(&d, "US") {
                prop_assert_eq!(normalize_phone(&e164, "US"), Ok(e164));
            }
        }

        #[test]
        fn output_is_plus_and_digits(input in "[+]?[0-9 ().-]{0,20}", region in region()) {
            if let Ok(e164) = normalize_phone(&input, region) {
                prop_assert!(e164.starts_with('+'));
                prop_assert!(e164[1..].chars().all(|c| c.is_ascii_digit()));
                // E.164 allows at most 15 digits; some countries' numbers are short
                // (Germany's "+49 1640" is a whole number), so only the upper bound is a rule.
                prop_assert!((4..=16).contains(&e164.len()), "{}", e164);
            }
        }

        #[test]
        fn formats_agree(d in us_digits()) {
            let (a, b, c) = (&d[..3], &d[3..6], &d[6..]);
            let writings = [
                format!("{a}{b}{c}"),
                format!("{a} {b} {c}"),
                format!("{a}-{b}-{c}"),
                format!("{a}.{b}.{c}"),
                format!("({a}) {b}-{c}"),
                format!("+1 {a} {b} {c}"),
                format!("1-{a}-{b}-{c}"),
                format!("+1 ({a}) {b}.{c}"),
            ];
            // Compare only the outcome: error messages quote the input, which differs on purpose.
            let first = normalize_phone(&writings[0], "US").ok();
            for w in &writings[1..] {
                prop_assert_eq!(&normalize_phone(w, "US").ok(), &first, "{}", w);
            }
        }
    }
}
