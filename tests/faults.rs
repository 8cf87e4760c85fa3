//! A bad network between a console and PostgreSQL, made by a real TCP proxy in the test
//! (`common::proxy`): connections cut, stalled half-open, delayed; outages shorter and longer than
//! the lock TTL. Nothing typed is lost, no call is recorded twice, and no wait outlasts its bound.

mod common;

use std::time::{Duration, Instant};

use coldcall::store::{ConnectOptions, EndCall, StartCall, Store};
use coldcall::tui::request::{Reply, Request, ANSWER_BOUND};
use common::proxy::{Fault, FaultProxy};
use common::*;

/// A second store on the test database that reaches it through a proxy, on the same clock.
async fn through_proxy(db: &TestDb) -> (Store, FaultProxy) {
    let proxy = FaultProxy::start("127.0.0.1:5432".into()).await;
    let options = ConnectOptions {
        max_connections: 4,
        acquire_timeout: Duration::from_secs(3),
        ..ConnectOptions::default()
    };
    let store = Store::connect(&proxy.url_for(&db.url), &options)
        .await
        .expect("connect through the proxy")
        .with_clock(db.store.clock().clone());
    (store, proxy)
}

fn outcome(call_id: uuid::Uuid, agent_id: i64) -> EndCall {
    EndCall {
        call_id,
        agent_id,
        disposition: "interested".into(),
        notes: Some("typed while the line was down".into()),
        ..EndCall::default()
    }
}

async fn calls_with_outcome(store: &Store, lead_id: uuid::Uuid) -> usize {
    let history = store.call_history(lead_id).await.unwrap();
    history.iter().filter(|c| c.disposition.is_some()).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_outcome_sent_while_the_connection_is_cut_is_kept_and_recorded_once() {
    let db = postgres().await;
    let (console, proxy) = through_proxy(&db).await;
    let ann = agent(&db.store, "ann").await;
    let lead = lead(&db.store, 1).await;
    let call = console
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();

    proxy.set(Fault::Cut);
    let began = Instant::now();
    let reply = Request::EndCall(outcome(call.call_id, ann.id)).run(&console).await;
    assert!(matches!(reply, Reply::Failed { .. }), "{reply:?}");
    assert!(
        began.elapsed() < ANSWER_BOUND + Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );

    proxy.set(Fault::None);
    let Reply::Failed { request, .. } = reply else {
        unreachable!()
    };
    // The console sends the kept write again; twice, as a console unsure of the first might.
    for _ in 0..2 {
        let again = request.as_ref().clone().run(&console).await;
        assert!(
            !matches!(again, Reply::Failed { .. } | Reply::Rejected { .. }),
            "{again:?}"
        );
    }
    assert_eq!(calls_with_outcome(&db.store, lead.id).await, 1);
    let log = db.store.call(call.call_id).await.unwrap().unwrap();
    assert_eq!(log.notes.as_deref(), Some("typed while the line was down"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_outage_longer_than_the_ttl_still_saves_the_outcome_typed_meanwhile() {
    let db = postgres().await;
    let (console, proxy) = through_proxy(&db).await;
    let ann = agent(&db.store, "ann").await;
    let bob = agent(&db.store, "bob").await;
    let lead = lead(&db.store, 1).await;
    let call = console
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    proxy.set(Fault::Cut);
    // Two minutes without a heartbeat: bob's console reaps ann's lock as abandoned.
    db.store.clock().advance(chrono::Duration::minutes(2));
    assert!(!console.heartbeat(call.call_id, ann.id).await.unwrap_or(false));
    assert_eq!(db.store.reap_stale_locks(Some(bob.id)).await.unwrap().len(), 1);

    proxy.set(Fault::None);
    let ended = console.end_call(&outcome(call.call_id, ann.id)).await.unwrap();
    assert_eq!(ended.disposition, "interested");
    assert_eq!(calls_with_outcome(&db.store, lead.id).await, 1);
    assert_eq!(db.store.lead(lead.id).await.unwrap().unwrap().call_attempts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_half_open_connection_never_holds_the_console_past_its_bound() {
    let db = postgres().await;
    let (console, proxy) = through_proxy(&db).await;
    let ann = agent(&db.store, "ann").await;
    let lead = lead(&db.store, 1).await;
    let call = console
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();

    proxy.set(Fault::Stall);
    let began = Instant::now();
    let reply = Request::EndCall(outcome(call.call_id, ann.id)).run(&console).await;
    let waited = began.elapsed();
    assert!(matches!(reply, Reply::Failed { .. }), "{reply:?}");
    // Bounded twice over: the pool's ping before it hands out a connection gives up after its
    // acquire timeout, and any answer still missing after ANSWER_BOUND is given up on.
    assert!(waited < ANSWER_BOUND + Duration::from_secs(2), "{waited:?}");

    // The line comes back: the stalled write goes through and the kept one is answered from it.
    proxy.set(Fault::None);
    let Reply::Failed { request, .. } = reply else {
        unreachable!()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let again = request.as_ref().clone().run(&console).await;
        if !matches!(again, Reply::Failed { .. }) {
            assert!(!matches!(again, Reply::Rejected { .. }), "{again:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the console never got its answer");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(calls_with_outcome(&db.store, lead.id).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_line_delays_but_loses_and_doubles_nothing() {
    let db = postgres().await;
    let (console, proxy) = through_proxy(&db).await;
    let ann = agent(&db.store, "ann").await;
    db.store.set_setting("min_gap_seconds", "0").await.unwrap();
    proxy.set(Fault::Delay(Duration::from_millis(40)));
    let lead = lead(&db.store, 1).await;
    for _ in 0..3 {
        let call = console
            .start_call(&StartCall {
                lead_id: lead.id,
                agent_id: ann.id,
                from_number: None,
            })
            .await
            .unwrap();
        console.end_call(&outcome(call.call_id, ann.id)).await.unwrap();
    }
    assert_eq!(calls_with_outcome(&db.store, lead.id).await, 3);
    assert!(db.store.active_calls().await.unwrap().is_empty());
}
