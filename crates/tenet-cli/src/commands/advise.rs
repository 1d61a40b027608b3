//! `tenet advise`: rules over a live database (catalog and statistics), plus every tenancy rule
//! when `tenet.toml` has a `[tenancy]` section.

use std::path::PathBuf;

use tenet_config::Config;
use tenet_lint::rules::{self, Scope};
use tenet_lint::Settings;
use tenet_pg::Server;
use tenet_report::{RuleInfo, Sources};

use crate::commands::lint::{emit, Format};
use crate::failure::Failure;
use crate::ServerArgs;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The configuration file (default: ./tenet.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub servers: ServerArgs,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let config = Config::load(args.config.as_deref()).map_err(|e| Failure::usage(e.to_string()))?;
    let (settings, _) = Settings::from_config(&config.lint).map_err(Failure::usage)?;
    let Some(url) = args.servers.url.as_deref().filter(|u| !u.trim().is_empty()) else {
        return Err(Failure::usage(
            "nothing to advise on: give --url (or set DATABASE_URL)",
        ));
    };
    let server = Server::from_url(url)?;
    let mut client = server.connect()?;
    let mut catalog = tenet_catalog::inspect(&mut client)?;
    // What `[schema] exclude` names is managed elsewhere: no advice on it. (Tenancy findings
    // below are on what is left; `tenet tenancy check` and `prove` judge everything.)
    tenet_catalog::exclude::exclude(
        &mut catalog,
        |s, n| config.schema.excludes(s, n),
        |s| config.schema.excludes_schema(s),
    );
    let mut usage = tenet_lint::index_usage(&mut client).map_err(tenet_catalog::Error::from)?;
    usage.min_days = settings.unused_index_min_days;
    if let Some(note) = usage.note() {
        eprintln!("note: {note}");
    }
    let mut findings = tenet_lint::advise(&catalog, Some(&usage));
    let mut rule_infos = rules::rule_infos(Some(Scope::Advise));
    if let Some(tenancy) = &config.tenancy {
        let model = tenet_tenancy::Model::new(&catalog, tenancy);
        findings.extend(tenet_tenancy::check(&model));
        rule_infos.extend(
            tenet_tenancy::check::RULES
                .iter()
                .map(|(id, severity, summary)| RuleInfo {
                    id: id.to_string(),
                    severity: *severity,
                    summary: summary.to_string(),
                    help: format!(
                        "Tenancy rule: {summary}. See `tenet tenancy check` for the policy Tenet expects."
                    ),
                }),
        );
    }
    let mut findings = settings.apply(findings);
    tenet_report::sort(&mut findings);
    // SARIF results about database objects need a file for code scanning: the project's
    // configuration stands for the database.
    let fallback = args
        .config
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| tenet_config::FILE_NAME.to_string());
    emit(
        &findings,
        &Sources::new(),
        args.format,
        &rule_infos,
        Some(&fallback),
        "tenet advise",
    )?;
    Ok(tenet_report::exit_code(&findings))
}
