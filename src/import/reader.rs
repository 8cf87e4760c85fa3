//! Streaming CSV records, each with the physical line it starts on.
//!
//! The `csv` crate's reader skips blank lines inside its parser and stamps a record with the
//! position before them, so a row after a blank line would be reported on the wrong line. This
//! drives the same parser (`csv_core`) directly and skips blank lines itself first, so a row's
//! line is exact even after blank lines and quoted fields with embedded newlines, and blank lines
//! can be counted. Memory is one buffered block plus the current record, whatever the file size.

use std::io::{self, BufRead, BufReader, Read};

/// A record longer than this is almost surely a quote left open that swallows the rest of the
/// file; stop with that diagnosis instead of reading the whole file into memory.
pub const MAX_RECORD_BYTES: usize = 64 << 20;

const BUFFER_BYTES: usize = 256 << 10;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read the file: {0}")]
    Io(#[from] io::Error),
    #[error(
        "line {line}: a row longer than {} MB; a quote (\") is probably left open, so the rest of the file reads as one cell",
        MAX_RECORD_BYTES >> 20
    )]
    TooLong { line: u64 },
}

/// One record: its cells as raw bytes, and where it is in the file.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The physical line the record starts on (1-based).
    pub line: u64,
    /// The line it ends on (later than `line` when a quoted cell holds line breaks).
    pub last_line: u64,
    data: &'a [u8],
    ends: &'a [usize],
}

impl<'a> Record<'a> {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&'a [u8]> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        Some(&self.data[start..end])
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// A copy that outlives the reader's buffer (for the rejects file).
    pub fn to_owned(&self) -> OwnedRecord {
        OwnedRecord {
            data: self.data.to_vec(),
            ends: self.ends.to_vec(),
        }
    }
}

/// A record kept after the reader moved on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedRecord {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl OwnedRecord {
    /// A record made of these cells (a vCard read into the columns of a table).
    pub fn from_cells(cells: &[String]) -> OwnedRecord {
        let mut data = Vec::new();
        let mut ends = Vec::with_capacity(cells.len());
        for cell in cells {
            data.extend_from_slice(cell.as_bytes());
            ends.push(data.len());
        }
        OwnedRecord { data, ends }
    }

    pub fn as_record(&self, line: u64) -> Record<'_> {
        Record {
            line,
            last_line: line,
            data: &self.data,
            ends: &self.ends,
        }
    }
}

pub struct RecordReader<R> {
    input: BufReader<R>,
    core: csv_core::Reader,
    /// The line of the next unread byte.
    line: u64,
    bytes: u64,
    blank_lines: u64,
    /// The last line of the previous non-blank record (0 before the first).
    previous_last_line: u64,
    ends_with_newline: bool,
    trailing_counted: bool,
    data: Vec<u8>,
    ends: Vec<usize>,
    done: bool,
}

impl<R: Read> RecordReader<R> {
    pub fn new(input: R, delimiter: u8) -> RecordReader<R> {
        RecordReader::from_buffered(BufReader::with_capacity(BUFFER_BYTES, input), delimiter)
    }

    /// Reads from a reader that may already have consumed a byte-order mark.
    pub fn from_buffered(input: BufReader<R>, delimiter: u8) -> RecordReader<R> {
        RecordReader {
            input,
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            line: 1,
            bytes: 0,
            blank_lines: 0,
            previous_last_line: 0,
            ends_with_newline: false,
            trailing_counted: false,
            data: vec![0; 4096],
            ends: vec![0; 64],
            done: false,
        }
    }

    /// Bytes consumed so far (for a progress bar over the file size).
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Blank lines skipped so far: empty lines, and lines with only delimiters or spaces.
    pub fn blank_lines(&self) -> u64 {
        self.blank_lines
    }

    /// The next record that has a non-blank cell, or None at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, ReadError> {
        loop {
            let Some((line, len, newlines)) = self.read_raw()? else {
                // Lines after the last record, not counting the final line break's empty "line".
                if !self.trailing_counted {
                    self.trailing_counted = true;
                    self.blank_lines += self.line.saturating_sub(self.previous_last_line + 1)
                        + u64::from(!self.ends_with_newline && self.line > self.previous_last_line);
                }
                return Ok(None);
            };
            let end = self.ends[..len].last().copied().unwrap_or(0);
            if self.data[..end].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            // Every line between the previous record and this one was blank (or only delimiters).
            self.blank_lines += line - self.previous_last_line - 1;
            self.previous_last_line = line + newlines;
            return Ok(Some(Record {
                line,
                last_line: line + newlines,
                data: &self.data[..end],
                ends: &self.ends[..len],
            }));
        }
    }

    /// Skips the line breaks before a record (the parser would skip them without counting).
    fn skip_line_breaks(&mut self) -> io::Result<()> {
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok(());
            }
            let skip = buf.iter().take_while(|b| matches!(b, b'\n' | b'\r')).count();
            if skip > 0 {
                self.ends_with_newline = buf[skip - 1] == b'\n';
            }
            self.line += buf[..skip].iter().filter(|&&b| b == b'\n').count() as u64;
            let more = skip == buf.len();
            self.input.consume(skip);
            self.bytes += skip as u64;
            if !more {
                return Ok(());
            }
        }
    }

    /// One record as the parser sees it: (start line, number of cells, line breaks inside it).
    fn read_raw(&mut self) -> Result<Option<(u64, usize, u64)>, ReadError> {
        if self.done {
            return Ok(None);
        }
        self.skip_line_breaks()?;
        let start = self.line;
        let (mut out, mut ends) = (0, 0);
        loop {
            let input = self.input.fill_buf()?;
            let (result, read, written, ended) =
                self.core
                    .read_record(input, &mut self.data[out..], &mut self.ends[ends..]);
            let newlines = input[..read].iter().filter(|&&b| b == b'\n').count() as u64;
            if read > 0 {
                self.ends_with_newline = input[read - 1] == b'\n';
            }
            self.input.consume(read);
            self.bytes += read as u64;
            self.line += newlines;
            out += written;
            ends += ended;
            match result {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => {
                    if self.data.len() >= MAX_RECORD_BYTES {
                        return Err(ReadError::TooLong { line: start });
                    }
                    let grown = self.data.len() * 2;
                    self.data.resize(grown, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let grown = self.ends.len() * 2;
                    self.ends.resize(grown, 0);
                }
                csv_core::ReadRecordResult::Record => {
                    // Line breaks inside quoted cells; the terminator is not part of the data.
                    let inside = self.data[..out].iter().filter(|&&b| b == b'\n').count() as u64;
                    return Ok(Some((start, ends, inside)));
                }
                csv_core::ReadRecordResult::End => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str, delimiter: u8) -> (Vec<(u64, Vec<String>)>, u64) {
        let mut reader = RecordReader::new(text.as_bytes(), delimiter);
        let mut rows = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            let cells = record.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
            rows.push((record.line, cells));
        }
        (rows, reader.blank_lines())
    }

    #[test]
    fn lines_count_from_the_start_of_each_record() {
        let text = "a,b\n1,\"two\nlines\"\n\n\n3,4\r\n\r\n5,6";
        let (rows, blanks) = read_all(text, b',');
        let lines: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, [1, 2, 6, 8]);
        assert_eq!(rows[1].1, ["1", "two\nlines"]);
        assert_eq!(rows[3].1, ["5", "6"]);
        assert_eq!(blanks, 3);
    }

    #[test]
    fn rows_of_only_delimiters_are_blank() {
        let (rows, blanks) = read_all("a;b\n;;\n  ;\n1;2\n", b';');
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].0, 4);
        assert_eq!(blanks, 2);
    }

    #[test]
    fn blank_lines_at_the_start_and_end() {
        let (rows, blanks) = read_all("\n\na,b\n1,2\n\n", b',');
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(blanks, 3);
    }

    #[test]
    fn records_larger_than_the_buffer() {
        let big = "x".repeat(3 * BUFFER_BYTES);
        let text = format!("a,b\n\"{big}\",2\n3,4\n");
        let (rows, _) = read_all(&text, b',');
        assert_eq!(rows[1].1[0].len(), big.len());
        assert_eq!(rows[2].0, 3);
    }
}
