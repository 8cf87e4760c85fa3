//! Backup and restore on PostgreSQL (`flows::snapshot`): tables read in a REPEATABLE READ
//! snapshot, rows written back as arrays through UNNEST with the triggers disabled and the
//! secondary indexes built again at the end.
//!
//! Table and column names in this file's SQL come only from the compiled-in list in
//! `backup::tables` (never from the file being restored), which is why they may be spliced into
//! statements with `format!`; values are always bound.

use super::statements::PgTx;
use super::PgStore;
use crate::backup::tables::{ColumnType, TableSpec, TABLES};
use crate::backup::{TableSection, Value};
use crate::store::backend::SnapshotTx;
use crate::store::snapshot::{pipe_rows, restore_refused};
use crate::store::{Result, StoreError};

/// Rows per INSERT on restore: each column travels as one array, so the statement stays small
/// while round trips stay few.
const RESTORE_BATCH: usize = 5000;

impl SnapshotTx for PgTx {
    async fn lift_time_limits(&mut self) -> Result<()> {
        sqlx::query("SET LOCAL statement_timeout = 0")
            .execute(self.conn())
            .await?;
        sqlx::query("SET LOCAL idle_in_transaction_session_timeout = 0")
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn read_table<F>(&mut self, spec: &'static TableSpec, row: F) -> Result<()>
    where
        F: FnMut(&[Value]) -> Result<()>,
    {
        let sql = select_all(spec);
        pipe_rows(sqlx::query(&sql).fetch(self.conn()), spec, row).await
    }

    async fn has_rows(&mut self, table: &'static TableSpec) -> Result<bool> {
        Ok(
            sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM \"{}\")", table.name))
                .fetch_one(self.conn())
                .await?,
        )
    }

    async fn clear_table(&mut self, table: &'static TableSpec) -> Result<()> {
        sqlx::query(&format!("DELETE FROM \"{}\"", table.name))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// DISABLE TRIGGER USER needs only ownership of the tables (not superuser, unlike
    /// session_replication_role); it is transactional, and foreign keys stay checked. The
    /// non-unique indexes are dropped too (see `drop_secondary_indexes`); their definitions are
    /// what `resume_after_load` builds again.
    async fn pause_for_load(&mut self) -> Result<Vec<String>> {
        set_triggers(self, false).await?;
        drop_secondary_indexes(self).await
    }

    fn rows_per_insert(&self, _section: &TableSection) -> usize {
        RESTORE_BATCH
    }

    async fn insert_rows(&mut self, section: &TableSection, rows: &[Vec<Value>]) -> Result<()> {
        insert_batch(self, section, rows, false).await.map(drop)
    }

    async fn resume_after_load(&mut self, paused: Vec<String>) -> Result<()> {
        // Deferred checks (a merged lead's pointer) run now, before indexes are built again:
        // PostgreSQL refuses to build an index on a table with checks still pending.
        sqlx::query("SET CONSTRAINTS ALL IMMEDIATE")
            .execute(self.conn())
            .await?;
        for spec in TABLES.iter().filter(|t| t.identity) {
            // New rows must take ids after the restored ones.
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('\"{0}\"', '{1}'), \
                 coalesce((SELECT max(\"{1}\") FROM \"{0}\"), 0) + 1, false)",
                spec.name, spec.key
            ))
            .execute(self.conn())
            .await?;
        }
        for definition in &paused {
            sqlx::query(definition).execute(self.conn()).await?;
        }
        set_triggers(self, true).await?;
        // The queue's ready set is derived and its triggers were paused: write it once from
        // the restored leads.
        sqlx::query("SELECT coldcall_queue_rebuild()")
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

/// `SELECT` of a table's backed-up columns in key order. Integers are widened to BIGINT and JSON
/// read as text, so one decoder serves every column of a kind; text keys sort bytewise
/// (COLLATE "C"), as SQLite sorts them, so both backends write rows in the same order.
fn select_all(spec: &TableSpec) -> String {
    select_where(spec, "TRUE")
}

/// `select_all` of the rows that pass `condition` (SQL of coldcall's own, over bound values).
pub(super) fn select_where(spec: &TableSpec, condition: &str) -> String {
    let columns: Vec<String> = spec
        .columns
        .iter()
        .map(|c| match c.ty {
            ColumnType::Int => format!("\"{}\"::int8", c.name),
            ColumnType::Json => format!("\"{}\"::text", c.name),
            _ => format!("\"{}\"", c.name),
        })
        .collect();
    let collate = if spec.key_type() == ColumnType::Text {
        " COLLATE \"C\""
    } else {
        ""
    };
    format!(
        "SELECT {} FROM \"{}\" WHERE {condition} ORDER BY \"{}\"{collate}",
        columns.join(", "),
        spec.name,
        spec.key
    )
}

/// Drops the tables' non-unique indexes (the search, list and queue indexes) and returns their
/// definitions to build again after the load: building a GIN index once is several times faster
/// than updating it row by row. Unique indexes stay, so a duplicate is still refused at its row.
/// Index names and definitions come from the catalog of coldcall's own schema; this is DDL in
/// the restore's transaction, so a failed restore leaves every index as it was.
async fn drop_secondary_indexes(tx: &mut PgTx) -> Result<Vec<String>> {
    let tables: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT quote_ident(ic.relname), pg_get_indexdef(i.indexrelid) FROM pg_index i \
         JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid \
         WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY($1) \
         AND NOT i.indisunique AND NOT i.indisprimary ORDER BY 1",
    )
    .bind(&tables)
    .fetch_all(tx.conn())
    .await?;
    for (name, _) in &indexes {
        sqlx::query(&format!("DROP INDEX {name}")).execute(tx.conn()).await?;
    }
    Ok(indexes.into_iter().map(|(_, definition)| definition).collect())
}

async fn set_triggers(tx: &mut PgTx, on: bool) -> Result<()> {
    let mut names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    names.push("changes");
    for name in names {
        let sql = format!(
            "ALTER TABLE \"{name}\" {} TRIGGER USER",
            if on { "ENABLE" } else { "DISABLE" }
        );
        if let Err(err) = sqlx::query(&sql).execute(tx.conn()).await {
            let not_owner = err
                .as_database_error()
                .and_then(|e| e.code())
                .is_some_and(|code| code == "42501");
            if not_owner {
                return Err(StoreError::Forbidden(format!(
                    "restore pauses the triggers of table {name} while it loads, which only the tables' owner may do: \
                     run it as the database role that ran `coldcall db migrate`"
                )));
            }
            return Err(err.into());
        }
    }
    Ok(())
}

/// Inserts rows with one statement: each column is bound as one array and UNNEST turns the
/// arrays back into rows. Integer arrays are BIGINT and narrow to the column's type on insert.
/// With `skip_existing`, rows whose key or unique values are there already are left out.
/// Answers how many rows went in.
pub(super) async fn insert_batch(
    tx: &mut PgTx,
    section: &TableSection,
    rows: &[Vec<Value>],
    skip_existing: bool,
) -> Result<u64> {
    let names: Vec<String> = section.columns.iter().map(|c| format!("\"{}\"", c.name)).collect();
    let mut arrays = Vec::with_capacity(section.columns.len());
    let mut selects = Vec::with_capacity(section.columns.len());
    for (i, column) in section.columns.iter().enumerate() {
        let (pg_type, cast) = match column.ty {
            ColumnType::Int => ("int8", ""),
            ColumnType::Float => ("float8", ""),
            ColumnType::Bool => ("bool", ""),
            ColumnType::Text => ("text", ""),
            ColumnType::Uuid => ("uuid", ""),
            ColumnType::Timestamp => ("timestamptz", ""),
            ColumnType::Json => ("text", "::jsonb"),
        };
        arrays.push(format!("${}::{pg_type}[]", i + 1));
        selects.push(format!("{}{cast}", names[i]));
    }
    let sql = format!(
        "INSERT INTO \"{}\" ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM UNNEST({}) AS u({}){}",
        section.spec.name,
        names.join(", "),
        selects.join(", "),
        arrays.join(", "),
        names.join(", "),
        if skip_existing { " ON CONFLICT DO NOTHING" } else { "" }
    );
    let mut query = sqlx::query(&sql);
    for (i, column) in section.columns.iter().enumerate() {
        let cells = rows.iter().map(|r| &r[i]);
        query = match column.ty {
            ColumnType::Int => query.bind(cells.map(as_int).collect::<Vec<_>>()),
            ColumnType::Float => query.bind(
                cells
                    .map(|v| match v {
                        Value::Float(f) => Some(*f),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            ColumnType::Bool => query.bind(
                cells
                    .map(|v| match v {
                        Value::Bool(b) => Some(*b),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            ColumnType::Text | ColumnType::Json => query.bind(
                cells
                    .map(|v| match v {
                        Value::Text(s) | Value::Json(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            ColumnType::Uuid => query.bind(
                cells
                    .map(|v| match v {
                        Value::Uuid(u) => Some(*u),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            ColumnType::Timestamp => query.bind(
                cells
                    .map(|v| match v {
                        Value::Timestamp(t) => Some(*t),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
        };
    }
    let done = query
        .execute(tx.conn())
        .await
        .map_err(|e| restore_refused(section, e))?;
    Ok(done.rows_affected())
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(*n),
        _ => None,
    }
}

impl PgStore {
    /// Every coldcall object in the database's schema, one normalised line each, sorted:
    /// columns (type, null, default, identity, generation), indexes, constraints, triggers and
    /// functions. Two databases with the same schema give the same list. Objects that belong to
    /// an extension (pg_trgm's functions) are not coldcall's and are left out, as is sqlx's
    /// bookkeeping table.
    pub async fn schema_objects(&self) -> Result<Vec<String>> {
        let queries = [
            "SELECT format('column %s.%s %s null=%s default=%s identity=%s generated=%s', table_name, column_name, \
             data_type, is_nullable, coalesce(column_default, ''), coalesce(identity_generation, ''), \
             coalesce(generation_expression, '')) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
            "SELECT 'index ' || indexdef FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename <> '_sqlx_migrations'",
            "SELECT format('constraint %s %s %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) \
             FROM pg_constraint c WHERE c.connamespace = current_schema()::regnamespace \
             AND c.conrelid <> '_sqlx_migrations'::regclass",
            "SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid \
             WHERE NOT t.tgisinternal AND r.relnamespace = current_schema()::regnamespace",
            "SELECT format('function %s %s', p.proname, md5(p.prosrc)) FROM pg_proc p \
             WHERE p.pronamespace = current_schema()::regnamespace \
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')",
            "SELECT 'table ' || c.relname || ' ' || c.relkind::text FROM pg_class c \
             WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'v', 'm', 'S') \
             AND c.relname NOT LIKE '\\_sqlx\\_migrations%' \
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')",
        ];
        let mut objects = Vec::new();
        for sql in queries {
            let found: Vec<String> = sqlx::query_scalar(sql).fetch_all(&self.pool).await?;
            objects.extend(found);
        }
        objects.sort();
        Ok(objects)
    }
}
