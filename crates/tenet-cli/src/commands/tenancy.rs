//! `tenet tenancy check` and `tenet tenancy generate`: tenant isolation rules over a catalog,
//! and the SQL that satisfies them. The model (tenant column, setting, app role, global tables)
//! is the `[tenancy]` section of `tenet.toml`.

use std::io::Write;
use std::path::{Path, PathBuf};

use tenet_catalog::Catalog;
use tenet_config::{Config, Tenancy};
use tenet_pg::Server;
use tenet_report::{RuleInfo, Sources};
use tenet_tenancy::{generate, Model};

use crate::commands::lint::{emit, Format};
use crate::failure::Failure;
use crate::source::Source;
use crate::ServerArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Check tenant isolation rules on schema files or a live database (exit 1 on findings).
    Check(CheckArgs),
    /// Write the SQL that makes the schema satisfy every rule it can fix.
    Generate(GenerateArgs),
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// A `.sql` file or directory of them, or a postgres:// URL. Default: --url, else the
    /// schema path of tenet.toml.
    pub source: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Check instead whether the schema can be distributed by the tenant column with Citus:
    /// keys and foreign keys Citus refuses, reference tables pointing at distributed ones,
    /// tenant column types that differ; tables without a tenant column listed as reference
    /// tables (info).
    #[arg(long)]
    pub citus: bool,
    /// The configuration file (default: ./tenet.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub servers: ServerArgs,
}

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// A `.sql` file or directory of them, or a postgres:// URL. Default: --url, else the
    /// schema path of tenet.toml.
    pub source: Option<String>,
    /// Write the SQL to this file instead of standard output.
    #[arg(long, conflicts_with = "write")]
    pub out: Option<PathBuf>,
    /// Append the SQL to the schema files (the last file applied, under [schema] path).
    #[arg(long)]
    pub write: bool,
    /// Write instead the Citus calls that distribute the schema by the tenant column:
    /// create_reference_table for tables without it, then create_distributed_table colocated
    /// with the first (in foreign key order).
    #[arg(long, conflicts_with = "write")]
    pub citus: bool,
    /// The configuration file (default: ./tenet.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// `json`: `{"statements", "sql", "written", "not_fixed": [findings]}` on standard output
    /// (`written`: the file the SQL went to, or null).
    #[arg(long, value_enum, default_value_t = super::ReportFormat::Text)]
    pub format: super::ReportFormat,
    #[command(flatten)]
    pub servers: ServerArgs,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    match args.command {
        Command::Check(a) => check(a),
        Command::Generate(a) => super::reporting(a.format, || generate(a)),
    }
}

/// The `[tenancy]` section, or a usage error that shows the section to add.
pub fn load_tenancy(explicit: Option<&Path>) -> Result<(Config, Tenancy), Failure> {
    let config = Config::load(explicit).map_err(|e| Failure::usage(e.to_string()))?;
    let file = match explicit {
        Some(p) => p.display().to_string(),
        None if Path::new(tenet_config::FILE_NAME).exists() => tenet_config::FILE_NAME.to_string(),
        None => format!(
            "{} (none found in the current directory)",
            tenet_config::FILE_NAME
        ),
    };
    match config.tenancy.clone() {
        Some(t) => Ok((config, t)),
        None => Err(Failure::usage(format!(
            "no [tenancy] section in {file}: Tenet needs to know how data is owned. Add, for example:\n\n\
             [tenancy]\n\
             column = \"tenant_id\"        # or \"user_id\" for per-user apps\n\
             setting = \"app.tenant_id\"   # the setting policies read, set per transaction\n\
             app_role = \"app_user\"       # the role the application connects as\n\
             global_tables = []          # shared reference data, not tenant-scoped\n"
        ))),
    }
}

/// What to read: the argument, else --url, else the configured schema path.
pub fn resolve_source(
    arg: Option<&str>,
    servers: &ServerArgs,
    config: &Config,
) -> Result<Source, Failure> {
    if let Some(s) = arg {
        return Ok(Source::parse(s));
    }
    if let Some(url) = servers.url.as_deref().filter(|u| !u.trim().is_empty()) {
        return Ok(Source::Url(url.to_string()));
    }
    let path = config.schema_path();
    if path.exists() {
        return Ok(Source::Files(path));
    }
    Err(Failure::usage(format!(
        "nothing to check: give schema files or a postgres:// URL, or --url (or DATABASE_URL); the configured schema path {} does not exist",
        path.display()
    )))
}

/// The catalog of a source, with the app role's attributes and memberships read from the
/// server even when the schema does not name the role.
pub fn load_catalog(
    source: &Source,
    servers: &ServerArgs,
    config: &Config,
    app_role: &str,
) -> Result<Catalog, Failure> {
    let db = |e: tenet_pg::PgError| Failure::from(e);
    match source {
        Source::Url(url) => {
            let server = Server::from_url(url)?;
            let mut client = server.connect()?;
            let mut catalog = tenet_catalog::inspect(&mut client)?;
            tenet_tenancy::merge_role(&mut client, &mut catalog, app_role)
                .map_err(|e| db(tenet_pg::PgError::from_postgres(e, server.target())))?;
            Ok(catalog)
        }
        Source::Files(path) => {
            let files = tenet_catalog::source::sql_files(path)?;
            let scratch = crate::source::ScratchServer::with_config(servers, config);
            let server = scratch.get()?;
            let mut sandbox = server.sandbox()?;
            let mut catalog = tenet_catalog::source::load(&mut sandbox, &files)?;
            let client = sandbox.admin();
            tenet_tenancy::merge_role(client, &mut catalog, app_role)
                .map_err(|e| db(tenet_pg::PgError::from_postgres(e, server.target())))?;
            // Roles live in the cluster, not in schema files: a role the scratch server does
            // not know is taken as a plain role (its attributes are checked on live databases).
            if !catalog.roles.iter().any(|r| r.name == app_role) {
                catalog.roles.push(tenet_catalog::Role {
                    name: app_role.to_string(),
                    superuser: false,
                    bypassrls: false,
                    login: true,
                    inherit: true,
                    member_of: Vec::new(),
                });
                catalog.roles.sort_by(|a, b| a.name.cmp(&b.name));
            }
            drop(sandbox);
            Ok(catalog)
        }
    }
}

fn check(args: CheckArgs) -> Result<i32, Failure> {
    let (config, tenancy) = load_tenancy(args.config.as_deref())?;
    let source = resolve_source(args.source.as_deref(), &args.servers, &config)?;
    let catalog = load_catalog(&source, &args.servers, &config, &tenancy.app_role)?;
    let model = Model::new(&catalog, &tenancy);
    let (mut findings, rules, tool) = if args.citus {
        (
            tenet_tenancy::check::citus::check(&model),
            citus_rule_infos(),
            "tenet tenancy check --citus",
        )
    } else {
        (
            tenet_tenancy::check(&model),
            rule_infos(),
            "tenet tenancy check",
        )
    };
    tenet_report::sort(&mut findings);
    let fallback = args
        .config
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| tenet_config::FILE_NAME.to_string());
    emit(
        &findings,
        &Sources::new(),
        args.format,
        &rules,
        Some(&fallback),
        tool,
    )?;
    // Warnings fail the check too: every rule is part of the isolation contract (the Citus
    // rules are errors, or information: reference-table candidates).
    Ok(i32::from(
        findings
            .iter()
            .any(|f| f.severity != tenet_report::Severity::Info),
    ))
}

/// The tenancy rules, for SARIF's rule table.
pub fn rule_infos() -> Vec<RuleInfo> {
    tenet_tenancy::check::RULES
        .iter()
        .map(|(id, severity, summary)| RuleInfo {
            id: id.to_string(),
            severity: *severity,
            summary: summary.to_string(),
            help: format!(
                "{summary}. {}",
                if generate::FIXES.contains(id) {
                    "`tenet tenancy generate` writes the fix."
                } else {
                    "Needs a decision `tenet tenancy generate` cannot make."
                }
            ),
        })
        .collect()
}

/// The Citus readiness rules, for SARIF's rule table.
pub fn citus_rule_infos() -> Vec<RuleInfo> {
    tenet_tenancy::check::citus::RULES
        .iter()
        .map(|(id, severity, summary)| RuleInfo {
            id: id.to_string(),
            severity: *severity,
            summary: summary.to_string(),
            help: format!(
                "{summary}. `tenet tenancy generate --citus` writes the create_reference_table / create_distributed_table calls; this finding needs a schema change first."
            ),
        })
        .collect()
}

fn generate(args: GenerateArgs) -> Result<i32, Failure> {
    let (config, tenancy) = load_tenancy(args.config.as_deref())?;
    let source = resolve_source(args.source.as_deref(), &args.servers, &config)?;
    let target = if args.write {
        match &source {
            Source::Files(path) => {
                let files = tenet_catalog::source::sql_files(path)?;
                Some(files.last().cloned().expect("sql_files is never empty"))
            }
            Source::Url(_) => {
                return Err(Failure::usage(
                    "--write appends to schema files, but the source is a database: use --out FILE or standard output",
                ))
            }
        }
    } else {
        None
    };
    let catalog = load_catalog(&source, &args.servers, &config, &tenancy.app_role)?;
    let model = Model::new(&catalog, &tenancy);
    let generated = if args.citus {
        generate::citus::generate(&model)
    } else {
        generate::generate(&model)
    };
    let unaddressed = if args.citus {
        "blocks distribution (see `tenet tenancy check --citus`)"
    } else {
        "not fixed by generate"
    };
    let json = args.format == super::ReportFormat::Json;
    // In JSON mode the notes are in the report, and standard output holds only the report.
    let note = |line: String| {
        if !json {
            eprintln!("{line}");
        }
    };
    for f in &generated.not_fixed {
        note(format!(
            "note: {unaddressed}: [{}] {}",
            f.rule,
            f.object.as_deref().unwrap_or("")
        ));
    }
    let written = match (&target, &args.out) {
        (Some(file), _) => {
            if generated.statements > 0 {
                let mut f = std::fs::OpenOptions::new().append(true).open(file)?;
                f.write_all(format!("\n{}", generated.sql).as_bytes())?;
                note(format!(
                    "tenet tenancy generate: appended {} statements to {}",
                    generated.statements,
                    file.display()
                ));
            }
            Some(file)
        }
        (None, Some(out)) => {
            std::fs::write(out, &generated.sql)?;
            note(format!(
                "tenet tenancy generate: wrote {} statements to {}",
                generated.statements,
                out.display()
            ));
            Some(out)
        }
        (None, None) => None,
    };
    if generated.statements == 0 {
        note(if args.citus {
            "tenet tenancy generate --citus: nothing to generate, no table in scope".into()
        } else {
            "tenet tenancy generate: nothing to generate, every rule it can fix holds".into()
        });
    }
    if json {
        let report = serde_json::json!({
            "statements": generated.statements,
            "sql": generated.sql,
            "written": written.map(|p| p.display().to_string()),
            "not_fixed": generated.not_fixed,
        });
        return super::print_json(&report).map(|_| 0);
    }
    if written.is_none() && generated.statements > 0 {
        super::print(&generated.sql)?;
    }
    Ok(0)
}
