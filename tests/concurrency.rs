//! Races with real concurrency, on a real SQLite file and a real PostgreSQL database: many tasks
//! on their own pool connections doing the same thing at the same moment.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Duration;
use coldcall::domain::Refusal;
use coldcall::store::{EndCall, StartCall, Store, StoreError};
use common::*;
use tokio::sync::Barrier;

on_both_backends!(
    threads = 4;
    thirty_two_starts_on_one_lead_give_one_call,
    sixteen_agents_claim_every_lead_exactly_once,
    racing_starts_after_a_call_still_respect_the_gap,
);

async fn thirty_two_starts_on_one_lead_give_one_call(store: &Store) {
    let lead = lead(store, 1).await;
    let mut agents = Vec::new();
    for n in 0..32 {
        agents.push(agent(store, &format!("agent{n}")).await);
    }
    let barrier = Arc::new(Barrier::new(agents.len()));
    let tasks: Vec<_> = agents
        .iter()
        .map(|a| {
            let (store, barrier, agent_id) = (store.clone(), barrier.clone(), a.id);
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .start_call(&StartCall {
                        lead_id: lead.id,
                        agent_id,
                        from_number: None,
                    })
                    .await
            })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => wins += 1,
            Err(StoreError::Refused(Refusal::OnAnotherCall { .. })) => {}
            Err(other) => panic!("a losing start must say 'on another call', got {other:?}"),
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(store.active_calls().await.unwrap().len(), 1);
    assert_eq!(
        store.call_history(lead.id).await.unwrap().len(),
        1,
        "losers leave no call log behind"
    );
}

async fn sixteen_agents_claim_every_lead_exactly_once(store: &Store) {
    const LEADS: u32 = 2_000;
    for n in 0..LEADS {
        lead(store, n).await;
    }
    let mut agents = Vec::new();
    for n in 0..16 {
        agents.push(agent(store, &format!("agent{n}")).await);
    }
    let barrier = Arc::new(Barrier::new(agents.len()));
    // Each agent works its claims like a person would: claim, call, record a final outcome.
    let tasks: Vec<_> = agents
        .iter()
        .map(|a| {
            let (store, barrier, agent_id) = (store.clone(), barrier.clone(), a.id);
            tokio::spawn(async move {
                barrier.wait().await;
                let mut claimed = Vec::new();
                while let Some(claim) = store.claim_next(agent_id).await.expect("claim") {
                    claimed.push(claim.lead.id);
                    let call = store
                        .start_call(&StartCall {
                            lead_id: claim.lead.id,
                            agent_id,
                            from_number: None,
                        })
                        .await
                        .expect("a claimed lead can be called by its agent");
                    store
                        .end_call(&EndCall {
                            call_id: call.call_id,
                            agent_id,
                            disposition: "not_interested".into(),
                            ..EndCall::default()
                        })
                        .await
                        .expect("end call");
                }
                claimed
            })
        })
        .collect();
    let mut times_claimed: HashMap<uuid::Uuid, u32> = HashMap::new();
    let mut per_agent = Vec::new();
    for task in tasks {
        let claimed = task.await.unwrap();
        per_agent.push(claimed.len());
        for id in claimed {
            *times_claimed.entry(id).or_default() += 1;
        }
    }
    assert_eq!(times_claimed.len(), LEADS as usize, "no lead lost");
    assert!(times_claimed.values().all(|&n| n == 1), "no lead claimed twice");
    assert!(
        per_agent.iter().filter(|&&n| n > 0).count() > 1,
        "work was shared: {per_agent:?}"
    );
}

async fn racing_starts_after_a_call_still_respect_the_gap(store: &Store) {
    let lead = lead(store, 1).await;
    let ann = agent(store, "ann").await;
    let bob = agent(store, "bob").await;
    let call = store
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    store.clock().advance(Duration::seconds(40));
    store
        .end_call(&EndCall {
            call_id: call.call_id,
            agent_id: ann.id,
            disposition: "busy".into(),
            ..EndCall::default()
        })
        .await
        .unwrap();

    let race = |store: &Store| {
        let barrier = Arc::new(Barrier::new(8));
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let (store, barrier) = (store.clone(), barrier.clone());
                let agent_id = if i % 2 == 0 { ann.id } else { bob.id };
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .start_call(&StartCall {
                            lead_id: lead.id,
                            agent_id,
                            from_number: None,
                        })
                        .await
                })
            })
            .collect();
        async move {
            let mut results = Vec::new();
            for t in tasks {
                results.push(t.await.unwrap());
            }
            results
        }
    };

    // just after the call: the gap holds for everyone
    let results = race(store).await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(StoreError::Refused(Refusal::TooSoon { .. })))),
        "every start inside the gap is refused: {results:?}"
    );
    // once the gap has passed exactly one start wins
    store.clock().advance(Duration::minutes(5));
    let results = race(store).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert!(results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .all(|e| matches!(e, StoreError::Refused(Refusal::OnAnotherCall { .. }))));
}
