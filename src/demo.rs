//! Demo data a newcomer can try at once: realistic leads spread over time zones, priorities and
//! statuses, and a few agents. Deterministic, so the same seed gives the same floor.

use crate::domain::{LeadFields, LeadInput, LeadStatus, Priority};

const FIRST_NAMES: &str = include_str!("../assets/demo/first_names.txt");
const LAST_NAMES: &str = include_str!("../assets/demo/last_names.txt");
const COMPANIES: &str = include_str!("../assets/demo/companies.txt");
const TITLES: &str = include_str!("../assets/demo/titles.txt");
const AREAS: &str = include_str!("../assets/demo/areas.txt");

/// Agents created by `db seed`: name, role.
pub const DEMO_AGENTS: &[(&str, &str)] = &[("alice", "agent"), ("bob", "agent"), ("sam", "supervisor")];

fn lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// A small deterministic generator (64-bit LCG): enough spread for demo data, no dependency.
struct Spread(u64);

impl Spread {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }
}

/// The `index`-th demo lead. Phone numbers are unique per index; a number the phone library
/// rejects yields a validation error, which the caller counts.
pub fn demo_lead(index: u64) -> Result<LeadFields, crate::domain::ValidationErrors> {
    let mut spread = Spread(index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xC0FFEE);
    let first = spread.pick(&lines(FIRST_NAMES));
    let last = spread.pick(&lines(LAST_NAMES));
    let company = spread.pick(&lines(COMPANIES));
    let areas = lines(AREAS);
    let area = areas[(index as usize) % areas.len()];
    let mut parts = area.split_whitespace();
    let (country, code, zone) = (
        parts.next().unwrap_or("1"),
        parts.next().unwrap_or("212"),
        parts.next().unwrap_or(""),
    );
    let serial = index / areas.len() as u64;
    let phone = match country {
        // NANP: exchange 200–999 without N11 codes, then four digits
        "1" => {
            let exchange = 200 + (serial / 10_000) % 800;
            let exchange = if exchange % 100 == 11 { exchange + 1 } else { exchange };
            format!("+1{code}{exchange:03}{:04}", serial % 10_000)
        }
        "44" => format!("+44{code}7{:07}", serial % 10_000_000),
        _ => format!("+{country}{code}{:08}", 10_000_000 + serial % 90_000_000),
    };
    let status = match spread.next() % 10 {
        0..=5 => LeadStatus::New,
        6 => LeadStatus::Contacted,
        7 => LeadStatus::Qualified,
        8 => LeadStatus::Nurturing,
        _ => LeadStatus::Proposal,
    };
    let priority = match spread.next() % 10 {
        0..=2 => Priority::Low,
        3..=6 => Priority::Medium,
        7..=8 => Priority::High,
        _ => Priority::Urgent,
    };
    let domain: String = company
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let local: String = format!("{first}.{last}")
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let input = LeadInput {
        first_name: first.into(),
        last_name: last.into(),
        email: if spread.next() % 5 == 0 {
            String::new()
        } else {
            format!("{local}.{index}@{domain}.example")
        },
        phone,
        company: company.into(),
        title: spread.pick(&lines(TITLES)).into(),
        timezone: if spread.next() % 8 == 0 {
            String::new()
        } else {
            zone.into()
        },
        status: status.as_str().into(),
        priority: priority.as_str().into(),
        lead_score: (spread.next() % 101).to_string(),
        conversion_probability: format!("{:.2}", (spread.next() % 100) as f64 / 100.0),
        source: spread
            .pick(&["trade show", "website", "referral", "purchased list", "webinar"])
            .into(),
        notes: if spread.next() % 3 == 0 {
            "Asked for pricing last quarter.".into()
        } else {
            String::new()
        },
        consent_given: if spread.next() % 2 == 0 {
            "yes".into()
        } else {
            "no".into()
        },
        do_not_call: String::new(),
        do_not_email: String::new(),
    };
    input.validate("US")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_leads_are_valid_and_unique() {
        let leads: Vec<LeadFields> = (0..2_000).map(|i| demo_lead(i).expect("valid demo lead")).collect();
        let phones: std::collections::HashSet<&str> = leads.iter().map(|l| l.phone.as_str()).collect();
        assert_eq!(phones.len(), leads.len(), "phone numbers must be unique");
        assert!(
            leads.iter().any(|l| l.timezone.is_none()),
            "some leads exercise the default zone"
        );
        assert!(leads.iter().any(|l| l.priority == Priority::Urgent));
    }

    #[test]
    fn the_same_index_gives_the_same_lead() {
        assert_eq!(demo_lead(42).unwrap(), demo_lead(42).unwrap());
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SeedSummary {
    pub agents_added: u32,
    pub leads_added: u64,
    pub leads_existing: u64,
    pub calls_recorded: u32,
    /// Finished calls written straight into the history of a share of the leads.
    pub history_calls: u64,
}

/// Leads written per transaction by `seed`.
const SEED_BATCH: u64 = 10_000;
/// The first leads seeded without a past get real calls through the call flows (and two
/// callbacks).
const DEMO_CALLS: usize = 12;

/// What one batch of `seed` wrote.
struct BatchWritten {
    added: u64,
    existing: u64,
    history_calls: u64,
    /// The first leads of the batch that were added without past calls (for the demo calls).
    without_history: Vec<uuid::Uuid>,
}

/// Writes one batch of demo leads, then the past calls of those it added.
async fn write_batch(
    store: &crate::store::Store,
    rows: Vec<crate::store::ImportRow>,
    agents: Option<[i64; 2]>,
    bulk: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<BatchWritten, crate::store::StoreError> {
    use crate::store::{ImportBatch, RowOutcome};
    let batch = ImportBatch {
        rows: &rows,
        mode: crate::domain::DuplicateMode::Skip,
        actor: None,
        reason: "demo seed",
        dry_run: false,
    };
    let results = if bulk {
        store.import_leads_bulk(&batch).await?
    } else {
        store.import_leads(&batch).await?
    };
    let mut batch = BatchWritten {
        added: 0,
        existing: 0,
        history_calls: 0,
        without_history: Vec::new(),
    };
    let mut history = Vec::new();
    for (row, result) in rows.iter().zip(results) {
        let RowOutcome::Imported { lead_id } = result.outcome else {
            batch.existing += 1;
            continue;
        };
        batch.added += 1;
        let past = agents.map_or_else(Vec::new, |agents| {
            demo_history(row.line - 1, lead_id, &row.fields.phone, agents, now)
        });
        if past.is_empty() && batch.without_history.len() < DEMO_CALLS {
            batch.without_history.push(lead_id);
        }
        history.extend(past);
    }
    if !history.is_empty() {
        batch.history_calls = store.insert_history(&history).await?;
    }
    Ok(batch)
}

/// The `index`-th demo lead's past calls: about one lead in five was called one to three times
/// over the last ten days (no answer, voicemail, busy, a conversation), by alice or bob.
pub fn demo_history(
    index: u64,
    lead_id: uuid::Uuid,
    phone: &str,
    agents: [i64; 2],
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<crate::store::HistoryCall> {
    use crate::domain::CallStatus;
    let mut spread = Spread(index.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ 0xCA11);
    if spread.next() % 5 != 0 {
        return Vec::new();
    }
    let calls = 1 + spread.next() % 3;
    (0..calls)
        .map(|n| {
            let (disposition, status, duration_s) = match spread.next() % 10 {
                0..=4 => ("no_answer", CallStatus::Failed, 0),
                5..=6 => ("voicemail", CallStatus::Voicemail, 20 + (spread.next() % 40) as i32),
                7 => ("busy", CallStatus::Busy, 0),
                _ => ("interested", CallStatus::Completed, 60 + (spread.next() % 600) as i32),
            };
            // Spread over the last ten days, the newest at least an hour ago.
            let minutes_ago = 60 + (spread.next() % (10 * 24 * 60)) as i64 + n as i64 * 1_500;
            crate::store::HistoryCall {
                id: uuid::Uuid::now_v7(),
                lead_id,
                agent_id: agents[(spread.next() % 2) as usize],
                phone: phone.to_string(),
                disposition,
                status,
                started_at: now - chrono::Duration::minutes(minutes_ago),
                duration_s,
            }
        })
        .collect()
}

/// Adds the demo agents and `leads` demo leads (those already there are counted, not
/// duplicated), then gives the floor a little history: a few finished calls and callbacks for
/// alice, so every screen has something to show.
pub async fn seed(store: &crate::store::Store, leads: u64) -> Result<SeedSummary, crate::store::StoreError> {
    use crate::domain::FieldSet;
    use crate::store::{EndCall, ImportRow, NewAgent, StartCall, StoreError};
    use futures::StreamExt;
    let mut summary = SeedSummary::default();
    for (name, role) in DEMO_AGENTS {
        if store.agent_by_name(name).await?.is_none() {
            let role = role.parse().map_err(|e| StoreError::BadInput(format!("{e}")))?;
            store
                .add_agent(&NewAgent {
                    name: name.to_string(),
                    email: None,
                    role,
                })
                .await?;
            summary.agents_added += 1;
        }
    }
    // Leads go in through the import's bulk path (COPY on PostgreSQL, multi-row INSERTs on
    // SQLite), a batch per transaction; a lead already there is counted, not duplicated.
    let agents = match (
        store.agent_by_name("alice").await?.map(|a| a.id),
        store.agent_by_name("bob").await?.map(|a| a.id),
    ) {
        (Some(a), Some(b)) => Some([a, b]),
        _ => None,
    };
    let now = store.now();
    // Batches are made (and every lead validated) on a thread of their own while earlier
    // batches are written, so the database never waits on the generator.
    let (batches, mut ready) = tokio::sync::mpsc::channel(2);
    let generator = tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
        let mut start = 0;
        while start < leads {
            let end = (start + SEED_BATCH).min(leads);
            let rows = (start..end)
                .map(|index| {
                    Ok(ImportRow {
                        line: index + 1,
                        fields: demo_lead(index)?,
                        provided: FieldSet::all(),
                        contacts: Vec::new(),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            if batches.blocking_send(rows).is_err() {
                break;
            }
            start = end;
        }
        Ok(())
    });
    // PostgreSQL runs each connection's statements on one core: batches written side by side
    // use the others. SQLite has one writer at a time.
    let writers = match store.kind() {
        crate::store::BackendKind::Postgres => std::thread::available_parallelism().map_or(2, |n| n.get().min(4)),
        _ => 1,
    };
    // On a quiet floor the leads go in as `import --bulk` writes them; beside working consoles,
    // as the ordinary import does.
    let bulk = store.live_floor().await?.is_none();
    let written = futures::stream::poll_fn(|cx| ready.poll_recv(cx))
        .map(|rows| write_batch(store, rows, agents, bulk, now))
        .buffered(writers);
    futures::pin_mut!(written);
    let mut created = Vec::new();
    while let Some(batch) = written.next().await {
        let batch = batch?;
        summary.leads_added += batch.added;
        summary.leads_existing += batch.existing;
        summary.history_calls += batch.history_calls;
        created.extend(batch.without_history);
        created.truncate(DEMO_CALLS);
    }
    generator
        .await
        .map_err(|e| StoreError::BadInput(format!("the demo lead generator stopped: {e}")))??;
    store.feed_queue().await?;
    // A million leads take minutes: the demo calls and callbacks are placed from the clock now.
    let now = store.now();
    let Some(bob) = store.agent_by_name("bob").await? else {
        return Ok(summary);
    };
    let Some(alice) = store.agent_by_name("alice").await? else {
        return Ok(summary);
    };
    // History on the first leads that can be called now (calling hours depend on the hour).
    let outcomes = [("no_answer", 0), ("interested", 95), ("voicemail", 20)];
    let mut outcome = outcomes.iter();
    for lead_id in &created {
        let Some((disposition, seconds)) = outcome.clone().next() else {
            break;
        };
        let start = StartCall {
            lead_id: *lead_id,
            agent_id: bob.id,
            from_number: None,
        };
        let Ok(call) = store.start_call(&start).await else {
            continue;
        };
        outcome.next();
        store
            .end_call(&EndCall {
                call_id: call.call_id,
                agent_id: bob.id,
                disposition: disposition.to_string(),
                duration_s: Some(*seconds),
                notes: Some(format!("demo call: {}", disposition.replace('_', " "))),
                ..EndCall::default()
            })
            .await?;
        summary.calls_recorded += 1;
    }
    if let Some(lead_id) = created.get(10) {
        store
            .schedule_callback(
                *lead_id,
                alice.id,
                now + chrono::Duration::minutes(2),
                Some("asked to call back shortly"),
            )
            .await?;
    }
    if let Some(lead_id) = created.get(11) {
        store
            .schedule_callback(
                *lead_id,
                alice.id,
                now + chrono::Duration::days(1),
                Some("wants the pricing sheet first"),
            )
            .await?;
    }
    Ok(summary)
}
