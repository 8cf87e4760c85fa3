//! Offline copies on both backends as the floor (a copy is always a SQLite file): a checkout
//! reserves leads against everyone, the copy works them under the floor's rules, and a sync
//! sends the work back with every conflict named, once, however often it is repeated, and
//! whatever moment it is killed at.

mod common;

use chrono::Duration;
use coldcall::domain::offline::StatusKept;
use coldcall::domain::{LeadStatus, Role};
use coldcall::store::offline::{CheckoutRequest, SyncReport};
use coldcall::store::{
    Agent, ConnectOptions, EndCall, Lead, LeadFilter, NewAgent, NewContact, StartCall, Store, StoreError,
};
use common::*;

struct Copy {
    store: Store,
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// A new, empty copy file on the floor's clock.
async fn new_copy(floor: &Store) -> Copy {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("copy.db");
    let store = Store::connect(&path.to_string_lossy(), &ConnectOptions::default())
        .await
        .unwrap()
        .with_clock(floor.clock().clone());
    store.migrate().await.unwrap();
    Copy { store, path, _dir: dir }
}

async fn admin(store: &Store, name: &str) -> Agent {
    store
        .add_agent(&NewAgent {
            name: name.into(),
            email: None,
            role: Role::Admin,
        })
        .await
        .unwrap()
}

fn request(agent: &Agent, by: &Agent, leads: u32, hours: u32) -> CheckoutRequest {
    CheckoutRequest {
        agent_id: agent.id,
        by: by.id,
        leads,
        hours,
    }
}

/// Calls the lead and records the outcome; answers the call's id. The clock moves on 2.5 minutes,
/// inside the gap of 5.
async fn call(store: &Store, lead: &Lead, agent: &Agent, outcome: &str, notes: &str) -> uuid::Uuid {
    let started = store
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: agent.id,
            from_number: None,
        })
        .await
        .unwrap_or_else(|e| panic!("start call on {}: {e}", lead.first_name));
    store.clock().advance(Duration::seconds(90));
    store
        .end_call(&EndCall {
            call_id: started.call_id,
            agent_id: agent.id,
            disposition: outcome.into(),
            notes: Some(notes.into()),
            ..EndCall::default()
        })
        .await
        .unwrap();
    store.clock().advance(Duration::minutes(1));
    started.call_id
}

fn refusal_code(result: Result<impl std::fmt::Debug, StoreError>) -> &'static str {
    match result {
        Err(StoreError::Refused(r)) => r.code(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn nothing_moved(r: &SyncReport) -> bool {
    r.calls_uploaded
        + r.status_changes_applied
        + r.leads_edited
        + r.contacts_added
        + r.callbacks_added
        + r.callbacks_completed
        + r.dnc_numbers_added
        + r.leads_released
        == 0
        && r.conflicts() == 0
}

async fn a_slice_is_worked_offline_and_merged_back_with_every_conflict_named(db: &TestDb) {
    let floor = &db.store;
    let (ada, ann, bob, sam) = (
        admin(floor, "ada").await,
        agent(floor, "ann").await,
        agent(floor, "bob").await,
        supervisor(floor, "sam").await,
    );
    let mut leads = Vec::new();
    for n in 0..50 {
        leads.push(lead(floor, n).await);
    }
    let copy = new_copy(floor).await;
    let all = LeadFilter::default();

    // Only an admin checks leads out for someone else; a refused checkout writes nothing.
    for by in [&bob, &sam] {
        let refused = floor
            .offline_checkout(&copy.store, &request(&ann, by, 50, 72), &all)
            .await;
        assert!(
            matches!(refused, Err(StoreError::Forbidden(_))),
            "{}: {refused:?}",
            by.name
        );
    }
    assert!(copy.store.offline_copy_of().await.unwrap().is_none());
    let summary = floor
        .offline_checkout(&copy.store, &request(&ann, &ada, 50, 72), &all)
        .await
        .unwrap();
    assert_eq!(summary.leads, 50);
    assert_eq!(summary.checkout.agent_id, ann.id);
    assert_eq!(summary.checkout.created_by, Some(ada.id));

    // The copy knows where it came from, whose it is and until when; it holds the leads and
    // only the agents its rows name.
    let own = copy.store.offline_copy_of().await.unwrap().expect("a copy");
    assert_eq!(own.id, summary.checkout.id);
    assert_eq!(own.floor.as_deref(), Some(floor.describe()));
    assert_eq!(own.expires_at, office_hours() + Duration::hours(72));
    for lead in &leads {
        assert!(copy.store.lead(lead.id).await.unwrap().is_some());
    }
    assert!(copy.store.agent_by_name("ann").await.unwrap().is_some());
    assert!(copy.store.agent_by_name("bob").await.unwrap().is_none());
    assert_eq!(
        copy.store.dispositions().await.unwrap().len(),
        floor.dispositions().await.unwrap().len()
    );

    // On the floor no one calls or claims any of them, their own agent included.
    for lead in &leads {
        let start = floor
            .start_call(&StartCall {
                lead_id: lead.id,
                agent_id: bob.id,
                from_number: None,
            })
            .await;
        assert_eq!(refusal_code(start), "checked_out", "{}", lead.first_name);
    }
    for who in [&bob, &ann] {
        let start = floor
            .start_call(&StartCall {
                lead_id: leads[0].id,
                agent_id: who.id,
                from_number: None,
            })
            .await;
        assert_eq!(refusal_code(start), "checked_out", "{}", who.name);
        assert!(floor.claim_next(who.id).await.unwrap().is_none(), "{}", who.name);
    }
    let open = floor.offline_checkouts().await.unwrap();
    assert_eq!(open.len(), 1, "the floor shows the copy: {open:?}");
    assert_eq!((open[0].agent_name.as_str(), open[0].leads), ("ann", 50));
    assert_eq!(open[0].expires_at, own.expires_at);
    let second = new_copy(floor).await;
    let again = floor
        .offline_checkout(&second.store, &request(&bob, &bob, 10, 8), &all)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");

    // Meanwhile on the floor: a supervisor lists one number, moves one status, edits one note.
    let (won, dnc, listed, moved, edited, contact, callback, no_answer) = (
        &leads[0], &leads[1], &leads[2], &leads[3], &leads[4], &leads[5], &leads[6], &leads[7],
    );
    floor
        .dnc_add(&listed.phone, Some("asked by letter"), Some(sam.id))
        .await
        .unwrap();
    floor
        .set_status(moved.id, LeadStatus::Qualified, Some("spoke at the fair"), Some(sam.id))
        .await
        .unwrap();
    floor
        .set_status(dnc.id, LeadStatus::Contacted, Some("left a message"), Some(sam.id))
        .await
        .unwrap();
    let mut notes = edited.fields();
    notes.notes = Some("floor: send pricing".into());
    floor.update_lead(edited.id, &notes, Some(sam.id), None).await.unwrap();

    // Offline, under the floor's rules.
    let c = &copy.store;
    let won_call = call(c, won, &ann, "interested", "wants a demo").await;
    let gap = c
        .start_call(&StartCall {
            lead_id: won.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await;
    assert_eq!(refusal_code(gap), "too_soon", "the gap holds in the copy");
    call(c, dnc, &ann, "do_not_call", "asked never to be called").await;
    let after_dnc = call(c, listed, &ann, "no_answer", "").await;
    call(c, no_answer, &ann, "no_answer", "").await;
    c.set_status(moved.id, LeadStatus::Nurturing, Some("not this quarter"), Some(ann.id))
        .await
        .unwrap();
    let mut offline_notes = edited.fields();
    offline_notes.notes = Some("offline: call after Easter".into());
    offline_notes.title = Some("CFO".into());
    c.update_lead(edited.id, &offline_notes, Some(ann.id), None)
        .await
        .unwrap();
    c.add_contact(
        contact.id,
        &NewContact {
            kind: coldcall::domain::ContactKind::Phone,
            value: "+12125550999".into(),
            label: Some("mobile".into()),
            is_primary: false,
            is_verified: false,
        },
        "US",
    )
    .await
    .unwrap();
    let due = c.now() + Duration::days(1);
    c.schedule_callback(callback.id, ann.id, due, Some("after the board meeting"))
        .await
        .unwrap();
    c.dnc_add("+12125558888", Some("wrong person, asked off"), Some(ann.id))
        .await
        .unwrap();

    let report = floor.offline_sync(&copy.store, None).await.unwrap();
    assert_eq!(report.calls_uploaded, 4, "{report:#?}");
    assert_eq!(report.calls_in_progress, 0);
    assert!(!report.expired);
    assert_eq!(report.contacts_added, 1);
    assert_eq!(report.callbacks_added, 1);
    assert_eq!(
        report.dnc_numbers_added, 2,
        "the number typed in, and the one the outcome listed"
    );
    assert_eq!(
        report.leads_released, 2,
        "the closed lead and the listed one go back: {report:#?}"
    );
    let conflicts: Vec<_> = report
        .status_conflicts
        .iter()
        .map(|c| (c.lead_id, c.floor_status, c.offline_status, c.kept))
        .collect();
    assert_eq!(conflicts.len(), 2, "{conflicts:#?}");
    assert!(
        conflicts.contains(&(
            moved.id,
            LeadStatus::Qualified,
            LeadStatus::Nurturing,
            StatusKept::Floor
        )),
        "the floor's change stays over an open one: {conflicts:#?}"
    );
    assert!(
        conflicts.contains(&(
            dnc.id,
            LeadStatus::Contacted,
            LeadStatus::ClosedLost,
            StatusKept::Offline
        )),
        "a final status made offline wins, and is named: {conflicts:#?}"
    );
    assert_eq!(report.field_conflicts.len(), 1, "{:#?}", report.field_conflicts);
    assert_eq!(report.field_conflicts[0].lead_id, edited.id);
    assert_eq!(report.field_conflicts[0].field, "notes");
    assert_eq!(report.calls_after_dnc.len(), 1);
    assert_eq!(report.calls_after_dnc[0].call_id, after_dnc);
    assert!(report.floor_calls_meanwhile.is_empty());

    // The floor has the calls with their notes, the statuses with their real times and agent.
    let history = floor.call_history(won.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].id, won_call);
    assert_eq!(history[0].notes.as_deref(), Some("wants a demo"));
    let won_now = floor.lead(won.id).await.unwrap().unwrap();
    assert_eq!(won_now.status, LeadStatus::Qualified);
    assert_eq!(won_now.call_attempts, 1);
    let changes = floor.status_history(won.id).await.unwrap();
    assert_eq!(changes.len(), 2, "created, then qualified offline: {changes:#?}");
    let change = changes.iter().max_by_key(|c| c.id).unwrap();
    assert_eq!(change.new_status, LeadStatus::Qualified);
    assert_eq!(change.changed_by, Some(ann.id));
    assert_eq!(
        change.changed_at,
        history[0].ended_at.unwrap(),
        "the offline moment, not the sync's"
    );
    let dnc_now = floor.lead(dnc.id).await.unwrap().unwrap();
    assert!(dnc_now.do_not_call && dnc_now.status == LeadStatus::ClosedLost);
    assert_eq!(
        floor.lead(moved.id).await.unwrap().unwrap().status,
        LeadStatus::Qualified
    );
    let edited_now = floor.lead(edited.id).await.unwrap().unwrap();
    assert_eq!(
        edited_now.notes.as_deref(),
        Some("floor: send pricing"),
        "both changed: the floor's"
    );
    assert_eq!(edited_now.title.as_deref(), Some("CFO"), "only the copy changed it");
    assert!(floor
        .contacts(contact.id)
        .await
        .unwrap()
        .iter()
        .any(|c| c.value == "+12125550999"));
    assert!(floor.dnc_check("+12125558888").await.unwrap().is_some());
    assert!(floor.dnc_check(&dnc.phone).await.unwrap().is_some());
    assert_eq!(
        floor.lead(no_answer.id).await.unwrap().unwrap().next_call_at,
        c.lead(no_answer.id).await.unwrap().unwrap().next_call_at,
        "the recycle the copy set holds on the floor"
    );
    // The floor's figures count the offline calls as ann's, on the day they were made.
    let figures = floor
        .floor_figures(office_hours() - Duration::hours(1), floor.now() + Duration::hours(1))
        .await
        .unwrap();
    let anns = figures
        .agents
        .iter()
        .find(|a| a.agent_id == ann.id)
        .expect("ann's figures");
    assert_eq!(anns.calls, 4);
    let released: Vec<_> = floor.assignments(dnc.id).await.unwrap();
    assert!(released.iter().all(|a| !a.active), "{released:?}");
    assert!(floor.assignments(won.id).await.unwrap().iter().any(|a| a.active));

    assert_eq!(floor.offline_checkouts().await.unwrap()[0].leads, 48, "two went back");

    // The copy now has what the floor has; a second sync changes nothing and names nothing.
    let copy_moved = c.lead(moved.id).await.unwrap().unwrap();
    assert_eq!(copy_moved.status, LeadStatus::Qualified);
    assert!(c.lead(listed.id).await.unwrap().unwrap().do_not_call);
    let second_report = floor.offline_sync(&copy.store, None).await.unwrap();
    assert!(nothing_moved(&second_report), "{second_report:#?}");
    assert_eq!(floor.call_history(won.id).await.unwrap().len(), 1);
    assert_eq!(floor.lead(won.id).await.unwrap().unwrap().call_attempts, 1);

    // More in the same step: new leads on the floor (one with a call from bob) join the copy
    // under the same checkout, with their history, and are reserved like the first ones.
    let mut late = Vec::new();
    for n in 100..103 {
        late.push(lead(floor, n).await);
    }
    call(floor, &late[0], &bob, "no_answer", "rang out").await;
    floor.clock().advance(Duration::minutes(10));
    let added = floor
        .offline_take_more(&copy.store, 10, &all, Some(ann.id))
        .await
        .unwrap();
    assert_eq!(added, 3, "only the three new leads are free");
    assert_eq!(c.call_history(late[0].id).await.unwrap().len(), 1, "with their history");
    assert_eq!(c.status_history(late[0].id).await.unwrap().len(), 1);
    assert_eq!(floor.offline_checkouts().await.unwrap()[0].leads, 51);
    let start = floor
        .start_call(&StartCall {
            lead_id: late[1].id,
            agent_id: bob.id,
            from_number: None,
        })
        .await;
    assert_eq!(refusal_code(start), "checked_out");
    let refused = floor.offline_take_more(&copy.store, 1, &all, Some(bob.id)).await;
    assert!(
        matches!(refused, Err(StoreError::Forbidden(_))),
        "only ann's: {refused:?}"
    );
    call(c, &late[1], &ann, "interested", "taken later").await;
    let report = floor.offline_sync(&copy.store, Some(ann.id)).await.unwrap();
    assert_eq!(report.calls_uploaded, 1, "{report:#?}");
    assert_eq!(
        report.status_changes_applied, 1,
        "the new lead's own change only: {report:#?}"
    );
    assert!(report.conflicts() == 0, "{report:#?}");
    assert!(nothing_moved(&floor.offline_sync(&copy.store, None).await.unwrap()));
}

async fn a_late_sync_keeps_every_call_and_names_the_floors_own(db: &TestDb) {
    let floor = &db.store;
    let (ann, bob) = (agent(floor, "ann").await, agent(floor, "bob").await);
    let mut leads = Vec::new();
    for n in 0..5 {
        leads.push(lead(floor, n).await);
    }
    let copy = new_copy(floor).await;
    floor
        .offline_checkout(&copy.store, &request(&ann, &ann, 5, 2), &LeadFilter::default())
        .await
        .unwrap();
    let offline = call(&copy.store, &leads[0], &ann, "no_answer", "rang out").await;

    // The reservation ends: the copy calls no one more, and the floor has the leads again.
    floor.clock().advance(Duration::hours(3));
    let start = copy
        .store
        .start_call(&StartCall {
            lead_id: leads[1].id,
            agent_id: ann.id,
            from_number: None,
        })
        .await;
    assert_eq!(refusal_code(start), "offline_copy_expired");
    let claimed = floor
        .claim_next(bob.id)
        .await
        .unwrap()
        .expect("the leads are back in the queue");
    assert!(leads.iter().any(|l| l.id == claimed.lead.id));
    let floors = call(floor, &leads[0], &bob, "connected", "spoke to reception").await;

    let report = floor.offline_sync(&copy.store, None).await.unwrap();
    assert!(report.expired);
    assert_eq!(report.calls_uploaded, 1);
    assert_eq!(report.floor_calls_meanwhile.len(), 1);
    assert_eq!(report.floor_calls_meanwhile[0].call_id, floors);
    assert_eq!(report.floor_calls_meanwhile[0].agent, "bob");
    let history: Vec<_> = floor
        .call_history(leads[0].id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(history.len(), 2);
    assert!(history.contains(&offline) && history.contains(&floors));
    assert_eq!(floor.lead(leads[0].id).await.unwrap().unwrap().call_attempts, 2);
    assert!(nothing_moved(&floor.offline_sync(&copy.store, None).await.unwrap()));
    assert!(
        floor.offline_checkouts().await.unwrap().is_empty(),
        "an ended checkout is not shown"
    );
}

async fn a_copy_is_refused_where_it_does_not_belong(db: &TestDb) {
    let floor = &db.store;
    let ann = agent(floor, "ann").await;
    lead(floor, 1).await;
    let copy = new_copy(floor).await;
    floor
        .offline_checkout(&copy.store, &request(&ann, &ann, 1, 8), &LeadFilter::default())
        .await
        .unwrap();
    let again = floor
        .offline_checkout(&copy.store, &request(&ann, &ann, 1, 8), &LeadFilter::default())
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    for (leads, hours) in [(0, 8), (2001, 8), (1, 0), (1, 337)] {
        let bad = floor
            .offline_checkout(&copy.store, &request(&ann, &ann, leads, hours), &LeadFilter::default())
            .await;
        assert!(
            matches!(bad, Err(StoreError::BadInput(_))),
            "{leads} leads, {hours} h: {bad:?}"
        );
    }
    // A database that is not a copy is not synced; nor is a copy on another floor.
    let plain = new_copy(floor).await;
    assert!(matches!(
        floor.offline_sync(&plain.store, None).await,
        Err(StoreError::BadInput(_))
    ));
    let other = common::sqlite().await;
    let refused = other.store.offline_sync(&copy.store, None).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(ref m)) if m.contains("no checkout")),
        "{refused:?}"
    );
}

on_both_backends!(pass = db;
    a_slice_is_worked_offline_and_merged_back_with_every_conflict_named,
    a_late_sync_keeps_every_call_and_names_the_floors_own,
    a_copy_is_refused_where_it_does_not_belong,
);

/// A floor with 50 leads checked out to ann, each called once in the copy.
async fn worked_copy(db: &TestDb) -> (Agent, Vec<Lead>, Copy) {
    let floor = &db.store;
    let ann = agent(floor, "ann").await;
    let mut leads = Vec::new();
    for n in 0..50 {
        leads.push(lead(floor, n).await);
    }
    let copy = new_copy(floor).await;
    floor
        .offline_checkout(&copy.store, &request(&ann, &ann, 50, 336), &LeadFilter::default())
        .await
        .unwrap();
    for (i, lead) in leads.iter().enumerate() {
        let outcome = ["interested", "no_answer", "connected", "busy", "not_interested"][i % 5];
        call(&copy.store, lead, &ann, outcome, &format!("offline call {i}")).await;
    }
    (ann, leads, copy)
}

/// Status changes ann made, over the leads.
async fn changes_by(store: &Store, agent: &Agent, leads: &[Lead]) -> usize {
    let mut n = 0;
    for lead in leads {
        n += store
            .status_history(lead.id)
            .await
            .unwrap()
            .iter()
            .filter(|c| c.changed_by == Some(agent.id))
            .count();
    }
    n
}

fn sync_process(floor_url: &str, copy: &Copy) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_coldcall"))
        .args(["--database", floor_url, "offline", "sync"])
        .arg(&copy.path)
        .env_remove("COLDCALL_DATABASE_URL")
        .env_remove("COLDCALL_AGENT")
        .env("COLDCALL_DATA_DIR", copy.path.parent().unwrap())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run coldcall")
}

/// `coldcall offline sync` killed with SIGKILL twenty times, at moments spread over the time a
/// whole sync takes (measured on a twin floor prepared the same way), then run to the end: the
/// floor ends as the twin's, every offline call on it once and counted once, every status change
/// once, and a further sync has nothing to do.
async fn a_sync_killed_at_any_moment_loses_and_duplicates_nothing(db: &TestDb) {
    let twin = if db.url.starts_with("postgres") {
        common::postgres().await
    } else {
        common::sqlite().await
    };
    let (twin_ann, twin_leads, twin_copy) = worked_copy(&twin).await;
    let started = std::time::Instant::now();
    assert!(sync_process(&twin.url, &twin_copy).wait().unwrap().success());
    let whole = started.elapsed();

    let floor = &db.store;
    let (ann, leads, copy) = worked_copy(db).await;
    let expected_changes = changes_by(&copy.store, &ann, &leads).await;
    assert!(
        expected_changes >= 30,
        "most outcomes change the status: {expected_changes}"
    );
    let (mut killed, mut between_commits) = (0, 0);
    for step in 0..20u32 {
        let mut child = sync_process(&db.url, &copy);
        std::thread::sleep(whole * (2 * step + 1) / 40);
        let _ = child.kill(); // SIGKILL
        if !child.wait().unwrap().success() {
            killed += 1;
            let floor_has_it = floor.call_history(leads[0].id).await.unwrap().len() == 1;
            let copy_refreshed = copy
                .store
                .offline_copy_of()
                .await
                .unwrap()
                .unwrap()
                .last_sync_at
                .is_some();
            if floor_has_it && !copy_refreshed {
                between_commits += 1;
            }
        }
        for lead in &leads {
            assert!(
                floor.call_history(lead.id).await.unwrap().len() <= 1,
                "never a call twice"
            );
        }
    }
    assert!(killed >= 5, "the kills must land while a sync runs: {killed} of 20 did");
    assert!(sync_process(&db.url, &copy).wait().unwrap().success());

    for lead in &leads {
        let on_floor = floor.lead(lead.id).await.unwrap().unwrap();
        assert_eq!(
            floor.call_history(lead.id).await.unwrap().len(),
            1,
            "{}",
            lead.first_name
        );
        assert_eq!(on_floor.call_attempts, 1, "{}: counted once", lead.first_name);
        let in_copy = copy.store.lead(lead.id).await.unwrap().unwrap();
        assert_eq!(on_floor.status, in_copy.status, "{}", lead.first_name);
    }
    assert_eq!(
        changes_by(floor, &ann, &leads).await,
        expected_changes,
        "each status change once"
    );
    assert_eq!(
        changes_by(&twin.store, &twin_ann, &twin_leads).await,
        expected_changes,
        "as on the twin synced once"
    );
    let mut statuses: Vec<String> = Vec::new();
    let mut twin_statuses: Vec<String> = Vec::new();
    for (lead, twin_lead) in leads.iter().zip(&twin_leads) {
        statuses.push(floor.lead(lead.id).await.unwrap().unwrap().status.to_string());
        twin_statuses.push(twin.store.lead(twin_lead.id).await.unwrap().unwrap().status.to_string());
    }
    assert_eq!(statuses, twin_statuses);
    let again = floor.offline_sync(&copy.store, None).await.unwrap();
    assert!(nothing_moved(&again), "{again:#?}");
    eprintln!(
        "a whole sync took {whole:?}; {killed} of 20 syncs were killed mid-run, {between_commits} of them \
         after the floor's commit and before the copy's"
    );
}

on_both_backends!(pass = db;
    a_sync_killed_at_any_moment_loses_and_duplicates_nothing,
);
