//! Faults a careless admin, a careless agent or a hostile file would bring: settings out of
//! range, numbers out of bounds, escape codes in text, misspelt database URLs, a closed pipe.
//! Each is a class, tested through the store on both backends and through the real binary.

mod common;

use chrono::Duration;
use coldcall::store::{EndCall, StartCall, Store, StoreError};
use common::binary::{code, stderr, stdout, Coldcall};
use common::*;

async fn a_setting_stored_out_of_range_is_refused_by_name_not_a_panic(db: &TestDb) {
    let store = &db.store;
    let ann = agent(store, "ann").await;
    let lead = lead(store, 1).await;
    // Written by hand (or by an older coldcall): the API would refuse it.
    let raw = "UPDATE settings SET value = '9300000000000000' WHERE key = 'lock_ttl_seconds'";
    let changed = match &db.url {
        u if u.starts_with("postgres") => {
            let pool = sqlx::PgPool::connect(u).await.unwrap();
            sqlx::query("INSERT INTO settings (key, value, updated_at) VALUES ('lock_ttl_seconds', '9300000000000000', now()) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value").execute(&pool).await.unwrap().rows_affected()
        }
        u => {
            let path = u.trim_start_matches("sqlite://");
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{path}")).await.unwrap();
            let n = sqlx::query(raw).execute(&pool).await.unwrap().rows_affected();
            if n == 0 {
                sqlx::query("INSERT INTO settings (key, value, updated_at) VALUES ('lock_ttl_seconds', '9300000000000000', CURRENT_TIMESTAMP)")
                    .execute(&pool)
                    .await
                    .unwrap()
                    .rows_affected()
            } else {
                n
            }
        }
    };
    assert_eq!(changed, 1);
    for result in [
        store
            .start_call(&StartCall {
                lead_id: lead.id,
                agent_id: ann.id,
                from_number: None,
            })
            .await
            .map(|_| ()),
        store.claim_next(ann.id).await.map(|_| ()),
        store.reap_stale_locks(None).await.map(|_| ()),
        store.presence().await.map(|_| ()),
    ] {
        match result {
            Err(StoreError::BadSetting(msg)) => assert!(msg.contains("lock_ttl_seconds"), "{msg}"),
            other => panic!("expected a refusal naming the setting, got {other:?}"),
        }
    }
    assert!(store.set_setting("lock_ttl_seconds", "9300000000000000").await.is_err());
    store.set_setting("lock_ttl_seconds", "60").await.unwrap();
    assert!(store.claim_next(ann.id).await.is_ok(), "fixed by setting it again");
}

async fn numbers_and_times_from_users_are_bounded_by_name(store: &Store) {
    let ann = agent(store, "ann").await;
    let lead = lead(store, 1).await;
    let far = store.now() + Duration::days(400);
    let err = store.schedule_callback(lead.id, ann.id, far, None).await.unwrap_err();
    assert!(err.to_string().contains("callback time"), "{err}");
    let err = store.assign(lead.id, ann.id, None, Some(far)).await.unwrap_err();
    assert!(err.to_string().contains("assignment end"), "{err}");
    assert!(
        store.list_leads(&Default::default(), None, 0).await.is_err(),
        "0 rows is an error"
    );
    let call = store
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    let err = store
        .end_call(&EndCall {
            call_id: call.call_id,
            agent_id: ann.id,
            disposition: "interested".into(),
            duration_s: Some(i32::MAX),
            ..EndCall::default()
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("duration"), "{err}");
}

async fn escape_codes_in_typed_text_never_reach_the_database(store: &Store) {
    let ann = agent(store, "ann").await;
    let lead = lead(store, 1).await;
    let osc52 = "\u{1b}]52;c;ZXZpbA==\u{7}";
    let err = store
        .set_status(
            lead.id,
            coldcall::domain::LeadStatus::Contacted,
            Some(&format!("ok{osc52}")),
            Some(ann.id),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("reason"), "{err}");
    assert!(store.dnc_add("+12125550111", Some("\u{1b}[2J"), None).await.is_err());
    let call = store
        .start_call(&StartCall {
            lead_id: lead.id,
            agent_id: ann.id,
            from_number: None,
        })
        .await
        .unwrap();
    assert!(store
        .end_call(&EndCall {
            call_id: call.call_id,
            agent_id: ann.id,
            disposition: "interested".into(),
            recording_url: Some("javascript:alert(1)".into()),
            ..EndCall::default()
        })
        .await
        .is_err());
    store
        .end_call(&EndCall {
            call_id: call.call_id,
            agent_id: ann.id,
            disposition: "interested".into(),
            notes: Some(format!("line one\nline two{osc52}")),
            ..EndCall::default()
        })
        .await
        .unwrap();
    let notes = store.call(call.call_id).await.unwrap().unwrap().notes.unwrap();
    assert!(!notes.chars().any(|c| c.is_control() && c != '\n'), "{notes:?}");
    assert!(notes.starts_with("line one\nline two"));
}

/// A caller id is a number a carrier can present: stored in E.164, or refused by name with no
/// call started. The floor server's start-call route reaches the same flow (`::server`).
async fn a_caller_id_is_stored_as_a_number_or_refused_by_name(store: &Store) {
    let ann = agent(store, "ann").await;
    let lead = lead(store, 1).await;
    let from = |number: &str| StartCall {
        lead_id: lead.id,
        agent_id: ann.id,
        from_number: Some(number.to_string()),
    };
    let long = format!("+1{}", "5".repeat(600));
    for bad in [
        "+14155550100\u{1b}]52;c;ZXZpbA==\u{7}",
        "+1415\n5550100",
        "+14155550100\u{0}",
        "4155550100",
        "sip:evil@example.com",
        long.as_str(),
    ] {
        let err = store.start_call(&from(bad)).await.unwrap_err();
        assert!(matches!(err, StoreError::BadInput(_)), "{bad:?}: {err:?}");
        assert!(err.to_string().contains("caller id"), "{bad:?}: {err}");
    }
    assert!(
        store.active_calls().await.unwrap().is_empty(),
        "no refused call took the lock"
    );
    let call = store.start_call(&from(" 0044 20 7946 0958 ")).await.unwrap();
    let logged = store.call(call.call_id).await.unwrap().unwrap();
    assert_eq!(logged.from_number.as_deref(), Some("+442079460958"));
}

on_every_backend!(a_caller_id_is_stored_as_a_number_or_refused_by_name);
on_both_backends!(pass = db; a_setting_stored_out_of_range_is_refused_by_name_not_a_panic);
on_both_backends!(
    numbers_and_times_from_users_are_bounded_by_name,
    escape_codes_in_typed_text_never_reach_the_database
);

#[test]
fn misspelt_database_urls_are_errors_that_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for url in ["Postgres://u@h/db", "pg://u@h/db", "postgres:/u@h/db", "mysql://u@h/db"] {
        let cc = Coldcall::new(url);
        let out = cc.run(&["lead", "list"]);
        assert_eq!(code(&out), 1, "{url}");
        assert!(stderr(&out).contains("postgres://"), "{url}: {}", stderr(&out));
    }
    let bare = dir.path().join("floor");
    let out = Coldcall::new(bare.to_str().unwrap()).run(&["lead", "list"]);
    assert_eq!(code(&out), 1);
    assert!(!bare.exists(), "no private database was created");
}

#[test]
fn a_closed_pipe_ends_a_command_quietly_and_stored_escape_codes_do_not_reach_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("floor.db");
    let cc = Coldcall::new(&format!("sqlite://{}", db.display()));
    for n in 0..40 {
        let out = cc.run(&[
            "lead",
            "add",
            "--first-name",
            &format!("Lead{n}"),
            "--last-name",
            "Tester",
            "--phone",
            &format!("+1212555{:04}", n),
            "--company",
            "Acme",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // A note written by hand with a clipboard write and a screen clear in it.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
        // Long enough that the export overflows the pipe's buffer after `head` has gone.
        sqlx::query("UPDATE leads SET notes = 'hi' || char(27) || ']52;c;ZXZpbA==' || char(7) || char(27) || '[2J' || replace(hex(zeroblob(5000)), '0', 'n')")
            .execute(&pool)
            .await
            .unwrap();
    });
    let out = cc.run(&["export", "leads"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains('\u{1b}'), "escape codes reached stdout");

    let child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' --database 'sqlite://{}' export leads | head -1",
            env!("CARGO_BIN_EXE_coldcall"),
            db.display()
        ))
        .env("COLDCALL_DATA_DIR", cc.data_dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&child.stderr);
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
}

#[test]
fn call_start_refuses_a_caller_id_that_is_not_a_number() {
    let dir = tempfile::tempdir().unwrap();
    let cc = Coldcall::new(&format!("sqlite://{}", dir.path().join("floor.db").display()));
    cc.json(&["db", "seed", "--leads", "1"]);
    let lead = cc.json(&[&ADD_ADA_QUINN[..], &["--timezone", zone_in_office_hours()]].concat());
    let lead = lead["id"].as_str().unwrap();
    for bad in ["+16465550100\u{1b}[2J", "646 555 0100", "+1 555 CALL NOW"] {
        let out = cc.run(&["--agent", "alice", "call", "start", lead, "--from", bad]);
        assert_eq!(code(&out), 1, "{bad:?}");
        assert!(stderr(&out).contains("caller id"), "{bad:?}: {}", stderr(&out));
    }
    assert_eq!(
        cc.json(&["calls", "active"]).as_array().unwrap().len(),
        0,
        "nothing started"
    );
    let started = cc.json(&["--agent", "alice", "call", "start", lead, "--from", "+1 (646) 555-0100"]);
    let history = cc.json(&["lead", "history", lead]);
    assert_eq!(history[0]["id"], started["call_id"]);
    assert_eq!(history[0]["from_number"], "+16465550100");
}

/// Escape codes in an imported contact's label (a CRM export written by anyone) never reach the
/// database: that contact point is left out and counted, the lead and its clean points go in.
#[test]
fn escape_codes_in_an_imported_contact_label_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cc = Coldcall::new(&format!("sqlite://{}", dir.path().join("floor.db").display()));
    let csv = dir.path().join("google.csv");
    std::fs::write(
        &csv,
        "First Name,Last Name,Organization Name,Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,Phone 2 - Value,\
         Phone 3 - Label,Phone 3 - Value\n\
         Ada,Quinn,Quinn Freight,Work,+1 646 555 0142,\"Mobile\u{1b}]52;c;ZXZpbA==\u{7}\",+1 646 555 0143,\
         Home,+1 646 555 0144\n",
    )
    .unwrap();
    let dry = cc.run(&["import", csv.to_str().unwrap(), "--dry-run"]);
    assert!(stdout(&dry).contains("1 not valid and left out"), "{}", stdout(&dry));
    let report = cc.json(&["import", csv.to_str().unwrap()]);
    assert_eq!(report["report"]["imported"], 1, "{report}");
    assert_eq!(report["report"]["invalid_contact_points"], 1, "{report}");
    let id = cc.json(&["lead", "list"])["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = cc.json(&["lead", "show", &id]);
    let contacts = shown["contacts"].as_array().unwrap();
    let values: Vec<(&str, &str)> = contacts
        .iter()
        .map(|c| (c["value"].as_str().unwrap(), c["label"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(values, [("+16465550144", "home")], "{shown}");
}
