use clap::Subcommand;

use super::output::table;
use super::{CliError, Ctx};
use crate::domain::Role;
use crate::server::config::ServerSettings;
use crate::server::routes::admin;
use crate::store::NewAgent;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Add an agent
    Add {
        name: String,
        #[arg(long)]
        email: Option<String>,
        /// agent, supervisor or admin
        #[arg(long, default_value = "agent")]
        role: String,
    },
    /// List agents
    List,
    /// A new one-time enrolment code for an agent (a forgotten password)
    Enrol {
        name: String,
    },
    /// End every session the agent has with the floor server, at once
    Revoke {
        name: String,
    },
    /// Turn an agent's account off (no login; sessions end) or on again
    Deactivate {
        name: String,
    },
    Activate {
        name: String,
    },
    /// Change your password on the floor server you are logged in to
    Passwd,
}

pub async fn run(ctx: &Ctx, cmd: AgentCommand) -> Result<(), CliError> {
    match cmd {
        AgentCommand::Add { name, email, role } => {
            let role: Role = role.parse().map_err(|e| CliError::Usage(format!("role: {e}")))?;
            let new = NewAgent { name, email, role };
            let valid = ServerSettings::default().enrolment_limit();
            let (agent, code) = match ctx.store.remote() {
                Some(server) => server.add_agent_enrolling(&new).await?,
                None => {
                    let agent = ctx.store.add_agent(&new).await?;
                    let code = admin::issue_enrolment(&ctx.store, &agent, valid, None).await?;
                    (agent, code)
                }
            };
            // The agent's fields as before, with the code beside them.
            let mut shown = json!(agent);
            shown["enrolment_code"] = json!(code);
            shown["enrolment_expires_in_s"] = json!(valid.num_seconds());
            ctx.out.show(&shown, || {
                format!(
                    "added agent {} ({}, id {})\none-time enrolment code: {code} (valid {} hours; shown only now)\n\
                         the agent logs in with: coldcall login --server URL --name {}",
                    agent.name,
                    agent.role,
                    agent.id,
                    valid.num_hours(),
                    agent.name
                )
            });
        }
        AgentCommand::List => {
            let agents = ctx.store.agents().await?;
            ctx.out.show(&agents, || {
                let rows = agents
                    .iter()
                    .map(|a| {
                        vec![
                            a.id.to_string(),
                            a.name.clone(),
                            a.role.to_string(),
                            a.email.clone().unwrap_or_default(),
                            if a.active { "yes" } else { "no" }.into(),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["ID", "NAME", "ROLE", "EMAIL", "ACTIVE"], &rows)
            });
        }
        AgentCommand::Enrol { name } => {
            let agent = ctx.agent_named(&name).await?;
            let valid = ServerSettings::default().enrolment_limit();
            let code = match ctx.store.remote() {
                Some(server) => server.enrol(&agent.name).await?,
                None => admin::issue_enrolment(&ctx.store, &agent, valid, None).await?,
            };
            ctx.out
                .show(&json!({ "agent": agent.name, "enrolment_code": code }), || {
                    format!(
                        "one-time enrolment code for {}: {code} (valid {} hours; shown only now)",
                        agent.name,
                        valid.num_hours()
                    )
                });
        }
        AgentCommand::Revoke { name } => {
            let agent = ctx.agent_named(&name).await?;
            let ended = match ctx.store.remote() {
                Some(server) => server.revoke(&agent.name).await?,
                None => admin::revoke_sessions(&ctx.store, &agent, None).await?,
            };
            ctx.out
                .show(&json!({ "agent": agent.name, "sessions_ended": ended }), || {
                    format!("{ended} session(s) of {} ended", agent.name)
                });
        }
        AgentCommand::Deactivate { name } => set_active(ctx, &name, false).await?,
        AgentCommand::Activate { name } => set_active(ctx, &name, true).await?,
        // Handled before the database is opened (it goes through the floor server).
        AgentCommand::Passwd => {}
    }
    Ok(())
}

/// Turns an account on or off; off ends its sessions at once.
async fn set_active(ctx: &Ctx, name: &str, active: bool) -> Result<(), CliError> {
    let agent = ctx
        .store
        .agent_by_name(name)
        .await?
        .ok_or_else(|| CliError::Usage(format!("unknown agent '{name}'")))?;
    let ended = if let Some(server) = ctx.store.remote() {
        server.set_active(&agent.name, active).await?
    } else {
        ctx.store.set_agent_active(agent.id, active).await?;
        if active {
            0
        } else {
            admin::revoke_sessions(&ctx.store, &agent, None).await?
        }
    };
    ctx.out.show(
        &json!({ "agent": agent.name, "active": active, "sessions_ended": ended }),
        || {
            if active {
                format!("{} is active", agent.name)
            } else {
                format!("{} is deactivated; {ended} session(s) ended", agent.name)
            }
        },
    );
    Ok(())
}
