//! Contact values that are not a lead's own fields: its further contact points (phone, email,
//! address, social) with their labels, and the caller id a call goes out from. Each is one line
//! with no control characters, so a stored value can never move the cursor or clear the screen
//! of whoever reads it; numbers and emails are normalised as a lead's own are, so duplicates
//! and the do-not-call list match however they were typed.

use super::lead::normalize_email;
use super::phone::normalize_phone;
use super::text;
use super::types::ContactKind;

/// The longest label: a word or two ("mobile", "assistant's line"), not a sentence.
pub const LABEL_MAX: usize = 50;
/// The longest caller id as typed: E.164 has at most 15 digits, this leaves room for grouping.
pub const CALLER_ID_MAX: usize = 32;

/// A contact point's value as stored: a phone number in E.164 (read as dialled from `region`),
/// an email in lower case, an address or social handle as one trimmed line.
pub fn value(kind: ContactKind, raw: &str, region: &str) -> Result<String, String> {
    let value = text::line("contact value", Some(raw))?.ok_or("contact value: is required")?;
    match kind {
        ContactKind::Phone => normalize_phone(&value, region).map_err(|e| format!("contact value: {e}")),
        ContactKind::Email => {
            normalize_email(&value).ok_or_else(|| format!("contact value: '{value}' is not a valid email address"))
        }
        ContactKind::Address | ContactKind::Social => Ok(value),
    }
}

/// A contact point's label: one trimmed line of at most `LABEL_MAX` characters; empty is None.
pub fn label(raw: Option<&str>) -> Result<Option<String>, String> {
    let label = text::line("contact label", raw)?;
    if label.as_ref().is_some_and(|l| l.chars().count() > LABEL_MAX) {
        return Err(format!("contact label: at most {LABEL_MAX} characters"));
    }
    Ok(label)
}

/// The caller id a call goes out from, in E.164; empty is None. It must carry its country
/// code: the store has no region to read a national number by, and the carrier is sent E.164.
pub fn caller_id(raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(number) = text::line("caller id", raw)? else {
        return Ok(None);
    };
    if number.chars().count() > CALLER_ID_MAX {
        return Err(format!("caller id: at most {CALLER_ID_MAX} characters"));
    }
    if !(number.starts_with('+') || number.starts_with("00")) {
        return Err(format!(
            "caller id: '{number}' needs its country code, e.g. +14155550100"
        ));
    }
    // The region is never used for a number written with its country code.
    normalize_phone(&number, "US")
        .map(Some)
        .map_err(|e| format!("caller id: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OSC52: &str = "\u{1b}]52;c;ZXZpbA==\u{7}";

    #[test]
    fn values_of_every_kind_refuse_control_characters_by_name() {
        for kind in ContactKind::ALL {
            for hostile in [
                format!("a{OSC52}"),
                "12 Main St\nLondon".to_string(),
                "x\u{0}y".to_string(),
                "\u{1b}[2J".to_string(),
            ] {
                let err = value(*kind, &hostile, "US").unwrap_err();
                assert!(err.starts_with("contact value:"), "{kind:?} {hostile:?}: {err}");
            }
            assert!(value(*kind, "   ", "US").is_err(), "{kind:?}: empty");
        }
    }

    #[test]
    fn values_are_normalised_by_kind() {
        assert_eq!(
            value(ContactKind::Phone, "(415) 555-0123", "US"),
            Ok("+14155550123".into())
        );
        assert_eq!(
            value(ContactKind::Email, " Ada@Example.COM ", "US"),
            Ok("ada@example.com".into())
        );
        assert!(
            value(ContactKind::Email, "ada@localhost", "US").is_err(),
            "as for a lead's email"
        );
        assert_eq!(
            value(ContactKind::Address, "  10 Downing St, London ", "US"),
            Ok("10 Downing St, London".into())
        );
        assert_eq!(value(ContactKind::Social, "@ada", "US"), Ok("@ada".into()));
        let long = "x".repeat(text::LINE_MAX + 1);
        assert!(value(ContactKind::Address, &long, "US").is_err());
    }

    #[test]
    fn labels_are_one_short_line() {
        assert_eq!(label(Some("  mobile ")), Ok(Some("mobile".into())));
        assert_eq!(label(Some("  ")), Ok(None));
        assert_eq!(label(None), Ok(None));
        for hostile in [
            format!("mobile{OSC52}"),
            "home\nwork".into(),
            "a\u{0}".into(),
            "\u{9b}2J".into(),
        ] {
            let err = label(Some(&hostile)).unwrap_err();
            assert!(err.starts_with("contact label:"), "{hostile:?}: {err}");
        }
        assert!(label(Some(&"x".repeat(LABEL_MAX + 1))).is_err());
        assert!(label(Some(&"é".repeat(LABEL_MAX))).is_ok(), "counted in characters");
    }

    #[test]
    fn a_caller_id_is_an_international_number() {
        assert_eq!(caller_id(None), Ok(None));
        assert_eq!(caller_id(Some("  ")), Ok(None));
        assert_eq!(caller_id(Some("+1 (415) 555-0100")), Ok(Some("+14155550100".into())));
        assert_eq!(caller_id(Some("0044 20 7946 0958")), Ok(Some("+442079460958".into())));
        for bad in [
            format!("+14155550100{OSC52}"),
            "+1415\n5550100".to_string(),
            "4155550100".to_string(),
            "+1 555 CALL NOW".to_string(),
            "+99 123".to_string(),
            format!("+1{}", "5".repeat(40)),
        ] {
            let err = caller_id(Some(&bad)).unwrap_err();
            assert!(err.starts_with("caller id:"), "{bad:?}: {err}");
        }
        assert!(caller_id(Some("4155550100")).unwrap_err().contains("country code"));
    }
}
