//! `coldcall gdpr export|erase`: a person's data on request (supervisors and admins).

use std::path::PathBuf;

use clap::Subcommand;

use super::{CliError, Ctx};

#[derive(Debug, Subcommand)]
pub enum GdprCommand {
    /// Everything held about the person behind a lead, as JSON (stdout, or --out FILE)
    Export {
        lead_id: String,
        /// Write to a new file (readable by you only) instead of stdout
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Anonymise the person behind a lead: personal fields and notes go, anonymous figures and
    /// the do-not-call list stay; recorded in the audit log
    Erase {
        lead_id: String,
        /// Why (kept in the audit log), e.g. "request by email of 2026-11-20"
        #[arg(long)]
        reason: String,
    },
}

pub async fn run(ctx: &Ctx, cmd: GdprCommand) -> Result<(), CliError> {
    let by = ctx.agent().await?;
    match cmd {
        GdprCommand::Export { lead_id, out } => {
            let data = ctx
                .store
                .gdpr_export(super::lead_id(ctx, &lead_id).await?, by.id)
                .await?;
            let text = serde_json::to_string_pretty(&data)
                .map_err(|e| CliError::Usage(format!("cannot encode the export: {e}")))?;
            match out {
                Some(path) => {
                    super::backup::write_private(&path, &format!("{text}\n"))?;
                    ctx.out.show(&serde_json::json!({ "file": path }), || {
                        format!("wrote everything held about lead {lead_id} to {}", path.display())
                    });
                }
                // The export is JSON whatever the output style: it is for the person, or a script.
                None => super::output::print_line(&text),
            }
        }
        GdprCommand::Erase { lead_id, reason } => {
            let erased = ctx
                .store
                .gdpr_erase(super::lead_id(ctx, &lead_id).await?, by.id, &reason)
                .await?;
            ctx.out.show(&erased, || {
                let mut text = if erased.already_erased {
                    format!("lead {} was already erased; nothing personal was left", erased.lead_id)
                } else {
                    format!(
                        "erased lead {}: {} contact point(s) removed; {} call(s), {} status change(s), {} callback(s) \
                         and {} audit entries anonymised; recorded in the audit log",
                        erased.lead_id,
                        erased.contacts_removed,
                        erased.calls_anonymised,
                        erased.status_changes_anonymised,
                        erased.callbacks_anonymised,
                        erased.audit_entries_anonymised
                    )
                };
                if !erased.kept_on_dnc_list.is_empty() {
                    text.push_str(&format!(
                        "\nstill on the do-not-call list: {}",
                        erased.kept_on_dnc_list.join(", ")
                    ));
                }
                text
            });
        }
    }
    Ok(())
}
