//! What both backends share around backups: the checks a restore makes before it writes, and
//! what it reports.

use serde::Serialize;

use super::model::MigrationInfo;
use super::StoreError;
use crate::backup::{BackupError, Manifest};

/// What a restore loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreSummary {
    pub manifest: Manifest,
    pub rows: u64,
}

pub(crate) fn restore_needs_empty(table: &str) -> StoreError {
    StoreError::Conflict(format!(
        "the database already holds data (table {table} has rows); a restore only goes into an empty database: \
         create a new PostgreSQL database or name a new SQLite file, and restore there"
    ))
}

/// The schema version a backup of this database records: its newest applied migration. Every
/// migration this coldcall knows must be applied, so the backup's columns are the ones listed
/// in `backup::tables`.
pub(crate) fn schema_version_for_backup(status: &[MigrationInfo]) -> Result<i64, StoreError> {
    let pending: Vec<String> = status
        .iter()
        .filter(|m| !m.applied)
        .map(|m| format!("{} {}", m.version, m.description))
        .collect();
    if !pending.is_empty() {
        return Err(StoreError::BadInput(format!(
            "the database is not at this coldcall's schema (pending: {}); back it up with the coldcall version \
             that uses it, or run `coldcall db migrate` first",
            pending.join(", ")
        )));
    }
    status
        .iter()
        .map(|m| m.version)
        .max()
        .ok_or_else(|| StoreError::BadInput("the database has no schema yet: nothing to back up".into()))
}

/// Refuses a backup whose schema is newer than any this coldcall can create.
pub(crate) fn check_restorable(manifest: &Manifest, status: &[MigrationInfo]) -> Result<(), StoreError> {
    let known = status.iter().map(|m| m.version).max().unwrap_or(0);
    if manifest.header.schema_version > known {
        return Err(BackupError::Incompatible(format!(
            "the backup's schema ({}, written by coldcall {}) is newer than this coldcall knows ({known}): \
             restore it with that version of coldcall or a newer one",
            manifest.header.schema_version, manifest.header.coldcall_version
        ))
        .into());
    }
    Ok(())
}
