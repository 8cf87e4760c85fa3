//! The real `coldcall` binary, driven as a script or an admin would: one database, and a data
//! directory of its own so nothing touches the real one.

use std::process::{Command, Output};

use serde_json::Value;

pub struct Coldcall {
    pub database: String,
    pub data_dir: tempfile::TempDir,
}

impl Coldcall {
    pub fn new(database: &str) -> Coldcall {
        Coldcall {
            database: database.to_string(),
            data_dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A command on this database, with none of the caller's COLDCALL_* settings: for a test
    /// that sets its own environment before running it.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_coldcall"));
        command
            .args(["--database", &self.database])
            .args(args)
            .env_remove("COLDCALL_DATABASE_URL")
            .env_remove("COLDCALL_AGENT")
            .env_remove("COLDCALL_REGION")
            .env_remove("COLDCALL_BACKUP_KEY_FILE")
            .env("COLDCALL_DATA_DIR", self.data_dir.path());
        command
    }

    /// Runs a command on this database, with none of the caller's COLDCALL_* settings.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run coldcall")
    }

    /// Runs with --json, expects success, returns the parsed output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert!(out.status.success(), "{args:?} failed: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).expect("JSON output")
    }

    /// How many live leads the database lists.
    pub fn lead_count(&self) -> usize {
        self.json(&["lead", "list", "--limit", "1000"])["items"]
            .as_array()
            .unwrap()
            .len()
    }
}

pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
