//! `coldcall import FILE` and `coldcall dnc import FILE`: the command-line side of an import:
//! flags, the progress bar, the column mapping and the summary.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::output::{clean, table};
use super::{CliError, Ctx};
use crate::domain::{DuplicateMode, LeadField, ZoneOrigin};
use crate::import::mapping::{parse_override, parse_set, Mapping, Placement, Target};
use crate::import::statuses;
use crate::import::{sniff, DncImport, DncImportOptions, DncReport, ImportOptions, ImportReport, LeadImport};

/// Shown after `import --help`: what a column can map to, and what is recognised by itself.
const IMPORT_AFTER_HELP: &str = "\
Fields a column can map to (--map COLUMN=FIELD) or be set to (--set FIELD=VALUE):
  first_name, last_name, email, phone, company, title, timezone, status, priority, lead_score,
  conversion_probability, source, notes, consent_given, do_not_call, do_not_email;
  for --map also full_name (split into first and last name) and ignore.

Recognised without --map: the headers of Salesforce, HubSpot, Pipedrive, Zoho and Close exports,
Google Contacts (both layouts), Outlook, Thunderbird and Apple, and coldcall's own export.
Further phone and email columns (Phone 2, Mobile, Home Phone, E-mail 2, ...) are the lead's
contact points. Rows marked deleted in the source (IsDeleted = 1) are skipped and counted.
The standard lead statuses of Salesforce, HubSpot, Pipedrive and Zoho are mapped by default
(--dry-run shows the table and any values with no mapping).
A .vcf file (vCard 2.1, 3.0 or 4.0) is read card by card through the same checks.";

#[derive(Debug, Args)]
#[command(after_help = IMPORT_AFTER_HELP)]
pub struct ImportArgs {
    /// The file: CSV (comma, semicolon or tab separated, UTF-8 with or without BOM) or vCard (.vcf)
    file: PathBuf,
    /// Which column fills which lead field, when its header is not recognised (repeatable):
    /// COLUMN=FIELD, e.g. --map 'Handy=phone'; FIELD 'ignore' leaves a column out
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    map: Vec<String>,
    /// Read a status value of the file as a coldcall status (repeatable), on top of the
    /// standard table: FROM=TO, e.g. --map-status 'Hot Prospect=qualified'
    #[arg(long = "map-status", value_name = "FROM=TO")]
    map_status: Vec<String>,
    /// Give every row this value for a field (repeatable), e.g. --set 'company=Acme Ltd';
    /// a column for that field is then ignored
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
    /// A row whose phone or email is already stored: skip it, update the stored lead with the
    /// row's values, or merge (fill only what the stored lead lacks). Do-not-call is never cleared
    #[arg(long, value_name = "skip|update|merge", default_value = "skip")]
    on_duplicate: String,
    /// Show the column mapping and what the import would do; write nothing
    #[arg(long)]
    dry_run: bool,
    /// The delimiter, when the guess from the header line is wrong: , ; | or tab
    #[arg(long)]
    delimiter: Option<String>,
    /// Where rows that cannot be imported go, with line number and reason
    /// (default: FILE.rejects.csv beside FILE)
    #[arg(long, value_name = "PATH")]
    rejects: Option<PathBuf>,
    /// For large files: the same checks, rejects and summary, with the change feed, status log
    /// and search index written once per batch instead of row by row. Needs a quiet floor (no
    /// console open, no call in progress) and the database itself (--database), not a floor server
    #[arg(long)]
    bulk: bool,
    /// Rows per transaction (0: the backend's default)
    #[arg(long, default_value_t = 0, hide = true)]
    batch_size: usize,
}

#[derive(Debug, Args)]
pub struct DncImportArgs {
    /// The CSV file: one number per row, with a 'number' (or 'phone') column and an optional
    /// 'reason' column, or a bare list of numbers
    file: PathBuf,
    /// Name the columns when their headers are not recognised: COLUMN=number, COLUMN=reason
    #[arg(long = "map", value_name = "COLUMN=number|reason")]
    map: Vec<String>,
    /// Show what the import would do; write nothing
    #[arg(long)]
    dry_run: bool,
    /// The delimiter, when the guess from the first line is wrong: , ; | or tab
    #[arg(long)]
    delimiter: Option<String>,
    /// Where invalid numbers go, with line number and reason (default: FILE.rejects.csv)
    #[arg(long, value_name = "PATH")]
    rejects: Option<PathBuf>,
}

fn usage(e: impl ToString) -> CliError {
    CliError::Usage(e.to_string())
}

fn overrides(map: &[String]) -> Result<Vec<(String, String)>, CliError> {
    map.iter().map(|m| parse_override(m).map_err(usage)).collect()
}

/// A bar over the file's bytes with rows per second, on a terminal only; scripts and logs get
/// the summary alone.
struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Progress {
    fn new(total_bytes: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
            bar.set_style(
                // The counts go on a line of their own so the bar keeps its width at 80 columns.
                ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {percent:>3}%\n{msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
        }
    }

    fn update(&self, rows: u64, bytes: u64, tail: String) {
        if let Some(bar) = &self.bar {
            let rate = rows as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
            bar.set_position(bytes);
            bar.set_message(format!("{rows} rows, {rate:.0} rows/s, {tail}"));
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

pub async fn run(ctx: &Ctx, args: ImportArgs) -> Result<(), CliError> {
    let actor = ctx.actor().await?.map(|a| a.id);
    let mode: DuplicateMode = args.on_duplicate.parse().map_err(usage)?;
    let delimiter = args
        .delimiter
        .as_deref()
        .map(sniff::parse_delimiter)
        .transpose()
        .map_err(usage)?;
    let map_status = args
        .map_status
        .iter()
        .map(|m| statuses::parse_override(m).map_err(usage))
        .collect::<Result<Vec<_>, _>>()?;
    let sets = args
        .set
        .iter()
        .map(|m| parse_set(m).map_err(usage))
        .collect::<Result<Vec<_>, _>>()?;
    let options = ImportOptions {
        mode,
        region: ctx.region.clone(),
        overrides: overrides(&args.map)?,
        statuses: map_status,
        sets,
        default_zone: None,
        delimiter,
        rejects: args.rejects,
        dry_run: args.dry_run,
        batch_size: args.batch_size,
        actor,
        bulk: args.bulk,
    };
    let import = LeadImport::open(&args.file, options).map_err(usage)?;
    let mapping = import.mapping().clone();
    if args.dry_run && !ctx.out.json {
        super::output::print_line(&mapping_table(&mapping));
        for (field, value) in &mapping.sets {
            super::output::print_line(&format!("every row: {field} = '{}' (--set)", clean(value)));
        }
    }
    let progress = Progress::new(import.total_bytes());
    let result = import
        .run(&ctx.store, |r, bytes| {
            progress.update(
                r.rows_read,
                bytes,
                format!(
                    "{} new, {} updated, {} duplicates, {} rejected",
                    r.imported, r.updated, r.duplicates, r.rejected
                ),
            )
        })
        .await;
    progress.done();
    let report = result.map_err(usage)?;
    let json = serde_json::json!({
        "mapping": mapping.columns,
        "statuses": statuses::table(),
        "report": report,
    });
    ctx.out.show(&json, || lead_summary(&report, &mapping));
    Ok(())
}

pub async fn run_dnc(ctx: &Ctx, args: DncImportArgs) -> Result<(), CliError> {
    let actor = ctx.actor().await?.map(|a| a.id);
    let options = DncImportOptions {
        overrides: overrides(&args.map)?,
        delimiter: args
            .delimiter
            .as_deref()
            .map(sniff::parse_delimiter)
            .transpose()
            .map_err(usage)?,
        rejects: args.rejects,
        dry_run: args.dry_run,
        actor,
        ..DncImportOptions::new(&ctx.region)
    };
    let import = DncImport::open(&args.file, options).map_err(usage)?;
    let progress = Progress::new(import.total_bytes());
    let result = import
        .run(&ctx.store, |r, bytes| {
            progress.update(
                r.rows_read,
                bytes,
                format!(
                    "{} added, {} duplicates, {} rejected",
                    r.added, r.duplicates, r.rejected
                ),
            )
        })
        .await;
    progress.done();
    let report = result.map_err(usage)?;
    ctx.out.show(&report, || dnc_summary(&report));
    Ok(())
}

fn mapping_table(mapping: &Mapping) -> String {
    let rows: Vec<Vec<String>> = mapping
        .columns
        .iter()
        .map(|c| {
            let field = c.target.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
            let note = match c.placement {
                Placement::Recognised => String::new(),
                Placement::Mapped => "--map".into(),
                Placement::Fallback => match c.target {
                    Some(Target::Field(LeadField::Phone | LeadField::Email)) => {
                        "used when the column before it is empty, else a contact point of the lead".into()
                    }
                    _ => "used when the column before it is empty".into(),
                },
                Placement::Ignored => "ignored".into(),
                Placement::Set => "ignored: --set gives every row its value".into(),
                Placement::Label => "the label of the number or email beside it".into(),
                Placement::ExportOnly => "not imported (written by export)".into(),
                Placement::Unknown => format!("not a lead field: --map '{}=FIELD' to import it", c.header),
            };
            let field = if matches!(c.placement, Placement::Ignored | Placement::Set) {
                "-".into()
            } else {
                field
            };
            vec![c.header.clone(), field, note]
        })
        .collect();
    table(&["COLUMN", "FIELD", "NOTE"], &rows)
}

fn lead_summary(r: &ImportReport, mapping: &Mapping) -> String {
    let mut text = String::new();
    if r.dry_run {
        text.push_str("dry run: nothing was written; this is what the import would do\n");
    }
    let what = if r.format == "vcard" {
        format!("{} cards read (vCard · duplicates: {})", r.rows_read, r.on_duplicate)
    } else {
        format!(
            "{} rows read (delimiter '{}' · duplicates: {})",
            r.rows_read, r.delimiter, r.on_duplicate
        )
    };
    text.push_str(&format!("{}: {what}\n", clean(&r.file)));
    text.push_str(&format!("  {:<12}{:>9}\n", "imported", r.imported));
    text.push_str(&format!("  {:<12}{:>9}\n", "updated", r.updated));
    text.push_str(&format!(
        "  {:<12}{:>9}  ({} already in the database, {} unchanged, {} repeated in the file)\n",
        "duplicates", r.duplicates, r.duplicates_in_database, r.unchanged, r.duplicates_in_file
    ));
    let kinds: Vec<String> = r.rejected_by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
    text.push_str(&format!("  {:<12}{:>9}", "rejected", r.rejected));
    if !kinds.is_empty() {
        text.push_str(&format!("  ({})", kinds.join(", ")));
    }
    text.push('\n');
    if r.skipped_deleted > 0 {
        text.push_str(&format!(
            "  {:<12}{:>9}  (marked deleted in the source)\n",
            "skipped", r.skipped_deleted
        ));
    }
    text.push_str(&zone_summary(r));
    if r.contact_points > 0 || r.invalid_contact_points > 0 {
        text.push_str(&format!(
            "further phone numbers and emails: {} (contact points of the leads)",
            r.contact_points
        ));
        if r.invalid_contact_points > 0 {
            text.push_str(&format!(", {} not valid and left out", r.invalid_contact_points));
        }
        text.push('\n');
    }
    text.push_str(&status_summary(r));
    let unused: Vec<String> = mapping.unused().map(|c| format!("'{}'", clean(&c.header))).collect();
    if !unused.is_empty() && !r.dry_run {
        text.push_str(&format!("columns not imported: {}\n", unused.join(", ")));
    }
    match &r.rejects_file {
        Some(file) => text.push_str(&format!(
            "rows not taken, with line and reason: {} ({} rows)\n",
            file.path.display(),
            file.rows
        )),
        None if r.dry_run && !r.rejects.is_empty() => {
            for note in &r.rejects {
                text.push_str(&format!("  line {}: {}\n", note.line, clean(&note.reason)));
            }
            let more = r.rejected + r.duplicates_in_file - r.rejects.len() as u64;
            if more > 0 {
                text.push_str(&format!("  … and {more} more (--rejects PATH writes them all)\n"));
            }
        }
        None => {}
    }
    if r.blank_lines > 0 {
        text.push_str(&format!("{} blank lines skipped\n", r.blank_lines));
    }
    if let Some(line) = r.ordinary_from_line {
        text.push_str(&format!(
            "a console came live during the bulk import: rows from line {line} on were written the ordinary way\n"
        ));
    }
    if !r.dry_run {
        let mode = if r.bulk { " (bulk)" } else { "" };
        text.push_str(&format!("{:.1} s, {:.0} rows/s{mode}\n", r.seconds, r.rows_per_second));
    }
    text
}

/// Where the imported leads' calling zones come from; the default zone is named when used.
fn zone_summary(r: &ImportReport) -> String {
    let taken: u64 = r.zones.values().sum();
    if taken == 0 {
        return String::new();
    }
    let parts: Vec<String> = ZoneOrigin::ALL
        .iter()
        .filter_map(|o| r.zones.get(o).map(|n| format!("{} {n}", o.label())))
        .collect();
    let mut text = format!("time zones: {}\n", parts.join(" · "));
    if r.zones.contains_key(&ZoneOrigin::Several) {
        text.push_str("  (several possible: called only while it is calling hours in all of them)\n");
    }
    if r.zones.contains_key(&ZoneOrigin::Default) {
        text.push_str("  (default zone: the number gives no clue; set a timezone column to be sure)\n");
    }
    text
}

/// How other CRMs' statuses were read; with --dry-run, the whole table.
fn status_summary(r: &ImportReport) -> String {
    let mut text = String::new();
    if !r.statuses_mapped.is_empty() {
        let parts: Vec<String> = r
            .statuses_mapped
            .iter()
            .map(|(from, (to, n))| format!("'{}' → {to} ({n})", clean(from)))
            .collect();
        text.push_str(&format!("statuses read: {}\n", parts.join(", ")));
    }
    if !r.statuses_unmapped.is_empty() {
        let parts: Vec<String> = r
            .statuses_unmapped
            .iter()
            .map(|(value, n)| format!("'{}' ({n})", clean(value)))
            .collect();
        text.push_str(&format!(
            "statuses with no mapping (rows rejected): {}; add --map-status 'VALUE=STATUS'\n",
            parts.join(", ")
        ));
    }
    if r.dry_run {
        let rows: Vec<Vec<String>> = statuses::table()
            .into_iter()
            .map(|row| vec![row.crm.to_string(), row.value.to_string(), row.status.to_string()])
            .collect();
        text.push_str("status values mapped by default (--map-status FROM=TO overrides):\n");
        text.push_str(&table(&["CRM", "VALUE", "STATUS"], &rows));
        text.push('\n');
    }
    text
}

fn dnc_summary(r: &DncReport) -> String {
    let mut text = String::new();
    if r.dry_run {
        text.push_str("dry run: nothing was written; this is what the import would do\n");
    }
    let columns = match &r.reason_column {
        Some(reason) => format!("numbers from '{}', reasons from '{}'", r.number_column, reason),
        None => format!("numbers from '{}'", r.number_column),
    };
    text.push_str(&format!("{}: {} rows read ({columns})\n", clean(&r.file), r.rows_read));
    text.push_str(&format!(
        "  {:<12}{:>9}\n  {:<12}{:>9}  (already listed or repeated in the file)\n  {:<12}{:>9}\n",
        "added", r.added, "duplicates", r.duplicates, "rejected", r.rejected
    ));
    text.push_str(&format!("leads marked do-not-call: {}\n", r.leads_marked));
    match &r.rejects_file {
        Some(file) => text.push_str(&format!(
            "invalid numbers, with line and reason: {} ({} rows)\n",
            file.path.display(),
            file.rows
        )),
        None => {
            for note in &r.rejects {
                text.push_str(&format!("  line {}: {}\n", note.line, clean(&note.reason)));
            }
        }
    }
    if r.blank_lines > 0 {
        text.push_str(&format!("{} blank lines skipped\n", r.blank_lines));
    }
    text
}
