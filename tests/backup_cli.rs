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

/// Offers `secret` once on the pipe at `fifo` to whichever process opens it next, then waits
/// for that reader to see the end, so the next secret goes to the next reader.
fn offer_once(fifo: &Path, secret: &[u8]) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    // Opening a pipe to write without blocking fails (ENXIO) until a reader has it open.
    let mut pipe = loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(fifo)
        {
            Ok(pipe) => break pipe,
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => panic!("nobody read the key: {e}"),
        }
    };
    pipe.write_all(secret).unwrap();
    drop(pipe);
    std::thread::sleep(std::time::Duration::from_millis(300));
}

/// A backup that fails its read-back check never appears under its final name, nor is it left
/// as a `.partial`. The check fails as it would if the backup key were rotated while the backup
/// ran: the key file is a pipe that gives the writer one key and the check another.
#[test]
fn a_backup_that_fails_its_check_never_appears_under_its_name() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let admin = Admin::new(&format!("sqlite://{}", dir.path().join("floor.db").display()));
    admin.json(&["db", "seed", "--leads", "5"]);
    let partial_of = |p: &Path| p.with_file_name(format!("{}.partial", p.file_name().unwrap().to_str().unwrap()));

    let good = dir.path().join("good.backup.zst");
    assert_eq!(
        admin.json(&["backup", "--out", good.to_str().unwrap()])["verified"],
        true
    );
    assert!(good.exists() && !partial_of(&good).exists());

    let key = dir.path().join("backup.key");
    let c_key = std::ffi::CString::new(key.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the pipe.
    assert_eq!(unsafe { libc::mkfifo(c_key.as_ptr(), 0o600) }, 0, "mkfifo");
    let offered = key.clone();
    let keys = std::thread::spawn(move || {
        offer_once(&offered, &[1u8; 32]);
        offer_once(&offered, &[2u8; 32]);
    });
    let bad = dir.path().join("bad.backup.zst");
    let out = admin
        .command(&["backup", "--out", bad.to_str().unwrap()])
        .env("COLDCALL_BACKUP_KEY_FILE", &key)
        .output()
        .unwrap();
    keys.join().unwrap();
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("backup key other than this floor's"),
        "{}",
        stderr(&out)
    );
    assert!(!bad.exists(), "a backup that failed its check has no final name");
    assert!(!partial_of(&bad).exists(), "and is not left behind");
}

/// What a forger with coldcall's own source does to a keyed backup: reads it, changes a lead,
/// and writes it out again with every plain checksum recomputed. Answers the forged file.
fn forge(genuine: &Path, secret: &[u8], forged: &Path) -> PathBuf {
    use coldcall::backup::{BackupKey, BackupReader, BackupWriter, Value};
    let key = BackupKey::new(secret.to_vec()).unwrap();
    let mut reader = BackupReader::open_with_key(std::fs::File::open(genuine).unwrap(), Some(key)).unwrap();
    let out = std::fs::File::create(forged).unwrap();
    let mut writer = BackupWriter::with_key(out, reader.header().clone(), None).unwrap();
    let mut changed = false;
    while let Some(table) = reader.next_table().unwrap() {
        writer.begin_table(table.spec).unwrap();
        let first_name = match table.spec.name {
            "leads" => table.columns.iter().position(|c| c.name == "first_name"),
            _ => None,
        };
        while let Some(mut row) = reader.next_row().unwrap() {
            if let Some(at) = first_name.filter(|_| !changed) {
                row[at] = Value::Text("Forged".into());
                changed = true;
            }
            writer.row(&row).unwrap();
        }
    }
    reader.finish().unwrap();
    writer.finish().unwrap();
    assert!(changed, "a lead was changed");
    forged.to_path_buf()
}

/// With a backup key configured, a keyed backup that was altered and resealed with plain
/// checksums passes every plain check, yet verify and restore refuse it by the key, and the
/// database it was to go into stays empty; the genuine file restores.
#[test]
fn a_forged_keyed_backup_is_refused_and_the_database_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let secret = [7u8; 32];
    let key = dir.path().join("backup.key");
    std::fs::write(&key, secret).unwrap();
    let keyed = |admin: &Admin, args: &[&str]| {
        admin
            .command(args)
            .env("COLDCALL_BACKUP_KEY_FILE", &key)
            .output()
            .unwrap()
    };
    let source = Admin::new(&format!("sqlite://{}", dir.path().join("source.db").display()));
    source.json(&["db", "seed", "--leads", "5"]);
    let genuine = dir.path().join("genuine.backup.zst");
    let out = keyed(&source, &["backup", "--out", genuine.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let forged = forge(&genuine, &secret, &dir.path().join("forged.backup.zst"));
    let forged = forged.to_str().unwrap();

    let plain = source.run(&["backup", "verify", forged]);
    assert_eq!(
        code(&plain),
        0,
        "without the key the forgery looks intact: {}",
        stderr(&plain)
    );
    let refusal = "not sealed with this floor's backup key";
    let out = keyed(&source, &["backup", "verify", forged]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains(refusal), "{}", stderr(&out));

    let target = Admin::new(&format!("sqlite://{}", dir.path().join("target.db").display()));
    target.json(&["db", "migrate"]);
    let out = keyed(&target, &["restore", forged]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains(refusal), "{}", stderr(&out));
    assert_eq!(target.lead_count(), 0, "nothing of the forgery went in");
    assert_eq!(target.json(&["agent", "list"]).as_array().unwrap().len(), 0);

    let out = keyed(&target, &["restore", genuine.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(target.lead_count(), 5);
}
