//! Text from the database shown on a terminal: control characters become spaces, so a lead
//! named with escape codes cannot move the cursor, recolour, clear the screen or write the
//! clipboard (OSC 52); bidirectional overrides and zero-width characters are dropped, so a name
//! cannot display reversed or hide what it really says.

/// Whether `c` reorders or hides text when shown: the bidi embeddings, overrides and isolates,
/// and the zero-width characters.
fn is_deceptive(c: char) -> bool {
    matches!(c,
        '\u{202A}'..='\u{202E}' // embeddings and overrides (U+202E turns text around)
        | '\u{2066}'..='\u{2069}' // isolates
        | '\u{200B}'..='\u{200F}' // zero-width space, joiners, direction marks
        | '\u{2060}' | '\u{FEFF}' // word joiner, zero-width no-break space
    )
}

pub fn printable(text: &str) -> String {
    text.chars()
        .filter(|c| !is_deceptive(*c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A contact point's value as shown: a phone number grouped as it is dialled, as the lead's own
/// number is ("+44 20 7946 0958", not the stored "+442079460958"); anything else as it is.
pub fn contact_value(kind: crate::domain::ContactKind, value: &str) -> String {
    match kind {
        crate::domain::ContactKind::Phone => printable(&crate::domain::phone::format_international(value)),
        _ => printable(value),
    }
}

/// Text of several lines made printable line by line: its line breaks stay.
pub fn printable_lines(text: &str) -> String {
    text.lines().map(printable).collect::<Vec<_>>().join("\n")
}

/// Every string inside a JSON value made printable (for `--json` shown on a terminal).
pub fn printable_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => *s = printable(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(printable_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(printable_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_defused() {
        assert_eq!(printable("Ann\x1b[2J\x07 Lee\r\n"), "Ann [2J  Lee  ");
        assert_eq!(printable("\x1b]52;c;ZXZpbA==\x07"), " ]52;c;ZXZpbA== ");
    }

    #[test]
    fn reversed_and_hidden_text_is_neutralised() {
        assert_eq!(printable("Invoice\u{202E}fdp.exe"), "Invoicefdp.exe");
        assert_eq!(printable("ad\u{200B}min\u{FEFF}"), "admin");
        assert_eq!(printable("Zoë 王"), "Zoë 王");
    }

    #[test]
    fn contact_phones_are_grouped_and_other_contacts_left_as_they_are() {
        use crate::domain::ContactKind;
        assert_eq!(contact_value(ContactKind::Phone, "+442079460958"), "+44 20 7946 0958");
        assert_eq!(contact_value(ContactKind::Phone, "not\x1b a number"), "not  a number");
        assert_eq!(contact_value(ContactKind::Email, "+442079460958"), "+442079460958");
    }

    #[test]
    fn json_strings_are_made_printable_at_any_depth() {
        let mut v = serde_json::json!({ "a": ["x\u{1b}[2J", { "b": "\u{202E}y" }], "n": 1 });
        printable_json(&mut v);
        assert_eq!(v, serde_json::json!({ "a": ["x [2J", { "b": "y" }], "n": 1 }));
    }
}

/// "1 call", "3 calls": a count with its noun (nouns with a plain plural -s).
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod count_tests {
    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(super::count(1, "lead"), "1 lead");
        assert_eq!(super::count(0, "call"), "0 calls");
        assert_eq!(super::count(3, "status change"), "3 status changes");
    }
}
