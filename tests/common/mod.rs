//! Test databases: a real SQLite file in a temporary directory, or a fresh PostgreSQL database
//! created for one test and dropped after it. Postgres tests fail when the server cannot be
//! reached: they never skip.
#![allow(dead_code)]

pub mod binary;
pub mod proxy;

/// Generates, for every scenario named, a module with one test per backend (`NAME::sqlite`,
/// `NAME::postgres`), each on a fresh database. A scenario takes `&Store`; with `pass = db` it
/// takes the whole `&TestDb`. `threads = N` sets the runtime's worker threads (default 2).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $crate::on_both_backends!(threads = 2, pass = store; $($name),*);
    };
    (threads = $threads:literal; $($name:ident),* $(,)?) => {
        $crate::on_both_backends!(threads = $threads, pass = store; $($name),*);
    };
    (pass = $pass:ident; $($name:ident),* $(,)?) => {
        $crate::on_both_backends!(threads = 2, pass = $pass; $($name),*);
    };
    (threads = $threads:literal, pass = $pass:ident; $($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn sqlite() {
                    let db = super::common::sqlite().await;
                    super::$name($crate::on_both_backends!(@arg db $pass)).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn postgres() {
                    let db = super::common::postgres().await;
                    super::$name($crate::on_both_backends!(@arg db $pass)).await;
                }
            }
        )*
    };
    (@arg $db:ident store) => { &$db.store };
    (@arg $db:ident db) => { &$db };
}

/// As `on_both_backends!`, and a third test per scenario (`NAME::server`): the store is a floor
/// server's client, the server running in process on a fresh PostgreSQL database and reached
/// through the real HTTP client, each agent the scenario adds logged in for real.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let db = super::common::sqlite().await;
                    super::$name(&db.store).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let db = super::common::postgres().await;
                    super::$name(&db.store).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn server() {
                    let db = super::common::floor_server().await;
                    super::$name(&db.store).await;
                }
            }
        )*
    };
}

use chrono::{DateTime, TimeZone, Utc};
use coldcall::domain::{LeadInput, Role};
use coldcall::store::{Agent, Clock, ConnectOptions, Lead, NewAgent, StartCall, StartedCall, Store};

/// Monday 2026-11-23 15:00 UTC: 10:00 in New York, inside default calling hours.
pub fn office_hours() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap()
}

pub struct TestDb {
    pub store: Store,
    pub url: String,
    /// The in-process floor server `store` is a client of (`floor_server`).
    pub server: Option<coldcall::server::Server>,
    _dir: Option<tempfile::TempDir>,
    pg_drop: Option<(String, String)>,
}

impl TestDb {
    pub fn clock(&self) -> &Clock {
        self.store.clock()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.pg_drop.take() else {
            return;
        };
        // Drop needs async work; run it on a private runtime so it works from any test runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(pool) = sqlx::PgPool::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&pool)
                        .await;
                    pool.close().await;
                }
            })
        })
        .join();
    }
}

pub fn postgres_admin_url() -> String {
    std::env::var("COLDCALL_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("coldcall.db").display());
    let store = open(&url).await;
    TestDb {
        store,
        url,
        _dir: Some(dir),
        pg_drop: None,
        server: None,
    }
}

pub async fn postgres() -> TestDb {
    let admin_url = postgres_admin_url();
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL must be reachable for these tests ({admin_url}): {e}"));
    let name = format!("coldcall_test_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&admin)
        .await
        .expect("create test database");
    admin.close().await;
    let (base, _) = admin_url.rsplit_once('/').expect("admin URL has a database name");
    let url = format!("{base}/{name}");
    let store = open(&url).await;
    TestDb {
        store,
        url,
        _dir: None,
        pg_drop: Some((admin_url, name)),
        server: None,
    }
}

/// A floor server in process on a fresh PostgreSQL database, and a store that is its client,
/// logged in as an admin (`HARNESS_ADMIN`). Both share the test's clock. Sessions last as long as the
/// scenarios move the clock.
pub async fn floor_server() -> TestDb {
    use coldcall::server::{self, config::ServerSettings, routes::admin};
    use coldcall::store::remote::{LoginSecret, RemoteStore};
    let mut db = postgres().await;
    let settings = ServerSettings {
        listen: "127.0.0.1:0".into(),
        feed_poll_ms: 20,
        session_idle_hours: 24 * 365,
        session_max_days: 3650,
        ..ServerSettings::default()
    };
    let running = server::start(db.store.clone(), settings, "US".into())
        .await
        .expect("the floor server starts");
    let base = format!("http://{}", running.addr.expect("a TCP address"));
    let ada = db
        .store
        .add_agent(&NewAgent {
            name: HARNESS_ADMIN.into(),
            email: None,
            role: Role::Admin,
        })
        .await
        .expect("add the admin");
    let code = admin::issue_enrolment(&db.store, &ada, chrono::Duration::hours(1), None)
        .await
        .expect("enrolment code");
    let (_, token) = RemoteStore::log_in(
        &base,
        HARNESS_ADMIN,
        LoginSecret::Code {
            code: &code,
            new_password: PASSWORD,
        },
    )
    .await
    .expect("the admin logs in");
    let remote = RemoteStore::connect(&base, &token, None)
        .await
        .expect("the client opens the server");
    db.store = Store::on_server(remote).with_clock(db.store.clock().clone());
    db.server = Some(running);
    db
}

/// The admin a test floor server's client logs in as.
pub const HARNESS_ADMIN: &str = "harness-admin";

/// The password every agent of a test floor server sets at enrolment.
pub const PASSWORD: &str = "correct horse battery staple";

/// Adds an agent; through a floor server the agent is also enrolled and logged in, and the
/// store keeps the session to act as them.
pub async fn add_agent(store: &Store, name: &str, role: Role) -> Agent {
    use coldcall::store::remote::{LoginSecret, RemoteStore};
    let new = NewAgent {
        name: name.into(),
        email: None,
        role,
    };
    let Some(remote) = store.remote() else {
        return store.add_agent(&new).await.expect("add agent");
    };
    let (agent, code) = remote.add_agent_enrolling(&new).await.expect("add agent");
    let (session, _) = RemoteStore::log_in(
        &remote.server(),
        name,
        LoginSecret::Code {
            code: &code,
            new_password: PASSWORD,
        },
    )
    .await
    .expect("the new agent logs in");
    remote.hold(session);
    agent
}

async fn open(url: &str) -> Store {
    let options = ConnectOptions {
        max_connections: 16,
        ..ConnectOptions::default()
    };
    let store = Store::connect(url, &options)
        .await
        .expect("connect")
        .with_clock(Clock::fixed(office_hours()));
    store.migrate().await.expect("migrate");
    store
}

pub async fn agent(store: &Store, name: &str) -> Agent {
    add_agent(store, name, Role::Agent).await
}

pub async fn supervisor(store: &Store, name: &str) -> Agent {
    add_agent(store, name, Role::Supervisor).await
}

/// A valid New York lead whose phone number is made from `n`.
pub fn lead_input(n: u32) -> LeadInput {
    LeadInput {
        first_name: format!("Lead{n}"),
        last_name: "Tester".into(),
        email: format!("lead{n}@example.com"),
        phone: format!("+1212555{:04}", n % 10_000),
        company: format!("Company {n}"),
        timezone: "America/New_York".into(),
        ..LeadInput::default()
    }
}

pub async fn lead(store: &Store, n: u32) -> Lead {
    let fields = lead_input(n).validate("US").expect("valid lead");
    store.create_lead(&fields, None).await.expect("create lead")
}

pub async fn lead_with(store: &Store, n: u32, change: impl FnOnce(&mut LeadInput)) -> Lead {
    let mut input = lead_input(n);
    change(&mut input);
    let fields = input.validate("US").expect("valid lead");
    store.create_lead(&fields, None).await.expect("create lead")
}

/// A zone where it is between 09:00 and 20:00 right now, for tests that run the real binary on
/// the real clock: calls there are inside calling hours whenever the test runs.
/// `lead add` for the lead most command-line tests work on: Ada Quinn of Quinn Freight.
pub const ADD_ADA_QUINN: [&str; 10] = [
    "lead",
    "add",
    "--first-name",
    "Ada",
    "--last-name",
    "Quinn",
    "--phone",
    "(646) 555-0142",
    "--company",
    "Quinn Freight",
];

pub fn zone_in_office_hours() -> &'static str {
    use chrono::Timelike;
    let zones = [
        "America/New_York",
        "Europe/London",
        "Asia/Kolkata",
        "Asia/Tokyo",
        "America/Los_Angeles",
        "Australia/Sydney",
    ];
    zones
        .into_iter()
        .find(|z| {
            let tz: chrono_tz::Tz = z.parse().unwrap();
            (9..20).contains(&Utc::now().with_timezone(&tz).hour())
        })
        .expect("some zone is in office hours")
}

/// Starts a call on the lead for the agent (dialled by hand); panics with the refusal if any.
pub async fn start_call(store: &Store, lead_id: uuid::Uuid, agent_id: i64) -> StartedCall {
    store
        .start_call(&StartCall {
            lead_id,
            agent_id,
            from_number: None,
        })
        .await
        .unwrap_or_else(|e| panic!("start call: {e}"))
}
