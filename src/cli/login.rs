//! `coldcall login`, `logout` and `agent passwd`: the agent's side of the floor server. The
//! session token is kept in the config directory, readable by its owner only, as `gh auth login`
//! keeps its own. Without a terminal (scripts), the name, the password or enrolment code and the
//! new password are read from standard input, one a line.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use serde_json::{json, Value};

use super::{CliError, Output};

pub use crate::floor_session::{load_session, session_path, SavedSession};

fn save_session(session: &SavedSession) -> Result<PathBuf, CliError> {
    let path = session_path();
    if let Some(dir) = path.parent() {
        crate::private_files::create_dir(dir)
            .map_err(|e| CliError::Usage(format!("cannot create {}: {e}", dir.display())))?;
    }
    let text = serde_json::to_string_pretty(session).map_err(|e| CliError::Usage(e.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", path.display())))?;
    // An older file may have been created with wider permissions.
    let _ = crate::private_files::restrict(&path);
    Ok(path)
}

/// Reads answers from the terminal (passwords without echo) or, without one, from stdin lines.
struct Answers {
    terminal: bool,
    lines: std::io::Lines<std::io::StdinLock<'static>>,
}

impl Answers {
    fn new() -> Answers {
        Answers {
            terminal: std::io::stdin().is_terminal(),
            lines: std::io::stdin().lock().lines(),
        }
    }

    fn ask(&mut self, prompt: &str, secret: bool) -> Result<String, CliError> {
        if self.terminal {
            eprint!("{prompt}: ");
            let _ = std::io::stderr().flush();
        }
        let _echo = (self.terminal && secret).then(EchoOff::new);
        let line = self
            .lines
            .next()
            .transpose()
            .map_err(|e| CliError::Usage(format!("cannot read standard input: {e}")))?
            .ok_or_else(|| CliError::Usage(format!("{prompt}: nothing on standard input")))?;
        if self.terminal && secret {
            eprintln!();
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

/// Turns the terminal's echo off while a password is typed; back on when dropped.
struct EchoOff(Option<libc::termios>);

impl EchoOff {
    fn new() -> EchoOff {
        // SAFETY: tcgetattr/tcsetattr on stdin with a zeroed termios they fill in.
        unsafe {
            let mut term: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut term) != 0 {
                return EchoOff(None);
            }
            let saved = term;
            term.c_lflag &= !libc::ECHO;
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &term);
            EchoOff(Some(saved))
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = self.0 {
            // SAFETY: restores the attributes read in `new`.
            unsafe {
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &saved);
            }
        }
    }
}

/// An enrolment code as `agent add` prints it: four groups of four.
fn looks_like_code(text: &str) -> bool {
    let groups: Vec<&str> = text.trim().split('-').collect();
    groups.len() == 4
        && groups
            .iter()
            .all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_alphanumeric()))
}

pub(crate) fn client() -> Result<reqwest::Client, CliError> {
    crate::floor_session::client().map_err(CliError::Usage)
}

/// Sends a request and turns a problem answer into the error it describes.
pub(crate) async fn send(request: reqwest::RequestBuilder) -> Result<Value, CliError> {
    let response = request
        .send()
        .await
        .map_err(|e| CliError::Usage(format!("cannot reach the server: {e}")))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        Ok(body)
    } else {
        let detail = body["detail"].as_str().unwrap_or("the server refused");
        Err(CliError::Usage(format!("{detail} (HTTP {})", status.as_u16())))
    }
}

fn base(server: &str) -> String {
    format!("{}/api/v1", server.trim_end_matches('/'))
}

pub async fn login(server: &str, name: Option<String>, out: Output) -> Result<(), CliError> {
    let mut answers = Answers::new();
    let name = match name {
        Some(n) => n,
        None => answers.ask("Agent name", false)?,
    };
    let secret = answers.ask("Password (or the enrolment code, the first time)", true)?;
    let body = if looks_like_code(&secret) {
        let new_password = answers.ask("Choose a password (at least 10 characters)", true)?;
        if answers.terminal {
            let again = answers.ask("The same password again", true)?;
            if again != new_password {
                return Err(CliError::Usage("the two passwords differ; nothing was changed".into()));
            }
        }
        json!({ "name": name, "code": secret, "new_password": new_password })
    } else {
        json!({ "name": name, "password": secret })
    };
    let reply = send(client()?.post(format!("{}/login", base(server))).json(&body)).await?;
    let session = SavedSession {
        server: server.trim_end_matches('/').to_string(),
        name: reply["name"].as_str().unwrap_or(&name).to_string(),
        token: reply["token"]
            .as_str()
            .ok_or_else(|| CliError::Usage("the server sent no token".into()))?
            .to_string(),
        expires_at: serde_json::from_value(reply["expires_at"].clone())
            .map_err(|_| CliError::Usage("the server sent no session end".into()))?,
    };
    let path = save_session(&session)?;
    let role = reply["role"].as_str().unwrap_or("agent").to_string();
    out.show(
        &json!({ "server": session.server, "name": session.name, "role": role, "expires_at": session.expires_at }),
        || {
            format!(
                "logged in to {} as {} ({role}); session kept in {} until {}",
                session.server,
                session.name,
                path.display(),
                session.expires_at.format("%Y-%m-%d %H:%M UTC")
            )
        },
    );
    Ok(())
}

pub async fn logout(out: Output) -> Result<(), CliError> {
    let Some(session) = load_session() else {
        out.show(&json!({ "logged_out": false }), || "not logged in".into());
        return Ok(());
    };
    // Best effort at the server: the local token goes whatever it answers.
    let ended = send(
        client()?
            .post(format!("{}/logout", base(&session.server)))
            .bearer_auth(&session.token),
    )
    .await
    .is_ok();
    let _ = std::fs::remove_file(session_path());
    out.show(&json!({ "logged_out": true, "server_session_ended": ended }), || {
        format!("logged out of {}", session.server)
    });
    Ok(())
}

pub async fn passwd(out: Output) -> Result<(), CliError> {
    let Some(mut session) = load_session() else {
        return Err(CliError::Usage(
            "log in first: coldcall login --server URL (an admin resets a password with: coldcall agent enrol NAME)"
                .into(),
        ));
    };
    let mut answers = Answers::new();
    let current = answers.ask("Current password", true)?;
    let new_password = answers.ask("New password (at least 10 characters)", true)?;
    if answers.terminal && answers.ask("The same password again", true)? != new_password {
        return Err(CliError::Usage("the two passwords differ; nothing was changed".into()));
    }
    let reply = send(
        client()?
            .post(format!("{}/me/password", base(&session.server)))
            .bearer_auth(&session.token)
            .json(&json!({ "current_password": current, "new_password": new_password })),
    )
    .await?;
    if let (Some(token), Ok(expires_at)) = (
        reply["token"].as_str(),
        serde_json::from_value(reply["expires_at"].clone()),
    ) {
        session.token = token.to_string();
        session.expires_at = expires_at;
        save_session(&session)?;
    }
    out.show(&json!({ "changed": true }), || {
        "password changed; every other session of yours has ended".into()
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enrolment_codes_are_told_from_passwords() {
        assert!(looks_like_code("ABCD-EFGH-JKMN-PQRS"));
        assert!(looks_like_code(&crate::server::auth::new_enrolment_code()));
        assert!(!looks_like_code("correct horse battery"));
        assert!(!looks_like_code("abc-def"));
    }
}
