//! The backup file: a zstd stream of JSON lines, one frame per part.
//!
//! ```text
//! frame 1   {"backup":{format, format_version, coldcall_version, schema_version, backend, created_at}}
//! frame 2   {"table":{"name":"agents","columns":[...]}}
//!           [1,"alice",null,"agent",true,"2026-11-23T15:00:00.000000Z"]     one line per row
//! ...       one frame per table, in `tables::TABLES` order
//! ...       {"manifest":{...the header again, per table: columns, rows, sha256..., manifest_sha256}}
//! trailer   a zstd skippable frame: "CCSHA256" and the SHA-256 of every byte before it, or,
//!           with a backup key configured, "CCHMAC25" and HMAC-SHA256(key, that SHA-256)
//! ```
//!
//! Why this shape:
//! - Rows stream straight from the database into the file: nothing is held in memory, and the
//!   manifest goes last because only then are the row counts and checksums known (a first
//!   counting pass would need a second read of every table, and a snapshot held twice as long).
//!   The header goes first so a reader learns the format and schema version before anything else.
//! - Each table's SHA-256 is taken over its row lines as written, which are canonical (see
//!   `value`): the same data from PostgreSQL or SQLite has the same checksum, so two databases
//!   can be compared by their manifests.
//! - Each part is its own zstd frame with zstd's own checksum, so damage is caught inside the
//!   table it hits, and reported with that table and the last good row.
//! - The manifest carries a checksum of itself, and repeats the header and every table's column
//!   list. The trailer's checksum covers the compressed bytes too: a flipped bit in zstd's own
//!   framing (a flag, say) can leave the content readable and intact, yet the file is no longer
//!   the one written, and an admin should hear so. zstd tools skip the trailer, so
//!   `zstd -dc FILE` still shows the JSON lines.

use std::io::{BufRead, BufReader, Read, Write};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::tables::{self, Column, TableSpec};
use super::value::{decode_row, encode_row, Value};

pub const FORMAT: &str = "coldcall-backup";
/// Bumped when a reader of the previous version could not read the file.
pub const FORMAT_VERSION: u32 = 1;
/// zstd's default level: about as fast as the database can hand rows over.
const LEVEL: i32 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub format_version: u32,
    pub coldcall_version: String,
    /// The newest migration applied to the database the backup came from.
    pub schema_version: i64,
    /// postgres or sqlite: where the backup came from (it restores into either).
    pub backend: String,
    pub created_at: DateTime<Utc>,
}

impl Header {
    pub fn new(schema_version: i64, backend: &str, created_at: DateTime<Utc>) -> Header {
        Header {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            coldcall_version: env!("CARGO_PKG_VERSION").into(),
            schema_version,
            backend: backend.into(),
            created_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSummary {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: u64,
    /// SHA-256 of the table's row lines, lower-case hex.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(flatten)]
    pub header: Header,
    pub tables: Vec<TableSummary>,
    /// SHA-256 of this manifest's JSON without this field.
    pub manifest_sha256: String,
}

impl Manifest {
    fn checksum(header: &Header, tables: &[TableSummary]) -> String {
        #[derive(Serialize)]
        struct Body<'a> {
            #[serde(flatten)]
            header: &'a Header,
            tables: &'a [TableSummary],
        }
        let body = serde_json::to_vec(&Body { header, tables }).unwrap_or_default();
        hex(&Sha256::digest(&body))
    }

    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }

    pub fn table(&self, name: &str) -> Option<&TableSummary> {
        self.tables.iter().find(|t| t.name == name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TableStart {
    name: String,
    columns: Vec<String>,
}

/// The lines that are not rows. Rows are JSON arrays, these are objects with one key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Marker {
    Backup(Header),
    Table(TableStart),
    Manifest(Manifest),
}

/// One thing wrong with a backup file, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Corruption {
    /// The table it is in; None for the header or manifest.
    pub table: Option<String>,
    /// The row within the table (1-based), when one row is to blame.
    pub row: Option<u64>,
    /// The line of the unpacked file (1-based), when known.
    pub line: Option<u64>,
    pub problem: String,
}

impl std::fmt::Display for Corruption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.table, self.row) {
            (Some(table), Some(row)) => write!(f, "table {table}, row {row}")?,
            (Some(table), None) => write!(f, "table {table}")?,
            (None, _) => write!(f, "backup")?,
        }
        if let Some(line) = self.line {
            write!(f, " (line {line} unpacked)")?;
        }
        write!(f, ": {}", self.problem)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The file could not be read or written at all.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is damaged: every problem found, each with its place.
    #[error("the backup is damaged: {}", .0.iter().map(|c| c.to_string()).collect::<Vec<_>>().join("; "))]
    Corrupt(Vec<Corruption>),
    /// The file is intact but this coldcall cannot use it (newer format or schema, wrong target).
    #[error("{0}")]
    Incompatible(String),
    /// A value in the database cannot be written to a backup.
    #[error("{0}")]
    Content(String),
}

impl BackupError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> BackupError {
        BackupError::Io {
            context: context.into(),
            source,
        }
    }

    fn corrupt(table: Option<&str>, row: Option<u64>, line: Option<u64>, problem: impl Into<String>) -> BackupError {
        BackupError::Corrupt(vec![Corruption {
            table: table.map(String::from),
            row,
            line,
            problem: problem.into(),
        }])
    }

    pub fn is_corruption(&self) -> bool {
        matches!(self, BackupError::Corrupt(_))
    }
}

pub type Result<T, E = BackupError> = std::result::Result<T, E>;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------- trailer

/// zstd's first skippable-frame magic number; decoders pass over such frames.
const SKIPPABLE_MAGIC: u32 = 0x184D_2A50;
const TRAILER_TAG: &[u8; 8] = b"CCSHA256";
const KEYED_TRAILER_TAG: &[u8; 8] = b"CCHMAC25";
const TRAILER_LEN: usize = 8 + 8 + 32;

fn trailer(digest: &[u8]) -> Vec<u8> {
    trailer_tagged(TRAILER_TAG, digest)
}

fn trailer_tagged(tag: &[u8; 8], digest: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(TRAILER_LEN);
    out.extend_from_slice(&SKIPPABLE_MAGIC.to_le_bytes());
    out.extend_from_slice(&((TRAILER_LEN - 8) as u32).to_le_bytes());
    out.extend_from_slice(tag);
    out.extend_from_slice(digest);
    out
}

/// A secret that authenticates backups. Plain checksums prove a file undamaged, not unforged:
/// anyone who edits rows can recompute them. With a key, the trailer carries
/// HMAC-SHA256(key, SHA-256 of the file), which only a holder of the key can make.
#[derive(Clone)]
pub struct BackupKey(Vec<u8>);

impl std::fmt::Debug for BackupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackupKey(***)")
    }
}

impl BackupKey {
    /// At least 32 bytes of secret (e.g. `head -c 32 /dev/urandom > backup.key`).
    pub fn new(secret: Vec<u8>) -> Result<BackupKey> {
        if secret.len() < 32 {
            return Err(BackupError::Content(format!(
                "a backup key needs at least 32 bytes, this one has {}",
                secret.len()
            )));
        }
        Ok(BackupKey(secret))
    }

    /// The key in the file named by `COLDCALL_BACKUP_KEY_FILE`, when set.
    pub fn configured() -> Result<Option<BackupKey>> {
        let Some(path) = std::env::var_os("COLDCALL_BACKUP_KEY_FILE").filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        let secret = std::fs::read(&path).map_err(|e| {
            BackupError::io(
                format!("cannot read the backup key {}", std::path::Path::new(&path).display()),
                e,
            )
        })?;
        BackupKey::new(secret).map(Some)
    }

    fn tag(&self, digest: &[u8]) -> Vec<u8> {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(digest);
        mac.finalize().into_bytes().to_vec()
    }

    fn trailer(&self, digest: &[u8]) -> Vec<u8> {
        trailer_tagged(KEYED_TRAILER_TAG, &self.tag(digest))
    }
}

/// What a file's trailer says of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seal {
    /// The plain checksum matches (no key was used to write it).
    Plain,
    /// The keyed checksum matches the configured key.
    Authentic,
    /// Keyed, but no key is configured to check it with.
    KeyedUnchecked,
    /// Keyed, and the configured key does not match: another key sealed it, or its bytes were
    /// changed after it was sealed.
    OtherKey,
    /// Nothing matches.
    Broken,
}

/// Passes writes through and hashes them.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Passes reads through and hashes all but the last `TRAILER_LEN` bytes seen, which it keeps:
/// at the end of the file they are the trailer, and the hash is of everything before it.
struct TailHashingReader<R> {
    inner: R,
    hasher: Sha256,
    tail: Vec<u8>,
}

impl<R: Read> Read for TailHashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.tail.extend_from_slice(&buf[..n]);
        if self.tail.len() > TRAILER_LEN {
            let settled = self.tail.len() - TRAILER_LEN;
            self.hasher.update(&self.tail[..settled]);
            self.tail.drain(..settled);
        }
        Ok(n)
    }
}

impl<R> TailHashingReader<R> {
    /// What the trailer at the end of the file says of everything before it.
    fn seal(&self, key: Option<&BackupKey>) -> Seal {
        let digest = self.hasher.clone().finalize();
        if self.tail == trailer(&digest) {
            return Seal::Plain;
        }
        let keyed = self.tail.len() == TRAILER_LEN && self.tail[8..16] == KEYED_TRAILER_TAG[..];
        match key {
            Some(key) if self.tail == key.trailer(&digest) => Seal::Authentic,
            Some(_) if keyed => Seal::OtherKey,
            None if keyed => Seal::KeyedUnchecked,
            _ => Seal::Broken,
        }
    }
}

// ---------------------------------------------------------------------------------------- writing

struct OpenTable {
    spec: &'static TableSpec,
    rows: u64,
    hasher: Sha256,
}

/// Writes a backup part by part: `begin_table`, `row`…, the next `begin_table`, …, `finish`.
pub struct BackupWriter<W: Write> {
    /// Between frames the bare output; inside one, the encoder that owns it.
    idle: Option<HashingWriter<W>>,
    frame: Option<zstd::Encoder<'static, HashingWriter<W>>>,
    header: Header,
    tables: Vec<TableSummary>,
    open: Option<OpenTable>,
    line: Vec<u8>,
    unpacked_bytes: u64,
    key: Option<BackupKey>,
}

impl<W: Write> BackupWriter<W> {
    /// A writer that seals the file with the configured backup key, if any.
    pub fn new(out: W, header: Header) -> Result<BackupWriter<W>> {
        BackupWriter::with_key(out, header, BackupKey::configured()?)
    }

    pub fn with_key(out: W, header: Header, key: Option<BackupKey>) -> Result<BackupWriter<W>> {
        let mut writer = BackupWriter {
            idle: Some(HashingWriter {
                inner: out,
                hasher: Sha256::new(),
            }),
            frame: None,
            header: header.clone(),
            tables: Vec::new(),
            open: None,
            line: Vec::with_capacity(4096),
            unpacked_bytes: 0,
            key,
        };
        writer.start_frame()?;
        writer.marker(&Marker::Backup(header))?;
        Ok(writer)
    }

    fn start_frame(&mut self) -> Result<()> {
        self.end_frame()?;
        let out = self
            .idle
            .take()
            .ok_or_else(|| BackupError::Content("backup writer used after failing".into()))?;
        let mut encoder = zstd::Encoder::new(out, LEVEL).map_err(|e| BackupError::io("cannot start compressing", e))?;
        encoder
            .include_checksum(true)
            .map_err(|e| BackupError::io("cannot start compressing", e))?;
        self.frame = Some(encoder);
        Ok(())
    }

    fn end_frame(&mut self) -> Result<()> {
        if let Some(encoder) = self.frame.take() {
            self.idle = Some(
                encoder
                    .finish()
                    .map_err(|e| BackupError::io("cannot write the backup", e))?,
            );
        }
        Ok(())
    }

    fn write_line(&mut self) -> Result<()> {
        let frame = self
            .frame
            .as_mut()
            .ok_or_else(|| BackupError::Content("backup writer used after finishing".into()))?;
        frame
            .write_all(&self.line)
            .map_err(|e| BackupError::io("cannot write the backup", e))?;
        self.unpacked_bytes += self.line.len() as u64;
        Ok(())
    }

    fn marker(&mut self, marker: &Marker) -> Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, marker).map_err(|e| BackupError::Content(e.to_string()))?;
        self.line.push(b'\n');
        self.write_line()
    }

    fn close_table(&mut self) {
        if let Some(open) = self.open.take() {
            self.tables.push(TableSummary {
                name: open.spec.name.into(),
                columns: open.spec.columns.iter().map(|c| c.name.to_string()).collect(),
                rows: open.rows,
                sha256: hex(&open.hasher.finalize()),
            });
        }
    }

    /// Starts the next table; its rows follow with `row`, in key order, columns as in `spec`.
    pub fn begin_table(&mut self, spec: &'static TableSpec) -> Result<()> {
        self.close_table();
        self.start_frame()?;
        self.marker(&Marker::Table(TableStart {
            name: spec.name.into(),
            columns: spec.columns.iter().map(|c| c.name.to_string()).collect(),
        }))?;
        self.open = Some(OpenTable {
            spec,
            rows: 0,
            hasher: Sha256::new(),
        });
        Ok(())
    }

    pub fn row(&mut self, values: &[Value]) -> Result<()> {
        let Some(open) = self.open.as_mut() else {
            return Err(BackupError::Content("a row was written before its table".into()));
        };
        if values.len() != open.spec.columns.len() {
            return Err(BackupError::Content(format!(
                "table {}: {} values for {} columns",
                open.spec.name,
                values.len(),
                open.spec.columns.len()
            )));
        }
        self.line.clear();
        encode_row(values, &mut self.line)
            .map_err(|e| BackupError::Content(format!("table {}, row {}: {e}", open.spec.name, open.rows + 1)))?;
        open.hasher.update(&self.line);
        open.rows += 1;
        self.write_line()
    }

    /// Writes the manifest and hands back the output (flushed) with what was written.
    pub fn finish(mut self) -> Result<(W, Manifest)> {
        self.close_table();
        let manifest = Manifest {
            manifest_sha256: Manifest::checksum(&self.header, &self.tables),
            header: self.header.clone(),
            tables: std::mem::take(&mut self.tables),
        };
        self.start_frame()?;
        self.marker(&Marker::Manifest(manifest.clone()))?;
        self.end_frame()?;
        let hashed = self
            .idle
            .take()
            .ok_or_else(|| BackupError::Content("backup writer lost its output".into()))?;
        let mut out = hashed.inner;
        let digest = hashed.hasher.finalize();
        let seal = match &self.key {
            Some(key) => key.trailer(&digest),
            None => trailer(&digest),
        };
        out.write_all(&seal)
            .and_then(|()| out.flush())
            .map_err(|e| BackupError::io("cannot write the backup", e))?;
        Ok((out, manifest))
    }

    /// Bytes written before compression so far.
    pub fn unpacked_bytes(&self) -> u64 {
        self.unpacked_bytes
    }
}

// ---------------------------------------------------------------------------------------- reading

type Input<R> = BufReader<TailHashingReader<R>>;

/// The unpacked lines of the file, one zstd frame at a time, so a reader always knows which
/// part of the file it is in, even when damage stops it before the part's first line.
struct FrameLines<R: Read> {
    current: Option<BufReader<zstd::Decoder<'static, Input<R>>>>,
    /// The input between frames.
    between: Option<Input<R>>,
    /// No line has come out of the current frame yet.
    fresh: bool,
}

/// The longest row line a backup may hold. A real row is a few kilobytes (a lead's notes are at
/// most 65,536 characters); the bound keeps verify and restore in bounded memory whatever a
/// damaged or hostile file unpacks to.
const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// `read_until(b'\n')` that refuses a line longer than `max` instead of growing without end.
fn read_line_bounded(reader: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> std::io::Result<usize> {
    let start = buf.len();
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(buf.len() - start);
        }
        let (taken, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if buf.len() - start + taken > max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "a line longer than {} MiB: not a coldcall backup row",
                    max / (1024 * 1024)
                ),
            ));
        }
        buf.extend_from_slice(&available[..taken]);
        reader.consume(taken);
        if done {
            return Ok(buf.len() - start);
        }
    }
}

impl<R: Read> FrameLines<R> {
    /// Appends the next line to `buf`; false at the end of the file.
    fn read_line(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool> {
        loop {
            if self.current.is_none() {
                let Some(mut input) = self.between.take() else {
                    return Ok(false);
                };
                if input.fill_buf()?.is_empty() {
                    self.between = Some(input);
                    return Ok(false);
                }
                let decoder = zstd::Decoder::with_buffer(input)?.single_frame();
                // Small reads: zstd hands over a block's output before it decodes the next
                // block, so damage is met after the rows before it were read.
                self.current = Some(BufReader::with_capacity(16 * 1024, decoder));
                self.fresh = true;
            }
            let Some(frame) = self.current.as_mut() else {
                return Ok(false);
            };
            if read_line_bounded(frame, buf, MAX_LINE_BYTES)? > 0 {
                self.fresh = false;
                return Ok(true);
            }
            if let Some(frame) = self.current.take() {
                self.between = Some(frame.into_inner().finish());
            }
        }
    }

    fn input(&self) -> Option<&TailHashingReader<R>> {
        self.between.as_ref().map(|b| b.get_ref())
    }
}

/// The table a reader is in: the spec it maps to and the columns the backup has, in its order.
#[derive(Debug, Clone)]
pub struct TableSection {
    pub spec: &'static TableSpec,
    pub columns: Vec<Column>,
}

struct ReadingTable {
    section: TableSection,
    rows: u64,
    hasher: Sha256,
    ended: bool,
}

/// Reads a backup part by part, checking as it goes: `next_table`, `next_row`…, `finish`.
/// Every row is decoded (so a bad value is named where it is) and hashed; `finish` compares all
/// of it with the manifest.
pub struct BackupReader<R: Read> {
    lines: FrameLines<R>,
    header: Header,
    line_no: u64,
    buf: Vec<u8>,
    table: Option<ReadingTable>,
    seen: Vec<TableSummary>,
    /// A marker line read while looking for the next row.
    pending: Option<Marker>,
    unpacked_bytes: u64,
    key: Option<BackupKey>,
}

impl<R: Read> BackupReader<R> {
    /// A reader that checks the file against the configured backup key, if any.
    pub fn open(input: R) -> Result<BackupReader<R>> {
        BackupReader::open_with_key(input, BackupKey::configured()?)
    }

    /// With a key, only a file sealed with that key is accepted: a file whose plain checksums
    /// were recomputed after an edit is refused.
    pub fn open_with_key(input: R, key: Option<BackupKey>) -> Result<BackupReader<R>> {
        let input = TailHashingReader {
            inner: input,
            hasher: Sha256::new(),
            tail: Vec::with_capacity(2 * TRAILER_LEN),
        };
        let mut reader = BackupReader {
            lines: FrameLines {
                current: None,
                between: Some(BufReader::with_capacity(64 * 1024, input)),
                fresh: false,
            },
            header: Header::new(0, "", DateTime::<Utc>::MIN_UTC),
            line_no: 0,
            buf: Vec::with_capacity(4096),
            table: None,
            seen: Vec::new(),
            pending: None,
            unpacked_bytes: 0,
            key,
        };
        let not_ours = |problem: String| {
            BackupError::corrupt(
                None,
                None,
                Some(1),
                format!("this is not a coldcall backup, or its start is damaged ({problem})"),
            )
        };
        match reader.read_line() {
            Ok(true) => {}
            Ok(false) => return Err(not_ours("the file is empty".into())),
            Err(e) => return Err(not_ours(e.to_string())),
        }
        match serde_json::from_slice::<Marker>(reader.buf.trim_ascii_end()) {
            Ok(Marker::Backup(header)) if header.format == FORMAT => {
                if header.format_version > FORMAT_VERSION {
                    return Err(BackupError::Incompatible(format!(
                        "the backup was written in format {} by coldcall {}; this coldcall reads format {FORMAT_VERSION}: \
                         upgrade coldcall to read it",
                        header.format_version, header.coldcall_version
                    )));
                }
                reader.header = header;
                Ok(reader)
            }
            Ok(_) => Err(not_ours("it does not start with a backup header".into())),
            Err(e) => Err(not_ours(e.to_string())),
        }
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Reads the next line into `buf`; false at the end of the file.
    fn read_line(&mut self) -> std::io::Result<bool> {
        self.buf.clear();
        if !self.lines.read_line(&mut self.buf)? {
            return Ok(false);
        }
        self.line_no += 1;
        self.unpacked_bytes += self.buf.len() as u64;
        if self.buf.last() != Some(&b'\n') {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the last line is cut off",
            ));
        }
        Ok(true)
    }

    fn here(&self) -> (Option<String>, u64) {
        match &self.table {
            Some(t) => (Some(t.section.spec.name.to_string()), t.rows),
            None => (None, 0),
        }
    }

    /// A read failure inside the stream: damaged compressed data or a file cut short.
    fn damaged(&self, err: std::io::Error) -> BackupError {
        let (mut table, rows) = self.here();
        let place = match &self.table {
            Some(_) if !self.lines.fresh => format!("after row {rows}"),
            // Between parts: the damage is in the next part, before its first line could be
            // read. coldcall writes the tables in one fixed order, so that part is known.
            ended => {
                let next = match ended {
                    Some(t) => tables::TABLES
                        .iter()
                        .position(|s| s.name == t.section.spec.name)
                        .and_then(|i| tables::TABLES.get(i + 1)),
                    None => tables::TABLES.first(),
                };
                table = next.map(|spec| spec.name.to_string());
                match (next, ended) {
                    (Some(_), Some(t)) => {
                        format!("before its first row (the part after table {})", t.section.spec.name)
                    }
                    (Some(_), None) => "before its first row (the part after the header)".to_string(),
                    (None, _) => "in the manifest".to_string(),
                }
            }
        };
        let problem = if err.kind() == std::io::ErrorKind::UnexpectedEof {
            format!("the file ends early, {place}: it is truncated or was never finished")
        } else {
            format!("the compressed data is damaged {place} ({err})")
        };
        BackupError::corrupt(table.as_deref(), None, None, problem)
    }

    /// The next non-row line, skipping (and checking) any rows left in the current table.
    fn next_marker(&mut self) -> Result<Option<Marker>> {
        while self.pending.is_none() {
            if self.next_row()?.is_none() && self.pending.is_none() {
                return Ok(None);
            }
        }
        Ok(self.pending.take())
    }

    fn close_table(&mut self) {
        if let Some(t) = self.table.as_mut().filter(|t| !t.ended) {
            t.ended = true;
            let hasher = std::mem::take(&mut t.hasher);
            self.seen.push(TableSummary {
                name: t.section.spec.name.into(),
                columns: t.section.columns.iter().map(|c| c.name.to_string()).collect(),
                rows: t.rows,
                sha256: hex(&hasher.finalize()),
            });
        }
    }

    /// Moves to the next table; None when the manifest comes next.
    pub fn next_table(&mut self) -> Result<Option<TableSection>> {
        let marker = match self.next_marker()? {
            Some(m) => m,
            None => return Err(self.damaged(std::io::ErrorKind::UnexpectedEof.into())),
        };
        match marker {
            Marker::Table(start) => {
                let spec = tables::table(&start.name).ok_or_else(|| {
                    BackupError::Incompatible(format!(
                        "the backup holds a table '{}' this coldcall does not know (it was made by coldcall {}): \
                         upgrade coldcall to restore it",
                        start.name, self.header.coldcall_version
                    ))
                })?;
                if self.seen.iter().any(|t| t.name == spec.name) {
                    return Err(BackupError::corrupt(
                        Some(spec.name),
                        None,
                        Some(self.line_no),
                        "the table appears twice",
                    ));
                }
                let mut columns = Vec::with_capacity(start.columns.len());
                for name in &start.columns {
                    let column = spec.column(name).ok_or_else(|| {
                        BackupError::Incompatible(format!(
                            "table {}: the backup has a column '{name}' this coldcall does not know (made by coldcall {}): \
                             upgrade coldcall to restore it",
                            spec.name, self.header.coldcall_version
                        ))
                    })?;
                    columns.push(*column);
                }
                let section = TableSection { spec, columns };
                self.table = Some(ReadingTable {
                    section: section.clone(),
                    rows: 0,
                    hasher: Sha256::new(),
                    ended: false,
                });
                Ok(Some(section))
            }
            manifest @ Marker::Manifest(_) => {
                self.pending = Some(manifest);
                Ok(None)
            }
            Marker::Backup(_) => Err(BackupError::corrupt(
                None,
                None,
                Some(self.line_no),
                "a second backup header in the middle of the file",
            )),
        }
    }

    /// The next row of the current table, decoded and checked; None at the table's end.
    pub fn next_row(&mut self) -> Result<Option<Vec<Value>>> {
        if self.pending.is_some() || self.table.as_ref().is_some_and(|t| t.ended) {
            return Ok(None);
        }
        match self.read_line() {
            Ok(true) => {}
            Ok(false) => {
                self.close_table();
                return Ok(None);
            }
            Err(e) => return Err(self.damaged(e)),
        }
        let line = self.buf.trim_ascii_end();
        if line.first() == Some(&b'{') {
            let marker = serde_json::from_slice::<Marker>(line).map_err(|e| {
                let (table, _) = self.here();
                BackupError::corrupt(
                    table.as_deref(),
                    None,
                    Some(self.line_no),
                    format!("a line cannot be read ({e})"),
                )
            })?;
            self.close_table();
            self.pending = Some(marker);
            return Ok(None);
        }
        let Some(table) = self.table.as_mut() else {
            return Err(BackupError::corrupt(
                None,
                None,
                Some(self.line_no),
                "a row before any table",
            ));
        };
        table.rows += 1;
        table.hasher.update(&self.buf);
        let values = decode_row(line, &table.section.columns).map_err(|e| {
            let problem = match e.column {
                Some(column) => format!("column {column}: {}", e.message),
                None => e.message,
            };
            BackupError::corrupt(
                Some(table.section.spec.name),
                Some(table.rows),
                Some(self.line_no),
                problem,
            )
        })?;
        Ok(Some(values))
    }

    /// Reads to the end and checks everything against the manifest: its own checksum, the
    /// header, and every table's columns, row count and checksum. All mismatches are reported.
    pub fn finish(&mut self) -> Result<Manifest> {
        while self.next_table()?.is_some() {}
        let Some(Marker::Manifest(manifest)) = self.next_marker()? else {
            return Err(self.damaged(std::io::ErrorKind::UnexpectedEof.into()));
        };
        let after_manifest = |problem: String| BackupError::corrupt(None, None, None, problem);
        match self.read_line() {
            Ok(false) => {}
            Ok(true) => return Err(after_manifest("there is data after the manifest".into())),
            Err(e) => {
                return Err(after_manifest(format!(
                    "the closing checksum after the manifest is damaged or truncated ({e})"
                )))
            }
        }
        let mut problems = Vec::new();
        let mut problem = |table: Option<&str>, text: String| {
            problems.push(Corruption {
                table: table.map(String::from),
                row: None,
                line: None,
                problem: text,
            })
        };
        if Manifest::checksum(&manifest.header, &manifest.tables) != manifest.manifest_sha256 {
            problem(
                None,
                "the manifest's own checksum does not match: the manifest is damaged".into(),
            );
        }
        if manifest.header != self.header {
            problem(None, "the header and the manifest disagree".into());
        }
        for seen in &self.seen {
            match manifest.table(&seen.name) {
                None => problem(Some(&seen.name), "the table is not in the manifest".into()),
                Some(listed) => {
                    if listed.columns != seen.columns {
                        problem(Some(&seen.name), "its columns differ from the manifest's".into());
                    }
                    if listed.rows != seen.rows {
                        problem(
                            Some(&seen.name),
                            format!("{} rows where the manifest lists {}", seen.rows, listed.rows),
                        );
                    }
                    if listed.sha256 != seen.sha256 {
                        problem(
                            Some(&seen.name),
                            format!(
                                "checksum {} does not match the manifest's {}: its rows were changed",
                                short(&seen.sha256),
                                short(&listed.sha256)
                            ),
                        );
                    }
                }
            }
        }
        for listed in &manifest.tables {
            if !self.seen.iter().any(|t| t.name == listed.name) {
                problem(
                    Some(&listed.name),
                    "listed in the manifest but missing from the file".into(),
                );
            }
        }
        // Only when the content checked out: then the damage is in the compressed framing.
        let seal = self
            .lines
            .input()
            .map(|file| file.seal(self.key.as_ref()))
            .unwrap_or(Seal::Broken);
        if problems.is_empty() && self.key.is_some() && seal == Seal::Plain {
            problems.push(Corruption {
                table: None,
                row: None,
                line: None,
                problem: "the file is not sealed with this floor's backup key: it may have been written elsewhere, \
                          or edited and its checksums recomputed"
                    .into(),
            });
        }
        if problems.is_empty() && seal == Seal::KeyedUnchecked {
            problems.push(Corruption {
                table: None,
                row: None,
                line: None,
                problem: "the file is sealed with a backup key: set COLDCALL_BACKUP_KEY_FILE to check it".into(),
            });
        }
        if problems.is_empty() && seal == Seal::OtherKey {
            problems.push(Corruption {
                table: None,
                row: None,
                line: None,
                problem: "the file is sealed with a backup key other than this floor's, or its bytes were changed \
                          after it was sealed"
                    .into(),
            });
        }
        if problems.is_empty() && seal == Seal::Broken {
            problems.push(Corruption {
                table: None,
                row: None,
                line: None,
                problem: "the file's bytes do not match its closing checksum: the compressed framing was changed \
                          (every table's rows still check out)"
                    .into(),
            });
        }
        if problems.is_empty() {
            Ok(manifest)
        } else {
            Err(BackupError::Corrupt(problems))
        }
    }

    /// Bytes unpacked so far.
    pub fn unpacked_bytes(&self) -> u64 {
        self.unpacked_bytes
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// Reads a whole backup and checks every part of it; the manifest when it is intact.
pub fn verify<R: Read>(input: R) -> Result<(Manifest, u64)> {
    verify_with_key(input, BackupKey::configured()?)
}

pub fn verify_with_key<R: Read>(input: R, key: Option<BackupKey>) -> Result<(Manifest, u64)> {
    let mut reader = BackupReader::open_with_key(input, key)?;
    while reader.next_table()?.is_some() {
        while reader.next_row()?.is_some() {}
    }
    let unpacked = reader.unpacked_bytes();
    Ok((reader.finish()?, unpacked))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn header() -> Header {
        Header::new(
            20261123000004,
            "sqlite",
            Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap(),
        )
    }

    fn agent(id: i64, name: &str) -> Vec<Value> {
        vec![
            Value::Int(id),
            Value::Text(name.into()),
            Value::Null,
            Value::Text("agent".into()),
            Value::Bool(true),
            Value::timestamp(Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap()),
        ]
    }

    /// A small backup: 200 agents (enough for several compressed blocks), one setting.
    fn sample() -> (Vec<u8>, Manifest) {
        let mut w = BackupWriter::new(Vec::new(), header()).unwrap();
        w.begin_table(tables::table("agents").unwrap()).unwrap();
        for id in 1..=200 {
            w.row(&agent(id, &format!("agent number {id} with a long enough name")))
                .unwrap();
        }
        w.begin_table(tables::table("settings").unwrap()).unwrap();
        w.row(&[
            Value::Text("max_attempts".into()),
            Value::Text("6".into()),
            Value::timestamp(Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap()),
        ])
        .unwrap();
        w.finish().unwrap()
    }

    fn unpack(file: &[u8]) -> String {
        String::from_utf8(zstd::decode_all(file).unwrap()).unwrap()
    }

    /// Packs edited content as a consistent file (with a matching trailer), so only the content
    /// checks can notice the edit.
    fn repack(text: &str) -> Vec<u8> {
        let mut file = zstd::encode_all(text.as_bytes(), 3).unwrap();
        let digest = Sha256::digest(&file);
        file.extend_from_slice(&trailer(&digest));
        file
    }

    fn problems(err: BackupError) -> Vec<Corruption> {
        match err {
            BackupError::Corrupt(list) => list,
            other => panic!("expected corruption, got {other}"),
        }
    }

    #[test]
    fn a_backup_reads_back_row_for_row_and_verifies() {
        let (file, written) = sample();
        let mut reader = BackupReader::open(&file[..]).unwrap();
        assert_eq!(reader.header(), &header());
        let agents = reader.next_table().unwrap().unwrap();
        assert_eq!(agents.spec.name, "agents");
        assert_eq!(
            reader.next_row().unwrap().unwrap(),
            agent(1, "agent number 1 with a long enough name")
        );
        let settings = reader.next_table().unwrap().unwrap();
        assert_eq!(settings.spec.name, "settings");
        assert!(reader.next_row().unwrap().is_some());
        assert!(reader.next_row().unwrap().is_none());
        assert!(reader.next_table().unwrap().is_none());
        assert_eq!(reader.finish().unwrap(), written);
        let (verified, unpacked) = verify(&file[..]).unwrap();
        assert_eq!(verified, written);
        assert_eq!(unpacked, unpack(&file).len() as u64);
        assert_eq!(written.table("agents").unwrap().rows, 200);
        assert_eq!(written.total_rows(), 201);
    }

    #[test]
    fn the_checksum_covers_the_rows_only() {
        let (_, a) = sample();
        let mut w = BackupWriter::new(Vec::new(), Header::new(20261123000004, "postgres", Utc::now())).unwrap();
        w.begin_table(tables::table("agents").unwrap()).unwrap();
        for id in 1..=200 {
            w.row(&agent(id, &format!("agent number {id} with a long enough name")))
                .unwrap();
        }
        let (_, b) = w.finish().unwrap();
        assert_eq!(
            a.table("agents"),
            b.table("agents"),
            "same rows, same checksum, whatever the source"
        );
        assert_ne!(a.manifest_sha256, b.manifest_sha256);
    }

    #[test]
    fn a_small_file_that_unpacks_to_one_huge_line_is_refused_in_bounded_memory() {
        // 64 MiB of one byte and no newline compresses to a few kilobytes.
        let (file, _) = sample();
        let text = unpack(&file);
        let first_line = text.split_inclusive('\n').next().unwrap();
        let mut bomb = zstd::stream::Encoder::new(Vec::new(), 19).unwrap();
        bomb.write_all(first_line.as_bytes()).unwrap();
        let chunk = vec![b'a'; 1024 * 1024];
        for _ in 0..64 {
            bomb.write_all(&chunk).unwrap();
        }
        let mut bomb = bomb.finish().unwrap();
        assert!(bomb.len() < 200 * 1024, "{} bytes", bomb.len());
        let digest = Sha256::digest(&bomb);
        bomb.extend_from_slice(&trailer(&digest));
        let err = match verify(&bomb[..]) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a 64 MiB line was accepted"),
        };
        assert!(err.contains("longer than") || err.contains("damaged"), "{err}");
    }

    fn sealed_sample(key: &BackupKey) -> Vec<u8> {
        let mut w = BackupWriter::with_key(Vec::new(), header(), Some(key.clone())).unwrap();
        w.begin_table(tables::table("agents").unwrap()).unwrap();
        for id in 1..=20 {
            w.row(&agent(id, &format!("agent {id}"))).unwrap();
        }
        w.finish().unwrap().0
    }

    #[test]
    fn a_keyed_backup_verifies_only_with_its_key_and_a_forgery_is_refused() {
        let key = BackupKey::new(vec![7u8; 32]).unwrap();
        let other = BackupKey::new(vec![8u8; 32]).unwrap();
        let file = sealed_sample(&key);
        assert!(verify_with_key(&file[..], Some(key.clone())).is_ok());
        let other_err = verify_with_key(&file[..], Some(other)).unwrap_err().to_string();
        assert!(other_err.contains("backup key other than this floor's"), "{other_err}");
        let unchecked = verify_with_key(&file[..], None).unwrap_err().to_string();
        assert!(unchecked.contains("COLDCALL_BACKUP_KEY_FILE"), "{unchecked}");

        // A forger writes a whole consistent file of their own, every plain checksum recomputed:
        // the content and the plain trailer check out, and only the key tells it is not the floor's.
        let (forged, _) = sample();
        assert!(verify_with_key(&forged[..], None).is_ok(), "plainly consistent");
        let forged_err = verify_with_key(&forged[..], Some(key)).unwrap_err().to_string();
        assert!(
            forged_err.contains("not sealed with this floor's backup key"),
            "{forged_err}"
        );
        assert!(BackupKey::new(vec![1; 8]).is_err(), "a short key is refused");
    }

    #[test]
    fn every_flipped_byte_is_caught() {
        let (file, _) = sample();
        // Flip each byte in turn: header, rows, zstd framing, manifest and trailer alike.
        for at in 0..file.len() {
            let mut damaged = file.clone();
            damaged[at] ^= 0x20;
            match verify(&damaged[..]) {
                Err(BackupError::Corrupt(list)) => assert!(!list.is_empty()),
                Err(BackupError::Incompatible(_)) => {}
                Err(other) => panic!("byte {at}: unexpected error {other}"),
                Ok(_) => panic!("byte {at}: a flipped byte went unnoticed"),
            }
        }
    }

    #[test]
    fn a_changed_row_is_named_by_table_and_checksum() {
        let (file, _) = sample();
        let text = unpack(&file).replace("agent number 7 with", "agent number 8 with");
        let list = problems(verify(&repack(&text)[..]).unwrap_err());
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0].table.as_deref(), Some("agents"));
        assert!(list[0].problem.contains("checksum"), "{}", list[0]);
    }

    #[test]
    fn an_unreadable_row_is_named_by_table_row_and_line() {
        let (file, _) = sample();
        let text = unpack(&file).replace("[5,\"agent number 5", "[\"five\",\"agent number 5");
        let list = problems(verify(&repack(&text)[..]).unwrap_err());
        assert_eq!(list[0].table.as_deref(), Some("agents"));
        assert_eq!(list[0].row, Some(5));
        assert_eq!(list[0].line, Some(7), "header, table start, then rows 1-5");
        assert!(
            list[0]
                .to_string()
                .starts_with("table agents, row 5 (line 7 unpacked): column id"),
            "{}",
            list[0]
        );
    }

    #[test]
    fn a_missing_row_and_a_cut_file_are_reported() {
        let (file, _) = sample();
        let text = unpack(&file);
        let without: String = text
            .lines()
            .filter(|l| !l.starts_with("[9,"))
            .map(|l| format!("{l}\n"))
            .collect();
        let list = problems(verify(&repack(&without)[..]).unwrap_err());
        assert!(
            list.iter()
                .any(|c| c.problem.contains("199 rows where the manifest lists 200")),
            "{list:?}"
        );

        let cut = &file[..file.len() / 2];
        let list = problems(verify(cut).unwrap_err());
        assert!(list[0].problem.contains("truncated"), "{}", list[0]);
        // cut inside the manifest, and just before the closing checksum
        for keep in [file.len() - 100, file.len() - 10] {
            let list = problems(verify(&file[..keep]).unwrap_err());
            assert!(list[0].problem.contains("truncated"), "{}", list[0]);
        }
    }

    #[test]
    fn a_tampered_manifest_is_caught_by_its_own_checksum() {
        let (file, _) = sample();
        let text = unpack(&file).replace("\"rows\":200", "\"rows\":201");
        let list = problems(verify(&repack(&text)[..]).unwrap_err());
        assert!(
            list.iter().any(|c| c.table.is_none() && c.problem.contains("manifest")),
            "{list:?}"
        );
    }

    #[test]
    fn other_files_and_newer_formats_are_refused_with_a_reason() {
        let list = problems(verify(&b"id,name\n1,alice\n"[..]).unwrap_err());
        assert!(list[0].problem.contains("not a coldcall backup"), "{}", list[0]);
        let list = problems(verify(&repack("{\"hello\":1}\n")[..]).unwrap_err());
        assert!(list[0].problem.contains("not a coldcall backup"), "{}", list[0]);

        let (file, _) = sample();
        let newer = unpack(&file).replacen("\"format_version\":1", "\"format_version\":2", 1);
        assert!(matches!(verify(&repack(&newer)[..]), Err(BackupError::Incompatible(m)) if m.contains("upgrade")));
        let unknown = unpack(&file).replace(
            "{\"table\":{\"name\":\"settings\"",
            "{\"table\":{\"name\":\"campaigns\"",
        );
        assert!(matches!(verify(&repack(&unknown)[..]), Err(BackupError::Incompatible(m)) if m.contains("campaigns")));
    }

    #[test]
    fn a_backup_of_an_older_schema_may_lack_columns() {
        let mut w = BackupWriter::new(Vec::new(), header()).unwrap();
        w.begin_table(tables::table("settings").unwrap()).unwrap();
        w.row(&[Value::Text("k".into()), Value::Text("v".into()), Value::Null])
            .unwrap();
        let (file, _) = w.finish().unwrap();
        // Remove the updated_at column everywhere, as if the table once had two columns.
        let older = unpack(&file)
            .replace(",\"updated_at\"]", "]")
            .replace("[\"k\",\"v\",null]", "[\"k\",\"v\"]");
        let body: Vec<&str> = older.lines().collect();
        let manifest: serde_json::Value = serde_json::from_str(body[body.len() - 1]).unwrap();
        let mut manifest: Manifest = serde_json::from_value(manifest["manifest"].clone()).unwrap();
        manifest.tables[0].sha256 = hex(&Sha256::digest(b"[\"k\",\"v\"]\n"));
        manifest.manifest_sha256 = Manifest::checksum(&manifest.header, &manifest.tables);
        let last = serde_json::to_string(&serde_json::json!({ "manifest": manifest })).unwrap();
        let rebuilt = format!("{}\n{last}\n", body[..body.len() - 1].join("\n"));
        let packed = repack(&rebuilt);
        let mut reader = BackupReader::open(&packed[..]).unwrap();
        let section = reader.next_table().unwrap().unwrap();
        assert_eq!(section.columns.len(), 2);
        assert_eq!(
            reader.next_row().unwrap().unwrap(),
            vec![Value::Text("k".into()), Value::Text("v".into())]
        );
        reader.finish().unwrap();
    }
}
