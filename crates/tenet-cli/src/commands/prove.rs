//! `tenet prove`: show on a live server that no tenant sees another's rows: two synthetic
//! tenants, probes as the app role, one transaction that is always rolled back.

use std::path::PathBuf;

use tenet_pg::Server;
use tenet_tenancy::prove;

use crate::commands::tenancy::load_tenancy;
use crate::failure::Failure;
use crate::source::Source;
use crate::ServerArgs;

#[derive(clap::Args)]
pub struct Args {
    /// Schema files (`.sql` file or directory) to load into a scratch database and prove
    /// there, or a postgres:// URL. Default: the database of --url.
    pub source: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The configuration file (default: ./tenet.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Also write the probes as tests: `--emit pgtap FILE` writes a pgTAP file that
    /// `pg_prove -d <database> FILE` runs (plants the rows, probes, rolls back).
    #[arg(long, num_args = 2, value_names = ["KIND", "FILE"])]
    pub emit: Option<Vec<String>>,
    #[command(flatten)]
    pub servers: ServerArgs,
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum Format {
    /// The matrix (object x probe), then every leak and untested probe with its reason.
    Human,
    /// The report as JSON.
    Json,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let (config, tenancy) = load_tenancy(args.config.as_deref())?;
    let emit = match args.emit.as_deref() {
        None => None,
        Some([kind, file]) if kind == "pgtap" => Some(PathBuf::from(file)),
        Some([kind, _]) => {
            return Err(Failure::usage(format!(
                "--emit {kind}: the only kind is pgtap (--emit pgtap FILE)"
            )))
        }
        Some(_) => {
            return Err(Failure::usage(
                "--emit takes a kind and a file: --emit pgtap FILE",
            ))
        }
    };
    let source = match (&args.source, &args.servers.url) {
        (Some(s), _) => Source::parse(s),
        (None, Some(url)) if !url.trim().is_empty() => Source::Url(url.clone()),
        _ => {
            return Err(Failure::usage(
                "nothing to prove: give --url (or DATABASE_URL), or schema files to load into a scratch database",
            ))
        }
    };
    let fail = |e: prove::ProveError| Failure {
        code: e.exit_code(),
        message: e.to_string(),
    };
    let report = match source {
        Source::Url(url) => {
            let server = Server::from_url(&url)?;
            let mut client = server.connect()?;
            prove::prove(&mut client, &tenancy).map_err(fail)?
        }
        Source::Files(path) => {
            let files = tenet_catalog::source::sql_files(&path)?;
            let scratch = crate::source::ScratchServer::with_config(&args.servers, &config);
            let mut sandbox = scratch.get()?.sandbox()?;
            tenet_catalog::source::apply_files(&mut sandbox, &files)?;
            // The proof runs on the sandbox session too (allowed to bypass RLS and to become
            // the app role), so the schema's triggers and defaults never run privileged.
            sandbox
                .prepare_prover(&tenancy.app_role)
                .map_err(tenet_catalog::Error::from)?;
            let report = prove::prove(sandbox.client(), &tenancy).map_err(fail)?;
            drop(sandbox);
            report
        }
    };
    let text = match args.format {
        Format::Human => prove::to_human(&report),
        Format::Json => {
            let mut json = serde_json::to_string_pretty(&report)
                .map_err(|e| Failure::usage(format!("cannot serialize the report: {e}")))?;
            json.push('\n');
            json
        }
    };
    if let Some(path) = emit {
        std::fs::write(&path, &report.pgtap)
            .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?;
    }
    super::print(&text)?;
    Ok(report.exit_code())
}
