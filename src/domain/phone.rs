//! Phone number normalisation to E.164.
//!
//! Every number is stored as E.164 so that duplicates are found and the do-not-call list
//! matches no matter how the number was typed.

use phonenumber::country::Id;
use std::str::FromStr;

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
    let number = phonenumber::parse(region_hint, &main).map_err(|_| invalid())?;
    if !phonenumber::is_valid(&number) {
        return Err(invalid());
    }
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    // Some numbers are valid only inside their country (Brazil's 0900 premium lines, for one):
    // written in E.164 they no longer parse as valid, so the stored number would be refused on
    // its next edit and never match the do-not-call list. Keep only numbers that survive it.
    match phonenumber::parse(None, &e164) {
        Ok(again) if phonenumber::is_valid(&again) => Ok(e164),
        _ => Err(invalid()),
    }
}

/// An E.164 number grouped the way it is dialled internationally ("+44 20 7946 0958"), for
/// reading off a screen; anything unparseable is returned as it is.
pub fn format_international(e164: &str) -> String {
    phonenumber::parse(None, e164)
        .map(|n| n.format().mode(phonenumber::Mode::International).to_string())
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
                prop_assert!((8..=16).contains(&e164.len()), "{}", e164);
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
