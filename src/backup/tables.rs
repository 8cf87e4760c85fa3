//! Which tables a backup holds, their columns in a fixed order, and how each column is written.
//!
//! This list is the contract between the two backends: both read and write exactly these columns
//! under these names, so a backup from one restores into the other. Backend-only columns are
//! derived and left out: SQLite's `leads.seq` (the full-text index's row key), the full-text and
//! trigram shadow tables, and the generated columns `leads.priority_rank` and PostgreSQL's
//! `leads.search_doc` (the stored search document); restoring rebuilds them.
//!
//! Left out on purpose, because they describe running consoles rather than the floor's data:
//! - `changes`, the change feed: its ids (and PostgreSQL's transaction ids) only mean something to
//!   consoles polling that one database; a restored database starts a fresh feed.
//! - `agent_presence`: what each console said it was doing at its last heartbeat. Restored, every
//!   agent would read as offline anyway; consoles publish it again when they open.
//!
//! `active_calls` is kept: a call that was on when the backup was taken has a call log without an
//! end. With its lock restored, the lock's heartbeat is old, so the first console to look reaps it
//! and closes the call as abandoned, exactly as after a crashed console; without it the call would
//! stay open forever.

/// How a column's value is written in a backup (see `value` for the exact text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Any integer column (SMALLINT, INTEGER, BIGINT): a JSON number.
    Int,
    /// DOUBLE PRECISION / REAL: a JSON number, shortest text that reads back to the same value.
    Float,
    /// BOOLEAN, or SQLite's 0/1: true / false.
    Bool,
    /// Text, enums included (their snake_case name).
    Text,
    /// A UUID (SQLite keeps 16 bytes): lower-case hyphenated text.
    Uuid,
    /// A UTC timestamp: RFC 3339 with exactly six fraction digits and `Z`.
    Timestamp,
    /// JSON (PostgreSQL JSONB, SQLite text): the document re-encoded with sorted keys and no
    /// spaces, as a string, so both backends give the same bytes.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
}

#[derive(Debug, PartialEq, Eq)]
pub struct TableSpec {
    pub name: &'static str,
    pub columns: &'static [Column],
    /// The primary key: rows are written in its order so the same data gives the same bytes.
    pub key: &'static str,
    /// Rows put there by `migrate` (settings, dispositions): a restore replaces them with the
    /// backup's, and they do not make a database count as holding data.
    pub seeded: bool,
    /// PostgreSQL fills this column from a sequence (`GENERATED ALWAYS AS IDENTITY`): a restore
    /// writes the backup's ids and moves the sequence past them.
    pub identity: bool,
}

impl TableSpec {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn key_type(&self) -> ColumnType {
        self.column(self.key).map(|c| c.ty).unwrap_or(ColumnType::Int)
    }
}

pub fn table(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|t| t.name == name)
}

const fn col(name: &'static str, ty: ColumnType) -> Column {
    Column { name, ty }
}

use ColumnType::*;

/// Every table a backup holds, in an order where each table comes after the tables it refers
/// to, so a restore can insert them one after another with foreign keys checked.
pub static TABLES: &[TableSpec] = &[
    TableSpec {
        name: "agents",
        columns: &[
            col("id", Int),
            col("name", Text),
            col("email", Text),
            col("role", Text),
            col("active", Bool),
            col("created_at", Timestamp),
        ],
        key: "id",
        seeded: false,
        identity: true,
    },
    TableSpec {
        name: "call_scripts",
        columns: &[
            col("name", Text),
            col("body", Text),
            col("updated_at", Timestamp),
            col("updated_by", Int),
        ],
        key: "name",
        seeded: false,
        identity: false,
    },
    TableSpec {
        name: "settings",
        columns: &[col("key", Text), col("value", Text), col("updated_at", Timestamp)],
        key: "key",
        seeded: true,
        identity: false,
    },
    TableSpec {
        name: "dispositions",
        columns: &[
            col("code", Text),
            col("label", Text),
            col("hotkey", Text),
            col("is_contact", Bool),
            col("is_sale", Bool),
            col("is_dnc", Bool),
            col("is_callback", Bool),
            col("is_final", Bool),
            col("next_status", Text),
            col("recycle_after_s", Int),
            col("max_attempts", Int),
            col("sort_order", Int),
        ],
        key: "code",
        seeded: true,
        identity: false,
    },
    TableSpec {
        name: "leads",
        columns: &[
            col("id", Uuid),
            col("first_name", Text),
            col("last_name", Text),
            col("email", Text),
            col("phone", Text),
            col("company", Text),
            col("title", Text),
            col("timezone", Text),
            col("status", Text),
            col("priority", Text),
            col("lead_score", Int),
            col("conversion_probability", Float),
            col("source", Text),
            col("notes", Text),
            col("consent_given", Bool),
            col("consent_date", Timestamp),
            col("do_not_call", Bool),
            col("do_not_email", Bool),
            col("call_attempts", Int),
            col("last_call_at", Timestamp),
            col("next_call_at", Timestamp),
            col("data_quality", Int),
            col("created_at", Timestamp),
            col("updated_at", Timestamp),
            col("updated_by", Int),
            col("status_reason", Text),
            col("deleted_at", Timestamp),
            col("merged_into", Uuid),
        ],
        key: "id",
        seeded: false,
        identity: false,
    },
    TableSpec {
        name: "contacts",
        columns: &[
            col("id", Uuid),
            col("lead_id", Uuid),
            col("kind", Text),
            col("value", Text),
            col("label", Text),
            col("is_primary", Bool),
            col("is_verified", Bool),
            col("created_at", Timestamp),
        ],
        key: "id",
        seeded: false,
        identity: false,
    },
    TableSpec {
        name: "call_logs",
        columns: &[
            col("id", Uuid),
            col("lead_id", Uuid),
            col("agent_id", Int),
            col("phone_number", Text),
            col("from_number", Text),
            col("direction", Text),
            col("status", Text),
            col("disposition", Text),
            col("duration_s", Int),
            col("notes", Text),
            col("recording_url", Text),
            col("started_at", Timestamp),
            col("answered_at", Timestamp),
            col("ended_at", Timestamp),
            col("ended_by", Int),
            col("ringing_at", Timestamp),
        ],
        key: "id",
        seeded: false,
        identity: false,
    },
    TableSpec {
        name: "active_calls",
        columns: &[
            col("lead_id", Uuid),
            col("call_log_id", Uuid),
            col("agent_id", Int),
            col("phone_number", Text),
            col("started_at", Timestamp),
            col("heartbeat_at", Timestamp),
        ],
        key: "lead_id",
        seeded: false,
        identity: false,
    },
    TableSpec {
        name: "lead_status_log",
        columns: &[
            col("id", Int),
            col("lead_id", Uuid),
            col("old_status", Text),
            col("new_status", Text),
            col("changed_by", Int),
            col("reason", Text),
            col("changed_at", Timestamp),
        ],
        key: "id",
        seeded: false,
        identity: true,
    },
    TableSpec {
        name: "offline_checkouts",
        columns: &[
            col("id", Uuid),
            col("agent_id", Int),
            col("created_by", Int),
            col("created_at", Timestamp),
            col("expires_at", Timestamp),
            col("floor", Text),
            col("closed_at", Timestamp),
            col("last_sync_at", Timestamp),
            col("last_report", Text),
        ],
        key: "id",
        seeded: false,
        identity: false,
    },
    TableSpec {
        name: "offline_applied",
        columns: &[col("checkout_id", Uuid), col("op", Text), col("applied_at", Timestamp)],
        key: "op",
        seeded: false,
        identity: false,
    },
    TableSpec {
        name: "lead_assignments",
        columns: &[
            col("id", Uuid),
            col("lead_id", Uuid),
            col("agent_id", Int),
            col("assigned_by", Int),
            col("assigned_at", Timestamp),
            col("expires_at", Timestamp),
            col("active", Bool),
            col("checkout_id", Uuid),
        ],
        key: "id",
        seeded: false,
        identity: false,
    },
    TableSpec {
        name: "callbacks",
        columns: &[
            col("id", Uuid),
            col("lead_id", Uuid),
            col("agent_id", Int),
            col("due_at", Timestamp),
            col("note", Text),
            col("created_at", Timestamp),
            col("done_at", Timestamp),
        ],
        key: "id",
        seeded: false,
        identity: false,
    },
    TableSpec {
        name: "dnc_numbers",
        columns: &[
            col("number", Text),
            col("reason", Text),
            col("added_by", Int),
            col("added_at", Timestamp),
        ],
        key: "number",
        seeded: false,
        identity: false,
    },
    TableSpec {
        name: "audit_log",
        columns: &[
            col("id", Int),
            col("at", Timestamp),
            col("agent_id", Int),
            col("action", Text),
            col("entity", Text),
            col("entity_id", Text),
            col("old_value", Json),
            col("new_value", Json),
        ],
        key: "id",
        seeded: false,
        identity: true,
    },
];

/// Tables of the schema a backup leaves out, with the reason (see the module notes). The schema
/// test checks that every table is either backed up or listed here, so a new table cannot be
/// forgotten silently.
pub const NOT_BACKED_UP: &[(&str, &str)] = &[
    (
        "changes",
        "the change feed of the live database; a restored one starts its own",
    ),
    (
        "agent_sessions",
        "the floor server's live logins; after a restore agents log in again",
    ),
    (
        "agent_credentials",
        "password hashes stay out of backup files; after a restore agents enrol again (agent enrol NAME)",
    ),
    (
        "agent_presence",
        "what running consoles last reported; republished when they open",
    ),
    (
        "offline_base",
        "an offline copy's own record of what it held at checkout; kept in the copy's file",
    ),
    (
        "lead_queue",
        "the queue's ready set, derived from the leads; written again from them on restore",
    ),
];

/// Columns a backend keeps beside the backed-up ones, derived from them and rebuilt on restore.
pub const DERIVED_COLUMNS: &[(&str, &str)] = &[("leads", "seq"), ("leads", "priority_rank"), ("leads", "search_doc")];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_a_column_and_names_are_unique() {
        let mut names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TABLES.len());
        for t in TABLES {
            assert!(t.column(t.key).is_some(), "{} key {}", t.name, t.key);
            let mut cols: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
            cols.sort();
            cols.dedup();
            assert_eq!(cols.len(), t.columns.len(), "{} has a duplicate column", t.name);
            assert!(table(t.name).is_some());
        }
        assert!(table("changes").is_none());
    }
}
