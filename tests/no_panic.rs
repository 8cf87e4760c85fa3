//! No input reaches a user as a panic: arbitrary command lines through the real binary, and
//! arbitrary numbers and text through the store's inputs. Errors are fine; exit code 101 (a
//! panic) or a panic message never is.

mod common;

use chrono::{Duration, TimeZone, Utc};
use coldcall::store::{EndCall, StartCall};
use common::binary::{code, stderr, Coldcall};
use proptest::prelude::*;

/// Words a command line is made of: every command and flag coldcall has, values of every kind
/// that have broken programs before, and the empty string.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "lead",
            "call",
            "calls",
            "queue",
            "callback",
            "dnc",
            "settings",
            "agent",
            "db",
            "stats",
            "export",
            "import",
            "backup",
            "restore",
            "gdpr",
            "add",
            "list",
            "show",
            "search",
            "status",
            "start",
            "end",
            "next",
            "reap",
            "release",
            "set",
            "due",
            "done",
            "hand",
            "check",
            "edit",
            "assign",
            "unassign",
            "delete",
            "can-call",
            "history",
            "--limit",
            "--hours",
            "--duration",
            "--disposition",
            "--reason",
            "--at",
            "--agent",
            "--json",
            "--after",
            "--min-score",
            "--max-score",
            "--phone",
            "--first-name",
            "--last-name",
            "--company",
            "--to",
            "--from",
            "lock_ttl_seconds",
            "min_gap_seconds",
            "calling_hours",
            "max_attempts",
            "claim_ttl_seconds",
            "callback_grace_seconds",
            "default_timezone",
            "0",
            "-1",
            "9300000000000000",
            "18446744073709551616",
            "-9223372036854775808",
            "100000000",
            "2026-13-45 25:61",
            "9999-12-31T23:59:59Z",
            "00:00-00:00",
            "23:59-00:00",
            "+1",
            "NaN",
            "",
        ])
        .prop_map(String::from),
        "[ -~]{0,12}",
        "\\PC{0,6}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn no_command_line_makes_coldcall_panic(args in prop::collection::vec(word(), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let cc = Coldcall::new(&format!("sqlite://{}", dir.path().join("floor.db").display()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cc.run(&args);
        let err = stderr(&out);
        prop_assert!(!err.contains("panicked"), "{args:?}: {err}");
        prop_assert!(matches!(code(&out), 0..=3), "{args:?}: exit {} {err}", code(&out));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn no_number_or_time_given_to_the_store_makes_it_panic(
        duration in any::<i32>(),
        offset_s in any::<i64>(),
        limit in any::<u32>(),
        setting in prop::sample::select(vec!["lock_ttl_seconds", "min_gap_seconds", "max_attempts", "claim_ttl_seconds", "callback_grace_seconds", "calling_hours", "default_timezone"]),
        value in prop_oneof![any::<i64>().prop_map(|n| n.to_string()), "\\PC{0,12}"],
        text in "\\PC{0,40}",
    ) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let db = common::sqlite().await;
            let store = &db.store;
            let ann = common::agent(store, "ann").await;
            let lead = common::lead(store, 1).await;
            let _ = store.set_setting(setting, &value).await;
            let at = Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap()
                .checked_add_signed(Duration::try_seconds(offset_s / 1000).unwrap_or_default())
                .unwrap_or(chrono::DateTime::<Utc>::MAX_UTC);
            let _ = store.schedule_callback(lead.id, ann.id, at, Some(&text)).await;
            let _ = store.assign(lead.id, ann.id, None, Some(at)).await;
            let _ = store.list_leads(&Default::default(), None, limit).await;
            let _ = store.search_leads(&text, &Default::default(), limit).await;
            let _ = store.queue_preview(ann.id, limit).await;
            let _ = store.dnc_add(&text, Some(&text), None).await;
            let _ = store.claim_next(ann.id).await;
            if let Ok(call) = store.start_call(&StartCall { lead_id: lead.id, agent_id: ann.id, from_number: Some(text.clone()) }).await {
                let _ = store.end_call(&EndCall {
                    call_id: call.call_id,
                    agent_id: ann.id,
                    disposition: "callback".into(),
                    duration_s: Some(duration),
                    notes: Some(text.clone()),
                    callback_at: Some(at),
                    recording_url: Some(text.clone()),
                    ..EndCall::default()
                }).await;
            }
            let _ = store.reap_stale_locks(None).await;
            let _ = store.presence().await;
        });
    }
}
