//! The floor server, in process, on a real PostgreSQL database, reached through a real HTTP
//! client: every route for every kind of caller (no token, an expired one, a revoked one, each
//! role), logins with enrolment and throttling, the change feed, and two servers on one database.

mod common;

use std::collections::HashMap;

use chrono::Duration;
use coldcall::domain::Role;
use coldcall::server::config::ServerSettings;
use coldcall::server::{self, auth, routes::admin};
use coldcall::store::{Agent, NewAgent, Store};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use common::TestDb;

const PASSWORD: &str = "correct horse battery staple";

fn settings() -> ServerSettings {
    ServerSettings {
        listen: "127.0.0.1:0".into(),
        feed_poll_ms: 50,
        ..ServerSettings::default()
    }
}

struct Running {
    server: server::Server,
    base: String,
}

async fn start(store: &Store) -> Running {
    let server = server::start(store.clone(), settings(), "US".into())
        .await
        .expect("server starts");
    let base = format!("http://{}", server.addr.expect("a TCP address"));
    Running { server, base }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

async fn add(store: &Store, name: &str, role: Role) -> Agent {
    store
        .add_agent(&NewAgent {
            name: name.into(),
            email: None,
            role,
        })
        .await
        .expect("add agent")
}

/// Enrols the agent through the server with a fresh code and returns the session token.
async fn enrol(store: &Store, base: &str, agent: &Agent) -> String {
    let code = admin::issue_enrolment(store, agent, Duration::hours(1), None)
        .await
        .unwrap();
    let reply = http()
        .post(format!("{base}/api/v1/login"))
        .json(&json!({ "name": agent.name, "code": code, "new_password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK, "{}", reply.text().await.unwrap());
    reply.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn call(base: &str, token: Option<&str>, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = http().request(method, format!("{base}/api/v1{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let is_stream = resp
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/event-stream"));
    if is_stream {
        return (status, Value::Null);
    }
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Everything the database holds, as one digest per table: equal digests, nothing written.
async fn fingerprint(db: &TestDb) -> HashMap<String, String> {
    static POOLS: std::sync::Mutex<Vec<(String, sqlx::PgPool)>> = std::sync::Mutex::new(Vec::new());
    let known = POOLS
        .lock()
        .unwrap()
        .iter()
        .find(|(u, _)| *u == db.url)
        .map(|(_, p)| p.clone());
    let pool = match known {
        Some(p) => p,
        None => {
            let p = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&db.url)
                .await
                .unwrap();
            POOLS.lock().unwrap().push((db.url.clone(), p.clone()));
            p
        }
    };
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut out = HashMap::new();
    for t in tables {
        // Table names come from the catalogue, not from input.
        let digest: Option<String> = sqlx::query_scalar(&format!(
            "SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM \"{t}\" x"
        ))
        .fetch_one(&pool)
        .await
        .unwrap();
        out.insert(t, digest.unwrap_or_default());
    }
    out
}

fn changed(before: &HashMap<String, String>, after: &HashMap<String, String>) -> Vec<String> {
    let mut tables: Vec<String> = after
        .iter()
        .filter(|(t, d)| before.get(*t) != Some(d))
        .map(|(t, _)| t.clone())
        .collect();
    tables.sort();
    tables
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Need {
    Agent,
    Supervisor,
    Admin,
}

fn rank(role: Role) -> Need {
    match role {
        Role::Agent => Need::Agent,
        Role::Supervisor => Need::Supervisor,
        Role::Admin => Need::Admin,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_gives_each_caller_exactly_what_its_role_allows() {
    let db = common::postgres().await;
    let store = &db.store;
    let run = start(store).await;
    let base = run.base.as_str();

    let alice = add(store, "alice", Role::Agent).await;
    let sam = add(store, "sam", Role::Supervisor).await;
    let ada = add(store, "ada", Role::Admin).await;
    let bob = add(store, "bob", Role::Agent).await;
    let dave = add(store, "dave", Role::Agent).await;
    let mut tokens: Vec<(Role, String)> = Vec::new();
    for agent in [&alice, &sam, &ada] {
        tokens.push((agent.role, enrol(store, base, agent).await));
    }
    // An expired session (its absolute end has come) and a revoked one, both alice's.
    let expired = auth::new_token();
    store
        .create_session(&auth::secret_hash(&expired), alice.id, store.now(), None)
        .await
        .unwrap();
    let revoked = auth::new_token();
    store
        .create_session(
            &auth::secret_hash(&revoked),
            alice.id,
            store.now() + Duration::days(1),
            None,
        )
        .await
        .unwrap();
    store.end_session(&auth::secret_hash(&revoked)).await.unwrap();

    let lead = common::lead(store, 1).await;
    let erasable = common::lead(store, 2).await;
    let mergeable = common::lead(store, 3).await;
    let future = (store.now() + Duration::hours(2)).to_rfc3339();
    let nobody = uuid::Uuid::now_v7();
    let l = lead.id;
    let e = erasable.id;
    let fields = json!({ "first_name": "Ann", "last_name": "Other", "phone": "+12125559999",
        "company": "Acme", "timezone": "America/New_York" });
    let from = (store.now() - Duration::days(1)).to_rfc3339();
    let to = store.now().to_rfc3339();
    use Method as M;
    use Need::*;
    let routes: Vec<(Method, String, Option<Value>, Need)> = vec![
        (M::GET, "/me".into(), None, Agent),
        (M::GET, "/leads".into(), None, Agent),
        (M::GET, "/leads/search?q=Lead1".into(), None, Agent),
        (M::GET, format!("/leads/{l}"), None, Agent),
        (M::POST, "/leads".into(), Some(json!({ "fields": fields })), Agent),
        (
            M::PUT,
            format!("/leads/{l}"),
            Some(json!({ "fields": { "first_name": "Lead1", "last_name": "Tester",
            "phone": "+12125550001", "company": "Company 1", "timezone": "America/New_York" } })),
            Agent,
        ),
        (M::GET, format!("/leads/{l}/can-call"), None, Agent),
        (M::POST, format!("/leads/{l}/start-call"), None, Agent),
        (
            M::POST,
            format!("/leads/{l}/end-call"),
            Some(json!({ "call_id": nobody, "disposition": "no_answer" })),
            Agent,
        ),
        (
            M::POST,
            format!("/leads/{l}/end-call"),
            Some(json!({ "call_id": nobody, "disposition": "no_answer", "force": true })),
            Supervisor,
        ),
        (M::GET, format!("/leads/{l}/call-history"), None, Agent),
        (M::GET, format!("/leads/{l}/status-history"), None, Agent),
        (
            M::POST,
            format!("/leads/{l}/status"),
            Some(json!({ "status": "contacted", "reason": "spoke" })),
            Agent,
        ),
        (M::GET, format!("/leads/{l}/contacts"), None, Agent),
        (
            M::POST,
            format!("/leads/{l}/contacts"),
            Some(json!({ "kind": "email", "value": "x@example.com",
            "label": null, "is_primary": false, "is_verified": false })),
            Agent,
        ),
        (M::POST, format!("/leads/{l}/assign"), Some(json!({})), Agent),
        (
            M::POST,
            format!("/leads/{l}/assign"),
            Some(json!({ "agent": "bob" })),
            Supervisor,
        ),
        // bob's assignment now: ending it is a supervisor's call
        (M::DELETE, format!("/leads/{l}/assignment"), None, Supervisor),
        (M::GET, format!("/leads/{l}/assignments"), None, Agent),
        (
            M::POST,
            format!("/leads/{l}/callbacks"),
            Some(json!({ "due_at": future })),
            Agent,
        ),
        (M::GET, format!("/leads/{l}/personal-data"), None, Supervisor),
        (
            M::POST,
            format!("/leads/{e}/erase"),
            Some(json!({ "reason": "asked by email" })),
            Supervisor,
        ),
        (M::GET, "/active-calls".into(), None, Agent),
        (M::POST, format!("/calls/{nobody}/heartbeat"), None, Agent),
        (
            M::POST,
            format!("/calls/{nobody}/release"),
            Some(json!({ "reason": "stuck" })),
            Supervisor,
        ),
        (M::POST, "/queue/claim-next".into(), None, Agent),
        (M::GET, "/queue/preview".into(), None, Agent),
        (M::GET, "/callbacks".into(), None, Agent),
        (M::GET, "/callbacks?all=true".into(), None, Supervisor),
        (M::POST, format!("/callbacks/{nobody}/complete"), None, Agent),
        (
            M::POST,
            format!("/callbacks/{nobody}/hand"),
            Some(json!({ "to": "bob" })),
            Supervisor,
        ),
        (M::PUT, "/presence".into(), Some(json!({ "state": "ready" })), Agent),
        (M::GET, "/presence".into(), None, Supervisor),
        (
            M::GET,
            format!("/floor/figures?from={}&to={}", enc(&from), enc(&to)),
            None,
            Supervisor,
        ),
        (M::GET, "/dnc/+12125550002".replace('+', "%2B"), None, Agent),
        (
            M::POST,
            "/dnc".into(),
            Some(json!({ "number": "+12125550077", "reason": "asked" })),
            Agent,
        ),
        (M::DELETE, "/dnc/%2B12125550077".into(), None, Admin),
        (M::GET, "/settings".into(), None, Agent),
        (
            M::PUT,
            "/settings/max_attempts".into(),
            Some(json!({ "value": "7" })),
            Admin,
        ),
        (M::GET, "/dispositions".into(), None, Agent),
        (M::GET, "/agents".into(), None, Supervisor),
        (
            M::POST,
            "/agents".into(),
            Some(json!({ "name": "mallory", "role": "admin" })),
            Admin,
        ),
        (M::POST, "/agents/bob/enrol".into(), None, Admin),
        (M::POST, "/agents/dave/revoke".into(), None, Admin),
        (
            M::PUT,
            "/agents/dave/active".into(),
            Some(json!({ "active": true })),
            Admin,
        ),
        (
            M::POST,
            format!("/calls/{nobody}/notes"),
            Some(json!({ "text": "x" })),
            Agent,
        ),
        (M::POST, "/calls/reap".into(), None, Agent),
        (
            M::PUT,
            format!("/contacts/{nobody}"),
            Some(json!({ "kind": "email", "value": "y@example.com",
            "label": null, "is_primary": false, "is_verified": false })),
            Agent,
        ),
        (M::DELETE, format!("/contacts/{nobody}"), None, Agent),
        (M::DELETE, format!("/leads/{e}"), None, Agent),
        (M::POST, format!("/leads/{e}/restore"), None, Agent),
        (M::GET, "/changes/head".into(), None, Agent),
        (M::GET, "/changes".into(), None, Agent),
        (
            M::PUT,
            "/scripts/default".into(),
            Some(json!({ "body": "Hi {first_name}, this is {agent}." })),
            Admin,
        ),
        (M::GET, "/scripts".into(), None, Agent),
        (M::GET, "/scripts/default".into(), None, Agent),
        (M::GET, format!("/leads/{l}/script"), None, Agent),
        (M::DELETE, "/scripts/callback".into(), None, Admin),
        (M::GET, format!("/calls/{nobody}"), None, Agent),
        (M::GET, "/calls/prefix/0190".into(), None, Agent),
        (M::GET, "/callbacks/prefix/0190".into(), None, Agent),
        (M::GET, "/callbacks/prefix/0190?all=true".into(), None, Supervisor),
        (M::GET, "/leads/prefix/0190".into(), None, Agent),
        (M::GET, format!("/leads/{l}/merged-into"), None, Agent),
        (M::GET, "/leads/duplicates".into(), None, Supervisor),
        (
            M::POST,
            format!("/leads/{l}/merge"),
            Some(json!({ "other": mergeable.id })),
            Supervisor,
        ),
        (M::GET, "/queue/why".into(), None, Agent),
        (M::GET, "/floor/offline".into(), None, Supervisor),
        (M::GET, "/changes/since?cursor=0:0".into(), None, Agent),
        (M::POST, "/assignments/expire".into(), None, Supervisor),
        (
            M::POST,
            "/import/leads".into(),
            Some(json!({ "rows": [], "mode": "skip", "reason": "import" })),
            Admin,
        ),
        (M::POST, "/import/dnc".into(), Some(json!({ "rows": [] })), Admin),
        (
            M::POST,
            "/import/record".into(),
            Some(json!({ "what": "leads", "file": "x.csv", "summary": {} })),
            Admin,
        ),
        (M::GET, "/export/calls".into(), None, Admin),
        // Last: each allowed call takes a lead off the floor.
        (
            M::POST,
            "/offline/checkouts".into(),
            Some(json!({ "leads": 1, "hours": 8, "for": "bob" })),
            Admin,
        ),
        (
            M::POST,
            "/offline/checkouts".into(),
            Some(json!({ "leads": 1, "hours": 8 })),
            Agent,
        ),
    ];
    let _ = (&bob, &dave);
    // The list covers every operation of the OpenAPI document (those tested on their own aside).
    let (_, doc) = call(base, None, M::GET, "/openapi.json", None).await;
    let own_tests = [
        "/api/v1/login",
        "/api/v1/logout",
        "/api/v1/me/password",
        "/api/v1/offline/sync",
    ];
    for (template, ops) in doc["paths"].as_object().unwrap() {
        if own_tests.contains(&template.as_str()) {
            continue;
        }
        for method in ops.as_object().unwrap().keys() {
            let covered = routes.iter().any(|(m, path, _, _)| {
                let path = format!("/api/v1{}", path.split('?').next().unwrap());
                let (a, b): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
                m.as_str().eq_ignore_ascii_case(method)
                    && a.len() == b.len()
                    && a.iter().zip(&b).all(|(t, p)| t.starts_with('{') || t == p)
            });
            assert!(covered, "{method} {template} is not in the authorisation test");
        }
    }
    for (method, path, body, need) in &routes {
        let what = format!("{method} {path}");
        for (label, token) in [
            ("no token", None),
            ("expired token", Some(expired.as_str())),
            ("revoked token", Some(revoked.as_str())),
            ("made-up token", Some("ccs_0000")),
        ] {
            let before = fingerprint(&db).await;
            let (status, problem) = call(base, token, method.clone(), path, body.clone()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what} with {label}: {problem}");
            assert_eq!(problem["kind"], "unauthorized", "{what}");
            assert!(
                changed(&before, &fingerprint(&db).await).is_empty(),
                "{what} with {label} wrote"
            );
        }
        for (role, token) in &tokens {
            let before = fingerprint(&db).await;
            let (status, problem) = call(base, Some(token), method.clone(), path, body.clone()).await;
            if rank(*role) >= *need {
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN && status.as_u16() < 500,
                    "{what} as {role}: {status} {problem}"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{what} as {role}: {problem}");
                assert_eq!(problem["kind"], "forbidden");
                assert!(problem["detail"].as_str().unwrap().starts_with("only "), "{problem}");
                assert_eq!(
                    changed(&before, &fingerprint(&db).await),
                    Vec::<String>::new(),
                    "{what} as {role} was refused but wrote"
                );
            }
        }
    }
    // What the admins' routes did is on record with the admin's name: mallory exists, made by ada.
    let mallory = store
        .agent_by_name("mallory")
        .await
        .unwrap()
        .expect("the admin added mallory");
    assert_eq!(mallory.role, Role::Admin);
    // A script reads with the session's agent: sam's token gets sam, whatever the request says.
    let (_, script) = call(base, Some(&tokens[1].1), M::GET, &format!("/leads/{l}/script"), None).await;
    assert_eq!(script["text"], "Hi Lead1, this is sam.", "{script}");
    let (_, settings) = call(base, Some(&tokens[0].1), M::GET, "/settings", None).await;
    assert!(settings.to_string().contains("[\"max_attempts\",\"7\"]"), "{settings}");
    run.server.stop().await.unwrap();
}

fn enc(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_acting_agent_is_the_session_s_never_a_field_of_the_request() {
    let db = common::postgres().await;
    let store = &db.store;
    let run = start(store).await;
    let alice = add(store, "alice", Role::Agent).await;
    let bob = add(store, "bob", Role::Agent).await;
    let sam = add(store, "sam", Role::Supervisor).await;
    let alice_t = enrol(store, &run.base, &alice).await;
    let bob_t = enrol(store, &run.base, &bob).await;
    let sam_t = enrol(store, &run.base, &sam).await;
    let lead = common::lead(store, 1).await;

    let (status, started) = call(
        &run.base,
        Some(&alice_t),
        Method::POST,
        &format!("/leads/{}/start-call", lead.id),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_eq!(started["agent_id"], alice.id);
    // An unknown field naming another agent is refused, not obeyed.
    let (status, problem) = call(
        &run.base,
        Some(&bob_t),
        Method::POST,
        &format!("/leads/{}/start-call", lead.id),
        Some(json!({ "agent_id": bob.id })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    // bob cannot start a call on the lead alice is on: 409 with who and since when
    let (status, problem) = call(
        &run.base,
        Some(&bob_t),
        Method::POST,
        &format!("/leads/{}/start-call", lead.id),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["kind"], "refused");
    assert_eq!(problem["code"], "on_another_call");
    assert_eq!(problem["refusal"]["agent"], "alice");
    assert!(problem["refusal"]["since"].is_string());
    // bob cannot end it, and that writes nothing
    let before = fingerprint(&db).await;
    let (status, problem) = call(
        &run.base,
        Some(&bob_t),
        Method::POST,
        &format!("/leads/{}/end-call", lead.id),
        Some(json!({ "call_id": started["call_id"], "disposition": "no_answer" })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert!(changed(&before, &fingerprint(&db).await).is_empty());
    // a supervisor releases it with a reason, recorded under the supervisor's name
    let (status, released) = call(
        &run.base,
        Some(&sam_t),
        Method::POST,
        &format!("/calls/{}/release", started["call_id"].as_str().unwrap()),
        Some(json!({ "reason": "alice's console froze" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{released}");
    let (_, active) = call(&run.base, Some(&bob_t), Method::GET, "/active-calls", None).await;
    assert_eq!(active, json!([]));
    // invalid input names the field
    let (status, problem) = call(
        &run.base,
        Some(&sam_t),
        Method::POST,
        &format!("/calls/{}/release", uuid::Uuid::now_v7()),
        Some(json!({ "reason": "  " })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(problem["fields"][0]["field"].is_string(), "{problem}");
    run.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_once_then_passwords_and_wrong_ones_slow_down() {
    let db = common::postgres().await;
    let store = &db.store;
    let run = start(store).await;
    let base = run.base.as_str();
    let alice = add(store, "alice", Role::Agent).await;
    let code = admin::issue_enrolment(store, &alice, Duration::hours(1), None)
        .await
        .unwrap();
    let login = |body: Value| async move {
        let resp = http()
            .post(format!("{base}/api/v1/login"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let retry = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        (status, retry, resp.json::<Value>().await.unwrap())
    };
    // a short password is refused naming the field, and the code stays usable
    let (status, _, problem) = login(json!({ "name": "alice", "code": code, "new_password": "short" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["fields"][0]["field"], "new_password");
    // the code, typed loosely, sets the password and logs in
    let (status, _, reply) =
        login(json!({ "name": "alice", "code": code.to_lowercase().replace('-', " "), "new_password": PASSWORD }))
            .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["role"], "agent");
    assert!(reply["token"].as_str().unwrap().len() >= 36);
    // only the token's hash is stored
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM agent_sessions")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(stored, vec![auth::secret_hash(reply["token"].as_str().unwrap())]);
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM agent_credentials")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"));
    // the code is spent
    let (status, _, _) = login(json!({ "name": "alice", "code": code, "new_password": "another long one" })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // name and password work
    let (status, _, _) = login(json!({ "name": "alice", "password": PASSWORD })).await;
    assert_eq!(status, StatusCode::OK);
    // wrong passwords: after a few (this address has one failure already, the spent code),
    // even the right one has to wait
    let mut wrong = 0;
    loop {
        let (status, _, problem) = login(json!({ "name": "alice", "password": "wrong wrong wrong" })).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
        assert_eq!(problem["code"], "bad_credentials");
        wrong += 1;
        assert!(wrong <= 3, "three failures are free, the fourth waits");
    }
    assert_eq!(wrong, 2, "the spent code and two wrong passwords from this address");
    let (status, retry, problem) = login(json!({ "name": "alice", "password": PASSWORD })).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{problem}");
    assert!(retry.unwrap().parse::<u64>().unwrap() >= 1);
    // the same from this address for another name
    let (status, _, _) = login(json!({ "name": "nobody", "password": "x" })).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // logins and failures are in the audit log, without secrets
    let audit: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT action, entity_id, new_value::text FROM audit_log WHERE entity = 'agent' ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let actions: Vec<&str> = audit.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "enrol",
            "enrolled",
            "login",
            "login_failed",
            "login",
            "login_failed",
            "login_failed"
        ]
    );
    let text = format!("{audit:?}");
    assert!(!text.contains(PASSWORD) && !text.contains(&code) && !text.contains(reply["token"].as_str().unwrap()));
    pool.close().await;
    run.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_when_idle_end_on_logout_and_revoke_and_deactivation() {
    let db = common::postgres().await;
    let store = &db.store;
    let run = start(store).await;
    let base = run.base.as_str();
    let alice = add(store, "alice", Role::Agent).await;
    let a1 = enrol(store, base, &alice).await;
    let me = |t: String| async move { call(base, Some(&t), Method::GET, "/me", None).await };
    assert_eq!(me(a1.clone()).await.0, StatusCode::OK);
    // idle for 11 hours: still fine (and touched); 12 more idle hours: expired
    store.clock().advance(Duration::hours(11));
    assert_eq!(me(a1.clone()).await.0, StatusCode::OK);
    store.clock().advance(Duration::hours(12));
    let (status, problem) = me(a1.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem["code"], "session_expired");
    // logout ends the session
    let resp = http()
        .post(format!("{base}/api/v1/login"))
        .json(&json!({ "name": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let a2 = resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = http()
        .post(format!("{base}/api/v1/login"))
        .json(&json!({ "name": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let a3 = resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        call(base, Some(&a2), Method::POST, "/logout", None).await.0,
        StatusCode::OK
    );
    assert_eq!(me(a2.clone()).await.1["code"], "session_revoked");
    assert_eq!(me(a3.clone()).await.0, StatusCode::OK);
    // an admin's revoke ends every session at once
    // (two: a3, and the first one, which expired idle but had not been ended)
    assert_eq!(admin::revoke_sessions(store, &alice, None).await.unwrap(), 2);
    assert_eq!(me(a3).await.1["code"], "session_revoked");
    // a deactivated agent cannot log in, and their live session stops working
    let resp = http()
        .post(format!("{base}/api/v1/login"))
        .json(&json!({ "name": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let a4 = resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    store.set_agent_active(alice.id, false).await.unwrap();
    assert_eq!(me(a4).await.1["code"], "agent_deactivated");
    let resp = http()
        .post(format!("{base}/api/v1/login"))
        .json(&json!({ "name": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // the absolute limit holds however busy the session is
    store.set_agent_active(alice.id, true).await.unwrap();
    let resp = http()
        .post(format!("{base}/api/v1/login"))
        .json(&json!({ "name": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let a5 = resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    for i in 1..=16 {
        store.clock().advance(Duration::hours(11));
        let (status, problem) = me(a5.clone()).await;
        if i * 11 < 7 * 24 {
            assert_eq!(status, StatusCode::OK, "after {}h: {problem}", i * 11);
        } else {
            assert_eq!(problem["code"], "session_expired", "after {}h", i * 11);
        }
    }
    run.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_the_openapi_document() {
    let db = common::postgres().await;
    let run = start(&db.store).await;
    let get = |path: &str| http().get(format!("{}{path}", run.base)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), StatusCode::OK);
    let ready = get("/readyz").await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let doc: Value = get("/api/v1/openapi.json").await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for seed in [
        "/api/v1/leads/{id}/can-call",
        "/api/v1/leads/{id}/start-call",
        "/api/v1/leads/{id}/end-call",
        "/api/v1/leads/{id}/call-history",
        "/api/v1/leads/{id}/status-history",
        "/api/v1/active-calls",
        "/api/v1/queue/claim-next",
        "/api/v1/changes",
        "/api/v1/login",
    ] {
        assert!(paths.contains_key(seed), "{seed} missing from the OpenAPI document");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let unknown = get("/nope").await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.headers()["content-type"], "application/problem+json");
    run.server.stop().await.unwrap();
}

/// Reads server-sent events until `want` returns true for one of them (or times out).
async fn next_change(resp: &mut reqwest::Response, want: impl Fn(&Value) -> bool) -> (String, Value) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut buffer = String::new();
    loop {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .expect("an event in time")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let id = frame
                .lines()
                .find_map(|l| l.strip_prefix("id: ").or(l.strip_prefix("id:")))
                .map(str::to_string);
            let data = frame
                .lines()
                .find_map(|l| l.strip_prefix("data: ").or(l.strip_prefix("data:")));
            if let (Some(id), Some(data)) = (id, data) {
                let value: Value = serde_json::from_str(data).unwrap();
                if want(&value) {
                    return (id, value);
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_a_lock_through_one_is_refused_and_seen_through_the_other() {
    let db = common::postgres().await;
    let store = &db.store;
    let one = start(store).await;
    // The second server is another process's: its own pool on the same database.
    let other_store = Store::connect(&db.url, &Default::default())
        .await
        .unwrap()
        .with_clock(store.clock().clone());
    let two = start(&other_store).await;
    let alice = add(store, "alice", Role::Agent).await;
    let bob = add(store, "bob", Role::Agent).await;
    let alice_t = enrol(store, &one.base, &alice).await;
    let bob_t = enrol(&other_store, &two.base, &bob).await;
    let lead = common::lead(store, 1).await;

    let mut feed = http()
        .get(format!("{}/api/v1/changes", two.base))
        .bearer_auth(&bob_t)
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    let (status, started) = call(
        &one.base,
        Some(&alice_t),
        Method::POST,
        &format!("/leads/{}/start-call", lead.id),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    // seen through the other server's stream…
    let lead_id = lead.id.to_string();
    let (cursor, change) = next_change(&mut feed, |c| {
        c["lead_id"] == lead_id.as_str() && c["kind"] == "active_call"
    })
    .await;
    assert_eq!(change["op"], "insert");
    // …and refused through it
    let (status, problem) = call(
        &two.base,
        Some(&bob_t),
        Method::POST,
        &format!("/leads/{}/start-call", lead.id),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["refusal"]["agent"], "alice");
    let (_, active) = call(&two.base, Some(&bob_t), Method::GET, "/active-calls", None).await;
    assert_eq!(active[0]["agent_name"], "alice");
    drop(feed);
    // a reconnect from the cursor gets what happened meanwhile, and nothing before it
    let (status, ended) = call(
        &one.base,
        Some(&alice_t),
        Method::POST,
        &format!("/leads/{}/end-call", lead.id),
        Some(json!({ "call_id": started["call_id"], "disposition": "no_answer" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    let mut resumed = http()
        .get(format!("{}/api/v1/changes?cursor={cursor}", two.base))
        .bearer_auth(&bob_t)
        .send()
        .await
        .unwrap();
    let (next_cursor, change) = next_change(&mut resumed, |c| c["lead_id"] == lead_id.as_str()).await;
    assert!(next_cursor.parse::<coldcall::store::FeedCursor>().unwrap() > cursor.parse().unwrap());
    assert!(change["kind"] != "active_call" || change["op"] != "insert", "{change}");
    drop(resumed);
    // Shutdown is graceful with a stream open: it ends the stream and returns.
    let _open = http()
        .get(format!("{}/api/v1/changes", one.base))
        .bearer_auth(&alice_t)
        .send()
        .await
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), one.server.stop())
        .await
        .expect("stops in time")
        .unwrap();
    two.server.stop().await.unwrap();
    other_store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_beyond_loopback_is_refused_at_start() {
    let db = common::postgres().await;
    let s = ServerSettings {
        listen: "0.0.0.0:0".into(),
        ..ServerSettings::default()
    };
    let err = server::start(db.store.clone(), s, "US".into())
        .await
        .err()
        .expect("refused");
    assert!(err.contains("refusing to serve plain HTTP"), "{err}");
}

/// An offline copy through the server: alice checks leads out and gets the copy, works it, and
/// sends it back; only she (or an admin) may send it, never without a session, and a body that
/// is not a copy is refused. The copy that comes back carries the sync's report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_copy_goes_out_and_comes_back_through_the_server() {
    let db = common::postgres().await;
    let store = &db.store;
    let run = start(store).await;
    let base = run.base.as_str();
    let (alice, bob, sam, ada) = (
        add(store, "alice", Role::Agent).await,
        add(store, "bob", Role::Agent).await,
        add(store, "sam", Role::Supervisor).await,
        add(store, "ada", Role::Admin).await,
    );
    let [alice_t, bob_t, sam_t, ada_t] = [
        enrol(store, base, &alice).await,
        enrol(store, base, &bob).await,
        enrol(store, base, &sam).await,
        enrol(store, base, &ada).await,
    ];
    for n in 0..5 {
        common::lead(store, n).await;
    }
    let post_copy = |token: Option<String>, bytes: Vec<u8>| async move {
        let mut req = http()
            .post(format!("{base}/api/v1/offline/sync"))
            .header("content-type", "application/vnd.sqlite3")
            .body(bytes);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        (resp.status(), resp.bytes().await.unwrap().to_vec())
    };

    // Out: the copy is the body; the acting agent is the session's.
    let resp = http()
        .post(format!("{base}/api/v1/offline/checkouts"))
        .bearer_auth(&alice_t)
        .json(&json!({ "leads": 3, "hours": 24 }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/vnd.sqlite3");
    let checkout_id = resp.headers()["x-coldcall-checkout"].to_str().unwrap().to_string();
    let bytes = resp.bytes().await.unwrap().to_vec();
    assert!(bytes.starts_with(b"SQLite format 3\0"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("road.db");
    std::fs::write(&path, &bytes).unwrap();
    let copy = Store::connect(&path.to_string_lossy(), &coldcall::store::ConnectOptions::default())
        .await
        .unwrap()
        .with_clock(store.clock().clone());
    let own = copy.offline_copy_of().await.unwrap().expect("a copy");
    assert_eq!((own.id.to_string(), own.agent_id), (checkout_id, alice.id));
    assert_eq!(store.offline_checkouts().await.unwrap()[0].leads, 3);

    // Work one lead offline.
    let lead = copy
        .list_leads(&coldcall::store::LeadFilter::default(), None, 1)
        .await
        .unwrap()
        .items
        .remove(0);
    let started = copy
        .start_call(&coldcall::store::StartCall {
            lead_id: lead.id,
            agent_id: alice.id,
            from_number: None,
        })
        .await
        .unwrap();
    copy.end_call(&coldcall::store::EndCall {
        call_id: started.call_id,
        agent_id: alice.id,
        disposition: "interested".into(),
        notes: Some("on the train".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    // One whole file (a closed SQLite file may still have part of itself in its log).
    let whole = dir.path().join("whole.db");
    copy.write_file(&whole).await.unwrap();
    copy.close().await;
    let worked = std::fs::read(&whole).unwrap();

    // Back: not without a session, not as another agent or a supervisor, not a body that is no copy.
    let before = fingerprint(&db).await;
    assert_eq!(post_copy(None, worked.clone()).await.0, StatusCode::UNAUTHORIZED);
    for token in [&bob_t, &sam_t] {
        assert_eq!(
            post_copy(Some(token.clone()), worked.clone()).await.0,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        post_copy(Some(alice_t.clone()), b"not a database".to_vec()).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        changed(&before, &fingerprint(&db).await),
        Vec::<String>::new(),
        "refused, nothing written"
    );

    let (status, back) = post_copy(Some(alice_t.clone()), worked.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let history = store.call_history(lead.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].notes.as_deref(), Some("on the train"));
    assert_eq!(history[0].agent_id, alice.id);
    std::fs::write(&path, &back).unwrap();
    let copy = Store::connect(&path.to_string_lossy(), &coldcall::store::ConnectOptions::default())
        .await
        .unwrap();
    let synced = copy.offline_copy_of().await.unwrap().unwrap();
    let report: coldcall::store::offline::SyncReport =
        serde_json::from_str(synced.last_report.as_deref().expect("the report is in the copy")).unwrap();
    assert_eq!(report.calls_uploaded, 1);
    copy.close().await;

    // An admin may send it for alice; a second sync changes nothing.
    let (status, _) = post_copy(Some(ada_t.clone()), back).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(store.call_history(lead.id).await.unwrap().len(), 1);
    run.server.stop().await.unwrap();
}

/// The command line through the server: with the session `coldcall login` keeps and the server
/// named (`COLDCALL_SERVER`), `offline checkout` writes the copy the server sends and `offline
/// sync` replaces it
/// with the one that comes back; no database URL is given to the command line at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_checks_out_and_syncs_through_the_server() {
    let db = common::postgres().await;
    let store = &db.store;
    let run = start(store).await;
    let alice = add(store, "alice", Role::Agent).await;
    let token = enrol(store, &run.base, &alice).await;
    for n in 0..4 {
        common::lead(store, n).await;
    }
    let home = tempfile::tempdir().unwrap();
    let session = json!({ "server": run.base, "name": "alice", "token": token,
        "expires_at": (chrono::Utc::now() + Duration::hours(8)).to_rfc3339() });
    std::fs::write(home.path().join("session.json"), session.to_string()).unwrap();
    let coldcall = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_coldcall"))
            .args(args)
            .env_remove("COLDCALL_DATABASE_URL")
            .env_remove("COLDCALL_AGENT")
            .env("COLDCALL_SERVER", &run.base)
            .env("COLDCALL_DATA_DIR", home.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let copy = home.path().join("road.db");
    let copy_arg = copy.to_str().unwrap();
    let out = tokio::task::block_in_place(|| {
        coldcall(&[
            "--json", "offline", "checkout", "--leads", "2", "--hours", "8", "--out", copy_arg,
        ])
    });
    assert_eq!(out["checkout"]["agent_id"], alice.id);
    assert_eq!(store.offline_checkouts().await.unwrap()[0].leads, 2);

    let worked = Store::connect(copy_arg, &coldcall::store::ConnectOptions::default())
        .await
        .unwrap()
        .with_clock(store.clock().clone());
    let lead = worked
        .list_leads(&coldcall::store::LeadFilter::default(), None, 1)
        .await
        .unwrap()
        .items
        .remove(0);
    worked
        .set_status(
            lead.id,
            coldcall::domain::LeadStatus::Nurturing,
            Some("next year"),
            Some(alice.id),
        )
        .await
        .unwrap();
    worked.close().await;

    let report = tokio::task::block_in_place(|| coldcall(&["--json", "offline", "sync", copy_arg, "--more", "1"]));
    assert_eq!(report["report"]["status_changes_applied"], 1, "{report}");
    assert_eq!(report["leads_added"], 1, "and one more lead: {report}");
    assert_eq!(store.offline_checkouts().await.unwrap()[0].leads, 3);
    assert_eq!(
        store.lead(lead.id).await.unwrap().unwrap().status,
        coldcall::domain::LeadStatus::Nurturing
    );
    let again = tokio::task::block_in_place(|| coldcall(&["--json", "offline", "sync", copy_arg]));
    assert_eq!(
        again["report"]["status_changes_applied"], 0,
        "the copy came back up to date: {again}"
    );
    assert!(again["leads_added"].is_null());
    run.server.stop().await.unwrap();
}

/// Every command through the server, from the real binary with no database URL: each terminal
/// acts as its session's agent, a refusal reads as in direct mode (exit 3, the same code), an
/// agent cannot end another's call or pose as someone else with `--agent`, and what only the
/// database itself takes says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_through_the_server_act_as_the_session_agent() {
    let db = common::postgres().await;
    let store = &db.store;
    let run = start(store).await;
    let lead = common::lead_with(store, 1, |l| l.timezone = common::zone_in_office_hours().into()).await;
    let mut homes = Vec::new();
    for (name, role) in [("alice", Role::Agent), ("bob", Role::Agent), ("sam", Role::Supervisor)] {
        let agent = add(store, name, role).await;
        let token = enrol(store, &run.base, &agent).await;
        let home = tempfile::tempdir().unwrap();
        let session = json!({ "server": run.base, "name": name, "token": token,
            "expires_at": (chrono::Utc::now() + Duration::hours(8)).to_rfc3339() });
        std::fs::write(home.path().join("session.json"), session.to_string()).unwrap();
        homes.push(home);
    }
    let coldcall = |who: usize, args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_coldcall"))
            .arg("--json")
            .args(args)
            .env_remove("COLDCALL_DATABASE_URL")
            .env_remove("COLDCALL_AGENT")
            .env("COLDCALL_SERVER", &run.base)
            .env("COLDCALL_DATA_DIR", homes[who].path())
            .output()
            .unwrap();
        let body = serde_json::from_slice::<Value>(&out.stdout).unwrap_or(Value::Null);
        (
            out.status.code(),
            body,
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (alice, bob, sam) = (0, 1, 2);
    let id = lead.id.to_string();
    let short = &id[..8];

    let (code, leads, err) = tokio::task::block_in_place(|| coldcall(alice, &["lead", "list"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(leads.to_string().contains(&id), "{leads}");

    let (code, started, err) = tokio::task::block_in_place(|| coldcall(alice, &["call", "start", short]));
    assert_eq!(code, Some(0), "{err}");
    let call_id = started["call_id"].as_str().unwrap().to_string();
    let active = store.active_calls().await.unwrap();
    assert_eq!(active[0].agent_name, "alice", "the session's agent holds the lock");

    let (code, refused, _) = tokio::task::block_in_place(|| coldcall(bob, &["call", "start", &id]));
    assert_eq!(code, Some(3), "a rule's refusal exits with 3 as in direct mode");
    assert_eq!(refused["error"]["code"], "on_another_call", "{refused}");
    assert_eq!(refused["error"]["refusal"]["agent"], "alice");

    let end = ["call", "end", call_id.as_str(), "--disposition", "no_answer"];
    let (code, _, err) = tokio::task::block_in_place(|| coldcall(bob, &end));
    assert_eq!(code, Some(1), "bob cannot end alice's call");
    assert!(err.contains("only the agent on the call"), "{err}");
    let (code, _, err) = tokio::task::block_in_place(|| coldcall(bob, &[&end[..], &["--force"]].concat()));
    assert_eq!(code, Some(1), "nor force it: {err}");
    assert!(err.contains("only "), "{err}");
    let (code, _, err) = tokio::task::block_in_place(|| coldcall(bob, &["--agent", "sam", "calls", "active"]));
    assert_eq!(code, Some(1));
    assert!(err.contains("you act as bob"), "{err}");
    assert_eq!(
        store.active_calls().await.unwrap().len(),
        1,
        "nothing bob tried ended it"
    );

    let release = ["calls", "release", call_id.as_str(), "--reason", "stuck"];
    let (code, _, err) = tokio::task::block_in_place(|| coldcall(sam, &release));
    assert_eq!(code, Some(0), "a supervisor releases it: {err}");
    assert!(store.active_calls().await.unwrap().is_empty());
    let call = store
        .call(uuid::Uuid::parse_str(&call_id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        call.ended_by,
        Some(store.agent_by_name("sam").await.unwrap().unwrap().id)
    );

    let (code, _, err) = tokio::task::block_in_place(|| coldcall(sam, &["db", "status"]));
    assert_eq!(code, Some(1));
    assert!(err.contains("directly"), "{err}");
    run.server.stop().await.unwrap();
}

/// An admin imports a file and exports the calls through the server, from the real binary:
/// the rows are read and checked on the admin's machine, written by the server batch by batch,
/// the rejects file is written beside the file, and the import is on record. An agent's session
/// is refused and writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_imports_and_exports_through_the_server() {
    let db = common::postgres().await;
    let store = &db.store;
    let run = start(store).await;
    let mut homes = Vec::new();
    for (name, role) in [("ada", Role::Admin), ("alice", Role::Agent)] {
        let agent = add(store, name, role).await;
        let token = enrol(store, &run.base, &agent).await;
        let home = tempfile::tempdir().unwrap();
        let session = json!({ "server": run.base, "name": name, "token": token,
            "expires_at": (chrono::Utc::now() + Duration::hours(8)).to_rfc3339() });
        std::fs::write(home.path().join("session.json"), session.to_string()).unwrap();
        homes.push(home);
    }
    let file = homes[0].path().join("crm.csv");
    std::fs::write(
        &file,
        "First Name,Last Name,Phone,Company\nAda,Quinn,+1 646 555 0142,Quinn Freight\n\
         Bo,Reyes,+1 646 555 0143,Reyes Ltd\nNo,Number,not a phone,Nowhere Inc\n",
    )
    .unwrap();
    let coldcall = |who: usize, args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_coldcall"))
            .arg("--json")
            .args(args)
            .env_remove("COLDCALL_DATABASE_URL")
            .env_remove("COLDCALL_AGENT")
            .env("COLDCALL_SERVER", &run.base)
            .env("COLDCALL_DATA_DIR", homes[who].path())
            .output()
            .unwrap();
        let body = serde_json::from_slice::<Value>(&out.stdout).unwrap_or(Value::Null);
        (
            out.status.code(),
            body,
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let path = file.to_str().unwrap();
    let before = fingerprint(&db).await;
    let (code, _, err) = tokio::task::block_in_place(|| coldcall(1, &["import", path]));
    assert_eq!(code, Some(1));
    assert!(err.contains("only "), "an agent may not import: {err}");
    assert!(
        changed(&before, &fingerprint(&db).await).is_empty(),
        "the refused import wrote"
    );

    let (code, report, err) = tokio::task::block_in_place(|| coldcall(0, &["import", path]));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(report["report"]["imported"], 2, "{report}");
    assert_eq!(report["report"]["rejected"], 1, "{report}");
    let rejects = std::fs::read_to_string(homes[0].path().join("crm.rejects.csv")).unwrap();
    assert!(rejects.contains("not a phone"), "{rejects}");
    let leads = store.list_leads(&Default::default(), None, 10).await.unwrap().items;
    assert_eq!(leads.len(), 2);
    let ada = store.agent_by_name("ada").await.unwrap().unwrap();
    assert!(
        leads.iter().all(|l| l.updated_by == Some(ada.id)),
        "written as the session's admin"
    );

    // a call, then the calls export through the server
    let quinn = leads.iter().find(|l| l.last_name == "Quinn").unwrap();
    let alice = store.agent_by_name("alice").await.unwrap().unwrap();
    common::start_call(store, quinn.id, alice.id).await;
    let (code, _, err) = tokio::task::block_in_place(|| coldcall(1, &["export", "calls"]));
    assert_eq!(code, Some(1), "an agent may not export: {err}");
    let out = homes[0].path().join("calls.csv");
    let (code, _, err) =
        tokio::task::block_in_place(|| coldcall(0, &["export", "calls", "--out", out.to_str().unwrap()]));
    assert_eq!(code, Some(0), "{err}");
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_eq!(csv.lines().count(), 2, "a header and alice's call: {csv}");
    assert!(csv.contains("Quinn Freight") && csv.contains("alice"), "{csv}");
    run.server.stop().await.unwrap();
}
