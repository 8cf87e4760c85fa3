//! Opening an import file and reading it on its own thread.
//!
//! Parsing and validating rows (phone numbers above all) costs about as much CPU as writing them,
//! so a reader thread reads and validates batches while the database writes the previous one.
//! The channel holds at most two batches: memory stays bounded whatever the file size, and a
//! slow database slows the reader instead of letting rows pile up.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use tokio::sync::mpsc;

use super::reader::{OwnedRecord, ReadError, Record, RecordReader};
use super::sniff;

/// An import file with its header read.
pub struct Source {
    pub path: PathBuf,
    pub delimiter: u8,
    pub headers: Vec<String>,
    pub total_bytes: u64,
    reader: RecordReader<File>,
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
            reader,
            header: first,
            header_is_data: false,
        })
    }

    /// The file has no header row: its first row is read as data too.
    pub fn header_is_data(&mut self) {
        self.header_is_data = true;
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
        let mut reader = self.reader;
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

/// Why one row cannot be taken: a short kind for counting, and the full reason for the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub kind: String,
    pub reason: String,
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
