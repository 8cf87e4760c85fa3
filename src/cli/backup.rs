//! `coldcall backup`, `backup verify` and `restore`: one compressed file per backup, checked
//! after it is written, pruned by `--keep`, restored into an empty database of either backend.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Subcommand};
use serde_json::json;

use super::output::table;
use super::{CliError, Ctx, Output};
use crate::backup::{self, files, Manifest};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub command: Option<BackupCommand>,
    /// Where to write the backup (default: backups/coldcall-TIME.backup.zst in the data directory)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Afterwards keep only the newest N coldcall backups in the folder the backup went to
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub keep: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Check every checksum of a backup file (no database needed); exit code 1 when damaged
    Verify { file: PathBuf },
}

/// Backup files hold personal data: only their owner may read them.
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn in_file(path: &Path, err: impl std::fmt::Display) -> CliError {
    CliError::Usage(format!("{}: {err}", path.display()))
}

pub async fn run_backup(ctx: &Ctx, args: BackupArgs) -> Result<(), CliError> {
    let started = Instant::now();
    let (path, dir) = match &args.out {
        Some(path) => {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            (path.clone(), dir)
        }
        None => {
            let dir = files::default_dir();
            (dir.join(files::file_name(ctx.store.now())), dir)
        }
    };
    if path.exists() {
        return Err(in_file(&path, "already exists; name another file"));
    }
    std::fs::create_dir_all(&dir).map_err(|e| in_file(&dir, format!("cannot create the folder: {e}")))?;
    // Written under a temporary name and renamed when complete and verified: a backup that was
    // cut short or fails its check never looks like a finished one, and `--keep` never counts it.
    let partial = path.with_file_name(format!(
        "{}.partial",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("backup")
    ));
    let file = create_private(&partial).map_err(|e| in_file(&partial, format!("cannot create: {e}")))?;
    let written = ctx.store.backup(BufWriter::with_capacity(256 * 1024, file)).await;
    let (out, manifest) = match written {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e.into());
        }
    };
    let unpacked = finish(out, &partial, &path, &manifest).inspect_err(|_| {
        let _ = std::fs::remove_file(&partial);
    })?;
    let pruned = match args.keep {
        Some(keep) => files::prune(&dir, keep as usize).map_err(|e| in_file(&dir, format!("cannot prune: {e}")))?,
        None => Vec::new(),
    };
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let seconds = started.elapsed().as_secs_f64();
    let shown = json!({
        "file": path,
        "bytes": bytes,
        "unpacked_bytes": unpacked,
        "seconds": seconds,
        "verified": true,
        "pruned": pruned,
        "manifest": manifest,
    });
    ctx.out.show(&shown, || {
        let mut text = format!(
            "backup of {} written to {}\n{} rows, {} compressed ({} unpacked), {:.1} s; verified\n\n{}",
            ctx.store.describe(),
            path.display(),
            manifest.total_rows(),
            megabytes(bytes),
            megabytes(unpacked),
            seconds,
            tables_of(&manifest)
        );
        if !pruned.is_empty() {
            text.push_str(&format!(
                "\npruned {} older backup(s) in {}",
                pruned.len(),
                dir.display()
            ));
        }
        text
    });
    Ok(())
}

/// Flushes the backup to disk, reads it back as `backup verify` would, and only then gives it
/// its final name: a file that fails the check never sits under a name that `--keep` counts and
/// an admin trusts. Answers how many bytes the backup unpacks to.
fn finish(out: BufWriter<File>, partial: &Path, path: &Path, written: &Manifest) -> Result<u64, CliError> {
    let unfinished = |e: std::io::Error| in_file(path, format!("cannot finish writing: {e}"));
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .map_err(unfinished)?;
    let file = File::open(partial).map_err(|e| in_file(path, format!("cannot read it back: {e}")))?;
    let (checked, unpacked) = backup::verify(file).map_err(|e| in_file(path, e))?;
    if checked != *written {
        return Err(in_file(path, "the file on disk differs from what was written"));
    }
    std::fs::rename(partial, path).map_err(unfinished)?;
    Ok(unpacked)
}

pub fn run_verify(file: &Path, out: Output) -> Result<(), CliError> {
    let opened = File::open(file).map_err(|e| in_file(file, format!("cannot open: {e}")))?;
    let (manifest, unpacked) = backup::verify(opened).map_err(|e| in_file(file, e))?;
    let shown = json!({ "file": file, "intact": true, "unpacked_bytes": unpacked, "manifest": manifest });
    out.show(&shown, || {
        format!(
            "{}: intact\na {} backup at schema {}, taken {} by coldcall {}; {} rows\n\n{}",
            file.display(),
            manifest.header.backend,
            manifest.header.schema_version,
            manifest.header.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
            manifest.header.coldcall_version,
            manifest.total_rows(),
            tables_of(&manifest)
        )
    });
    Ok(())
}

pub async fn run_restore(ctx: &Ctx, file: &Path) -> Result<(), CliError> {
    let started = Instant::now();
    let restored = ctx.store.restore(file).await.map_err(|e| match e {
        crate::store::StoreError::Backup(e) => in_file(file, e),
        other => other.into(),
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let shown = json!({ "file": file, "rows": restored.rows, "seconds": seconds, "manifest": restored.manifest });
    ctx.out.show(&shown, || {
        format!(
            "restored {} rows into {} from {} (a {} backup taken {}), {:.1} s",
            restored.rows,
            ctx.store.describe(),
            file.display(),
            restored.manifest.header.backend,
            restored.manifest.header.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
            seconds
        )
    });
    Ok(())
}

fn tables_of(manifest: &Manifest) -> String {
    let rows: Vec<Vec<String>> = manifest
        .tables
        .iter()
        .map(|t| vec![t.name.clone(), t.rows.to_string(), t.sha256[..16].to_string()])
        .collect();
    table(&["TABLE", "ROWS", "SHA-256"], &rows)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// Writes `text` to a new file only its owner can read.
pub fn write_private(path: &Path, text: &str) -> Result<(), CliError> {
    let mut file = create_private(path).map_err(|e| in_file(path, format!("cannot create: {e}")))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| in_file(path, e))
}
