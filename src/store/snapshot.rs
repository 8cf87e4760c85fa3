//! What both backends share around backups: the checks a restore makes before it writes, what it
//! reports, and how a row of a table is decoded and a refused row reported.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::model::MigrationInfo;
use super::StoreError;
use crate::backup::tables::{ColumnType, TableSpec};
use crate::backup::{BackupError, Manifest, TableSection, Value};

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

/// A row the database refused on restore (a constraint, a value out of range): the backup is
/// intact, so say which table and what the database said.
pub(crate) fn restore_refused(section: &TableSection, err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::Database(db) => StoreError::BadInput(format!(
            "restoring table {}: the database refused a row: {}",
            section.spec.name,
            db.message()
        )),
        other => other.into(),
    }
}

/// Decodes the rows of a table read by `SnapshotTx::read_table` (its backed-up columns in the
/// spec's order, integers as 64 bits and JSON as text) and hands each to `sink` as it arrives,
/// on any backend whose driver decodes those types.
pub(crate) async fn pipe_rows<R, S, F>(mut rows: S, spec: &TableSpec, mut sink: F) -> Result<(), StoreError>
where
    R: sqlx::Row,
    S: futures::Stream<Item = Result<R, sqlx::Error>> + Unpin,
    F: FnMut(&[Value]) -> Result<(), StoreError>,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Uuid: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> DateTime<Utc>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    use futures::TryStreamExt;
    let mut values = Vec::with_capacity(spec.columns.len());
    while let Some(row) = rows.try_next().await? {
        values.clear();
        for (i, column) in spec.columns.iter().enumerate() {
            let value = match column.ty {
                ColumnType::Int => row.try_get::<Option<i64>, _>(i)?.map(Value::Int),
                ColumnType::Float => row.try_get::<Option<f64>, _>(i)?.map(Value::Float),
                ColumnType::Bool => row.try_get::<Option<bool>, _>(i)?.map(Value::Bool),
                ColumnType::Text => row.try_get::<Option<String>, _>(i)?.map(Value::Text),
                ColumnType::Uuid => row.try_get::<Option<Uuid>, _>(i)?.map(Value::Uuid),
                ColumnType::Timestamp => row.try_get::<Option<DateTime<Utc>>, _>(i)?.map(Value::timestamp),
                ColumnType::Json => match row.try_get::<Option<String>, _>(i)? {
                    Some(text) => Some(Value::json(&text).map_err(|e| {
                        StoreError::BadInput(format!("table {}, column {}: {e}", spec.name, column.name))
                    })?),
                    None => None,
                },
            };
            values.push(value.unwrap_or(Value::Null));
        }
        sink(&values)?;
    }
    Ok(())
}
