//! `tenet migrate`: write, apply, revert and inspect versioned migrations.
//!
//! Exit codes beyond the usual (0 done, 1 nothing to do, 2 usage, 3 database): 4 an applied
//! migration's file changed, 5 `tenet.sum` does not match the directory, 6 an applied version
//! is missing from the directory, 7 a pending migration is older than the newest applied one,
//! 8 the database drifted from its history.

use std::path::PathBuf;

use tenet_migrate::adopt::Tool as Adopt;
use tenet_migrate::run::{self, ApplyOptions, State};
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
    /// Output: human-readable text, or JSON on standard output (errors too, as
    /// `{"error": {"code", "message"}}`).
    #[arg(long, value_enum, global = true, default_value_t = Format::Human)]
    pub format: Format,
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
        /// How long a statement waits for a lock before the try is abandoned and retried
        /// (default: [migrations] lock_timeout, else 5s). A file's own `SET lock_timeout` wins.
        #[arg(long)]
        lock_timeout: Option<String>,
        /// How many times a migration that timed out on a lock is retried.
        #[arg(long, default_value_t = 3)]
        retries: u32,
        /// Apply to one tenant schema of a schema-per-tenant database: `search_path` set to
        /// it, its own history (`<schema>.tenet_migrations`) and lock, as `tenet fleet` does.
        #[arg(long)]
        schema: Option<String>,
    },
    /// Revert the newest applied migrations with their down files.
    Down {
        /// How many to revert.
        #[arg(default_value_t = 1)]
        count: usize,
        /// How long a statement waits for a lock (default: [migrations] lock_timeout, else 5s).
        #[arg(long)]
        lock_timeout: Option<String>,
    },
    /// Show every migration: applied (when, by whom, how long), partly applied, pending.
    Status,
    /// Record migrations up to VERSION as applied without running them (for a database that
    /// already has them), after checking the schema matches. With --from, the other tool's
    /// history must be clean; tools that number migrations give the version, others baseline
    /// the newest migration (see README, "Adopting Tenet").
    Baseline {
        version: Option<i64>,
        /// Take the version from another tool's history table.
        #[arg(long, value_enum)]
        from: Option<Tool>,
    },
    /// Rewrite tenet.sum after a deliberate edit of a migration that is not yet applied.
    Hash,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum Tool {
    /// sqlx's _sqlx_migrations (by version).
    Sqlx,
    /// golang-migrate's schema_migrations (by version; refused when dirty).
    GolangMigrate,
    /// goose's goose_db_version (by version).
    Goose,
    /// dbmate's schema_migrations (by version).
    Dbmate,
    /// The Supabase CLI's supabase_migrations.schema_migrations (by version).
    Supabase,
    /// Flyway's flyway_schema_history (clean history; refused after a failed migration).
    Flyway,
    /// Alembic's alembic_version (one head).
    Alembic,
    /// Prisma's _prisma_migrations (no failed or unfinished migration).
    Prisma,
    /// Drizzle's drizzle.__drizzle_migrations.
    Drizzle,
    /// EF Core's __EFMigrationsHistory.
    Efcore,
}

impl Tool {
    fn adopt(self) -> Adopt {
        match self {
            Tool::Sqlx => Adopt::Sqlx,
            Tool::GolangMigrate => Adopt::GolangMigrate,
            Tool::Goose => Adopt::Goose,
            Tool::Dbmate => Adopt::Dbmate,
            Tool::Supabase => Adopt::Supabase,
            Tool::Flyway => Adopt::Flyway,
            Tool::Alembic => Adopt::Alembic,
            Tool::Prisma => Adopt::Prisma,
            Tool::Drizzle => Adopt::Drizzle,
            Tool::Efcore => Adopt::EfCore,
        }
    }
}

pub fn failure(e: Error) -> Failure {
    Failure {
        code: e.exit_code(),
        message: e.to_string(),
    }
}

/// In JSON mode a failure is also a JSON object on standard output, so a pipeline reading it
/// sees why.
pub fn run(args: Args) -> Result<i32, Failure> {
    let format = args.format;
    run_command(args).inspect_err(|failure| {
        if format == Format::Json {
            let json = serde_json::json!({
                "error": { "code": failure.code, "message": failure.message }
            });
            println!("{json}");
        }
    })
}

/// The migrations directory, which must exist: outside a project there is nothing to apply,
/// revert or list (`tenet init` makes one).
pub fn existing_dir(config: &tenet_config::Config) -> Result<PathBuf, Failure> {
    let dir = config.migrations_dir();
    if dir.is_dir() {
        return Ok(dir);
    }
    Err(Failure::usage(format!(
        "no migrations directory at {}: run `tenet init` to start a project, or point \
         [migrations] dir in tenet.toml (or --config) at it",
        dir.display()
    )))
}

fn print_json(value: serde_json::Value) -> Result<(), Failure> {
    super::print(&format!("{value:#}\n"))
}

fn run_command(args: Args) -> Result<i32, Failure> {
    let config = tenet_config::Config::load(args.config.as_deref())
        .map_err(|e| Failure::usage(e.to_string()))?;
    tenet_migrate::replay::exclude_from_drift(&config.schema.exclude);
    let json = args.format == Format::Json;
    let lock_timeout = |flag: Option<String>| {
        flag.or_else(|| config.migrations.lock_timeout.clone())
            .unwrap_or_else(|| tenet_diff::LOCK_TIMEOUT.to_string())
    };
    let dir = match args.command {
        Command::New { .. } | Command::Hash => config.migrations_dir(),
        _ => existing_dir(&config)?,
    };
    let scratch = ScratchServer::with_config(&args.servers, &config);
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
            if json {
                print_json(serde_json::json!({
                    "up": written.up, "down": written.down,
                    "sum": tenet_migrate::sum::path(&dir), "decisions": log,
                    "plan": written.plan,
                }))?;
                return Ok(0);
            }
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
            lock_timeout: lock_timeout_flag,
            retries,
            schema,
        } => {
            let mut client = connect()?;
            let options = ApplyOptions {
                to,
                allow_out_of_order,
                lock_timeout: lock_timeout(lock_timeout_flag),
                retries,
            };
            let scope = match schema {
                Some(schema) => tenet_migrate::history::Scope::Schema(schema),
                None => tenet_migrate::history::Scope::Database,
            };
            let applied = run::apply_in(
                &mut client,
                scratch.lazy(),
                &dir,
                &options,
                &scope,
                &mut progress,
            )
            .map_err(failure)?;
            if json {
                print_json(serde_json::json!({ "applied": applied }))?;
            } else if applied.is_empty() {
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
        Command::Down {
            count,
            lock_timeout: lock_timeout_flag,
        } => {
            let mut client = connect()?;
            let reverted = run::down(
                &mut client,
                scratch.lazy(),
                &dir,
                count,
                &lock_timeout(lock_timeout_flag),
                &mut progress,
            )
            .map_err(failure)?;
            if json {
                print_json(serde_json::json!({ "reverted": reverted }))?;
            } else if reverted.is_empty() {
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
            if json {
                print_json(status_json(&lines))?;
            } else {
                super::print(&status_table(&lines))?;
            }
            Ok(0)
        }
        Command::Baseline { version, from } => {
            let mut client = connect()?;
            let adopt = from.map(Tool::adopt);
            let recorded = run::baseline(
                &mut client,
                scratch.lazy(),
                &dir,
                version,
                adopt,
                &mut progress,
            )
            .map_err(failure)?;
            if json {
                print_json(serde_json::json!({ "baseline": recorded }))?;
                return Ok(0);
            }
            println!(
                "recorded {} migration(s) as applied without running them: {}",
                recorded.len(),
                recorded.join(", ")
            );
            Ok(0)
        }
        Command::Hash => {
            tenet_migrate::sum::write(&dir).map_err(failure)?;
            if json {
                print_json(serde_json::json!({ "sum": tenet_migrate::sum::path(&dir) }))?;
                return Ok(0);
            }
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
            State::Reverting(a) => format!(
                "PARTLY REVERTED: {} segment(s) of its down file done; `tenet migrate down` \
                 resumes it",
                a.down_done.unwrap_or(0)
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

fn status_json(lines: &[run::StatusLine]) -> serde_json::Value {
    let migrations: Vec<serde_json::Value> = lines
        .iter()
        .map(|line| {
            let (state, applied) = match &line.state {
                State::Applied(a) => ("applied", Some(a)),
                State::Partial(a) => ("partly_applied", Some(a)),
                State::Reverting(a) => ("partly_reverted", Some(a)),
                State::Pending => ("pending", None),
                State::Changed(a) => ("changed", Some(a)),
                State::Missing(a) => ("missing", Some(a)),
            };
            let mut value = serde_json::json!({
                "version": line.version, "name": line.name, "state": state,
            });
            if let Some(a) = applied {
                value["applied_at"] = a.applied_at.clone().into();
                value["applied_by"] = a.applied_by.clone().into();
                value["duration_ms"] = a.duration_ms.into();
                value["segments_done"] = a.segments_done.into();
                value["segments_total"] = a.segments_total.into();
                value["baseline"] = a.baseline.into();
                value["down_done"] = a.down_done.into();
            }
            value
        })
        .collect();
    serde_json::json!({ "migrations": migrations })
}
