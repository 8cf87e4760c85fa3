//! The real binary in a real terminal (tmux): open the console on a SQLite file, search a lead
//! by name, open it, start a call, end it with an outcome, quit; then check the call log and the
//! status history in the database. Needs tmux (scripts/test installs it).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_coldcall");

struct Tmux {
    session: String,
}

impl Tmux {
    fn start(command: &str, width: u16, height: u16) -> Tmux {
        let session = format!("coldcall-e2e-{}", uuid::Uuid::now_v7().simple());
        let status = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
                command,
            ])
            .status()
            .expect("tmux must be installed for the end-to-end test");
        assert!(status.success(), "tmux new-session failed");
        Tmux { session }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        assert!(Command::new("tmux").args(&args).status().unwrap().success());
    }

    fn text(&self, text: &str) {
        assert!(Command::new("tmux")
            .args(["send-keys", "-t", &self.session, "-l", text])
            .status()
            .unwrap()
            .success());
    }

    /// Finds Ada Quinn (`add_quinn`) by name, opens her and starts the call.
    fn call_quinn(&self) -> String {
        self.keys(&["/"]);
        self.text("Quinn");
        self.wait_for("1 found");
        self.keys(&["Enter"]);
        self.wait_for("Quinn Freight");
        self.keys(&["c"]);
        self.wait_for("ON CALL")
    }

    /// Ends the call on screen as Interested with `notes`, saves it, and quits the console.
    fn end_interested_and_quit(&self, notes: &str) {
        self.end_interested(notes);
        self.quit();
    }

    fn quit(&self) {
        self.keys(&["q"]);
        self.wait_for("console exited with 0");
    }

    /// Ends the call on screen as Interested with `notes` and saves it.
    fn end_interested(&self, notes: &str) {
        self.keys(&["e"]);
        self.wait_for("Call outcome");
        self.keys(&["i"]);
        self.keys(&["Tab"]);
        self.text(notes);
        self.keys(&["Escape"]);
        // A person's Esc and Enter are never a single escape sequence (ESC CR reads as Alt-Enter).
        std::thread::sleep(Duration::from_millis(300));
        self.keys(&["Enter"]);
        self.wait_for("saved: Interested");
    }

    /// Waits until the screen shows `text`; fails with the screen as it was.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("waited 15 s for {text:?}; the screen shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}

fn cli(data_dir: &Path, db: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new(BIN)
        .args(["--json", "--database", db])
        .args(args)
        .env("COLDCALL_DATA_DIR", data_dir)
        .env_remove("COLDCALL_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Adds Ada Quinn, callable now, and returns her lead id.
fn add_quinn(data_dir: &Path, db: &str) -> String {
    let lead = cli(
        data_dir,
        db,
        &[
            "lead",
            "add",
            "--first-name",
            "Ada",
            "--last-name",
            "Quinn",
            "--company",
            "Quinn Freight",
            "--phone",
            "+1 646 555 0142",
            "--timezone",
            common::zone_in_office_hours(),
        ],
    );
    lead["id"].as_str().unwrap().to_string()
}

#[test]
fn search_open_call_and_record_an_outcome_in_the_real_console() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("floor.db").display().to_string();
    cli(dir.path(), &db, &["db", "seed", "--leads", "40"]);
    let lead_id = add_quinn(dir.path(), &db);

    let command = format!(
        "COLDCALL_DATA_DIR='{}' NO_COLOR=1 '{BIN}' --database '{db}' --agent alice; echo \"console exited with $?\"; sleep 30",
        dir.path().display()
    );
    let tmux = Tmux::start(&command, 100, 30);
    tmux.wait_for("READY");
    let screen = tmux.call_quinn();
    assert!(
        screen.contains("+1 646-555-0142"),
        "the number to dial is shown:\n{screen}"
    );
    tmux.end_interested_and_quit("wants a demo");

    let calls = cli(dir.path(), &db, &["lead", "history", &lead_id]);
    assert_eq!(calls.as_array().unwrap().len(), 1);
    assert_eq!(calls[0]["disposition"], "interested");
    assert_eq!(calls[0]["agent_name"], "alice");
    assert_eq!(calls[0]["notes"], "wants a demo");
    let statuses = cli(dir.path(), &db, &["lead", "status-history", &lead_id]);
    assert_eq!(statuses[0]["old_status"], "new");
    assert_eq!(statuses[0]["new_status"], "qualified");
    assert_eq!(statuses[0]["changed_by_name"], "alice");
    assert!(
        cli(dir.path(), &db, &["calls", "active"])
            .as_array()
            .unwrap()
            .is_empty(),
        "the lock is released"
    );
}

/// A field agent's day: check leads out of the floor, work one in the console on the copy (its
/// header says whose copy it is, from where, until when), and sync the call back.
#[test]
fn an_offline_copy_is_worked_in_the_real_console_and_synced_back() {
    let dir = tempfile::tempdir().unwrap();
    let floor = dir.path().join("floor.db").display().to_string();
    cli(dir.path(), &floor, &["db", "seed", "--leads", "40"]);
    let lead_id = add_quinn(dir.path(), &floor);
    let copy = dir.path().join("road.db").display().to_string();
    let out = cli(
        dir.path(),
        &floor,
        &[
            "--agent", "alice", "offline", "checkout", "--leads", "100", "--hours", "48", "--out", &copy,
        ],
    );
    assert!(out["summary"]["leads"].as_u64().unwrap() >= 30, "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a copy holds personal data");
    }

    let command = format!(
        "COLDCALL_DATA_DIR='{}' NO_COLOR=1 '{BIN}' offline open '{copy}'; echo \"console exited with $?\"; sleep 30",
        dir.path().display()
    );
    let tmux = Tmux::start(&command, 160, 30);
    let screen = tmux.wait_for("OFFLINE COPY until");
    assert!(screen.contains("alice"), "whose copy it is:\n{screen}");
    assert!(screen.contains("from "), "which floor:\n{screen}");
    tmux.call_quinn();
    tmux.end_interested_and_quit("met at the fair");

    let report = cli(dir.path(), &floor, &["offline", "sync", &copy]);
    assert_eq!(report["report"]["calls_uploaded"], 1, "{report}");
    let calls = cli(dir.path(), &floor, &["lead", "history", &lead_id]);
    assert_eq!(calls[0]["agent_name"], "alice");
    assert_eq!(calls[0]["notes"], "met at the fair");
    let status = cli(dir.path(), &floor, &["offline", "status", &copy]);
    assert_eq!(status["agent"], "alice");
    assert_eq!(status["last_sync"]["calls_uploaded"], 1);
}

/// The same day from the console alone: `O` on the floor takes the leads away into a copy,
/// and `O` in the console on the copy sends the work back over the floor this machine reaches.
#[test]
fn the_console_checks_leads_out_and_syncs_them_back_with_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let floor = dir.path().join("floor.db").display().to_string();
    cli(dir.path(), &floor, &["db", "seed", "--leads", "40"]);
    let lead_id = add_quinn(dir.path(), &floor);
    let env = format!(
        "cd '{}' && COLDCALL_DATA_DIR='{}' NO_COLOR=1",
        dir.path().display(),
        dir.path().display()
    );

    let on_floor = Tmux::start(
        &format!("{env} '{BIN}' --database '{floor}' --agent alice; echo \"console exited with $?\"; sleep 30"),
        160,
        30,
    );
    on_floor.wait_for("READY");
    on_floor.keys(&["O"]);
    on_floor.wait_for("Take leads away in an offline copy");
    on_floor.keys(&["Enter"]);
    on_floor.wait_for("checked out");
    on_floor.quit();
    let copy = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("offline-alice-") && name.ends_with(".db")
        })
        .expect("the copy is in the console's folder");

    let on_copy = Tmux::start(
        &format!(
            "{env} '{BIN}' --database '{floor}' offline open '{}'; echo \"console exited with $?\"; sleep 30",
            copy.display()
        ),
        160,
        30,
    );
    on_copy.wait_for("OFFLINE COPY until");
    on_copy.call_quinn();
    on_copy.end_interested("from the console");
    on_copy.keys(&["O"]);
    on_copy.wait_for("synced: 1 call and 1 status change sent");
    on_copy.quit();

    let calls = cli(dir.path(), &floor, &["lead", "history", &lead_id]);
    assert_eq!(calls[0]["notes"], "from the console");
    let statuses = cli(dir.path(), &floor, &["lead", "status-history", &lead_id]);
    assert_eq!(statuses[0]["new_status"], "qualified");
}

#[test]
fn a_console_killed_mid_call_leaves_a_lock_that_expires() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db").display().to_string();
    cli(dir.path(), &db, &["agent", "add", "alice"]);
    cli(dir.path(), &db, &["agent", "add", "bob"]);
    // The shortest lock TTL a floor may set.
    cli(dir.path(), &db, &["settings", "set", "lock_ttl_seconds", "10"]);
    cli(dir.path(), &db, &["settings", "set", "min_gap_seconds", "0"]);
    let lead_id = add_quinn(dir.path(), &db);
    let command = format!(
        "COLDCALL_DATA_DIR='{}' exec '{BIN}' --database '{db}' --agent alice",
        dir.path().display()
    );
    let tmux = Tmux::start(&command, 100, 30);
    tmux.wait_for("READY");
    tmux.keys(&["n"]);
    tmux.wait_for("press c to call");
    tmux.keys(&["c"]);
    tmux.wait_for("ON CALL");

    // the console dies without any chance to clean up
    let pid = Command::new("tmux")
        .args(["list-panes", "-t", &tmux.session, "-F", "#{pane_pid}"])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&pid.stdout).trim().to_string();
    assert!(Command::new("kill").args(["-9", &pid]).status().unwrap().success());

    let active = cli(dir.path(), &db, &["calls", "active"]);
    assert_eq!(
        active.as_array().unwrap().len(),
        1,
        "the lock is still held right after the crash"
    );
    let refused = Command::new(BIN)
        .args(["--database", &db, "--agent", "bob", "lead", "can-call", &lead_id])
        .env("COLDCALL_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(
        refused.status.code(),
        Some(3),
        "inside the TTL the lead is still on alice's call"
    );

    std::thread::sleep(Duration::from_secs(11));
    let reaped = cli(dir.path(), &db, &["--agent", "bob", "calls", "reap"]);
    assert_eq!(reaped.as_array().unwrap().len(), 1);
    let calls = cli(dir.path(), &db, &["lead", "history", &lead_id]);
    assert_eq!(calls[0]["status"], "abandoned", "the call stays on record");
    assert_eq!(calls[0]["agent_name"], "alice");
    let callable = Command::new(BIN)
        .args(["--database", &db, "--agent", "bob", "lead", "can-call", &lead_id])
        .env("COLDCALL_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(
        callable.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&callable.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_real_consoles_on_postgres_see_each_others_calls() {
    let db = common::postgres().await;
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        cli(dir.path(), &url, &["agent", "add", "alice"]);
        cli(dir.path(), &url, &["agent", "add", "bob"]);
        add_quinn(dir.path(), &url);
        let console = |agent: &str| {
            format!(
                "COLDCALL_DATA_DIR='{}' NO_COLOR=1 exec '{BIN}' --database '{url}' --agent {agent}",
                dir.path().display()
            )
        };
        let alice = Tmux::start(&console("alice"), 100, 30);
        let bob = Tmux::start(&console("bob"), 100, 30);
        alice.wait_for("READY");
        bob.wait_for("READY");
        // bob opens the lead, then alice calls it
        bob.keys(&["/"]);
        bob.text("Quinn");
        bob.wait_for("1 found");
        bob.keys(&["Enter"]);
        bob.wait_for("Quinn Freight");
        alice.keys(&["n"]);
        alice.wait_for("press c to call");
        alice.keys(&["c"]);
        alice.wait_for("ON CALL");
        // bob's active-calls pane shows alice's call, and his own call is refused with why
        let screen = bob.wait_for("Active calls (1)");
        assert!(screen.contains("alice"), "{screen}");
        bob.keys(&["c"]);
        bob.wait_for("cannot call: alice is on a call");
        // alice ends; bob sees the lock released
        alice.keys(&["e"]);
        alice.wait_for("Call outcome");
        alice.keys(&["b"]);
        alice.keys(&["Enter"]);
        alice.wait_for("saved: Busy");
        bob.wait_for("Active calls (0)");
    })
    .await
    .unwrap();
}

#[test]
fn demo_asks_before_replacing_an_earlier_demo() {
    let dir = tempfile::tempdir().unwrap();
    let earlier = dir.path().join("demo.db");
    std::fs::write(&earlier, b"an earlier demo").unwrap();
    let out = Command::new(BIN)
        .args(["demo", "--leads", "5"])
        .env("COLDCALL_DATA_DIR", dir.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success(), "no terminal to ask on and no --yes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pass --yes to replace it"), "{stderr}");
    assert_eq!(std::fs::read(&earlier).unwrap(), b"an earlier demo", "left as it was");
}

#[test]
fn a_console_whose_database_is_down_opens_at_once_and_says_which_host_it_tries() {
    let data = tempfile::tempdir().unwrap();
    // Nothing listens on port 1: every try is refused at once.
    let db = "postgres://dial:s3cret@127.0.0.1:1/coldcall";
    let command = format!(
        "COLDCALL_DATA_DIR='{}' NO_COLOR=1 '{BIN}' --database '{db}' --agent alice; echo \"console exited with $?\"; sleep 30",
        data.path().display()
    );
    let started = Instant::now();
    let tmux = Tmux::start(&command, 80, 24);
    let screen = tmux.wait_for("OFFLINE");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(screen.contains("127.0.0.1:1"), "{screen}");
    assert!(!screen.contains("s3cret"), "{screen}");
    tmux.wait_for("attempt 2");
    tmux.keys(&["q"]);
    tmux.wait_for("console exited with 0");
}

/// `coldcall login` from the real binary, the enrolment code and the new password on standard
/// input as a script gives them; the session lands in `data_dir`.
fn log_in(data_dir: &Path, server: &str, name: &str, code: &str) {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(["login", "--server", server, "--name", name])
        .env("COLDCALL_DATA_DIR", data_dir)
        .env_remove("COLDCALL_DATABASE_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let password = common::PASSWORD;
    write!(child.stdin.take().unwrap(), "{code}\n{password}\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "login {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A floor of three consoles through one floor server, none holding the database's address:
/// alice's call shows on bob's screen through the server's stream, bob cannot release it, and
/// sam, a supervisor, releases it with a reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_consoles_through_one_floor_server() {
    use coldcall::domain::Role;
    use coldcall::server::{self, config::ServerSettings, routes::admin};
    let db = common::postgres().await;
    let store = db.store.clone().with_clock(coldcall::store::Clock::system());
    let settings = ServerSettings {
        listen: "127.0.0.1:0".into(),
        feed_poll_ms: 100,
        ..ServerSettings::default()
    };
    let running = server::start(store.clone(), settings, "US".into()).await.unwrap();
    let base = format!("http://{}", running.addr.unwrap());
    let mut codes = Vec::new();
    for (name, role) in [("alice", Role::Agent), ("bob", Role::Agent), ("sam", Role::Supervisor)] {
        let agent = common::add_agent(&store, name, role).await;
        let code = admin::issue_enrolment(&store, &agent, chrono::Duration::hours(1), None)
            .await
            .unwrap();
        codes.push((name, code));
    }
    let fields = common::lead_input(42);
    let fields = coldcall::domain::LeadInput {
        first_name: "Ada".into(),
        last_name: "Quinn".into(),
        company: "Quinn Freight".into(),
        timezone: common::zone_in_office_hours().into(),
        ..fields
    }
    .validate("US")
    .unwrap();
    let lead = store.create_lead(&fields, None).await.unwrap();
    let checked = store.clone();
    tokio::task::spawn_blocking(move || {
        let homes: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
        for ((name, code), home) in codes.iter().zip(&homes) {
            log_in(home.path(), &base, name, code);
        }
        let console = |home: &tempfile::TempDir, extra: &str| {
            format!(
                "env -u COLDCALL_DATABASE_URL COLDCALL_DATA_DIR='{}' NO_COLOR=1 '{BIN}' --server '{base}' {extra}; \
                 echo console exited with $?; sleep 30",
                home.path().display()
            )
        };
        let alice = Tmux::start(&console(&homes[0], ""), 110, 30);
        let bob = Tmux::start(&console(&homes[1], ""), 110, 30);
        let sam = Tmux::start(&console(&homes[2], ""), 110, 30);
        for screen in [&alice, &bob, &sam] {
            screen.wait_for("READY");
        }
        alice.keys(&["n"]);
        alice.wait_for("press c to call");
        alice.keys(&["c"]);
        alice.wait_for("ON CALL");
        // bob sees alice's call come in through the server's stream; calling is refused with why,
        // and releasing it is not an agent's to do
        let screen = bob.wait_for("Active calls (1)");
        assert!(screen.contains("alice"), "{screen}");
        bob.keys(&["Tab", "Tab"]);
        bob.keys(&["x"]);
        bob.wait_for("only supervisors release");
        // sam selects it in the active-calls pane and releases it with a reason
        let screen = sam.wait_for("Active calls (1)");
        assert!(screen.contains("alice"), "{screen}");
        for _ in 0..4 {
            if sam.screen().contains("Reason") {
                break;
            }
            sam.keys(&["Tab"]);
            sam.keys(&["x"]);
            std::thread::sleep(Duration::from_millis(300));
        }
        sam.wait_for("Reason");
        sam.text("console frozen");
        sam.keys(&["Enter"]);
        bob.wait_for("Active calls (0)");
        alice.wait_for("Active calls (0)");
        for screen in [&alice, &bob, &sam] {
            screen.keys(&["q"]);
        }
        bob.wait_for("console exited with 0");
        sam.wait_for("console exited with 0");
    })
    .await
    .unwrap();
    let calls = checked.call_history(lead.id).await.unwrap();
    assert_eq!(calls.len(), 1);
    let sam_id = checked.agent_by_name("sam").await.unwrap().unwrap().id;
    assert_eq!(calls[0].ended_by, Some(sam_id), "the supervisor's release is on record");
    assert!(
        calls[0].notes.as_deref().unwrap_or_default().contains("console frozen"),
        "{:?}",
        calls[0].notes
    );
    running.stop().await.unwrap();
}

/// A console whose session is revoked mid-call says it must log in again and keeps the outcome
/// typed meanwhile; once the agent logs in again (in another terminal), it is saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_console_keeps_the_outcome_until_the_agent_logs_in_again() {
    use coldcall::domain::Role;
    use coldcall::server::{self, config::ServerSettings, routes::admin};
    let db = common::postgres().await;
    let store = db.store.clone().with_clock(coldcall::store::Clock::system());
    let settings = ServerSettings {
        listen: "127.0.0.1:0".into(),
        feed_poll_ms: 100,
        ..ServerSettings::default()
    };
    let running = server::start(store.clone(), settings, "US".into()).await.unwrap();
    let base = format!("http://{}", running.addr.unwrap());
    let alice = common::add_agent(&store, "alice", Role::Agent).await;
    let code = admin::issue_enrolment(&store, &alice, chrono::Duration::hours(1), None)
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let data_dir = home.path().to_path_buf();
    add_quinn_to(&store).await;
    let revoker = store.clone();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    // The admin's side: revoke alice's sessions when the console is on the call.
    let revoke = tokio::spawn(async move {
        tokio::task::spawn_blocking(move || rx.recv()).await.unwrap().unwrap();
        admin::revoke_sessions(&revoker, &alice, None).await.unwrap();
        let _ = done_tx.send(());
    });
    let server_url = base.clone();
    let screen = tokio::task::spawn_blocking(move || {
        log_in(&data_dir, &server_url, "alice", &code);
        let console = Tmux::start(
            &format!(
                "env -u COLDCALL_DATABASE_URL COLDCALL_DATA_DIR='{}' NO_COLOR=1 '{BIN}' --server '{server_url}'; \
                 echo console exited with $?; sleep 30",
                data_dir.display()
            ),
            110,
            30,
        );
        console.wait_for("READY");
        console.call_quinn();
        tx.send(()).unwrap();
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(done_rx)
            .unwrap();
        // The outcome typed after the revocation is kept, and the console says what to do.
        console.keys(&["e"]);
        console.wait_for("Call outcome");
        console.keys(&["i"]);
        console.keys(&["Tab"]);
        console.text("wants a demo");
        console.keys(&["Escape"]);
        std::thread::sleep(Duration::from_millis(300));
        console.keys(&["Enter"]);
        let told = console.wait_for("saving the outcome kept");
        // Logging in again elsewhere renews the console's session; the kept outcome goes.
        log_in_with_password(&data_dir, &server_url, "alice");
        console.wait_for("saved: Interested");
        console.quit();
        told
    })
    .await
    .unwrap();
    revoke.await.unwrap();
    assert!(screen.contains("log in again"), "{screen}");
    let leads = store.list_leads(&Default::default(), None, 10).await.unwrap().items;
    let calls = store.call_history(leads[0].id).await.unwrap();
    assert_eq!(calls[0].disposition.as_deref(), Some("interested"));
    assert!(calls[0].notes.as_deref().unwrap_or_default().contains("wants a demo"));
    running.stop().await.unwrap();
}

/// Ada Quinn (as `add_quinn`), straight into the store.
async fn add_quinn_to(store: &coldcall::store::Store) {
    let fields = coldcall::domain::LeadInput {
        first_name: "Ada".into(),
        last_name: "Quinn".into(),
        company: "Quinn Freight".into(),
        phone: "+1 646 555 0142".into(),
        timezone: common::zone_in_office_hours().into(),
        ..Default::default()
    }
    .validate("US")
    .unwrap();
    store.create_lead(&fields, None).await.unwrap();
}

fn log_in_with_password(data_dir: &Path, server: &str, name: &str) {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(["login", "--server", server, "--name", name])
        .env("COLDCALL_DATA_DIR", data_dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{}", common::PASSWORD).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "login again: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A console whose floor server goes away mid-call keeps the outcome typed meanwhile and saves
/// it, once, when the server answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_keeps_the_outcome_while_the_floor_server_is_away() {
    use coldcall::domain::Role;
    use coldcall::server::{self, config::ServerSettings, routes::admin};
    use common::proxy::{Fault, FaultProxy};
    let db = common::postgres().await;
    let store = db.store.clone().with_clock(coldcall::store::Clock::system());
    let settings = ServerSettings {
        listen: "127.0.0.1:0".into(),
        feed_poll_ms: 100,
        ..ServerSettings::default()
    };
    let running = server::start(store.clone(), settings, "US".into()).await.unwrap();
    let proxy = std::sync::Arc::new(FaultProxy::start(running.addr.unwrap().to_string()).await);
    let base = format!("http://{}", proxy.addr);
    let alice = common::add_agent(&store, "alice", Role::Agent).await;
    let code = admin::issue_enrolment(&store, &alice, chrono::Duration::hours(1), None)
        .await
        .unwrap();
    add_quinn_to(&store).await;
    let home = tempfile::tempdir().unwrap();
    let data_dir = home.path().to_path_buf();
    let steer = proxy.clone();
    let checked = store.clone();
    let away = tokio::task::spawn_blocking(move || {
        log_in(&data_dir, &base, "alice", &code);
        let console = Tmux::start(
            &format!(
                "env -u COLDCALL_DATABASE_URL COLDCALL_DATA_DIR='{}' NO_COLOR=1 '{BIN}' --server '{base}'; \
                 echo console exited with $?; sleep 30",
                data_dir.display()
            ),
            110,
            30,
        );
        console.wait_for("READY");
        console.call_quinn();
        steer.set(Fault::Cut);
        console.keys(&["e"]);
        console.wait_for("Call outcome");
        console.keys(&["i"]);
        console.keys(&["Tab"]);
        console.text("call back after lunch");
        console.keys(&["Escape"]);
        std::thread::sleep(Duration::from_millis(300));
        console.keys(&["Enter"]);
        let away = console.wait_for("kept, will save when it is back");
        steer.set(Fault::None);
        console.wait_for("saved: Interested");
        console.quit();
        away
    })
    .await
    .unwrap();
    assert!(away.contains("unsaved"), "{away}");
    let leads = checked.list_leads(&Default::default(), None, 10).await.unwrap().items;
    let calls = checked.call_history(leads[0].id).await.unwrap();
    assert_eq!(calls.len(), 1, "saved once");
    assert_eq!(calls[0].disposition.as_deref(), Some("interested"));
    assert!(calls[0]
        .notes
        .as_deref()
        .unwrap_or_default()
        .contains("call back after lunch"));
    running.stop().await.unwrap();
}
