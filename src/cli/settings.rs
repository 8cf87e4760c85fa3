use clap::Subcommand;

use super::output::table;
use super::{CliError, Ctx};
use crate::store::settings::KEYS;

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Show every setting with what it means
    List,
    /// Change a setting for every console on this database
    Set { key: String, value: String },
}

pub async fn run(ctx: &Ctx, cmd: SettingsCommand) -> Result<(), CliError> {
    if let SettingsCommand::Set { key, value } = &cmd {
        let actor = ctx.actor().await?.map(|a| a.id);
        ctx.store.change_setting(key, value, actor).await?;
    }
    let settings = ctx.store.settings().await?;
    let rows: Vec<serde_json::Value> = settings
        .iter()
        .map(|(k, v)| {
            let about = KEYS.iter().find(|(key, _)| key == k).map(|(_, a)| *a).unwrap_or("");
            serde_json::json!({ "key": k, "value": v, "about": about })
        })
        .collect();
    ctx.out.show(&rows, || {
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                ["key", "value", "about"]
                    .iter()
                    .map(|f| r[f].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .collect();
        table(&["KEY", "VALUE", "MEANING"], &cells)
    });
    Ok(())
}
