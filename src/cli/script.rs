//! `coldcall script …`: the call scripts agents read during calls (admins store them).

use std::io::Read;
use std::path::PathBuf;

use clap::Subcommand;

use super::output::table;
use super::{CliError, Ctx};

#[derive(Debug, Subcommand)]
pub enum ScriptCommand {
    /// Store a script from a file (- reads standard input). NAME is `default`, read on every
    /// call, or a disposition code: the follow-up read on the next call after that outcome.
    /// Placeholders: {first_name} {last_name} {full_name} {company} {title} {email} {phone} {agent}
    Set { name: String, file: PathBuf },
    /// The stored scripts
    List,
    /// One script as stored, or as it reads to a lead with --lead
    Show {
        name: String,
        /// Fill it in for this lead (an id or the start of one)
        #[arg(long)]
        lead: Option<String>,
    },
    /// Delete a script
    Remove { name: String },
}

pub async fn run(ctx: &Ctx, cmd: ScriptCommand) -> Result<(), CliError> {
    let store = &ctx.store;
    match cmd {
        ScriptCommand::Set { name, file } => {
            let by = ctx.actor().await?.map(|a| a.id);
            let body = read_body(&file)?;
            let stored = store.set_script(&name, &body, by).await?;
            ctx.out.show(&stored, || {
                format!("stored script {} ({} bytes)", stored.name, stored.body.len())
            });
        }
        ScriptCommand::List => {
            let all = store.scripts().await?;
            ctx.out.show(&all, || {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|s| {
                        vec![
                            s.name.clone(),
                            s.body.len().to_string(),
                            s.updated_at.format("%Y-%m-%d %H:%M").to_string(),
                        ]
                    })
                    .collect();
                if rows.is_empty() {
                    "no scripts yet: coldcall script set default FILE".into()
                } else {
                    table(&["NAME", "BYTES", "UPDATED"], &rows)
                }
            });
        }
        ScriptCommand::Show { name, lead } => {
            let script = store
                .script(&name)
                .await?
                .ok_or_else(|| CliError::Usage(format!("no script named {name}")))?;
            let text = match lead {
                Some(lead) => {
                    let id = super::lead_id(ctx, &lead).await?;
                    let lead = store
                        .lead(id)
                        .await?
                        .ok_or_else(|| CliError::Usage(format!("no lead {id}")))?;
                    let agent = ctx.agent_name.clone().unwrap_or_default();
                    crate::store::script_text(&script.body, &lead, &agent)
                }
                None => script.body.clone(),
            };
            ctx.out
                .show(&serde_json::json!({ "name": script.name, "text": text }), || {
                    crate::display::printable_lines(&text)
                });
        }
        ScriptCommand::Remove { name } => {
            let by = ctx.actor().await?.map(|a| a.id);
            let removed = store.delete_script(&name, by).await?;
            ctx.out.show(&serde_json::json!({ "removed": removed }), || {
                if removed {
                    format!("removed script {name}")
                } else {
                    format!("no script named {name}")
                }
            });
        }
    }
    Ok(())
}

fn read_body(file: &std::path::Path) -> Result<String, CliError> {
    let mut body = String::new();
    let read = if file.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut body)
    } else {
        std::fs::File::open(file).and_then(|mut f| f.read_to_string(&mut body))
    };
    read.map_err(|e| CliError::Usage(format!("cannot read {}: {e} (a script is UTF-8 text)", file.display())))?;
    Ok(body)
}
