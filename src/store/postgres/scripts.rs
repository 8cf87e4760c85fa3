//! Call scripts on PostgreSQL.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::statements::PgTx;
use crate::store::backend::ScriptTx;
use crate::store::model::CallScript;
use crate::store::Result;

const SCRIPT_COLUMNS: &str = "name, body, updated_at, updated_by";

impl ScriptTx for PgTx {
    crate::store::portable::script_statements!();
}
