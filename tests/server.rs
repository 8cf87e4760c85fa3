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
    ];
    let _ = (&bob, &dave);
    // The list covers every operation of the OpenAPI document (those tested on their own aside).
    let (_, doc) = call(base, None, M::GET, "/openapi.json", None).await;
    let own_tests = ["/api/v1/login", "/api/v1/logout", "/api/v1/me/password"];
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
