//! `coldcall dnc import FILE`: a do-not-call list into the database.
//!
//! One number per row, normalised to E.164 with the default region like `dnc add`; an optional
//! reason column. The number column is found by its header ("number", "phone", ...); a file
//! whose first row already is a number has no header and is read as a bare list. Numbers
//! already listed, or listed twice in the file, are duplicates (their entry is kept as it is);
//! invalid ones go to the rejects file. Leads with a listed number are marked do-not-call, as
//! `dnc add` does. Nothing an import does ever removes a number from the list.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::keys::SeenKeys;
use super::leads::RejectNote;
use super::mapping::normalize_header;
use super::rejects::{self, Rejects, RejectsFile};
use super::source::{Chunk, FileError, Parsed, Reject, Source};
use crate::domain::formula::unguard;
use crate::domain::phone::normalize_phone;
use crate::store::{DncRow, Store};

const NUMBER_HEADERS: &[&str] = &[
    "number",
    "phonenumber",
    "phone",
    "telephone",
    "telephonenumber",
    "tel",
    "mobile",
    "mobilenumber",
    "cell",
    "dncnumber",
    "donotcallnumber",
    "numbers",
    "msisdn",
    "e164",
    "telefon",
];
const REASON_HEADERS: &[&str] = &[
    "reason",
    "note",
    "notes",
    "comment",
    "comments",
    "source",
    "description",
];

#[derive(Debug, Clone)]
pub struct DncImportOptions {
    pub region: String,
    /// `--map COLUMN=number|reason|ignore`.
    pub overrides: Vec<(String, String)>,
    pub delimiter: Option<u8>,
    pub rejects: Option<PathBuf>,
    pub dry_run: bool,
    pub batch_size: usize,
    pub actor: Option<i64>,
}

impl DncImportOptions {
    pub fn new(region: &str) -> DncImportOptions {
        DncImportOptions {
            region: region.to_string(),
            overrides: Vec::new(),
            delimiter: None,
            rejects: None,
            dry_run: false,
            batch_size: 5_000,
            actor: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DncReport {
    pub file: String,
    pub dry_run: bool,
    pub delimiter: String,
    /// False when the first row was a number (a bare list).
    pub has_header: bool,
    pub number_column: String,
    pub reason_column: Option<String>,
    pub rows_read: u64,
    /// Numbers put on the list now.
    pub added: u64,
    /// Numbers already on the list, or repeated in the file.
    pub duplicates: u64,
    pub rejected: u64,
    /// Leads with one of the numbers that were marked do-not-call.
    pub leads_marked: u64,
    pub blank_lines: u64,
    pub rejects_file: Option<RejectsFile>,
    pub rejects: Vec<RejectNote>,
    pub seconds: f64,
}

impl DncReport {
    pub fn is_balanced(&self) -> bool {
        self.rows_read == self.added + self.duplicates + self.rejected
    }
}

/// A do-not-call import that stopped part-way: what was committed before, and where and why.
#[derive(Debug, thiserror::Error)]
#[error(
    "the import stopped at line {line}: {cause}. Numbers before line {line} are listed ({} added); \
     run the same import again to finish",
    .report.added
)]
pub struct DncStopped {
    pub report: DncReport,
    pub line: u64,
    pub cause: String,
}

pub struct DncImport {
    source: Source,
    has_header: bool,
    number: usize,
    reason: Option<usize>,
    options: DncImportOptions,
}

fn column_named(headers: &[String], wanted: &[&str]) -> Option<usize> {
    wanted
        .iter()
        .find_map(|w| headers.iter().position(|h| normalize_header(h) == *w))
}

impl DncImport {
    pub fn open(path: &Path, options: DncImportOptions) -> Result<DncImport, FileError> {
        let mut source = Source::open(path, options.delimiter)?;
        let fail = |message: String| FileError::new(path, message);
        let headers = source.headers.clone();
        let mut number = column_named(&headers, NUMBER_HEADERS);
        let mut reason = column_named(&headers, REASON_HEADERS);
        for (column, field) in &options.overrides {
            let index = headers
                .iter()
                .position(|h| h == column || normalize_header(h) == normalize_header(column))
                .ok_or_else(|| fail(format!("--map '{column}': the file has no such column")))?;
            match normalize_header(field).as_str() {
                "number" | "phone" => number = Some(index),
                "reason" => reason = Some(index),
                "ignore" | "skip" | "" => {
                    if number == Some(index) {
                        number = None;
                    }
                    if reason == Some(index) {
                        reason = None;
                    }
                }
                _ => return Err(fail(format!("--map '{column}={field}': use number, reason or ignore"))),
            }
        }
        let mut has_header = true;
        if number.is_none() {
            // A bare list: the first row is already a number.
            let first = headers.first().map(|h| unguard(h)).unwrap_or_default();
            if headers.len() <= 2 && normalize_phone(first, &options.region).is_ok() {
                source.header_is_data();
                has_header = false;
                number = Some(0);
                reason = (headers.len() == 2).then_some(1);
            }
        }
        let number = number.ok_or_else(|| {
            fail(format!(
                "no column of numbers: name it 'number' or 'phone', or pick it with --map 'YOUR COLUMN=number' \
                 (columns: {})",
                headers.iter().map(|h| format!("'{h}'")).collect::<Vec<_>>().join(", ")
            ))
        })?;
        Ok(DncImport {
            source,
            has_header,
            number,
            reason,
            options,
        })
    }

    pub fn total_bytes(&self) -> u64 {
        self.source.total_bytes
    }

    pub async fn run(self, store: &Store, mut progress: impl FnMut(&DncReport, u64)) -> Result<DncReport, DncStopped> {
        let started = Instant::now();
        let file = self.source.name();
        let has_header = self.has_header;
        let mut report = DncReport {
            file: file.clone(),
            dry_run: self.options.dry_run,
            delimiter: super::sniff::delimiter_name(self.source.delimiter),
            has_header,
            number_column: column_label(&self.source.headers, self.number, has_header),
            reason_column: self.reason.map(|i| column_label(&self.source.headers, i, has_header)),
            ..DncReport::default()
        };
        let rejects_path = match (&self.options.rejects, self.options.dry_run) {
            (Some(path), _) => Some(path.clone()),
            (None, true) => None,
            (None, false) => Some(rejects::default_path(&self.source.path)),
        };
        let mut rejects = rejects_path.map(|p| Rejects::new(p, self.source.headers.clone(), self.source.delimiter));
        let default_reason = format!("imported from {file}");
        let (number, reason, region) = (self.number, self.reason, self.options.region.clone());
        let expected = self.source.headers.len();
        let options = self.options;
        let mut batches = self.source.spawn(options.batch_size.max(1), move |record| {
            if record.len() != expected {
                return Err(Reject {
                    kind: "field count".into(),
                    reason: format!("row has {} fields, header has {expected}", record.len()),
                    ..Reject::default()
                });
            }
            let cell = |i: usize| {
                std::str::from_utf8(record.get(i).unwrap_or_default())
                    .map(|t| unguard(t).trim().to_string())
                    .map_err(|_| Reject {
                        kind: "encoding".into(),
                        reason: "not UTF-8 text; save the file as \"CSV UTF-8\"".into(),
                        ..Reject::default()
                    })
            };
            let raw = cell(number)?;
            let number = normalize_phone(&raw, &region).map_err(|e| Reject {
                kind: "number".into(),
                reason: format!("number: {e}"),
                ..Reject::default()
            })?;
            let why = match reason {
                Some(i) => Some(cell(i)?).filter(|r| !r.is_empty()),
                None => None,
            };
            Ok(DncRow {
                number,
                reason: Some(why.unwrap_or_else(|| default_reason.clone())),
            })
        });

        let mut seen = SeenKeys::default();
        let stop = |report: &DncReport, line: u64, cause: String| DncStopped {
            report: report.clone(),
            line,
            cause,
        };
        loop {
            match batches.recv().await {
                Some(Chunk::Rows(rows, bytes)) => {
                    let first_line = rows.first().map(|r| r.line).unwrap_or(0);
                    if let Err(cause) =
                        apply_batch(store, &options, rows, &mut seen, &mut report, rejects.as_mut()).await
                    {
                        if let Some(mut r) = rejects {
                            let _ = r.flush();
                        }
                        return Err(stop(&report, first_line, cause));
                    }
                    progress(&report, bytes);
                }
                Some(Chunk::Done { blank_lines }) => {
                    report.blank_lines = blank_lines;
                    break;
                }
                Some(Chunk::Failed(error)) => return Err(stop(&report, 0, error.to_string())),
                None => return Err(stop(&report, 0, "the file reader stopped unexpectedly".into())),
            }
        }
        if let Some(rejects) = rejects {
            report.rejects_file = rejects
                .finish()
                .map_err(|e| stop(&report, 0, format!("cannot write the rejects file: {e}")))?;
        }
        report.seconds = started.elapsed().as_secs_f64();
        assert!(report.is_balanced(), "every row read is counted once: {report:?}");
        if !options.dry_run {
            let summary = serde_json::json!({
                "rows_read": report.rows_read,
                "added": report.added,
                "duplicates": report.duplicates,
                "rejected": report.rejected,
                "leads_marked": report.leads_marked,
            });
            store
                .record_import("dnc", &file, &summary, options.actor)
                .await
                .map_err(|e| {
                    stop(
                        &report,
                        0,
                        format!("the numbers are in, but the audit log entry failed: {e}"),
                    )
                })?;
        }
        Ok(report)
    }
}

fn column_label(headers: &[String], index: usize, has_header: bool) -> String {
    if has_header {
        headers.get(index).cloned().unwrap_or_default()
    } else {
        format!("column {}", index + 1)
    }
}

async fn apply_batch(
    store: &Store,
    options: &DncImportOptions,
    rows: Vec<Parsed<DncRow>>,
    seen: &mut SeenKeys,
    report: &mut DncReport,
    rejects: Option<&mut Rejects>,
) -> Result<(), String> {
    let mut to_store = Vec::with_capacity(rows.len());
    let mut failed = Vec::new();
    let mut repeated = 0;
    let mut batch_seen = SeenKeys::default();
    for parsed in &rows {
        match &parsed.result {
            Err(reject) => failed.push((parsed.line, &parsed.raw, reject.reason.clone())),
            Ok(row) if seen.line_of(&row.number).is_some() || batch_seen.line_of(&row.number).is_some() => {
                repeated += 1
            }
            Ok(row) => {
                batch_seen.insert(&row.number, parsed.line);
                to_store.push(row.clone());
            }
        }
    }
    let result = store
        .import_dnc(&to_store, options.actor, options.dry_run)
        .await
        .map_err(|e| e.to_string())?;
    for row in &to_store {
        seen.insert(&row.number, 0);
    }
    let added = result.added.iter().filter(|a| **a).count() as u64;
    report.rows_read += rows.len() as u64;
    report.added += added;
    report.duplicates += repeated + (to_store.len() as u64 - added);
    report.rejected += failed.len() as u64;
    report.leads_marked += result.leads_marked;
    let mut rejects = rejects;
    for (line, raw, why) in failed {
        if report.rejects.len() < 20 {
            report.rejects.push(RejectNote {
                line,
                reason: why.clone(),
            });
        }
        if let Some(file) = rejects.as_deref_mut() {
            file.write(&raw.as_record(line), &why)
                .map_err(|e| format!("cannot write the rejects file: {e}"))?;
        }
    }
    Ok(())
}
