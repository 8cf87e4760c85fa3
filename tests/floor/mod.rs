//! A small working floor with a row in every table a backup holds: leads with awkward text and
//! contact points, calls with outcomes (one still on), status changes with reasons, assignments,
//! callbacks, do-not-call numbers, audit entries, changed settings, a deleted lead.
#![allow(dead_code)]

use chrono::Duration;
use coldcall::domain::{ContactKind, LeadStatus};
use coldcall::store::{Agent, EndCall, Lead, NewContact, StartCall, Store};

use super::common::{agent, lead, lead_with, supervisor};

pub struct Floor {
    pub ann: Agent,
    pub sam: Agent,
    /// Zoë: awkward text, two contact points, an interested call with notes and a recording.
    pub zoe: Lead,
    /// Asked not to be called: on the DNC list through a call outcome.
    pub refused: Lead,
    /// On a call that is still going.
    pub on_call: Lead,
    pub leads: Vec<Lead>,
}

async fn call(store: &Store, lead: &Lead, agent: &Agent, outcome: &str, change: impl FnOnce(&mut EndCall)) {
    let started = store
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: agent.id,
            from_number: Some("+12125559999".into()),
        })
        .await
        .expect("start call");
    store.clock().advance(Duration::seconds(95));
    let mut end = EndCall {
        call_id: started.call_id,
        agent_id: agent.id,
        disposition: outcome.into(),
        ..EndCall::default()
    };
    change(&mut end);
    store.end_call(&end).await.expect("end call");
    store.clock().advance(Duration::minutes(10));
}

pub async fn populate(store: &Store, extra_leads: u32) -> Floor {
    let ann = agent(store, "ann").await;
    let sam = supervisor(store, "sam").await;
    store.set_setting("max_attempts", "8").await.unwrap();

    let zoe = lead_with(store, 1, |l| {
        l.first_name = "Zoë".into();
        l.last_name = "O'Neil \"Q\"".into();
        l.notes = "likes\nnewlines, ünïcode and 表".into();
        l.conversion_probability = "0.35".into();
        l.lead_score = "77".into();
        l.priority = "high".into();
        l.consent_given = "yes".into();
    })
    .await;
    let phone = NewContact {
        kind: ContactKind::Phone,
        value: "+14155550123".into(),
        label: Some("mobile".into()),
        is_primary: true,
        is_verified: false,
    };
    store.add_contact(zoe.id, &phone, "US").await.unwrap();
    let email = NewContact {
        kind: ContactKind::Email,
        value: "zoe.private@example.org".into(),
        label: None,
        is_primary: false,
        is_verified: true,
    };
    store.add_contact(zoe.id, &email, "US").await.unwrap();
    call(store, &zoe, &ann, "interested", |e| {
        e.notes = Some("wants a demo; mentioned her daughter Mia".into());
        e.recording_url = Some("https://rec.example.com/calls/1".into());
        e.duration_s = Some(95);
    })
    .await;

    let recycled = lead(store, 2).await;
    call(store, &recycled, &ann, "no_answer", |_| {}).await;
    store.clock().advance(Duration::minutes(40));
    let due = store.now() + Duration::days(1);
    call(store, &recycled, &ann, "callback", |e| {
        e.callback_at = Some(due);
        e.notes = Some("call back after lunch".into());
    })
    .await;

    let refused = lead(store, 3).await;
    call(store, &refused, &ann, "do_not_call", |e| e.notes = Some("angry".into())).await;

    let nurtured = lead(store, 4).await;
    store
        .set_status(
            nurtured.id,
            LeadStatus::Nurturing,
            Some("asked for news in spring"),
            Some(sam.id),
        )
        .await
        .unwrap();
    store
        .assign(
            nurtured.id,
            ann.id,
            Some(sam.id),
            Some(store.now() + Duration::hours(2)),
        )
        .await
        .unwrap();
    store
        .schedule_callback(
            nurtured.id,
            ann.id,
            store.now() + Duration::hours(3),
            Some("spring pricing"),
        )
        .await
        .unwrap();

    let gone = lead(store, 5).await;
    store.delete_lead(gone.id, Some(sam.id)).await.unwrap();
    store
        .dnc_add("+12125550777", Some("complaint by letter"), Some(sam.id))
        .await
        .unwrap();

    // a call a supervisor released (audit entry with a reason), and one still on
    let stuck = lead(store, 6).await;
    let started = store
        .start_call(&StartCall {
            lead_id: stuck.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    store
        .force_release(started.call_id, sam.id, "headset died")
        .await
        .unwrap();
    store.clock().advance(Duration::minutes(10));
    let on_call = lead(store, 7).await;
    store
        .start_call(&StartCall {
            lead_id: on_call.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();

    let mut leads = vec![
        zoe.clone(),
        recycled,
        refused.clone(),
        nurtured,
        gone,
        stuck,
        on_call.clone(),
    ];
    for n in 0..extra_leads {
        leads.push(lead(store, 100 + n).await);
    }
    Floor {
        ann,
        sam,
        zoe,
        refused,
        on_call,
        leads,
    }
}
