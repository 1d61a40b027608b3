//! `tenet migrate`: write, apply, revert and inspect versioned migrations.
//!
//! Exit codes beyond the usual (0 done, 1 nothing to do, 2 usage, 3 database): 4 an applied
//! migration's file changed, 5 `tenet.sum` does not match the directory, 6 an applied version
//! is missing from the directory, 7 a pending migration is older than the newest applied one,
//! 8 the database drifted from its history.

use std::path::PathBuf;

use tenet_migrate::run::{self, Adopt, ApplyOptions, State};
use tenet_migrate::Error;

use crate::failure::Failure;
use crate::source::ScratchServer;
use crate::ServerArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
    /// The configuration file (default: ./tenet.toml when present), for [schema] and
    /// [migrations].
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub servers: ServerArgs,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Write the next migration (up, down, tenet.sum, decision entry) from the schema files.
    New {
        /// What the migration does, in a few words (becomes the file name, in snake case).
        name: String,
        /// Why: the rationale recorded in the decision log.
        #[arg(long)]
        why: Option<String>,
        /// Accept steps that lose data (dropped tables or columns, narrowing types).
        #[arg(long)]
        allow_destructive: bool,
    },
    /// Apply pending migrations to --url, each once, under an advisory lock.
    Apply {
        /// Stop after this version.
        #[arg(long)]
        to: Option<i64>,
        /// Apply pending migrations older than the newest applied one.
        #[arg(long)]
        allow_out_of_order: bool,
        /// How long a statement waits for a lock before the try is abandoned and retried.
        #[arg(long, default_value = tenet_diff::LOCK_TIMEOUT)]
        lock_timeout: String,
        /// How many times a migration that timed out on a lock is retried.
        #[arg(long, default_value_t = 3)]
        retries: u32,
    },
    /// Revert the newest applied migrations with their down files.
    Down {
        /// How many to revert.
        #[arg(default_value_t = 1)]
        count: usize,
    },
    /// Show every migration: applied (when, by whom, how long), partly applied, pending.
    Status,
    /// Record migrations up to VERSION as applied without running them (for a database that
    /// already has them), after checking the schema matches.
    Baseline {
        version: Option<i64>,
        /// Take the version from another tool's history table.
        #[arg(long, value_enum)]
        from: Option<Tool>,
    },
    /// Rewrite tenet.sum after a deliberate edit of a migration that is not yet applied.
    Hash,
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum Tool {
    /// sqlx's _sqlx_migrations.
    Sqlx,
    /// golang-migrate's schema_migrations.
    GolangMigrate,
}

pub fn failure(e: Error) -> Failure {
    Failure {
        code: e.exit_code(),
        message: e.to_string(),
    }
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let config = tenet_config::Config::load(args.config.as_deref())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let dir = config.migrations_dir();
    let scratch = ScratchServer::new(&args.servers);
    let mut progress = |line: String| eprintln!("{line}");
    let connect = || -> Result<postgres::Client, Failure> {
        let url = args.servers.url.as_deref().ok_or_else(|| {
            Failure::usage("this command needs the database: pass --url or set DATABASE_URL")
        })?;
        Ok(tenet_pg::Server::from_url(url)?.connect()?)
    };
    match args.command {
        Command::New {
            name,
            why,
            allow_destructive,
        } => {
            let log = config.root.join(tenet_migrate::decisions::DEFAULT_PATH);
            let written = tenet_migrate::author::new_migration(
                scratch.lazy(),
                &tenet_migrate::author::NewMigration {
                    dir: &dir,
                    schema: &config.schema_path(),
                    name: &name,
                    why: why.as_deref(),
                    allow_destructive,
                    decisions: &log,
                },
            )
            .map_err(failure)?;
            println!("wrote {}", written.up.display());
            println!("wrote {}", written.down.display());
            println!("updated {}", tenet_migrate::sum::path(&dir).display());
            println!("recorded the decision in {}", log.display());
            if why.is_none() {
                eprintln!(
                    "note: the decision's rationale is a placeholder; fill it in, or pass --why"
                );
            }
            Ok(0)
        }
        Command::Apply {
            to,
            allow_out_of_order,
            lock_timeout,
            retries,
        } => {
            let mut client = connect()?;
            let options = ApplyOptions {
                to,
                allow_out_of_order,
                lock_timeout,
                retries,
            };
            let applied = run::apply(&mut client, scratch.lazy(), &dir, &options, &mut progress)
                .map_err(failure)?;
            if applied.is_empty() {
                println!("nothing to apply: the database is up to date");
            } else {
                println!(
                    "applied {} migration(s): {}",
                    applied.len(),
                    applied.join(", ")
                );
            }
            Ok(0)
        }
        Command::Down { count } => {
            let mut client = connect()?;
            let reverted = run::down(&mut client, scratch.lazy(), &dir, count, &mut progress)
                .map_err(failure)?;
            if reverted.is_empty() {
                println!("nothing to revert: no migration is applied");
            } else {
                println!(
                    "reverted {} migration(s): {}",
                    reverted.len(),
                    reverted.join(", ")
                );
            }
            Ok(0)
        }
        Command::Status => {
            let mut client = connect()?;
            let lines = run::status(&mut client, &dir).map_err(failure)?;
            super::print(&status_table(&lines))?;
            Ok(0)
        }
        Command::Baseline { version, from } => {
            let mut client = connect()?;
            let adopt = from.map(|t| match t {
                Tool::Sqlx => Adopt::Sqlx,
                Tool::GolangMigrate => Adopt::GolangMigrate,
            });
            let recorded = run::baseline(
                &mut client,
                scratch.lazy(),
                &dir,
                version,
                adopt,
                &mut progress,
            )
            .map_err(failure)?;
            println!(
                "recorded {} migration(s) as applied without running them: {}",
                recorded.len(),
                recorded.join(", ")
            );
            Ok(0)
        }
        Command::Hash => {
            tenet_migrate::sum::write(&dir).map_err(failure)?;
            println!("wrote {}", tenet_migrate::sum::path(&dir).display());
            Ok(0)
        }
    }
}

fn status_table(lines: &[run::StatusLine]) -> String {
    if lines.is_empty() {
        return "no migrations\n".into();
    }
    let name_width = lines.iter().map(|l| l.name.len()).max().unwrap_or(4).max(4);
    let mut out = format!("{:<16} {:<name_width$} STATE\n", "VERSION", "NAME");
    for line in lines {
        let state = match &line.state {
            State::Applied(a) if a.baseline => {
                format!("applied (baseline) {} by {}", a.applied_at, a.applied_by)
            }
            State::Applied(a) => format!(
                "applied {} by {} in {} ms",
                a.applied_at, a.applied_by, a.duration_ms
            ),
            State::Partial(a) => format!(
                "PARTLY APPLIED: {} of {} segments; `tenet migrate apply` resumes it",
                a.segments_done, a.segments_total
            ),
            State::Pending => "pending".into(),
            State::Changed(_) => "CHANGED since it was applied".into(),
            State::Missing(_) => "applied, but its file is MISSING".into(),
        };
        out.push_str(&format!(
            "{:<16} {:<name_width$} {state}\n",
            line.version, line.name
        ));
    }
    out
}
