//! The canonical text of one row: a JSON array with the table's columns in their fixed order and
//! every value in one backend-neutral spelling. The same data read from PostgreSQL or SQLite gives
//! the same bytes, which is what lets a checksum prove two databases hold the same content.

use chrono::{DateTime, DurationRound, Utc};
use uuid::Uuid;

use super::tables::{Column, ColumnType};

/// One column's value as a backup holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    Uuid(Uuid),
    /// Microsecond precision: what PostgreSQL stores and what the store's clock gives.
    Timestamp(DateTime<Utc>),
    /// A JSON document in canonical form (sorted keys, no spaces).
    Json(String),
}

impl Value {
    pub fn timestamp(t: DateTime<Utc>) -> Value {
        Value::Timestamp(t.duration_trunc(chrono::Duration::microseconds(1)).unwrap_or(t))
    }

    /// Re-encodes a stored JSON document canonically: PostgreSQL's JSONB and SQLite's text spell
    /// the same document differently (spaces, key order).
    pub fn json(text: &str) -> Result<Value, String> {
        let doc: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("stored JSON cannot be read: {e}"))?;
        Ok(Value::Json(doc.to_string()))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// How a timestamp is spelled in a backup: RFC 3339, UTC, always six fraction digits.
pub fn format_timestamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Appends the row's canonical line (ending in a newline) to `out`.
pub fn encode_row(values: &[Value], out: &mut Vec<u8>) -> Result<(), String> {
    out.push(b'[');
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let written = match value {
            Value::Null => {
                out.extend_from_slice(b"null");
                Ok(())
            }
            Value::Int(n) => serde_json::to_writer(&mut *out, n),
            Value::Float(f) if !f.is_finite() => return Err(format!("{f} cannot be kept in a backup")),
            Value::Float(f) => serde_json::to_writer(&mut *out, f),
            Value::Bool(b) => serde_json::to_writer(&mut *out, b),
            Value::Text(s) | Value::Json(s) => serde_json::to_writer(&mut *out, s),
            Value::Uuid(u) => serde_json::to_writer(&mut *out, &u.hyphenated().to_string()),
            Value::Timestamp(t) => serde_json::to_writer(&mut *out, &format_timestamp(t)),
        };
        written.map_err(|e| e.to_string())?;
    }
    out.extend_from_slice(b"]\n");
    Ok(())
}

/// What is wrong with one line of a table section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub column: Option<&'static str>,
    pub message: String,
}

/// Reads one canonical line back into values typed by `columns`.
pub fn decode_row(line: &[u8], columns: &[Column]) -> Result<Vec<Value>, RowError> {
    let whole = |message: String| RowError { column: None, message };
    let items: Vec<serde_json::Value> =
        serde_json::from_slice(line).map_err(|e| whole(format!("not a row of values ({e})")))?;
    if items.len() != columns.len() {
        return Err(whole(format!(
            "{} values where the table has {} columns",
            items.len(),
            columns.len()
        )));
    }
    items
        .into_iter()
        .zip(columns)
        .map(|(item, column)| {
            decode_value(item, column.ty).map_err(|message| RowError {
                column: Some(column.name),
                message,
            })
        })
        .collect()
}

fn decode_value(item: serde_json::Value, ty: ColumnType) -> Result<Value, String> {
    use serde_json::Value as J;
    let wrong = |item: &J| {
        let mut shown = item.to_string();
        if shown.len() > 40 {
            shown = format!("{}…", shown.chars().take(40).collect::<String>());
        }
        format!("expected {} but found {shown}", describe(ty))
    };
    if item.is_null() {
        return Ok(Value::Null);
    }
    Ok(match (ty, &item) {
        (ColumnType::Int, J::Number(n)) => Value::Int(n.as_i64().ok_or_else(|| wrong(&item))?),
        (ColumnType::Float, J::Number(n)) => Value::Float(n.as_f64().ok_or_else(|| wrong(&item))?),
        (ColumnType::Bool, J::Bool(b)) => Value::Bool(*b),
        (ColumnType::Text, J::String(s)) => Value::Text(s.clone()),
        (ColumnType::Uuid, J::String(s)) => Value::Uuid(Uuid::parse_str(s).map_err(|_| wrong(&item))?),
        (ColumnType::Timestamp, J::String(s)) => Value::Timestamp(
            DateTime::parse_from_rfc3339(s)
                .map_err(|_| wrong(&item))?
                .with_timezone(&Utc),
        ),
        (ColumnType::Json, J::String(s)) => {
            serde_json::from_str::<J>(s).map_err(|_| wrong(&item))?;
            Value::Json(s.clone())
        }
        _ => return Err(wrong(&item)),
    })
}

fn describe(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Int => "an integer",
        ColumnType::Float => "a number",
        ColumnType::Bool => "true or false",
        ColumnType::Text => "text",
        ColumnType::Uuid => "an id (UUID)",
        ColumnType::Timestamp => "an RFC 3339 timestamp",
        ColumnType::Json => "a JSON document as text",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const COLUMNS: &[Column] = &[
        Column {
            name: "id",
            ty: ColumnType::Uuid,
        },
        Column {
            name: "n",
            ty: ColumnType::Int,
        },
        Column {
            name: "p",
            ty: ColumnType::Float,
        },
        Column {
            name: "ok",
            ty: ColumnType::Bool,
        },
        Column {
            name: "name",
            ty: ColumnType::Text,
        },
        Column {
            name: "at",
            ty: ColumnType::Timestamp,
        },
        Column {
            name: "doc",
            ty: ColumnType::Json,
        },
        Column {
            name: "gone",
            ty: ColumnType::Text,
        },
    ];

    fn sample() -> Vec<Value> {
        vec![
            Value::Uuid(Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001)),
            Value::Int(-42),
            Value::Float(0.35),
            Value::Bool(true),
            Value::Text("Zoë \"Q\" O'Neil\n\u{1b}[2J".into()),
            Value::timestamp(Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap()),
            Value::json(r#"{ "b": 1, "a": [1.5, null] }"#).unwrap(),
            Value::Null,
        ]
    }

    #[test]
    fn rows_have_one_spelling_and_read_back_equal() {
        let mut line = Vec::new();
        encode_row(&sample(), &mut line).unwrap();
        let text = String::from_utf8(line.clone()).unwrap();
        assert_eq!(
            text,
            "[\"01930000-0000-7000-8000-000000000001\",-42,0.35,true,\"Zoë \\\"Q\\\" O'Neil\\n\\u001b[2J\",\
             \"2026-11-23T15:00:00.000000Z\",\"{\\\"a\\\":[1.5,null],\\\"b\\\":1}\",null]\n"
        );
        assert_eq!(
            text.matches('\n').count(),
            1,
            "one row is one line, whatever the text holds"
        );
        assert_eq!(decode_row(line.trim_ascii_end(), COLUMNS).unwrap(), sample());
    }

    #[test]
    fn timestamps_keep_microseconds_whatever_the_source_precision() {
        let t = Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap();
        let Value::Timestamp(kept) = Value::timestamp(t) else {
            unreachable!()
        };
        assert_eq!(format_timestamp(&kept), "2023-11-14T22:13:20.123456Z");
        // an offset other than UTC in a hand-edited file still means the same instant
        let read = decode_value(
            serde_json::json!("2023-11-14T23:13:20.123456+01:00"),
            ColumnType::Timestamp,
        );
        assert_eq!(read.unwrap(), Value::Timestamp(kept));
    }

    #[test]
    fn the_same_json_document_is_the_same_text() {
        assert_eq!(
            Value::json(r#"{"reason": "x", "agent_id": 3}"#).unwrap(),
            Value::json(r#"{"agent_id":3,"reason":"x"}"#).unwrap()
        );
        assert!(Value::json("{oops").is_err());
    }

    #[test]
    fn wrong_values_name_their_column() {
        let err = decode_row(
            br#"["not-a-uuid",1,0.5,true,"a","2026-01-01T00:00:00Z","{}",null]"#,
            COLUMNS,
        )
        .unwrap_err();
        assert_eq!(err.column, Some("id"));
        assert!(err.message.contains("UUID"), "{}", err.message);
        let err = decode_row(br#"[1,2]"#, COLUMNS).unwrap_err();
        assert_eq!(err.column, None);
        assert!(err.message.contains("2 values"), "{}", err.message);
        let err = decode_row(
            b"[\"01930000-0000-7000-8000-000000000001\",1.5,0.5,true,\"a\",null,null,null]",
            COLUMNS,
        )
        .unwrap_err();
        assert_eq!(err.column, Some("n"));
        assert!(decode_row(b"[1,", COLUMNS).is_err());
        assert!(encode_row(&[Value::Float(f64::NAN)], &mut Vec::new()).is_err());
    }
}
