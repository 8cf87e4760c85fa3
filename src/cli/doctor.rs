//! `coldcall doctor`: checks the database a floor depends on and says what to fix.

use serde_json::json;

use super::{CliError, Ctx};
use crate::domain::doctor::{judge, verdict, Facts, Level, QueueFacts};

pub async fn run(ctx: &Ctx) -> Result<(), CliError> {
    let store = &ctx.store;
    let pending_migrations = store
        .migration_status()
        .await?
        .into_iter()
        .filter(|m| !m.applied)
        .map(|m| format!("{} {}", m.version, m.description))
        .collect();
    let health = store.health().await?;
    // Stale locks are only judged on a current schema: an old one may lack the tables.
    let (stale_locks, queue) = if store.migration_status().await?.iter().all(|m| m.applied) {
        let ttl = store.policy().await?.lock_ttl;
        let now = store.now();
        let stale = store
            .active_calls()
            .await?
            .into_iter()
            .filter(|c| now - c.heartbeat_at > ttl)
            .map(|c| (c.agent_name, c.lead_name, (now - c.heartbeat_at).num_seconds()))
            .collect();
        let queue = match ctx.actor().await? {
            Some(agent) => {
                let why = store.queue_why(agent.id).await?;
                Some(QueueFacts {
                    agent: agent.name,
                    callable: why.callable,
                    ready: why.ready,
                    held: why.held,
                })
            }
            None => None,
        };
        (stale, queue)
    } else {
        (Vec::new(), None)
    };
    let facts = Facts {
        pending_migrations,
        stale_locks,
        long_transactions: health.long_transactions,
        clock_skew_s: health.clock_skew_s,
        queue_rows: health.queue_rows,
        integrity: health.integrity,
        queue,
    };
    let findings = judge(&facts);
    let worst = verdict(&findings);
    ctx.out.show(
        &json!({ "database": store.describe(), "verdict": worst, "findings": findings }),
        || {
            let mut lines = vec![format!("coldcall doctor: {}", store.describe())];
            for f in &findings {
                let mark = match f.level {
                    Level::Ok => "ok  ",
                    Level::Warn => "WARN",
                    Level::Fail => "FAIL",
                };
                lines.push(format!("{mark}  {:<13} {}", f.check, f.detail));
                if let Some(fix) = &f.fix {
                    lines.push(format!("      {:<13} fix: {fix}", ""));
                }
            }
            lines.push(match worst {
                Level::Ok => "verdict: healthy".into(),
                Level::Warn => "verdict: working, with warnings above".into(),
                Level::Fail => "verdict: needs attention now (see FAIL above)".into(),
            });
            lines.join("\n")
        },
    );
    if worst == Level::Fail {
        return Err(CliError::Usage("doctor found a problem that needs attention".into()));
    }
    Ok(())
}
