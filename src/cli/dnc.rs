use clap::Subcommand;

use super::{CliError, Ctx};
use crate::domain::phone::{format_international, normalize_phone};
use crate::store::StoreError;

#[derive(Debug, Subcommand)]
pub enum DncCommand {
    /// Put a number on the do-not-call list (leads with it are marked do-not-call)
    Add {
        number: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Take a number off the list (lead flags stay: clearing them is a separate decision)
    Remove { number: String },
    /// Is the number on the list? Exit code 3 when it is
    Check { number: String },
    /// Load a do-not-call list from a CSV file (leads with its numbers are marked do-not-call)
    Import(super::import::DncImportArgs),
}

pub async fn run(ctx: &Ctx, cmd: DncCommand) -> Result<(), CliError> {
    let normalize = |n: &str| normalize_phone(n, &ctx.region).map_err(|e| CliError::Usage(format!("number: {e}")));
    match cmd {
        DncCommand::Import(args) => return super::import::run_dnc(ctx, args).await,
        DncCommand::Add { number, reason } => {
            let actor = ctx.actor().await?.map(|a| a.id);
            let entry = ctx
                .store
                .dnc_add(&normalize(&number)?, reason.as_deref(), actor)
                .await?;
            ctx.out.show(&entry, || {
                format!("{} is on the do-not-call list", format_international(&entry.number))
            });
        }
        DncCommand::Remove { number } => {
            let actor = ctx.actor().await?.map(|a| a.id);
            let number = normalize(&number)?;
            if !ctx.store.dnc_remove(&number, actor).await? {
                return Err(StoreError::not_found("do-not-call entry", number).into());
            }
            ctx.out.show(&serde_json::json!({ "removed": number }), || {
                format!("{} removed from the do-not-call list", format_international(&number))
            });
        }
        DncCommand::Check { number } => {
            let number = normalize(&number)?;
            match ctx.store.dnc_check(&number).await? {
                Some(entry) => {
                    if !ctx.out.json {
                        super::output::print_line(&format!(
                            "{} is on the do-not-call list since {}",
                            format_international(&entry.number),
                            entry.added_at.format("%Y-%m-%d")
                        ));
                    }
                    return Err(StoreError::Refused(crate::domain::Refusal::DoNotCall { on_list: true }).into());
                }
                None => ctx
                    .out
                    .show(&serde_json::json!({ "number": number, "listed": false }), || {
                        format!("{} is not on the list", format_international(&number))
                    }),
            }
        }
    }
    Ok(())
}
