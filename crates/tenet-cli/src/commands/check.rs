//! `tenet check`: the CI gate. The migrations directory must match its sum file, the schema
//! files must hold nothing the migrations do not build, and (with --url) the database must be
//! migrated and undrifted.

use std::path::PathBuf;

use tenet_migrate::run::{self, State};

use super::migrate::failure;
use crate::failure::Failure;
use crate::source::ScratchServer;
use crate::ServerArgs;

#[derive(clap::Args)]
pub struct Args {
    /// The configuration file (default: ./tenet.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub servers: ServerArgs,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let config = tenet_config::Config::load(args.config.as_deref())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let dir = config.migrations_dir();
    let scratch = ScratchServer::new(&args.servers);
    let migrations = run::load_checked(&dir).map_err(failure)?;
    let mut problems = Vec::new();
    let pending_changes =
        tenet_migrate::author::pending_model_changes(scratch.lazy(), &dir, &config.schema_path())
            .map_err(failure)?;
    if !pending_changes.is_empty() {
        problems.push(format!(
            "pending model changes: the schema files hold changes no migration captures; run \
             `tenet migrate new NAME`. The missing migration:\n{}",
            pending_changes.to_sql().trim_end()
        ));
    }
    if let Some(url) = &args.servers.url {
        let mut client = tenet_pg::Server::from_url(url)?.connect()?;
        let applied = tenet_migrate::history::read(&mut client).map_err(failure)?;
        let expected = run::verify_history(&migrations, &applied, &dir).map_err(failure)?;
        tenet_migrate::replay::check_drift(&mut client, scratch.lazy(), &expected)
            .map_err(failure)?;
        let pending: Vec<String> = run::status(&mut client, &dir)
            .map_err(failure)?
            .into_iter()
            .filter(|l| matches!(l.state, State::Pending | State::Partial(_)))
            .map(|l| format!("{}_{}", l.version, l.name))
            .collect();
        if !pending.is_empty() {
            problems.push(format!(
                "the database has {} pending migration(s): {}; run `tenet migrate apply`",
                pending.len(),
                pending.join(", ")
            ));
        }
    }
    if problems.is_empty() {
        println!(
            "ok: {} migration(s), sum file current, no pending model changes{}",
            migrations.len(),
            if args.servers.url.is_some() {
                ", database migrated and undrifted"
            } else {
                ""
            }
        );
        return Ok(0);
    }
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    Ok(1)
}
