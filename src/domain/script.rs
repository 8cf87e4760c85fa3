//! Call scripts: what the agent reads during a call, with the lead's fields filled in.
//!
//! A script is plain text with placeholders in braces (`{first_name}`, `{company}`, ...). The
//! names are checked when an admin stores the script, so a typo is refused then rather than
//! read out to a lead; `{{` and `}}` write a literal brace.

/// The placeholders a script may use, with what each stands for.
pub const FIELDS: &[(&str, &str)] = &[
    ("first_name", "the lead's first name"),
    ("last_name", "the lead's last name"),
    ("full_name", "first and last name"),
    ("company", "the lead's company"),
    ("title", "the lead's job title"),
    ("email", "the lead's email"),
    ("phone", "the number called"),
    ("agent", "the agent's name"),
];

/// The longest script accepted: several screens of text, far below anything that strains a
/// terminal or a row.
pub const MAX_SCRIPT_BYTES: usize = 32 * 1024;
pub const MAX_NAME_CHARS: usize = 64;

/// One piece of a script: text as written, or a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Brace(char),
    Field(&'a str),
}

fn pieces(body: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find(['{', '}']) {
        out.push(Piece::Text(&rest[..at]));
        let tail = &rest[at..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push(Piece::Brace(tail.as_bytes()[0] as char));
            rest = &tail[2..];
        } else if tail.starts_with('}') {
            return Err("a lone '}' (write '}}' for a brace)".into());
        } else {
            let end = tail
                .find('}')
                .ok_or_else(|| "a '{' is never closed (write '{{' for a brace)".to_string())?;
            out.push(Piece::Field(&tail[1..end]));
            rest = &tail[end + 1..];
        }
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

/// Checks a script's name and text before it is stored.
pub fn validate(name: &str, body: &str) -> Result<(), String> {
    let name_ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !name_ok {
        return Err(format!(
            "script name {name:?} must be 1 to {MAX_NAME_CHARS} letters, digits, '_', '-' or '.'"
        ));
    }
    if body.len() > MAX_SCRIPT_BYTES {
        return Err(format!("the script is longer than {} KiB", MAX_SCRIPT_BYTES / 1024));
    }
    if body.trim().is_empty() {
        return Err("the script is empty".into());
    }
    for piece in pieces(body)? {
        if let Piece::Field(field) = piece {
            if !FIELDS.iter().any(|(f, _)| *f == field) {
                let known: Vec<_> = FIELDS.iter().map(|(f, _)| format!("{{{f}}}")).collect();
                return Err(format!("unknown field {{{field}}} (known: {})", known.join(", ")));
            }
        }
    }
    Ok(())
}

/// The script with each placeholder replaced by `value(field)`; a field with no value reads
/// as nothing, so "Hello {first_name}," still reads as a sentence.
pub fn fill<'v>(body: &str, value: impl Fn(&str) -> Option<&'v str>) -> String {
    let Ok(pieces) = pieces(body) else {
        // Stored scripts were validated; an old or hand-edited row is shown as written.
        return body.to_string();
    };
    let mut out = String::with_capacity(body.len());
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Brace(c) => out.push(c),
            Piece::Field(field) => out.push_str(value(field).unwrap_or("")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_filled_and_braces_kept() {
        let body = "Hi {first_name}, this is {agent} calling about {company}. {{not a field}}";
        let filled = fill(body, |f| match f {
            "first_name" => Some("Ada"),
            "agent" => Some("alice"),
            "company" => Some("Quinn Freight"),
            _ => None,
        });
        assert_eq!(
            filled,
            "Hi Ada, this is alice calling about Quinn Freight. {not a field}"
        );
        assert_eq!(fill("{title}!", |_| None), "!");
    }

    #[test]
    fn mistakes_are_refused_in_words() {
        assert!(validate("default", "Hello {first_name}").is_ok());
        let err = validate("default", "Hello {firstname}").unwrap_err();
        assert!(
            err.contains("unknown field {firstname}") && err.contains("{first_name}"),
            "{err}"
        );
        assert!(validate("default", "Hello {first_name")
            .unwrap_err()
            .contains("never closed"));
        assert!(validate("default", "a } b").unwrap_err().contains("lone"));
        assert!(validate("has space", "x").unwrap_err().contains("script name"));
        assert!(validate("", "x").is_err());
        assert!(validate("ok", "  \n").unwrap_err().contains("empty"));
        assert!(validate("ok", &"x".repeat(MAX_SCRIPT_BYTES + 1))
            .unwrap_err()
            .contains("KiB"));
    }
}
