//! Where coldcall keeps its files, and the settings of this terminal.
//!
//! Precedence, lowest first: built-in defaults, the config file, `COLDCALL_*` environment
//! variables, command-line flags. The config file is written with comments on first run;
//! `coldcall config path` prints where it is. `COLDCALL_DATA_DIR` moves the data directory and
//! `COLDCALL_CONFIG` the config file (tests and demos use them to stay out of the user's files).

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::console_settings::{Action, FloorLimits};

/// Default country for phone numbers written without one.
pub const DEFAULT_REGION: &str = "US";

pub use crate::paths::{config_path, data_dir};

/// The embedded default: a SQLite file in the data directory, created on first use.
pub fn default_database_url() -> String {
    format!("sqlite://{}", data_dir().join("coldcall.db").display())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Database URL; the local SQLite file when absent.
    pub database: Option<String>,
    /// The agent this terminal works as.
    pub agent: Option<String>,
    /// Default country for phone numbers without a country code.
    pub region: Option<String>,
    /// Colours on screen (NO_COLOR in the environment turns them off too).
    #[serde(default = "yes")]
    pub color: bool,
    /// How often the console reads the change feed, in milliseconds.
    #[serde(default = "default_feed_poll_ms")]
    pub feed_poll_ms: u64,
    /// The softphone: baresip over its control socket, or a command run at call start and end.
    pub dial: Option<crate::dialer::Softphone>,
    /// When the supervisor's floor marks a call, pause or wrap-up as running long.
    #[serde(default)]
    pub floor: FloorLimits,
    /// Key overrides: action name → keys.
    #[serde(default)]
    pub keys: HashMap<Action, Vec<String>>,
    /// `server = "https://…"`: the floor server this terminal works through. A `[server]`
    /// table instead: how `coldcall serve` runs on the machine that serves the floor.
    #[serde(default)]
    pub server: ServerEntry,
}

/// The config's `server`: an address for a console, settings for the floor server itself.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerEntry {
    Address(String),
    Settings(crate::server::config::ServerSettings),
}

impl<'de> Deserialize<'de> for ServerEntry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Read as a value first so a mistake inside a [server] table keeps its own message.
        match toml::Value::deserialize(deserializer)? {
            toml::Value::String(url) => Ok(ServerEntry::Address(url)),
            table @ toml::Value::Table(_) => crate::server::config::ServerSettings::deserialize(table)
                .map(ServerEntry::Settings)
                .map_err(serde::de::Error::custom),
            _ => Err(serde::de::Error::custom(
                "server: the floor server's address as text (server = \"https://…\"), or a [server] table for coldcall serve",
            )),
        }
    }
}

impl Default for ServerEntry {
    fn default() -> Self {
        ServerEntry::Settings(Default::default())
    }
}

impl Config {
    /// The floor server this terminal works through, when the config names one.
    pub fn floor_server(&self) -> Option<&str> {
        match &self.server {
            ServerEntry::Address(url) => Some(url.as_str()).filter(|u| !u.trim().is_empty()),
            ServerEntry::Settings(_) => None,
        }
    }

    /// The `[server]` settings `coldcall serve` starts from.
    pub fn serve_settings(&self) -> crate::server::config::ServerSettings {
        match &self.server {
            ServerEntry::Settings(settings) => settings.clone(),
            ServerEntry::Address(_) => Default::default(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_feed_poll_ms() -> u64 {
    1000
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database: None,
            agent: None,
            region: None,
            color: true,
            feed_poll_ms: default_feed_poll_ms(),
            dial: None,
            floor: Default::default(),
            keys: HashMap::new(),
            server: Default::default(),
        }
    }
}

#[cfg(test)]
mod server_entry_tests {
    use super::*;

    #[test]
    fn server_is_an_address_or_the_serve_settings() {
        let console = parse("server = \"https://dialer.example.com:8470\"\n").unwrap();
        assert_eq!(console.floor_server(), Some("https://dialer.example.com:8470"));
        let serving = parse("[server]\nlisten = \"0.0.0.0:8470\"\n").unwrap();
        assert_eq!(serving.floor_server(), None);
        assert_eq!(serving.serve_settings().listen, "0.0.0.0:8470");
        let typo = parse("[server]\nlisten_on = \"x\"\n").unwrap_err();
        assert!(typo.contains("listen_on"), "{typo}");
    }
}

const EXAMPLE: &str = r#"# coldcall configuration. Every line is optional; COLDCALL_* environment variables and
# command-line flags override what is set here.

# The floor server this terminal works through (same as --server or COLDCALL_SERVER): agents
# on a shared floor log in to it (coldcall login) and never hold the database's password.
# server = "https://dialer.example.com:8470"

# The database. Leave unset for the local SQLite file in the data directory.
# For a shared floor use PostgreSQL, with TLS verified:
# database = "postgres://dialer@db.example.com/coldcall?sslmode=verify-full"

# The agent this terminal works as (same as --agent or COLDCALL_AGENT).
# agent = "alice"

# Country for phone numbers written without a country code (ISO code).
# region = "US"

# Set to false for a monochrome screen (NO_COLOR does the same).
# color = true

# How often the console reads what changed on the floor, in milliseconds. On PostgreSQL a
# notification also wakes it at once when a call starts or ends anywhere.
# feed_poll_ms = 1000

# A softphone to dial through. Without a [dial] section the console shows the number to dial
# by hand. baresip (Debian: baresip-core) is driven over its control socket, and the call log
# gets what SIP says: ringing and answer times, busy / no answer / failed, and talk time from
# the answer. baresip needs `module_app menu.so`, `module_app ctrl_tcp.so` and
# `ctrl_tcp_listen 127.0.0.1:4444` in its config (see the README).
# [dial]
# softphone = "baresip"
# control = "127.0.0.1:4444"            # baresip's ctrl_tcp_listen; loopback only unless
#                                       # allow_remote_control = true (it has no password)
# uri = "sip:{number}@gateway.example"  # {number} is the lead's number in E.164
# ring_timeout_seconds = 30             # hang up a call nobody answers (5 to 180)
#
# Or any other softphone: a command as a list of arguments (no shell), run when a call starts,
# and optionally one run when it ends. {number}, {lead_id} and {agent} are filled in.
# [dial]
# command = ["softphone", "--dial", "{number}"]
# hangup = ["softphone", "--hangup"]

# On the supervisor's floor, when a state is marked as running long (minutes).
# [floor]
# long_call_minutes = 15
# long_pause_minutes = 15
# long_wrap_up_minutes = 2

# On the machine that runs the floor server, how `coldcall serve` runs (flags override); a
# [server] table here instead of the server = "…" line above. Plain HTTP is served only on a
# loopback address or a Unix socket; anywhere else it needs a certificate and key.
# [server]
# listen = "127.0.0.1:8470"          # or "0.0.0.0:8470" with TLS, or "unix:/run/coldcall/coldcall.sock"
# tls_cert = "/etc/coldcall/cert.pem"
# tls_key = "/etc/coldcall/key.pem"
# pool_size = 16                     # database connections, whatever the number of consoles
# session_idle_hours = 12
# session_max_days = 7
# feed_poll_ms = 500

# Rebind keys: an action and the keys for it. Keys look like "n", "G", "ctrl-r", "shift-tab",
# "pgdn", "enter", "esc", "space", "f5". Actions: claim_next, search, filter, open, focus_next,
# focus_prev, down, up, page_down, page_up, top, bottom, back, next_tab, prev_tab, start_call,
# end_call, change_status, edit_lead, add_lead, add_contact, delete_lead, toggle_pause, release_lock,
# toggle_floor, widen_range, assign, refresh, help, quit.
[keys]
# claim_next = ["n", "space"]
"#;

/// Reads the config file, writing the commented example first when there is none. A file that
/// cannot be read or parsed is an error that names the file and the line.
pub fn load() -> Result<Config, String> {
    let path = config_path();
    if !path.exists() {
        write_example(&path);
        return Ok(Config::default());
    }
    warn_if_readable_by_others(&path);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse(text: &str) -> Result<Config, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

fn write_example(path: &Path) {
    // Best effort: a read-only home must not stop the console.
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if std::fs::write(path, EXAMPLE).is_ok() {
        restrict_permissions(path);
    }
}

/// The file may hold a database password: only its owner should read it.
#[cfg(unix)]
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) {}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "config file is readable by other users; run chmod 600 on it");
            eprintln!(
                "warning: {} is readable by other users; it may hold a password (chmod 600 it)",
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_to_the_defaults() {
        let config = parse(EXAMPLE).unwrap();
        assert!(config.database.is_none() && config.agent.is_none() && config.color && config.keys.is_empty());
    }

    #[test]
    fn settings_and_keys_are_read() {
        let config = parse("agent = \"ann\"\ncolor = false\n[keys]\nclaim_next = [\"space\"]\n").unwrap();
        assert_eq!(config.agent.as_deref(), Some("ann"));
        assert!(!config.color);
        assert_eq!(config.keys[&Action::ClaimNext], vec!["space".to_string()]);
    }

    #[test]
    fn mistakes_are_named() {
        assert!(parse("agnet = \"ann\"").unwrap_err().contains("agnet"));
        assert!(parse("[keys]\ncall_everyone = [\"x\"]").is_err());
        let config = parse("[floor]\nlong_wrap_up_minutes = 5\n").unwrap();
        assert_eq!(config.floor.long_wrap_up_minutes, 5);
        assert_eq!(config.floor.long_call_minutes, 15);
    }
}
