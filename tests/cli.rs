//! The real `coldcall` binary, driven as a script would: exit codes, messages naming the field,
//! JSON output, and that rejected input writes nothing. Runs on a SQLite file and on PostgreSQL.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use common::binary::{code, stderr, stdout, Coldcall as Console};

/// What a script sees of the floor: live leads and active calls.
impl Console {
    fn counts(&self) -> (usize, usize) {
        let leads = self.json(&["lead", "list", "--limit", "1000"])["items"]
            .as_array()
            .unwrap()
            .len();
        let calls = self.json(&["calls", "active"]).as_array().unwrap().len();
        (leads, calls)
    }
}

fn scripted_session(console: &Console) {
    let seeded = console.json(&["db", "seed", "--leads", "5"]);
    assert_eq!(seeded["leads_added"], 5);
    let zone = common::zone_in_office_hours();
    let lead = console.json(
        &[
            &common::ADD_ADA_QUINN[..],
            &["--email", "ADA@QUINN.example", "--timezone", zone],
        ]
        .concat(),
    );
    assert_eq!(lead["phone"], "+16465550142", "numbers are stored in E.164");
    assert_eq!(lead["email"], "ada@quinn.example");
    let lead_id = lead["id"].as_str().unwrap().to_string();

    let found = console.json(&["lead", "search", "quinn"]);
    assert_eq!(found[0]["id"], lead_id.as_str());

    let ok = console.run(&["--agent", "alice", "lead", "can-call", &lead_id]);
    assert_eq!(code(&ok), 0, "{}", stderr(&ok));
    let call = console.json(&["--agent", "alice", "call", "start", &lead_id]);
    let call_id = call["call_id"].as_str().unwrap().to_string();

    // bob is refused with the reason, exit code 3
    let refused = console.run(&["--agent", "bob", "call", "start", &lead_id]);
    assert_eq!(code(&refused), 3);
    assert!(
        stderr(&refused).contains("alice"),
        "the reason names who is on the call: {}",
        stderr(&refused)
    );
    let refused = console.run(&["--json", "--agent", "bob", "call", "start", &lead_id]);
    let body: Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(body["error"]["kind"], "refused");
    assert_eq!(body["error"]["code"], "on_another_call");

    let ended = console.json(&[
        "--agent",
        "alice",
        "call",
        "end",
        &call_id,
        "--disposition",
        "interested",
        "--duration",
        "42",
        "--notes",
        "wants a demo",
        "--recording-url",
        "https://rec.example/42",
    ]);
    assert_eq!(ended["new_status"], "qualified");
    let history = console.json(&["lead", "history", &lead_id]);
    assert_eq!(history[0]["disposition"], "interested");
    assert_eq!(history[0]["duration_s"], 42);
    assert_eq!(history[0]["notes"], "wants a demo");
    let statuses = console.json(&["lead", "status-history", &lead_id]);
    assert_eq!(statuses[0]["new_status"], "qualified");
    assert_eq!(statuses[0]["changed_by_name"], "alice");

    // inside the minimum gap: refused, with when it is allowed
    let soon = console.run(&["--agent", "bob", "call", "start", &lead_id]);
    assert_eq!(code(&soon), 3);
    assert!(stderr(&soon).contains("alice"), "{}", stderr(&soon));

    let claim = console.json(&["--agent", "bob", "queue", "next"]);
    assert!(
        claim.is_null() || claim["lead"]["id"] != lead_id.as_str(),
        "a lead inside the gap is not handed out"
    );

    let stats = console.json(&["stats"]);
    let alice = stats["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent_name"] == "alice")
        .unwrap()
        .clone();
    assert_eq!(
        (
            alice["calls"].as_i64(),
            alice["contacts"].as_i64(),
            alice["talk_seconds"].as_i64()
        ),
        (Some(1), Some(1), Some(42))
    );

    bad_input_is_rejected_and_writes_nothing(console, &lead_id, &call_id);
}

fn bad_input_is_rejected_and_writes_nothing(console: &Console, lead_id: &str, call_id: &str) {
    let before = console.counts();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "lead",
                "add",
                "--first-name",
                "",
                "--last-name",
                "X",
                "--phone",
                "2125550100",
                "--company",
                "C",
            ],
            "first_name",
        ),
        (
            vec![
                "lead",
                "add",
                "--first-name",
                "A",
                "--last-name",
                "B",
                "--phone",
                "123",
                "--company",
                "C",
            ],
            "phone",
        ),
        (
            vec![
                "lead",
                "add",
                "--first-name",
                "A",
                "--last-name",
                "B",
                "--phone",
                "2125550101",
                "--company",
                "C",
                "--email",
                "not-an-email",
            ],
            "email",
        ),
        (
            vec![
                "lead",
                "add",
                "--first-name",
                "A",
                "--last-name",
                "B",
                "--phone",
                "2125550102",
                "--company",
                "C",
                "--score",
                "101",
            ],
            "lead_score",
        ),
        (
            vec![
                "lead",
                "add",
                "--first-name",
                "A",
                "--last-name",
                "B",
                "--phone",
                "2125550103",
                "--company",
                "C",
                "--timezone",
                "Mars/Base",
            ],
            "timezone",
        ),
        (
            vec![
                "lead",
                "add",
                "--first-name",
                "A",
                "--last-name",
                "B",
                "--phone",
                "2125550104",
            ],
            "company",
        ),
        (vec!["lead", "edit", lead_id, "--phone", "12"], "phone"),
        (vec!["lead", "status", lead_id, "won-ish"], "status"),
        (vec!["lead", "show", "not-a-uuid"], "not a valid id"),
        (vec!["lead", "list", "--after", "garbage"], "cursor"),
        (vec!["lead", "list", "--status", "bogus"], "status"),
        (vec!["lead", "list", "--min-score", "400"], "score"),
        (vec!["--agent", "nobody", "queue", "next"], "unknown agent"),
        (vec!["queue", "next"], "--agent"),
        (
            vec![
                "--agent",
                "alice",
                "call",
                "start",
                "00000000-0000-0000-0000-000000000000",
            ],
            "not found",
        ),
        (
            vec![
                "--agent",
                "alice",
                "call",
                "end",
                call_id,
                "--disposition",
                "teleported",
            ],
            "unknown disposition",
        ),
        (
            vec!["--agent", "alice", "callback", "add", lead_id, "tomorrow-ish"],
            "not a time",
        ),
        (
            vec!["--agent", "alice", "callback", "add", lead_id, "2001-01-01 10:00"],
            "future",
        ),
        (vec!["dnc", "add", "555"], "number"),
        (vec!["settings", "set", "max_attempts", "0"], "max_attempts"),
        (vec!["settings", "set", "calling_hours", "late"], "calling_hours"),
        (vec!["agent", "add", ""], "agent name"),
        (vec!["agent", "add", "zed", "--role", "boss"], "role"),
        (vec!["db", "reset"], "--yes"),
        (vec!["stats", "--from", "last tuesday"], "not a day"),
        (
            vec!["--agent", "alice", "calls", "release", call_id, "--reason", "stuck"],
            "supervisor",
        ),
    ];
    for (args, field) in cases {
        let out = console.run(&args);
        assert_eq!(
            code(&out),
            1,
            "{args:?} should fail with exit code 1; stderr: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains(field),
            "{args:?}: the message should name '{field}', got: {}",
            stderr(&out)
        );
    }
    assert_eq!(console.counts(), before, "rejected input wrote nothing");
    let unchanged = console.json(&["lead", "show", lead_id]);
    assert_eq!(unchanged["lead"]["phone"], "+16465550142");
    assert_eq!(unchanged["lead"]["status"], "qualified");
}

#[test]
fn a_scripted_session_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let console = Console::new(dir.path().join("floor.db").to_str().unwrap());
    scripted_session(&console);
    assert!(Path::new(&dir.path().join("floor.db")).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_session_on_postgres() {
    let db = common::postgres().await;
    let console = Console::new(&db.url);
    tokio::task::spawn_blocking(move || scripted_session(&console))
        .await
        .unwrap();
}

#[test]
fn the_default_database_is_created_in_the_data_directory() {
    let data_dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_coldcall"))
        .args(["agent", "list"])
        .env_remove("COLDCALL_DATABASE_URL")
        .env("COLDCALL_DATA_DIR", data_dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(data_dir.path().join("coldcall.db").exists());
}

/// Runs the binary with the file-creation mask a login shell usually leaves (022: new files
/// readable by every local user), so what is private is so because coldcall made it so.
fn run_with_open_umask(data_dir: &Path, args: &[&str]) {
    let out = Command::new("sh")
        .args(["-c", r#"umask 022; exec "$0" "$@""#, env!("CARGO_BIN_EXE_coldcall")])
        .args(args)
        .env_remove("COLDCALL_DATABASE_URL")
        .env_remove("COLDCALL_BACKUP_KEY_FILE")
        .env("COLDCALL_DATA_DIR", data_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
}

/// Every directory under `dir` (itself included) and every file in them, with its mode bits.
fn modes_under(dir: &Path) -> Vec<(std::path::PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut found = vec![(
        dir.to_path_buf(),
        std::fs::metadata(dir).unwrap().permissions().mode() & 0o777,
    )];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(modes_under(&path));
        } else {
            found.push((
                path.clone(),
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            ));
        }
    }
    found
}

fn assert_owner_only(data_dir: &Path) {
    for (path, mode) in modes_under(data_dir) {
        let private = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, private, "{} is {mode:o}", path.display());
    }
}

/// The data directory holds every lead (the database, its WAL, backups, logs): the real binary
/// creates it 0700 and every file in it 0600, and tightens what an older coldcall left readable.
#[test]
fn the_data_directory_and_every_file_in_it_are_the_owners_only() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("coldcall");
    run_with_open_umask(&data_dir, &["db", "seed", "--leads", "3"]);
    run_with_open_umask(&data_dir, &["backup"]);
    let found = modes_under(&data_dir);
    let names: Vec<String> = found
        .iter()
        .filter_map(|(p, _)| Some(p.strip_prefix(&data_dir).ok()?.to_str()?.to_string()))
        .collect();
    assert!(names.iter().any(|n| n == "coldcall.db"), "{names:?}");
    assert!(
        names.iter().any(|n| n.starts_with("backups/") && n.ends_with(".zst")),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n.starts_with("logs/coldcall.log")), "{names:?}");
    assert_owner_only(&data_dir);

    // As an older coldcall left them: the directory and the database readable by everyone.
    let set = |path: &Path, mode: u32| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    set(&data_dir, 0o755);
    set(&data_dir.join("coldcall.db"), 0o644);
    run_with_open_umask(&data_dir, &["agent", "list"]);
    assert_owner_only(&data_dir);
}

/// `db status` says how the data is reached: a local file, or PostgreSQL with or without TLS
/// (the local server has TLS on, so `sslmode=require` is encrypted and `disable` is not).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_status_says_whether_the_connection_is_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let file = Console::new(dir.path().join("floor.db").to_str().unwrap());
    let out = file.run(&["db", "status"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("connection: local file (no network)"),
        "{}",
        stdout(&out)
    );

    let db = common::postgres().await;
    let with = |params: &str| {
        let sep = if db.url.contains('?') { '&' } else { '?' };
        Console::new(&format!("{}{sep}{params}", db.url))
    };
    for (params, said) in [
        ("sslmode=disable", "connection: NOT encrypted"),
        (
            "sslmode=require",
            "connection: encrypted (TLS), server certificate NOT verified",
        ),
    ] {
        let console = with(params);
        let out = tokio::task::spawn_blocking(move || console.run(&["db", "status"]))
            .await
            .unwrap();
        assert_eq!(code(&out), 0, "{params}: {}", stderr(&out));
        assert!(stdout(&out).contains(said), "{params}: {}", stdout(&out));
    }
}

#[test]
fn dnc_check_exits_3_for_a_listed_number() {
    let dir = tempfile::tempdir().unwrap();
    let console = Console::new(dir.path().join("dnc.db").to_str().unwrap());
    assert_eq!(
        code(&console.run(&["dnc", "add", "+44 20 7946 0958", "--reason", "asked"])),
        0
    );
    assert_eq!(code(&console.run(&["dnc", "check", "+442079460958"])), 3);
    assert_eq!(code(&console.run(&["dnc", "check", "+442079460959"])), 0);
    assert_eq!(code(&console.run(&["dnc", "remove", "+44 20 7946 0958"])), 0);
    assert_eq!(code(&console.run(&["dnc", "check", "+442079460958"])), 0);
}

#[test]
fn passwords_are_never_printed() {
    let out = Command::new(env!("CARGO_BIN_EXE_coldcall"))
        .args([
            "--database",
            "postgres://dialer:hunter2@127.0.0.1:1/coldcall",
            "agent",
            "list",
        ])
        .env("COLDCALL_DATA_DIR", tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("hunter2"), "{all}");
}

/// `doctor` on a real database: healthy when it is, and each problem named with its fix and a
/// failing exit code when it is not (a stale lock from a console that died an hour ago, a
/// schema one migration behind).
async fn doctor_names_what_is_wrong(db: common::TestDb) {
    let console = Console::new(&db.url);
    let run = |args: &[&str]| tokio::task::block_in_place(|| console.json(args));
    run(&["agent", "add", "alice"]);
    run(&["settings", "set", "calling_hours", "00:00-23:59"]);
    common::lead(&db.store.clone().with_clock(coldcall::store::Clock::system()), 2).await;
    let healthy = run(&["--agent", "alice", "doctor"]);
    assert_eq!(healthy["verdict"], "ok", "{healthy}");
    // A call whose console died an hour ago (written with the clock an hour back).
    let earlier = db.store.clone().with_clock(coldcall::store::Clock::fixed(
        chrono::Utc::now() - chrono::Duration::hours(1),
    ));
    let lead = common::lead(&earlier, 1).await;
    let alice = earlier.agent_by_name("alice").await.unwrap().unwrap();
    common::start_call(&earlier, lead.id, alice.id).await;
    let stale = run(&["doctor"]);
    assert_eq!(stale["verdict"], "warn", "{stale}");
    let findings = stale["findings"].as_array().unwrap();
    let locks = findings.iter().find(|f| f["check"] == "locks").unwrap();
    assert_eq!(locks["level"], "warn", "{stale}");
    assert!(locks["detail"].as_str().unwrap().contains("alice"), "{locks}");
    assert!(locks["fix"].as_str().unwrap().contains("calls reap"), "{locks}");
    run(&["db", "down"]);
    let out = tokio::task::block_in_place(|| console.run(&["--json", "doctor"]));
    assert_eq!(code(&out), 1, "a schema behind fails");
    // The findings, then the error object every failing command prints with --json.
    let mut printed = serde_json::Deserializer::from_slice(&out.stdout).into_iter::<Value>();
    let behind = printed.next().unwrap().unwrap();
    assert!(printed.next().unwrap().unwrap()["error"].is_object());
    assert_eq!(behind["verdict"], "fail");
    assert!(behind.to_string().contains("coldcall db migrate"), "{behind}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_on_sqlite() {
    doctor_names_what_is_wrong(common::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_on_postgres() {
    doctor_names_what_is_wrong(common::postgres().await).await;
}

/// Statements slower than the bound are logged with their text and time: with the bound at 0 ms
/// every statement of a command is, and with a minute none is.
#[test]
fn slow_statements_are_logged_with_their_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("slow.db").display());
    let logged = |bound: &str| {
        let data = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_coldcall"))
            .args(["--database", &db, "lead", "list"])
            .env_remove("COLDCALL_DATABASE_URL")
            .env("COLDCALL_DATA_DIR", data.path())
            .env("COLDCALL_SLOW_STATEMENT_MS", bound)
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let mut text = String::new();
        for entry in std::fs::read_dir(data.path().join("logs")).unwrap().flatten() {
            text.push_str(&std::fs::read_to_string(entry.path()).unwrap());
        }
        text
    };
    let everything = logged("0");
    assert!(everything.contains("slow statement"), "{everything}");
    assert!(everything.contains("elapsed"), "the time is in the line: {everything}");
    assert!(everything.contains("SELECT"), "and the statement: {everything}");
    let quick = logged("60000");
    assert!(!quick.contains("slow statement"), "{quick}");
}

/// `callback hand` and `callback done` take a callback by an unambiguous start of its id, as the
/// lead and call commands do; a start that matches two, or none, is refused and says which.
#[test]
fn callbacks_are_named_by_the_start_of_their_id() {
    let dir = tempfile::tempdir().unwrap();
    let console = Console::new(dir.path().join("callbacks.db").to_str().unwrap());
    for (name, role) in [("alice", "agent"), ("bob", "agent"), ("sam", "supervisor")] {
        console.json(&["agent", "add", name, "--role", role]);
    }
    let lead = console.json(&common::ADD_ADA_QUINN);
    let lead = lead["id"].as_str().unwrap();
    let at = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let add = || {
        console.json(&["--agent", "alice", "callback", "add", lead, &at])["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (first, second) = (add(), add());
    // Ids made a moment apart begin with the same time, so their common start names both.
    let shared: String = first
        .chars()
        .zip(second.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a)
        .collect();
    assert!(shared.replace('-', "").len() >= 4, "{first} {second}");

    let ambiguous = console.run(&["--agent", "sam", "callback", "hand", &shared, "bob"]);
    assert_eq!(code(&ambiguous), 1);
    let said = stderr(&ambiguous);
    assert!(
        said.contains("ambiguous") && said.contains(&first) && said.contains(&second),
        "{said}"
    );
    let unknown = console.run(&["--agent", "sam", "callback", "hand", "ffffffff", "bob"]);
    assert_eq!(code(&unknown), 1);
    assert!(
        stderr(&unknown).contains("no callback matches 'ffffffff'"),
        "{}",
        stderr(&unknown)
    );
    let not_hex = console.run(&["callback", "done", "nope"]);
    assert_eq!(code(&not_hex), 1);
    assert!(stderr(&not_hex).contains("not a valid id"), "{}", stderr(&not_hex));

    let handed = console.json(&["--agent", "sam", "callback", "hand", &first[..30], "bob"]);
    assert_eq!(handed["handed_to"], "bob");
    // An agent's start of an id names one of their own callbacks: the first is bob's now.
    let not_hers = console.run(&["--agent", "alice", "callback", "done", &first[..30]]);
    assert_eq!(code(&not_hers), 1, "{}", stderr(&not_hers));
    assert!(
        stderr(&not_hers).contains("no callback matches"),
        "{}",
        stderr(&not_hers)
    );
    let done = console.json(&["--agent", "bob", "callback", "done", &first[..30]]);
    assert_eq!(done["done"], true);
    let done = console.json(&["--agent", "alice", "callback", "done", &second[..30]]);
    assert_eq!(done["done"], true);
    // Done is no longer open: the same start names nothing now.
    let again = console.run(&["--agent", "alice", "callback", "done", &second[..30]]);
    assert_eq!(code(&again), 1);
    assert!(stderr(&again).contains("no callback matches"), "{}", stderr(&again));

    // A callback on a lead deleted since is still named by the start of its id (the floor's list
    // of due callbacks leaves deleted leads out; the lookup by id does not).
    let other = console.json(&[
        "lead",
        "add",
        "--first-name",
        "Bo",
        "--last-name",
        "Reyes",
        "--phone",
        "(646) 555-0199",
        "--company",
        "Reyes Co",
    ]);
    let other = other["id"].as_str().unwrap();
    let third = console.json(&["--agent", "alice", "callback", "add", other, &at])["id"]
        .as_str()
        .unwrap()
        .to_string();
    console.json(&["lead", "delete", other]);
    let done = console.json(&["--agent", "alice", "callback", "done", &third[..30]]);
    assert_eq!(done["done"], true);
}

/// The supervisor's console is refused to an agent by the domain's rule, in its words, before
/// any screen opens.
#[test]
fn an_agent_is_refused_the_supervisors_console() {
    let dir = tempfile::tempdir().unwrap();
    let console = Console::new(dir.path().join("supervise.db").to_str().unwrap());
    console.json(&["agent", "add", "alice"]);
    let refused = console.run(&["--agent", "alice", "supervise"]);
    assert_eq!(code(&refused), 1);
    assert!(
        stderr(&refused).contains("only a supervisor or admin can watch the floor; alice is an agent"),
        "{}",
        stderr(&refused)
    );
}

/// What a person reads shows a number grouped as it is dialled; `--json` keeps the stored E.164.
#[test]
fn numbers_read_grouped_where_a_person_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let console = Console::new(dir.path().join("grouped.db").to_str().unwrap());
    let lead = console.json(&common::ADD_ADA_QUINN);
    assert_eq!(lead["phone"], "+16465550142");
    let id = lead["id"].as_str().unwrap();
    let shown = console.run(&["lead", "show", id]);
    assert_eq!(code(&shown), 0, "{}", stderr(&shown));
    assert!(
        stdout(&shown).contains("phone     +1 646-555-0142\n"),
        "{}",
        stdout(&shown)
    );
    let listed = console.run(&["lead", "list"]);
    assert!(stdout(&listed).contains("+1 646-555-0142"), "{}", stdout(&listed));
    assert!(!stdout(&listed).contains("+16465550142"), "{}", stdout(&listed));
    console.run(&["dnc", "add", "(646) 555-0199"]);
    let checked = console.run(&["dnc", "check", "646 555 0199"]);
    assert_eq!(code(&checked), 3, "{}", stderr(&checked));
    assert!(
        stdout(&checked).contains("+1 646-555-0199 is on the do-not-call list since "),
        "{}",
        stdout(&checked)
    );
}
