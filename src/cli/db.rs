use clap::Subcommand;

use super::output::table;
use super::{CliError, Ctx};

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
            let summary = crate::demo::seed(store, leads).await?;
            ctx.out.show(&summary, || {
                format!(
                    "seeded {} agents and {} leads ({} already there, {} demo calls) in {}",
                    summary.agents_added,
                    summary.leads_added,
                    summary.leads_existing,
                    summary.calls_recorded,
                    store.describe()
                )
            });
        }
    }
    Ok(())
}

async fn status(ctx: &Ctx) -> Result<(), CliError> {
    let migrations = ctx.store.migration_status().await?;
    let security = ctx.store.connection_security().await?;
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
            "{}\nconnection: {security}\n{}",
            ctx.store.describe(),
            table(&["VERSION", "DESCRIPTION", "STATE"], &rows)
        )
    });
    Ok(())
}
