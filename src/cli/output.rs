//! How results and errors reach the user: aligned text for people, JSON for scripts.

use serde::Serialize;
use serde_json::json;

use super::CliError;
use crate::store::StoreError;

#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints `value` as JSON, or the human text built by `human`.
    pub fn show<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        if self.json {
            match serde_json::to_value(value) {
                Ok(mut value) => {
                    // On a terminal, stored text must not be able to drive it; a pipe gets the
                    // data as stored.
                    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                        crate::display::printable_json(&mut value);
                    }
                    print_line(&serde_json::to_string_pretty(&value).unwrap_or_default())
                }
                Err(e) => eprintln!("error: cannot encode the result as JSON: {e}"),
            }
        } else {
            let text = human();
            if !text.is_empty() {
                print_line(text.trim_end());
            }
        }
    }

    /// The message always goes to stderr; with `--json` a structured error also goes to stdout so
    /// scripts can read the reason (and, for refusals, its data).
    pub fn error(&self, err: &CliError) {
        eprintln!("error: {err}");
        if self.json {
            let detail = match err {
                CliError::Store(StoreError::Refused(refusal)) => {
                    json!({ "kind": "refused", "code": refusal.code(), "message": err.to_string(), "refusal": refusal })
                }
                CliError::Store(StoreError::Invalid(errors)) => {
                    json!({ "kind": "invalid", "message": err.to_string(), "fields": errors.0 })
                }
                CliError::Store(StoreError::NotFound { what, key }) => {
                    json!({ "kind": "not_found", "message": err.to_string(), "what": what, "key": key })
                }
                CliError::Store(StoreError::Database(_) | StoreError::Migrate(_) | StoreError::Unavailable(_)) => {
                    json!({ "kind": "database", "message": err.to_string() })
                }
                CliError::Store(StoreError::SessionEnded(_)) => {
                    json!({ "kind": "unauthorized", "message": err.to_string() })
                }
                _ => json!({ "kind": "error", "message": err.to_string() }),
            };
            print_line(&json!({ "error": detail }).to_string());
        }
    }
}

pub use crate::display::printable as clean;

/// Left-aligned columns, widths from the widest cell (in characters).
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = widths[i]))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = line(headers.iter().map(|h| h.to_string()).collect());
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(|c| clean(c)).collect()));
        out.push('\n');
    }
    out
}

pub fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}

pub fn opt(text: &Option<String>) -> String {
    text.as_deref().map(clean).unwrap_or_else(|| "-".into())
}

/// Writes a line to standard output. When the reader has gone (`coldcall … | head`), the
/// process ends quietly with success, as command-line tools do, instead of panicking.
pub fn print_line(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write the output: {e}");
    }
}
