//! PostgreSQL: the bulk paths of the import (`flows::bulk`), and the call export.
//!
//! A batch's rows are streamed with COPY into a temporary staging table, then written to `leads`
//! by one INSERT … SELECT (new leads) and one UPDATE … FROM (changed leads). COPY is the fastest
//! way in (sqlx's `copy_in_raw` reached 274k rows/s); COPY straight into `leads` cannot skip a
//! row that another writer stored meanwhile, and the staging step lets ON CONFLICT do that. Row
//! triggers (status log, change feed) fire for every row as for a lead typed by hand.

use std::collections::HashSet;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::statements::PgTx;
use super::{PgStore, CALL_COLUMNS, LEAD_COLUMNS};
use crate::domain::{ContactKind, LeadFields};
use crate::store::backend::{BatchStamp, BulkTx, HistoryCall};
use crate::store::model::Lead;
use crate::store::{CallCursor, CallFilter, CallRecord, DncRow, Result, RowContact};

/// Session-local staging table; its rows vanish when the batch's transaction ends.
const STAGE: &str = "CREATE TEMP TABLE IF NOT EXISTS coldcall_import_stage (
    id uuid NOT NULL, existing boolean NOT NULL,
    first_name text, last_name text, email text, phone text, company text, title text, timezone text,
    status text, priority text, lead_score smallint, conversion_probability double precision,
    source text, notes text, consent_given boolean, do_not_call boolean, do_not_email boolean,
    data_quality smallint
) ON COMMIT DELETE ROWS";

const STAGE_COLUMNS: &str = "id, existing, first_name, last_name, email, phone, company, title, timezone, status, \
    priority, lead_score, conversion_probability, source, notes, consent_given, do_not_call, do_not_email, data_quality";

impl BulkTx for PgTx {
    type Paused = ();

    /// Nothing to pause: the triggers on `leads` run once per statement, over its transition
    /// table (the status log, the change feed, the queue), which is what a pause would replay.
    async fn pause_insert_triggers(&mut self) -> Result<Option<()>> {
        Ok(None)
    }

    async fn replay_insert_triggers(&mut self, _paused: (), _inserted: &[Uuid]) -> Result<()> {
        Ok(())
    }

    async fn insert_history(&mut self, calls: &[HistoryCall]) -> Result<u64> {
        let ids: Vec<Uuid> = calls.iter().map(|c| c.id).collect();
        let leads: Vec<Uuid> = calls.iter().map(|c| c.lead_id).collect();
        let agents: Vec<i64> = calls.iter().map(|c| c.agent_id).collect();
        let phones: Vec<&str> = calls.iter().map(|c| c.phone.as_str()).collect();
        let dispositions: Vec<&str> = calls.iter().map(|c| c.disposition).collect();
        let statuses: Vec<&str> = calls.iter().map(|c| c.status.as_str()).collect();
        let started: Vec<DateTime<Utc>> = calls.iter().map(|c| c.started_at).collect();
        let durations: Vec<i32> = calls.iter().map(|c| c.duration_s).collect();
        let written = sqlx::query(
            "INSERT INTO call_logs (id, lead_id, agent_id, phone_number, direction, status, disposition, duration_s, \
             started_at, answered_at, ended_at, ended_by) \
             SELECT id, lead_id, agent_id, phone, 'outbound', status, disposition, duration, started, \
             CASE WHEN status = 'completed' THEN started END, started + duration * INTERVAL '1 second', agent_id \
             FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::text[], \
                         $7::timestamptz[], $8::int[]) AS u(id, lead_id, agent_id, phone, disposition, status, started, duration)",
        )
        .bind(&ids)
        .bind(&leads)
        .bind(&agents)
        .bind(&phones)
        .bind(&dispositions)
        .bind(&statuses)
        .bind(&started)
        .bind(&durations)
        .execute(self.conn())
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE leads l SET call_attempts = l.call_attempts + c.n, \
             last_call_at = greatest(l.last_call_at, c.last) \
             FROM (SELECT lead_id, count(*)::int AS n, max(started) AS last \
                   FROM UNNEST($1::uuid[], $2::timestamptz[]) AS u(lead_id, started) GROUP BY lead_id) c \
             WHERE l.id = c.lead_id",
        )
        .bind(&leads)
        .bind(&started)
        .execute(self.conn())
        .await?;
        Ok(written)
    }

    /// Each key is looked up through its unique index (the LATERAL subqueries cannot be
    /// flattened into a join), then the leads found are locked by id. Written as `phone = ANY
    /// OR email = ANY`, a table the statistics had not caught up with was planned as a scan of
    /// every lead for each batch: at 228,000 leads one such batch ran past the statement timeout.
    /// A lead whose phone or email another writer changes between the look-up and the lock is
    /// locked as it is now; the plan matches rows to what it returns, and a new lead that still
    /// collides is skipped by the insert's ON CONFLICT.
    async fn lock_leads_by_keys(&mut self, phones: &[String], emails: &[String]) -> Result<Vec<Lead>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE id = ANY(ARRAY( \
               SELECT m.id FROM unnest($1::text[]) AS k(v), \
                    LATERAL (SELECT id FROM leads WHERE phone = k.v LIMIT 1) m \
               UNION \
               SELECT m.id FROM unnest($2::text[]) AS k(v), \
                    LATERAL (SELECT id FROM leads WHERE email = k.v LIMIT 1) m)) \
             FOR UPDATE"
        ))
        .bind(phones)
        .bind(emails)
        .fetch_all(self.conn())
        .await?)
    }

    async fn write_leads(
        &mut self,
        inserts: &[(usize, Uuid, LeadFields)],
        updates: &[(usize, Uuid, LeadFields)],
        stamp: &BatchStamp<'_>,
    ) -> Result<HashSet<Uuid>> {
        sqlx::query(STAGE).execute(self.conn()).await?;
        let mut data = String::with_capacity(256 * (inserts.len() + updates.len()));
        for (_, id, f) in inserts {
            copy_row(&mut data, *id, false, f);
        }
        for (_, id, f) in updates {
            copy_row(&mut data, *id, true, f);
        }
        let mut copy = self
            .conn()
            .copy_in_raw(&format!("COPY coldcall_import_stage ({STAGE_COLUMNS}) FROM STDIN"))
            .await?;
        copy.send(data.into_bytes()).await?;
        copy.finish().await?;

        let written = sqlx::query_scalar(
            "INSERT INTO leads (id, first_name, last_name, email, phone, company, title, timezone, status, priority, \
             lead_score, conversion_probability, source, notes, consent_given, consent_date, do_not_call, \
             do_not_email, data_quality, created_at, updated_at, updated_by, status_reason) \
             SELECT id, first_name, last_name, email, phone, company, title, timezone, status, priority, \
             lead_score, conversion_probability, source, notes, consent_given, \
             CASE WHEN consent_given THEN $1::timestamptz END, do_not_call, do_not_email, data_quality, \
             $1, $1, $2, $3 FROM coldcall_import_stage WHERE NOT existing ORDER BY id \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(stamp.now)
        .bind(stamp.actor)
        .bind(stamp.reason)
        .fetch_all(self.conn())
        .await?
        .into_iter()
        .collect();

        sqlx::query(
            "UPDATE leads l SET first_name = s.first_name, last_name = s.last_name, email = s.email, \
             phone = s.phone, company = s.company, title = s.title, timezone = s.timezone, status = s.status, \
             priority = s.priority, lead_score = s.lead_score, conversion_probability = s.conversion_probability, \
             source = s.source, notes = s.notes, \
             consent_date = CASE WHEN NOT s.consent_given THEN NULL WHEN l.consent_given THEN l.consent_date \
                            ELSE $1::timestamptz END, \
             consent_given = s.consent_given, do_not_call = l.do_not_call OR s.do_not_call, \
             do_not_email = l.do_not_email OR s.do_not_email, data_quality = s.data_quality, \
             updated_at = $1, updated_by = $2, status_reason = $3 \
             FROM coldcall_import_stage s WHERE s.existing AND l.id = s.id",
        )
        .bind(stamp.now)
        .bind(stamp.actor)
        .bind(stamp.reason)
        .execute(self.conn())
        .await?;
        Ok(written)
    }

    async fn contact_keys(&mut self, lead_ids: &[Uuid]) -> Result<Vec<(Uuid, ContactKind, String)>> {
        Ok(
            sqlx::query_as("SELECT lead_id, kind, value FROM contacts WHERE lead_id = ANY($1)")
                .bind(lead_ids)
                .fetch_all(self.conn())
                .await?,
        )
    }

    async fn insert_contact_points(
        &mut self,
        points: &[(usize, Uuid, RowContact)],
        now: DateTime<Utc>,
    ) -> Result<HashSet<usize>> {
        let ids: Vec<Uuid> = points.iter().map(|_| Uuid::now_v7()).collect();
        let leads: Vec<Uuid> = points.iter().map(|(_, lead, _)| *lead).collect();
        let kinds: Vec<&str> = points.iter().map(|(_, _, c)| c.kind.as_str()).collect();
        let values: Vec<&str> = points.iter().map(|(_, _, c)| c.value.as_str()).collect();
        let labels: Vec<Option<&str>> = points.iter().map(|(_, _, c)| c.label.as_deref()).collect();
        let written: HashSet<Uuid> = sqlx::query_scalar(
            "INSERT INTO contacts (id, lead_id, kind, value, label, is_primary, is_verified, created_at) \
             SELECT i, l, k, v, lb, FALSE, FALSE, $6 \
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[]) AS u(i, l, k, v, lb) \
             ON CONFLICT (lead_id, kind, value) DO NOTHING RETURNING id",
        )
        .bind(&ids)
        .bind(&leads)
        .bind(&kinds)
        .bind(&values)
        .bind(&labels)
        .bind(now)
        .fetch_all(self.conn())
        .await?
        .into_iter()
        .collect();
        Ok(ids
            .iter()
            .enumerate()
            .filter(|(_, id)| written.contains(id))
            .map(|(i, _)| i)
            .collect())
    }

    async fn listed_numbers(&mut self, numbers: &[&str]) -> Result<HashSet<String>> {
        Ok(
            sqlx::query_scalar("SELECT number FROM dnc_numbers WHERE number = ANY($1)")
                .bind(numbers)
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
        let numbers: Vec<&str> = rows.iter().map(|r| r.number.as_str()).collect();
        let reasons: Vec<Option<&str>> = rows.iter().map(|r| r.reason.as_deref()).collect();
        Ok(sqlx::query_scalar(
            "INSERT INTO dnc_numbers (number, reason, added_by, added_at) \
             SELECT n, r, $3, $4 FROM UNNEST($1::text[], $2::text[]) AS u(n, r) \
             ON CONFLICT (number) DO NOTHING RETURNING number",
        )
        .bind(&numbers)
        .bind(&reasons)
        .bind(by)
        .bind(now)
        .fetch_all(self.conn())
        .await?
        .into_iter()
        .collect())
    }

    async fn count_unflagged(&mut self, numbers: &[&str]) -> Result<u64> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM leads WHERE phone = ANY($1) AND NOT do_not_call")
            .bind(numbers)
            .fetch_one(self.conn())
            .await?;
        Ok(count as u64)
    }

    async fn flag_numbers_dnc(&mut self, numbers: &[&str], by: Option<i64>, now: DateTime<Utc>) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE leads SET do_not_call = TRUE, updated_at = $2, updated_by = $3 \
             WHERE phone = ANY($1) AND NOT do_not_call",
        )
        .bind(numbers)
        .bind(now)
        .bind(by)
        .execute(self.conn())
        .await?
        .rows_affected())
    }
}

impl PgStore {
    pub async fn export_calls(
        &self,
        filter: &CallFilter,
        after: Option<CallCursor>,
        limit: u32,
    ) -> Result<Vec<CallRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {CALL_COLUMNS}, l.first_name || ' ' || l.last_name AS lead_name, l.company \
             FROM call_logs c JOIN agents a ON a.id = c.agent_id JOIN leads l ON l.id = c.lead_id \
             WHERE ($1::timestamptz IS NULL OR c.started_at >= $1) AND ($2::timestamptz IS NULL OR c.started_at < $2) \
               AND ($3::bigint IS NULL OR c.agent_id = $3) \
               AND ($4::timestamptz IS NULL OR (c.started_at, c.id) > ($4, $5::uuid)) \
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

/// One row of COPY's text format: tab-separated, `\N` for NULL, backslash escapes.
fn copy_row(out: &mut String, id: Uuid, existing: bool, f: &LeadFields) {
    let _ = write!(out, "{id}\t{}", if existing { "t" } else { "f" });
    for text in [&f.first_name, &f.last_name] {
        copy_text(out, Some(text));
    }
    copy_text(out, f.email.as_deref());
    copy_text(out, Some(&f.phone));
    copy_text(out, Some(&f.company));
    copy_text(out, f.title.as_deref());
    copy_text(out, f.timezone.as_deref());
    copy_text(out, Some(f.status.as_str()));
    copy_text(out, Some(f.priority.as_str()));
    // `Display` for f64 prints the shortest text that parses back to the same value.
    let _ = write!(out, "\t{}\t{}", f.lead_score, f.conversion_probability);
    copy_text(out, f.source.as_deref());
    copy_text(out, f.notes.as_deref());
    for flag in [f.consent_given, f.do_not_call, f.do_not_email] {
        out.push_str(if flag { "\tt" } else { "\tf" });
    }
    let _ = writeln!(out, "\t{}", f.data_quality());
}

fn copy_text(out: &mut String, value: Option<&str>) {
    out.push('\t');
    let Some(value) = value else {
        out.push_str("\\N");
        return;
    };
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn copy_text_escapes_what_copy_reads_specially() {
        let mut out = String::new();
        super::copy_text(&mut out, Some("a\\b\tc\nd\re"));
        super::copy_text(&mut out, None);
        assert_eq!(out, "\ta\\\\b\\tc\\nd\\re\t\\N");
    }
}
