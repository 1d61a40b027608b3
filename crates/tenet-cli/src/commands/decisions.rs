//! `tenet decisions add`: a decision log entry for a migration, written on its own (for
//! migrations that were hand-written or predate the log).

use std::path::PathBuf;

use super::migrate::failure;
use crate::failure::Failure;
use crate::source::ScratchServer;
use crate::ServerArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
    /// The configuration file (default: ./tenet.toml when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub servers: ServerArgs,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Append the entry for a migration (default: the newest) to docs/persistence-decisions.md.
    Add {
        version: Option<i64>,
        /// Why the change was made.
        #[arg(long)]
        why: Option<String>,
    },
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let config = tenet_config::Config::load(args.config.as_deref())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let Command::Add { version, why } = args.command;
    let log = config.root.join(tenet_migrate::decisions::DEFAULT_PATH);
    let scratch = ScratchServer::with_config(&args.servers, &config);
    let id = tenet_migrate::author::add_decision(
        scratch.lazy(),
        &config.migrations_dir(),
        version,
        why.as_deref(),
        &log,
    )
    .map_err(failure)?;
    println!("recorded the decision for {id} in {}", log.display());
    Ok(0)
}
