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
    tmux.keys(&["/"]);
    tmux.text("Quinn");
    tmux.wait_for("1 found");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Quinn Freight");
    tmux.keys(&["c"]);
    let screen = tmux.wait_for("ON CALL");
    assert!(
        screen.contains("+1 646-555-0142"),
        "the number to dial is shown:\n{screen}"
    );
    tmux.keys(&["e"]);
    tmux.wait_for("Call outcome");
    tmux.keys(&["i"]);
    tmux.keys(&["Tab"]);
    tmux.text("wants a demo");
    tmux.keys(&["Escape"]);
    // A person's Esc and Enter are never a single escape sequence (ESC CR reads as Alt-Enter).
    std::thread::sleep(Duration::from_millis(300));
    tmux.keys(&["Enter"]);
    tmux.wait_for("saved: Interested");
    tmux.keys(&["q"]);
    tmux.wait_for("console exited with 0");

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
