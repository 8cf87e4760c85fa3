//! vCard files (.vcf) as phones and mail clients export them: versions 2.1 (RFC-less, the
//! versit format), 3.0 (RFC 2426) and 4.0 (RFC 6350), several cards a file, folded lines,
//! quoted-printable values with their soft line breaks and character sets, backslash escapes,
//! and Apple's grouped labels (`item1.TEL` with `item1.X-ABLabel`).
//!
//! A file becomes a table with one row per card and the columns of a Google Contacts export
//! ("Given Name", "Phone 1 - Type", "Phone 1 - Value", …), so cards go through the same mapping,
//! validation, duplicate and rejects path as a CSV file; a card's line is its `BEGIN:VCARD`.
//! Pure: text in, rows out.

/// The most phone numbers and emails a card keeps (the mapping knows this many columns).
pub const MAX_PHONES: usize = 7;
pub const MAX_EMAILS: usize = 5;

/// One property line, unfolded and decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Upper case, without its group.
    pub name: String,
    /// Apple's `item1` in `item1.TEL`, lower case.
    pub group: Option<String>,
    /// TYPE values (2.1's bare `CELL` included), lower case.
    pub types: Vec<String>,
    /// The value with quoted-printable and escapes undone (structured values keep their ';').
    pub value: String,
}

/// One card and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub line: u64,
    pub properties: Vec<Property>,
}

impl Card {
    fn first(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Property> + 'a {
        self.properties.iter().filter(move |p| p.name == name)
    }

    /// Apple writes a property's label as `X-ABLabel` in the same group: `_$!<Mobile>!$_`.
    fn group_label(&self, group: &str) -> Option<String> {
        self.properties
            .iter()
            .find(|p| p.name == "X-ABLABEL" && p.group.as_deref() == Some(group))
            .map(|p| {
                p.value
                    .trim_start_matches("_$!<")
                    .trim_end_matches(">!$_")
                    .trim()
                    .to_lowercase()
            })
    }
}

/// Does this look like a vCard file (after any byte-order mark)?
pub fn looks_like_vcard(start: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&start[..start.len().min(256)]);
    text.trim_start().to_ascii_uppercase().starts_with("BEGIN:VCARD")
}

/// Physical lines with their numbers, line endings removed.
fn physical_lines(text: &str) -> impl Iterator<Item = (u64, &str)> {
    text.split('\n')
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l.strip_suffix('\r').unwrap_or(l)))
}

/// Whether the property part (before ':') says quoted-printable.
fn is_quoted_printable(head: &str) -> bool {
    head.split(';')
        .skip(1)
        .any(|p| p.eq_ignore_ascii_case("ENCODING=QUOTED-PRINTABLE") || p.eq_ignore_ascii_case("QUOTED-PRINTABLE"))
}

/// The index of the ':' that ends the name and parameters (not one inside a quoted parameter).
fn value_colon(line: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// Logical lines: folded lines (a line break followed by a space or tab) joined, and
/// quoted-printable soft line breaks (a value ending in '=') joined with the next line.
fn logical_lines(text: &str) -> Vec<(u64, String)> {
    let mut out: Vec<(u64, String)> = Vec::new();
    let mut soft_break = false;
    for (number, line) in physical_lines(text) {
        if soft_break {
            if let Some((_, last)) = out.last_mut() {
                last.pop(); // the '=' of the soft break
                last.push_str(line.trim_start());
                soft_break = is_soft_break(last);
                continue;
            }
        }
        if (line.starts_with(' ') || line.starts_with('\t')) && !out.is_empty() {
            if let Some((_, last)) = out.last_mut() {
                last.push_str(&line[1..]);
                soft_break = is_soft_break(last);
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        out.push((number, line.to_string()));
        soft_break = out.last().is_some_and(|(_, l)| is_soft_break(l));
    }
    out
}

fn is_soft_break(line: &str) -> bool {
    let Some(colon) = value_colon(line) else {
        return false;
    };
    is_quoted_printable(&line[..colon]) && line.ends_with('=')
}

/// Undoes quoted-printable: "=C3=A9" → the bytes C3 A9. Malformed escapes are kept as text.
fn decode_quoted_printable(value: &str) -> Vec<u8> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Bytes in the named character set: UTF-8, or Latin-1 / Windows-1252 as older phones and
/// Outlook write them (the printable range of both is read as Latin-1).
fn decode_charset(bytes: Vec<u8>, charset: Option<&str>) -> String {
    let latin = charset.is_some_and(|c| {
        let c = c.to_ascii_lowercase();
        c.contains("8859-1") || c.contains("1252") || c == "latin1"
    });
    if !latin {
        if let Ok(text) = String::from_utf8(bytes.clone()) {
            return text;
        }
    }
    bytes.into_iter().map(char::from).collect()
}

/// Backslash escapes of 3.0 and 4.0: "\n" and "\N" are line breaks, "\," "\;" "\\" the
/// character itself. Structured values are split on ';' before this is applied to each part.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Splits a structured value ("Family;Given;;;") on ';' that are not escaped.
fn components(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            current.push('\\');
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ';' {
            parts.push(unescape(&current));
            current.clear();
        } else {
            current.push(c);
        }
    }
    if escaped {
        current.push('\\');
    }
    parts.push(unescape(&current));
    parts
}

fn parse_property(line: &str) -> Option<Property> {
    let colon = value_colon(line)?;
    let (head, raw) = (&line[..colon], &line[colon + 1..]);
    let mut parts = head.split(';');
    let full_name = parts.next()?.trim();
    let (group, name) = match full_name.rsplit_once('.') {
        Some((group, name)) => (Some(group.to_lowercase()), name),
        None => (None, full_name),
    };
    let mut types = Vec::new();
    let mut charset = None;
    let mut quoted_printable = false;
    for param in parts {
        let (key, value) = match param.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_uppercase(), v.trim().trim_matches('"')),
            // 2.1 writes bare parameters: "TEL;CELL;VOICE:".
            None => ("TYPE".to_string(), param.trim()),
        };
        match key.as_str() {
            "TYPE" => types.extend(
                value
                    .split(',')
                    .map(|t| t.trim().to_lowercase())
                    .filter(|t| !t.is_empty() && t != "quoted-printable"),
            ),
            "ENCODING" if value.eq_ignore_ascii_case("quoted-printable") => quoted_printable = true,
            "CHARSET" => charset = Some(value.to_string()),
            // 4.0 writes preference as PREF=1 (most preferred).
            "PREF" => types.push("pref".into()),
            _ => {}
        }
        if param.trim().eq_ignore_ascii_case("QUOTED-PRINTABLE") {
            quoted_printable = true;
        }
    }
    let value = if quoted_printable {
        decode_charset(decode_quoted_printable(raw), charset.as_deref())
    } else {
        raw.to_string()
    };
    Some(Property {
        name: name.to_ascii_uppercase(),
        group,
        types,
        value,
    })
}

/// Reads every card of a file. Lines outside BEGIN:VCARD … END:VCARD are ignored; a card left
/// open at the end of the file still counts.
pub fn parse(text: &str) -> Vec<Card> {
    let mut cards = Vec::new();
    let mut current: Option<Card> = None;
    for (line, text) in logical_lines(text) {
        let upper = text.trim().to_ascii_uppercase();
        if upper == "BEGIN:VCARD" {
            if let Some(card) = current.take() {
                cards.push(card);
            }
            current = Some(Card {
                line,
                properties: Vec::new(),
            });
            continue;
        }
        if upper == "END:VCARD" {
            if let Some(card) = current.take() {
                cards.push(card);
            }
            continue;
        }
        if let (Some(card), Some(property)) = (current.as_mut(), parse_property(&text)) {
            card.properties.push(property);
        }
    }
    if let Some(card) = current {
        cards.push(card);
    }
    cards
}

/// The columns every card is written into.
pub fn headers() -> Vec<String> {
    let mut h: Vec<String> = [
        "Name",
        "Given Name",
        "Family Name",
        "Organization Name",
        "Organization Title",
        "Notes",
        "Time Zone",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for n in 1..=MAX_PHONES {
        h.push(format!("Phone {n} - Type"));
        h.push(format!("Phone {n} - Value"));
    }
    for n in 1..=MAX_EMAILS {
        h.push(format!("E-mail {n} - Type"));
        h.push(format!("E-mail {n} - Value"));
    }
    h
}

/// The label of a TEL or EMAIL: Apple's group label, else its TYPE values that say where
/// ("cell" reads "mobile"; "voice", "internet", "pref" say nothing).
fn label(card: &Card, property: &Property) -> String {
    if let Some(label) = property.group.as_deref().and_then(|g| card.group_label(g)) {
        return label;
    }
    let words: Vec<&str> = property
        .types
        .iter()
        .map(String::as_str)
        .filter(|t| !matches!(*t, "voice" | "internet" | "pref" | "x400" | "msg"))
        .map(|t| match t {
            "cell" | "iphone" => "mobile",
            other => other,
        })
        .collect();
    words.join(" ")
}

/// A TEL value: 4.0 may write it as a URI ("tel:+1-555-0100;ext=2").
fn tel_value(value: &str) -> String {
    let value = value.trim();
    let value = value.strip_prefix("tel:").unwrap_or(value);
    value.split(";ext=").next().unwrap_or(value).trim().to_string()
}

/// Preferred values first (TYPE=pref, or 4.0's PREF=n), then in card order.
fn preferred_first(mut props: Vec<&Property>) -> Vec<&Property> {
    props.sort_by_key(|p| !p.types.iter().any(|t| t == "pref"));
    props
}

/// One card as a row of `headers()`.
pub fn row(card: &Card) -> Vec<String> {
    let text = |name: &str| card.first(name).map(|p| unescape(p.value.trim())).unwrap_or_default();
    let name = card.first("N").map(|p| components(&p.value)).unwrap_or_default();
    let part = |i: usize| name.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
    let org = card
        .first("ORG")
        .map(|p| components(&p.value).into_iter().next().unwrap_or_default())
        .unwrap_or_default();
    // A zone only when it is an IANA name; a UTC offset ("-05:00") says too little.
    let tz = text("TZ");
    let tz = if crate::domain::parse_tz(tz.trim_start_matches("VALUE=text:")).is_some() {
        tz
    } else {
        String::new()
    };
    let mut cells = vec![
        text("FN"),
        part(1),
        part(0),
        org.trim().to_string(),
        text("TITLE"),
        text("NOTE"),
        tz,
    ];
    let phones = preferred_first(card.all("TEL").collect());
    for n in 0..MAX_PHONES {
        match phones.get(n) {
            Some(p) => {
                cells.push(label(card, p));
                cells.push(tel_value(&p.value));
            }
            None => cells.extend([String::new(), String::new()]),
        }
    }
    let emails = preferred_first(card.all("EMAIL").collect());
    for n in 0..MAX_EMAILS {
        match emails.get(n) {
            Some(p) => {
                cells.push(label(card, p));
                cells.push(unescape(p.value.trim()));
            }
            None => cells.extend([String::new(), String::new()]),
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell<'a>(row: &'a [String], header: &str) -> &'a str {
        let i = headers().iter().position(|h| h == header).unwrap();
        &row[i]
    }

    #[test]
    fn several_cards_with_folded_lines() {
        let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lovelace;Ada;;;\r\nFN:Ada Lovelace\r\nORG:Analytical \r\n Engines;R&D\r\nTEL;TYPE=CELL:+44 20 7946 0958\r\nEND:VCARD\r\n\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nFN:Grace Hopper\r\nN:Hopper;Grace;;;\r\nTEL;VALUE=uri;TYPE=work:tel:+1-415-555-0123;ext=7\r\nEMAIL;PREF=1:grace@example.com\r\nEND:VCARD\r\n";
        let cards = parse(text);
        assert_eq!(cards.len(), 2);
        assert_eq!((cards[0].line, cards[1].line), (1, 10));
        let ada = row(&cards[0]);
        assert_eq!(cell(&ada, "Given Name"), "Ada");
        assert_eq!(cell(&ada, "Family Name"), "Lovelace");
        assert_eq!(cell(&ada, "Organization Name"), "Analytical Engines");
        assert_eq!(cell(&ada, "Phone 1 - Type"), "mobile");
        assert_eq!(cell(&ada, "Phone 1 - Value"), "+44 20 7946 0958");
        let grace = row(&cards[1]);
        assert_eq!(cell(&grace, "Phone 1 - Value"), "+1-415-555-0123");
        assert_eq!(cell(&grace, "Phone 1 - Type"), "work");
        assert_eq!(cell(&grace, "E-mail 1 - Value"), "grace@example.com");
        assert_eq!(row(&cards[0]).len(), headers().len());
    }

    #[test]
    fn quoted_printable_with_soft_breaks_and_charsets() {
        let text = "BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;;\nNOTE;ENCODING=QUOTED-PRINTABLE:First line=0D=0Asecond =\nline, long=\n er\nORG;CHARSET=ISO-8859-1;QUOTED-PRINTABLE:Caf=E9 Ltd\nTEL;CELL;PREF:+49 30 123456\nTEL;HOME;VOICE:030 654321\nEND:VCARD\n";
        let cards = parse(text);
        let r = row(&cards[0]);
        assert_eq!(cell(&r, "Given Name"), "Jürgen");
        assert_eq!(cell(&r, "Family Name"), "Müller");
        assert_eq!(cell(&r, "Notes"), "First line\r\nsecond line, longer");
        assert_eq!(cell(&r, "Organization Name"), "Café Ltd");
        assert_eq!(cell(&r, "Phone 1 - Type"), "mobile");
        assert_eq!(cell(&r, "Phone 2 - Type"), "home");
        assert_eq!(cell(&r, "Phone 2 - Value"), "030 654321");
    }

    #[test]
    fn escapes_and_apple_labels() {
        let text = "BEGIN:VCARD\nVERSION:3.0\nN:O\\'Brien;Se\\,an;;;\nNOTE:one\\ntwo\\; three\\\\\nitem1.TEL;type=pref:+353 1 234 5678\nitem1.X-ABLabel:_$!<Mobile>!$_\nitem2.EMAIL;type=INTERNET:sean@example.ie\nitem2.X-ABLabel:Office\nTZ:Europe/Dublin\nEND:VCARD";
        let r = row(&parse(text)[0]);
        assert_eq!(cell(&r, "Given Name"), "Se,an");
        assert_eq!(cell(&r, "Family Name"), "O'Brien");
        assert_eq!(cell(&r, "Notes"), "one\ntwo; three\\");
        assert_eq!(cell(&r, "Phone 1 - Type"), "mobile");
        assert_eq!(cell(&r, "E-mail 1 - Type"), "office");
        assert_eq!(cell(&r, "Time Zone"), "Europe/Dublin");
    }

    #[test]
    fn a_file_is_recognised_and_junk_around_cards_is_ignored() {
        assert!(looks_like_vcard(b"\r\n begin:vcard\r\n"));
        assert!(!looks_like_vcard(b"First Name,Last Name\n"));
        let cards = parse("junk\nBEGIN:VCARD\nFN:A B\nTZ:-05:00\nBEGIN:VCARD\nFN:C D\n");
        assert_eq!(cards.len(), 2, "a card left open still counts");
        assert_eq!(cell(&row(&cards[0]), "Time Zone"), "", "an offset is not a zone");
    }
}
