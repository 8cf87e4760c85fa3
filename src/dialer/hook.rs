//! The optional dial hook: a command (an argument list, never a shell line) run when a call
//! starts, with `{number}`, `{lead_id}` and `{agent}` filled in, and an optional hang-up command
//! run when it ends. Without a hook the console is a manual dialer: it shows the number to dial.

use std::time::Duration;

use serde::Deserialize;

/// How long a hook may take before it counts as failed.
const HOOK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialHook {
    /// e.g. ["softphone", "--dial", "{number}"]
    pub command: Vec<String>,
    /// e.g. ["softphone", "--hangup"]
    #[serde(default)]
    pub hangup: Vec<String>,
}

/// What the placeholders stand for on one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    pub number: String,
    pub lead_id: String,
    pub agent: String,
}

/// Fills the placeholders in each argument. Values go into single arguments as they are, so a
/// number or name can never become extra arguments or shell syntax.
pub fn expand(args: &[String], call: &CallInfo) -> Vec<String> {
    args.iter()
        .map(|a| {
            a.replace("{number}", &call.number)
                .replace("{lead_id}", &call.lead_id)
                .replace("{agent}", &call.agent)
        })
        .collect()
}

/// Runs one command to completion; the error says what failed in words for the status line
/// and the call log.
pub async fn run(args: &[String]) -> Result<(), String> {
    let Some((program, rest)) = args.split_first() else {
        return Ok(());
    };
    let child = tokio::process::Command::new(program)
        .args(rest)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(HOOK_TIMEOUT, child).await {
        Err(_) => Err(format!("{program} did not finish within {} s", HOOK_TIMEOUT.as_secs())),
        Ok(Err(e)) => Err(format!("cannot run {program}: {e}")),
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let detail = crate::display::printable(stderr.trim())
                .chars()
                .take(200)
                .collect::<String>();
            Err(format!(
                "{program} failed ({}){}",
                out.status,
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                }
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> CallInfo {
        CallInfo {
            number: "+12125550100".into(),
            lead_id: "L1".into(),
            agent: "ann; rm -rf /".into(),
        }
    }

    #[test]
    fn placeholders_fill_single_arguments() {
        let args: Vec<String> = ["dial", "--to={number}", "{agent}", "{lead_id}"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            expand(&args, &call()),
            ["dial", "--to=+12125550100", "ann; rm -rf /", "L1"]
        );
    }

    #[tokio::test]
    async fn failures_are_reported_in_words() {
        assert_eq!(run(&["true".to_string()]).await, Ok(()));
        let err = run(&["sh".into(), "-c".into(), "echo no line >&2; exit 3".into()])
            .await
            .unwrap_err();
        assert!(err.contains("exit status: 3") && err.contains("no line"), "{err}");
        let err = run(&["/nonexistent/softphone".to_string()]).await.unwrap_err();
        assert!(err.contains("cannot run"), "{err}");
    }
}
