//! Postgres: the statements of `lead duplicates` and `lead merge` (`flows::merge`).

use uuid::Uuid;

use super::dialect;
use super::statements::PgTx;
use crate::domain::ContactKind;
use crate::store::backend::{Absorb, KeyRow, MergeTx};
use crate::store::Result;

impl MergeTx for PgTx {
    crate::store::portable::merge_statements!();
}
