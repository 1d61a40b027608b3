//! `tenet lint`: lint migration files, replaying them on a scratch database so each migration is
//! judged against the schema it will really run on and its locks are observed; with `--url`,
//! against the facts (and table sizes) of the database it will run on.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use tenet_config::Config;
use tenet_lint::rules::{self, Scope};
use tenet_lint::{lint_files, FactsSource, Options, Report, Settings, SourceFile};
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
    /// Lint the files without replaying them on a scratch database (with --url, against the
    /// target database's facts only).
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
        // Only diagnostics for a person quote the source (a 50 MB file is not copied twice).
        if p.lint && args.format == Format::Human {
            sources.insert(name.clone(), text.clone());
        }
        files.push(SourceFile {
            name,
            path: p.path,
            text,
            lint: p.lint,
        });
    }

    let options = Options {
        tenancy: config.tenancy.as_ref(),
        sizes: settings.sizes,
        ..Options::default()
    };
    // The database the migrations will run on: read, never written.
    let target = match args.servers.url.as_deref().filter(|u| !u.trim().is_empty()) {
        Some(url) => {
            let mut client = Server::from_url(url)?.connect()?;
            Some(tenet_lint::Facts::load_target(&mut client).map_err(tenet_catalog::Error::from)?)
        }
        None => None,
    };
    let report = if args.offline {
        lint_files(&files, None, target.as_ref(), options)?
    } else {
        let configured = args
            .servers
            .dev_url
            .as_deref()
            .is_some_and(|u| !u.trim().is_empty())
            || config.dev_url.is_some();
        let scratch = crate::source::ScratchServer::with_config(&args.servers, &config);
        match scratch.lazy().get() {
            Ok(server) => {
                let mut sandbox = tenet_lint::migrations::open_replay(server)?;
                let report = lint_files(&files, Some(&mut sandbox), target.as_ref(), options)?;
                drop(sandbox);
                report
            }
            // No server configured and none could be started: lint what the files say.
            Err(e) if !configured => {
                eprintln!(
                    "warning: cannot replay the migrations ({e}); linting without the replay (pass --offline to skip it, or --dev-url)"
                );
                lint_files(&files, None, target.as_ref(), options)?
            }
            Err(e) => return Err(e.into()),
        }
    };
    for note in notes(&report) {
        eprintln!("note: {note}");
    }
    let mut findings = settings.apply(report.findings.clone());
    tenet_report::sort(&mut findings);
    let linted = files.iter().filter(|f| f.lint).count();
    emit(
        &findings,
        &sources,
        args.format,
        &rules::rule_infos(Some(Scope::Lint)),
        None,
        &format!(
            "tenet lint: {linted} file{}, {}",
            if linted == 1 { "" } else { "s" },
            facts_summary(&report)
        ),
    )?;
    Ok(tenet_report::exit_code(&findings))
}

/// `facts from the replay` / `facts from the SQL alone (2), the replay (1)`.
fn facts_summary(report: &Report) -> String {
    let short = |s: &FactsSource| match s {
        FactsSource::Replay => "the replay",
        FactsSource::Target => "the target database",
        FactsSource::Static => "the SQL alone",
    };
    let mut counts: Vec<(&FactsSource, usize)> = Vec::new();
    for file in &report.files {
        match counts.iter_mut().find(|(s, _)| *s == &file.facts) {
            Some((_, n)) => *n += 1,
            None => counts.push((&file.facts, 1)),
        }
    }
    match counts.as_slice() {
        [] => "no facts".to_string(),
        [(source, _)] => format!("facts from {}", short(source)),
        many => format!(
            "facts from {}",
            many.iter()
                .map(|(s, n)| format!("{} ({n})", short(s)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Why files were linted without the replay (once per reason).
fn notes(report: &Report) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for file in &report.files {
        if let Some(note) = &file.note {
            let line = format!(
                "{note}; {} and later files were linted with facts from {}",
                file.name, file.facts
            );
            if !out.iter().any(|o| o.starts_with(note.as_str())) {
                out.push(line);
            }
        }
    }
    out
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
