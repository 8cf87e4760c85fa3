//! The rejects file: every row an import could not take, as it was in the file, with its line
//! number and the reason in front, so an admin can fix the rows and import the file again.
//!
//! It is created on the first reject (a clean import leaves no empty file); a rejects file left
//! at the same path by an earlier run is replaced, or removed when this run rejects nothing, so
//! the file beside the input always belongs to the latest import. Cells are written formula-safe
//! (see `domain::formula`); import removes the guard again, and ignores the two extra columns.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use crate::domain::formula::guard;

use super::reader::Record;

/// The two columns put in front of the original ones.
pub const LINE_COLUMN: &str = "import_line";
pub const REASON_COLUMN: &str = "import_error";

/// `leads.csv` → `leads.rejects.csv`, beside the input.
pub fn default_path(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    input.with_file_name(format!("{stem}.rejects.csv"))
}

pub struct Rejects {
    path: PathBuf,
    headers: Vec<String>,
    delimiter: u8,
    writer: Option<csv::Writer<BufWriter<File>>>,
    written: u64,
}

/// What the rejects file holds after an import.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RejectsFile {
    pub path: PathBuf,
    pub rows: u64,
}

impl Rejects {
    /// Writes with the input's delimiter, so the file opens like the input did.
    pub fn new(path: PathBuf, headers: Vec<String>, delimiter: u8) -> Rejects {
        Rejects {
            path,
            headers,
            delimiter,
            writer: None,
            written: 0,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn write(&mut self, record: &Record<'_>, reason: &str) -> io::Result<()> {
        if self.writer.is_none() {
            let file = File::create(&self.path)?;
            let mut writer = csv::WriterBuilder::new()
                .delimiter(self.delimiter)
                .flexible(true)
                .from_writer(BufWriter::new(file));
            let header = [LINE_COLUMN, REASON_COLUMN]
                .into_iter()
                .map(|h| h.to_string())
                .chain(self.headers.iter().map(|h| guard(h).into_owned()));
            writer.write_record(header).map_err(io::Error::other)?;
            self.writer = Some(writer);
        }
        let writer = self.writer.as_mut().expect("opened above");
        let line = record.line.to_string();
        let reason = guard(reason);
        let cells = [line.as_bytes(), reason.as_bytes()]
            .into_iter()
            .map(std::borrow::Cow::Borrowed)
            .chain(record.iter().map(guard_bytes));
        writer.write_record(cells).map_err(io::Error::other)?;
        self.written += 1;
        Ok(())
    }

    /// Flushes the file, or removes a stale one when nothing was rejected.
    pub fn finish(self) -> io::Result<Option<RejectsFile>> {
        match self.writer {
            Some(mut writer) => {
                writer.flush()?;
                Ok(Some(RejectsFile {
                    path: self.path,
                    rows: self.written,
                }))
            }
            None => {
                match std::fs::remove_file(&self.path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
                Ok(None)
            }
        }
    }

    /// Flushes what was written so far (an import that stops keeps the rejects it found).
    pub fn flush(&mut self) -> io::Result<()> {
        match self.writer.as_mut() {
            Some(writer) => writer.flush(),
            None => Ok(()),
        }
    }
}

/// `guard` for a cell that may not be UTF-8 text (it is written back byte for byte).
fn guard_bytes(cell: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match std::str::from_utf8(cell) {
        Ok(text) => match guard(text) {
            std::borrow::Cow::Borrowed(_) => cell.into(),
            std::borrow::Cow::Owned(guarded) => guarded.into_bytes().into(),
        },
        Err(_) if matches!(cell.first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')) => {
            let mut guarded = Vec::with_capacity(cell.len() + 1);
            guarded.push(b'\'');
            guarded.extend_from_slice(cell);
            guarded.into()
        }
        Err(_) => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_sit_beside_the_input() {
        assert_eq!(
            default_path(Path::new("/data/leads.csv")),
            PathBuf::from("/data/leads.rejects.csv")
        );
        assert_eq!(default_path(Path::new("list")), PathBuf::from("list.rejects.csv"));
    }
}
