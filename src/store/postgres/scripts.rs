//! Call scripts on PostgreSQL.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::statements::PgTx;
use crate::store::backend::ScriptTx;
use crate::store::model::CallScript;
use crate::store::portable::columns::SCRIPT_COLUMNS;
use crate::store::Result;

impl ScriptTx for PgTx {
    crate::store::portable::script_statements!();
}
