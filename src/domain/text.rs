//! Text a person types that is not a lead field: reasons, call and callback notes, recording
//! links, do-not-call reasons. One-line text with control characters is refused with the field's
//! name; free text keeps its line breaks and tabs and loses every other control character, so a
//! note typed during a call is never refused for a stray byte.

/// The longest reason or one-line value: a sentence, not a document.
pub const LINE_MAX: usize = 500;
/// The longest note, as for a lead's notes.
pub const NOTE_MAX: usize = super::lead::NOTES_MAX;

/// A one-line value: trimmed, no control characters, at most `LINE_MAX` characters; empty is None.
pub fn line(field: &str, raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().any(char::is_control) {
        return Err(format!("{field}: control characters are not allowed"));
    }
    if value.chars().count() > LINE_MAX {
        return Err(format!("{field}: at most {LINE_MAX} characters"));
    }
    Ok(Some(value.to_string()))
}

/// Free text: Windows line endings become "\n", other control characters are dropped, at most
/// `NOTE_MAX` characters; empty is None.
pub fn note(field: &str, raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let kept: String = raw
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    let value = kept.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > NOTE_MAX {
        return Err(format!("{field}: at most {NOTE_MAX} characters"));
    }
    Ok(Some(value.to_string()))
}

/// A recording link: one line, and a web address (http or https), so a stored link can never be
/// a `javascript:` or `file:` trap for whoever opens it.
pub fn recording_url(raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(url) = line("recording URL", raw)? else {
        return Ok(None);
    };
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) || url.contains(char::is_whitespace) {
        return Err(format!("recording URL: '{url}' is not an http(s) address"));
    }
    Ok(Some(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_text_with_control_characters_is_refused_by_name() {
        assert_eq!(line("reason", Some("  wrong person ")), Ok(Some("wrong person".into())));
        assert_eq!(line("reason", Some("   ")), Ok(None));
        let err = line("reason", Some("ok\u{1b}]52;c;ZXZpbA==\u{7}")).unwrap_err();
        assert!(err.starts_with("reason:"), "{err}");
        assert!(line("reason", Some("two\nlines")).is_err());
        assert!(line("reason", Some(&"x".repeat(LINE_MAX + 1))).is_err());
    }

    #[test]
    fn notes_keep_lines_and_lose_escape_sequences() {
        assert_eq!(
            note("notes", Some("call back\r\nafter 5\u{1b}[2J\ttoday")),
            Ok(Some("call back\nafter 5[2J\ttoday".into()))
        );
        assert_eq!(note("notes", Some("\u{7}\u{7}")), Ok(None));
        assert!(note("notes", Some(&"x".repeat(NOTE_MAX + 1))).is_err());
    }

    #[test]
    fn recording_links_are_web_addresses() {
        assert!(recording_url(Some("https://rec.example/1.wav")).is_ok());
        assert!(recording_url(Some("javascript:alert(1)")).is_err());
        assert!(recording_url(Some("file:///etc/passwd")).is_err());
        assert_eq!(recording_url(None), Ok(None));
    }
}
