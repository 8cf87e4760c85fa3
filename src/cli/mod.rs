//! The scriptable command line. Each command group has its own module; this one holds the
//! shared flags, opens the store and turns results into output and exit codes.
//!
//! Exit codes: 0 success, 1 error (bad input, missing data, database trouble), 3 refused by a
//! dialer rule (the reason is on stderr, or in the JSON with `--json`).

mod agent;
mod backup;
mod call;
mod console;
mod db;
mod dnc;
mod doctor;
mod export;
mod gdpr;
mod import;
mod lead;
mod login;
mod offline;
mod output;
mod script;
mod serve;
mod settings;
mod stats;

use clap::{Parser, Subcommand};

pub use output::Output;

use std::io::IsTerminal;

use crate::domain::authority::{authorize, Permission};
use crate::store::{Agent, ConnectOptions, Store, StoreError};

#[derive(Debug, Parser)]
#[command(
    name = "coldcall",
    version,
    about = "A terminal dialer console for cold-calling teams"
)]
pub struct Cli {
    /// Database URL: postgres://… for a shared floor, or a SQLite file path
    /// (default: coldcall.db in the platform data directory)
    #[arg(long, global = true, env = "COLDCALL_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,

    /// The floor server to work through, e.g. https://dialer.example.com:8470 (log in first with
    /// `coldcall login`): the console and every command go through it as the logged-in agent
    #[arg(long, global = true, env = "COLDCALL_SERVER")]
    pub server: Option<String>,

    /// The acting agent's name (direct database mode; through a floor server the session's
    /// agent acts)
    #[arg(long, global = true, env = "COLDCALL_AGENT")]
    pub agent: Option<String>,

    /// Default country for phone numbers written without a country code (ISO code, e.g. US, GB;
    /// default US)
    #[arg(long, global = true, env = "COLDCALL_REGION")]
    pub region: Option<String>,

    /// Print results as JSON
    #[arg(long, global = true)]
    pub json: bool,

    /// Without a command, the console opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

// Parsed once per run, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, inspect, roll back and seed the database
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Manage agents
    #[command(subcommand)]
    Agent(agent::AgentCommand),
    /// Add, find, change and inspect leads
    #[command(subcommand)]
    Lead(lead::LeadCommand),
    /// Start and end calls
    #[command(subcommand)]
    Call(call::CallCommand),
    /// Calls on the floor
    #[command(subcommand)]
    Calls(call::CallsCommand),
    /// The lead queue
    #[command(subcommand)]
    Queue(call::QueueCommand),
    /// Schedule and list callbacks
    #[command(subcommand)]
    Callback(call::CallbackCommand),
    /// The do-not-call list
    #[command(subcommand)]
    Dnc(dnc::DncCommand),
    /// Load leads from a CSV file (exports of other CRMs are mapped automatically)
    Import(import::ImportArgs),
    /// Write leads or calls to a CSV file
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// Shared policy: minimum gap, calling hours, lock TTL, attempts
    #[command(subcommand)]
    Settings(settings::SettingsCommand),
    /// The supervisor's console: every agent's state, active calls, today's figures
    Supervise,
    /// Check the database: schema, stale locks, long transactions, clock skew, the queue table's
    /// health (with --agent, the queue's why); prints a verdict with fixes, exits 1 on a failure
    Doctor,
    /// Figures per agent and for the floor (today by default), and the lead funnel
    Stats(stats::StatsArgs),
    /// Open the console on a fresh demo database with a few hundred leads
    Demo {
        /// How many demo leads
        #[arg(long, default_value_t = 300)]
        leads: u64,
        /// Replace an earlier demo database without asking (for scripts)
        #[arg(long)]
        yes: bool,
    },
    /// Where the config file is
    #[command(subcommand)]
    Config(console::ConfigCommand),
    /// Back up the whole database to one compressed file (`backup verify FILE` checks one)
    Backup(backup::BackupArgs),
    /// Load a backup (from either backend) into an empty database
    Restore {
        /// The backup file
        file: std::path::PathBuf,
    },
    /// A person's data on request: export it, or erase it
    #[command(subcommand)]
    Gdpr(gdpr::GdprCommand),
    /// Run the floor server: agents log in to it, and it alone holds the database credentials
    Serve(serve::ServeArgs),
    /// The call scripts agents read during calls
    #[command(subcommand)]
    Script(script::ScriptCommand),
    /// Take leads away in a copy to work without the network, and send the work back
    #[command(subcommand)]
    Offline(offline::OfflineCommand),
    /// Log in to the floor server named by --server (the first time with the enrolment code
    /// from `agent add`)
    Login {
        /// The agent's name (asked for when absent)
        #[arg(long)]
        name: Option<String>,
    },
    /// End this terminal's session with the floor server
    Logout,
}

/// What every command gets: the open store, the output style and the global flags.
pub struct Ctx {
    pub store: Store,
    pub out: Output,
    pub agent_name: Option<String>,
    pub region: String,
}

impl Ctx {
    /// The acting agent, required by commands that act on behalf of someone.
    pub async fn agent(&self) -> Result<Agent, CliError> {
        let Some(name) = self.agent_name.as_deref() else {
            return Err(CliError::Usage(
                "this command needs an agent: pass --agent NAME or set COLDCALL_AGENT".into(),
            ));
        };
        self.agent_named(name).await
    }

    /// The acting agent when one is named; commands that only record who did it accept none.
    pub async fn actor(&self) -> Result<Option<Agent>, CliError> {
        match self.agent_name.as_deref() {
            Some(name) => Ok(Some(self.agent_named(name).await?)),
            None => Ok(None),
        }
    }

    pub async fn agent_named(&self, name: &str) -> Result<Agent, CliError> {
        match self.store.agent_by_name(name).await? {
            Some(agent) if agent.active => Ok(agent),
            Some(_) => Err(CliError::Usage(format!("agent '{name}' is deactivated"))),
            None => Err(CliError::Usage(format!(
                "unknown agent '{name}'; add it with: coldcall agent add {name}"
            ))),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Usage(String),
    /// Whoever read the output stopped reading (`coldcall … | head`): nothing is wrong.
    #[error("the output was closed")]
    OutputClosed,
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Store(e) if e.is_refusal() => 3,
            _ => 1,
        }
    }
}

pub async fn run(cli: Cli) -> u8 {
    let out = Output { json: cli.json };
    match run_command(cli, out).await {
        Ok(()) | Err(CliError::OutputClosed) => 0,
        Err(err) => {
            out.error(&err);
            err.exit_code()
        }
    }
}

async fn run_command(cli: Cli, out: Output) -> Result<(), CliError> {
    if let Some(Command::Config(cmd)) = &cli.command {
        return console::config_command(cmd, out);
    }
    let config = crate::config::load().map_err(CliError::Usage)?;
    // The floor server's client side needs no database.
    match &cli.command {
        Some(Command::Login { name }) => {
            let server = cli.server.as_deref().or(config.floor_server()).ok_or_else(|| {
                CliError::Usage(
                    "which floor server? pass --server URL, set COLDCALL_SERVER, or server = \"…\" in the config"
                        .into(),
                )
            })?;
            return login::login(server, name.clone(), out).await;
        }
        Some(Command::Logout) => return login::logout(out).await,
        Some(Command::Agent(agent::AgentCommand::Passwd)) => return login::passwd(out).await,
        _ => {}
    }
    // Through a floor server unless a database is named outright (an admin on the database).
    let floor_server = match (&cli.server, &cli.database) {
        (Some(server), _) => Some(server.clone()),
        (None, Some(_)) => None,
        (None, None) => config.floor_server().map(str::to_string),
    }
    .filter(|_| !matches!(cli.command, Some(Command::Serve(_) | Command::Demo { .. })));
    if let (
        Some(server),
        Some(Command::Offline(offline::OfflineCommand::Checkout(_) | offline::OfflineCommand::Sync { .. })),
    ) = (&floor_server, &cli.command)
    {
        let Some(Command::Offline(cmd)) = cli.command else {
            unreachable!("matched just above")
        };
        return offline::run_via_server(cmd, server, out).await;
    }
    // Checking a backup file needs no database.
    if let Some(Command::Backup(backup::BackupArgs {
        command: Some(backup::BackupCommand::Verify { file }),
        ..
    })) = &cli.command
    {
        return backup::run_verify(file, out);
    }
    let region = cli
        .region
        .clone()
        .or(config.region.clone())
        .unwrap_or_else(|| crate::config::DEFAULT_REGION.into());
    let agent_name = cli.agent.clone().or(config.agent.clone());
    if let Some(Command::Offline(
        cmd @ (offline::OfflineCommand::Open { .. } | offline::OfflineCommand::Status { .. }),
    )) = &cli.command
    {
        let floor = cli.database.clone().or(config.database.clone());
        return offline::run_on_copy(cmd, &config, floor.as_deref(), out, region).await;
    }
    if let Some(Command::Demo { leads, yes }) = cli.command {
        return console::demo(&config, agent_name, region, leads, yes).await;
    }
    if let Some(server) = floor_server {
        let (store, agent) = through_server(&server, cli.agent.as_deref()).await?;
        let ctx = Ctx {
            store,
            out,
            agent_name: Some(agent),
            region,
        };
        return run_on(ctx, cli.command, &config, false).await;
    }
    let configured = cli.database.clone().or(config.database.clone());
    let local_default = configured.is_none();
    let url = configured.unwrap_or_else(crate::config::default_database_url);
    if let Some(Command::Serve(args)) = &cli.command {
        return serve::run(&url, args.settings(&config.serve_settings()), region).await;
    }
    let opens_console = matches!(cli.command, None | Some(Command::Supervise));
    let options = ConnectOptions {
        // A console waits in sight of the agent (see `tui::connecting`), not on a blank screen.
        acquire_timeout: if opens_console {
            std::time::Duration::from_secs(3)
        } else {
            ConnectOptions::default().acquire_timeout
        },
        ..ConnectOptions::default()
    };
    let store = match Store::connect(&url, &options).await {
        Ok(store) => store,
        // The console opens at once and waits for the database in sight of the agent.
        Err(e) if opens_console && crate::tui::connecting::is_unreachable(&e) && std::io::stdout().is_terminal() => {
            match crate::tui::connecting::wait_for_database(&url, &options, e).await? {
                Some(store) => store,
                None => return Ok(()),
            }
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(database = store.describe(), "connected");
    // Schema commands manage migrations themselves; everything else brings the schema up to date,
    // which is how a fresh SQLite file becomes usable on first run.
    // A backup records the database as it is (and is what to take before an upgrade), and a
    // restore verifies its file before it creates anything: both leave migrating to themselves.
    if !matches!(
        cli.command,
        Some(Command::Db(_) | Command::Backup(_) | Command::Restore { .. } | Command::Doctor)
    ) {
        store.migrate().await?;
    }
    let ctx = Ctx {
        store,
        out,
        agent_name,
        region,
    };
    run_on(ctx, cli.command, &config, local_default).await
}

/// Opens the floor server `server` with the session `coldcall login` saved for it; answers the
/// store and the session's agent. `--agent` naming someone else is refused: who acts is the
/// session's business, not a flag's.
async fn through_server(server: &str, agent_flag: Option<&str>) -> Result<(Store, String), CliError> {
    let saved = login::load_session()
        .filter(|s| s.server.trim_end_matches('/') == server.trim_end_matches('/'))
        .ok_or_else(|| {
            CliError::Usage(format!(
                "not logged in to {server}: run coldcall login --server {server}"
            ))
        })?;
    let remote = match crate::store::remote::RemoteStore::from_saved(&saved).await {
        Ok(remote) => remote,
        Err(StoreError::SessionEnded(why)) => {
            return Err(CliError::Usage(format!("your session with {server} has ended ({why})")))
        }
        Err(e) => return Err(e.into()),
    };
    let me = remote.agent();
    if let Some(other) = agent_flag.filter(|name| *name != me.name) {
        return Err(CliError::Usage(format!(
            "through the floor server you act as {} (the logged-in session), not as {other}: \
             log in as {other} to act as them",
            me.name
        )));
    }
    tracing::info!(server = %remote.server(), agent = %me.name, "working through the floor server");
    Ok((Store::on_server(remote), me.name))
}

/// Runs the command (the console without one) on the open store.
async fn run_on(
    ctx: Ctx,
    command: Option<Command>,
    config: &crate::config::Config,
    local_default: bool,
) -> Result<(), CliError> {
    let config = config.clone();
    let result = match command {
        None => console::open(&ctx, &config, local_default, false).await,
        Some(Command::Supervise) => console::open(&ctx, &config, local_default, true).await,
        Some(Command::Db(cmd)) => db::run(&ctx, cmd).await,
        Some(Command::Agent(cmd)) => agent::run(&ctx, cmd).await,
        Some(Command::Lead(cmd)) => lead::run(&ctx, cmd).await,
        Some(Command::Call(cmd)) => call::run_call(&ctx, cmd).await,
        Some(Command::Calls(cmd)) => call::run_calls(&ctx, cmd).await,
        Some(Command::Queue(cmd)) => call::run_queue(&ctx, cmd).await,
        Some(Command::Callback(cmd)) => call::run_callback(&ctx, cmd).await,
        Some(Command::Dnc(cmd)) => dnc::run(&ctx, cmd).await,
        Some(Command::Import(args)) => import::run(&ctx, args).await,
        Some(Command::Export(cmd)) => export::run(&ctx, cmd).await,
        Some(Command::Settings(cmd)) => settings::run(&ctx, cmd).await,
        Some(Command::Stats(args)) => stats::run(&ctx, args).await,
        Some(Command::Doctor) => doctor::run(&ctx).await,
        Some(Command::Backup(args)) => backup::run_backup(&ctx, args).await,
        Some(Command::Restore { file }) => backup::run_restore(&ctx, &file).await,
        Some(Command::Gdpr(cmd)) => gdpr::run(&ctx, cmd).await,
        Some(Command::Offline(cmd)) => offline::run(&ctx, cmd).await,
        Some(Command::Script(cmd)) => script::run(&ctx, cmd).await,
        Some(
            Command::Demo { .. } | Command::Config(_) | Command::Serve(_) | Command::Login { .. } | Command::Logout,
        ) => Ok(()),
    };
    ctx.store.close().await;
    result
}

/// The lead named on the command line by its id or an unambiguous prefix of it (as git takes a
/// commit's): "no lead matches …" or "ambiguous: … matches lead A and B" otherwise.
pub async fn lead_id(ctx: &Ctx, text: &str) -> Result<uuid::Uuid, CliError> {
    if let Ok(id) = uuid::Uuid::parse_str(text.trim()) {
        return Ok(id);
    }
    let found = ctx
        .store
        .leads_by_id_prefix(text, 2)
        .await
        .map_err(prefix_error("lead"))?;
    crate::domain::ids::pick_one("lead", text, found, |l| l.id)
        .map(|l| l.id)
        .map_err(CliError::Usage)
}

/// The call named on the command line by its id or an unambiguous prefix of it.
pub async fn call_id(ctx: &Ctx, text: &str) -> Result<uuid::Uuid, CliError> {
    if let Ok(id) = uuid::Uuid::parse_str(text.trim()) {
        return Ok(id);
    }
    let found = ctx
        .store
        .calls_by_id_prefix(text, 2)
        .await
        .map_err(prefix_error("call"))?;
    crate::domain::ids::pick_one("call", text, found, |c| c.id)
        .map(|c| c.id)
        .map_err(CliError::Usage)
}

/// The open callback named by its id or an unambiguous prefix of it (on a deleted lead too):
/// an agent's prefix names one of their own (the only ones an agent may handle through the
/// server), a supervisor's or the admin shell's anyone's.
pub async fn callback_id(ctx: &Ctx, text: &str) -> Result<uuid::Uuid, CliError> {
    if let Ok(id) = uuid::Uuid::parse_str(text.trim()) {
        return Ok(id);
    }
    let whose = match ctx.actor().await? {
        Some(a) if authorize(&a.name, a.role, Permission::HandCallback).is_err() => Some(a.id),
        _ => None,
    };
    let found = ctx
        .store
        .callbacks_by_id_prefix(text, whose, 2)
        .await
        .map_err(prefix_error("callback"))?;
    crate::domain::ids::pick_one("callback", text, found, |c| c.id)
        .map(|c| c.id)
        .map_err(CliError::Usage)
}

fn prefix_error(what: &'static str) -> impl Fn(StoreError) -> CliError {
    move |e| match e {
        StoreError::BadInput(why) => CliError::Usage(format!("{what}: {why}")),
        e => e.into(),
    }
}
