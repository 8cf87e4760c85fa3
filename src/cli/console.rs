//! Opening the console: the configured database, or a fresh demo one; and `config path`.

use clap::Subcommand;

use super::{CliError, Ctx, Output};
use crate::config::Config;
use crate::domain::authority::{authorize, Permission};
use crate::domain::Role;
use crate::store::{Agent, ConnectOptions, NewAgent, Store, StoreError};
use crate::tui::app::App;
use crate::tui::keymap::Keymap;
use crate::tui::view::Theme;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the config file's path (it is written with comments on first run)
    Path,
}

pub fn config_command(cmd: &ConfigCommand, out: Output) -> Result<(), CliError> {
    match cmd {
        ConfigCommand::Path => {
            let path = crate::config::config_path();
            crate::config::load().map_err(CliError::Usage)?;
            out.show(&serde_json::json!({ "path": path }), || path.display().to_string());
        }
    }
    Ok(())
}

pub async fn open(ctx: &Ctx, config: &Config, local_default: bool, supervise: bool) -> Result<(), CliError> {
    let agent = match ctx.agent_name.as_deref() {
        Some(name) => ctx.agent_named(name).await?,
        // Working alone on the local file: the computer's user is the agent.
        None if local_default => local_agent(&ctx.store).await?,
        None => {
            return Err(CliError::Usage(
                "which agent are you? pass --agent NAME, set COLDCALL_AGENT, or set agent in the config file".into(),
            ))
        }
    };
    if supervise {
        authorize(&agent.name, agent.role, Permission::WatchFloor).map_err(|e| CliError::Usage(e.to_string()))?;
    }
    run_console(ctx.store.clone(), agent, config, ctx.region.clone(), supervise, None).await
}

/// The console on an offline copy, as its agent; `O` syncs it over `floor_link` when there is one.
pub async fn open_copy(
    ctx: &Ctx,
    config: &Config,
    floor_link: Option<crate::offline_link::FloorLink>,
) -> Result<(), CliError> {
    let name = ctx.agent_name.as_deref().unwrap_or_default();
    let agent = ctx.agent_named(name).await?;
    run_console(ctx.store.clone(), agent, config, ctx.region.clone(), false, floor_link).await
}

async fn local_agent(store: &Store) -> Result<Agent, CliError> {
    let name = std::env::var("USER")
        .ok()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "agent".into());
    if let Some(agent) = store.agent_by_name(&name).await? {
        return Ok(agent);
    }
    Ok(store
        .add_agent(&NewAgent {
            name,
            email: None,
            role: Role::Agent,
        })
        .await?)
}

/// A fresh demo database in the data directory: seeded, then opened as the demo agent alice.
/// An earlier demo is replaced only when the user says so (or passes `--yes`); declining opens
/// the earlier one as it was left.
pub async fn demo(
    config: &Config,
    agent_name: Option<String>,
    region: String,
    leads: u64,
    yes: bool,
) -> Result<(), CliError> {
    let path = crate::config::data_dir().join("demo.db");
    let url = format!("sqlite://{}", path.display());
    let fresh = !path.exists() || yes || confirm_replace(&path)?;
    if fresh {
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{}{suffix}", path.display());
            if std::path::Path::new(&file).exists() {
                std::fs::remove_file(&file).map_err(|e| CliError::Usage(format!("cannot replace {file}: {e}")))?;
            }
        }
    }
    let store = Store::connect(&url, &ConnectOptions::default()).await?;
    store.migrate().await?;
    if fresh {
        eprintln!("preparing a demo floor with {leads} leads in {} …", path.display());
        crate::demo::seed(&store, leads).await?;
    }
    eprintln!("the command line and the supervisor's view work on it with --database '{url}'");
    let name = agent_name.unwrap_or_else(|| "alice".into());
    let agent = store
        .agent_by_name(&name)
        .await?
        .ok_or_else(|| StoreError::not_found("agent", &name))?;
    let result = run_console(store.clone(), agent, config, region, false, None).await;
    store.close().await;
    result
}

/// Asks on the terminal whether to replace the earlier demo; without a terminal to ask on, the
/// answer must come as `--yes`.
fn confirm_replace(path: &std::path::Path) -> Result<bool, CliError> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(format!(
            "a demo database from an earlier run is at {}; pass --yes to replace it",
            path.display()
        )));
    }
    eprint!(
        "A demo database from an earlier run is at {}.\nReplace it with a fresh one? [y/N] (N opens it as it is) ",
        path.display()
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::Usage(format!("cannot read the answer: {e}")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

async fn run_console(
    store: Store,
    agent: Agent,
    config: &Config,
    region: String,
    supervise: bool,
    floor_link: Option<crate::offline_link::FloorLink>,
) -> Result<(), CliError> {
    let keymap = Keymap::with_overrides(&config.keys).map_err(|e| CliError::Usage(format!("config [keys]: {e}")))?;
    let mut app =
        App::new(agent, store.describe().to_string(), region, keymap, store.now()).supervising(supervise, config.floor);
    app.set_dial(config.dial.as_ref().and_then(|phone| phone.hook()).cloned());
    app.set_softphone(config.dial.as_ref().and_then(|phone| phone.baresip()).cloned());
    app.set_floor_link(floor_link);
    let feed = crate::tui::feed::FeedOptions {
        poll_every: std::time::Duration::from_millis(config.feed_poll_ms.clamp(100, 60_000)),
        notify: true,
    };
    crate::tui::terminal::run(store, app, Theme::from_env(config.color), feed)
        .await
        .map_err(|e| CliError::Usage(format!("terminal error: {e}")))
}
