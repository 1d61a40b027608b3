//! `tenet check`: the CI gate. The migrations directory must match its sum file, the schema
//! files must hold nothing the migrations do not build, and (with --url) the database must be
//! migrated and undrifted.

use std::path::PathBuf;

use tenet_migrate::run::{self, State};

use super::migrate::{existing_dir, failure, Format};
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
    /// Output: human-readable text, or JSON on standard output.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let format = args.format;
    let result = checked(&args);
    if format == Format::Human {
        let problems = result?;
        for problem in &problems.problems {
            eprintln!("error: {problem}");
        }
        if problems.problems.is_empty() {
            println!("{}", problems.summary);
        }
        return Ok(if problems.problems.is_empty() { 0 } else { 1 });
    }
    let json = match &result {
        Ok(report) => serde_json::json!({
            "ok": report.problems.is_empty(),
            "migrations": report.migrations,
            "problems": report.problems,
        }),
        Err(failure) => serde_json::json!({
            "error": { "code": failure.code, "message": failure.message }
        }),
    };
    super::print(&format!("{json:#}\n"))?;
    let report = result?;
    Ok(if report.problems.is_empty() { 0 } else { 1 })
}

/// What the check found: every problem (empty when all is well) and the one-line summary.
struct Report {
    migrations: usize,
    problems: Vec<String>,
    summary: String,
}

fn checked(args: &Args) -> Result<Report, Failure> {
    let config = tenet_config::Config::load(args.config.as_deref())
        .map_err(|e| Failure::usage(e.to_string()))?;
    tenet_migrate::replay::exclude_from_drift(&config.schema.exclude);
    let dir = existing_dir(&config)?;
    let scratch = ScratchServer::with_config(&args.servers, &config);
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
        let applied =
            tenet_migrate::history::read(&mut client, &tenet_migrate::history::Scope::Database)
                .map_err(failure)?;
        let mut expected = run::verify_history(&migrations, &applied, &dir).map_err(failure)?;
        run::expected_with_effects(&mut client, &mut expected).map_err(failure)?;
        let recorded =
            tenet_migrate::history::reference(&applied).and_then(|a| a.fingerprint.as_deref());
        tenet_migrate::replay::check_drift(
            &mut client,
            scratch.lazy(),
            &expected,
            recorded,
            &tenet_migrate::history::Scope::Database,
        )
        .map_err(failure)?;
        let pending: Vec<String> = run::status(&mut client, &dir)
            .map_err(failure)?
            .into_iter()
            .filter(|l| {
                matches!(
                    l.state,
                    State::Pending | State::Partial(_) | State::Reverting(_)
                )
            })
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
    let summary = format!(
        "ok: {} migration(s), sum file current, no pending model changes{}",
        migrations.len(),
        if args.servers.url.is_some() {
            ", database migrated and undrifted"
        } else {
            ""
        }
    );
    Ok(Report {
        migrations: migrations.len(),
        problems,
        summary,
    })
}
