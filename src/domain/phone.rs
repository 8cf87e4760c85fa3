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

    /// One example number of the shipped metadata: its territory, the territory's country
    /// calling code, the kind of number it exemplifies (the element it sits in: fixedLine,
    /// mobile, tollFree, …) and the national significant number.
    struct Example {
        region: String,
        code: String,
        kind: String,
        national: String,
    }

    /// Every territory's example numbers of each kind the metadata gives one for, as the shipped
    /// data has them.
    fn example_numbers() -> Vec<Example> {
        let xml = include_str!("../../data/PhoneNumberMetadata.xml");
        let mut out = Vec::new();
        for territory in xml.split("<territory id=\"").skip(1) {
            let region = territory.split('"').next().unwrap_or_default().to_string();
            let opening = territory.split('>').next().unwrap_or_default();
            let code = opening
                .split("countryCode=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_default()
                .to_string();
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
                let national = after
                    .split("</exampleNumber>")
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                out.push(Example {
                    region: region.clone(),
                    code: code.clone(),
                    kind,
                    national,
                });
                rest = after;
            }
        }
        out
    }

    /// libphonenumber's number type for the metadata element an example number sits in (None
    /// for `noInternationalDialling`, which is a range, not a type).
    fn kind_type(kind: &str) -> Option<phonenumber::Type> {
        use phonenumber::Type;
        Some(match kind {
            "fixedLine" => Type::FixedLine,
            "mobile" => Type::Mobile,
            "tollFree" => Type::TollFree,
            "premiumRate" => Type::PremiumRate,
            "sharedCost" => Type::SharedCost,
            "personalNumber" => Type::PersonalNumber,
            "voip" => Type::Voip,
            "pager" => Type::Pager,
            "uan" => Type::Uan,
            "voicemail" => Type::Voicemail,
            _ => return None,
        })
    }

    /// libphonenumber's own rules over the shipped metadata, written here from its
    /// PhoneNumberUtil (`getNumberTypeHelper`, `isNumberMatchingDesc`,
    /// `getRegionCodeForNumberFromRegionList`) rather than taken from the `phonenumber` crate
    /// coldcall parses with: a pattern must match the whole national number (Java's
    /// `matches()`), a range's possible lengths bound it, leading digits match at the start.
    /// The verdict coldcall is held to.
    struct Libphonenumber {
        compiled: std::cell::RefCell<std::collections::HashMap<String, regex::Regex>>,
    }

    impl Libphonenumber {
        fn new() -> Self {
            Libphonenumber {
                compiled: Default::default(),
            }
        }

        /// Whether `pattern` (the metadata's free-spaced form) matches `text` whole, or its start
        /// when `whole` is false.
        fn matches(&self, pattern: &str, text: &str, whole: bool) -> bool {
            let anchored = format!("^(?:{pattern}){}", if whole { "$" } else { "" });
            let mut compiled = self.compiled.borrow_mut();
            let re = compiled.entry(anchored.clone()).or_insert_with(|| {
                regex::RegexBuilder::new(&anchored)
                    .ignore_whitespace(true)
                    .build()
                    .expect("a metadata pattern compiles")
            });
            re.is_match(text)
        }

        fn desc_matches(&self, desc: Option<&phonenumber::metadata::Descriptor>, nsn: &str) -> bool {
            desc.is_some_and(|d| {
                let lengths = d.possible_length();
                (lengths.is_empty() || lengths.contains(&(nsn.len() as u16)))
                    && self.matches(d.national_number().as_str(), nsn, true)
            })
        }

        fn number_type(&self, meta: &phonenumber::Metadata, nsn: &str) -> phonenumber::Type {
            use phonenumber::Type;
            let d = meta.descriptors();
            if !self.desc_matches(Some(d.general()), nsn) {
                return Type::Unknown;
            }
            let kinds = [
                (d.premium_rate(), Type::PremiumRate),
                (d.toll_free(), Type::TollFree),
                (d.shared_cost(), Type::SharedCost),
                (d.voip(), Type::Voip),
                (d.personal_number(), Type::PersonalNumber),
                (d.pager(), Type::Pager),
                (d.uan(), Type::Uan),
                (d.voicemail(), Type::Voicemail),
            ];
            if let Some((_, kind)) = kinds.into_iter().find(|(desc, _)| self.desc_matches(*desc, nsn)) {
                return kind;
            }
            let same = d.fixed_line().map(|f| f.national_number().as_str())
                == d.mobile().map(|m| m.national_number().as_str());
            if self.desc_matches(d.fixed_line(), nsn) {
                return if same || self.desc_matches(d.mobile(), nsn) {
                    Type::FixedLineOrMobile
                } else {
                    Type::FixedLine
                };
            }
            if !same && self.desc_matches(d.mobile(), nsn) {
                return Type::Mobile;
            }
            Type::Unknown
        }

        /// The region libphonenumber files a number under: the only region of its calling code,
        /// or the first (the main country, then the rest in code order) whose leading digits
        /// begin it or, with none, that holds it valid.
        fn region(&self, code: u16, nsn: &str) -> Option<String> {
            let mut regions = METADATA.region(&code)?;
            if regions.len() == 1 {
                return Some(regions[0].to_string());
            }
            regions.sort_by_key(|id| (!METADATA.by_id(*id).is_some_and(|m| m.is_main_country_for_code()), *id));
            regions
                .into_iter()
                .find(|id| {
                    let meta = METADATA.by_id(*id).expect("the region's metadata");
                    match meta.leading_digits() {
                        Some(leading) => self.matches(leading.as_str(), nsn, false),
                        None => self.number_type(meta, nsn) != phonenumber::Type::Unknown,
                    }
                })
                .map(str::to_string)
        }
    }

    /// Where coldcall's reading of one writing of a number departs from libphonenumber's (that
    /// it is `expected` in E.164, valid, filed under `region`), if it does.
    fn disagreement(written: &str, dialled_from: &str, expected: &str, region: &str) -> Option<String> {
        let e164 = match normalize_phone(written, dialled_from) {
            Ok(e164) => e164,
            Err(e) => return Some(format!("'{written}' from {dialled_from} refused ({e})")),
        };
        if e164 != expected {
            return Some(format!("'{written}' from {dialled_from} read as {e164}"));
        }
        let Some(number) = parse(None, &e164) else {
            return Some(format!("{e164} not valid once stored"));
        };
        let filed = number.metadata(&METADATA).map(|m| m.id().to_string());
        (filed.as_deref() != Some(region)).then(|| format!("{e164} filed under {filed:?}, not {region}"))
    }

    /// The agreement measure. libphonenumber's verdict on each region's example number of each
    /// type is that it is valid for that region and of that type (its ExampleNumbersTest checks
    /// this; here its rules, above, confirm it on the shipped metadata), and it files the number
    /// under one region. An example agrees when coldcall reads it, both as the national
    /// significant number dialled from its region and written in E.164, as that E.164 number,
    /// holds it valid, and its parser files it under the same region. The figure is in README
    /// beside the metadata release.
    #[test]
    fn coldcall_agrees_with_libphonenumber_on_every_regions_example_numbers() {
        let lib = Libphonenumber::new();
        // Non-geographic entities (001) have no region to dial from.
        let examples: Vec<(Example, phonenumber::Type)> = example_numbers()
            .into_iter()
            .filter(|e| e.region != "001")
            .filter_map(|e| kind_type(&e.kind).map(|t| (e, t)))
            .collect();
        let regions: std::collections::BTreeSet<&str> = examples.iter().map(|(e, _)| e.region.as_str()).collect();
        let mut disagreements = Vec::new();
        for (e, kind) in &examples {
            let meta = METADATA.by_id(e.region.as_str()).expect("the region's metadata");
            let code: u16 = e.code.parse().expect("a calling code");
            assert_eq!(meta.country_code(), code, "{}", e.region);
            // libphonenumber's verdict: valid for its region, of its type.
            let typed = lib.number_type(meta, &e.national);
            use phonenumber::Type;
            let of_kind =
                typed == *kind || (typed == Type::FixedLineOrMobile && matches!(kind, Type::FixedLine | Type::Mobile));
            assert!(
                of_kind,
                "{} {} {}: libphonenumber's rules type it {typed:?}",
                e.region, e.kind, e.national
            );
            let region = lib
                .region(code, &e.national)
                .expect("libphonenumber files every example");
            let expected = format!("+{}{}", e.code, e.national);
            let why: Vec<String> = [
                disagreement(&e.national, &e.region, &expected, &region),
                disagreement(&expected, "US", &expected, &region),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !why.is_empty() {
                disagreements.push(format!("{} {} {}: {}", e.region, e.kind, e.national, why.join("; ")));
            }
        }
        let agree = examples.len() - disagreements.len();
        eprintln!(
            "metadata {METADATA_RELEASE}: coldcall agrees with libphonenumber on {agree} of {} example numbers of {} regions; disagreements:\n{}",
            examples.len(),
            regions.len(),
            disagreements.join("\n")
        );
        assert_eq!(regions.len(), 245, "regions with example numbers");
        assert_eq!(
            (agree, examples.len()),
            AGREEMENT,
            "disagreements:\n{}",
            disagreements.join("\n")
        );
        assert_eq!(normalize_phone("262161234", "RE").unwrap(), "+262262161234");
        assert_eq!(normalize_phone("250123456", "RW").unwrap(), "+250250123456");
    }

    /// coldcall agrees with libphonenumber on this many of this many example numbers (README says
    /// the same beside the metadata release). The 12 it does not: ten service numbers whose
    /// national number begins with the country's own national prefix (8 in Belarus, Kazakhstan,
    /// Lithuania and Russia: 8-800 toll free and the like), which the `phonenumber` parser strips
    /// even from a number written in E.164, so they are refused; and two fixed lines of Italy and
    /// the Vatican, stored right and valid, that the crate files under no region (it drops the
    /// leading 0 of the national number when choosing among the regions of +39).
    const AGREEMENT: (usize, usize) = (1120, 1132);

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
