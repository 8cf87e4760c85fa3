//! `coldcall import FILE`: a lead list from another CRM into the database.
//!
//! Every row is read, validated like a lead typed by hand, checked against the rows before it
//! (the same phone or email twice in one file is one person: the first row wins) and written in
//! batches, one transaction each, matched against stored leads by phone and email. Every row
//! read is counted exactly once: imported, updated, duplicate (stored lead kept, already equal,
//! or repeated in the file) or rejected; rows that could not be taken (rejected, or repeated in
//! the file) go to the rejects file with their line and reason. Rows the source marks deleted
//! are skipped and counted apart. A batch that fails stops the import: batches before it stay
//! committed, and the report says where it stopped.
//!
//! The report also says how other CRMs' status values were read (and which have no mapping),
//! where the imported leads' calling zones come from, and how many further phone numbers and
//! emails the rows carry as contact points.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::keys::SeenKeys;
use super::mapping::{Mapping, MappingError};
use super::rejects::{self, Rejects, RejectsFile};
use super::row::{read_row, ParsedLead, RowRules};
use super::source::{Chunk, FileError, Parsed, Reject, Source};
use super::statuses::StatusMap;
use crate::domain::{DuplicateMode, LeadField, LeadStatus, ZoneOrigin};
use crate::store::{BackendKind, ImportBatch, RowOutcome, Store};

/// Rows per transaction, by backend (`batch_size` 0 picks these). Large enough that per-batch
/// costs vanish, small enough that a failure loses little work and locks are held briefly.
/// SQLite gets larger batches because each commit flushes the full-text indexes' pending terms
/// as a new segment that must later be merged: measured on 200,000 rows, 10,000 rows per
/// transaction ran at ~17k rows/s against ~10k rows/s with 2,000 (memory stays bounded by the
/// batch: ~110 MB peak against ~75 MB). PostgreSQL showed no such difference.
pub fn default_batch(kind: BackendKind) -> usize {
    match kind {
        BackendKind::Sqlite => 10_000,
        BackendKind::Postgres | BackendKind::Server => 2_000,
    }
}

/// Rows per transaction of a bulk import (`--bulk`). Measured on 1,000,000 rows: on SQLite
/// anything from 10,000 to 50,000 runs alike; on PostgreSQL 10,000 ran no faster than 2,000,
/// and once the table held 420,000 leads the batch's look-up of 10,000 phones and 8,000 emails
/// (`phone = ANY … OR email = ANY …`) was planned as a scan and ran past the 15 s statement
/// timeout, so it keeps the ordinary batch.
pub fn default_bulk_batch(kind: BackendKind) -> usize {
    match kind {
        BackendKind::Sqlite => 20_000,
        BackendKind::Postgres | BackendKind::Server => default_batch(kind),
    }
}

/// How many rejects the report lists by line (the rejects file has them all).
const SAMPLE: usize = 20;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub mode: DuplicateMode,
    /// Country for phone numbers written without a country code.
    pub region: String,
    /// `--map COLUMN=FIELD` pairs.
    pub overrides: Vec<(String, String)>,
    /// `--map-status FROM=TO` pairs, on top of the standard table.
    pub statuses: Vec<(String, LeadStatus)>,
    /// `--set FIELD=VALUE` pairs.
    pub sets: Vec<(LeadField, String)>,
    /// The team's default zone (the shared settings'), for leads whose number gives no clue;
    /// `None` reads it from the database.
    pub default_zone: Option<chrono_tz::Tz>,
    /// Force a delimiter instead of guessing it from the header line.
    pub delimiter: Option<u8>,
    /// Where rejects go (default: beside the input).
    pub rejects: Option<PathBuf>,
    /// Decide everything, write nothing to the database (nor a rejects file, unless `rejects`
    /// names one).
    pub dry_run: bool,
    /// Rows per transaction; 0 for the backend's default (`default_batch`).
    pub batch_size: usize,
    /// The acting agent, kept on new and changed leads and in the audit log.
    pub actor: Option<i64>,
    /// A bulk load (`import --bulk`): the same checks, decisions and stored rows, with the row
    /// triggers of new leads written once per batch (`Store::import_leads_bulk`). Refused while
    /// the floor is live and through a floor server; a console that comes live during the import
    /// has the rest written the ordinary way.
    pub bulk: bool,
}

impl ImportOptions {
    pub fn new(region: &str) -> ImportOptions {
        ImportOptions {
            mode: DuplicateMode::Skip,
            region: region.to_string(),
            overrides: Vec::new(),
            statuses: Vec::new(),
            sets: Vec::new(),
            default_zone: None,
            delimiter: None,
            rejects: None,
            dry_run: false,
            batch_size: 0,
            actor: None,
            bulk: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{path}: {source}")]
    Mapping { path: String, source: MappingError },
}

/// One rejected (or repeated) row, for the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectNote {
    pub line: u64,
    pub reason: String,
}

/// The counts of an import. `rows_read` = `imported` + `updated` + `duplicates` + `rejected` +
/// `skipped_deleted`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    pub file: String,
    pub dry_run: bool,
    /// Asked for as a bulk load (`--bulk`).
    pub bulk: bool,
    /// A console came live during a bulk load: the rows from this line on were written the
    /// ordinary way.
    pub ordinary_from_line: Option<u64>,
    pub on_duplicate: String,
    pub delimiter: String,
    /// "csv", or "vcard" for a .vcf file (whose rows are its cards).
    pub format: String,
    /// Data rows read (blank lines not included).
    pub rows_read: u64,
    pub imported: u64,
    pub updated: u64,
    /// `duplicates_in_database` + `unchanged` + `duplicates_in_file`.
    pub duplicates: u64,
    /// A stored lead has the phone or email and was kept as it is (skip).
    pub duplicates_in_database: u64,
    /// A stored lead already said what the row says (update, merge): nothing written.
    pub unchanged: u64,
    /// An earlier row of the file is the same person (written to the rejects file).
    pub duplicates_in_file: u64,
    pub rejected: u64,
    /// Rows the source marks deleted (Salesforce's IsDeleted), skipped.
    pub skipped_deleted: u64,
    /// Other CRMs' status values read as coldcall statuses: value → (status, rows).
    pub statuses_mapped: BTreeMap<String, (LeadStatus, u64)>,
    /// Status values with no mapping → rows (those rows are rejected).
    pub statuses_unmapped: BTreeMap<String, u64>,
    /// Imported and updated leads by where their calling zone comes from.
    pub zones: BTreeMap<ZoneOrigin, u64>,
    /// Further phone numbers and emails of the rows taken written as contact points of their
    /// leads (a stored lead gets only those it did not have; on a dry run, those it would get).
    pub contact_points: u64,
    /// Further phone numbers and emails a stored lead already had (as a contact point, or as its
    /// own phone or email): nothing written for them.
    pub contact_points_present: u64,
    /// Further numbers or emails that are not valid and were left out.
    pub invalid_contact_points: u64,
    /// Rejected rows by what was wrong ("phone", "email", "field count", ...).
    pub rejected_by_kind: BTreeMap<String, u64>,
    /// Empty lines and lines of only delimiters, skipped.
    pub blank_lines: u64,
    pub rejects_file: Option<RejectsFile>,
    /// The first rejected or repeated rows.
    pub rejects: Vec<RejectNote>,
    pub seconds: f64,
    pub rows_per_second: f64,
}

impl ImportReport {
    /// Every row read is counted once.
    pub fn is_balanced(&self) -> bool {
        self.rows_read == self.imported + self.updated + self.duplicates + self.rejected + self.skipped_deleted
            && self.duplicates == self.duplicates_in_database + self.unchanged + self.duplicates_in_file
    }

    fn note(&mut self, line: u64, reason: &str) {
        if self.rejects.len() < SAMPLE {
            self.rejects.push(RejectNote {
                line,
                reason: reason.to_string(),
            });
        }
    }
}

/// An import that stopped part-way: what was committed before, and where and why it stopped
/// (line 0 with no row read: it did not start).
#[derive(Debug, thiserror::Error)]
pub struct ImportStopped {
    pub report: ImportReport,
    pub line: u64,
    pub cause: String,
}

impl std::fmt::Display for ImportStopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 && self.report.rows_read == 0 {
            return write!(f, "nothing was imported: {}", self.cause);
        }
        write!(
            f,
            "the import stopped at line {line}: {cause}. Rows before line {line} are committed ({} imported, {} \
             updated); run the same import again to finish: rows already in count as duplicates",
            self.report.imported,
            self.report.updated,
            line = self.line,
            cause = self.cause
        )
    }
}

/// Why a bulk load may not run now, or None. Through a floor server it never runs: the server
/// serves consoles, and its batches come as JSON, not COPY.
pub async fn bulk_refusal(store: &Store) -> Result<Option<String>, String> {
    if store.kind() == BackendKind::Server {
        return Ok(Some(
            "import --bulk runs against the database directly (an admin with --database), not through the floor \
             server; the ordinary import (without --bulk) goes through the server and is safe beside a working floor"
                .into(),
        ));
    }
    let live = store
        .live_floor()
        .await
        .map_err(|e| format!("cannot read who is on the floor: {e}"))?;
    Ok(live.map(|live| {
        format!(
            "import --bulk needs a quiet floor, and {live}. It holds the floor's writes to leads back while each \
             batch is written; run it when the floor is closed, or run the ordinary import (without --bulk), \
             which is safe beside a working floor"
        )
    }))
}

/// An import with its file opened and its columns mapped, ready to run.
pub struct LeadImport {
    source: Source,
    mapping: Mapping,
    options: ImportOptions,
}

impl LeadImport {
    /// Opens the file and maps its columns; fails before anything is written when the file
    /// cannot be read or a required column is missing.
    pub fn open(path: &Path, options: ImportOptions) -> Result<LeadImport, ImportError> {
        let source = Source::open(path, options.delimiter)?;
        let mapping = Mapping::with_sets(&source.headers, &options.overrides, &options.sets).map_err(|source| {
            ImportError::Mapping {
                path: path.display().to_string(),
                source,
            }
        })?;
        Ok(LeadImport {
            source,
            mapping,
            options,
        })
    }

    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    pub fn delimiter(&self) -> u8 {
        self.source.delimiter
    }

    /// Bytes in the file, for a progress bar.
    pub fn total_bytes(&self) -> u64 {
        self.source.total_bytes
    }

    /// The rejects file this import writes (None on a dry run without `--rejects`).
    pub fn rejects_path(&self) -> Option<PathBuf> {
        match (&self.options.rejects, self.options.dry_run) {
            (Some(path), _) => Some(path.clone()),
            (None, true) => None,
            (None, false) => Some(rejects::default_path(&self.source.path)),
        }
    }

    /// Reads, validates and writes every row. `progress` is called after each batch with the
    /// counts so far and the bytes of the file read.
    pub async fn run(
        self,
        store: &Store,
        mut progress: impl FnMut(&ImportReport, u64),
    ) -> Result<ImportReport, ImportStopped> {
        let started = Instant::now();
        let stop = |report: &ImportReport, line: u64, cause: String| ImportStopped {
            report: report.clone(),
            line,
            cause,
        };
        let file = self.source.name();
        let mut report = ImportReport {
            file: file.clone(),
            dry_run: self.options.dry_run,
            bulk: self.options.bulk,
            on_duplicate: self.options.mode.as_str().into(),
            delimiter: super::sniff::delimiter_name(self.source.delimiter),
            format: self.source.format().into(),
            ..ImportReport::default()
        };
        let mut rejects = self
            .rejects_path()
            .map(|path| Rejects::new(path, self.source.headers.clone(), self.source.delimiter));
        let reason = format!("imported from {file}");
        let options = self.options;
        // A dry run writes nothing: it decides the same either way.
        let mut bulk = options.bulk && !options.dry_run;
        if bulk {
            match bulk_refusal(store).await {
                Ok(None) => {}
                Ok(Some(why)) | Err(why) => return Err(stop(&report, 0, why)),
            }
        }
        let default_zone = match options.default_zone {
            Some(tz) => tz,
            None => {
                store
                    .policy()
                    .await
                    .map_err(|e| stop(&report, 0, format!("cannot read the shared settings: {e}")))?
                    .default_timezone
            }
        };
        let rules = RowRules {
            mapping: self.mapping.clone(),
            region: options.region.clone(),
            statuses: StatusMap::new(&options.statuses),
            default_zone,
        };
        let batch_size = match options.batch_size {
            0 if bulk => default_bulk_batch(store.kind()),
            0 => default_batch(store.kind()),
            n => n,
        };
        let mut batches = self.source.spawn(batch_size, move |record| {
            read_row(record, &rules).map_err(|e| Reject {
                kind: e.kind(),
                reason: e.to_string(),
                skip: matches!(e, super::row::RowError::Deleted { .. }),
                unmapped_status: e.unmapped_status(),
            })
        });

        let mut seen = SeenKeys::default();

        loop {
            let Some(chunk) = batches.recv().await else {
                let line = report.rejects.last().map(|n| n.line).unwrap_or(0);
                return Err(stop(&report, line, "the file reader stopped unexpectedly".into()));
            };
            let rows = match chunk {
                Chunk::Rows(rows, bytes) => {
                    let first_line = rows.first().map(|r| r.line).unwrap_or(0);
                    // Checked again before every batch after the first: a console that comes
                    // live is not held back by the rest.
                    if bulk && report.rows_read > 0 && !matches!(bulk_refusal(store).await, Ok(None)) {
                        bulk = false;
                        report.ordinary_from_line = Some(first_line);
                    }
                    let write = Batch {
                        options: &options,
                        reason: &reason,
                        bulk,
                    };
                    if let Err(cause) = apply_batch(store, write, rows, &mut seen, &mut report, rejects.as_mut()).await
                    {
                        let stopped = stop(&report, first_line, cause);
                        finish_stopped(store, &options, &file, rejects, &stopped).await;
                        return Err(stopped);
                    }
                    progress(&report, bytes);
                    continue;
                }
                Chunk::Done { blank_lines } => blank_lines,
                Chunk::Failed(error) => {
                    let line = match &error {
                        super::reader::ReadError::TooLong { line } => *line,
                        _ => 0,
                    };
                    let stopped = stop(&report, line, error.to_string());
                    finish_stopped(store, &options, &file, rejects, &stopped).await;
                    return Err(stopped);
                }
            };
            report.blank_lines = rows;
            break;
        }

        if let Some(rejects) = rejects {
            let path = rejects.path().display().to_string();
            report.rejects_file = rejects
                .finish()
                .map_err(|e| stop(&report, 0, format!("cannot write the rejects file {path}: {e}")))?;
        }
        report.seconds = started.elapsed().as_secs_f64();
        report.rows_per_second = report.rows_read as f64 / report.seconds.max(1e-9);
        assert!(report.is_balanced(), "every row read is counted once: {report:?}");
        if !options.dry_run {
            let summary = serde_json::to_value(counts(&report)).unwrap_or_default();
            store
                .record_import("leads", &file, &summary, options.actor)
                .await
                .map_err(|e| {
                    stop(
                        &report,
                        0,
                        format!("the rows are in, but the audit log entry failed: {e}"),
                    )
                })?;
        }
        Ok(report)
    }
}

/// The counts kept in the audit log.
fn counts(report: &ImportReport) -> serde_json::Value {
    serde_json::json!({
        "rows_read": report.rows_read,
        "imported": report.imported,
        "updated": report.updated,
        "duplicates": report.duplicates,
        "rejected": report.rejected,
        "skipped_deleted": report.skipped_deleted,
        "on_duplicate": report.on_duplicate,
        "bulk": report.bulk,
    })
}

/// Keeps the rejects found so far and records the partial import in the audit log (both best
/// effort: the database may be what failed).
async fn finish_stopped(
    store: &Store,
    options: &ImportOptions,
    file: &str,
    rejects: Option<Rejects>,
    stopped: &ImportStopped,
) {
    if let Some(mut rejects) = rejects {
        let _ = rejects.flush();
    }
    if !options.dry_run {
        let mut summary = counts(&stopped.report);
        summary["stopped_at_line"] = stopped.line.into();
        summary["cause"] = stopped.cause.clone().into();
        let _ = store.record_import("leads", file, &summary, options.actor).await;
    }
}

/// How a batch is written.
#[derive(Clone, Copy)]
struct Batch<'a> {
    options: &'a ImportOptions,
    reason: &'a str,
    bulk: bool,
}

/// What became of one row of a batch.
enum Fate {
    Counted,
    /// Goes to the rejects file with this reason.
    Reject(String),
}

/// Writes one batch and counts its rows. Nothing is counted or written to the rejects file
/// unless the batch's transaction committed.
async fn apply_batch(
    store: &Store,
    write: Batch<'_>,
    rows: Vec<Parsed<ParsedLead>>,
    seen: &mut SeenKeys,
    report: &mut ImportReport,
    rejects: Option<&mut Rejects>,
) -> Result<(), String> {
    let mut raws = Vec::with_capacity(rows.len());
    let mut fates: Vec<Option<Fate>> = Vec::with_capacity(rows.len());
    let mut to_store = Vec::with_capacity(rows.len());
    let mut stored_index = Vec::with_capacity(rows.len());
    // Per stored row: its zone origin.
    let mut extras: Vec<ZoneOrigin> = Vec::with_capacity(rows.len());
    let mut tally = ImportReport::default();
    for parsed in rows {
        raws.push((parsed.line, parsed.raw));
        match parsed.result {
            Err(reject) if reject.skip => {
                tally.skipped_deleted += 1;
                fates.push(Some(Fate::Counted));
            }
            Err(reject) => {
                if let Some(value) = reject.unmapped_status {
                    *tally.statuses_unmapped.entry(value).or_default() += 1;
                }
                tally.rejected += 1;
                *tally.rejected_by_kind.entry(reject.kind).or_default() += 1;
                fates.push(Some(Fate::Reject(reject.reason)));
            }
            Ok(parsed) => {
                let ParsedLead {
                    row,
                    invalid_contacts,
                    zone,
                    status_mapped,
                } = parsed;
                if let Some((value, status)) = status_mapped {
                    tally.statuses_mapped.entry(value).or_insert((status, 0)).1 += 1;
                }
                tally.invalid_contact_points += u64::from(invalid_contacts);
                let earlier = std::iter::once(&row.fields.phone)
                    .chain(row.fields.email.as_ref())
                    .find_map(|key| seen.line_of(key).map(|line| (line, key.clone())));
                match earlier {
                    Some((line, key)) => {
                        tally.duplicates_in_file += 1;
                        fates.push(Some(Fate::Reject(format!(
                            "duplicate: same lead as line {line} ({key})"
                        ))));
                    }
                    None => {
                        stored_index.push(fates.len());
                        fates.push(None);
                        to_store.push(row);
                        extras.push(zone);
                    }
                }
            }
        }
    }

    let Batch { options, reason, bulk } = write;
    let batch = ImportBatch {
        rows: &to_store,
        mode: options.mode,
        actor: options.actor,
        reason,
        dry_run: options.dry_run,
    };
    let results = if bulk {
        store.import_leads_bulk(&batch).await
    } else {
        store.import_leads(&batch).await
    }
    .map_err(|e| e.to_string())?;

    for (((result, row), index), zone) in results.into_iter().zip(&to_store).zip(stored_index).zip(extras) {
        tally.contact_points += u64::from(result.contacts_added);
        tally.contact_points_present += u64::from(result.contacts_present);
        let remember = match &result.outcome {
            RowOutcome::Imported { .. } => {
                tally.imported += 1;
                *tally.zones.entry(zone).or_default() += 1;
                true
            }
            RowOutcome::Updated { .. } => {
                tally.updated += 1;
                *tally.zones.entry(zone).or_default() += 1;
                true
            }
            RowOutcome::Unchanged { .. } => {
                tally.unchanged += 1;
                true
            }
            RowOutcome::Duplicate { .. } => {
                tally.duplicates_in_database += 1;
                true
            }
            RowOutcome::SameLeadAs { line, key } => {
                tally.duplicates_in_file += 1;
                fates[index] = Some(Fate::Reject(format!("duplicate: same lead as line {line} ({key})")));
                false
            }
            RowOutcome::Rejected { kind, reason } => {
                tally.rejected += 1;
                *tally.rejected_by_kind.entry(kind.to_string()).or_default() += 1;
                fates[index] = Some(Fate::Reject(reason.clone()));
                false
            }
        };
        if remember {
            let matched = result
                .matched
                .iter()
                .flat_map(|k| std::iter::once(&k.phone).chain(k.email.as_ref()));
            for key in std::iter::once(&row.fields.phone)
                .chain(row.fields.email.as_ref())
                .chain(matched)
            {
                seen.insert(key, row.line);
            }
        }
        fates[index].get_or_insert(Fate::Counted);
    }

    report.rows_read += raws.len() as u64;
    report.imported += tally.imported;
    report.updated += tally.updated;
    report.unchanged += tally.unchanged;
    report.duplicates_in_database += tally.duplicates_in_database;
    report.duplicates_in_file += tally.duplicates_in_file;
    report.duplicates += tally.unchanged + tally.duplicates_in_database + tally.duplicates_in_file;
    report.rejected += tally.rejected;
    report.skipped_deleted += tally.skipped_deleted;
    report.contact_points += tally.contact_points;
    report.contact_points_present += tally.contact_points_present;
    report.invalid_contact_points += tally.invalid_contact_points;
    for (value, (status, n)) in tally.statuses_mapped {
        report.statuses_mapped.entry(value).or_insert((status, 0)).1 += n;
    }
    for (value, n) in tally.statuses_unmapped {
        *report.statuses_unmapped.entry(value).or_default() += n;
    }
    for (zone, n) in tally.zones {
        *report.zones.entry(zone).or_default() += n;
    }
    for (kind, n) in tally.rejected_by_kind {
        *report.rejected_by_kind.entry(kind).or_default() += n;
    }
    // Counted first: the batch is committed even if the rejects file cannot be written.
    let mut rejects = rejects;
    for ((line, raw), fate) in raws.iter().zip(&fates) {
        if let Some(Fate::Reject(why)) = fate {
            report.note(*line, why);
            if let Some(file) = rejects.as_deref_mut() {
                file.write(&raw.as_record(*line), why)
                    .map_err(|e| format!("cannot write the rejects file: {e}"))?;
            }
        }
    }
    Ok(())
}
