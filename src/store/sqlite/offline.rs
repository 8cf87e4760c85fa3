//! Offline copies on a SQLite floor, and every copy's own statements (`flows::offline`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use sqlx::{QueryBuilder, Sqlite};

use super::backup::insert_batch;
use super::bind_filters;
use super::dialect;
use super::statements::SqliteTx;
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

/// Binds per statement: well under SQLite's limit of 32,766.
const MAX_KEYS: usize = 30_000;

impl OfflineTx for SqliteTx {
    crate::store::portable::offline_statements!();

    async fn read_rows_where<F>(&mut self, spec: &'static TableSpec, column: &str, keys: &[Value], row: F) -> Result<()>
    where
        F: FnMut(&[Value]) -> Result<()>,
    {
        let column = spec
            .column(column)
            .ok_or_else(|| StoreError::BadInput(format!("table {} has no column {column}", spec.name)))?;
        let names: Vec<String> = spec.columns.iter().map(|c| format!("\"{}\"", c.name)).collect();
        let mut row = row;
        for chunk in keys.chunks(MAX_KEYS) {
            let mut query: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
                "SELECT {} FROM \"{}\" WHERE \"{}\" IN (",
                names.join(", "),
                spec.name,
                column.name
            ));
            let mut list = query.separated(", ");
            for key in chunk {
                match key {
                    Value::Uuid(u) => list.push_bind(*u),
                    Value::Text(s) => list.push_bind(s.clone()),
                    Value::Int(n) => list.push_bind(*n),
                    other => {
                        return Err(StoreError::BadInput(format!(
                            "table {}: {other:?} is not a key",
                            spec.name
                        )))
                    }
                };
            }
            query.push(format!(") ORDER BY \"{}\"", spec.key));
            pipe_rows(query.build().fetch(self.conn()), spec, &mut row).await?;
        }
        Ok(())
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
             AND do_not_call = 0 AND status NOT IN ('closed_won', 'closed_lost') AND call_attempts < $9 \
             AND NOT EXISTS (SELECT 1 FROM dnc_numbers d WHERE d.number = leads.phone) \
             AND NOT EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = leads.id) \
             AND NOT EXISTS (SELECT 1 FROM lead_assignments a WHERE a.lead_id = leads.id AND a.active = 1 \
                 AND (a.expires_at IS NULL OR a.expires_at > $6) AND (a.agent_id <> $8 OR a.checkout_id IS NOT NULL)) \
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
            "SELECT {CHECKOUT_COLUMNS} FROM offline_checkouts WHERE id = $1 AND floor IS NULL"
        ))
        .bind(id)
        .fetch_optional(self.conn())
        .await?)
    }

    async fn release_reserved(&mut self, checkout_id: Uuid, lead_ids: &[Uuid]) -> Result<u64> {
        let mut ended = 0;
        for lead_id in lead_ids {
            ended += sqlx::query(
                "UPDATE lead_assignments SET active = 0 WHERE checkout_id = $1 AND active = 1 AND lead_id = $2",
            )
            .bind(checkout_id)
            .bind(lead_id)
            .execute(self.conn())
            .await?
            .rows_affected();
        }
        Ok(ended)
    }
}
