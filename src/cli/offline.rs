//! `coldcall offline …`: take leads away in a SQLite copy, work them without the network, and
//! send the work back. The flows are in `store::flows::offline`, the merge rules in
//! `domain::offline`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::lead::FilterArgs;
use super::{CliError, Ctx};
use crate::config::Config;
use crate::domain::offline::StatusKept;
use crate::offline_link::FloorLink;
use crate::store::offline::{Checkout, CheckoutRequest, SyncReport};
use crate::store::{ConnectOptions, Store};

#[derive(Debug, Subcommand)]
pub enum OfflineCommand {
    /// Reserve leads for an agent and write them to a copy to work without the network
    Checkout(CheckoutArgs),
    /// Send a copy's work to the floor, release the leads that are done, and update the copy
    Sync {
        /// The copy
        file: PathBuf,
        /// Then take up to N more leads into the copy, until the same end
        #[arg(long, value_name = "N")]
        more: Option<u32>,
        /// Which leads --more takes
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Open the console on a copy, as the agent it was checked out for
    Open {
        /// The copy
        file: PathBuf,
    },
    /// Whose a copy is, from which floor, until when, and what its last sync did
    Status {
        /// The copy
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct CheckoutArgs {
    /// The agent who will work the copy (default: the acting agent; another agent's needs an admin)
    #[arg(long = "for", value_name = "AGENT")]
    pub for_agent: Option<String>,
    /// How many leads to take, in the order the lead list shows them
    #[arg(long, default_value_t = 50)]
    pub leads: u32,
    /// How long the leads stay reserved
    #[arg(long, default_value_t = 72)]
    pub hours: u32,
    /// Where to write the copy (default: offline-AGENT-TIME.db in the current folder)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub filter: FilterArgs,
}

pub async fn run(ctx: &Ctx, cmd: OfflineCommand) -> Result<(), CliError> {
    match cmd {
        OfflineCommand::Checkout(args) => checkout(ctx, args).await,
        OfflineCommand::Sync { file, more, filter, .. } => sync(ctx, &file, more, filter).await,
        // Handled before the floor is opened: a copy is worked without it.
        OfflineCommand::Open { .. } | OfflineCommand::Status { .. } => Ok(()),
    }
}

/// Checkout and sync through the floor server: the session decides who acts; the copy travels
/// in the request and the answer.
pub async fn run_via_server(cmd: OfflineCommand, server: &str, out: super::Output) -> Result<(), CliError> {
    let session = super::login::load_session()
        .filter(|s| s.server.trim_end_matches('/') == server.trim_end_matches('/'))
        .ok_or_else(|| {
            CliError::Usage(format!(
                "not logged in to {server}: run coldcall login --server {server}"
            ))
        })?;
    match cmd {
        OfflineCommand::Checkout(args) => {
            let path = args
                .out
                .clone()
                .unwrap_or_else(|| crate::offline_link::default_file(&session.name, chrono::Utc::now()));
            if path.exists() {
                return Err(CliError::Usage(format!(
                    "{} already exists: name a new file with --out",
                    path.display()
                )));
            }
            let mut body = args.filter.server_fields()?;
            body.insert("leads".into(), args.leads.into());
            body.insert("hours".into(), args.hours.into());
            if let Some(name) = &args.for_agent {
                body.insert("for".into(), name.clone().into());
            }
            let summary = crate::offline_link::checkout_through_server(&session, &body, &path)
                .await
                .map_err(CliError::Usage)?;
            let checkout = summary.checkout;
            out.show(&serde_json::json!({ "file": path, "checkout": checkout }), || {
                format!(
                    "checked out from {} for {} until {} UTC\ncopy: {}",
                    session.server,
                    session.name,
                    checkout.expires_at.format("%Y-%m-%d %H:%M"),
                    path.display()
                )
            });
        }
        OfflineCommand::Sync { file, more, .. } => {
            // Synced in place: the copy may be open in a console meanwhile.
            let copy = open_copy(&file).await?;
            let synced = crate::offline_link::sync(&copy, &FloorLink::Server(session), more).await;
            copy.close().await;
            let synced = synced.map_err(CliError::Usage)?;
            show_sync(out, &synced.report, synced.leads_added);
        }
        OfflineCommand::Open { .. } | OfflineCommand::Status { .. } => {}
    }
    Ok(())
}

/// `offline open` and `offline status` need only the copy, not the floor.
pub async fn run_on_copy(
    cmd: &OfflineCommand,
    config: &Config,
    floor_database: Option<&str>,
    out: super::Output,
    region: String,
) -> Result<(), CliError> {
    let (file, open) = match cmd {
        OfflineCommand::Open { file } => (file, true),
        OfflineCommand::Status { file } => (file, false),
        _ => unreachable!("only open and status run on the copy alone"),
    };
    let copy = open_copy(file).await?;
    let checkout = copy_checkout(&copy, file).await?;
    let agent = copy
        .agent(checkout.agent_id)
        .await?
        .ok_or_else(|| CliError::Usage(format!("{} names an agent it does not hold", file.display())))?;
    if !open {
        let report: Option<SyncReport> = checkout
            .last_report
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok());
        out.show(
            &serde_json::json!({ "checkout": checkout, "agent": agent.name, "last_sync": report }),
            || describe_copy(&checkout, &agent.name, report.as_ref()),
        );
        copy.close().await;
        return Ok(());
    }
    let ctx = Ctx {
        store: copy,
        out,
        agent_name: Some(agent.name),
        region,
    };
    let link = FloorLink::find(floor_database, &ctx.store);
    let result = super::console::open_copy(&ctx, config, link).await;
    ctx.store.close().await;
    result
}

async fn checkout(ctx: &Ctx, args: CheckoutArgs) -> Result<(), CliError> {
    let by = ctx.agent().await?;
    let agent = match &args.for_agent {
        Some(name) => ctx.agent_named(name).await?,
        None => by.clone(),
    };
    let filter = args.filter.resolve(ctx).await?;
    let path = args
        .out
        .unwrap_or_else(|| crate::offline_link::default_file(&agent.name, ctx.store.now()));
    let request = CheckoutRequest {
        agent_id: agent.id,
        by: by.id,
        leads: args.leads,
        hours: args.hours,
    };
    let summary = crate::offline_link::checkout_to_file(&ctx.store, &request, &filter, &path)
        .await
        .map_err(CliError::Usage)?;
    ctx.out
        .show(&serde_json::json!({ "file": path, "summary": summary }), || {
            format!(
                "checked out {} leads ({} calls of history, {} do-not-call entries) for {} until {} UTC\n\
                 copy: {}\nwork it with: coldcall offline open {}\nsend it back with: coldcall offline sync {}",
                summary.leads,
                summary.calls,
                summary.dnc_numbers,
                agent.name,
                summary.checkout.expires_at.format("%Y-%m-%d %H:%M"),
                path.display(),
                path.display(),
                path.display()
            )
        });
    Ok(())
}

async fn sync(ctx: &Ctx, file: &Path, more: Option<u32>, filter: FilterArgs) -> Result<(), CliError> {
    let copy = open_copy(file).await?;
    let by = ctx.actor().await?.map(|a| a.id);
    let filter = filter.resolve(ctx).await?;
    let result = async {
        let report = ctx.store.offline_sync(&copy, by).await?;
        let added = match more {
            Some(n) => Some(ctx.store.offline_take_more(&copy, n, &filter, by).await?),
            None => None,
        };
        Ok::<_, crate::store::StoreError>((report, added))
    }
    .await;
    copy.close().await;
    let (report, added) = result?;
    show_sync(ctx.out, &report, added);
    Ok(())
}

fn show_sync(out: super::Output, report: &SyncReport, added: Option<u64>) {
    out.show(&serde_json::json!({ "report": report, "leads_added": added }), || {
        let mut text = describe_report(report);
        if let Some(n) = added {
            text.push_str(&format!("\ntook {n} more leads into the copy"));
        }
        text
    });
}

/// Opens an existing copy (never creates one) at this coldcall's schema.
async fn open_copy(file: &Path) -> Result<Store, CliError> {
    if !file.is_file() {
        return Err(CliError::Usage(format!("{}: no such offline copy", file.display())));
    }
    let copy = Store::connect(&file.to_string_lossy(), &ConnectOptions::default()).await?;
    copy.migrate().await?;
    Ok(copy)
}

async fn copy_checkout(copy: &Store, file: &Path) -> Result<Checkout, CliError> {
    copy.offline_copy_of().await?.ok_or_else(|| {
        CliError::Usage(format!(
            "{} is not an offline copy (take one with coldcall offline checkout)",
            file.display()
        ))
    })
}

fn describe_copy(c: &Checkout, agent: &str, report: Option<&SyncReport>) -> String {
    let mut text = format!(
        "offline copy {} for {agent}\nfrom: {}\ntaken: {} UTC\nreserved until: {} UTC",
        c.id,
        c.floor.as_deref().unwrap_or("?"),
        c.created_at.format("%Y-%m-%d %H:%M"),
        c.expires_at.format("%Y-%m-%d %H:%M"),
    );
    match (c.last_sync_at, report) {
        (Some(at), Some(r)) => text.push_str(&format!(
            "\nlast sync: {} UTC, {} calls sent, {} conflicts",
            at.format("%Y-%m-%d %H:%M"),
            r.calls_uploaded,
            r.conflicts()
        )),
        _ => text.push_str("\nnot synced yet"),
    }
    if c.closed_at.is_some() {
        text.push_str("\nclosed: every lead is back on the floor");
    }
    text
}

fn describe_report(r: &SyncReport) -> String {
    let mut lines = vec![format!(
        "sent {} calls, {} status changes, {} edited leads, {} contact points, {} callbacks ({} completed), \
         {} do-not-call numbers; released {} leads",
        r.calls_uploaded,
        r.status_changes_applied,
        r.leads_edited,
        r.contacts_added,
        r.callbacks_added,
        r.callbacks_completed,
        r.dnc_numbers_added,
        r.leads_released
    )];
    if r.calls_in_progress > 0 {
        lines.push(format!(
            "{} calls still in progress in the copy: they are sent by the sync after they end",
            r.calls_in_progress
        ));
    }
    if r.expired {
        lines.push("the reservation had ended before this sync: the leads were back on the floor".into());
    }
    for c in &r.field_conflicts {
        lines.push(format!(
            "conflict, lead {}: {} was changed on the floor too; kept the floor's {}, the copy had {}",
            c.lead_id, c.field, c.floor_value, c.offline_value
        ));
    }
    for c in &r.status_conflicts {
        lines.push(match c.kept {
            StatusKept::Floor => format!(
                "conflict, lead {}: the floor set the status to {} meanwhile; kept it over the copy's {}",
                c.lead_id,
                c.floor_status.label(),
                c.offline_status.label()
            ),
            StatusKept::Offline => format!(
                "conflict, lead {}: the floor set the status to {} meanwhile; the copy's final {} wins",
                c.lead_id,
                c.floor_status.label(),
                c.offline_status.label()
            ),
        });
    }
    for c in &r.calls_after_dnc {
        lines.push(format!(
            "do not call: lead {} was put on the list at {} UTC; the copy called it at {} UTC (call {})",
            c.lead_id,
            c.dnc_since.format("%Y-%m-%d %H:%M"),
            c.started_at.format("%Y-%m-%d %H:%M"),
            c.call_id
        ));
    }
    for c in &r.floor_calls_meanwhile {
        lines.push(format!(
            "meanwhile on the floor: {} called lead {} at {} UTC",
            c.agent,
            c.lead_id,
            c.started_at.format("%Y-%m-%d %H:%M")
        ));
    }
    if r.conflicts() == 0 {
        lines.push("no conflicts".into());
    }
    lines.join("\n")
}
