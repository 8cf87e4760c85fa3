//! One story per behaviour of the store, run unchanged against a real SQLite file and a real
//! PostgreSQL database (a fresh one per test).

mod common;

use chrono::{Duration, TimeZone, Utc};
use coldcall::domain::{CallStatus, ContactKind, LeadStatus, Priority, Refusal};
use coldcall::store::{
    CallProgress, ClaimSource, EndCall, FeedCursor, LeadFilter, NewContact, StartCall, Store, StoreError,
};
use common::*;

on_both_backends!(
    the_call_progress_migration_keeps_calls_and_locks,
    migrations_go_down_and_up_again,
);

on_every_backend!(
    a_softphone_call_records_what_sip_said,
    leads_are_created_read_and_unique_by_phone_and_email,
    edits_keep_do_not_call_and_log_status_changes,
    status_changes_are_logged_with_who_and_why,
    deleted_leads_leave_lists_and_search_until_restored,
    search_is_literal_and_finds_words_inside_unspaced_text,
    lists_page_through_every_lead_once_in_order,
    list_filters_narrow_the_result,
    search_finds_words_prefixes_and_phone_fragments,
    contacts_keep_one_primary_per_kind,
    a_call_records_its_outcome_and_releases_the_lock,
    can_call_refuses_with_the_reason,
    only_the_owner_or_a_supervisor_ends_a_call,
    a_stale_lock_is_reaped_and_its_owner_is_fenced_off,
    an_outcome_typed_through_an_outage_longer_than_the_ttl_is_saved,
    retrying_an_end_call_is_harmless,
    reaping_a_crashed_call_also_frees_its_claim,
    a_supervisor_releases_a_lock_with_a_reason,
    claim_next_follows_the_queue_order_and_skips_refused_leads,
    a_callback_outcome_comes_back_first_when_due,
    an_overdue_callback_goes_to_anyone_after_the_grace_period,
    do_not_call_outcome_lists_the_number_for_good,
    assignments_reserve_a_lead_for_one_agent,
    the_change_feed_reports_what_changed,
    settings_are_validated_and_shared,
    presence_shows_each_agent_and_goes_offline_when_silent,
    floor_figures_count_calls_contacts_talk_time_and_conversions,
    duplicates_are_found_by_number_email_and_name_at_company,
    a_merge_moves_the_history_to_the_kept_lead_and_deletes_the_other,
    ids_are_found_by_an_unambiguous_prefix,
    a_callback_is_found_by_its_prefix_past_the_first_thousand_and_on_a_deleted_lead,
    a_taken_phone_or_email_names_the_lead_that_has_it,
    call_scripts_are_checked_stored_and_picked_for_each_call,
    what_was_noted_on_a_call_stays_when_its_outcome_is_saved,
);

async fn leads_are_created_read_and_unique_by_phone_and_email(store: &Store) {
    let ann = agent(store, "ann").await;
    let fields = lead_input(1).validate("US").unwrap();
    let lead = store.create_lead(&fields, Some(ann.id)).await.unwrap();
    assert_eq!(lead.phone, "+12125550001");
    assert_eq!(lead.status, LeadStatus::New);
    assert_eq!(lead.updated_by, Some(ann.id));
    assert!(lead.data_quality > 0);
    assert_eq!(store.lead(lead.id).await.unwrap(), Some(lead.clone()));

    let same_phone = lead_input(1).validate("US").map(|mut f| {
        f.email = Some("other@example.com".into());
        f
    });
    let err = store.create_lead(&same_phone.unwrap(), None).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("phone")),
        "{err:?}"
    );

    let mut same_email = lead_input(2).validate("US").unwrap();
    same_email.email = Some("lead1@example.com".into());
    let err = store.create_lead(&same_email, None).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("email")),
        "{err:?}"
    );

    // a lead without email does not collide with another without email
    lead_with(store, 3, |i| i.email.clear()).await;
    lead_with(store, 4, |i| i.email.clear()).await;
}

async fn edits_keep_do_not_call_and_log_status_changes(store: &Store) {
    let lead = lead_with(store, 1, |i| i.do_not_call = "yes".into()).await;
    let mut fields = lead.fields();
    fields.do_not_call = false;
    fields.company = "Renamed Inc".into();
    fields.status = LeadStatus::Qualified;
    let edited = store
        .update_lead(lead.id, &fields, None, Some("spoke at expo"))
        .await
        .unwrap();
    assert_eq!(edited.company, "Renamed Inc");
    assert!(edited.do_not_call, "an edit never clears do-not-call");
    let history = store.status_history(lead.id).await.unwrap();
    assert_eq!(history[0].new_status, LeadStatus::Qualified);
    assert_eq!(history[0].reason.as_deref(), Some("spoke at expo"));
}

async fn status_changes_are_logged_with_who_and_why(store: &Store) {
    let ann = agent(store, "ann").await;
    let lead = lead(store, 1).await;
    store.clock().advance(Duration::minutes(1));
    store
        .set_status(lead.id, LeadStatus::Contacted, Some("picked up"), Some(ann.id))
        .await
        .unwrap();
    store.clock().advance(Duration::minutes(1));
    store
        .set_status(lead.id, LeadStatus::Qualified, None, Some(ann.id))
        .await
        .unwrap();
    // the same status again changes nothing in the log
    store
        .set_status(lead.id, LeadStatus::Qualified, Some("again"), Some(ann.id))
        .await
        .unwrap();

    let history = store.status_history(lead.id).await.unwrap();
    let steps: Vec<_> = history.iter().map(|h| (h.old_status, h.new_status)).collect();
    assert_eq!(
        steps,
        vec![
            (Some(LeadStatus::Contacted), LeadStatus::Qualified),
            (Some(LeadStatus::New), LeadStatus::Contacted),
            (None, LeadStatus::New),
        ]
    );
    assert_eq!(history[1].changed_by_name.as_deref(), Some("ann"));
    assert_eq!(history[1].reason.as_deref(), Some("picked up"));
    assert_eq!(history[1].changed_at, office_hours() + Duration::minutes(1));
    assert_eq!(
        history[0].reason, None,
        "a change without a reason does not inherit the previous one"
    );
}

async fn deleted_leads_leave_lists_and_search_until_restored(store: &Store) {
    let keep = lead(store, 1).await;
    let gone = lead_with(store, 2, |i| i.first_name = "Zebedee".into()).await;
    store.delete_lead(gone.id, None).await.unwrap();
    let listed = store.list_leads(&LeadFilter::default(), None, 50).await.unwrap();
    assert_eq!(listed.items.iter().map(|l| l.id).collect::<Vec<_>>(), vec![keep.id]);
    assert!(store
        .search_leads("zebedee", &LeadFilter::default(), 10)
        .await
        .unwrap()
        .is_empty());
    assert!(
        store.lead(gone.id).await.unwrap().unwrap().deleted_at.is_some(),
        "history stays reachable"
    );
    let ann = agent(store, "ann").await;
    assert_eq!(
        store.can_call(gone.id, ann.id).await.unwrap(),
        Err(Refusal::LeadDeleted)
    );

    store.restore_lead(gone.id, None).await.unwrap();
    assert_eq!(
        store
            .search_leads("zebedee", &LeadFilter::default(), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn lists_page_through_every_lead_once_in_order(store: &Store) {
    for n in 0..25u32 {
        lead_with(store, n, |i| {
            i.priority = ["low", "medium", "high", "urgent"][(n % 4) as usize].into();
            i.lead_score = ((n * 7) % 50).to_string();
        })
        .await;
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_leads(&LeadFilter::default(), after, 10).await.unwrap();
        seen.extend(page.items.iter().cloned());
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    let mut ids: Vec<_> = seen.iter().map(|l| l.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 25, "no lead on two pages");
    let keys: Vec<_> = seen.iter().map(|l| (l.priority.rank(), l.lead_score, l.id)).collect();
    let mut sorted = keys.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(keys, sorted, "priority, score, then id, all descending");
    assert_eq!(seen[0].priority, Priority::Urgent);
}

async fn list_filters_narrow_the_result(store: &Store) {
    let ann = agent(store, "ann").await;
    let a = lead_with(store, 1, |i| {
        i.status = "qualified".into();
        i.lead_score = "80".into();
    })
    .await;
    let b = lead_with(store, 2, |i| i.priority = "urgent".into()).await;
    let c = lead_with(store, 3, |i| i.lead_score = "40".into()).await;
    store.assign(c.id, ann.id, None, None).await.unwrap();
    store
        .schedule_callback(b.id, ann.id, office_hours() + Duration::minutes(5), None)
        .await
        .unwrap();

    let ids =
        |page: coldcall::store::Page<coldcall::store::Lead>| page.items.into_iter().map(|l| l.id).collect::<Vec<_>>();
    let by_status = LeadFilter {
        status: Some(LeadStatus::Qualified),
        ..LeadFilter::default()
    };
    assert_eq!(ids(store.list_leads(&by_status, None, 10).await.unwrap()), vec![a.id]);
    let by_priority = LeadFilter {
        priority: Some(Priority::Urgent),
        ..LeadFilter::default()
    };
    assert_eq!(ids(store.list_leads(&by_priority, None, 10).await.unwrap()), vec![b.id]);
    let by_score = LeadFilter {
        min_score: Some(30),
        max_score: Some(50),
        ..LeadFilter::default()
    };
    assert_eq!(ids(store.list_leads(&by_score, None, 10).await.unwrap()), vec![c.id]);
    let by_agent = LeadFilter {
        assigned_to: Some(ann.id),
        ..LeadFilter::default()
    };
    assert_eq!(ids(store.list_leads(&by_agent, None, 10).await.unwrap()), vec![c.id]);
    let due = LeadFilter {
        callbacks_due: true,
        ..LeadFilter::default()
    };
    assert!(
        ids(store.list_leads(&due, None, 10).await.unwrap()).is_empty(),
        "not due yet"
    );
    store.clock().advance(Duration::minutes(6));
    assert_eq!(ids(store.list_leads(&due, None, 10).await.unwrap()), vec![b.id]);
}

async fn search_finds_words_prefixes_and_phone_fragments(store: &Store) {
    let ann = lead_with(store, 1, |i| {
        i.first_name = "Annabelle".into();
        i.last_name = "O'Neil".into();
        i.company = "Bluefin Analytics".into();
        i.notes = "Prefers mornings".into();
        i.phone = "(415) 555-0123".into();
        i.email = "annabelle@bluefin.io".into();
    })
    .await;
    let other = lead_with(store, 2, |i| i.company = "Granite Peak".into()).await;
    let none = LeadFilter::default();
    let found = |text: &'static str| async move {
        store
            .search_leads(text, &LeadFilter::default(), 10)
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(found("annab").await, vec![ann.id], "name prefix");
    assert_eq!(found("bluefin analyt").await, vec![ann.id], "all words must match");
    assert_eq!(found("mornings").await, vec![ann.id], "notes");
    assert_eq!(found("555-0123").await, vec![ann.id], "phone fragment");
    assert_eq!(found("0123").await, vec![ann.id], "phone tail");
    assert_eq!(found("bluefin.io").await, vec![ann.id], "email fragment");
    assert_eq!(found("granite").await, vec![other.id]);
    assert!(found("nobody").await.is_empty());
    // query syntax and SQL are just text
    for hostile in [
        "\"",
        "*",
        "a OR b",
        "'; DROP TABLE leads; --",
        "NEAR(",
        "%",
        "_",
        "\\",
        ":*",
        "&|!",
    ] {
        assert!(
            store.search_leads(hostile, &none, 10).await.is_ok(),
            "search for {hostile:?} must not fail"
        );
    }
    assert_eq!(store.list_leads(&none, None, 10).await.unwrap().items.len(), 2);
}

/// The same text finds the same leads on either backend: wildcard characters are literal, and a
/// word inside text written without spaces (Chinese, Japanese, Thai) is found.
async fn search_is_literal_and_finds_words_inside_unspaced_text(store: &Store) {
    let underscored = lead_with(store, 1, |i| i.email = "a_b@wild.example".into()).await;
    let plain = lead_with(store, 2, |i| i.email = "axb@wild.example".into()).await;
    let percent = lead_with(store, 3, |i| i.email = "50%off@deals.example".into()).await;
    let tokyo = lead_with(store, 4, |i| i.company = "株式会社東京商事".into()).await;
    let bangkok = lead_with(store, 5, |i| i.notes = "ลูกค้าจากกรุงเทพมหานคร".into()).await;
    let mixed = lead_with(store, 6, |i| {
        i.company = "東京Trading".into();
        i.first_name = "Kenji".into();
    })
    .await;
    let found = |text: &'static str| async move {
        let mut ids: Vec<_> = store
            .search_leads(text, &LeadFilter::default(), 10)
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.id)
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<uuid::Uuid>| {
        v.sort();
        v
    };
    assert_eq!(found("a_b@wild").await, vec![underscored.id], "`_` is not a wildcard");
    assert_eq!(found("%off@deals").await, vec![percent.id], "`%` is not a wildcard");
    assert!(
        !found("a%b@wild").await.contains(&plain.id),
        "`%` matches nothing but itself"
    );
    assert_eq!(found("axb@wild").await, vec![plain.id]);
    assert_eq!(
        found("東京").await,
        sorted(vec![tokyo.id, mixed.id]),
        "a word inside Han text"
    );
    assert_eq!(found("商事").await, vec![tokyo.id]);
    assert_eq!(found("กรุงเทพ").await, vec![bangkok.id], "a word inside Thai text");
    assert_eq!(
        found("東京 kenji").await,
        vec![mixed.id],
        "inner pieces and words together"
    );
    assert!(found("大阪").await.is_empty());
}

async fn contacts_keep_one_primary_per_kind(store: &Store) {
    let lead = lead(store, 1).await;
    let phone = |value: &str, primary: bool| NewContact {
        kind: ContactKind::Phone,
        value: value.into(),
        label: Some("mobile".into()),
        is_primary: primary,
        is_verified: false,
    };
    let first = store
        .add_contact(lead.id, &phone("(212) 555-7000", true), "US")
        .await
        .unwrap();
    assert_eq!(first.value, "+12125557000", "phone contacts are normalised");
    let second = store
        .add_contact(lead.id, &phone("+1 212 555 7001", true), "US")
        .await
        .unwrap();
    let contacts = store.contacts(lead.id).await.unwrap();
    let primaries: Vec<_> = contacts.iter().filter(|c| c.is_primary).map(|c| c.id).collect();
    assert_eq!(primaries, vec![second.id], "the new primary replaces the old one");
    let err = store
        .add_contact(lead.id, &phone("123", false), "US")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::BadInput(_)), "{err:?}");
    store.remove_contact(first.id).await.unwrap();
    assert_eq!(store.contacts(lead.id).await.unwrap().len(), 1);
}

async fn a_call_records_its_outcome_and_releases_the_lock(store: &Store) {
    let ann = agent(store, "ann").await;
    let lead = lead(store, 1).await;
    let started = store
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    assert_eq!(started.phone_number, lead.phone);
    let active = store.active_calls().await.unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(
        (active[0].agent_name.as_str(), active[0].call_id),
        ("ann", started.call_id)
    );

    store.clock().advance(Duration::seconds(95));
    let ended = store
        .end_call(&EndCall {
            call_id: started.call_id,
            agent_id: ann.id,
            disposition: "no_answer".into(),
            notes: Some("rang out".into()),
            recording_url: Some("https://rec.example/1".into()),
            ..EndCall::default()
        })
        .await
        .unwrap();
    assert_eq!(ended.duration_s, 95);
    assert!(store.active_calls().await.unwrap().is_empty(), "lock released");

    let after = store.lead(lead.id).await.unwrap().unwrap();
    assert_eq!(after.call_attempts, 1);
    assert_eq!(after.last_call_at, Some(started.started_at));
    assert_eq!(
        after.next_call_at,
        Some(store.now() + Duration::minutes(30)),
        "no answer recycles after 30 minutes"
    );
    let calls = store.call_history(lead.id).await.unwrap();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.disposition.as_deref(), Some("no_answer"));
    assert_eq!(call.duration_s, Some(95));
    assert_eq!(call.notes.as_deref(), Some("rang out"));
    assert_eq!(call.recording_url.as_deref(), Some("https://rec.example/1"));
    assert_eq!(call.ended_at, Some(store.now()));

    // a contact outcome moves the status and logs why
    store.clock().advance(Duration::hours(1));
    let again = store
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    let ended = store
        .end_call(&EndCall {
            call_id: again.call_id,
            agent_id: ann.id,
            disposition: "interested".into(),
            ..EndCall::default()
        })
        .await
        .unwrap();
    assert_eq!(ended.new_status, LeadStatus::Qualified);
    let history = store.status_history(lead.id).await.unwrap();
    assert_eq!(history[0].new_status, LeadStatus::Qualified);
    assert_eq!(history[0].changed_by_name.as_deref(), Some("ann"));
    assert!(history[0].reason.as_deref().unwrap_or("").contains("Interested"));
}

async fn can_call_refuses_with_the_reason(store: &Store) {
    let ann = agent(store, "ann").await;
    let bob = agent(store, "bob").await;
    let start = |lead_id, agent_id| StartCall {
        lead_id,
        agent_id,
        from_number: None,
    };

    let missing = store.can_call(uuid::Uuid::now_v7(), ann.id).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { what: "lead", .. })),
        "{missing:?}"
    );

    let flagged = lead_with(store, 1, |i| i.do_not_call = "yes".into()).await;
    assert!(matches!(
        store.can_call(flagged.id, ann.id).await.unwrap(),
        Err(Refusal::DoNotCall { .. })
    ));
    let listed = lead(store, 2).await;
    store.dnc_add(&listed.phone, Some("asked"), None).await.unwrap();
    let err = store.start_call(&start(listed.id, ann.id)).await.unwrap_err();
    assert!(matches!(err, StoreError::Refused(Refusal::DoNotCall { .. })), "{err:?}");

    let closed = lead_with(store, 3, |i| i.status = "closed_won".into()).await;
    assert!(matches!(
        store.can_call(closed.id, ann.id).await.unwrap(),
        Err(Refusal::FinalStatus { .. })
    ));

    let busy = lead(store, 4).await;
    let call = store.start_call(&start(busy.id, ann.id)).await.unwrap();
    match store.start_call(&start(busy.id, bob.id)).await.unwrap_err() {
        StoreError::Refused(Refusal::OnAnotherCall { agent, since }) => {
            assert_eq!(agent, "ann");
            assert_eq!(since, call.started_at);
        }
        other => panic!("expected on-another-call, got {other:?}"),
    }
    store.clock().advance(Duration::minutes(2));
    store
        .end_call(&EndCall {
            call_id: call.call_id,
            agent_id: ann.id,
            disposition: "busy".into(),
            ..EndCall::default()
        })
        .await
        .unwrap();
    match store.start_call(&start(busy.id, bob.id)).await.unwrap_err() {
        StoreError::Refused(Refusal::TooSoon { by, allowed_at, .. }) => {
            assert_eq!(by, "ann");
            assert_eq!(allowed_at, call.started_at + Duration::minutes(5));
        }
        other => panic!("expected too-soon, got {other:?}"),
    }

    // 15:00 UTC is 00:00 in Tokyo
    let tokyo = lead_with(store, 5, |i| i.timezone = "Asia/Tokyo".into()).await;
    match store.can_call(tokyo.id, ann.id).await.unwrap() {
        Err(Refusal::OutsideCallingHours { opens_at, .. }) => {
            assert_eq!(
                opens_at,
                Utc.with_ymd_and_hms(2026, 11, 23, 23, 0, 0).unwrap(),
                "08:00 in Tokyo"
            );
        }
        other => panic!("expected outside hours, got {other:?}"),
    }

    store.set_setting("max_attempts", "1").await.unwrap();
    let tried = lead(store, 6).await;
    let call = store.start_call(&start(tried.id, ann.id)).await.unwrap();
    store
        .end_call(&EndCall {
            call_id: call.call_id,
            agent_id: ann.id,
            disposition: "no_answer".into(),
            ..EndCall::default()
        })
        .await
        .unwrap();
    store.clock().advance(Duration::hours(1));
    assert_eq!(
        store.can_call(tried.id, ann.id).await.unwrap(),
        Err(Refusal::AttemptsExhausted { attempts: 1, max: 1 })
    );

    let theirs = lead(store, 7).await;
    store.assign(theirs.id, bob.id, None, None).await.unwrap();
    assert!(matches!(
        store.can_call(theirs.id, ann.id).await.unwrap(),
        Err(Refusal::AssignedToOther { .. })
    ));
    assert_eq!(store.can_call(theirs.id, bob.id).await.unwrap(), Ok(()));
}

async fn only_the_owner_or_a_supervisor_ends_a_call(store: &Store) {
    let ann = agent(store, "ann").await;
    let bob = agent(store, "bob").await;
    let sue = supervisor(store, "sue").await;
    let lead = lead(store, 1).await;
    let call = store
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    let end = |agent_id, force| EndCall {
        call_id: call.call_id,
        agent_id,
        disposition: "connected".into(),
        force,
        ..EndCall::default()
    };
    assert!(matches!(
        store.end_call(&end(bob.id, false)).await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(
        matches!(store.end_call(&end(bob.id, true)).await, Err(StoreError::Forbidden(_))),
        "agents cannot force"
    );
    assert!(
        matches!(store.end_call(&end(sue.id, false)).await, Err(StoreError::Forbidden(_))),
        "force must be explicit"
    );
    let ended = store.end_call(&end(sue.id, true)).await.unwrap();
    assert_eq!(ended.disposition, "connected");
    assert!(store.active_calls().await.unwrap().is_empty());
}

async fn a_stale_lock_is_reaped_and_its_owner_is_fenced_off(store: &Store) {
    let ann = agent(store, "ann").await;
    let bob = agent(store, "bob").await;
    store.set_setting("min_gap_seconds", "0").await.unwrap();
    let lead = lead(store, 1).await;
    let call = store
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();

    store.clock().advance(Duration::seconds(30));
    assert!(store.heartbeat(call.call_id, ann.id).await.unwrap());
    store.clock().advance(Duration::seconds(45));
    assert!(
        store.reap_stale_locks(None).await.unwrap().is_empty(),
        "45 s since the last heartbeat is within the TTL"
    );
    store.clock().advance(Duration::seconds(30));
    let reaped = store.reap_stale_locks(Some(bob.id)).await.unwrap();
    assert_eq!(reaped.len(), 1);
    assert_eq!(reaped[0].call_id, call.call_id);

    let record = store.call(call.call_id).await.unwrap().unwrap();
    assert_eq!(record.status.as_str(), "abandoned");
    assert_eq!(record.ended_by, Some(bob.id));
    assert_eq!(store.lead(lead.id).await.unwrap().unwrap().call_attempts, 1);
    assert!(
        !store.heartbeat(call.call_id, ann.id).await.unwrap(),
        "the lock is gone"
    );

    // bob takes the lead; ann's console comes back and must not end bob's call
    let bobs = store
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: bob.id,
            from_number: None,
        })
        .await
        .unwrap();
    let stale_end = EndCall {
        call_id: call.call_id,
        agent_id: ann.id,
        disposition: "connected".into(),
        ..EndCall::default()
    };
    // ann's outcome is kept on her own call, but bob's newer call decides the lead.
    let before = store.lead(lead.id).await.unwrap().unwrap();
    let late = store.end_call(&stale_end).await.unwrap();
    assert_eq!(late.new_status, before.status);
    let record = store.call(call.call_id).await.unwrap().unwrap();
    assert_eq!(record.disposition.as_deref(), Some("connected"));
    assert!(record.notes.unwrap_or_default().contains("newer call"));
    let after = store.lead(lead.id).await.unwrap().unwrap();
    assert_eq!(
        (after.status, after.call_attempts),
        (before.status, before.call_attempts),
        "the lead is untouched"
    );
    assert_eq!(
        store.active_calls().await.unwrap()[0].call_id,
        bobs.call_id,
        "bob's call is untouched"
    );

    // start-call reaps a stale lock by itself
    store.clock().advance(Duration::minutes(5));
    let cal = agent(store, "cal").await;
    let cals = store
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: cal.id,
            from_number: None,
        })
        .await
        .unwrap();
    assert_eq!(
        store.call(bobs.call_id).await.unwrap().unwrap().status.as_str(),
        "abandoned"
    );
    assert_eq!(store.active_calls().await.unwrap()[0].call_id, cals.call_id);
}

async fn an_outcome_typed_through_an_outage_longer_than_the_ttl_is_saved(store: &Store) {
    let ann = agent(store, "ann").await;
    let bob = agent(store, "bob").await;
    let lead = lead(store, 1).await;
    let call = store
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    // ann's console is cut off; bob's reaps her lock as abandoned while she keeps talking.
    store.clock().advance(Duration::minutes(3));
    assert_eq!(store.reap_stale_locks(Some(bob.id)).await.unwrap().len(), 1);
    assert_eq!(store.lead(lead.id).await.unwrap().unwrap().call_attempts, 1);

    store.clock().advance(Duration::minutes(2));
    let end = EndCall {
        call_id: call.call_id,
        agent_id: ann.id,
        disposition: "interested".into(),
        notes: Some("wants a demo on Friday".into()),
        ..EndCall::default()
    };
    let ended = store.end_call(&end).await.unwrap();
    assert_eq!(ended.duration_s, 300, "the call lasted until she ended it");
    let record = store.call(call.call_id).await.unwrap().unwrap();
    assert_eq!(record.disposition.as_deref(), Some("interested"));
    let notes = record.notes.unwrap_or_default();
    assert!(notes.contains("wants a demo on Friday"), "{notes}");
    assert!(notes.contains("lock expired"), "{notes}");
    let after = store.lead(lead.id).await.unwrap().unwrap();
    assert_eq!(after.status, ended.new_status);
    assert_ne!(after.status, lead.status, "the outcome's effects apply");
    assert_eq!(after.call_attempts, 1, "one call, counted once");
    // A retry of the same end (the console was unsure it arrived) changes nothing.
    let again = store.end_call(&end).await.unwrap();
    assert_eq!(again.disposition, "interested");
    assert_eq!(store.lead(lead.id).await.unwrap().unwrap().call_attempts, 1);
    // bob cannot put an outcome on ann's reaped call.
    let bobs_try = EndCall {
        agent_id: bob.id,
        ..end.clone()
    };
    assert!(store.end_call(&bobs_try).await.is_err());
}

async fn a_supervisor_releases_a_lock_with_a_reason(store: &Store) {
    let ann = agent(store, "ann").await;
    let bob = agent(store, "bob").await;
    let sue = supervisor(store, "sue").await;
    let called = lead(store, 1).await;
    let call = store
        .start_call(&StartCall {
            lead_id: called.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    assert!(matches!(
        store.force_release(call.call_id, bob.id, "stuck").await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        store.force_release(call.call_id, sue.id, "  ").await,
        Err(StoreError::BadInput(_))
    ));
    let released = store.force_release(call.call_id, sue.id, "headset died").await.unwrap();
    assert_eq!((released.lead_id, released.agent_id), (called.id, ann.id));
    assert!(store.active_calls().await.unwrap().is_empty());
    let record = store.call(call.call_id).await.unwrap().unwrap();
    assert_eq!(record.status.as_str(), "abandoned");
    assert_eq!(record.ended_by, Some(sue.id));
    assert!(record.notes.unwrap_or_default().contains("headset died"));
    let stale_end = EndCall {
        call_id: call.call_id,
        agent_id: ann.id,
        disposition: "connected".into(),
        ..EndCall::default()
    };
    assert!(
        matches!(store.end_call(&stale_end).await, Err(StoreError::Conflict(_))),
        "the owner is fenced off"
    );
    assert!(matches!(
        store.force_release(call.call_id, sue.id, "again").await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn reaping_a_crashed_call_also_frees_its_claim(store: &Store) {
    let ann = agent(store, "ann").await;
    let bob = agent(store, "bob").await;
    store.set_setting("min_gap_seconds", "0").await.unwrap();
    let claimed = lead(store, 1).await;
    assert_eq!(store.claim_next(ann.id).await.unwrap().unwrap().lead.id, claimed.id);
    store
        .start_call(&StartCall {
            lead_id: claimed.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    store.clock().advance(Duration::seconds(61));
    assert_eq!(store.reap_stale_locks(Some(bob.id)).await.unwrap().len(), 1);
    assert_eq!(
        store.can_call(claimed.id, bob.id).await.unwrap(),
        Ok(()),
        "not reserved for the crashed console"
    );
    assert!(store.assignments(claimed.id).await.unwrap().iter().all(|a| !a.active));
}

async fn retrying_an_end_call_is_harmless(store: &Store) {
    let ann = agent(store, "ann").await;
    let lead = lead(store, 1).await;
    let call = store
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    let end = EndCall {
        call_id: call.call_id,
        agent_id: ann.id,
        disposition: "voicemail".into(),
        ..EndCall::default()
    };
    let first = store.end_call(&end).await.unwrap();
    let again = store.end_call(&end).await.unwrap();
    assert_eq!((again.call_id, again.duration_s), (first.call_id, first.duration_s));
    assert_eq!(
        store.lead(lead.id).await.unwrap().unwrap().call_attempts,
        1,
        "counted once"
    );
    let different = EndCall {
        disposition: "connected".into(),
        ..end
    };
    assert!(matches!(store.end_call(&different).await, Err(StoreError::Conflict(_))));
    let unknown = EndCall {
        call_id: uuid::Uuid::now_v7(),
        ..different
    };
    assert!(matches!(
        store.end_call(&unknown).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn claim_next_follows_the_queue_order_and_skips_refused_leads(store: &Store) {
    let ann = agent(store, "ann").await;
    let bob = agent(store, "bob").await;
    let low = lead_with(store, 1, |i| i.priority = "low".into()).await;
    let high_40 = lead_with(store, 2, |i| {
        i.priority = "high".into();
        i.lead_score = "40".into();
    })
    .await;
    let high_90 = lead_with(store, 3, |i| {
        i.priority = "high".into();
        i.lead_score = "90".into();
    })
    .await;
    lead_with(store, 4, |i| {
        i.priority = "urgent".into();
        i.do_not_call = "yes".into();
    })
    .await;
    lead_with(store, 5, |i| {
        i.priority = "urgent".into();
        i.status = "closed_lost".into();
    })
    .await;
    lead_with(store, 6, |i| {
        i.priority = "urgent".into();
        i.timezone = "Asia/Tokyo".into();
    })
    .await;
    let urgent_listed = lead_with(store, 7, |i| i.priority = "urgent".into()).await;
    store.dnc_add(&urgent_listed.phone, None, None).await.unwrap();

    let first = store.claim_next(ann.id).await.unwrap().unwrap();
    assert_eq!((first.lead.id, first.source), (high_90.id, ClaimSource::Queue));
    let second = store.claim_next(bob.id).await.unwrap().unwrap();
    assert_eq!(second.lead.id, high_40.id, "ann's claim is not handed to bob");
    // ann claims again: her earlier claim is released, she gets the next free lead
    let third = store.claim_next(ann.id).await.unwrap().unwrap();
    assert_eq!(third.lead.id, high_90.id, "her own released claim is first again");
    let calling = store
        .start_call(&StartCall {
            lead_id: high_90.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    let next = store.claim_next(ann.id).await.unwrap().unwrap();
    assert_eq!(next.lead.id, low.id, "a lead on a call is skipped");
    store
        .end_call(&EndCall {
            call_id: calling.call_id,
            agent_id: ann.id,
            disposition: "not_interested".into(),
            ..EndCall::default()
        })
        .await
        .unwrap();
    let cal = agent(store, "cal").await;
    assert!(
        store.claim_next(cal.id).await.unwrap().is_none(),
        "everything left is claimed or refused"
    );
    // claims expire
    store.clock().advance(Duration::minutes(16));
    assert!(store.claim_next(cal.id).await.unwrap().is_some());
}

async fn a_callback_outcome_comes_back_first_when_due(store: &Store) {
    let ann = agent(store, "ann").await;
    let bob = agent(store, "bob").await;
    let later = lead(store, 1).await;
    lead_with(store, 2, |i| i.priority = "urgent".into()).await;
    let call = store
        .start_call(&StartCall {
            lead_id: later.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    let missing_time = EndCall {
        call_id: call.call_id,
        agent_id: ann.id,
        disposition: "callback".into(),
        ..EndCall::default()
    };
    assert!(matches!(
        store.end_call(&missing_time).await,
        Err(StoreError::BadInput(_))
    ));
    let due_at = store.now() + Duration::hours(2);
    let ended = store
        .end_call(&EndCall {
            callback_at: Some(due_at),
            ..missing_time
        })
        .await
        .unwrap();
    assert!(ended.callback_id.is_some());
    assert_eq!(ended.next_call_at, Some(due_at));

    assert!(store.due_callbacks(Some(ann.id), store.now()).await.unwrap().is_empty());
    let claimed = store.claim_next(bob.id).await.unwrap().unwrap();
    assert_ne!(
        claimed.lead.id, later.id,
        "another agent's callback is not in the shared queue"
    );
    store.unassign(claimed.lead.id).await.unwrap();

    store.clock().advance(Duration::hours(2));
    let due = store.due_callbacks(Some(ann.id), store.now()).await.unwrap();
    assert_eq!(due.len(), 1);
    let claim = store.claim_next(ann.id).await.unwrap().unwrap();
    assert_eq!(
        (claim.lead.id, claim.source),
        (later.id, ClaimSource::Callback),
        "a due callback beats an urgent lead"
    );
    let call = store
        .start_call(&StartCall {
            lead_id: later.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    store
        .end_call(&EndCall {
            call_id: call.call_id,
            agent_id: ann.id,
            disposition: "connected".into(),
            ..EndCall::default()
        })
        .await
        .unwrap();
    assert!(
        store.due_callbacks(None, store.now()).await.unwrap().is_empty(),
        "the call answered the callback"
    );
}

async fn an_overdue_callback_goes_to_anyone_after_the_grace_period(store: &Store) {
    let ann = agent(store, "ann").await;
    let bob = agent(store, "bob").await;
    let promised = lead(store, 1).await;
    let due_at = store.now() + Duration::minutes(5);
    store
        .schedule_callback(promised.id, ann.id, due_at, Some("after lunch"))
        .await
        .unwrap();
    store.clock().set(due_at + Duration::minutes(1));
    assert!(
        store.claim_next(bob.id).await.unwrap().is_none(),
        "inside the grace period it waits for ann"
    );
    assert!(store.queue_preview(bob.id, 10).await.unwrap().is_empty());
    assert_eq!(
        store.queue_preview(ann.id, 10).await.unwrap()[0].id,
        promised.id,
        "first in ann's queue"
    );
    store.clock().set(due_at + Duration::minutes(16));
    let claim = store
        .claim_next(bob.id)
        .await
        .unwrap()
        .expect("after 15 minutes anyone may take it");
    assert_eq!(claim.lead.id, promised.id);
    // a supervisor can hand it to someone at once instead
    let cal = agent(store, "cal").await;
    let other = lead(store, 2).await;
    let handed = store
        .schedule_callback(other.id, ann.id, store.now() + Duration::minutes(1), None)
        .await
        .unwrap();
    assert!(matches!(
        store.hand_callback(handed.id, cal.id, Some(ann.id)).await,
        Err(StoreError::Forbidden(_))
    ));
    let sue = supervisor(store, "sue").await;
    assert!(store.hand_callback(handed.id, cal.id, Some(sue.id)).await.unwrap());
    store.clock().advance(Duration::minutes(2));
    assert_eq!(
        store.due_callbacks(Some(cal.id), store.now()).await.unwrap()[0].id,
        handed.id
    );
    assert!(store
        .due_callbacks(Some(ann.id), store.now())
        .await
        .unwrap()
        .iter()
        .all(|c| c.id != handed.id));
    assert!(!store.hand_callback(uuid::Uuid::now_v7(), cal.id, None).await.unwrap());
    store.set_setting("callback_grace_seconds", "60").await.unwrap();
    assert_eq!(settings_value(store, "callback_grace_seconds").await, "60");
}

async fn settings_value(store: &Store, key: &str) -> String {
    store
        .settings()
        .await
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

async fn do_not_call_outcome_lists_the_number_for_good(store: &Store) {
    let ann = agent(store, "ann").await;
    let called = lead(store, 1).await;
    let call = store
        .start_call(&StartCall {
            lead_id: called.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    let ended = store
        .end_call(&EndCall {
            call_id: call.call_id,
            agent_id: ann.id,
            disposition: "do_not_call".into(),
            ..EndCall::default()
        })
        .await
        .unwrap();
    assert!(ended.added_to_dnc);
    assert!(store.dnc_check(&called.phone).await.unwrap().is_some());
    let after = store.lead(called.id).await.unwrap().unwrap();
    assert!(after.do_not_call);
    assert_eq!(after.status, LeadStatus::ClosedLost);
    // editing the lead cannot clear it
    let mut fields = after.fields();
    fields.do_not_call = false;
    assert!(
        store
            .update_lead(called.id, &fields, None, None)
            .await
            .unwrap()
            .do_not_call
    );
    // adding a number to the list flags existing leads with it
    let other = lead(store, 2).await;
    store
        .dnc_add(&other.phone, Some("complaint"), Some(ann.id))
        .await
        .unwrap();
    assert!(store.lead(other.id).await.unwrap().unwrap().do_not_call);
    // only an admin takes a number off the list
    let err = store.dnc_remove(&other.phone, Some(ann.id)).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Forbidden(m) if m.contains("do-not-call")),
        "{err:?}"
    );
    assert!(store.dnc_check(&other.phone).await.unwrap().is_some());
    let admin = add_agent(store, "root", coldcall::domain::Role::Admin).await;
    assert!(store.dnc_remove(&other.phone, Some(admin.id)).await.unwrap());
    assert!(store.dnc_check(&other.phone).await.unwrap().is_none());
}

async fn assignments_reserve_a_lead_for_one_agent(store: &Store) {
    let ann = agent(store, "ann").await;
    let bob = agent(store, "bob").await;
    let sue = supervisor(store, "sue").await;
    let lead = lead(store, 1).await;
    let until = store.now() + Duration::hours(1);
    assert!(
        matches!(
            store.assign(lead.id, ann.id, Some(bob.id), Some(until)).await,
            Err(StoreError::Forbidden(_))
        ),
        "an agent cannot give a lead to another"
    );
    assert!(store.assignments(lead.id).await.unwrap().is_empty());
    let assignment = store.assign(lead.id, ann.id, Some(sue.id), Some(until)).await.unwrap();
    assert_eq!(assignment.assigned_by, Some(sue.id));
    assert_eq!((assignment.agent_name.as_str(), assignment.active), ("ann", true));
    assert!(matches!(
        store.can_call(lead.id, bob.id).await.unwrap(),
        Err(Refusal::AssignedToOther { .. })
    ));
    // reassigning replaces the live assignment
    store.assign(lead.id, bob.id, None, None).await.unwrap();
    let all = store.assignments(lead.id).await.unwrap();
    assert_eq!(all.iter().filter(|a| a.active).count(), 1);
    assert_eq!(all[0].agent_id, bob.id);
    assert!(store.unassign(lead.id).await.unwrap());
    assert_eq!(store.can_call(lead.id, ann.id).await.unwrap(), Ok(()));
    // expiry
    store
        .assign(lead.id, ann.id, None, Some(store.now() + Duration::minutes(10)))
        .await
        .unwrap();
    store.clock().advance(Duration::minutes(11));
    assert_eq!(
        store.can_call(lead.id, bob.id).await.unwrap(),
        Ok(()),
        "an expired assignment does not refuse"
    );
    assert_eq!(store.expire_assignments().await.unwrap(), 1);
}

/// Polls the feed until `done` holds. On PostgreSQL a change becomes readable once every older
/// writer in this database has finished, so it may take a moment.
async fn feed_until(
    store: &Store,
    from: FeedCursor,
    done: impl Fn(&[coldcall::store::Change]) -> bool,
) -> Vec<coldcall::store::Change> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let changes = store.changes_since(from, 1000).await.unwrap();
        if done(&changes) {
            return changes;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the feed did not show the change in 10 s: {changes:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn has(changes: &[coldcall::store::Change], kind: &str, op: &str) -> bool {
    changes.iter().any(|c| c.kind == kind && c.op == op)
}

async fn the_change_feed_reports_what_changed(store: &Store) {
    let ann = agent(store, "ann").await;
    let head = store.feed_head().await.unwrap();
    assert!(
        store.changes_since(head, 100).await.unwrap().is_empty(),
        "the head has nothing after it"
    );
    let lead = lead(store, 1).await;
    let call = store
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    let changes = feed_until(store, head, |c| {
        has(c, "lead", "insert") && has(c, "active_call", "insert")
    })
    .await;
    assert!(changes.iter().all(|c| c.lead_id == lead.id));
    assert!(
        changes.windows(2).all(|w| w[0].cursor() < w[1].cursor()),
        "in feed order"
    );
    let cursor: FeedCursor = changes.last().unwrap().cursor();

    store.heartbeat(call.call_id, ann.id).await.unwrap();
    store
        .end_call(&EndCall {
            call_id: call.call_id,
            agent_id: ann.id,
            disposition: "busy".into(),
            ..EndCall::default()
        })
        .await
        .unwrap();
    let later = feed_until(store, cursor, |c| has(c, "active_call", "delete")).await;
    assert!(
        !has(&later, "active_call", "update"),
        "heartbeats are not news: {later:?}"
    );
    assert!(has(&later, "call", "update"), "the call log changed: {later:?}");
    // paging with a small limit visits every change once, in order
    let all: Vec<i64> = store
        .changes_since(head, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    let mut seen = Vec::new();
    let mut at = head;
    loop {
        let page = store.changes_since(at, 2).await.unwrap();
        let Some(last) = page.last() else { break };
        at = last.cursor();
        seen.extend(page.into_iter().map(|c| c.id));
    }
    assert_eq!(seen, all);
}

async fn presence_shows_each_agent_and_goes_offline_when_silent(store: &Store) {
    use coldcall::domain::PresenceState;
    let ann = agent(store, "ann").await;
    agent(store, "bob").await;
    // (through a floor server, the harness's own admin is on the floor too)
    let states = |list: Vec<coldcall::store::Presence>| {
        list.into_iter()
            .filter(|p| p.agent_name != HARNESS_ADMIN)
            .map(|p| (p.agent_name, p.state, p.reason))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        states(store.presence().await.unwrap()),
        vec![
            ("ann".into(), PresenceState::Offline, None),
            ("bob".into(), PresenceState::Offline, None)
        ],
        "never seen is offline"
    );
    store
        .set_presence(ann.id, PresenceState::Paused, Some("lunch"))
        .await
        .unwrap();
    let since = store.now();
    store.clock().advance(Duration::seconds(20));
    store
        .set_presence(ann.id, PresenceState::Paused, Some("lunch"))
        .await
        .unwrap();
    let now = store.presence().await.unwrap().remove(0);
    assert_eq!(
        (now.state, now.reason.as_deref()),
        (PresenceState::Paused, Some("lunch"))
    );
    assert_eq!(now.since, Some(since), "a heartbeat does not restart the time in state");
    store.set_presence(ann.id, PresenceState::Ready, None).await.unwrap();
    assert_eq!(
        store.presence().await.unwrap()[0].since,
        Some(store.now()),
        "a new state starts its clock"
    );
    store.clock().advance(Duration::seconds(61));
    assert_eq!(
        store.presence().await.unwrap()[0].state,
        PresenceState::Offline,
        "silent longer than the TTL"
    );
}

async fn floor_figures_count_calls_contacts_talk_time_and_conversions(store: &Store) {
    let ann = agent(store, "ann").await;
    let bob = agent(store, "bob").await;
    let day_start = store.now();
    for (n, (agent_id, disposition, seconds)) in [
        (ann.id, "no_answer", 5),
        (ann.id, "meeting_booked", 300),
        (ann.id, "connected", 95),
        (bob.id, "busy", 10),
    ]
    .into_iter()
    .enumerate()
    {
        let lead = lead(store, n as u32 + 1).await;
        let call = store
            .start_call(&StartCall {
                lead_id: lead.id,
                agent_id,
                from_number: None,
            })
            .await
            .unwrap();
        store
            .end_call(&EndCall {
                call_id: call.call_id,
                agent_id,
                disposition: disposition.into(),
                duration_s: Some(seconds),
                ..EndCall::default()
            })
            .await
            .unwrap();
    }
    let figures = store
        .floor_figures(day_start, day_start + Duration::days(1))
        .await
        .unwrap();
    let row = |name: &str| figures.agents.iter().find(|a| a.agent_name == name).unwrap().clone();
    let a = row("ann");
    assert_eq!((a.calls, a.contacts, a.talk_seconds, a.conversions), (3, 2, 400, 1));
    assert_eq!(a.average_call_seconds(), 133);
    let b = row("bob");
    assert_eq!((b.calls, b.contacts, b.talk_seconds, b.conversions), (1, 0, 10, 0));
    let total = figures.total();
    assert_eq!(
        (total.calls, total.contacts, total.talk_seconds, total.conversions),
        (4, 2, 410, 1)
    );
    let funnel: std::collections::HashMap<_, _> = figures.funnel.into_iter().collect();
    assert_eq!(
        funnel.get(&LeadStatus::Proposal),
        Some(&1),
        "meeting booked moves the lead to proposal"
    );
    assert_eq!(funnel.get(&LeadStatus::Contacted), Some(&1));
    assert_eq!(funnel.get(&LeadStatus::New), Some(&2));
    // a period without calls
    let yesterday = store
        .floor_figures(day_start - Duration::days(1), day_start)
        .await
        .unwrap();
    assert_eq!(yesterday.total().calls, 0);
    assert!(
        store.floor_figures(day_start, day_start).await.is_err(),
        "an empty period is refused"
    );
}

async fn settings_are_validated_and_shared(store: &Store) {
    assert!(matches!(
        store.set_setting("min_gap_seconds", "-5").await,
        Err(StoreError::BadInput(_))
    ));
    assert!(matches!(
        store.set_setting("calling_hours", "21:00-08:00").await,
        Err(StoreError::BadInput(_))
    ));
    assert!(matches!(
        store.set_setting("nonsense", "1").await,
        Err(StoreError::BadInput(_))
    ));
    store.set_setting("min_gap_seconds", "600").await.unwrap();
    store.set_setting("calling_hours", "09:00-17:00").await.unwrap();
    let policy = store.policy().await.unwrap();
    assert_eq!(policy.min_gap, Duration::minutes(10));
    assert_eq!(
        store.dispositions().await.unwrap().len(),
        10,
        "the default dispositions are seeded"
    );
}

async fn migrations_go_down_and_up_again(store: &Store) {
    lead(store, 1).await;
    let status = store.migration_status().await.unwrap();
    assert!(status.iter().all(|m| m.applied));
    while store.migrate_down().await.unwrap().is_some() {}
    assert!(store.migration_status().await.unwrap().iter().all(|m| !m.applied));
    store.migrate().await.unwrap();
    assert!(
        store
            .list_leads(&LeadFilter::default(), None, 10)
            .await
            .unwrap()
            .items
            .is_empty(),
        "a fresh schema"
    );
    lead(store, 1).await;
    assert_eq!(store.dispositions().await.unwrap().len(), 10);
}

async fn call_and_end(store: &Store, lead_id: uuid::Uuid, agent_id: i64) {
    let started = start_call(store, lead_id, agent_id).await;
    store.clock().advance(Duration::seconds(30));
    store
        .end_call(&EndCall {
            call_id: started.call_id,
            agent_id,
            disposition: "no_answer".into(),
            ..EndCall::default()
        })
        .await
        .unwrap();
}

fn phone_point(value: &str) -> NewContact {
    NewContact {
        kind: ContactKind::Phone,
        value: value.into(),
        label: Some("mobile".into()),
        is_primary: false,
        is_verified: false,
    }
}

async fn duplicates_are_found_by_number_email_and_name_at_company(store: &Store) {
    use coldcall::domain::duplicates::DuplicateReason;
    let one = lead(store, 1).await;
    let two = lead(store, 2).await;
    // Lead 1 lists lead 2's number among its own.
    store
        .add_contact(one.id, &phone_point("+12125550002"), "US")
        .await
        .unwrap();
    let three = lead(store, 3).await;
    let four = lead(store, 4).await;
    let mail = NewContact {
        kind: ContactKind::Email,
        value: "lead3@example.com".into(),
        label: None,
        is_primary: false,
        is_verified: false,
    };
    store.add_contact(four.id, &mail, "US").await.unwrap();
    let ada = |n: u32, first: &'static str, company: &'static str| {
        lead_with(store, n, move |i| {
            i.first_name = first.into();
            i.last_name = "Lovelace".into();
            i.company = company.into();
        })
    };
    let five = ada(5, "Ada", "Analytical Engines Ltd").await;
    let six = ada(6, "ADA", "analytical engines").await;
    let seven = ada(7, "Ada", "Analytical Engines").await;
    store.delete_lead(seven.id, None).await.unwrap();
    lead(store, 8).await;

    let pairs = store.duplicate_leads().await.unwrap();
    let got: Vec<(uuid::Uuid, uuid::Uuid, Vec<DuplicateReason>, u8)> =
        pairs.into_iter().map(|p| (p.a, p.b, p.reasons, p.score)).collect();
    let pair = |x: uuid::Uuid, y: uuid::Uuid| if x < y { (x, y) } else { (y, x) };
    let (a, b) = pair(one.id, two.id);
    let (c, d) = pair(three.id, four.id);
    let (e, f) = pair(five.id, six.id);
    assert_eq!(
        got,
        [
            (a, b, vec![DuplicateReason::SameNumber("+12125550002".into())], 90),
            (c, d, vec![DuplicateReason::SameEmail("lead3@example.com".into())], 85),
            (
                e,
                f,
                vec![DuplicateReason::SameNameAtCompany(
                    "ada lovelace @ analytical engines".into()
                )],
                60
            ),
        ],
        "a deleted lead is no one's duplicate"
    );
}

async fn a_merge_moves_the_history_to_the_kept_lead_and_deletes_the_other(store: &Store) {
    store.clock().set(office_hours());
    let ann = agent(store, "ann").await;
    let sam = supervisor(store, "sam").await;
    let keep = lead(store, 1).await;
    let other = lead(store, 2).await;
    call_and_end(store, keep.id, ann.id).await;
    store.clock().advance(Duration::hours(1));
    call_and_end(store, other.id, ann.id).await;
    store
        .schedule_callback(other.id, ann.id, store.now() + Duration::days(1), Some("after lunch"))
        .await
        .unwrap();
    store
        .add_contact(other.id, &phone_point("+12125559999"), "US")
        .await
        .unwrap();
    // The same point on both: the kept lead's copy stays, the other's goes.
    store
        .add_contact(other.id, &phone_point("+12125558888"), "US")
        .await
        .unwrap();
    store
        .add_contact(keep.id, &phone_point("+12125558888"), "US")
        .await
        .unwrap();
    let mut dnc = other.fields();
    dnc.do_not_call = true;
    store.update_lead(other.id, &dnc, None, None).await.unwrap();
    let other_history = store.status_history(other.id).await.unwrap().len() as u64;
    let keep_history = store.status_history(keep.id).await.unwrap().len();

    let err = store.merge_leads(keep.id, other.id, ann.id).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Forbidden(m) if m.contains("merge two leads")),
        "{err:?}"
    );
    let err = store.merge_leads(keep.id, keep.id, sam.id).await.unwrap_err();
    assert!(matches!(err, StoreError::BadInput(_)), "{err:?}");
    store.clock().advance(Duration::hours(1));
    let on_call = store
        .start_call(&StartCall {
            lead_id: keep.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    let err = store.merge_leads(keep.id, other.id, sam.id).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("on a call")),
        "{err:?}"
    );
    let err = store.merge_leads(other.id, keep.id, sam.id).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("on a call")),
        "{err:?}"
    );
    store
        .end_call(&EndCall {
            call_id: on_call.call_id,
            agent_id: ann.id,
            disposition: "no_answer".into(),
            ..EndCall::default()
        })
        .await
        .unwrap();

    let done = store.merge_leads(keep.id, other.id, sam.id).await.unwrap();
    assert_eq!(done.merged, other.id);
    // 9999 moved; the shared 8888 was there; the other's own phone and email added.
    assert_eq!(
        (done.calls, done.status_changes, done.contacts, done.callbacks),
        (1, other_history, 3, 1)
    );
    assert!(done.kept.do_not_call, "do-not-call stays when either had it");
    assert_eq!(done.kept.call_attempts, 3);
    assert_eq!(store.call_history(keep.id).await.unwrap().len(), 3);
    assert!(store.call_history(other.id).await.unwrap().is_empty());
    assert_eq!(
        store.status_history(keep.id).await.unwrap().len() as u64,
        keep_history as u64 + other_history
    );
    let mut points: Vec<(String, bool)> = store
        .contacts(keep.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.value, c.is_primary))
        .collect();
    points.sort();
    assert_eq!(
        points,
        [
            ("+12125550002".into(), false),
            ("+12125558888".into(), false),
            ("+12125559999".into(), false),
            ("lead2@example.com".into(), false),
        ]
    );
    assert!(store.contacts(other.id).await.unwrap().is_empty());
    let kept = store.gdpr_export(keep.id, sam.id).await.unwrap();
    assert_eq!(kept.callbacks.len(), 1, "the other's callback is the kept lead's now");
    let gone = store.lead(other.id).await.unwrap().unwrap();
    assert!(gone.deleted_at.is_some());
    assert_eq!(store.merged_into(other.id).await.unwrap(), Some(keep.id));
    assert_eq!(store.merged_into(keep.id).await.unwrap(), None);
    let audit = store.gdpr_export(other.id, sam.id).await.unwrap();
    let merge = audit.audit.iter().find(|e| e.action == "merge");
    assert!(merge.is_some(), "the merge is audited: {:?}", audit.audit);

    // The merged lead is deleted: it cannot be merged again.
    let err = store.merge_leads(keep.id, other.id, sam.id).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

async fn ids_are_found_by_an_unambiguous_prefix(store: &Store) {
    store.clock().set(office_hours());
    let ann = agent(store, "ann").await;
    let a = lead(store, 1).await;
    let b = lead(store, 2).await;
    let full = a.id.to_string();
    let found = store.leads_by_id_prefix(&full[..30], 2).await.unwrap();
    assert_eq!(found.iter().map(|l| l.id).collect::<Vec<_>>(), [a.id]);
    let found = store.leads_by_id_prefix(&full.replace('-', "")[..28], 2).await.unwrap();
    assert_eq!(found.len(), 1, "dashes may be left out");
    // Two ids made within a minute share their first 8 hex digits (a v7 id starts with the time).
    let shared: String = full
        .chars()
        .zip(b.id.to_string().chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect();
    if shared.len() >= 4 {
        let found = store.leads_by_id_prefix(&shared, 2).await.unwrap();
        assert_eq!(found.len(), 2);
    }
    assert!(store.leads_by_id_prefix("ffffffff", 2).await.unwrap().is_empty());
    assert!(matches!(
        store.leads_by_id_prefix("xyz1", 2).await,
        Err(StoreError::BadInput(_))
    ));
    store.delete_lead(b.id, None).await.unwrap();
    let found = store.leads_by_id_prefix(&b.id.to_string()[..30], 2).await.unwrap();
    assert_eq!(found.len(), 1, "a deleted lead is still found by its id");

    call_and_end(store, a.id, ann.id).await;
    let call = store.call_history(a.id).await.unwrap().remove(0);
    let found = store.calls_by_id_prefix(&call.id.to_string()[..30], 2).await.unwrap();
    assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), [call.id]);
    assert!(store.calls_by_id_prefix("ffffffff", 2).await.unwrap().is_empty());
}

/// A callback's id prefix is looked up by id, not among the open callbacks the floor lists (at
/// most 1,000, soonest first, none on deleted leads): one due after a thousand others is found,
/// as is one on a deleted lead; an agent's lookup sees only their own; a done one is not open.
async fn a_callback_is_found_by_its_prefix_past_the_first_thousand_and_on_a_deleted_lead(store: &Store) {
    use futures::StreamExt;
    store.clock().set(office_hours());
    let ann = agent(store, "ann").await;
    let bob = agent(store, "bob").await;
    let a = lead(store, 1).await;
    let soon = store.now() + Duration::hours(1);
    let made: Vec<uuid::Uuid> = futures::stream::iter(0..1000)
        .map(|i| async move {
            let due = soon + Duration::seconds(i);
            store.schedule_callback(a.id, ann.id, due, None).await.unwrap().id
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert_eq!(made.len(), 1000);
    let last = store
        .schedule_callback(a.id, ann.id, soon + Duration::days(1), Some("the 1,001st"))
        .await
        .unwrap();
    let far = store.now() + Duration::days(365);
    let listed = store.due_callbacks(Some(ann.id), far).await.unwrap();
    assert_eq!(listed.len(), 1000, "the floor's list stops at 1,000");
    assert!(listed.iter().all(|c| c.id != last.id), "the last is past the list");

    let prefix = &last.id.to_string()[..30];
    for whose in [Some(ann.id), None] {
        let found = store.callbacks_by_id_prefix(prefix, whose, 2).await.unwrap();
        assert_eq!(found.len(), 1, "{whose:?}");
        assert_eq!(found[0], last, "{whose:?}");
    }
    assert!(store
        .callbacks_by_id_prefix(prefix, Some(bob.id), 2)
        .await
        .unwrap()
        .is_empty());
    let whole = last.id.simple().to_string();
    let found = store.callbacks_by_id_prefix(&whole, None, 2).await.unwrap();
    assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), [last.id]);
    // Ids made a moment apart share their start: the common start of two names both (in id order).
    let mut ids = made.clone();
    ids.sort();
    let (x, y) = (ids[998], ids[999]);
    let shared: String = x
        .simple()
        .to_string()
        .chars()
        .zip(y.simple().to_string().chars())
        .take_while(|(p, q)| p == q)
        .map(|(p, _)| p)
        .collect();
    if shared.len() >= 4 {
        let found = store.callbacks_by_id_prefix(&shared, None, 2).await.unwrap();
        assert_eq!(found.len(), 2, "{shared}");
        assert!(found[0].id < found[1].id);
    }
    assert!(store
        .callbacks_by_id_prefix("ffffffff", None, 2)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        store.callbacks_by_id_prefix("xyz1", None, 2).await,
        Err(StoreError::BadInput(_))
    ));

    let b = lead(store, 2).await;
    let on_deleted = store.schedule_callback(b.id, bob.id, soon, None).await.unwrap();
    store.delete_lead(b.id, None).await.unwrap();
    let prefix = &on_deleted.id.to_string()[..30];
    let found = store.callbacks_by_id_prefix(prefix, Some(bob.id), 2).await.unwrap();
    assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), [on_deleted.id]);

    assert!(store.complete_callback(last.id).await.unwrap());
    let prefix = &last.id.to_string()[..30];
    assert!(
        store.callbacks_by_id_prefix(prefix, None, 2).await.unwrap().is_empty(),
        "a done callback is no longer open"
    );
}

async fn a_taken_phone_or_email_names_the_lead_that_has_it(store: &Store) {
    let one = lead(store, 1).await;
    let two = lead(store, 2).await;
    let mut same_phone = lead_input(3).validate("US").unwrap();
    same_phone.phone = one.phone.clone();
    let err = store.create_lead(&same_phone, None).await.unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "lead {} (Lead1 Tester) already has the phone number +12125550001",
            one.id
        )
    );
    let mut edit = two.fields();
    edit.email = Some("lead1@example.com".into());
    let err = store
        .update_lead(two.id, &edit, None, None)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!("lead {} (Lead1 Tester) already has the email lead1@example.com", one.id)
    );
    // An edit that keeps the lead's own phone and email is no conflict.
    let mut title = two.fields();
    title.title = Some("CTO".into());
    store.update_lead(two.id, &title, None, None).await.unwrap();
    store.delete_lead(one.id, None).await.unwrap();
    let err = store.create_lead(&same_phone, None).await.unwrap_err().to_string();
    assert!(err.contains("deleted; restore it with: coldcall lead restore"), "{err}");
}

/// A call dialled through a softphone: the call log gets the ringing, answer and end times the
/// softphone reported, the status from the end reason, and the talk time (not the ringing nor
/// the wrap-up) as its duration.
async fn a_softphone_call_records_what_sip_said(store: &Store) {
    let ann = agent(store, "ann").await;
    let call_on = |lead_id| StartCall {
        lead_id,
        agent_id: ann.id,
        from_number: None,
    };

    // Answered after 5 s of ringing, 3 s of talk, saved 12 s later.
    let answered = lead(store, 1).await;
    let started = store.start_call(&call_on(answered.id)).await.unwrap();
    let t0 = started.started_at;
    store.clock().advance(Duration::seconds(20));
    let progress = CallProgress {
        ringing_at: Some(t0 + Duration::seconds(1)),
        answered_at: Some(t0 + Duration::seconds(6)),
        ended_at: t0 + Duration::milliseconds(8_900),
        status: CallStatus::Completed,
        reason: "Connection reset by user".into(),
    };
    let ended = store
        .end_call(&EndCall {
            call_id: started.call_id,
            agent_id: ann.id,
            disposition: "interested".into(),
            notes: Some("wants a demo".into()),
            // What the console measured is overridden by the softphone's times.
            duration_s: Some(20),
            progress: Some(progress.clone()),
            ..EndCall::default()
        })
        .await
        .unwrap();
    assert_eq!(ended.duration_s, 3, "talk time from the answer, rounded");
    let call = &store.call_history(answered.id).await.unwrap()[0];
    assert_eq!(call.status, CallStatus::Completed);
    assert_eq!(call.ringing_at, progress.ringing_at);
    assert_eq!(call.answered_at, progress.answered_at);
    assert_eq!(call.ended_at, Some(progress.ended_at), "the call's end, not the save");
    assert_eq!(call.duration_s, Some(3));
    assert_eq!(
        call.notes.as_deref(),
        Some("wants a demo\nsoftphone: Connection reset by user")
    );
    assert_eq!(call.ended_by, Some(ann.id));

    // Busy, no answer, declined, failed: never answered, no talk time.
    for (n, status, reason, disposition) in [
        (2, CallStatus::Busy, "486 Busy Here", "busy"),
        (3, CallStatus::NoAnswer, "no answer within 30 s", "no_answer"),
        (4, CallStatus::Declined, "603 Decline", "no_answer"),
        (5, CallStatus::Failed, "404 Not Found", "wrong_number"),
    ] {
        let lead = lead(store, n).await;
        let started = store.start_call(&call_on(lead.id)).await.unwrap();
        let t0 = started.started_at;
        store.clock().advance(Duration::seconds(4));
        store
            .end_call(&EndCall {
                call_id: started.call_id,
                agent_id: ann.id,
                disposition: disposition.into(),
                progress: Some(CallProgress {
                    ringing_at: Some(t0 + Duration::seconds(1)),
                    answered_at: None,
                    ended_at: t0 + Duration::seconds(3),
                    status,
                    reason: reason.into(),
                }),
                ..EndCall::default()
            })
            .await
            .unwrap();
        let call = &store.call_history(lead.id).await.unwrap()[0];
        assert_eq!(call.status, status, "{reason}");
        assert_eq!((call.answered_at, call.duration_s), (None, Some(0)), "{reason}");
        assert_eq!(call.ringing_at, Some(t0 + Duration::seconds(1)));
        assert_eq!(call.ended_at, Some(t0 + Duration::seconds(3)));
        assert_eq!(call.disposition.as_deref(), Some(disposition));
    }

    // A report that contradicts itself is refused and the call stays open for a correct one.
    let lead = lead(store, 6).await;
    let started = store.start_call(&call_on(lead.id)).await.unwrap();
    let contradiction = EndCall {
        call_id: started.call_id,
        agent_id: ann.id,
        disposition: "busy".into(),
        progress: Some(CallProgress {
            ringing_at: None,
            answered_at: None,
            ended_at: started.started_at,
            status: CallStatus::Completed,
            reason: String::new(),
        }),
        ..EndCall::default()
    };
    let err = store.end_call(&contradiction).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::BadInput(m) if m.contains("answered")),
        "{err:?}"
    );
    assert_eq!(store.active_calls().await.unwrap().len(), 1, "the lock is kept");

    // Dialled by hand: as before, no ringing time, the answer at the start for a contact.
    store.clock().advance(Duration::seconds(30));
    store
        .end_call(&EndCall {
            progress: None,
            disposition: "connected".into(),
            ..contradiction
        })
        .await
        .unwrap();
    let call = &store.call_history(lead.id).await.unwrap()[0];
    assert_eq!(call.ringing_at, None);
    assert_eq!(call.answered_at, Some(started.started_at));
    assert_eq!(call.duration_s, Some(30));
}

/// Undoing the call-progress migration keeps every call (the statuses it added read as failed)
/// and every live lock; redoing it brings the columns back and the lock still ends its call.
async fn the_call_progress_migration_keeps_calls_and_locks(store: &Store) {
    let ann = agent(store, "ann").await;
    let done = lead(store, 1).await;
    let live = lead(store, 2).await;
    let started = store
        .start_call(&StartCall {
            lead_id: done.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    store
        .end_call(&EndCall {
            call_id: started.call_id,
            agent_id: ann.id,
            disposition: "no_answer".into(),
            progress: Some(CallProgress {
                ringing_at: Some(started.started_at),
                answered_at: None,
                ended_at: started.started_at,
                status: CallStatus::NoAnswer,
                reason: "no answer within 30 s".into(),
            }),
            ..EndCall::default()
        })
        .await
        .unwrap();
    let open = store
        .start_call(&StartCall {
            lead_id: live.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    loop {
        let undone = store.migrate_down().await.unwrap().expect("the migration is applied");
        if undone.description == "call progress" {
            break;
        }
    }
    store.migrate().await.unwrap();
    let call = &store.call_history(done.id).await.unwrap()[0];
    assert_eq!((call.status, call.ringing_at), (CallStatus::Failed, None));
    assert_eq!(call.disposition.as_deref(), Some("no_answer"));
    let active = store.active_calls().await.unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].call_id, open.call_id);
    store
        .end_call(&EndCall {
            call_id: open.call_id,
            agent_id: ann.id,
            disposition: "busy".into(),
            ..EndCall::default()
        })
        .await
        .unwrap();
    assert!(store.active_calls().await.unwrap().is_empty());
}

async fn call_scripts_are_checked_stored_and_picked_for_each_call(store: &Store) {
    let ann = agent(store, "ann").await;
    let ada = add_agent(store, "ada", coldcall::domain::Role::Admin).await;
    let lead = lead(store, 7).await;
    assert_eq!(
        store.script_for_call(&lead, "ann").await.unwrap(),
        None,
        "none stored yet"
    );

    // Only admins store scripts; names and placeholders are checked before anything is written.
    let refused = store.set_script("default", "Hi {first_name}", Some(ann.id)).await;
    assert!(matches!(refused, Err(StoreError::Forbidden(_))), "{refused:?}");
    for (name, body, says) in [
        ("default", "Hi {firstname}", "unknown field {firstname}"),
        ("has space", "Hi", "script name"),
        ("pitch", "Hi", "neither"),
        ("default", "   ", "empty"),
    ] {
        match store.set_script(name, body, Some(ada.id)).await {
            Err(StoreError::BadInput(message)) => assert!(message.contains(says), "{name}: {message}"),
            other => panic!("{name} {body:?}: {other:?}"),
        }
    }
    assert!(store.scripts().await.unwrap().is_empty());

    let stored = store
        .set_script(
            "default",
            "Hi {first_name}, this is {agent} from Acme.\nIs {company} still looking?",
            Some(ada.id),
        )
        .await
        .unwrap();
    assert_eq!(stored.updated_by, Some(ada.id));
    store
        .set_script(
            "callback",
            "{first_name} asked us to call back. {{Be brief.}}",
            Some(ada.id),
        )
        .await
        .unwrap();
    let names: Vec<String> = store.scripts().await.unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["callback", "default"]);

    // A first call reads the default, filled in for the lead and the agent.
    let first = store.script_for_call(&lead, "ann").await.unwrap().unwrap();
    assert_eq!(first.name, "default");
    assert_eq!(
        first.text,
        "Hi Lead7, this is ann from Acme.\nIs Company 7 still looking?"
    );

    // After a callback outcome, the next call reads its follow-up.
    let call = start_call(store, lead.id, ann.id).await;
    store
        .end_call(&EndCall {
            call_id: call.call_id,
            agent_id: ann.id,
            disposition: "callback".into(),
            callback_at: Some(store.now() + Duration::hours(2)),
            ..EndCall::default()
        })
        .await
        .unwrap();
    let next = store.script_for_call(&lead, "ann").await.unwrap().unwrap();
    assert_eq!(
        (next.name.as_str(), next.text.as_str()),
        ("callback", "Lead7 asked us to call back. {Be brief.}")
    );

    // Replacing and removing are audited; without the follow-up the default applies again.
    store
        .set_script("callback", "Call back {first_name}.", Some(ada.id))
        .await
        .unwrap();
    assert!(store.delete_script("callback", Some(ada.id)).await.unwrap());
    assert!(!store.delete_script("callback", Some(ada.id)).await.unwrap());
    assert_eq!(
        store.script_for_call(&lead, "ann").await.unwrap().unwrap().name,
        "default"
    );
    assert!(matches!(
        store.delete_script("default", Some(ann.id)).await,
        Err(StoreError::Forbidden(_))
    ));
}

async fn what_was_noted_on_a_call_stays_when_its_outcome_is_saved(store: &Store) {
    let ann = agent(store, "ann").await;
    let lead = lead(store, 3).await;
    let call = start_call(store, lead.id, ann.id).await;
    assert!(store
        .note_call(call.call_id, "softphone: baresip is not running; dialled by hand")
        .await
        .unwrap());
    store
        .end_call(&EndCall {
            call_id: call.call_id,
            agent_id: ann.id,
            disposition: "connected".into(),
            notes: Some("spoke to the assistant".into()),
            ..EndCall::default()
        })
        .await
        .unwrap();
    let logged = store.call(call.call_id).await.unwrap().unwrap();
    assert_eq!(
        logged.notes.as_deref(),
        Some("softphone: baresip is not running; dialled by hand\nspoke to the assistant")
    );
}
