//! SQL that PostgreSQL and SQLite both take word for word, written once.
//!
//! Most statements read the same in both dialects; only their connection types differ, and
//! sqlx's `Any` driver cannot carry what the store binds (UUIDs, timestamps), while functions
//! generic over `sqlx::Database` need a bound for every type bound and decoded. So each shared
//! statement is written here once, inside a macro, and each backend expands the macro in its own
//! `impl`: the expansion is checked against that backend's types, uses that backend's connection
//! (`self.conn()` in a transaction, `self.reader()` / `self.writer()` on the store) and that
//! backend's column lists. A statement whose text differs stays in the backend's own folder, so
//! what is written there is exactly what differs between the dialects.

mod binds;
pub(crate) mod columns;
mod identity;
mod merge;
mod offline;
mod privacy;
mod scripts;
mod store;
mod tx;

pub(crate) use binds::{bind_filters, bind_lead};
pub(crate) use identity::identity_queries;
pub(crate) use merge::merge_statements;
pub(crate) use offline::offline_statements;
pub(crate) use privacy::privacy_statements;
pub(crate) use scripts::script_statements;
pub(crate) use store::store_queries;
pub(crate) use tx::tx_statements;
