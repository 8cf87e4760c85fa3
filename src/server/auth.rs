//! Who is asking. Passwords are argon2id hashes; session tokens and enrolment codes are random
//! and only their SHA-256 is stored. Every route that acts takes an [`Actor`], which is the
//! session's agent: no request field can name someone else.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::problem::Problem;
use super::AppState;
use crate::domain::authority::{authorize, Permission};
use crate::store::Agent;

/// Prefix of session tokens, so a leaked one is recognisable (secret scanners, logs).
const TOKEN_PREFIX: &str = "ccs_";
/// Minimum length of a password an agent sets.
pub const PASSWORD_MIN: usize = 10;
/// Touch a session's idle clock at most this often (one write a minute per console, not per call).
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes
}

/// A new session token: 256 random bits.
pub fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", hex::encode(random_bytes::<32>()))
}

/// A new enrolment code: 16 characters from an alphabet without look-alikes (80 bits), in
/// groups of four for reading aloud or over the phone.
pub fn new_enrolment_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let bytes = random_bytes::<16>();
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// How a secret is stored: SHA-256, hex. (Tokens are random and long: a slow hash adds nothing.)
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().as_bytes()))
}

/// An enrolment code as typed: case, spaces and dashes do not matter.
pub fn normalize_code(code: &str) -> String {
    let plain: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    plain
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// argon2id with the crate's defaults (OWASP's recommended minimum), off the async threads.
pub async fn hash_password(password: &str) -> Result<String, Problem> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("16 bytes fit a salt");
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|_| Problem::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "error", "hashing failed"))?
    .map_err(|_| Problem::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "error", "hashing failed"))
}

/// Whether the password matches the stored hash; with no hash (an unknown name) a dummy hash is
/// checked, so the answer takes as long either way.
pub async fn verify_password(password: &str, hash: Option<String>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| {
            DUMMY
                .get_or_init(|| {
                    let salt = SaltString::encode_b64(&[7u8; 16]).expect("salt");
                    Argon2::default()
                        .hash_password(b"not a password anyone has", &salt)
                        .map(|h| h.to_string())
                        .unwrap_or_default()
                })
                .clone()
        });
        let ok = PasswordHash::new(&hash)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false);
        ok && known
    })
    .await
    .unwrap_or(false)
}

pub fn check_new_password(password: &str) -> Result<(), Problem> {
    if password.chars().count() < PASSWORD_MIN {
        return Err(Problem::invalid(
            "new_password",
            format!("must be at least {PASSWORD_MIN} characters"),
        ));
    }
    if password.chars().count() > 1024 {
        return Err(Problem::invalid("new_password", "must be at most 1024 characters"));
    }
    Ok(())
}

/// Failed logins, per name and per address: after a few free tries each further one waits
/// twice as long as the last (1 s, 2 s, 4 s … up to 5 minutes). A success clears the name's
/// count. Kept in memory: each server counts its own failures.
#[derive(Default)]
pub struct Throttle {
    entries: Mutex<HashMap<String, (u32, Instant)>>,
}

const FREE_FAILURES: u32 = 3;
const MAX_WAIT: Duration = Duration::from_secs(300);
/// A key with no failure for this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(900);

impl Throttle {
    fn wait_for(failures: u32) -> Duration {
        if failures < FREE_FAILURES {
            return Duration::ZERO;
        }
        let exp = (failures - FREE_FAILURES).min(16);
        Duration::from_secs(1u64 << exp).min(MAX_WAIT)
    }

    /// How long the keys must still wait before another try (the longest of them).
    pub fn wait(&self, keys: &[String]) -> Option<Duration> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        keys.iter()
            .filter_map(|k| entries.get(k))
            .filter_map(|(failures, last)| {
                let until = *last + Self::wait_for(*failures);
                (until > now).then(|| until - now)
            })
            .max()
    }

    pub fn failed(&self, keys: &[String]) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if entries.len() > 100_000 {
            entries.retain(|_, (_, last)| now.duration_since(*last) < FORGET_AFTER);
        }
        for key in keys {
            let entry = entries.entry(key.clone()).or_insert((0, now));
            if now.duration_since(entry.1) >= FORGET_AFTER {
                entry.0 = 0;
            }
            entry.0 += 1;
            entry.1 = now;
        }
    }

    pub fn succeeded(&self, key: &str) {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

pub fn name_key(name: &str) -> String {
    format!("name:{}", name.trim().to_lowercase())
}

pub fn address_key(peer: Option<IpAddr>) -> String {
    format!("addr:{}", peer.map(|p| p.to_string()).unwrap_or_else(|| "local".into()))
}

/// Filled in by the authenticated extractor so the request log can name the agent.
#[derive(Clone, Default)]
pub struct AgentSlot(pub Arc<OnceLock<String>>);

/// The agent a request acts as: the session's.
#[derive(Debug, Clone)]
pub struct Actor {
    pub agent: Agent,
    /// The hash of the session's token (logout ends this one).
    pub session: String,
}

impl Actor {
    pub fn id(&self) -> i64 {
        self.agent.id
    }

    /// 403 unless the agent's role holds the permission (the domain decides).
    pub fn require(&self, permission: Permission) -> Result<(), Problem> {
        authorize(&self.agent.name, self.agent.role, permission).map_err(Problem::from)
    }
}

/// The bearer token of a request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<Arc<AppState>> for Actor {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Actor, Problem> {
        let Some(token) = bearer(parts) else {
            return Err(Problem::unauthorized(
                "no_session",
                "log in first: coldcall login --server URL",
            ));
        };
        let hash = secret_hash(token);
        let store = &state.store;
        // One statement for the session and its agent: every request reads both.
        let Some((session, agent)) = store.session_agent(&hash).await? else {
            return Err(Problem::unauthorized(
                "invalid_token",
                "this session is not known; log in again",
            ));
        };
        if session.ended_at.is_some() {
            return Err(Problem::unauthorized(
                "session_revoked",
                "this session has ended (logged out or revoked); log in again",
            ));
        }
        let now = store.now();
        if now >= session.expires_at || now - session.last_seen_at >= state.settings.idle_limit() {
            return Err(Problem::unauthorized(
                "session_expired",
                "this session has expired; log in again",
            ));
        }
        if !agent.active {
            return Err(Problem::unauthorized(
                "agent_deactivated",
                "this agent is deactivated; ask an admin",
            ));
        }
        if now - session.last_seen_at >= TOUCH_EVERY {
            store.touch_session(&hash).await?;
        }
        if let Some(slot) = parts.extensions.get::<AgentSlot>() {
            let _ = slot.0.set(agent.name.clone());
        }
        Ok(Actor { agent, session: hash })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_stored_as_hashes() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.len() >= TOKEN_PREFIX.len() + 32, "at least 128 bits");
        assert_eq!(secret_hash(&a).len(), 64);
        assert_ne!(secret_hash(&a), a);
    }

    #[test]
    fn enrolment_codes_read_the_same_however_typed() {
        let code = new_enrolment_code();
        assert_eq!(code.len(), 19);
        assert_eq!(normalize_code(&code.to_lowercase().replace('-', " ")), code);
    }

    #[test]
    fn failures_past_the_free_ones_wait_longer_each_time() {
        let t = Throttle::default();
        let keys = vec![name_key("alice")];
        for _ in 0..FREE_FAILURES {
            assert!(t.wait(&keys).is_none());
            t.failed(&keys);
        }
        assert!(t.wait(&keys).is_some(), "the fourth try waits");
        assert_eq!(Throttle::wait_for(4), Duration::from_secs(2));
        assert_eq!(Throttle::wait_for(40), MAX_WAIT);
        t.succeeded(&keys[0]);
        assert!(t.wait(&keys).is_none());
    }

    #[tokio::test]
    async fn argon2id_hashes_verify_and_unknown_names_never_do() {
        let hash = hash_password("correct horse battery").await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", Some(hash.clone())).await);
        assert!(!verify_password("wrong", Some(hash)).await);
        assert!(!verify_password("not a password anyone has", None).await);
    }
}
