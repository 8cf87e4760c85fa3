//! Offline copies: check out (reserve leads on the floor and write them to a SQLite copy) and
//! sync (send the copy's work back, under the conflict rules of `domain::offline`).
//!
//! Every step is safe to repeat. A checkout's copy is written and committed before the floor's
//! reservation commits, so a crash leaves either no reservation or a whole copy. A sync commits
//! the floor first and then records in the copy what the floor now has; a crash between the two
//! repeats harmlessly, because calls, contacts, callbacks and list entries go in by their keys
//! (once), status changes are marked applied on the floor by their ids, and a field the floor
//! already took from the copy is no longer a difference.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::backup::tables::{table, TableSpec};
use crate::backup::{TableSection, Value};
use crate::domain::offline::{
    calls_after_dnc, lead_is_done, merge_fields, merge_status, FloorCallMeanwhile, StatusConflict, StatusKept,
    StatusMerge,
};
use crate::domain::{LeadFields, LeadStatus, Refusal};
use crate::store::backend::{AuditRecord, Backend, OfflineTx, SnapshotTx, Tx};
use crate::store::common::check_call;
use crate::store::model::{Lead, LeadFilter};
use crate::store::offline::{Checkout, CheckoutRequest, CheckoutSummary, SyncReport};
use crate::store::{Result, StoreError};

/// The tables a copy holds, in the order they load (parents before children).
const COPIED: [&str; 9] = [
    "agents",
    "call_scripts",
    "settings",
    "dispositions",
    "leads",
    "contacts",
    "call_logs",
    "lead_status_log",
    "callbacks",
];

/// Rows of one table, in its backed-up columns.
struct TableRows {
    spec: &'static TableSpec,
    rows: Vec<Vec<Value>>,
}

impl TableRows {
    fn new(name: &str) -> TableRows {
        TableRows {
            spec: table(name).expect("a table of the compiled-in list"),
            rows: Vec::new(),
        }
    }

    fn index(&self, column: &str) -> usize {
        self.spec
            .columns
            .iter()
            .position(|c| c.name == column)
            .expect("a column of the compiled-in list")
    }

    fn section(&self) -> TableSection {
        TableSection {
            spec: self.spec,
            columns: self.spec.columns.to_vec(),
        }
    }

    /// The rows whose `column` is the lead's id.
    fn of_lead(&self, column: &str, lead_id: Uuid) -> Vec<&Vec<Value>> {
        let i = self.index(column);
        self.rows.iter().filter(|r| r[i] == Value::Uuid(lead_id)).collect()
    }
}

fn uuid_at(row: &[Value], i: usize) -> Option<Uuid> {
    match row[i] {
        Value::Uuid(u) => Some(u),
        _ => None,
    }
}

fn int_at(row: &[Value], i: usize) -> Option<i64> {
    match row[i] {
        Value::Int(n) => Some(n),
        _ => None,
    }
}

fn time_at(row: &[Value], i: usize) -> Option<DateTime<Utc>> {
    match row[i] {
        Value::Timestamp(t) => Some(t),
        _ => None,
    }
}

fn text_at(row: &[Value], i: usize) -> Option<&str> {
    match &row[i] {
        Value::Text(s) => Some(s),
        _ => None,
    }
}

async fn read_all<T: OfflineTx>(tx: &mut T, name: &str) -> Result<TableRows> {
    let mut rows = TableRows::new(name);
    let spec = rows.spec;
    tx.read_table(spec, |row| {
        rows.rows.push(row.to_vec());
        Ok(())
    })
    .await?;
    Ok(rows)
}

async fn read_where<T: OfflineTx>(tx: &mut T, name: &str, column: &str, keys: &[Value]) -> Result<TableRows> {
    let mut rows = TableRows::new(name);
    if keys.is_empty() {
        return Ok(rows);
    }
    let spec = rows.spec;
    tx.read_rows_where(spec, column, keys, |row| {
        rows.rows.push(row.to_vec());
        Ok(())
    })
    .await?;
    Ok(rows)
}

fn base_lead_item(id: Uuid) -> String {
    format!("lead:{id}")
}

fn base_status_item(id: i64) -> String {
    format!("row:lead_status_log:{id}")
}

/// The floor-side id of an offline status change: the checkout and the copy's row.
fn status_op(checkout: Uuid, row_id: i64) -> String {
    format!("{checkout}/status/{row_id}")
}

fn fields_json(fields: &LeadFields) -> String {
    serde_json::to_string(fields).expect("lead fields serialise")
}

/// A refusal that only says "not now": the copy is for later, so such leads may go with it.
fn callable_later(refusal: &Refusal) -> bool {
    matches!(refusal, Refusal::TooSoon { .. } | Refusal::OutsideCallingHours { .. })
}

// ---------------------------------------------------------------------- check out

/// Reserves up to `req.leads` leads for the agent on the floor and writes them, with what an
/// agent needs to work them under the floor's rules, into the empty copy.
pub(crate) async fn checkout<F: Backend, C: Backend>(
    floor: &F,
    copy: &C,
    req: &CheckoutRequest,
    filter: &LeadFilter,
    floor_name: &str,
    now: DateTime<Utc>,
) -> Result<CheckoutSummary>
where
    F::Tx: OfflineTx,
    C::Tx: OfflineTx,
{
    let mut tx = floor.begin().await?;
    let settings = super::floor_in(&mut tx).await?;
    let agent = tx
        .agent(req.agent_id)
        .await?
        .filter(|a| a.active)
        .ok_or_else(|| StoreError::not_found("active agent", req.agent_id))?;
    let leads = pick_leads(&mut tx, &settings.policy, agent.id, filter, req.leads, now).await?;
    let checkout = Checkout {
        id: Uuid::now_v7(),
        agent_id: agent.id,
        created_by: Some(req.by),
        created_at: now,
        expires_at: now + Duration::hours(i64::from(req.hours)),
        floor: None,
        closed_at: None,
        last_sync_at: None,
        last_report: None,
    };
    tx.insert_checkout(&checkout).await?;
    for id in &leads {
        tx.end_assignments(*id, None).await?;
        tx.reserve(*id, &checkout, now).await?;
    }
    tx.audit(
        &AuditRecord::new(now, Some(req.by), "offline_checkout", "checkout", checkout.id).new_value(
            serde_json::json!({ "agent_id": agent.id, "leads": leads.len(), "expires_at": checkout.expires_at }),
        ),
    )
    .await?;

    let tables = read_for_copy(&mut tx, &leads, &[agent.id, req.by]).await?;
    let mut fields = Vec::with_capacity(leads.len());
    for id in &leads {
        let lead = tx.lead(*id).await?.ok_or_else(|| StoreError::not_found("lead", id))?;
        fields.push((lead.id, lead.fields()));
    }

    write_copy(copy, &tables, &checkout, floor_name, &fields).await?;
    tx.commit().await?;

    let count = |name: &str| {
        tables
            .iter()
            .find(|t| t.spec.name == name)
            .map_or(0, |t| t.rows.len() as u64)
    };
    Ok(CheckoutSummary {
        checkout,
        leads: leads.len() as u64,
        calls: count("call_logs"),
        dnc_numbers: count("dnc_numbers"),
    })
}

/// The leads a checkout takes: the filter's candidates in list order that can-call allows now
/// or refuses only for "not now" (the gap, calling hours), skipping any someone is working on.
async fn pick_leads<T: OfflineTx>(
    tx: &mut T,
    policy: &crate::domain::Policy,
    agent_id: i64,
    filter: &LeadFilter,
    wanted: u32,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>> {
    let mut leads = Vec::new();
    let candidates = tx
        .checkout_candidates(
            agent_id,
            filter,
            policy.max_attempts,
            now,
            wanted.saturating_mul(2).saturating_add(16),
        )
        .await?;
    for id in candidates {
        if leads.len() as u32 == wanted {
            break;
        }
        // A lead someone is working on right now stays on the floor.
        let Some(facts) = tx.call_facts_if_free(id).await? else {
            continue;
        };
        match check_call(Some(&facts), policy, agent_id, now) {
            Ok(()) => leads.push(id),
            Err(refusal) if callable_later(&refusal) => leads.push(id),
            Err(_) => {}
        }
    }
    if leads.is_empty() {
        return Err(StoreError::Conflict(
            "no lead to check out: every lead the filter picks is final, on the do-not-call list, out of attempts, \
             on a call or someone else's"
                .into(),
        ));
    }
    Ok(leads)
}

/// Writes the rows read from the floor into the empty copy in one transaction, with the
/// checkout naming its floor and each lead's fields as checked out (the base of the merge).
async fn write_copy<C: Backend>(
    copy: &C,
    tables: &[TableRows],
    checkout: &Checkout,
    floor_name: &str,
    fields: &[(Uuid, LeadFields)],
) -> Result<()>
where
    C::Tx: OfflineTx,
{
    let mut out = copy.begin().await?;
    if out.has_rows(TableRows::new("leads").spec).await? {
        return Err(StoreError::Conflict(
            "the copy's file already holds leads: check out into a new file".into(),
        ));
    }
    let paused = out.pause_for_load().await?;
    for rows in tables {
        if rows.spec.seeded {
            out.clear_table(rows.spec).await?;
        }
        let section = rows.section();
        for chunk in rows.rows.chunks(out.rows_per_insert(&section).max(1)) {
            out.insert_rows(&section, chunk).await?;
        }
    }
    out.resume_after_load(paused).await?;
    let own = Checkout {
        floor: Some(floor_name.to_string()),
        ..checkout.clone()
    };
    out.insert_checkout(&own).await?;
    for (id, fields) in fields {
        out.put_base(own.id, &base_lead_item(*id), Some(&fields_json(fields)))
            .await?;
    }
    mark_status_rows_known(&mut out, own.id).await?;
    out.commit().await
}

/// Reserves up to `more` further leads the filter picks under the copy's checkout (until the
/// same end) and adds them to the copy, with everything a checkout copies. Answers how many.
pub(crate) async fn take_more<F: Backend, C: Backend>(
    floor: &F,
    copy: &C,
    more: u32,
    filter: &LeadFilter,
    now: DateTime<Utc>,
) -> Result<u64>
where
    F::Tx: OfflineTx,
    C::Tx: OfflineTx,
{
    let own = own_checkout(copy)
        .await?
        .ok_or_else(|| StoreError::BadInput("this database is not an offline copy".into()))?;
    let mut tx = floor.begin().await?;
    let checkout = tx
        .lock_checkout(own.id)
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("the floor has no checkout {}", own.id)))?;
    if checkout.expired(now) {
        return Err(StoreError::Conflict(format!(
            "checkout {} ended at {} UTC: take a new one for more leads",
            checkout.id,
            checkout.expires_at.format("%Y-%m-%d %H:%M")
        )));
    }
    let settings = super::floor_in(&mut tx).await?;
    let leads = pick_leads(&mut tx, &settings.policy, checkout.agent_id, filter, more, now).await?;
    tx.reopen_checkout(checkout.id).await?;
    for id in &leads {
        tx.end_assignments(*id, None).await?;
        tx.reserve(*id, &checkout, now).await?;
    }
    tx.audit(
        &AuditRecord::new(
            now,
            Some(checkout.agent_id),
            "offline_checkout_more",
            "checkout",
            checkout.id,
        )
        .new_value(serde_json::json!({ "leads": leads.len() })),
    )
    .await?;
    let people: Vec<i64> = [Some(checkout.agent_id), checkout.created_by]
        .into_iter()
        .flatten()
        .collect();
    let tables = read_for_copy(&mut tx, &leads, &people).await?;
    let mut fields = Vec::with_capacity(leads.len());
    for id in &leads {
        let lead = tx.lead(*id).await?.ok_or_else(|| StoreError::not_found("lead", id))?;
        fields.push((lead.id, lead.fields()));
    }
    append_to_copy(copy, &tables, checkout.id, &fields).await?;
    tx.commit().await?;
    Ok(leads.len() as u64)
}

/// Adds rows read from the floor to a copy that already holds others: what it has stays, the
/// settings and dispositions are the ones it took first, and status-log rows take the copy's
/// own ids (the floor's may be taken by the copy's offline changes).
async fn append_to_copy<C: Backend>(
    copy: &C,
    tables: &[TableRows],
    checkout_id: Uuid,
    fields: &[(Uuid, LeadFields)],
) -> Result<()>
where
    C::Tx: OfflineTx,
{
    let mut out = copy.begin().await?;
    let paused = out.pause_for_load().await?;
    for rows in tables.iter().filter(|t| !t.spec.seeded) {
        let mut section = rows.section();
        let mut values = rows.rows.clone();
        if rows.spec.name == "lead_status_log" {
            let id = rows.index("id");
            section.columns.remove(id);
            for row in &mut values {
                row.remove(id);
            }
        }
        for chunk in values.chunks(out.rows_per_insert(&section).max(1)) {
            out.insert_rows_new(&section, chunk).await?;
        }
    }
    out.resume_after_load(paused).await?;
    for (id, fields) in fields {
        out.put_base(checkout_id, &base_lead_item(*id), Some(&fields_json(fields)))
            .await?;
    }
    mark_status_rows_known(&mut out, checkout_id).await?;
    out.commit().await
}

/// What the copy holds, read from the floor: the leads with their contacts, history and
/// callbacks; the list entries of their numbers; the settings, dispositions and call scripts whole; and the
/// agents the rows name and `people` (no one else's details leave the floor).
async fn read_for_copy<T: OfflineTx>(tx: &mut T, leads: &[Uuid], people: &[i64]) -> Result<Vec<TableRows>> {
    let ids: Vec<Value> = leads.iter().map(|id| Value::Uuid(*id)).collect();
    let mut by_name: BTreeMap<&str, TableRows> = BTreeMap::new();
    by_name.insert("settings", read_all(tx, "settings").await?);
    by_name.insert("dispositions", read_all(tx, "dispositions").await?);
    by_name.insert("call_scripts", read_all(tx, "call_scripts").await?);
    by_name.insert("leads", read_where(tx, "leads", "id", &ids).await?);
    for name in ["contacts", "call_logs", "lead_status_log", "callbacks"] {
        by_name.insert(name, read_where(tx, name, "lead_id", &ids).await?);
    }

    let mut numbers = BTreeSet::new();
    let leads_rows = &by_name["leads"];
    let phone = leads_rows.index("phone");
    numbers.extend(
        leads_rows
            .rows
            .iter()
            .filter_map(|r| text_at(r, phone).map(str::to_string)),
    );
    let contacts = &by_name["contacts"];
    let (kind, value) = (contacts.index("kind"), contacts.index("value"));
    numbers.extend(
        contacts
            .rows
            .iter()
            .filter(|r| text_at(r, kind) == Some("phone"))
            .filter_map(|r| text_at(r, value).map(str::to_string)),
    );
    let numbers: Vec<Value> = numbers.into_iter().map(Value::Text).collect();
    let dnc = read_where(tx, "dnc_numbers", "number", &numbers).await?;

    let mut named: BTreeSet<i64> = people.iter().copied().collect();
    for (name, columns) in [
        ("leads", &["updated_by"][..]),
        ("call_logs", &["agent_id", "ended_by"][..]),
        ("lead_status_log", &["changed_by"][..]),
        ("callbacks", &["agent_id"][..]),
        ("call_scripts", &["updated_by"][..]),
    ] {
        let rows = &by_name[name];
        for column in columns {
            let i = rows.index(column);
            named.extend(rows.rows.iter().filter_map(|r| int_at(r, i)));
        }
    }
    let i = dnc.index("added_by");
    named.extend(dnc.rows.iter().filter_map(|r| int_at(r, i)));
    let agents: Vec<Value> = named.into_iter().map(Value::Int).collect();
    by_name.insert("agents", read_where(tx, "agents", "id", &agents).await?);

    let mut tables: Vec<TableRows> = COPIED.iter().filter_map(|name| by_name.remove(name)).collect();
    tables.push(dnc);
    Ok(tables)
}

/// Records every status-log row the copy has now as known to the floor, so that only rows
/// written later count as offline changes.
async fn mark_status_rows_known<T: OfflineTx>(out: &mut T, checkout_id: Uuid) -> Result<()> {
    let log = read_all(out, "lead_status_log").await?;
    let id = log.index("id");
    for row in &log.rows {
        if let Some(n) = int_at(row, id) {
            out.put_base(checkout_id, &base_status_item(n), None).await?;
        }
    }
    Ok(())
}

/// The database's own checkout, when it is an offline copy.
pub(crate) async fn own_checkout<B: Backend>(b: &B) -> Result<Option<Checkout>>
where
    B::Tx: OfflineTx,
{
    let mut tx = b.begin_read().await?;
    let own = tx.own_checkout().await?;
    tx.rollback().await?;
    Ok(own)
}

/// The checkouts still reserving leads on the floor.
pub(crate) async fn open_checkouts<B: Backend>(
    b: &B,
    now: DateTime<Utc>,
) -> Result<Vec<crate::store::offline::OpenCheckout>>
where
    B::Tx: OfflineTx,
{
    let mut tx = b.begin_read().await?;
    let open = tx.open_checkouts(now).await?;
    tx.rollback().await?;
    Ok(open)
}

// ---------------------------------------------------------------------- sync

/// What the copy holds, read once for a sync.
struct CopyState {
    checkout: Checkout,
    base: HashMap<String, Option<String>>,
    leads: Vec<Lead>,
    calls: TableRows,
    status_log: TableRows,
    contacts: TableRows,
    callbacks: TableRows,
    dnc: TableRows,
    in_progress: BTreeSet<Uuid>,
}

async fn read_copy<C: Backend>(copy: &C) -> Result<CopyState>
where
    C::Tx: OfflineTx,
{
    let mut tx = copy.begin_read().await?;
    let checkout = tx.own_checkout().await?.ok_or_else(|| {
        StoreError::BadInput("this database is not an offline copy (it holds no checkout from a floor)".into())
    })?;
    let base: HashMap<String, Option<String>> = tx.base_items(checkout.id).await?.into_iter().collect();
    let mut leads = Vec::new();
    for item in base.keys() {
        if let Some(id) = item.strip_prefix("lead:").and_then(|id| id.parse::<Uuid>().ok()) {
            if let Some(lead) = tx.lead(id).await? {
                leads.push(lead);
            }
        }
    }
    leads.sort_by_key(|l| l.id);
    let active = read_all(&mut tx, "active_calls").await?;
    let call_log_id = active.index("call_log_id");
    let state = CopyState {
        in_progress: active.rows.iter().filter_map(|r| uuid_at(r, call_log_id)).collect(),
        calls: read_all(&mut tx, "call_logs").await?,
        status_log: read_all(&mut tx, "lead_status_log").await?,
        contacts: read_all(&mut tx, "contacts").await?,
        callbacks: read_all(&mut tx, "callbacks").await?,
        dnc: read_all(&mut tx, "dnc_numbers").await?,
        checkout,
        base,
        leads,
    };
    tx.rollback().await?;
    Ok(state)
}

/// Sends the copy's work to the floor, releases the leads that are done, and brings the copy up
/// to what the floor now has. Answers what was done and every conflict.
pub(crate) async fn sync<F: Backend, C: Backend>(floor: &F, copy: &C, now: DateTime<Utc>) -> Result<SyncReport>
where
    F::Tx: OfflineTx,
    C::Tx: OfflineTx,
{
    let state = read_copy(copy).await?;
    let own = &state.checkout;
    let mut tx = floor.begin().await?;
    let checkout = tx.lock_checkout(own.id).await?.ok_or_else(|| {
        StoreError::Conflict(format!(
            "the floor has no checkout {}: this copy comes from another floor ({}), or the floor was restored \
             from a backup older than the checkout",
            own.id,
            own.floor.as_deref().unwrap_or("unknown")
        ))
    })?;
    if checkout.agent_id != own.agent_id {
        return Err(StoreError::Conflict(format!(
            "checkout {} on the floor belongs to another agent than this copy says",
            own.id
        )));
    }
    let settings = super::floor_in(&mut tx).await?;
    let mut report = SyncReport {
        checkout_id: checkout.id,
        synced_at: now,
        expired: checkout.expired(now),
        calls_in_progress: state.in_progress.len() as u64,
        ..SyncReport::default()
    };
    let agent = checkout.agent_id;
    let mut floor_leads = Vec::with_capacity(state.leads.len());
    for copy_lead in &state.leads {
        let Some(floor_lead) = tx.lock_lead(copy_lead.id, false).await? else {
            continue; // deleted for good on the floor (erased): nothing of it is kept
        };
        // Uploading calls moves only attempts and call times, so the locked row still holds the
        // phone, flags and status the next two steps read.
        upload_calls(&mut tx, &state, &checkout, copy_lead, &floor_lead, &mut report).await?;
        merge_lead_status(&mut tx, &state, &checkout, copy_lead, floor_lead.status, &mut report).await?;
        merge_lead_fields(&mut tx, &state, copy_lead, agent, now, &mut report).await?;
        upload_contacts_and_callbacks(&mut tx, &state, copy_lead.id, now, &mut report).await?;
    }
    upload_dnc(&mut tx, &state, agent, now, &mut report).await?;

    let mut done = Vec::new();
    for copy_lead in &state.leads {
        if let Some(lead) = tx.lead(copy_lead.id).await? {
            if lead_is_done(
                lead.status,
                lead.do_not_call,
                lead.call_attempts,
                settings.policy.max_attempts,
            ) || lead.deleted_at.is_some()
            {
                done.push(lead.id);
            }
            floor_leads.push(lead);
        }
    }
    report.leads_released = tx.release_reserved(checkout.id, &done).await?;
    let closed_at = tx.reserved_leads(checkout.id, now).await?.is_empty().then_some(now);
    let numbers: Vec<Value> = floor_leads.iter().map(|l| Value::Text(l.phone.clone())).collect();
    let floor_dnc = read_where(&mut tx, "dnc_numbers", "number", &numbers).await?;
    let report_json = serde_json::to_string(&report).expect("a report serialises");
    if report.calls_uploaded
        + report.status_changes_applied
        + report.leads_edited
        + report.contacts_added
        + report.callbacks_added
        + report.callbacks_completed
        + report.dnc_numbers_added
        + report.leads_released
        > 0
        || report.conflicts() > 0
    {
        tx.audit(
            &AuditRecord::new(now, Some(agent), "offline_sync", "checkout", checkout.id)
                .new_value(serde_json::from_str(&report_json).expect("the report is JSON")),
        )
        .await?;
    }
    tx.record_sync(checkout.id, now, &report_json, closed_at).await?;
    tx.commit().await?;

    refresh_copy(copy, &state, &floor_leads, &floor_dnc, &report_json, closed_at, now).await?;
    Ok(report)
}

/// Takes into `local` what a floor server answered a sync with: `sent` is the snapshot of
/// `local` that went to the server, `returned` the copy it came back as. The copy is brought up
/// to what the floor has as a direct sync would (keeping what was done meanwhile), and leads the
/// server added (`more`) join it. Answers the server's report and how many leads joined.
pub(crate) async fn adopt<C: Backend>(
    local: &C,
    sent: &C,
    returned: &C,
    now: DateTime<Utc>,
) -> Result<(SyncReport, u64)>
where
    C::Tx: OfflineTx,
{
    let state = read_copy(sent).await?;
    let back = read_copy(returned).await?;
    if back.checkout.id != state.checkout.id {
        return Err(StoreError::Conflict("the server answered with another copy".into()));
    }
    let report_json = back
        .checkout
        .last_report
        .clone()
        .ok_or_else(|| StoreError::Conflict("the server's answer holds no sync report".into()))?;
    let report: SyncReport = serde_json::from_str(&report_json)
        .map_err(|e| StoreError::Conflict(format!("the server's sync report is unreadable: {e}")))?;
    let known: BTreeSet<Uuid> = state.leads.iter().map(|l| l.id).collect();
    let (floor_leads, joined): (Vec<Lead>, Vec<Lead>) = back.leads.into_iter().partition(|l| known.contains(&l.id));
    if !joined.is_empty() {
        let ids: Vec<Uuid> = joined.iter().map(|l| l.id).collect();
        let mut tx = returned.begin_read().await?;
        let tables = read_for_copy(&mut tx, &ids, &[back.checkout.agent_id]).await?;
        tx.rollback().await?;
        let fields: Vec<(Uuid, LeadFields)> = joined.iter().map(|l| (l.id, l.fields())).collect();
        append_to_copy(local, &tables, state.checkout.id, &fields).await?;
    }
    refresh_copy(
        local,
        &state,
        &floor_leads,
        &back.dnc,
        &report_json,
        back.checkout.closed_at,
        back.checkout.last_sync_at.unwrap_or(now),
    )
    .await?;
    Ok((report, joined.len() as u64))
}

/// Inserts the lead's ended offline calls the floor does not have, counts them as attempts, and
/// names those made after the floor put the lead on the do-not-call list and the floor's own
/// calls on it since the checkout.
async fn upload_calls<T: OfflineTx>(
    tx: &mut T,
    state: &CopyState,
    checkout: &Checkout,
    copy_lead: &Lead,
    floor_lead: &Lead,
    report: &mut SyncReport,
) -> Result<()> {
    let calls = &state.calls;
    let (id, started, ended) = (calls.index("id"), calls.index("started_at"), calls.index("ended_at"));
    let offline: Vec<&Vec<Value>> = calls
        .of_lead("lead_id", copy_lead.id)
        .into_iter()
        .filter(|r| time_at(r, ended).is_some() && uuid_at(r, id).is_some_and(|c| !state.in_progress.contains(&c)))
        .collect();
    let on_floor = read_where(tx, "call_logs", "lead_id", &[Value::Uuid(copy_lead.id)]).await?;
    let floor_ids: BTreeSet<Uuid> = on_floor.rows.iter().filter_map(|r| uuid_at(r, id)).collect();
    let new: Vec<Vec<Value>> = offline
        .iter()
        .filter(|r| uuid_at(r, id).is_some_and(|c| !floor_ids.contains(&c)))
        .map(|r| (*r).clone())
        .collect();
    if !new.is_empty() {
        let inserted = tx.insert_rows_new(&calls.section(), &new).await?;
        let last = new.iter().filter_map(|r| time_at(r, started)).max();
        tx.add_offline_calls(copy_lead.id, inserted as i64, last, copy_lead.next_call_at)
            .await?;
        report.calls_uploaded += inserted;
    }

    // Named once: by the sync that sends the call.
    let sent_now: Vec<(Uuid, DateTime<Utc>)> = new
        .iter()
        .filter_map(|r| Some((uuid_at(r, id)?, time_at(r, started)?)))
        .collect();
    let listed = read_where(tx, "dnc_numbers", "number", &[Value::Text(floor_lead.phone.clone())]).await?;
    let added_at = listed.index("added_at");
    let base = base_fields(state, copy_lead.id)?;
    let dnc_since = listed
        .rows
        .first()
        .and_then(|r| time_at(r, added_at))
        .or((floor_lead.do_not_call && !base.do_not_call).then_some(floor_lead.updated_at))
        .filter(|since| *since >= checkout.created_at);
    report
        .calls_after_dnc
        .extend(calls_after_dnc(copy_lead.id, dnc_since, &sent_now));

    // The floor's own calls since the last sync (each named once).
    let agent_col = calls.index("agent_id");
    let since = checkout.last_sync_at.unwrap_or(checkout.created_at);
    let offline_ids: BTreeSet<Uuid> = offline.iter().filter_map(|r| uuid_at(r, id)).collect();
    for row in &on_floor.rows {
        let (Some(call_id), Some(at), Some(by)) = (uuid_at(row, id), time_at(row, started), int_at(row, agent_col))
        else {
            continue;
        };
        if at >= since && !offline_ids.contains(&call_id) {
            let agent = tx
                .agent(by)
                .await?
                .map(|a| a.name)
                .unwrap_or_else(|| format!("agent {by}"));
            report.floor_calls_meanwhile.push(FloorCallMeanwhile {
                lead_id: copy_lead.id,
                call_id,
                agent,
                started_at: at,
            });
        }
    }
    Ok(())
}

fn base_fields(state: &CopyState, lead_id: Uuid) -> Result<LeadFields> {
    let body = state
        .base
        .get(&base_lead_item(lead_id))
        .cloned()
        .flatten()
        .ok_or_else(|| StoreError::BadInput(format!("the copy has lost the checked-out state of lead {lead_id}")))?;
    serde_json::from_str(&body).map_err(|e| {
        StoreError::BadInput(format!(
            "the copy's checked-out state of lead {lead_id} is damaged: {e}"
        ))
    })
}

/// Applies the copy's status changes with their own times and agent, unless the floor changed
/// the status meanwhile and the copy's is not final (see `merge_status`).
async fn merge_lead_status<T: OfflineTx>(
    tx: &mut T,
    state: &CopyState,
    checkout: &Checkout,
    copy_lead: &Lead,
    floor: LeadStatus,
    report: &mut SyncReport,
) -> Result<()> {
    let log = &state.status_log;
    let (id, new_status, by, reason, at) = (
        log.index("id"),
        log.index("new_status"),
        log.index("changed_by"),
        log.index("reason"),
        log.index("changed_at"),
    );
    let mut pending = Vec::new();
    for row in log.of_lead("lead_id", copy_lead.id) {
        let Some(row_id) = int_at(row, id) else { continue };
        if state.base.contains_key(&base_status_item(row_id))
            || tx.applied(checkout.id, &status_op(checkout.id, row_id)).await?
        {
            continue;
        }
        pending.push(row);
    }
    pending.sort_by_key(|r| int_at(r, id));
    let base = base_fields(state, copy_lead.id)?.status;
    let merge = merge_status(base, copy_lead.status, floor, !pending.is_empty());
    let kept = match merge {
        StatusMerge::KeepFloor => Some(StatusKept::Floor),
        StatusMerge::ApplyOfflineOverFloor => Some(StatusKept::Offline),
        StatusMerge::Unchanged | StatusMerge::ApplyOffline => None,
    };
    if let Some(kept) = kept {
        report.status_conflicts.push(StatusConflict {
            lead_id: copy_lead.id,
            floor_status: floor,
            offline_status: copy_lead.status,
            kept,
        });
    }
    match merge {
        StatusMerge::Unchanged | StatusMerge::KeepFloor => {}
        StatusMerge::ApplyOffline | StatusMerge::ApplyOfflineOverFloor => {
            for row in &pending {
                let Some(status) = text_at(row, new_status).and_then(|s| s.parse::<LeadStatus>().ok()) else {
                    continue;
                };
                let when = time_at(row, at).unwrap_or(checkout.created_at);
                tx.set_status(copy_lead.id, status, text_at(row, reason), int_at(row, by), when)
                    .await?;
                report.status_changes_applied += 1;
            }
        }
    }
    for row in &pending {
        if let Some(row_id) = int_at(row, id) {
            tx.mark_applied(checkout.id, &status_op(checkout.id, row_id), report.synced_at)
                .await?;
        }
    }
    Ok(())
}

/// Merges the copy's field edits into the floor's lead (see `merge_fields`).
async fn merge_lead_fields<T: OfflineTx>(
    tx: &mut T,
    state: &CopyState,
    copy_lead: &Lead,
    agent: i64,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<()> {
    let base = base_fields(state, copy_lead.id)?;
    let floor = tx.lead(copy_lead.id).await?.expect("locked above").fields();
    let merge = merge_fields(copy_lead.id, &base, &copy_lead.fields(), &floor);
    report.field_conflicts.extend(merge.conflicts);
    if merge.merged != floor {
        tx.update_lead(copy_lead.id, &merge.merged, Some(agent), Some("offline sync"), now)
            .await?;
        report.leads_edited += 1;
    }
    Ok(())
}

/// Contact points and callbacks added offline go in by their ids; callbacks done offline are
/// closed on the floor.
async fn upload_contacts_and_callbacks<T: OfflineTx>(
    tx: &mut T,
    state: &CopyState,
    lead_id: Uuid,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<()> {
    let contacts: Vec<Vec<Value>> = state
        .contacts
        .of_lead("lead_id", lead_id)
        .into_iter()
        .cloned()
        .collect();
    report.contacts_added += tx.insert_rows_new(&state.contacts.section(), &contacts).await?;
    let callbacks: Vec<Vec<Value>> = state
        .callbacks
        .of_lead("lead_id", lead_id)
        .into_iter()
        .cloned()
        .collect();
    report.callbacks_added += tx.insert_rows_new(&state.callbacks.section(), &callbacks).await?;
    let (id, done_at) = (state.callbacks.index("id"), state.callbacks.index("done_at"));
    let done_offline: BTreeSet<Uuid> = callbacks
        .iter()
        .filter(|r| time_at(r, done_at).is_some())
        .filter_map(|r| uuid_at(r, id))
        .collect();
    let still_open: Vec<Uuid> = tx
        .open_callbacks(lead_id)
        .await?
        .into_iter()
        .map(|c| c.id)
        .filter(|id| done_offline.contains(id))
        .collect();
    if !still_open.is_empty() {
        tx.close_callbacks(&still_open, now).await?;
        report.callbacks_completed += still_open.len() as u64;
    }
    Ok(())
}

/// Numbers put on the list offline go on the floor's list, and every lead with them is flagged.
async fn upload_dnc<T: OfflineTx>(
    tx: &mut T,
    state: &CopyState,
    agent: i64,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<()> {
    let number = state.dnc.index("number");
    let numbers: Vec<Value> = state.dnc.rows.iter().map(|r| r[number].clone()).collect();
    let listed = read_where(tx, "dnc_numbers", "number", &numbers).await?;
    let known: BTreeSet<&str> = listed.rows.iter().filter_map(|r| text_at(r, number)).collect();
    let new: Vec<Vec<Value>> = state
        .dnc
        .rows
        .iter()
        .filter(|r| text_at(r, number).is_some_and(|n| !known.contains(n)))
        .cloned()
        .collect();
    report.dnc_numbers_added += tx.insert_rows_new(&state.dnc.section(), &new).await?;
    for row in &new {
        if let Some(n) = text_at(row, number) {
            tx.flag_leads_dnc(n, Some(agent), now).await?;
        }
    }
    Ok(())
}

/// Brings the copy up to the floor after a sync: each lead's fields as the floor now has them
/// (the floor's do-not-call entries with them), the floor's state recorded as the new base, and
/// the report kept.
///
/// Work done in the copy while the sync ran (the console keeps working) is kept for the next
/// sync: a lead edited meanwhile keeps its edit and its old base, and a status change made
/// meanwhile is not marked as sent.
async fn refresh_copy<C: Backend>(
    copy: &C,
    state: &CopyState,
    floor_leads: &[Lead],
    floor_dnc: &TableRows,
    report_json: &str,
    closed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<()>
where
    C::Tx: OfflineTx,
{
    let checkout_id = state.checkout.id;
    let log_id = state.status_log.index("id");
    let sent: BTreeSet<i64> = state.status_log.rows.iter().filter_map(|r| int_at(r, log_id)).collect();
    let mut out = copy.begin().await?;
    let before_refresh = read_all(&mut out, "lead_status_log").await?;
    let newest_before = before_refresh
        .rows
        .iter()
        .filter_map(|r| int_at(r, log_id))
        .max()
        .unwrap_or(0);
    for lead in floor_leads {
        let fields = lead.fields();
        let here = out.lead(lead.id).await?.map(|l| l.fields());
        let as_sent = state.leads.iter().find(|l| l.id == lead.id).map(|l| l.fields());
        if here != as_sent {
            continue; // edited while the sync ran: merged by the next one
        }
        if here.as_ref() != Some(&fields) {
            out.update_lead(lead.id, &fields, None, Some("from the floor at sync"), now)
                .await?;
        }
        out.put_base(checkout_id, &base_lead_item(lead.id), Some(&fields_json(&fields)))
            .await?;
    }
    // Who listed a number is the floor's to know; the copy holds only the agents its rows name.
    let added_by = floor_dnc.index("added_by");
    let entries: Vec<Vec<Value>> = floor_dnc
        .rows
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r[added_by] = Value::Null;
            r
        })
        .collect();
    out.insert_rows_new(&floor_dnc.section(), &entries).await?;
    // Known now: the rows this sync sent, and those the refresh itself just wrote.
    let log = read_all(&mut out, "lead_status_log").await?;
    for id in log.rows.iter().filter_map(|r| int_at(r, log_id)) {
        if sent.contains(&id) || id > newest_before {
            out.put_base(checkout_id, &base_status_item(id), None).await?;
        }
    }
    out.put_base(checkout_id, &format!("report:{}", now.to_rfc3339()), Some(report_json))
        .await?;
    out.record_sync(checkout_id, now, report_json, closed_at).await?;
    out.commit().await?;
    Ok(())
}
