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
