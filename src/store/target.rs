//! Which database a URL names. A mistyped URL must be an error, never a silently created private
//! SQLite file with its own do-not-call list that the floor never sees; and a shared PostgreSQL
//! database across a network must not be reached in plain text unless someone chose that.

use std::path::PathBuf;

use super::{Result, StoreError};

/// The schemes coldcall knows, as an error message lists them.
const KNOWN: &str = "postgres://, postgresql://, sqlite://PATH, or a file path ending in .db, .sqlite or .sqlite3";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Postgres(String),
    Sqlite(PathBuf),
}

/// Reads a database URL. A bare path names a SQLite file only when it clearly does: it exists,
/// or it ends in a SQLite file name. Anything with another scheme is refused by name.
pub fn parse(url: &str) -> Result<Target> {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres(url.to_string()));
    }
    let sqlite = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"));
    if let Some(path) = sqlite {
        if path.is_empty() || path.contains(":memory:") || path.starts_with("mode=memory") {
            return Err(StoreError::BadInput(
                "in-memory SQLite gives each connection its own empty database; use a file path".into(),
            ));
        }
        return Ok(Target::Sqlite(PathBuf::from(path)));
    }
    if let Some(scheme) = scheme_of(url) {
        let hint = match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" | "psql" => " (did you mean postgres://?)",
            "sqlite" | "sqlite3" | "file" => " (did you mean sqlite://PATH?)",
            _ => "",
        };
        return Err(StoreError::BadInput(format!(
            "database URL '{}': unknown or misspelt scheme '{scheme}:'{hint}; coldcall knows {KNOWN}",
            super::redact_url(url)
        )));
    }
    let path = PathBuf::from(url);
    let named_like_a_database = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "db" | "sqlite" | "sqlite3"));
    if path.is_file() || named_like_a_database {
        return Ok(Target::Sqlite(path));
    }
    Err(StoreError::BadInput(format!(
        "database '{url}' is neither a database URL nor a SQLite file; coldcall knows {KNOWN}"
    )))
}

/// The scheme of `text` when it starts like a URL (`letters:`), but not a one-letter Windows
/// drive such as `C:`.
fn scheme_of(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let url_like = first.is_ascii_alphabetic()
        && scheme.len() > 1
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    url_like.then_some(scheme)
}

/// The URL's `connect_timeout` in seconds (as libpq reads it), bounded to 1–120 s.
pub fn connect_timeout(url: &str) -> Option<std::time::Duration> {
    let query = url.split_once('?').map(|(_, q)| q)?;
    let secs: u64 = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "connect_timeout")?
        .1
        .parse()
        .ok()?;
    Some(std::time::Duration::from_secs(secs.clamp(1, 120)))
}

/// How the connection to the data is protected, as `db status` and the console header show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionSecurity {
    /// A SQLite file on this machine: nothing crosses a network.
    LocalFile,
    /// TLS, and the server's certificate was checked against a trusted root.
    Verified,
    /// TLS, but the certificate was not checked (`sslmode=require`): safe from listeners, not
    /// from a machine in the middle.
    EncryptedUnverified,
    /// Plain text on the wire.
    Plaintext,
    /// Plain HTTP to a floor server on this machine (loopback): nothing crosses a network.
    Loopback,
}

impl ConnectionSecurity {
    /// A few characters for the console header; empty where there is nothing to warn about.
    pub fn badge(self) -> &'static str {
        match self {
            ConnectionSecurity::LocalFile | ConnectionSecurity::Loopback => "",
            ConnectionSecurity::Verified => "TLS ✓",
            ConnectionSecurity::EncryptedUnverified => "TLS unverified",
            ConnectionSecurity::Plaintext => "⚠ NOT ENCRYPTED",
        }
    }
}

impl std::fmt::Display for ConnectionSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ConnectionSecurity::LocalFile => "local file (no network)",
            ConnectionSecurity::Verified => "encrypted (TLS), server certificate verified",
            ConnectionSecurity::EncryptedUnverified => "encrypted (TLS), server certificate NOT verified",
            ConnectionSecurity::Plaintext => "NOT encrypted",
            ConnectionSecurity::Loopback => "this machine only (loopback)",
        })
    }
}

/// How the connection to a PostgreSQL server is protected, from the URL's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    /// Whether the server's certificate is checked.
    pub fn verifies(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }

    /// Whether an attacker on the path can turn the connection into plain text.
    fn can_be_plain(self) -> bool {
        matches!(self, SslMode::Disable | SslMode::Allow | SslMode::Prefer)
    }
}

/// The `sslmode` the URL asks for; PostgreSQL's default is `prefer`.
pub fn ssl_mode(url: &str) -> SslMode {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let mode = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case("sslmode"))
        .map(|(_, v)| v.to_ascii_lowercase());
    match mode.as_deref() {
        Some("disable") => SslMode::Disable,
        Some("allow") => SslMode::Allow,
        Some("require") => SslMode::Require,
        Some("verify-ca") => SslMode::VerifyCa,
        Some("verify-full") => SslMode::VerifyFull,
        _ => SslMode::Prefer,
    }
}

/// The host a PostgreSQL URL names, or None for a Unix socket (no host, or a path as host).
pub fn pg_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    let query_host = url
        .split_once('?')
        .and_then(|(_, q)| q.split('&').find_map(|p| p.strip_prefix("host=")))
        .map(str::to_string);
    match (host.is_empty(), query_host) {
        (false, _) => Some(host.to_string()),
        (true, Some(h)) if !h.starts_with('/') && !h.starts_with("%2F") => Some(h),
        _ => None,
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a connection across a network that could be downgraded to plain text, unless the
/// user chose that (`allow_unencrypted`).
pub fn check_transport(url: &str, allow_unencrypted: bool) -> Result<()> {
    let Some(host) = pg_host(url) else {
        return Ok(()); // a Unix socket never leaves the machine
    };
    let mode = ssl_mode(url);
    if is_loopback(&host) || !mode.can_be_plain() || allow_unencrypted {
        return Ok(());
    }
    Err(StoreError::BadInput(format!(
        "refusing to reach PostgreSQL on {host} with sslmode={}: anyone on the network path could read \
         lead data or turn the connection into plain text. Add sslmode=verify-full (or at least \
         sslmode=require) to the URL; if this network is trusted, set COLDCALL_ALLOW_UNENCRYPTED=1",
        match mode {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            _ => "prefer (the default)",
        }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_urls_name_their_backend() {
        assert_eq!(
            parse("postgres://u@h/db").unwrap(),
            Target::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(parse("sqlite:///tmp/x.db").unwrap(), Target::Sqlite("/tmp/x.db".into()));
        assert_eq!(parse("sqlite:x").unwrap(), Target::Sqlite("x".into()));
        assert_eq!(
            parse("/home/ann/floor.db").unwrap(),
            Target::Sqlite("/home/ann/floor.db".into())
        );
        assert_eq!(parse("leads.sqlite3").unwrap(), Target::Sqlite("leads.sqlite3".into()));
    }

    #[test]
    fn mistyped_urls_are_errors_that_name_the_known_schemes() {
        for url in [
            "Postgres://u@h/db",
            "pg://u@h/db",
            "postgres:/u@h/db",
            "mysql://u:secret@h/db",
            "POSTGRESQL://h/db",
        ] {
            let err = parse(url).unwrap_err().to_string();
            assert!(err.contains("postgres://") && err.contains("sqlite://"), "{url}: {err}");
            assert!(!err.contains("secret"), "{err}");
        }
        assert!(parse("pg://h/db")
            .unwrap_err()
            .to_string()
            .contains("did you mean postgres://"));
        assert!(
            parse("/tmp/no-such-dir/coldcall").is_err(),
            "a bare path that names no database"
        );
        assert!(parse("sqlite::memory:").is_err());
    }

    #[test]
    fn a_remote_server_needs_encryption_unless_chosen_otherwise() {
        let remote = "postgres://dial@db.example.com/coldcall";
        assert!(check_transport(remote, false)
            .unwrap_err()
            .to_string()
            .contains("sslmode=verify-full"));
        assert!(check_transport(&format!("{remote}?sslmode=disable"), false).is_err());
        assert!(check_transport(&format!("{remote}?sslmode=allow"), false).is_err());
        assert!(check_transport(&format!("{remote}?sslmode=require"), false).is_ok());
        assert!(check_transport(&format!("{remote}?sslmode=verify-full"), false).is_ok());
        assert!(check_transport(remote, true).is_ok());
        for local in [
            "postgres://postgres@127.0.0.1:5432/db",
            "postgres://localhost/db",
            "postgres://[::1]:5432/db",
            "postgres:///db?host=/var/run/postgresql",
            "postgres:///db",
        ] {
            assert!(check_transport(local, false).is_ok(), "{local}");
        }
        assert!(ssl_mode("postgres://h/db?sslmode=verify-full").verifies());
        assert!(!ssl_mode("postgres://h/db?sslmode=require").verifies());
    }
}
