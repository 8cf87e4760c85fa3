//! The `[server]` section of the config file; `coldcall serve` flags override it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Where the server listens and how it keeps sessions. Every field has a default a floor can
/// start with: only a certificate and key are needed to serve beyond this machine.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// `HOST:PORT`, or `unix:/path/to/socket` for a reverse proxy on the same machine.
    pub listen: String,
    /// PEM certificate chain and private key for HTTPS. Required unless `listen` is a loopback
    /// address or a Unix socket.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Database connections the server holds, whatever the number of consoles.
    pub pool_size: u32,
    /// A session unused this long ends (hours).
    pub session_idle_hours: u64,
    /// A session ends this long after login whatever its use (days).
    pub session_max_days: u64,
    /// How often the server reads the database's change feed for all of its subscribers (ms).
    pub feed_poll_ms: u64,
    /// How long an enrolment code stays valid (hours).
    pub enrolment_hours: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: "127.0.0.1:8470".into(),
            tls_cert: None,
            tls_key: None,
            pool_size: 16,
            session_idle_hours: 12,
            session_max_days: 7,
            feed_poll_ms: 500,
            enrolment_hours: 72,
        }
    }
}

/// Where to listen, decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

/// The transport, decided from the address and the TLS files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// Plain HTTP: only on loopback or a Unix socket.
    Plain,
    Tls {
        cert: PathBuf,
        key: PathBuf,
    },
}

impl ServerSettings {
    pub fn idle_limit(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::try_from(self.session_idle_hours).unwrap_or(i64::MAX / 3_600_000))
    }

    pub fn absolute_limit(&self) -> chrono::Duration {
        chrono::Duration::days(i64::try_from(self.session_max_days).unwrap_or(10_000))
    }

    pub fn enrolment_limit(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::try_from(self.enrolment_hours).unwrap_or(10_000))
    }

    pub fn feed_interval(&self) -> Duration {
        Duration::from_millis(self.feed_poll_ms.clamp(50, 60_000))
    }

    /// Checks the settings and decides where and how to listen. Plain HTTP beyond this machine
    /// is refused: passwords and tokens would cross the network readable.
    pub fn resolve(&self) -> Result<(Listen, Transport), String> {
        if self.pool_size == 0 {
            return Err("server pool_size must be at least 1".into());
        }
        if self.session_idle_hours == 0 || self.session_max_days == 0 {
            return Err("server session_idle_hours and session_max_days must be at least 1".into());
        }
        let listen = match self.listen.strip_prefix("unix:") {
            Some(path) if !path.is_empty() => Listen::Unix(PathBuf::from(path)),
            Some(_) => return Err("server listen: 'unix:' needs a socket path, e.g. unix:/run/coldcall.sock".into()),
            None => Listen::Tcp(self.listen.parse().map_err(|_| {
                format!(
                    "server listen: '{}' is not HOST:PORT (e.g. 127.0.0.1:8470 or [::]:8470) or unix:/PATH",
                    self.listen
                )
            })?),
        };
        let transport = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Transport::Tls {
                cert: cert.clone(),
                key: key.clone(),
            },
            (None, None) => Transport::Plain,
            _ => return Err("server TLS needs both tls_cert and tls_key".into()),
        };
        if let (Listen::Tcp(addr), Transport::Plain) = (&listen, &transport) {
            if !addr.ip().is_loopback() {
                return Err(format!(
                    "refusing to serve plain HTTP on {addr}: agents' passwords and tokens would cross the network \
                     unencrypted. Give a certificate and key (--tls-cert, --tls-key or tls_cert/tls_key in [server]), \
                     or listen on a loopback address or a Unix socket behind a TLS reverse proxy"
                ));
            }
        }
        if matches!((&listen, &transport), (Listen::Unix(_), Transport::Tls { .. })) {
            return Err(
                "server TLS on a Unix socket is not supported: the reverse proxy in front terminates TLS".into(),
            );
        }
        Ok((listen, transport))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(listen: &str, tls: bool) -> ServerSettings {
        ServerSettings {
            listen: listen.into(),
            tls_cert: tls.then(|| "cert.pem".into()),
            tls_key: tls.then(|| "key.pem".into()),
            ..ServerSettings::default()
        }
    }

    #[test]
    fn plain_http_only_on_loopback_or_a_unix_socket() {
        assert!(settings("127.0.0.1:8470", false).resolve().is_ok());
        assert!(settings("[::1]:8470", false).resolve().is_ok());
        assert!(settings("unix:/run/coldcall.sock", false).resolve().is_ok());
        let err = settings("0.0.0.0:8470", false).resolve().unwrap_err();
        assert!(err.contains("refusing to serve plain HTTP"), "{err}");
        assert!(settings("10.0.0.5:8470", false).resolve().is_err());
        assert_eq!(
            settings("0.0.0.0:8470", true).resolve().unwrap().1,
            Transport::Tls {
                cert: "cert.pem".into(),
                key: "key.pem".into()
            }
        );
    }

    #[test]
    fn bad_settings_are_named() {
        assert!(settings("nonsense", false).resolve().unwrap_err().contains("listen"));
        let mut half = settings("0.0.0.0:1", false);
        half.tls_cert = Some("c".into());
        assert!(half.resolve().unwrap_err().contains("both"));
        let no_pool = ServerSettings {
            pool_size: 0,
            ..ServerSettings::default()
        };
        assert!(no_pool.resolve().is_err());
    }

    #[test]
    fn the_defaults_are_the_issue_s() {
        let s = ServerSettings::default();
        assert_eq!(s.idle_limit(), chrono::Duration::hours(12));
        assert_eq!(s.absolute_limit(), chrono::Duration::days(7));
    }
}
