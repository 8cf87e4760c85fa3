use clap::{Args, Subcommand};

use super::output::{clean, opt, table, time};
use super::{lead_id, CliError, Ctx};
use crate::domain::zones::zone_to_store;
use crate::domain::{LeadInput, LeadStatus, Priority};
use crate::store::{Lead, LeadCursor, LeadFilter, StoreError};

#[derive(Debug, Subcommand)]
pub enum LeadCommand {
    /// Add a lead (validated and normalised like every other way in)
    Add(LeadArgs),
    /// Change some fields of a lead; fields not given keep their value
    Edit {
        id: String,
        #[command(flatten)]
        fields: LeadArgs,
        /// Why, when the status changes
        #[arg(long)]
        reason: Option<String>,
    },
    /// Everything about one lead
    Show { id: String },
    /// List leads, a page at a time, in queue order (priority, score, newest)
    List {
        #[command(flatten)]
        filter: FilterArgs,
        /// Page size (1 to 1000)
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
        /// Continue after this cursor (printed at the end of the previous page)
        #[arg(long)]
        after: Option<String>,
    },
    /// Search names, company, email, title, notes, and phone or email fragments
    Search {
        text: String,
        #[command(flatten)]
        filter: FilterArgs,
        /// How many leads at most (1 to 500)
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=500))]
        limit: u32,
    },
    /// Change the status, with a reason for the status history
    Status {
        id: String,
        status: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Soft-delete: the lead leaves queues and search, its history stays
    Delete { id: String },
    /// Bring back a deleted lead
    Restore { id: String },
    /// Would a call be allowed now? Exit code 3 with the reason when not
    CanCall { id: String },
    /// Calls made to the lead, newest first
    History { id: String },
    /// Status changes of the lead, newest first
    StatusHistory { id: String },
    /// Give the lead to an agent
    Assign {
        id: String,
        /// The agent who gets the lead
        to: String,
        /// Hours until the assignment lapses, 1 to 8784 (default: never)
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..=8784))]
        hours: Option<i64>,
    },
    /// End the lead's assignment
    Unassign { id: String },
    /// Pairs of leads that look like one person, best first: why, and a score out of 100
    Duplicates {
        /// At most this many pairs (1 to 1000)
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
    /// Merge OTHER into KEEP (supervisors): OTHER's calls, status history, contacts and
    /// callbacks move to KEEP, do-not-call stays if either had it, OTHER is deleted
    Merge { keep: String, other: String },
}

/// Lead fields as flags. Empty means "not given".
#[derive(Debug, Args, Default)]
pub struct LeadArgs {
    #[arg(long)]
    first_name: Option<String>,
    #[arg(long)]
    last_name: Option<String>,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    company: Option<String>,
    #[arg(long)]
    title: Option<String>,
    /// IANA time zone, e.g. America/Chicago
    #[arg(long)]
    timezone: Option<String>,
    #[arg(long)]
    status: Option<String>,
    #[arg(long)]
    priority: Option<String>,
    /// 0–100
    #[arg(long)]
    score: Option<String>,
    /// 0–1 or a percentage
    #[arg(long)]
    probability: Option<String>,
    #[arg(long)]
    source: Option<String>,
    #[arg(long)]
    notes: Option<String>,
    /// yes/no
    #[arg(long)]
    consent: Option<String>,
    /// yes marks the lead do-not-call (it cannot be cleared by an edit)
    #[arg(long)]
    dnc: Option<String>,
    /// yes/no
    #[arg(long)]
    do_not_email: Option<String>,
}

impl LeadArgs {
    /// Lays the given flags over `base` (an existing lead's values, or nothing for a new one).
    fn over(self, base: LeadInput) -> LeadInput {
        let pick = |flag: Option<String>, old: String| flag.unwrap_or(old);
        LeadInput {
            first_name: pick(self.first_name, base.first_name),
            last_name: pick(self.last_name, base.last_name),
            email: pick(self.email, base.email),
            phone: pick(self.phone, base.phone),
            company: pick(self.company, base.company),
            title: pick(self.title, base.title),
            timezone: pick(self.timezone, base.timezone),
            status: pick(self.status, base.status),
            priority: pick(self.priority, base.priority),
            lead_score: pick(self.score, base.lead_score),
            conversion_probability: pick(self.probability, base.conversion_probability),
            source: pick(self.source, base.source),
            notes: pick(self.notes, base.notes),
            consent_given: pick(self.consent, base.consent_given),
            do_not_call: pick(self.dnc, base.do_not_call),
            do_not_email: pick(self.do_not_email, base.do_not_email),
        }
    }
}

#[derive(Debug, Args)]
pub struct FilterArgs {
    #[arg(long)]
    status: Option<String>,
    #[arg(long)]
    priority: Option<String>,
    /// Only leads assigned to this agent
    #[arg(long)]
    assigned: Option<String>,
    #[arg(long)]
    min_score: Option<i16>,
    #[arg(long)]
    max_score: Option<i16>,
    /// Only leads with a callback due now
    #[arg(long)]
    callbacks_due: bool,
}

impl FilterArgs {
    /// The filters a floor server's checkout takes, as its JSON body's fields.
    pub(super) fn server_fields(&self) -> Result<serde_json::Map<String, serde_json::Value>, CliError> {
        if self.assigned.is_some() || self.callbacks_due {
            return Err(CliError::Usage(
                "--assigned and --callbacks-due are not taken through the server; leave them out".into(),
            ));
        }
        let mut fields = serde_json::Map::new();
        for (key, value) in [
            ("status", self.status.clone().map(serde_json::Value::from)),
            ("priority", self.priority.clone().map(serde_json::Value::from)),
            ("min_score", self.min_score.map(serde_json::Value::from)),
            ("max_score", self.max_score.map(serde_json::Value::from)),
        ] {
            if let Some(value) = value {
                fields.insert(key.into(), value);
            }
        }
        Ok(fields)
    }

    pub(super) async fn resolve(self, ctx: &Ctx) -> Result<LeadFilter, CliError> {
        let status = self
            .status
            .map(|s| s.parse::<LeadStatus>())
            .transpose()
            .map_err(|e| CliError::Usage(format!("status: {e}")))?;
        let priority = self
            .priority
            .map(|p| p.parse::<Priority>())
            .transpose()
            .map_err(|e| CliError::Usage(format!("priority: {e}")))?;
        let assigned_to = match self.assigned {
            Some(name) => Some(ctx.agent_named(&name).await?.id),
            None => None,
        };
        for score in [self.min_score, self.max_score].into_iter().flatten() {
            if !(0..=100).contains(&score) {
                return Err(CliError::Usage(format!("score filter: {score} is outside 0–100")));
            }
        }
        Ok(LeadFilter {
            status,
            priority,
            assigned_to,
            min_score: self.min_score,
            max_score: self.max_score,
            callbacks_due: self.callbacks_due,
        })
    }
}

pub async fn run(ctx: &Ctx, cmd: LeadCommand) -> Result<(), CliError> {
    let store = &ctx.store;
    match cmd {
        LeadCommand::Add(args) => {
            let actor = ctx.actor().await?.map(|a| a.id);
            let mut fields = args
                .over(LeadInput::default())
                .validate(&ctx.region)
                .map_err(StoreError::from)?;
            fields.timezone = zone_to_store(fields.timezone.as_deref(), &fields.phone, None);
            let lead = store.create_lead(&fields, actor).await?;
            ctx.out
                .show(&lead, || format!("added lead {} {}", lead.id, clean(&lead.full_name())));
        }
        LeadCommand::Edit { id, fields, reason } => {
            let actor = ctx.actor().await?.map(|a| a.id);
            let lead = live_lead(ctx, &id).await?;
            let mut fields = fields
                .over(lead.fields().to_input())
                .validate(&ctx.region)
                .map_err(StoreError::from)?;
            let before = Some((lead.phone.as_str(), lead.timezone.as_deref()));
            fields.timezone = zone_to_store(fields.timezone.as_deref(), &fields.phone, before);
            let lead = store.update_lead(lead.id, &fields, actor, reason.as_deref()).await?;
            ctx.out.show(&lead, || format!("updated lead {}", lead.id));
        }
        LeadCommand::Show { id } => {
            let lead = any_lead(ctx, &id).await?;
            let contacts = store.contacts(lead.id).await?;
            let assignments = store.assignments(lead.id).await?;
            let merged_into = store.merged_into(lead.id).await?;
            let zone = crate::domain::lead_zones(
                lead.timezone.as_deref(),
                &lead.phone,
                store.policy().await?.default_timezone,
            );
            let detail = serde_json::json!({
                "lead": lead,
                "contacts": contacts,
                "assignments": assignments,
                "merged_into": merged_into,
                "zone": {
                    "zones": zone.zones.iter().map(|tz| tz.name()).collect::<Vec<_>>(),
                    "origin": zone.origin,
                },
            });
            ctx.out.show(&detail, || {
                let mut text = show_lead(&lead, &zone, &contacts, &assignments);
                if let Some(into) = merged_into {
                    text.push_str(&format!("merged    into lead {into}\n"));
                }
                text
            });
        }
        LeadCommand::List { filter, limit, after } => {
            let filter = filter.resolve(ctx).await?;
            let after = after.map(|c| parse_cursor(&c)).transpose()?;
            let page = store.list_leads(&filter, after, limit).await?;
            ctx.out.show(&page, || {
                let mut text = lead_table(&page.items);
                if let Some(next) = page.next {
                    text.push_str(&format!("more: --after {}\n", format_cursor(next)));
                }
                text
            });
        }
        LeadCommand::Search { text, filter, limit } => {
            let filter = filter.resolve(ctx).await?;
            let leads = store.search_leads(&text, &filter, limit).await?;
            ctx.out.show(&leads, || lead_table(&leads));
        }
        LeadCommand::Status { id, status, reason } => {
            let actor = ctx.actor().await?.map(|a| a.id);
            let status: LeadStatus = status.parse().map_err(|e| CliError::Usage(format!("status: {e}")))?;
            let lead = live_lead(ctx, &id).await?;
            let lead = store.set_status(lead.id, status, reason.as_deref(), actor).await?;
            ctx.out
                .show(&lead, || format!("lead {} is now {}", lead.id, lead.status));
        }
        LeadCommand::Delete { id } => {
            let actor = ctx.actor().await?.map(|a| a.id);
            let lead = store.delete_lead(lead_id(ctx, &id).await?, actor).await?;
            ctx.out.show(&lead, || {
                format!(
                    "deleted lead {} (restore with: coldcall lead restore {})",
                    lead.id, lead.id
                )
            });
        }
        LeadCommand::Restore { id } => {
            let actor = ctx.actor().await?.map(|a| a.id);
            let lead = store.restore_lead(lead_id(ctx, &id).await?, actor).await?;
            ctx.out.show(&lead, || format!("restored lead {}", lead.id));
        }
        LeadCommand::CanCall { id } => {
            let agent = ctx.agent().await?;
            let verdict = store.can_call(lead_id(ctx, &id).await?, agent.id).await?;
            match verdict {
                Ok(()) => ctx.out.show(&serde_json::json!({ "can_call": true }), || {
                    "yes: the lead can be called now".into()
                }),
                Err(refusal) => return Err(StoreError::Refused(refusal).into()),
            }
        }
        LeadCommand::History { id } => {
            let calls = store.call_history(lead_id(ctx, &id).await?).await?;
            ctx.out.show(&calls, || {
                let rows: Vec<Vec<String>> = calls
                    .iter()
                    .map(|c| {
                        vec![
                            time(Some(c.started_at)),
                            c.agent_name.clone(),
                            crate::domain::phone::format_international(&c.phone_number),
                            c.status.to_string(),
                            c.disposition.clone().unwrap_or_else(|| "-".into()),
                            c.duration_s.map(|d| format!("{d}s")).unwrap_or_else(|| "-".into()),
                            opt(&c.notes),
                            c.id.to_string(),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "STARTED", "AGENT", "NUMBER", "STATUS", "OUTCOME", "DURATION", "NOTES", "CALL ID",
                    ],
                    &rows,
                )
            });
        }
        LeadCommand::StatusHistory { id } => {
            let changes = store.status_history(lead_id(ctx, &id).await?).await?;
            ctx.out.show(&changes, || {
                let rows: Vec<Vec<String>> = changes
                    .iter()
                    .map(|c| {
                        vec![
                            time(Some(c.changed_at)),
                            c.old_status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                            c.new_status.to_string(),
                            c.changed_by_name.clone().unwrap_or_else(|| "-".into()),
                            opt(&c.reason),
                        ]
                    })
                    .collect();
                table(&["WHEN", "FROM", "TO", "BY", "REASON"], &rows)
            });
        }
        LeadCommand::Assign { id, to, hours } => {
            let actor = ctx.actor().await?.map(|a| a.id);
            let agent = ctx.agent_named(&to).await?;
            let expires_at = hours
                .map(|h| crate::domain::bounds::hours("--hours", h).map(|d| store.now() + d))
                .transpose()
                .map_err(CliError::Usage)?;
            let assignment = store
                .assign(lead_id(ctx, &id).await?, agent.id, actor, expires_at)
                .await?;
            ctx.out.show(&assignment, || {
                format!("lead {} assigned to {}", assignment.lead_id, assignment.agent_name)
            });
        }
        LeadCommand::Duplicates { limit } => {
            let pairs = store.duplicate_leads().await?;
            let total = pairs.len();
            let pairs: Vec<_> = pairs.into_iter().take(limit as usize).collect();
            let mut rows = Vec::with_capacity(pairs.len());
            for p in &pairs {
                let name = |lead: Option<Lead>| lead.map(|l| clean(&l.full_name())).unwrap_or_else(|| "-".into());
                let a = name(store.lead(p.a).await?);
                let b = name(store.lead(p.b).await?);
                let why: Vec<String> = p.reasons.iter().map(|r| clean(&r.to_string())).collect();
                rows.push(vec![
                    p.score.to_string(),
                    p.a.to_string(),
                    a,
                    p.b.to_string(),
                    b,
                    why.join("; "),
                ]);
            }
            ctx.out.show(&pairs, || {
                if pairs.is_empty() {
                    return "no likely duplicates among the live leads".into();
                }
                let mut text = table(&["SCORE", "LEAD", "NAME", "LEAD", "NAME", "WHY"], &rows);
                if total > pairs.len() {
                    text.push_str(&format!("{} more: --limit {total}\n", total - pairs.len()));
                }
                text.push_str("merge a pair with: coldcall lead merge KEEP OTHER\n");
                text
            });
        }
        LeadCommand::Merge { keep, other } => {
            let agent = ctx.agent().await?;
            let keep = lead_id(ctx, &keep).await?;
            let other = lead_id(ctx, &other).await?;
            let done = store.merge_leads(keep, other, agent.id).await?;
            ctx.out.show(&done, || {
                format!(
                    "merged lead {} into {} {}: moved {} calls, {} status changes, {} contact points, {} callbacks{}",
                    done.merged,
                    done.kept.id,
                    clean(&done.kept.full_name()),
                    done.calls,
                    done.status_changes,
                    done.contacts,
                    done.callbacks,
                    if done.kept.do_not_call {
                        "; the lead is do-not-call"
                    } else {
                        ""
                    }
                )
            });
        }
        LeadCommand::Unassign { id } => {
            let ended = store.unassign(lead_id(ctx, &id).await?).await?;
            ctx.out.show(&serde_json::json!({ "unassigned": ended }), || {
                if ended {
                    "assignment ended".into()
                } else {
                    "the lead had no assignment".into()
                }
            });
        }
    }
    Ok(())
}

async fn any_lead(ctx: &Ctx, id: &str) -> Result<Lead, CliError> {
    let id = lead_id(ctx, id).await?;
    ctx.store
        .lead(id)
        .await?
        .ok_or_else(|| StoreError::not_found("lead", id).into())
}

async fn live_lead(ctx: &Ctx, id: &str) -> Result<Lead, CliError> {
    let lead = any_lead(ctx, id).await?;
    if lead.deleted_at.is_some() {
        return Err(CliError::Usage(format!(
            "lead {} is deleted; restore it first",
            lead.id
        )));
    }
    Ok(lead)
}

fn lead_table(leads: &[Lead]) -> String {
    let rows: Vec<Vec<String>> = leads
        .iter()
        .map(|l| {
            vec![
                l.id.to_string(),
                l.full_name(),
                l.company.clone(),
                crate::domain::phone::format_international(&l.phone),
                l.status.to_string(),
                l.priority.to_string(),
                l.lead_score.to_string(),
                time(l.last_call_at),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "NAME",
            "COMPANY",
            "PHONE",
            "STATUS",
            "PRIORITY",
            "SCORE",
            "LAST CALL",
        ],
        &rows,
    )
}

fn show_lead(
    l: &Lead,
    zone: &crate::domain::LeadZones,
    contacts: &[crate::store::Contact],
    assignments: &[crate::store::Assignment],
) -> String {
    let mut flags = Vec::new();
    if l.do_not_call {
        flags.push("DO NOT CALL");
    }
    if l.do_not_email {
        flags.push("do not email");
    }
    if l.consent_given {
        flags.push("consent given");
    }
    if l.deleted_at.is_some() {
        flags.push("DELETED");
    }
    let mut out = format!(
        "{}  ({})\n{} · {}\nphone     {}\nemail     {}\ntimezone  {}\nstatus    {}   priority {}   score {}   p(conv) {:.2}   quality {}\n\
         calls     {} attempts, last {}, next {}\nsource    {}\nflags     {}\nnotes     {}\n",
        clean(&l.full_name()),
        l.id,
        opt(&l.title),
        clean(&l.company),
        crate::domain::phone::format_international(&l.phone),
        opt(&l.email),
        zone,
        l.status,
        l.priority,
        l.lead_score,
        l.conversion_probability,
        l.data_quality,
        l.call_attempts,
        time(l.last_call_at),
        time(l.next_call_at),
        opt(&l.source),
        if flags.is_empty() { "-".to_string() } else { flags.join(", ") },
        opt(&l.notes),
    );
    for c in contacts {
        out.push_str(&format!(
            "contact   {} {}{}{}\n",
            c.kind,
            crate::display::contact_value(c.kind, &c.value),
            c.label
                .as_deref()
                .map(|l| format!(" ({})", clean(l)))
                .unwrap_or_default(),
            if c.is_primary { " [primary]" } else { "" }
        ));
    }
    if let Some(a) = assignments.iter().find(|a| a.active) {
        out.push_str(&format!("assigned  {} until {}\n", a.agent_name, time(a.expires_at)));
    }
    out
}

fn format_cursor(c: LeadCursor) -> String {
    format!("{}:{}:{}", c.priority_rank, c.lead_score, c.id)
}

fn parse_cursor(text: &str) -> Result<LeadCursor, CliError> {
    let bad = || {
        CliError::Usage(format!(
            "--after: '{text}' is not a list cursor (copy it from the previous page)"
        ))
    };
    let mut parts = text.splitn(3, ':');
    let rank = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let score = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let id = parts
        .next()
        .and_then(|p| uuid::Uuid::parse_str(p).ok())
        .ok_or_else(bad)?;
    Ok(LeadCursor {
        priority_rank: rank,
        lead_score: score,
        id,
    })
}
