use clap::Subcommand;

use super::output::table;
use super::{CliError, Ctx};
use crate::domain::Role;
use crate::store::NewAgent;

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
}

pub async fn run(ctx: &Ctx, cmd: AgentCommand) -> Result<(), CliError> {
    match cmd {
        AgentCommand::Add { name, email, role } => {
            let role: Role = role.parse().map_err(|e| CliError::Usage(format!("role: {e}")))?;
            let agent = ctx.store.add_agent(&NewAgent { name, email, role }).await?;
            ctx.out.show(&agent, || {
                format!("added agent {} ({}, id {})", agent.name, agent.role, agent.id)
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
    }
    Ok(())
}
