//! What the benchmarks share: loading leads straight into SQLite with multi-row INSERTs (the
//! loader is never what a benchmark measures, except as the database's own limit) and reading
//! this process's memory.
#![allow(dead_code)] // each benchmark uses its own part

use chrono::{DateTime, Utc};
use coldcall::domain::LeadFields;
use uuid::Uuid;

/// Inserts the leads in statements of `per_statement` rows on the connection (or transaction)
/// given; leads whose phone or email is taken are skipped.
pub async fn insert_leads(
    conn: &mut sqlx::SqliteConnection,
    leads: &[(Uuid, &LeadFields)],
    per_statement: usize,
    now: DateTime<Utc>,
) {
    for chunk in leads.chunks(per_statement.max(1)) {
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO leads (id, first_name, last_name, email, phone, company, title, timezone, status, priority, \
             lead_score, conversion_probability, source, notes, consent_given, data_quality, created_at, updated_at) ",
        );
        query.push_values(chunk, |mut row, (id, f)| {
            row.push_bind(*id)
                .push_bind(&f.first_name)
                .push_bind(&f.last_name)
                .push_bind(&f.email)
                .push_bind(&f.phone)
                .push_bind(&f.company)
                .push_bind(&f.title)
                .push_bind(&f.timezone)
                .push_bind(f.status.as_str())
                .push_bind(f.priority.as_str())
                .push_bind(f.lead_score)
                .push_bind(f.conversion_probability)
                .push_bind(&f.source)
                .push_bind(&f.notes)
                .push_bind(f.consent_given)
                .push_bind(f.data_quality())
                .push_bind(now)
                .push_bind(now);
        });
        query.push(" ON CONFLICT DO NOTHING");
        query.build().execute(&mut *conn).await.unwrap();
    }
}

/// A memory line of /proc/self/status (`VmRSS:` now, `VmHWM:` the peak so far), in MB.
pub fn memory_mb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map(|kb| kb / 1024)
        .unwrap_or(0)
}
