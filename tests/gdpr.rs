//! A person's data on request, on both backends: the export holds everything about them; the
//! erasure leaves nothing personal anywhere (rows, search, audit), keeps the floor's figures
//! and the do-not-call list, is recorded, can be repeated, and waits for a call to end.

mod common;
mod floor;

use chrono::Duration;
use coldcall::store::{LeadFilter, Store, StoreError};
use common::*;

/// Zoë also gets an assignment (audited) and her mobile on the do-not-call list.
async fn prepare(store: &Store) -> floor::Floor {
    let floor = floor::populate(store, 3).await;
    store
        .assign(floor.zoe.id, floor.ann.id, Some(floor.sam.id), None)
        .await
        .unwrap();
    store
        .dnc_add("+14155550123", Some("asked by text message"), Some(floor.sam.id))
        .await
        .unwrap();
    floor
}

async fn the_export_holds_everything_about_the_person(store: &Store) {
    let floor = prepare(store).await;
    let data = store.gdpr_export(floor.zoe.id, floor.sam.id).await.unwrap();
    assert_eq!(data.lead.first_name, "Zoë");
    assert_eq!(data.contacts.len(), 2);
    assert_eq!(data.calls.len(), 1);
    assert_eq!(
        data.calls[0].notes.as_deref(),
        Some("wants a demo; mentioned her daughter Mia")
    );
    assert_eq!(data.status_history.len(), 2, "created, then qualified by the call");
    assert_eq!(data.assignments.len(), 1);
    assert!(data.audit.iter().any(|a| a.action == "assign" && a.entity == "lead"));
    assert!(data
        .audit
        .iter()
        .any(|a| a.action == "dnc_add" && a.entity_id == "+14155550123"));
    assert_eq!(data.do_not_call.len(), 1);
    assert_eq!(data.do_not_call[0].number, "+14155550123");
    let text = serde_json::to_string(&data).unwrap();
    assert!(text.contains("zoe.private@example.org"));

    // callbacks: the recycled lead has one from its outcome
    let recycled = &floor.leads[1];
    let data = store.gdpr_export(recycled.id, floor.sam.id).await.unwrap();
    assert_eq!(data.callbacks.len(), 1);
    assert_eq!(data.calls.len(), 2);

    // the export itself is on record, and only supervisors may make one
    let again = store.gdpr_export(floor.zoe.id, floor.sam.id).await.unwrap();
    assert!(again
        .audit
        .iter()
        .any(|a| a.action == "gdpr_export" && a.agent_id == Some(floor.sam.id)));
    let err = store.gdpr_export(floor.zoe.id, floor.ann.id).await.unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
    let err = store.gdpr_export(uuid::Uuid::now_v7(), floor.sam.id).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
}

async fn erasure_leaves_nothing_personal_and_keeps_the_figures(store: &Store) {
    let floor = prepare(store).await;
    let day = store.now() - Duration::hours(12);
    let figures = store.floor_figures(day, day + Duration::days(1)).await.unwrap();
    let calls_before = store.call_history(floor.zoe.id).await.unwrap();
    let history_before = store.status_history(floor.zoe.id).await.unwrap();
    let cursor = store.feed_head().await.unwrap();
    let before = store.lead(floor.zoe.id).await.unwrap().unwrap();

    let erased = store
        .gdpr_erase(floor.zoe.id, floor.sam.id, "request by email of 2026-11-20")
        .await
        .unwrap();
    assert!(!erased.already_erased);
    assert_eq!(erased.contacts_removed, 2);
    assert_eq!(erased.calls_anonymised, 1);
    assert_eq!(erased.kept_on_dnc_list, vec!["+14155550123".to_string()]);

    let lead = store.lead(floor.zoe.id).await.unwrap().unwrap();
    assert_eq!(
        (lead.first_name.as_str(), lead.last_name.as_str()),
        ("[erased]", "[erased]")
    );
    assert_eq!(lead.company, "[erased]");
    assert_eq!(
        (lead.email.as_ref(), lead.title.as_ref(), lead.notes.as_ref()),
        (None, None, None)
    );
    assert!(lead.phone.starts_with("+999"), "{}", lead.phone);
    assert!(lead.deleted_at.is_some() && lead.do_not_call);
    assert_eq!(
        (lead.status, lead.call_attempts, lead.lead_score),
        (before.status, before.call_attempts, before.lead_score),
        "what statistics count stays"
    );
    assert!(store.contacts(floor.zoe.id).await.unwrap().is_empty());

    let calls = store.call_history(floor.zoe.id).await.unwrap();
    assert_eq!(calls.len(), calls_before.len());
    assert_eq!(calls[0].duration_s, calls_before[0].duration_s);
    assert_eq!(calls[0].disposition, calls_before[0].disposition);
    assert_eq!(calls[0].agent_id, calls_before[0].agent_id);
    assert_eq!((calls[0].notes.as_ref(), calls[0].recording_url.as_ref()), (None, None));
    let history = store.status_history(floor.zoe.id).await.unwrap();
    assert_eq!(history.len(), history_before.len());
    assert!(history.iter().all(|h| h.reason.is_none()));
    assert_eq!(
        store.floor_figures(day, day + Duration::days(1)).await.unwrap().agents,
        figures.agents,
        "the floor's figures are unchanged"
    );

    // nothing of her is found by search any more, deleted or not
    store.restore_lead(floor.zoe.id, Some(floor.sam.id)).await.unwrap();
    for text in ["zoë", "neil", "zoe.private", "2125550001", "daughter"] {
        let found = store.search_leads(text, &LeadFilter::default(), 10).await.unwrap();
        assert!(found.iter().all(|l| l.id != floor.zoe.id), "'{text}' still finds her");
    }

    // her wish not to be called stays; the erasure is on record, without her data
    assert!(store.dnc_check("+14155550123").await.unwrap().is_some());
    let data = store.gdpr_export(floor.zoe.id, floor.sam.id).await.unwrap();
    let text = serde_json::to_string(&data).unwrap();
    for personal in ["Zoë", "Neil", "zoe.private", "Mia", "rec.example.com", "+12125550001"] {
        assert!(!text.contains(personal), "'{personal}' survived the erasure: {text}");
    }
    let record: Vec<_> = data.audit.iter().filter(|a| a.action == "gdpr_erase").collect();
    assert_eq!(record.len(), 1);
    assert_eq!(record[0].agent_id, Some(floor.sam.id));
    assert_eq!(
        record[0].new_value,
        Some(serde_json::json!({ "reason": "request by email of 2026-11-20" }))
    );

    // consoles hear of it through the feed
    let changes = store.changes_since(cursor, 100).await.unwrap();
    assert!(changes.iter().any(|c| c.lead_id == floor.zoe.id));

    // once more: nothing left to do, nothing recorded twice
    let again = store.gdpr_erase(floor.zoe.id, floor.sam.id, "repeat").await.unwrap();
    assert!(again.already_erased);
    assert_eq!(
        (
            again.contacts_removed,
            again.calls_anonymised,
            again.status_changes_anonymised
        ),
        (0, 0, 0)
    );
    let data = store.gdpr_export(floor.zoe.id, floor.sam.id).await.unwrap();
    assert_eq!(data.audit.iter().filter(|a| a.action == "gdpr_erase").count(), 1);
}

async fn a_number_on_the_dnc_list_stays_after_erasure(store: &Store) {
    let floor = prepare(store).await;
    let erased = store
        .gdpr_erase(floor.refused.id, floor.sam.id, "asked to be forgotten")
        .await
        .unwrap();
    assert_eq!(erased.kept_on_dnc_list, vec![floor.refused.phone.clone()]);
    assert!(store.dnc_check(&floor.refused.phone).await.unwrap().is_some());
    // a new lead with that number (a later import) is still refused
    let again = lead(store, 3).await;
    assert_eq!(again.phone, floor.refused.phone);
    let verdict = store.can_call(again.id, floor.ann.id).await.unwrap();
    assert!(verdict.is_err(), "the number is still do-not-call");
}

async fn erasure_waits_for_the_call_and_a_supervisor(store: &Store) {
    let floor = prepare(store).await;
    let err = store
        .gdpr_erase(floor.on_call.id, floor.sam.id, "request")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("on a call")),
        "{err}"
    );
    assert_eq!(
        store.lead(floor.on_call.id).await.unwrap().unwrap().first_name,
        floor.on_call.first_name
    );
    let err = store
        .gdpr_erase(floor.zoe.id, floor.ann.id, "request")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
    let err = store.gdpr_erase(floor.zoe.id, floor.sam.id, "  ").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::BadInput(m) if m.contains("--reason")),
        "{err}"
    );
    assert_eq!(store.lead(floor.zoe.id).await.unwrap().unwrap().first_name, "Zoë");
}

on_both_backends!(
    the_export_holds_everything_about_the_person,
    erasure_leaves_nothing_personal_and_keeps_the_figures,
    a_number_on_the_dnc_list_stays_after_erasure,
    erasure_waits_for_the_call_and_a_supervisor,
);
