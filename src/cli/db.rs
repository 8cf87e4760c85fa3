use clap::Subcommand;

use super::output::table;
use super::{CliError, Ctx};
use crate::domain::Role;
use crate::store::{NewAgent, StoreError};

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending migrations (and seed default dispositions)
    Migrate,
    /// Show which migrations are applied
    Status,
    /// Revert the newest applied migration
    Down,
    /// Drop everything and migrate again: all data is lost
    Reset {
        /// Confirm that all data may be deleted
        #[arg(long)]
        yes: bool,
    },
    /// Add demo agents (alice, bob, sam) and demo leads
    Seed {
        /// How many demo leads
        #[arg(long, default_value_t = 300)]
        leads: u64,
    },
}

pub async fn run(ctx: &Ctx, cmd: DbCommand) -> Result<(), CliError> {
    let store = &ctx.store;
    match cmd {
        DbCommand::Migrate => {
            store.migrate().await?;
            status(ctx).await?;
        }
        DbCommand::Status => status(ctx).await?,
        DbCommand::Down => {
            let undone = store.migrate_down().await?;
            ctx.out.show(&undone, || match &undone {
                Some(m) => format!("reverted {} {}", m.version, m.description),
                None => "nothing to revert".into(),
            });
        }
        DbCommand::Reset { yes } => {
            if !yes {
                return Err(CliError::Usage(format!(
                    "reset deletes all data in {}; run again with --yes to confirm",
                    store.describe()
                )));
            }
            store.reset().await?;
            ctx.out.show(&serde_json::json!({ "reset": true }), || {
                format!("reset {}", store.describe())
            });
        }
        DbCommand::Seed { leads } => {
            store.migrate().await?;
            let mut agents = 0;
            for (name, role) in crate::demo::DEMO_AGENTS {
                if store.agent_by_name(name).await?.is_none() {
                    let role: Role = role.parse().map_err(|e| CliError::Usage(format!("{e}")))?;
                    store
                        .add_agent(&NewAgent {
                            name: name.to_string(),
                            email: None,
                            role,
                        })
                        .await?;
                    agents += 1;
                }
            }
            let (mut added, mut existing) = (0u64, 0u64);
            for index in 0..leads {
                let fields = crate::demo::demo_lead(index).map_err(StoreError::from)?;
                match store.create_lead(&fields, None).await {
                    Ok(_) => added += 1,
                    Err(StoreError::Conflict(_)) => existing += 1,
                    Err(e) => return Err(e.into()),
                }
            }
            let summary =
                serde_json::json!({ "agents_added": agents, "leads_added": added, "leads_existing": existing });
            ctx.out.show(&summary, || {
                format!(
                    "seeded {} agents and {added} leads ({existing} already there) in {}",
                    agents,
                    store.describe()
                )
            });
        }
    }
    Ok(())
}

async fn status(ctx: &Ctx) -> Result<(), CliError> {
    let migrations = ctx.store.migration_status().await?;
    ctx.out.show(&migrations, || {
        let rows: Vec<Vec<String>> = migrations
            .iter()
            .map(|m| {
                vec![
                    m.version.to_string(),
                    m.description.clone(),
                    if m.applied { "applied" } else { "pending" }.into(),
                ]
            })
            .collect();
        format!(
            "{}\n{}",
            ctx.store.describe(),
            table(&["VERSION", "DESCRIPTION", "STATE"], &rows)
        )
    });
    Ok(())
}
