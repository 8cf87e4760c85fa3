//! The real binary, as an admin's script drives it: backup (with --keep), verify, restore,
//! gdpr export/erase and db down, with their exit codes, on a SQLite file and on PostgreSQL.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

use common::binary::{code, stderr, Coldcall as Admin};

impl Admin {
    fn backups(&self) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(self.data_dir.path().join("backups"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        found.sort();
        found
    }
}

fn flip_a_byte(from: &Path, to: &Path) {
    let mut bytes = std::fs::read(from).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x04;
    std::fs::write(to, bytes).unwrap();
}

fn admin_session(source: &Admin, empty_target: &Admin, another_empty: &Admin) {
    source.json(&["db", "seed", "--leads", "40"]);
    let lead = source.json(&["lead", "list", "--limit", "1"])["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // three backups, keeping two; a file that is not a backup is left alone
    std::fs::create_dir_all(source.data_dir.path().join("backups")).unwrap();
    std::fs::write(source.data_dir.path().join("backups/notes.txt"), "keep me").unwrap();
    let mut written = Vec::new();
    for _ in 0..3 {
        let done = source.json(&["backup", "--keep", "2"]);
        assert_eq!(done["verified"], true);
        assert!(done["manifest"]["tables"].as_array().unwrap().len() >= 10);
        written.push(PathBuf::from(done["file"].as_str().unwrap()));
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let left = source.backups();
    assert_eq!(left.len(), 3, "two backups and the notes: {left:?}");
    assert!(left.contains(&written[1]) && left.contains(&written[2]) && !left.contains(&written[0]));
    assert!(left.iter().any(|p| p.ends_with("notes.txt")));
    let newest = written[2].clone();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&newest).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "a backup holds personal data: owner only");
    }

    // --out to a file that exists is refused
    let out = source.run(&["backup", "--out", newest.to_str().unwrap()]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));

    // verify: intact is 0, damaged is 1 with the table named
    let verified = source.json(&["backup", "verify", newest.to_str().unwrap()]);
    assert_eq!(verified["intact"], true);
    let damaged = source.data_dir.path().join("damaged.zst");
    flip_a_byte(&newest, &damaged);
    let out = source.run(&["backup", "verify", damaged.to_str().unwrap()]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("damaged"), "{}", stderr(&out));

    // restore: a damaged file is refused with nothing written, an intact one goes in once
    let out = empty_target.run(&["restore", damaged.to_str().unwrap()]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(empty_target.json(&["agent", "list"]).as_array().unwrap().len(), 0);
    let restored = another_empty.json(&["restore", newest.to_str().unwrap()]);
    assert!(restored["rows"].as_u64().unwrap() > 40);
    let out = another_empty.run(&["restore", newest.to_str().unwrap()]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("empty database"), "{}", stderr(&out));
    let shown = another_empty.json(&["lead", "show", &lead]);
    assert_eq!(
        shown["lead"]["id"].as_str().or(shown["id"].as_str()),
        Some(lead.as_str())
    );

    // a person's data: supervisors only
    let out = source.run(&["--agent", "alice", "gdpr", "erase", &lead, "--reason", "request"]);
    assert_eq!(code(&out), 1);
    let out = source.run(&["--agent", "sam", "gdpr", "export", &lead]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let export: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(export["lead"]["id"], lead.as_str());
    let erased = source.json(&["--agent", "sam", "gdpr", "erase", &lead, "--reason", "request"]);
    assert_eq!(erased["already_erased"], false);
    let again = source.json(&["--agent", "sam", "gdpr", "erase", &lead, "--reason", "request"]);
    assert_eq!(again["already_erased"], true);

    // db down all the way, then up again
    loop {
        let undone = source.json(&["db", "down"]);
        if undone.is_null() {
            break;
        }
    }
    let status = source.json(&["db", "migrate"]);
    assert!(status.as_array().unwrap().iter().all(|m| m["applied"] == true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_backs_up_verifies_and_restores_on_sqlite() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let urls: Vec<String> = dirs
        .iter()
        .map(|d| format!("sqlite://{}", d.path().join("coldcall.db").display()))
        .collect();
    admin_session(&Admin::new(&urls[0]), &Admin::new(&urls[1]), &Admin::new(&urls[2]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_backs_up_verifies_and_restores_on_postgres() {
    let (a, b, c) = (
        common::postgres().await,
        common::postgres().await,
        common::postgres().await,
    );
    admin_session(&Admin::new(&a.url), &Admin::new(&b.url), &Admin::new(&c.url));
}

/// Runs the binary and returns its output with its peak resident memory in bytes, from the
/// kernel's own account of that child (`wait4`), not from sampling.
// The child is reaped by wait4 below, which std cannot see.
#[allow(clippy::zombie_processes)]
fn run_measured(admin: &Admin, args: &[&str]) -> (std::process::Output, u64) {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_coldcall"))
        .args(["--database", &admin.database])
        .args(args)
        .env_remove("COLDCALL_DATABASE_URL")
        .env("COLDCALL_DATA_DIR", admin.data_dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_end(&mut err).unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own unwaited child; both pointers live across the call.
    let waited = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(waited, child.id() as libc::pid_t, "wait4");
    use std::os::unix::process::ExitStatusExt;
    let output = std::process::Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: out,
        stderr: err,
    };
    // Linux reports ru_maxrss in kilobytes.
    (output, usage.ru_maxrss as u64 * 1024)
}

/// A file that unpacks to one 4 GiB line inside a table (a real header and table heading
/// first, then 4 GiB of one byte with no newline): verify and restore refuse it with a clear
/// error and never hold more than 200 MB.
#[test]
fn a_backup_that_unpacks_to_one_huge_line_is_refused_in_bounded_memory() {
    use std::io::{BufRead, Write};
    let dir = tempfile::tempdir().unwrap();
    let source = Admin::new(&format!("sqlite://{}", dir.path().join("source.db").display()));
    source.json(&["db", "seed", "--leads", "5"]);
    let real = PathBuf::from(source.json(&["backup"])["file"].as_str().unwrap());
    let lines: Vec<String> = std::io::BufReader::new(zstd::Decoder::new(std::fs::File::open(&real).unwrap()).unwrap())
        .lines()
        .take(2)
        .map(Result::unwrap)
        .collect();
    assert!(
        lines[0].starts_with("{\"backup\"") && lines[1].starts_with("{\"table\""),
        "{lines:?}"
    );

    let hostile = dir.path().join("hostile.ccbackup");
    let mut file = std::fs::File::create(&hostile).unwrap();
    file.write_all(&zstd::encode_all(format!("{}\n", lines[0]).as_bytes(), 1).unwrap())
        .unwrap();
    let mut frame = zstd::Encoder::new(&mut file, 1).unwrap();
    frame.write_all(format!("{}\n", lines[1]).as_bytes()).unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..4096 {
        frame.write_all(&chunk).unwrap();
    }
    frame.finish().unwrap();
    drop(file);
    let packed = std::fs::metadata(&hostile).unwrap().len();
    assert!(packed < 1 << 20, "a small file ({packed} bytes) that unpacks to 4 GiB");

    let target = Admin::new(&format!("sqlite://{}", dir.path().join("target.db").display()));
    target.json(&["db", "migrate"]);
    let hostile = hostile.to_str().unwrap();
    for args in [vec!["backup", "verify", hostile], vec!["restore", hostile]] {
        let (out, peak) = run_measured(&target, &args);
        let said = stderr(&out);
        println!(
            "{args:?}: peak RSS {:.1} MB, exit {:?}",
            peak as f64 / 1e6,
            out.status.code()
        );
        assert_ne!(out.status.code(), Some(0), "{args:?} must refuse the file");
        assert!(said.contains("longer than 8 MiB"), "{args:?} names the fault: {said}");
        assert!(peak < 200_000_000, "{args:?} peaked at {peak} bytes");
    }
    assert_eq!(target.lead_count(), 0, "nothing half-restored");
}
