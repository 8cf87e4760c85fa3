//! One error type for every store call, so callers (CLI, console) can tell a refused rule,
//! bad input and a broken database apart without knowing which backend they talk to.

use crate::domain::{Refusal, ValidationErrors};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Input failed validation; each field says what is wrong.
    #[error("{0}")]
    Invalid(#[from] ValidationErrors),
    /// A dialer rule said no (do-not-call, on another call, too soon, ...).
    #[error("{0}")]
    Refused(#[from] Refusal),
    #[error("{what} not found: {key}")]
    NotFound { what: &'static str, key: String },
    /// The change would break a uniqueness rule (same phone, same email, ...).
    #[error("{0}")]
    Conflict(String),
    /// The acting agent may not do this (not the lock owner, not a supervisor, ...).
    #[error("{0}")]
    Forbidden(String),
    /// A shared setting stored out of range (by hand, or by an older coldcall): the floor stops
    /// rather than dial on a rule nobody chose.
    #[error("{0}")]
    BadSetting(String),
    /// Input that is not a lead field: a bad setting, an unknown disposition, a past callback time.
    #[error("{0}")]
    BadInput(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A backup file that cannot be read, is damaged, or does not fit this coldcall.
    #[error("{0}")]
    Backup(#[from] crate::backup::BackupError),
    /// The floor server could not be reached, or it could not reach its database: worth
    /// trying again, as with a database that does not answer.
    #[error("{0}")]
    Unavailable(String),
    /// The floor server no longer takes this terminal's session (expired, revoked, the agent
    /// deactivated): `coldcall login` gives a new one.
    #[error("{0}")]
    SessionEnded(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    pub fn not_found(what: &'static str, key: impl ToString) -> Self {
        StoreError::NotFound {
            what,
            key: key.to_string(),
        }
    }

    /// What a floor server's client says of a call only the database itself takes (schema,
    /// backups, bulk loads).
    pub fn direct_only() -> Self {
        StoreError::Forbidden(
            "this runs against the database directly (an admin with --database), not through the floor server".into(),
        )
    }

    /// True when trying again later may succeed: the database or the floor server did not
    /// answer, or the session must first be renewed with `coldcall login`.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Database(_) | StoreError::Migrate(_) | StoreError::Unavailable(_) | StoreError::SessionEnded(_)
        )
    }

    /// True when a rule refused the action (the CLI exits with 3 for these).
    pub fn is_refusal(&self) -> bool {
        matches!(self, StoreError::Refused(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            if db.is_unique_violation() {
                return StoreError::Conflict(unique_message(db.constraint(), db.message()));
            }
            if db.is_check_violation() {
                return StoreError::BadInput(format!("value rejected by the database: {}", db.message()));
            }
        }
        StoreError::Database(err)
    }
}

/// Names the rule a unique violation broke in words a person understands. SQLite reports no
/// constraint name, only the message, so both are consulted.
fn unique_message(constraint: Option<&str>, message: &str) -> String {
    let key = constraint.unwrap_or(message);
    let known = [
        ("phone", "a lead with this phone number already exists"),
        ("leads.email", "a lead with this email already exists"),
        ("leads_email", "a lead with this email already exists"),
        ("agents.name", "an agent with this name already exists"),
        ("agents_name", "an agent with this name already exists"),
        ("agents.email", "an agent with this email already exists"),
        ("agents_email", "an agent with this email already exists"),
        ("active_calls", "the lead is already on another call"),
        ("one_primary", "the lead already has a primary contact of this kind"),
        ("contacts", "the lead already has this contact point"),
        ("lead_assignments", "the lead is already assigned"),
        ("dispositions", "a disposition with this code or hotkey already exists"),
    ];
    known
        .iter()
        .find(|(needle, _)| key.contains(needle) || message.contains(needle))
        .map(|(_, text)| text.to_string())
        .unwrap_or_else(|| format!("duplicate value: {message}"))
}
