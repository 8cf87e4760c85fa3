//! Opening an import file and reading it on its own thread.
//!
//! Parsing and validating rows (phone numbers above all) costs about as much CPU as writing them,
//! so a reader thread reads and validates batches while the database writes the previous one.
//! The channel holds at most two batches: memory stays bounded whatever the file size, and a
//! slow database slows the reader instead of letting rows pile up.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use tokio::sync::mpsc;

use super::reader::{OwnedRecord, ReadError, Record, RecordReader};
use super::{sniff, vcard};

/// Where the rows come from.
enum Rows {
    Csv(Box<RecordReader<File>>),
    /// A vCard file, read whole (address books are small) into one row per card.
    Cards(std::vec::IntoIter<(u64, OwnedRecord)>),
}

/// An import file with its header read.
pub struct Source {
    pub path: PathBuf,
    pub delimiter: u8,
    pub headers: Vec<String>,
    pub total_bytes: u64,
    rows: Rows,
    header: (u64, OwnedRecord),
    /// The first row is data, not names (a bare list of numbers).
    header_is_data: bool,
}

/// Why a file cannot be imported at all.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FileError {
    pub path: String,
    pub message: String,
}

impl FileError {
    pub fn new(path: &Path, message: impl Into<String>) -> FileError {
        FileError {
            path: path.display().to_string(),
            message: message.into(),
        }
    }
}

impl Source {
    /// Opens the file, skips a byte-order mark, picks the delimiter (unless given) and reads the
    /// header row.
    pub fn open(path: &Path, delimiter: Option<u8>) -> Result<Source, FileError> {
        let fail = |message: String| FileError::new(path, message);
        let file = File::open(path).map_err(|e| fail(format!("cannot open the file: {e}")))?;
        let total_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut input = BufReader::with_capacity(256 << 10, file);
        let start = input
            .fill_buf()
            .map_err(|e| fail(format!("cannot read the file: {e}")))?;
        let bom = sniff::byte_order_mark(start).map_err(fail)?;
        let is_vcard = vcard::looks_like_vcard(&start[bom..])
            || path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("vcf") || e.eq_ignore_ascii_case("vcard"));
        if is_vcard {
            input.consume(bom);
            let mut bytes = Vec::new();
            input
                .read_to_end(&mut bytes)
                .map_err(|e| fail(format!("cannot read the file: {e}")))?;
            // vCard 2.1 may be in a legacy character set outside quoted-printable values; such
            // bytes are replaced rather than refusing the whole address book.
            let text = String::from_utf8_lossy(&bytes);
            let cards: Vec<(u64, OwnedRecord)> = vcard::parse(&text)
                .iter()
                .map(|card| (card.line, OwnedRecord::from_cells(&vcard::row(card))))
                .collect();
            if cards.is_empty() {
                return Err(fail("the file holds no vCard (no BEGIN:VCARD line)".into()));
            }
            let header = OwnedRecord::from_cells(&vcard::headers());
            return Ok(Source {
                path: path.to_path_buf(),
                delimiter: b',',
                headers: vcard::headers(),
                total_bytes,
                rows: Rows::Cards(cards.into_iter()),
                header: (0, header),
                header_is_data: false,
            });
        }
        let delimiter = delimiter.unwrap_or_else(|| sniff::delimiter(&start[bom..]));
        input.consume(bom);
        let mut reader = RecordReader::from_buffered(input, delimiter);
        let header = reader
            .next_record()
            .map_err(|e| fail(e.to_string()))?
            .ok_or_else(|| fail("the file is empty; the first line must name the columns".into()))?;
        let first = (header.line, header.to_owned());
        let headers = header
            .iter()
            .map(|cell| {
                std::str::from_utf8(cell)
                    .map(|h| h.trim().to_string())
                    .map_err(|_| fail("the header row is not UTF-8 text; save the file as \"CSV UTF-8\"".into()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Source {
            path: path.to_path_buf(),
            delimiter,
            headers,
            total_bytes,
            rows: Rows::Csv(Box::new(reader)),
            header: first,
            header_is_data: false,
        })
    }

    /// The file has no header row: its first row is read as data too.
    pub fn header_is_data(&mut self) {
        self.header_is_data = true;
    }

    /// "vcard" for a vCard file, "csv" otherwise.
    pub fn format(&self) -> &'static str {
        match self.rows {
            Rows::Csv(_) => "csv",
            Rows::Cards(_) => "vcard",
        }
    }

    /// The file name for messages and the audit log.
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }

    /// Starts the reader thread: batches of parsed rows arrive on the receiver, in file order.
    pub fn spawn<T, F>(self, batch_size: usize, parse: F) -> mpsc::Receiver<Chunk<T>>
    where
        T: Send + 'static,
        F: Fn(&Record<'_>) -> Result<T, Reject> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(2);
        let total_bytes = self.total_bytes;
        let mut reader = match self.rows {
            Rows::Csv(reader) => *reader,
            Rows::Cards(cards) => {
                std::thread::spawn(move || send_cards(cards, total_bytes, batch_size, &parse, &tx));
                return rx;
            }
        };
        let (header_line, header) = self.header;
        let header_is_data = self.header_is_data;
        std::thread::spawn(move || {
            let mut batch = Vec::with_capacity(batch_size);
            if header_is_data {
                let record = header.as_record(header_line);
                batch.push(Parsed {
                    line: header_line,
                    result: parse(&record),
                    raw: header,
                });
            }
            loop {
                match reader.next_record() {
                    Ok(Some(record)) => {
                        batch.push(Parsed {
                            line: record.line,
                            raw: record.to_owned(),
                            result: parse(&record),
                        });
                        if batch.len() >= batch_size {
                            let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                            if tx.blocking_send(Chunk::Rows(full, reader.bytes_read())).is_err() {
                                return; // the import stopped; nobody reads any more
                            }
                        }
                    }
                    Ok(None) => {
                        if !batch.is_empty() && tx.blocking_send(Chunk::Rows(batch, reader.bytes_read())).is_err() {
                            return;
                        }
                        let _ = tx.blocking_send(Chunk::Done {
                            blank_lines: reader.blank_lines(),
                        });
                        return;
                    }
                    Err(error) => {
                        if !batch.is_empty() && tx.blocking_send(Chunk::Rows(batch, reader.bytes_read())).is_err() {
                            return;
                        }
                        let _ = tx.blocking_send(Chunk::Failed(error));
                        return;
                    }
                }
            }
        });
        rx
    }
}

/// The reader thread of a vCard file: its cards, already in memory, in batches.
fn send_cards<T, F>(
    cards: std::vec::IntoIter<(u64, OwnedRecord)>,
    total_bytes: u64,
    batch_size: usize,
    parse: &F,
    tx: &mpsc::Sender<Chunk<T>>,
) where
    F: Fn(&Record<'_>) -> Result<T, Reject>,
{
    let count = cards.len().max(1) as u64;
    let mut batch = Vec::with_capacity(batch_size.min(cards.len()));
    for (done, (line, raw)) in cards.enumerate() {
        let result = parse(&raw.as_record(line));
        batch.push(Parsed { line, raw, result });
        if batch.len() >= batch_size {
            let bytes = total_bytes * (done as u64 + 1) / count;
            if tx
                .blocking_send(Chunk::Rows(std::mem::take(&mut batch), bytes))
                .is_err()
            {
                return;
            }
        }
    }
    if !batch.is_empty() && tx.blocking_send(Chunk::Rows(batch, total_bytes)).is_err() {
        return;
    }
    let _ = tx.blocking_send(Chunk::Done { blank_lines: 0 });
}

/// Why one row cannot be taken: a short kind for counting, and the full reason for the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reject {
    pub kind: String,
    pub reason: String,
    /// The row is not rejected but skipped on purpose (deleted in the source): counted apart
    /// and not written to the rejects file.
    pub skip: bool,
    /// A status value with no mapping, for the list `--dry-run` shows.
    pub unmapped_status: Option<String>,
}

/// One row read from the file.
#[derive(Debug)]
pub struct Parsed<T> {
    pub line: u64,
    /// The row as it was, for the rejects file.
    pub raw: OwnedRecord,
    pub result: Result<T, Reject>,
}

/// What the reader thread sends.
#[derive(Debug)]
pub enum Chunk<T> {
    /// A batch of rows, and how many bytes of the file have been read.
    Rows(Vec<Parsed<T>>, u64),
    /// The end of the file.
    Done { blank_lines: u64 },
    /// The file could not be read further.
    Failed(ReadError),
}
