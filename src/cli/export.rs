//! `coldcall export leads|calls [filters] [--out FILE]`: CSV to a file or to stdout.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::Duration;
use clap::{Args, Subcommand};

use super::lead::FilterArgs;
use super::stats::day_start;
use super::{CliError, Ctx};
use crate::export::{export_calls_for, export_leads_for, ExportError, Reader};
use crate::store::CallFilter;

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Live leads in list order; `coldcall import` reads the file back
    Leads {
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        out: OutArg,
    },
    /// Calls, oldest first
    Calls {
        /// First day, YYYY-MM-DD on this computer's clock
        #[arg(long)]
        from: Option<String>,
        /// Last day, inclusive
        #[arg(long)]
        to: Option<String>,
        /// Only this agent's calls
        #[arg(long, value_name = "AGENT")]
        by: Option<String>,
        #[command(flatten)]
        out: OutArg,
    },
}

#[derive(Debug, Args)]
pub struct OutArg {
    /// The CSV file to write (default: standard output)
    #[arg(long, value_name = "FILE.csv")]
    out: Option<PathBuf>,
}

fn export_error(e: ExportError) -> CliError {
    match e {
        ExportError::Store(e) => CliError::Store(e),
        ExportError::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe => CliError::OutputClosed,
        ExportError::Write(e) if matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe) => {
            CliError::OutputClosed
        }
        other => CliError::Usage(other.to_string()),
    }
}

/// Writes to `FILE.partial` and renames it when complete, so a failed export never leaves a
/// file that looks whole.
struct Target {
    path: PathBuf,
    partial: PathBuf,
}

impl Target {
    fn create(path: &Path) -> Result<(Target, BufWriter<File>), CliError> {
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let file =
            File::create(&partial).map_err(|e| CliError::Usage(format!("cannot create {}: {e}", partial.display())))?;
        Ok((
            Target {
                path: path.to_path_buf(),
                partial,
            },
            BufWriter::new(file),
        ))
    }

    fn commit(self) -> Result<(), CliError> {
        std::fs::rename(&self.partial, &self.path)
            .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", self.path.display())))
    }

    fn abandon(self) {
        let _ = std::fs::remove_file(&self.partial);
    }
}

pub async fn run(ctx: &Ctx, cmd: ExportCommand) -> Result<(), CliError> {
    let (what, out) = match &cmd {
        ExportCommand::Leads { out, .. } => ("leads", out.out.clone()),
        ExportCommand::Calls { out, .. } => ("calls", out.out.clone()),
    };
    let Some(path) = out else {
        let stdout = BufWriter::new(std::io::stdout());
        write(ctx, cmd, stdout, Reader::Terminal).await?;
        return Ok(());
    };
    let (target, file) = Target::create(&path)?;
    match write(ctx, cmd, file, Reader::File).await {
        Ok(count) => {
            target.commit()?;
            let path = path.display().to_string();
            ctx.out.show(
                &serde_json::json!({ "exported": what, "rows": count, "file": path }),
                || format!("exported {count} {what} to {path}"),
            );
            Ok(())
        }
        Err(e) => {
            target.abandon();
            Err(e)
        }
    }
}

async fn write<W: Write>(ctx: &Ctx, cmd: ExportCommand, out: W, reader: Reader) -> Result<u64, CliError> {
    match cmd {
        ExportCommand::Leads { filter, .. } => {
            let filter = filter.resolve(ctx).await?;
            export_leads_for(&ctx.store, &filter, out, reader)
                .await
                .map_err(export_error)
        }
        ExportCommand::Calls { from, to, by, .. } => {
            let from_day = from.as_deref().map(day_start).transpose()?;
            // The last day counts whole; without --to the export runs to the newest call.
            let to_day = to
                .as_deref()
                .map(|day| day_start(day).map(|t| t + Duration::days(1)))
                .transpose()?;
            let agent_id = match by {
                Some(name) => Some(ctx.agent_named(&name).await?.id),
                None => None,
            };
            let filter = CallFilter {
                from: from_day,
                to: to_day,
                agent_id,
            };
            export_calls_for(&ctx.store, &filter, out, reader)
                .await
                .map_err(export_error)
        }
    }
}
