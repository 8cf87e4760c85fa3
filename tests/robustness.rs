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
