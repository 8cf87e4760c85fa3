use chrono::{DateTime, NaiveDateTime, Utc};
use clap::Subcommand;

use super::output::{clean, table, time};
use super::{CliError, Ctx};
use crate::store::{EndCall, StartCall};

#[derive(Debug, Subcommand)]
pub enum CallCommand {
    /// Check every rule and take the lead's call lock
    Start {
        lead: String,
        /// The caller-id number the call goes out from, with its country code (e.g. +14155550100)
        #[arg(long)]
        from: Option<String>,
    },
    /// Record the outcome and release the lock
    End {
        call_id: String,
        /// Outcome code (see `coldcall call dispositions`)
        #[arg(long)]
        disposition: String,
        /// Talk time in seconds, up to 12 hours (default: since the call started)
        #[arg(long, value_parser = clap::value_parser!(i32).range(0..=43_200))]
        duration: Option<i32>,
        #[arg(long)]
        notes: Option<String>,
        #[arg(long)]
        recording_url: Option<String>,
        /// When to call back, for a callback outcome: RFC 3339 or "YYYY-MM-DD HH:MM" in UTC
        #[arg(long)]
        callback_at: Option<String>,
        /// End another agent's call (supervisors and admins)
        #[arg(long)]
        force: bool,
    },
    /// Keep the lock of a call alive (consoles do this on their own)
    Heartbeat { call_id: String },
    /// The outcomes a call can end with
    Dispositions,
}

#[derive(Debug, Subcommand)]
pub enum CallsCommand {
    /// Every call in progress on the floor
    Active,
    /// Close locks whose console stopped sending heartbeats, recording the calls as abandoned
    Reap,
    /// Release another agent's call lock now (supervisors and admins), with a reason
    Release {
        call_id: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Claim the next lead for the agent
    Next,
    /// Why leads are held back from the agent: counts by the rule that holds each
    Why,
}

#[derive(Debug, Subcommand)]
pub enum CallbackCommand {
    /// Schedule a callback owned by the acting agent
    Add {
        lead: String,
        /// RFC 3339 or "YYYY-MM-DD HH:MM" in UTC
        at: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Callbacks due now (the acting agent's, or everyone's with --all)
    Due {
        #[arg(long)]
        all: bool,
    },
    /// Mark a callback done
    Done {
        /// The callback's id, or an unambiguous start of it
        id: String,
    },
    /// Give an open callback to another agent (e.g. an overdue one)
    Hand {
        /// The callback's id, or an unambiguous start of it
        id: String,
        /// The agent who takes it over
        to: String,
    },
}

pub async fn run_call(ctx: &Ctx, cmd: CallCommand) -> Result<(), CliError> {
    let store = &ctx.store;
    match cmd {
        CallCommand::Start { lead, from } => {
            let agent = ctx.agent().await?;
            let started = store
                .start_call(&StartCall {
                    lead_id: super::lead_id(ctx, &lead).await?,
                    agent_id: agent.id,
                    from_number: from,
                })
                .await?;
            ctx.out.show(&started, || {
                format!(
                    "call {} started: dial {}\nend it with: coldcall call end {} --disposition CODE",
                    started.call_id,
                    crate::domain::phone::format_international(&started.phone_number),
                    started.call_id
                )
            });
        }
        CallCommand::End {
            call_id,
            disposition,
            duration,
            notes,
            recording_url,
            callback_at,
            force,
        } => {
            let agent = ctx.agent().await?;
            let callback_at = callback_at.map(|t| parse_time(&t)).transpose()?;
            let ended = store
                .end_call(&EndCall {
                    call_id: super::call_id(ctx, &call_id).await?,
                    agent_id: agent.id,
                    disposition,
                    duration_s: duration,
                    notes,
                    recording_url,
                    callback_at,
                    force,
                    // The command line records calls dialled by hand.
                    progress: None,
                })
                .await?;
            ctx.out.show(&ended, || {
                let mut text = format!(
                    "call {} ended: {} after {}s; lead is {}",
                    ended.call_id, ended.disposition, ended.duration_s, ended.new_status
                );
                if let Some(next) = ended.next_call_at {
                    text.push_str(&format!(", back in the queue at {}", time(Some(next))));
                }
                if ended.added_to_dnc {
                    text.push_str("; number added to the do-not-call list");
                }
                text
            });
        }
        CallCommand::Heartbeat { call_id } => {
            let agent = ctx.agent().await?;
            let alive = store.heartbeat(super::call_id(ctx, &call_id).await?, agent.id).await?;
            if !alive {
                return Err(CliError::Usage(
                    "no active call with this id for this agent (ended or reaped)".into(),
                ));
            }
            ctx.out
                .show(&serde_json::json!({ "alive": true }), || "lock refreshed".into());
        }
        CallCommand::Dispositions => {
            let list = store.dispositions().await?;
            ctx.out.show(&list, || {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|d| {
                        let flags: Vec<&str> = [
                            (d.is_contact, "contact"),
                            (d.is_sale, "sale"),
                            (d.is_callback, "callback"),
                            (d.is_dnc, "dnc"),
                            (d.is_final, "final"),
                        ]
                        .iter()
                        .filter(|(on, _)| *on)
                        .map(|(_, name)| *name)
                        .collect();
                        vec![
                            d.hotkey.map(String::from).unwrap_or_default(),
                            d.code.clone(),
                            d.label.clone(),
                            flags.join(","),
                            d.next_status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                            d.recycle_after
                                .map(|r| format!("{}m", r.num_minutes()))
                                .unwrap_or_else(|| "-".into()),
                        ]
                    })
                    .collect();
                table(&["KEY", "CODE", "LABEL", "FLAGS", "NEXT STATUS", "RECYCLE"], &rows)
            });
        }
    }
    Ok(())
}

pub async fn run_calls(ctx: &Ctx, cmd: CallsCommand) -> Result<(), CliError> {
    match cmd {
        CallsCommand::Active => {
            let calls = ctx.store.active_calls().await?;
            let now = ctx.store.now();
            ctx.out.show(&calls, || {
                let rows: Vec<Vec<String>> = calls
                    .iter()
                    .map(|c| {
                        let secs = (now - c.started_at).num_seconds().max(0);
                        vec![
                            c.agent_name.clone(),
                            c.lead_name.clone(),
                            c.company.clone(),
                            crate::domain::phone::format_international(&c.phone_number),
                            format!("{}:{:02}", secs / 60, secs % 60),
                            c.call_id.to_string(),
                        ]
                    })
                    .collect();
                table(&["AGENT", "LEAD", "COMPANY", "NUMBER", "DURATION", "CALL ID"], &rows)
            });
        }
        CallsCommand::Release { call_id, reason } => {
            let supervisor = ctx.agent().await?;
            let released = ctx
                .store
                .force_release(super::call_id(ctx, &call_id).await?, supervisor.id, &reason)
                .await?;
            ctx.out.show(&released, || {
                format!("call {} released; recorded as abandoned", released.call_id)
            });
        }
        CallsCommand::Reap => {
            let actor = ctx.actor().await?.map(|a| a.id);
            let reaped = ctx.store.reap_stale_locks(actor).await?;
            ctx.out
                .show(&reaped, || format!("{} stale lock(s) released", reaped.len()));
        }
    }
    Ok(())
}

pub async fn run_queue(ctx: &Ctx, cmd: QueueCommand) -> Result<(), CliError> {
    match cmd {
        QueueCommand::Next => {
            let agent = ctx.agent().await?;
            let claim = ctx.store.claim_next(agent.id).await?;
            ctx.out.show(&claim, || match &claim {
                Some(c) => format!(
                    "{} {} — {} · {} ({}, {}, score {}){}\nstart the call with: coldcall call start {}",
                    c.lead.id,
                    clean(&c.lead.full_name()),
                    clean(&c.lead.company),
                    c.lead.phone,
                    c.lead.status,
                    c.lead.priority,
                    c.lead.lead_score,
                    if c.source == crate::store::ClaimSource::Callback {
                        " — callback due"
                    } else {
                        ""
                    },
                    c.lead.id
                ),
                None => "no lead can be called right now".into(),
            });
        }
        QueueCommand::Why => {
            let agent = ctx.agent().await?;
            let why = ctx.store.queue_why(agent.id).await?;
            ctx.out.show(&why, || {
                let mut text = format!("{} leads can be called by {} now\n", why.callable, clean(&agent.name));
                for (rule, n) in &why.held {
                    text.push_str(&format!("{n:>10}  {}\n", rule.replace('_', " ")));
                }
                text.push_str(&format!(
                    "queue: {} ready, {} waiting to come due, {} parked (attempts used up)",
                    why.ready, why.waiting, why.parked
                ));
                if why.callable > 0 && why.ready == 0 {
                    text.push_str("\nthe next claim feeds the queue what has come due");
                }
                text
            });
        }
    }
    Ok(())
}

pub async fn run_callback(ctx: &Ctx, cmd: CallbackCommand) -> Result<(), CliError> {
    match cmd {
        CallbackCommand::Add { lead, at, note } => {
            let agent = ctx.agent().await?;
            let callback = ctx
                .store
                .schedule_callback(
                    super::lead_id(ctx, &lead).await?,
                    agent.id,
                    parse_time(&at)?,
                    note.as_deref(),
                )
                .await?;
            ctx.out.show(&callback, || {
                format!(
                    "callback {} for {} at {}",
                    callback.id,
                    clean(&callback.lead_name),
                    time(Some(callback.due_at))
                )
            });
        }
        CallbackCommand::Due { all } => {
            let agent = if all { None } else { Some(ctx.agent().await?.id) };
            let due = ctx.store.due_callbacks(agent, ctx.store.now()).await?;
            ctx.out.show(&due, || {
                let rows: Vec<Vec<String>> = due
                    .iter()
                    .map(|c| {
                        vec![
                            time(Some(c.due_at)),
                            c.agent_name.clone(),
                            c.lead_name.clone(),
                            c.lead_id.to_string(),
                            c.id.to_string(),
                        ]
                    })
                    .collect();
                table(&["DUE", "AGENT", "LEAD", "LEAD ID", "CALLBACK ID"], &rows)
            });
        }
        CallbackCommand::Hand { id, to } => {
            let actor = ctx.actor().await?.map(|a| a.id);
            let agent = ctx.agent_named(&to).await?;
            if !ctx
                .store
                .hand_callback(super::callback_id(ctx, &id).await?, agent.id, actor)
                .await?
            {
                return Err(CliError::Usage("no open callback with this id".into()));
            }
            ctx.out.show(&serde_json::json!({ "handed_to": agent.name }), || {
                format!("callback handed to {}", agent.name)
            });
        }
        CallbackCommand::Done { id } => {
            let done = ctx.store.complete_callback(super::callback_id(ctx, &id).await?).await?;
            if !done {
                return Err(CliError::Usage("no open callback with this id".into()));
            }
            ctx.out
                .show(&serde_json::json!({ "done": true }), || "callback done".into());
        }
    }
    Ok(())
}

/// Accepts RFC 3339 ("2026-11-24T15:00:00Z", "…+01:00") or "YYYY-MM-DD HH:MM" taken as UTC.
fn parse_time(text: &str) -> Result<DateTime<Utc>, CliError> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
        .map(|t| t.and_utc())
        .map_err(|_| {
            CliError::Usage(format!(
                "'{text}' is not a time (use 2026-11-24T15:00:00Z or \"2026-11-24 15:00\")"
            ))
        })
}
