//! Cells that a spreadsheet would run as a formula.
//!
//! A lead named `=HYPERLINK(...)` or `+cmd|' /C calc'!A0` is harmless in coldcall but runs when
//! an exported file is opened in a spreadsheet (CSV injection). Following OWASP, a cell starting
//! with `=`, `+`, `-`, `@`, a tab or a carriage return is written with a leading `'`, which
//! spreadsheets show as text. Import undoes exactly that, so an export imports back unchanged:
//!
//! - A cell that is only a number (`+14155550123`, `-3`, `0.25`) cannot call anything and is
//!   written as it is, so E.164 phone numbers stay usable in other tools.
//! - A cell that already starts with `'`s followed by a trigger gets one more `'`, and import
//!   removes exactly one, so a value that really starts with `'=` survives the round trip.

const TRIGGERS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

fn starts_with_trigger(text: &str) -> bool {
    text.starts_with(TRIGGERS)
}

/// `+14155550123`, `-3`, `0.25`: digits with an optional sign and one decimal point.
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// True when `cell` must be written with a leading `'`.
pub fn needs_guard(cell: &str) -> bool {
    let unquoted = cell.trim_start_matches('\'');
    if !starts_with_trigger(unquoted) {
        return false;
    }
    // Only a bare number is exempt; "'-3" must keep its apostrophe through a round trip.
    unquoted.len() != cell.len() || !is_plain_number(cell)
}

/// The cell as it is written to an exported CSV file.
pub fn guard(cell: &str) -> std::borrow::Cow<'_, str> {
    if needs_guard(cell) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The cell as read from a CSV file: the `'` that `guard` added is removed.
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if starts_with_trigger(rest.trim_start_matches('\'')) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_are_neutralised() {
        for (cell, written) in [
            ("=1+1", "'=1+1"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tindent", "'\tindent"),
            ("\rreturn", "'\rreturn"),
            ("'=quoted", "''=quoted"),
            ("'-3", "''-3"),
            ("-", "'-"),
            ("+", "'+"),
        ] {
            assert_eq!(guard(cell), written, "{cell:?}");
            assert_eq!(unguard(written), cell, "{written:?}");
        }
    }

    #[test]
    fn plain_values_and_numbers_are_kept() {
        for cell in ["Ada", "+14155550123", "-3", "0.25", "", "'tis the season", "a=b", "5-6"] {
            assert_eq!(guard(cell), cell, "{cell:?}");
            assert_eq!(unguard(cell), cell, "{cell:?}");
        }
    }

    proptest! {
        #[test]
        fn guarded_cells_read_back_unchanged(cell in "['=+@\t\r-]{0,3}[a-z0-9 .'=+-]{0,8}") {
            let written = guard(&cell);
            prop_assert_eq!(unguard(&written), cell.as_str());
            prop_assert!(!starts_with_trigger(&written) || is_plain_number(&written), "{:?}", written);
        }
    }
}
