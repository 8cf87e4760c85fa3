//! `coldcall export`: leads and calls as CSV, streamed a keyset page at a time so an export of
//! a million leads never holds more than one page in memory.
//!
//! Every cell is written formula-safe (`domain::formula`): a spreadsheet opening the file never
//! runs a lead's name as a formula. The lead columns carry the lead field names, so the import
//! maps an export back on its own; columns the import does not read (ids, counters,
//! timestamps) come after them.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::domain::formula::guard;
use crate::domain::LeadField;
use crate::store::{CallFilter, Lead, LeadFilter, Store, StoreError};

/// Rows fetched per page.
const PAGE: u32 = 1_000;

/// Columns after the lead fields (the import ignores them).
const LEAD_EXTRA: &[&str] = &[
    "id",
    "consent_date",
    "call_attempts",
    "last_call_at",
    "next_call_at",
    "data_quality",
    "created_at",
    "updated_at",
];

const CALL_COLUMNS: &[&str] = &[
    "id",
    "started_at",
    "ringing_at",
    "answered_at",
    "ended_at",
    "agent",
    "lead_id",
    "lead_name",
    "company",
    "phone_number",
    "from_number",
    "direction",
    "status",
    "disposition",
    "duration_s",
    "notes",
    "recording_url",
];

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Write(#[from] csv::Error),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}

/// Who reads the export: a file keeps the data as stored; a terminal (or a pipe that may end on
/// one) gets cells that cannot drive it — control characters other than line breaks and tabs,
/// bidi overrides and zero-width characters are neutralised as on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    File,
    Terminal,
}

fn write_row<W: Write>(out: &mut csv::Writer<W>, cells: &[String], reader: Reader) -> Result<(), csv::Error> {
    out.write_record(cells.iter().map(|c| {
        let cell = guard(c).into_owned();
        match reader {
            Reader::File => cell,
            Reader::Terminal => cell
                .split('\n')
                .map(|line| crate::display::printable(&line.replace('\t', " ")))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }))
}

/// The lead's cells in export order: the editable fields as a person would type them (so the
/// import reads them back to the same values), then the rest.
fn lead_cells(lead: &Lead) -> Vec<String> {
    let input = lead.fields().to_input();
    let mut cells = vec![
        input.first_name,
        input.last_name,
        input.email,
        input.phone,
        input.company,
        input.title,
        input.timezone,
        input.status,
        input.priority,
        input.lead_score,
        input.conversion_probability,
        input.source,
        input.notes,
        input.consent_given,
        input.do_not_call,
        input.do_not_email,
    ];
    debug_assert_eq!(cells.len(), LeadField::ALL.len());
    cells.extend([
        lead.id.to_string(),
        time(lead.consent_date),
        lead.call_attempts.to_string(),
        time(lead.last_call_at),
        time(lead.next_call_at),
        lead.data_quality.to_string(),
        time(Some(lead.created_at)),
        time(Some(lead.updated_at)),
    ]);
    cells
}

/// Writes every live lead matching `filter` (in list order) to `out`; returns how many.
pub async fn export_leads<W: Write>(store: &Store, filter: &LeadFilter, out: W) -> Result<u64, ExportError> {
    export_leads_for(store, filter, out, Reader::File).await
}

/// `export_leads` with the cells made safe for `reader`.
pub async fn export_leads_for<W: Write>(
    store: &Store,
    filter: &LeadFilter,
    out: W,
    reader: Reader,
) -> Result<u64, ExportError> {
    let mut csv = csv::Writer::from_writer(out);
    let header: Vec<String> = LeadField::ALL
        .iter()
        .map(|f| f.as_str())
        .chain(LEAD_EXTRA.iter().copied())
        .map(String::from)
        .collect();
    write_row(&mut csv, &header, reader)?;
    let mut count = 0;
    let mut after = None;
    loop {
        let page = store.list_leads(filter, after, PAGE).await?;
        for lead in &page.items {
            write_row(&mut csv, &lead_cells(lead), reader)?;
            count += 1;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    csv.flush()?;
    Ok(count)
}

/// Writes every call matching `filter`, oldest first, to `out`; returns how many.
pub async fn export_calls<W: Write>(store: &Store, filter: &CallFilter, out: W) -> Result<u64, ExportError> {
    export_calls_for(store, filter, out, Reader::File).await
}

/// `export_calls` with the cells made safe for `reader`.
pub async fn export_calls_for<W: Write>(
    store: &Store,
    filter: &CallFilter,
    out: W,
    reader: Reader,
) -> Result<u64, ExportError> {
    let mut csv = csv::Writer::from_writer(out);
    let header: Vec<String> = CALL_COLUMNS.iter().map(|c| c.to_string()).collect();
    write_row(&mut csv, &header, reader)?;
    let mut count = 0;
    let mut after = None;
    loop {
        let page = store.export_calls(filter, after, PAGE).await?;
        for record in &page {
            let c = &record.call;
            write_row(
                &mut csv,
                &[
                    c.id.to_string(),
                    time(Some(c.started_at)),
                    time(c.ringing_at),
                    time(c.answered_at),
                    time(c.ended_at),
                    c.agent_name.clone(),
                    c.lead_id.to_string(),
                    record.lead_name.clone(),
                    record.company.clone(),
                    c.phone_number.clone(),
                    c.from_number.clone().unwrap_or_default(),
                    c.direction.to_string(),
                    c.status.to_string(),
                    c.disposition.clone().unwrap_or_default(),
                    c.duration_s.map(|d| d.to_string()).unwrap_or_default(),
                    c.notes.clone().unwrap_or_default(),
                    c.recording_url.clone().unwrap_or_default(),
                ],
                reader,
            )?;
            count += 1;
        }
        if page.len() < PAGE as usize {
            break;
        }
        after = page.last().map(|r| r.cursor());
    }
    csv.flush()?;
    Ok(count)
}
