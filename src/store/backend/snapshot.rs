//! The statements of backup and restore (`flows::snapshot`): a whole table read in key order,
//! rows written back in batches, and what a backend takes down while a restore loads (triggers,
//! indexes) and puts back after.
//!
//! Table and column names come only from the compiled-in list in `backup::tables` (never from
//! the file being restored), which is why backends may splice them into statements; values are
//! always bound.

use crate::backup::tables::TableSpec;
use crate::backup::{TableSection, Value};
use crate::store::Result;

use super::Tx;

pub(crate) trait SnapshotTx: Tx {
    /// Lifts the session's time limits for this transaction: they protect the floor from stuck
    /// consoles, and a backup or restore of a big floor is meant to take a while.
    async fn lift_time_limits(&mut self) -> Result<()>;

    /// Every row of the table, its backed-up columns in the spec's order, sorted by key the same
    /// way on every backend (text bytewise), handed to `row` one at a time as they arrive.
    async fn read_table<F>(&mut self, spec: &'static TableSpec, row: F) -> Result<()>
    where
        F: FnMut(&[Value]) -> Result<()>;

    async fn has_rows(&mut self, table: &'static TableSpec) -> Result<bool>;
    async fn clear_table(&mut self, table: &'static TableSpec) -> Result<()>;

    /// Takes down what would make the load slow or write rows of its own (triggers that log
    /// status changes and feed the change feed, indexes cheaper built once than updated row by
    /// row); answers what `resume_after_load` needs to put it back. Undone by a rollback.
    async fn pause_for_load(&mut self) -> Result<Vec<String>>;

    /// How many rows of this section one `insert_rows` should carry.
    fn rows_per_insert(&self, section: &TableSection) -> usize;

    /// Inserts the rows (in the section's columns) with one statement.
    async fn insert_rows(&mut self, section: &TableSection, rows: &[Vec<Value>]) -> Result<()>;

    /// Puts back what `pause_for_load` took down, and brings what derives from the rows (id
    /// sequences, search indexes) up to date with them.
    async fn resume_after_load(&mut self, paused: Vec<String>) -> Result<()>;
}
