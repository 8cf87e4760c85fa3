//! The app fed prepared replies, without a database: each reply lands in its part and asks for
//! what follows from it.

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent};
use uuid::Uuid;

use super::*;
use crate::domain::{LeadStatus, Priority, Role};
use crate::store::{Claim, ClaimSource, EndedCall, StartedCall};

/// A lead with only what the console reads filled in.
pub(crate) fn lead(first_name: &str) -> Lead {
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).single().expect("a time");
    Lead {
        id: Uuid::now_v7(),
        first_name: first_name.into(),
        last_name: "Tester".into(),
        email: None,
        phone: "+12125550001".into(),
        company: "Acme".into(),
        title: None,
        timezone: Some("America/New_York".into()),
        status: LeadStatus::New,
        priority: Priority::Medium,
        lead_score: 50,
        conversion_probability: 0.0,
        source: None,
        notes: None,
        consent_given: false,
        consent_date: None,
        do_not_call: false,
        do_not_email: false,
        call_attempts: 0,
        last_call_at: None,
        next_call_at: None,
        data_quality: 80,
        created_at: at,
        updated_at: at,
        updated_by: None,
        deleted_at: None,
    }
}

pub(crate) fn agent(role: Role) -> Agent {
    Agent {
        id: 7,
        name: "alice".into(),
        email: None,
        role,
        active: true,
        created_at: Utc::now(),
    }
}

pub(crate) fn app() -> App {
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).single().expect("a time");
    let mut app = App::new(
        agent(Role::Agent),
        "sqlite://test.db".into(),
        "US".into(),
        Keymap::default(),
        now,
    );
    app.start();
    app.on_reply(Reply::Dispositions(crate::domain::disposition::default_dispositions()));
    app
}

fn press(app: &mut App, c: char) -> Vec<Request> {
    app.on_key(KeyEvent::from(KeyCode::Char(c)))
}

fn claimed(app: &mut App, lead: &Lead) -> Vec<Request> {
    app.on_reply(Reply::Claimed(Some(Claim {
        lead: lead.clone(),
        source: ClaimSource::Queue,
        expires_at: app.now() + Duration::minutes(5),
    })))
}

fn started(app: &mut App, lead: &Lead) -> StartedCall {
    let started = StartedCall {
        call_id: Uuid::now_v7(),
        lead_id: lead.id,
        agent_id: 7,
        phone_number: lead.phone.clone(),
        started_at: app.now(),
    };
    app.on_reply(Reply::CallStarted(started.clone()));
    started
}

#[test]
fn a_claimed_lead_opens_and_loads_its_detail() {
    let mut app = app();
    let ada = lead("Ada");
    assert_eq!(press(&mut app, 'n'), vec![Request::Claim { agent_id: 7 }]);
    let requests = claimed(&mut app, &ada);
    assert!(requests.contains(&Request::Detail { lead_id: ada.id }));
    assert!(
        requests.iter().any(|r| matches!(r, Request::Queue { .. })),
        "my queue no longer holds the claimed lead: {requests:?}"
    );
    assert_eq!(app.open_lead().map(|d| d.lead.id), Some(ada.id));
    assert_eq!(app.focus(), Pane::Detail);
    assert_eq!(app.status().text(), "next: Ada Tester; press c to call");
}

#[test]
fn a_started_call_asks_for_the_floor_and_the_lead_and_an_ended_one_frees_the_agent() {
    let mut app = app();
    let ada = lead("Ada");
    claimed(&mut app, &ada);
    assert!(matches!(&press(&mut app, 'c')[..], [Request::StartCall(s)] if s.lead_id == ada.id));
    let call = started(&mut app, &ada);
    assert_eq!(*app.agent_state(), AgentState::OnCall);
    assert_eq!(app.call().map(|c| c.lead_name.as_str()), Some("Ada Tester"));

    assert!(press(&mut app, 'e').is_empty());
    assert!(matches!(app.modal(), Some(Modal::Outcome(_))));
    press(&mut app, 'b');
    let save = app.on_key(KeyEvent::from(KeyCode::Enter));
    assert!(
        matches!(&save[..], [Request::EndCall(e)] if e.disposition == "busy"),
        "{save:?}"
    );

    let requests = app.on_reply(Reply::CallEnded(EndedCall {
        call_id: call.call_id,
        lead_id: ada.id,
        disposition: "busy".into(),
        duration_s: 0,
        new_status: LeadStatus::Contacted,
        next_call_at: None,
        added_to_dnc: false,
        callback_id: None,
    }));
    assert!(requests.contains(&Request::ActiveCalls));
    assert!(requests.contains(&Request::Detail { lead_id: ada.id }));
    assert_eq!(*app.agent_state(), AgentState::Ready);
    assert!(app.call().is_none());
}

#[test]
fn a_failed_outcome_is_kept_and_sent_again_with_the_next_poll() {
    let mut app = app();
    let ada = lead("Ada");
    claimed(&mut app, &ada);
    started(&mut app, &ada);
    press(&mut app, 'e');
    press(&mut app, 'b');
    let save = app.on_key(KeyEvent::from(KeyCode::Enter)).remove(0);
    app.on_reply(Reply::Failed {
        what: "saving the outcome",
        message: "connection refused".into(),
        request: Box::new(save.clone()),
    });
    assert!(!app.online());
    assert_eq!(app.pending(), std::slice::from_ref(&save));
    let retried = app.on_reply(Reply::Changes(Vec::new()));
    assert_eq!(retried, vec![save]);
    assert!(app.online());
    assert_eq!(app.status().text(), "database connection is back");
}

#[test]
fn a_kept_outcome_goes_again_with_whatever_answers_first() {
    let mut app = app();
    let ada = lead("Ada");
    claimed(&mut app, &ada);
    started(&mut app, &ada);
    press(&mut app, 'e');
    press(&mut app, 'b');
    let save = app.on_key(KeyEvent::from(KeyCode::Enter)).remove(0);
    app.on_reply(Reply::Failed {
        what: "saving the outcome",
        message: format!("the session ended: {}", crate::store::remote::LOG_IN_AGAIN),
        request: Box::new(save.clone()),
    });
    assert_eq!(app.pending(), std::slice::from_ref(&save));
    // The first answer after a new login is a list refresh, not a poll or a heartbeat.
    let retried = app.on_reply(Reply::ActiveCalls(Vec::new()));
    assert_eq!(retried, vec![save.clone()]);
    assert!(app.pending().is_empty());
    // A refusal is an answer too; a write refused again is not kept twice.
    app.on_reply(Reply::Failed {
        what: "saving the outcome",
        message: "connection refused".into(),
        request: Box::new(save.clone()),
    });
    let retried = app.on_reply(Reply::Rejected {
        what: "adding a contact",
        message: "bad number".into(),
        request: Box::new(Request::ActiveCalls),
    });
    assert_eq!(retried, vec![save]);
}

#[test]
fn a_rejected_outcome_reopens_the_form() {
    let mut app = app();
    let ada = lead("Ada");
    claimed(&mut app, &ada);
    started(&mut app, &ada);
    press(&mut app, 'e');
    press(&mut app, 'b');
    let save = app.on_key(KeyEvent::from(KeyCode::Enter)).remove(0);
    app.on_reply(Reply::Rejected {
        what: "saving the outcome",
        message: "unknown disposition".into(),
        request: Box::new(save),
    });
    match app.modal() {
        Some(Modal::Outcome(form)) => assert_eq!(form.error.as_deref(), Some("unknown disposition")),
        other => panic!("{other:?}"),
    }
    assert_eq!(*app.agent_state(), AgentState::WrapUp);
}

#[test]
fn live_changes_reload_only_what_they_touch() {
    let mut app = app();
    let ada = lead("Ada");
    claimed(&mut app, &ada);
    app.on_reply(Reply::Queue { seq: 2, leads: vec![] });
    let change = |kind: &str, lead_id| Change {
        id: 1,
        tx: 1,
        kind: kind.into(),
        lead_id,
        op: "update".into(),
        at: Utc::now(),
    };
    let requests = app.on_reply(Reply::Changes(vec![change("lead", Uuid::now_v7())]));
    assert!(!requests.contains(&Request::ActiveCalls));
    assert!(!requests.contains(&Request::Detail { lead_id: ada.id }));
    let requests = app.on_reply(Reply::Changes(vec![change("active_call", ada.id)]));
    assert!(requests.contains(&Request::ActiveCalls));
    assert!(requests.contains(&Request::Detail { lead_id: ada.id }));
}

#[test]
fn only_supervisors_see_the_floor() {
    let mut app = app();
    assert!(press(&mut app, 'F').is_empty());
    assert!(!app.is_supervising());
    assert_eq!(app.status().text(), "the floor view is for supervisors");

    let now = app.now();
    let mut sam = App::new(
        agent(Role::Supervisor),
        String::new(),
        "US".into(),
        Keymap::default(),
        now,
    )
    .supervising(true, FloorLimits::default());
    assert!(sam.start().iter().any(|r| matches!(r, Request::Floor { .. })));
    assert!(matches!(&press(&mut sam, 'w')[..], [Request::Floor { .. }]));
    assert_eq!(sam.floor_view().range().label(now), "7 days to today");
}

fn copy_checkout() -> crate::store::offline::Checkout {
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).single().expect("a time");
    crate::store::offline::Checkout {
        id: Uuid::nil(),
        agent_id: 1,
        created_by: Some(1),
        created_at: now,
        expires_at: now + chrono::Duration::hours(48),
        floor: Some("postgres://floor.example/coldcall".into()),
        closed_at: None,
        last_sync_at: None,
        last_report: None,
    }
}

#[test]
fn on_the_floor_o_takes_leads_away_in_a_copy() {
    let mut app = app();
    assert!(press(&mut app, 'O').is_empty());
    assert!(matches!(app.modal(), Some(Modal::Checkout(_))));
    // A bad number is named, and nothing is sent.
    app.on_key(KeyEvent::from(KeyCode::Backspace));
    app.on_key(KeyEvent::from(KeyCode::Backspace));
    assert!(app.on_key(KeyEvent::from(KeyCode::Enter)).is_empty());
    let Some(Modal::Checkout(form)) = app.modal() else {
        panic!("the form stays open")
    };
    assert_eq!(form.leads.error.as_deref(), Some("a number from 1 to 2000"));
    press(&mut app, '2');
    press(&mut app, '0');
    let sent = app.on_key(KeyEvent::from(KeyCode::Enter));
    match sent.as_slice() {
        [Request::Checkout {
            agent_id,
            leads,
            hours,
            file,
        }] => {
            assert_eq!((*agent_id, *leads, *hours), (app.agent().id, 20, 72));
            assert!(file.to_string_lossy().starts_with("offline-"), "{file:?}");
        }
        other => panic!("expected a checkout, got {other:?}"),
    }
}

#[test]
fn on_a_copy_o_syncs_over_the_link_this_machine_has_or_says_how_to_get_one() {
    let mut app = app();
    app.on_reply(Reply::OfflineCopy(Some(Box::new(copy_checkout()))));
    assert!(press(&mut app, 'O').is_empty());
    assert!(
        app.status().text().contains("coldcall login"),
        "{}",
        app.status().text()
    );
    let link = crate::offline_link::FloorLink::Database("/srv/floor.db".into());
    app.set_floor_link(Some(link.clone()));
    assert_eq!(press(&mut app, 'O'), vec![Request::SyncOffline { link }]);
    assert!(app.status().text().contains("syncing with /srv/floor.db"));
    let report = crate::store::offline::SyncReport {
        calls_uploaded: 3,
        status_changes_applied: 2,
        leads_released: 1,
        ..Default::default()
    };
    let requests = app.on_reply(Reply::Synced(Box::new(crate::offline_link::Synced {
        report,
        leads_added: None,
    })));
    assert_eq!(
        app.status().text(),
        "synced: 3 calls and 2 status changes sent, 1 lead given back; no conflicts"
    );
    assert!(
        requests.contains(&Request::OfflineCopy),
        "the header is read again: {requests:?}"
    );
}

#[test]
fn a_started_call_asks_for_its_script_which_scrolls_in_the_lead_pane() {
    let mut app = app();
    let ada = lead("Ada");
    claimed(&mut app, &ada);
    press(&mut app, 'c');
    let requests = app.on_reply(Reply::CallStarted(StartedCall {
        call_id: Uuid::now_v7(),
        lead_id: ada.id,
        agent_id: 7,
        phone_number: ada.phone.clone(),
        started_at: app.now(),
    }));
    assert!(
        requests.contains(&Request::Script {
            lead_id: ada.id,
            agent: app.agent().name.clone()
        }),
        "{requests:?}"
    );
    app.on_reply(Reply::Script {
        lead_id: ada.id,
        script: Some(crate::store::ScriptForCall {
            name: "default".into(),
            text: "one\ntwo\nthree".into(),
        }),
    });
    let detail = app.lead.detail().unwrap();
    assert_eq!(detail.script.as_ref().map(|s| s.name.as_str()), Some("default"));
    assert_eq!(
        detail.tab,
        DetailTab::Info,
        "the tab in front stays; a tall screen shows it beside"
    );
    while app.focus() != Pane::Detail {
        app.on_key(KeyEvent::from(KeyCode::Tab));
    }
    app.on_key(KeyEvent::from(KeyCode::Down));
    app.on_key(KeyEvent::from(KeyCode::Down));
    app.on_key(KeyEvent::from(KeyCode::Down));
    assert_eq!(
        app.lead.detail().unwrap().script_scroll,
        2,
        "scrolls to the last line, no further"
    );
}

/// A contact number is read back as the lead's own number reads, and the lead reloads to show it.
#[test]
fn an_added_contact_number_is_read_back_grouped() {
    let mut app = app();
    let ada = lead("Ada");
    claimed(&mut app, &ada);
    let requests = app.on_reply(Reply::ContactAdded(crate::store::Contact {
        id: Uuid::now_v7(),
        lead_id: ada.id,
        kind: crate::domain::ContactKind::Phone,
        value: "+442079460958".into(),
        label: Some("office".into()),
        is_primary: false,
        is_verified: false,
        created_at: app.now(),
    }));
    assert_eq!(app.status().text(), "contact added: +44 20 7946 0958");
    assert_eq!(requests, vec![Request::Detail { lead_id: ada.id }]);
}

#[test]
fn a_burst_of_changes_re_reads_once_at_once_and_once_when_the_gap_ends() {
    let mut app = app();
    let shown = lead("Ada");
    let seq_of = |requests: &[Request]| {
        requests
            .iter()
            .find_map(|r| match r {
                Request::Queue { seq, .. } => Some(*seq),
                _ => None,
            })
            .expect("a queue read")
    };
    let tab = app.lists.reload();
    app.on_reply(Reply::Queue {
        seq: seq_of(&tab),
        leads: vec![shown.clone()],
    });
    let change = |kind: &str, lead_id| Change {
        id: 1,
        tx: 1,
        kind: kind.into(),
        lead_id,
        op: "update".into(),
        at: Utc::now(),
    };
    let queue_reads = |requests: &[Request]| requests.iter().filter(|r| matches!(r, Request::Queue { .. })).count();
    let calls_reads = |requests: &[Request]| requests.iter().filter(|r| **r == Request::ActiveCalls).count();

    let first = app.on_reply(Reply::Changes(vec![change("active_call", shown.id)]));
    assert_eq!((queue_reads(&first), calls_reads(&first)), (1, 1), "{first:?}");
    app.on_reply(Reply::Queue {
        seq: seq_of(&first),
        leads: vec![shown.clone()],
    });
    for _ in 0..20 {
        let inside = app.on_reply(Reply::Changes(vec![change("active_call", shown.id)]));
        assert_eq!((queue_reads(&inside), calls_reads(&inside)), (0, 0), "{inside:?}");
    }
    let now = app.now();
    let still_inside = app.tick(now + chrono::Duration::seconds(1));
    assert_eq!(calls_reads(&still_inside), 0, "{still_inside:?}");
    let calls_gap_over = app.tick(now + super::live::CALLS_GAP);
    assert_eq!(
        (queue_reads(&calls_gap_over), calls_reads(&calls_gap_over)),
        (0, 1),
        "the twenty changes inside the gap are read once: {calls_gap_over:?}"
    );
    let gap_over = app.tick(now + super::live::LIST_GAP);
    assert_eq!(
        (queue_reads(&gap_over), calls_reads(&gap_over)),
        (1, 0),
        "and the list once at the end of its own gap: {gap_over:?}"
    );
    app.on_reply(Reply::Queue {
        seq: seq_of(&gap_over),
        leads: vec![shown.clone()],
    });
    let later = app.tick(now + super::live::LIST_GAP + chrono::Duration::seconds(5));
    assert_eq!((queue_reads(&later), calls_reads(&later)), (0, 0), "{later:?}");

    // A lead the list does not show: the list stays as it is.
    let elsewhere = app.on_reply(Reply::Changes(vec![change("assignment", Uuid::now_v7())]));
    assert_eq!(queue_reads(&elsewhere), 0, "{elsewhere:?}");
}

#[test]
fn a_released_lock_leaves_the_pane_at_once_even_inside_the_gap() {
    let mut app = app();
    let ada = lead("Ada");
    let call = crate::store::ActiveCall {
        lead_id: ada.id,
        call_id: Uuid::now_v7(),
        agent_id: 3,
        agent_name: "bob".into(),
        lead_name: "Ada Tester".into(),
        company: "Acme".into(),
        phone_number: ada.phone.clone(),
        started_at: app.now(),
        heartbeat_at: app.now(),
    };
    let change = |op: &str| Change {
        id: 1,
        tx: 1,
        kind: "active_call".into(),
        lead_id: ada.id,
        op: op.into(),
        at: Utc::now(),
    };
    let taken = app.on_reply(Reply::Changes(vec![change("insert")]));
    assert!(taken.contains(&Request::ActiveCalls));
    app.on_reply(Reply::ActiveCalls(vec![call]));
    assert!(app.active_calls().on_lead(ada.id).is_some());

    let released = app.on_reply(Reply::Changes(vec![change("delete")]));
    assert!(
        !released.contains(&Request::ActiveCalls),
        "inside the gap: {released:?}"
    );
    assert!(
        app.active_calls().on_lead(ada.id).is_none(),
        "the release shows at once"
    );
}
