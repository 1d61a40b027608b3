//! `tenet fleet`: one migrations directory applied to every target of `[fleet]` in tenet.toml
//! (databases, or tenant schemas of one database), their versions, and their drift.
//!
//! Exit codes: 0 every target fine, 1 some target failed (apply) or has pending migrations,
//! drift or could not be read (check), 2 bad input (no `[fleet]`, a bad migrations
//! directory or control query), 3 the control database unreachable.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tenet_migrate::fleet::apply::{FleetOptions, Outcome, Status};
use tenet_migrate::fleet::{self, report};
use tenet_migrate::run::ApplyOptions;

use super::migrate::{existing_dir, failure, Format};
use crate::failure::Failure;
use crate::source::ScratchServer;
use crate::ServerArgs;

/// Targets worked on at once when neither --parallel nor `[fleet] parallel` says.
const DEFAULT_PARALLEL: usize = 4;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
    /// The configuration file (default: ./tenet.toml when present), with [fleet].
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Output: a report for a person, or JSON on standard output (errors too).
    #[arg(long, value_enum, global = true, default_value_t = Format::Human)]
    pub format: Format,
    /// Targets worked on at once, and so the most connections open (default: [fleet]
    /// parallel, else 4).
    #[arg(long, global = true)]
    pub parallel: Option<usize>,
    #[command(flatten)]
    pub servers: ServerArgs,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Bring every target to the latest migration, each once under its own lock.
    Apply {
        /// Apply to the first N targets first; if one fails, stop everything.
        #[arg(long, default_value_t = 0)]
        canary: usize,
        /// Go on with the other targets after one fails (default: start no new target).
        #[arg(long)]
        continue_on_error: bool,
        /// How long a statement waits for a lock (default: [migrations] lock_timeout, else 5s).
        #[arg(long)]
        lock_timeout: Option<String>,
        /// How many times a migration that timed out on a lock is retried, per target.
        #[arg(long, default_value_t = 3)]
        retries: u32,
    },
    /// The version of every target, grouped ("970 at 20260101_x, 30 at ...").
    Status,
    /// Pending migrations and drift on every target, against one replay of the migrations.
    Check,
}

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

fn run_command(args: Args) -> Result<i32, Failure> {
    let config = tenet_config::Config::load(args.config.as_deref())
        .map_err(|e| Failure::usage(e.to_string()))?;
    tenet_migrate::replay::exclude_from_drift(&config.schema.exclude);
    let Some(fleet_config) = config.fleet.as_ref() else {
        return Err(Failure::usage(
            "no [fleet] in tenet.toml: list the targets (`urls`, a `query` on a `control_url`, \
             or `url` + `schemas`); see the README",
        ));
    };
    let parallel = args
        .parallel
        .or(fleet_config.parallel)
        .unwrap_or(DEFAULT_PARALLEL);
    if parallel == 0 {
        return Err(Failure::usage("--parallel must be at least 1"));
    }
    let dir = existing_dir(&config)?;
    let targets =
        fleet::resolve(fleet_config.targets(), args.servers.url.as_deref()).map_err(failure)?;
    let scratch = ScratchServer::with_config(&args.servers, &config);
    let json = args.format == Format::Json;
    let emit = |human: String, value: serde_json::Value| {
        if json {
            super::print(&format!("{value:#}\n"))
        } else {
            super::print(&human)
        }
    };
    match args.command {
        Command::Apply {
            canary,
            continue_on_error,
            lock_timeout,
            retries,
        } => {
            let options = FleetOptions {
                parallel,
                canary,
                continue_on_error,
                apply: ApplyOptions {
                    lock_timeout: lock_timeout
                        .or_else(|| config.migrations.lock_timeout.clone())
                        .unwrap_or_else(|| tenet_diff::LOCK_TIMEOUT.to_string()),
                    retries,
                    ..ApplyOptions::default()
                },
            };
            let interrupted = Arc::new(AtomicBool::new(false));
            let flag = interrupted.clone();
            tenet_pg::interrupt_gracefully(move || {
                flag.store(true, Ordering::SeqCst);
                eprintln!(
                    "interrupted: no new target starts; the migrations in flight finish (or roll \
                     back) and the report follows. Interrupt again to stop at once (the server \
                     rolls back the open transactions)."
                );
            });
            let bar = progress_bar(targets.len(), !json);
            let started = Instant::now();
            let on_outcome = |outcome: &Outcome| {
                if let Some(bar) = &bar {
                    bar.inc_failed(outcome.status == Status::Failed);
                }
            };
            let outcomes = fleet::apply::apply(
                &targets,
                &dir,
                scratch.lazy(),
                &options,
                &interrupted,
                &on_outcome,
            )
            .map_err(failure)?;
            if let Some(bar) = bar {
                bar.finish();
            }
            let elapsed = started.elapsed();
            emit(
                report::apply_human(&outcomes, elapsed),
                report::apply_json(&outcomes, elapsed),
            )?;
            let all_ok = outcomes
                .iter()
                .all(|o| matches!(o.status, Status::Applied | Status::UpToDate));
            Ok(if all_ok { 0 } else { 1 })
        }
        Command::Status => {
            let standings = fleet::status::status(&targets, &dir, parallel).map_err(failure)?;
            emit(
                report::status_human(&standings),
                report::status_json(&standings),
            )?;
            Ok(if standings.iter().all(|s| s.error.is_none()) {
                0
            } else {
                1
            })
        }
        Command::Check => {
            let checks =
                fleet::check::check(&targets, &dir, scratch.lazy(), parallel).map_err(failure)?;
            emit(report::check_human(&checks), report::check_json(&checks))?;
            Ok(if checks.iter().all(|c| c.is_clean()) {
                0
            } else {
                1
            })
        }
    }
}

/// The progress bar of `fleet apply`: on a terminal only (standard error), never in JSON mode.
struct Bar {
    bar: indicatif::ProgressBar,
    failed: std::sync::atomic::AtomicUsize,
}

impl Bar {
    fn inc_failed(&self, failed: bool) {
        if failed {
            let n = self.failed.fetch_add(1, Ordering::SeqCst) + 1;
            self.bar.set_message(format!("{n} failed"));
        }
        self.bar.inc(1);
    }

    fn finish(self) {
        self.bar.finish_and_clear();
    }
}

fn progress_bar(total: usize, wanted: bool) -> Option<Bar> {
    if !wanted || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    let style = indicatif::ProgressStyle::with_template(
        "{bar:40} {pos}/{len} targets done, {msg} ({per_sec}, ETA {eta})",
    )
    .expect("a valid template");
    bar.set_style(style);
    bar.set_message("0 failed");
    Some(Bar {
        bar,
        failed: Default::default(),
    })
}
