//! SQLite: the bulk paths of the import (`flows::bulk`), and the call export.
//!
//! sqlx pays a fixed cost per statement (single-row INSERTs managed ~36k rows/s), so new rows go
//! in as multi-row INSERTs inside the batch's one `BEGIN IMMEDIATE` transaction, as many rows per
//! statement as SQLite's bound-parameter limit allows. The lead triggers (search index, status
//! log, change feed) fire for every row as for a lead typed by hand.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use super::statements::SqliteTx;
use super::{bind_lead, json_list, SqliteStore, CALL_COLUMNS, LEAD_COLUMNS};
use crate::domain::{ContactKind, LeadFields};
use crate::store::backend::{BatchStamp, BulkTx, HistoryCall};
use crate::store::model::Lead;
use crate::store::{CallCursor, CallFilter, CallRecord, DncRow, Result, RowContact};

/// SQLite's limit on bound parameters in one statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32).
const MAX_PARAMS: usize = 32_766;
/// Parameters bound per inserted lead (see `write_leads`).
const LEAD_PARAMS: usize = 23;
/// Parameters bound per contact point (see `insert_contact_points`).
const CONTACT_PARAMS: usize = 6;
/// Parameters bound per listed number.
const DNC_PARAMS: usize = 4;

/// Row triggers of `leads` a bulk batch runs once for all its new leads instead of once per lead:
/// the definitions to create again, and the statements that write what they would have.
pub(crate) struct PausedTriggers {
    definitions: Vec<String>,
    replays: Vec<String>,
    /// The largest rowid before the batch: its new leads are the rows after it (one writer).
    after: i64,
}

impl BulkTx for SqliteTx {
    type Paused = PausedTriggers;

    /// Drops every AFTER INSERT trigger on `leads` whose body is only single-row INSERT …
    /// VALUES statements (the change feed, the status log, the search indexes); any other (the
    /// queue's) stays on and runs row by row. Definitions come from the schema's own catalog,
    /// so whatever a migration makes of these triggers is what is replayed and put back.
    /// SQLite's DDL is transactional: a failed batch puts the triggers back with its rollback.
    async fn pause_insert_triggers(&mut self) -> Result<Option<PausedTriggers>> {
        let triggers: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'leads' ORDER BY name",
        )
        .fetch_all(self.conn())
        .await?;
        let mut paused = PausedTriggers {
            definitions: Vec::new(),
            replays: Vec::new(),
            after: sqlx::query_scalar("SELECT coalesce(max(rowid), 0) FROM leads")
                .fetch_one(self.conn())
                .await?,
        };
        for (name, definition) in triggers {
            let Some(replays) = replay_statements(&definition, "leads") else {
                continue;
            };
            // The name comes from the catalog, quoted as an identifier.
            sqlx::query(&format!("DROP TRIGGER \"{}\"", name.replace('"', "\"\"")))
                .execute(self.conn())
                .await?;
            paused.definitions.push(definition);
            paused.replays.extend(replays);
        }
        Ok((!paused.definitions.is_empty()).then_some(paused))
    }

    async fn replay_insert_triggers(&mut self, paused: PausedTriggers, inserted: &[Uuid]) -> Result<()> {
        if !inserted.is_empty() {
            for replay in &paused.replays {
                sqlx::query(replay).bind(paused.after).execute(self.conn()).await?;
            }
        }
        for definition in &paused.definitions {
            sqlx::query(definition).execute(self.conn()).await?;
        }
        Ok(())
    }

    async fn insert_history(&mut self, calls: &[HistoryCall]) -> Result<u64> {
        let mut written = 0;
        for chunk in calls.chunks(MAX_PARAMS / 12) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO call_logs (id, lead_id, agent_id, phone_number, direction, status, disposition, \
                 duration_s, started_at, answered_at, ended_at, ended_by) ",
            );
            insert.push_values(chunk, |mut row, c| {
                let answered = (c.status == crate::domain::CallStatus::Completed).then_some(c.started_at);
                row.push_bind(c.id)
                    .push_bind(c.lead_id)
                    .push_bind(c.agent_id)
                    .push_bind(&c.phone)
                    .push_bind("outbound")
                    .push_bind(c.status)
                    .push_bind(c.disposition)
                    .push_bind(c.duration_s)
                    .push_bind(c.started_at)
                    .push_bind(answered)
                    .push_bind(c.started_at + chrono::Duration::seconds(c.duration_s.into()))
                    .push_bind(c.agent_id);
            });
            written += insert.build().execute(self.conn()).await?.rows_affected();
        }
        // One statement per lead: attempts counted, the newest call its last.
        let mut per_lead: std::collections::BTreeMap<Uuid, (i32, DateTime<Utc>)> = Default::default();
        for c in calls {
            let entry = per_lead.entry(c.lead_id).or_insert((0, c.started_at));
            entry.0 += 1;
            entry.1 = entry.1.max(c.started_at);
        }
        for (lead_id, (n, last)) in per_lead {
            sqlx::query(
                "UPDATE leads SET call_attempts = call_attempts + $2, \
                 last_call_at = CASE WHEN last_call_at IS NULL OR last_call_at < $3 THEN $3 ELSE last_call_at END \
                 WHERE id = $1",
            )
            .bind(lead_id)
            .bind(n)
            .bind(last)
            .execute(self.conn())
            .await?;
        }
        Ok(written)
    }

    async fn lock_leads_by_keys(&mut self, phones: &[String], emails: &[String]) -> Result<Vec<Lead>> {
        // OR of two indexed IN lists: SQLite probes both unique indexes and merges the rowids
        // (a UNION would sort whole rows instead).
        Ok(sqlx::query_as(&format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE phone IN (SELECT value FROM json_each($1)) \
             OR email IN (SELECT value FROM json_each($2))"
        ))
        .bind(json_list(phones))
        .bind(json_list(emails))
        .fetch_all(self.conn())
        .await?)
    }

    async fn write_leads(
        &mut self,
        inserts: &[(usize, Uuid, LeadFields)],
        updates: &[(usize, Uuid, LeadFields)],
        stamp: &BatchStamp<'_>,
    ) -> Result<HashSet<Uuid>> {
        let BatchStamp { actor, reason, now } = *stamp;
        let mut written = HashSet::with_capacity(inserts.len());
        for chunk in inserts.chunks(MAX_PARAMS / LEAD_PARAMS) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO leads (id, first_name, last_name, email, phone, company, title, timezone, status, \
                 priority, lead_score, conversion_probability, source, notes, consent_given, consent_date, \
                 do_not_call, do_not_email, data_quality, created_at, updated_at, updated_by, status_reason) ",
            );
            insert.push_values(chunk, |mut row, (_, id, f)| {
                row.push_bind(*id)
                    .push_bind(&f.first_name)
                    .push_bind(&f.last_name)
                    .push_bind(&f.email)
                    .push_bind(&f.phone)
                    .push_bind(&f.company)
                    .push_bind(&f.title)
                    .push_bind(&f.timezone)
                    .push_bind(f.status)
                    .push_bind(f.priority)
                    .push_bind(f.lead_score)
                    .push_bind(f.conversion_probability)
                    .push_bind(&f.source)
                    .push_bind(&f.notes)
                    .push_bind(f.consent_given)
                    .push_bind(f.consent_given.then_some(now))
                    .push_bind(f.do_not_call)
                    .push_bind(f.do_not_email)
                    .push_bind(f.data_quality())
                    .push_bind(now)
                    .push_bind(now)
                    .push_bind(actor)
                    .push_bind(reason);
            });
            insert.push(" ON CONFLICT DO NOTHING RETURNING id");
            let ids: Vec<Uuid> = insert.build_query_scalar().fetch_all(self.conn()).await?;
            written.extend(ids);
        }

        // Changed leads are usually few; one prepared statement per row is fast enough here.
        for (_, id, f) in updates {
            let update = sqlx::query(
                "UPDATE leads SET first_name = $2, last_name = $3, email = $4, phone = $5, company = $6, title = $7, \
                 timezone = $8, status = $9, priority = $10, lead_score = $11, conversion_probability = $12, \
                 source = $13, notes = $14, \
                 consent_date = CASE WHEN NOT $15 THEN NULL WHEN consent_given THEN consent_date ELSE $16 END, \
                 consent_given = $15, do_not_call = do_not_call OR $17, do_not_email = do_not_email OR $18, \
                 data_quality = $19, updated_at = $16, updated_by = $20, status_reason = $21 WHERE id = $1",
            );
            bind_lead!(update, *id, f, now, actor)
                .bind(reason)
                .execute(self.conn())
                .await?;
        }
        Ok(written)
    }

    async fn contact_keys(&mut self, lead_ids: &[Uuid]) -> Result<Vec<(Uuid, ContactKind, String)>> {
        let mut keys = Vec::new();
        for chunk in lead_ids.chunks(MAX_PARAMS) {
            let mut select =
                QueryBuilder::<Sqlite>::new("SELECT lead_id, kind, value FROM contacts WHERE lead_id IN (");
            let mut ids = select.separated(", ");
            for id in chunk {
                ids.push_bind(*id);
            }
            select.push(")");
            keys.extend(select.build_query_as().fetch_all(self.conn()).await?);
        }
        Ok(keys)
    }

    async fn insert_contact_points(
        &mut self,
        points: &[(usize, Uuid, RowContact)],
        now: DateTime<Utc>,
    ) -> Result<HashSet<usize>> {
        let ids: Vec<Uuid> = points.iter().map(|_| Uuid::now_v7()).collect();
        let mut written = HashSet::with_capacity(points.len());
        let rows: Vec<(&Uuid, &(usize, Uuid, RowContact))> = ids.iter().zip(points).collect();
        for chunk in rows.chunks(MAX_PARAMS / CONTACT_PARAMS) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO contacts (id, lead_id, kind, value, label, is_primary, is_verified, created_at) ",
            );
            insert.push_values(chunk, |mut row, (id, (_, lead_id, c))| {
                row.push_bind(**id)
                    .push_bind(*lead_id)
                    .push_bind(c.kind.as_str())
                    .push_bind(&c.value)
                    .push_bind(&c.label)
                    .push("0, 0")
                    .push_bind(now);
            });
            insert.push(" ON CONFLICT (lead_id, kind, value) DO NOTHING RETURNING id");
            let done: Vec<Uuid> = insert.build_query_scalar().fetch_all(self.conn()).await?;
            written.extend(done);
        }
        Ok(ids
            .iter()
            .enumerate()
            .filter(|(_, id)| written.contains(*id))
            .map(|(i, _)| i)
            .collect())
    }

    async fn listed_numbers(&mut self, numbers: &[&str]) -> Result<HashSet<String>> {
        Ok(
            sqlx::query_scalar("SELECT number FROM dnc_numbers WHERE number IN (SELECT value FROM json_each($1))")
                .bind(json_list(numbers))
                .fetch_all(self.conn())
                .await?
                .into_iter()
                .collect(),
        )
    }

    async fn insert_dnc_rows(
        &mut self,
        rows: &[DncRow],
        by: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<HashSet<String>> {
        let mut added = HashSet::with_capacity(rows.len());
        for chunk in rows.chunks(MAX_PARAMS / DNC_PARAMS) {
            let mut insert =
                QueryBuilder::<Sqlite>::new("INSERT INTO dnc_numbers (number, reason, added_by, added_at) ");
            insert.push_values(chunk, |mut row, r| {
                row.push_bind(&r.number)
                    .push_bind(&r.reason)
                    .push_bind(by)
                    .push_bind(now);
            });
            insert.push(" ON CONFLICT (number) DO NOTHING RETURNING number");
            let listed: Vec<String> = insert.build_query_scalar().fetch_all(self.conn()).await?;
            added.extend(listed);
        }
        Ok(added)
    }

    async fn count_unflagged(&mut self, numbers: &[&str]) -> Result<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM leads WHERE phone IN (SELECT value FROM json_each($1)) AND NOT do_not_call",
        )
        .bind(json_list(numbers))
        .fetch_one(self.conn())
        .await?;
        Ok(count as u64)
    }

    async fn flag_numbers_dnc(&mut self, numbers: &[&str], by: Option<i64>, now: DateTime<Utc>) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE leads SET do_not_call = 1, updated_at = $2, updated_by = $3 \
             WHERE phone IN (SELECT value FROM json_each($1)) AND NOT do_not_call",
        )
        .bind(json_list(numbers))
        .bind(now)
        .bind(by)
        .execute(self.conn())
        .await?
        .rows_affected())
    }
}

impl SqliteStore {
    pub async fn export_calls(
        &self,
        filter: &CallFilter,
        after: Option<CallCursor>,
        limit: u32,
    ) -> Result<Vec<CallRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {CALL_COLUMNS}, l.first_name || ' ' || l.last_name AS lead_name, l.company \
             FROM call_logs c JOIN agents a ON a.id = c.agent_id JOIN leads l ON l.id = c.lead_id \
             WHERE ($1 IS NULL OR c.started_at >= $1) AND ($2 IS NULL OR c.started_at < $2) \
               AND ($3 IS NULL OR c.agent_id = $3) \
               AND ($4 IS NULL OR (c.started_at, c.id) > ($4, $5)) \
             ORDER BY c.started_at, c.id LIMIT $6"
        ))
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.agent_id)
        .bind(after.map(|c| c.started_at))
        .bind(after.map(|c| c.id))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }
}

/// The statements that do for every row after a given rowid (bound as `$1`) what the trigger
/// `definition` does for one new row of `table`, in rowid order; None unless the trigger is
/// `AFTER INSERT ON table` with no WHEN clause and a body of only `INSERT INTO … (…) VALUES (…)`
/// statements (what such a statement says of `NEW` it then says of each row, read as `NEW`).
fn replay_statements(definition: &str, table: &str) -> Option<Vec<String>> {
    let upper = definition.to_ascii_uppercase();
    let begin = keyword(&upper, "BEGIN", 0)?;
    let head: Vec<&str> = upper[..begin].split_whitespace().collect();
    let name = table.to_ascii_uppercase();
    let after_insert = head.windows(4).any(|w| w == ["AFTER", "INSERT", "ON", name.as_str()]);
    if !after_insert || head.contains(&"WHEN") {
        return None;
    }
    let end = upper.rfind("END")?;
    let body = &definition[begin + "BEGIN".len()..end];
    let mut replays = Vec::new();
    for statement in body.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let up = statement.to_ascii_uppercase();
        // A ';' inside a quoted literal would have split a statement in two.
        if statement.matches('\'').count() % 2 != 0 || !up.starts_with("INSERT INTO") {
            return None;
        }
        let values = keyword(&up, "VALUES", 0)?;
        if keyword(&up, "VALUES", values + 1).is_some() || keyword(&up, "SELECT", 0).is_some() {
            return None;
        }
        let row = statement[values + "VALUES".len()..].trim();
        let row = row.strip_prefix('(')?.strip_suffix(')')?;
        // One row only: the parentheses inside it must balance without closing it early.
        let mut depth = 0i32;
        for c in row.chars() {
            depth += match c {
                '(' => 1,
                ')' => -1,
                _ => 0,
            };
            if depth < 0 {
                return None;
            }
        }
        replays.push(format!(
            "{} SELECT {row} FROM {table} AS NEW WHERE NEW.rowid > $1 ORDER BY NEW.rowid",
            statement[..values].trim_end()
        ));
    }
    (!replays.is_empty()).then_some(replays)
}

/// Where `word` stands alone (not inside a longer name) in `upper`, from `from` on.
fn keyword(upper: &str, word: &str, from: usize) -> Option<usize> {
    let bytes = upper.as_bytes();
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut at = from;
    while let Some(found) = upper.get(at..)?.find(word) {
        let start = at + found;
        let end = start + word.len();
        let before = start == 0 || !is_name(bytes[start - 1]);
        let after = end >= bytes.len() || !is_name(bytes[end]);
        if before && after {
            return Some(start);
        }
        at = start + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::replay_statements;

    #[test]
    fn an_insert_trigger_is_replayed_for_every_row_after_a_rowid() {
        let search = "CREATE TRIGGER leads_search_insert AFTER INSERT ON leads\nBEGIN\n    \
            INSERT INTO leads_fts (rowid, first_name, notes)\n    VALUES (NEW.seq, NEW.first_name, coalesce(NEW.notes, ''));\n    \
            INSERT INTO leads_trgm (rowid, phone) VALUES (NEW.seq, NEW.phone);\nEND";
        assert_eq!(
            replay_statements(search, "leads").unwrap(),
            [
                "INSERT INTO leads_fts (rowid, first_name, notes) SELECT NEW.seq, NEW.first_name, coalesce(NEW.notes, '') \
                 FROM leads AS NEW WHERE NEW.rowid > $1 ORDER BY NEW.rowid",
                "INSERT INTO leads_trgm (rowid, phone) SELECT NEW.seq, NEW.phone FROM leads AS NEW WHERE NEW.rowid > $1 \
                 ORDER BY NEW.rowid",
            ]
        );
        let feed = "CREATE TRIGGER leads_feed_insert AFTER INSERT ON leads\n\
            BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('lead', NEW.id, 'insert'); END";
        assert_eq!(replay_statements(feed, "leads").unwrap().len(), 1);
    }

    /// The schema's own triggers: search, status log and feed are replayed; the queue's stays.
    #[test]
    fn the_schema_triggers_on_new_leads_are_replayed_but_the_queue_s() {
        let mut schema = String::new();
        let mut files: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
            .collect();
        files.sort();
        for file in files {
            schema.push_str(&std::fs::read_to_string(file).unwrap());
        }
        let definition = |name: &str| {
            let start = schema.rfind(&format!("CREATE TRIGGER {name} ")).unwrap();
            let end = start + schema[start..].find("END;").unwrap() + 3;
            schema[start..end].to_string()
        };
        let replayed = |name: &str| replay_statements(&definition(name), "leads").map(|r| r.len());
        assert_eq!(replayed("leads_search_insert"), Some(2));
        assert_eq!(replayed("leads_status_insert"), Some(1));
        assert_eq!(replayed("leads_feed_insert"), Some(1));
        assert_eq!(replayed("leads_queue_insert"), None);
        assert_eq!(replayed("leads_feed_update"), None);
    }

    #[test]
    fn any_other_trigger_stays_as_it_is() {
        for other in [
            // another table, another event, a WHEN clause
            "CREATE TRIGGER t AFTER INSERT ON contacts BEGIN INSERT INTO x (a) VALUES (NEW.a); END",
            "CREATE TRIGGER t AFTER UPDATE ON leads BEGIN INSERT INTO x (a) VALUES (NEW.a); END",
            "CREATE TRIGGER t AFTER INSERT ON leads WHEN NEW.a > 1 BEGIN INSERT INTO x (a) VALUES (NEW.a); END",
            // a body that is not only single-row INSERT … VALUES
            "CREATE TRIGGER t AFTER INSERT ON leads BEGIN DELETE FROM x WHERE a = NEW.a; INSERT INTO x (a) VALUES (NEW.a); END",
            "CREATE TRIGGER t AFTER INSERT ON leads BEGIN INSERT INTO x (a) SELECT NEW.a; END",
            "CREATE TRIGGER t AFTER INSERT ON leads BEGIN INSERT INTO x (a) VALUES (NEW.a), (NEW.b); END",
            "CREATE TRIGGER t AFTER INSERT ON leads BEGIN INSERT INTO x (a) VALUES ('a;b'); END",
        ] {
            assert_eq!(replay_statements(other, "leads"), None, "{other}");
        }
    }
}
