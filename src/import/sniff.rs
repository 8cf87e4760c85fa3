//! What kind of CSV a file is, judged from its first bytes: the text encoding (UTF-8 with or
//! without a byte-order mark; UTF-16 is refused with what to do) and the delimiter, which
//! spreadsheets pick by locale (comma, semicolon in much of Europe, tab for "text" exports).

/// The delimiters CRM and spreadsheet exports use, in the order a tie is decided.
pub const DELIMITERS: &[u8] = b",;\t|";

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How many leading bytes to skip (a UTF-8 byte-order mark), or why the file cannot be read.
pub fn byte_order_mark(start: &[u8]) -> Result<usize, String> {
    if start.starts_with(UTF8_BOM) {
        return Ok(UTF8_BOM.len());
    }
    if start.starts_with(b"\xFF\xFE") || start.starts_with(b"\xFE\xFF") {
        return Err(
            "the file is UTF-16 text; save it as \"CSV UTF-8\" (or convert it with iconv) and try again".into(),
        );
    }
    Ok(0)
}

/// The delimiter of the header line: the candidate that occurs most often outside quotes.
/// A file with a single column has none of them and reads as comma-separated.
pub fn delimiter(start: &[u8]) -> u8 {
    let mut counts = [0usize; DELIMITERS.len()];
    let mut quoted = false;
    for &b in start {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = DELIMITERS.iter().position(|&d| d == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    // `max_by_key` keeps the last maximum; iterate in reverse so the earlier candidate wins ties.
    DELIMITERS
        .iter()
        .zip(counts)
        .rev()
        .max_by_key(|(_, n)| *n)
        .filter(|(_, n)| *n > 0)
        .map(|(d, _)| *d)
        .unwrap_or(b',')
}

/// Reads a `--delimiter` value: the character itself, or a name for the invisible one.
pub fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        "comma" => Ok(b','),
        "semicolon" => Ok(b';'),
        "pipe" => Ok(b'|'),
        t if t.len() == 1 && t.is_ascii() && !t.starts_with(['"', '\n', '\r']) => Ok(t.as_bytes()[0]),
        t => Err(format!(
            "'{t}' is not a delimiter (use one character such as , or ;, or tab)"
        )),
    }
}

/// The delimiter as people write it.
pub fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "tab".into(),
        d => (d as char).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_header_delimiter() {
        assert_eq!(delimiter(b"First Name,Last Name,Phone\n"), b',');
        assert_eq!(delimiter(b"Vorname;Nachname;Telefon\r\nA;B,C;D"), b';');
        assert_eq!(delimiter(b"a\tb\tc\n"), b'\t');
        assert_eq!(delimiter(b"a|b|c"), b'|');
        // commas inside a quoted header do not count
        assert_eq!(delimiter(b"\"Name, full\";\"Phone, main\";Company\n"), b';');
        assert_eq!(delimiter(b"number\n+14155550123\n"), b',');
        assert_eq!(delimiter(b"a,b;c\n"), b',', "a tie goes to the comma");
    }

    #[test]
    fn byte_order_marks() {
        assert_eq!(byte_order_mark(b"\xEF\xBB\xBFa,b"), Ok(3));
        assert_eq!(byte_order_mark(b"a,b"), Ok(0));
        assert!(byte_order_mark(b"\xFF\xFEa\0").unwrap_err().contains("UTF-16"));
    }

    #[test]
    fn delimiter_flags() {
        assert_eq!(parse_delimiter("tab"), Ok(b'\t'));
        assert_eq!(parse_delimiter(";"), Ok(b';'));
        assert!(parse_delimiter("ab").is_err());
        assert!(parse_delimiter("\"").is_err());
    }
}
