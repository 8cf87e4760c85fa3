//! Offline copies on a PostgreSQL floor (`flows::offline`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::backup::{insert_batch, select_where};
use super::bind_filters;
use super::dialect;
use super::statements::PgTx;
use super::FILTERS;
use crate::backup::tables::TableSpec;
use crate::backup::{TableSection, Value};
use crate::store::backend::OfflineTx;
use crate::store::model::LeadFilter;
use crate::store::offline::{Checkout, OpenCheckout};
use crate::store::snapshot::pipe_rows;
use crate::store::{Result, StoreError};

const CHECKOUT_COLUMNS: &str =
    "id, agent_id, created_by, created_at, expires_at, floor, closed_at, last_sync_at, last_report";

/// The keys as one array of the first key's kind; a key of another kind is an error, never dropped.
fn keys_of<T>(spec: &TableSpec, keys: &[Value], pick: impl Fn(&Value) -> Option<T>) -> Result<Vec<T>> {
    keys.iter()
        .map(|k| {
            pick(k).ok_or_else(|| StoreError::BadInput(format!("table {}: keys of mixed kinds ({k:?})", spec.name)))
        })
        .collect()
}

impl OfflineTx for PgTx {
    crate::store::portable::offline_statements!();

    async fn read_rows_where<F>(&mut self, spec: &'static TableSpec, column: &str, keys: &[Value], row: F) -> Result<()>
    where
        F: FnMut(&[Value]) -> Result<()>,
    {
        let column = spec
            .column(column)
            .ok_or_else(|| StoreError::BadInput(format!("table {} has no column {column}", spec.name)))?;
        let sql = select_where(spec, &format!("\"{}\" = ANY($1)", column.name));
        let query = sqlx::query(&sql);
        let query = match keys.first() {
            None => return Ok(()),
            Some(Value::Uuid(_)) => query.bind(keys_of(spec, keys, |k| match k {
                Value::Uuid(u) => Some(*u),
                _ => None,
            })?),
            Some(Value::Int(_)) => query.bind(keys_of(spec, keys, |k| match k {
                Value::Int(n) => Some(*n),
                _ => None,
            })?),
            Some(_) => query.bind(keys_of(spec, keys, |k| match k {
                Value::Text(s) => Some(s.clone()),
                _ => None,
            })?),
        };
        pipe_rows(query.fetch(self.conn()), spec, row).await
    }

    async fn checkout_candidates(
        &mut self,
        agent_id: i64,
        filter: &LeadFilter,
        max_attempts: i32,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>> {
        Ok(bind_filters!(
            sqlx::query_scalar(&format!(
            "SELECT id FROM leads WHERE {FILTERS} \
             AND NOT do_not_call AND status NOT IN ('closed_won', 'closed_lost') AND call_attempts < $9 \
             AND NOT EXISTS (SELECT 1 FROM dnc_numbers d WHERE d.number = leads.phone) \
             AND NOT EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = leads.id) \
             AND NOT EXISTS (SELECT 1 FROM lead_assignments a WHERE a.lead_id = leads.id AND a.active \
                 AND (a.expires_at IS NULL OR a.expires_at > $6) AND (a.agent_id <> $8::bigint OR a.checkout_id IS NOT NULL)) \
             ORDER BY priority_rank DESC, lead_score DESC, id LIMIT $10"
        )),
            filter,
            now
        )
        .bind(agent_id)
        .bind(max_attempts)
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await?)
    }

    async fn lock_checkout(&mut self, id: Uuid) -> Result<Option<Checkout>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {CHECKOUT_COLUMNS} FROM offline_checkouts WHERE id = $1 AND floor IS NULL FOR UPDATE"
        ))
        .bind(id)
        .fetch_optional(self.conn())
        .await?)
    }

    async fn release_reserved(&mut self, checkout_id: Uuid, lead_ids: &[Uuid]) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE lead_assignments SET active = FALSE WHERE checkout_id = $1 AND active AND lead_id = ANY($2)",
        )
        .bind(checkout_id)
        .bind(lead_ids)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected())
    }
}
