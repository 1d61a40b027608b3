//! `tenet gen`: typed code from a schema.

use std::path::PathBuf;

use super::ReportFormat;
use crate::failure::Failure;
use crate::source::{ScratchServer, Source};
use crate::ServerArgs;

#[derive(clap::Args)]
pub struct Args {
    /// The language to generate (the type mapping is documented in the tenet-codegen crate).
    #[arg(value_enum)]
    pub language: Language,
    /// A `.sql` file or directory, a migrations directory, or a postgres:// URL. Default: --url,
    /// else the schema path of tenet.toml.
    pub source: Option<String>,
    /// Generate only this schema's tables, views and functions (repeatable; default: all).
    #[arg(long = "schema", value_name = "NAME")]
    pub schemas: Vec<String>,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The configuration file (default: ./tenet.toml when present), for [schema].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// `json`: `{"language", "written": [files]}` on standard output, the code under `"code"`
    /// when there is no --out.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub servers: ServerArgs,
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum Language {
    /// TypeScript: Row, Insert and Update types per table; enums as unions; a supabase-js
    /// `Database` type.
    Typescript,
    /// Rust: a sqlx/serde struct per table; enums as Rust enums (sqlx::Type).
    Rust,
    /// Python: SQLModel table classes with keys and column types; enums as enum.Enum.
    Sqlmodel,
    /// Drizzle ORM: pgTable, pgEnum, keys, foreign keys, indexes, RLS policies (pgPolicy).
    Drizzle,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let format = args.format;
    super::reporting(format, || run_command(args))
}

fn run_command(args: Args) -> Result<i32, Failure> {
    let config = tenet_config::Config::load(args.config.as_deref())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let source = match (&args.source, &args.servers.url) {
        (Some(text), _) => Source::parse(text),
        (None, Some(url)) => Source::Url(url.clone()),
        (None, None) => Source::Files(config.schema_path()),
    };
    let catalog = source.catalog(&ScratchServer::with_config(&args.servers, &config))?;
    let catalog = tenet_codegen::in_schemas(&catalog, &args.schemas).map_err(Failure::usage)?;
    let code = match args.language {
        Language::Typescript => tenet_codegen::typescript(&catalog),
        Language::Rust => tenet_codegen::rust(&catalog),
        Language::Sqlmodel => tenet_codegen::sqlmodel(&catalog),
        Language::Drizzle => tenet_codegen::drizzle(&catalog),
    };
    if let Some(path) = &args.out {
        std::fs::write(path, &code)?;
    }
    if args.format == ReportFormat::Json {
        let language =
            clap::ValueEnum::to_possible_value(&args.language).map(|v| v.get_name().to_string());
        let mut report = serde_json::json!({ "language": language, "written": [] });
        match &args.out {
            Some(path) => report["written"] = serde_json::json!([path.display().to_string()]),
            None => report["code"] = code.into(),
        }
        return super::print_json(&report).map(|_| 0);
    }
    if args.out.is_none() {
        super::print(&code)?;
    }
    Ok(0)
}
