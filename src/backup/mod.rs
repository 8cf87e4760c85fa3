//! Backups of a whole coldcall database in one backend-neutral file, and their checks.
//!
//! This module is the format only, with no database access: which tables and columns a backup
//! holds (`tables`), the canonical text of a row (`value`), the file with its manifest and
//! checksums (`format`), and backup file names (`files`). The backends read and write the rows
//! (`store::postgres::backup`, `store::sqlite::backup`).

pub mod files;
mod format;
pub mod tables;
pub mod value;

pub use format::{
    verify, verify_with_key, BackupError, BackupKey, BackupReader, BackupWriter, Corruption, Header, Manifest,
    TableSection, TableSummary, FORMAT, FORMAT_VERSION,
};
pub use value::Value;
