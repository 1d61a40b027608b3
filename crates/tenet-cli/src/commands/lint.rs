//! `tenet lint`: lint migration files, replaying the earlier ones on a scratch database so each
//! migration is judged against the schema it will really run on.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use tenet_config::Config;
use tenet_lint::rules::{self, Scope};
use tenet_lint::{lint_files, Settings, SourceFile};
use tenet_pg::Server;
use tenet_report::{Finding, RuleInfo, Sources};

use crate::failure::Failure;
use crate::ServerArgs;

#[derive(clap::Args)]
pub struct Args {
    /// Migration files or directories. A directory stands for its `.up.sql` files in version
    /// order (else its `.sql` files); a single migration brings the earlier ones of its
    /// directory along, replayed but not linted. Default: the migrations directory of
    /// tenet.toml.
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The configuration file (default: ./tenet.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Lint the files alone, without replaying them on a scratch database.
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub servers: ServerArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Diagnostics for a person, the source line underlined.
    Human,
    /// A JSON array of findings.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other CI dashboards.
    Sarif,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let config = Config::load(args.config.as_deref()).map_err(|e| Failure::usage(e.to_string()))?;
    let (settings, warnings) = Settings::from_config(&config.lint).map_err(Failure::usage)?;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    let paths = if args.paths.is_empty() {
        let dir = config.migrations_dir();
        if !dir.is_dir() {
            return Err(Failure::usage(format!(
                "nothing to lint: {} is not a directory; give migration files or directories",
                dir.display()
            )));
        }
        vec![dir]
    } else {
        args.paths.clone()
    };
    let planned = tenet_lint::migrations::plan(&paths).map_err(|e| Failure {
        code: 3,
        message: format!("cannot read the migrations: {e}"),
    })?;
    if planned.is_empty() {
        return Err(Failure::usage(format!(
            "nothing to lint: no .sql files in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut files = Vec::with_capacity(planned.len());
    let mut sources = Sources::new();
    for p in planned {
        let text = std::fs::read_to_string(&p.path).map_err(|e| Failure {
            code: 3,
            message: format!("cannot read {}: {e}", p.path.display()),
        })?;
        let name = display_name(&p.path);
        if p.lint {
            sources.insert(name.clone(), text.clone());
        }
        files.push(SourceFile {
            name,
            path: p.path,
            text,
            lint: p.lint,
        });
    }

    let tenancy = config.tenancy.as_ref();
    let findings = if args.offline {
        lint_files(&files, None, tenancy)?
    } else {
        let explicit = [args.servers.dev_url.as_deref(), args.servers.url.as_deref()];
        let configured = explicit.iter().flatten().any(|u| !u.trim().is_empty());
        match Server::resolve(&explicit) {
            Ok(server) => {
                let scratch = server.scratch()?;
                let mut client = scratch.connect()?;
                let findings = lint_files(&files, Some(&mut client), tenancy)?;
                drop(client);
                drop(scratch);
                findings
            }
            // No server configured and none could be started: lint what the files say.
            Err(e) if !configured => {
                eprintln!(
                    "warning: cannot replay the migrations ({e}); linting the files alone (pass --offline to skip the replay, or --dev-url)"
                );
                lint_files(&files, None, tenancy)?
            }
            Err(e) => return Err(e.into()),
        }
    };
    let mut findings = settings.apply(findings);
    tenet_report::sort(&mut findings);
    let linted = files.iter().filter(|f| f.lint).count();
    emit(
        &findings,
        &sources,
        args.format,
        &rules::rule_infos(Some(Scope::Lint)),
        None,
        &format!(
            "tenet lint: {linted} file{}",
            if linted == 1 { "" } else { "s" }
        ),
    )?;
    Ok(tenet_report::exit_code(&findings))
}

/// A path as findings name it: as given, without a leading `./`.
fn display_name(path: &Path) -> String {
    let text = path.display().to_string();
    text.strip_prefix("./").map(String::from).unwrap_or(text)
}

/// Print findings in the chosen format. `fallback_uri` is the file SARIF results about
/// database objects point at; `heading` starts the human summary line.
pub fn emit(
    findings: &[Finding],
    sources: &Sources,
    format: Format,
    rules: &[RuleInfo],
    fallback_uri: Option<&str>,
    heading: &str,
) -> Result<(), Failure> {
    let text = match format {
        Format::Json => tenet_report::to_json(findings),
        Format::Sarif => tenet_report::to_sarif(findings, rules, fallback_uri),
        Format::Human => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let mut text = tenet_report::to_human_with(findings, sources, color);
            text.push_str(&format!("{heading}: {}\n", tenet_report::summary(findings)));
            text
        }
    };
    super::print(&text)?;
    Ok(())
}
