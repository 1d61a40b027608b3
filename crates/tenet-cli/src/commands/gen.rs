//! `tenet gen`: typed code from a schema.

use std::path::PathBuf;

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
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The configuration file (default: ./tenet.toml when present), for [schema].
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub servers: ServerArgs,
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum Language {
    /// TypeScript: Row, Insert and Update types per table; enums as unions.
    Typescript,
    /// Rust: a sqlx/serde struct per table; enums as Rust enums (sqlx::Type).
    Rust,
    /// Python: SQLModel table classes with keys and column types; enums as enum.Enum.
    Sqlmodel,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let config = tenet_config::Config::load(args.config.as_deref())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let source = match (&args.source, &args.servers.url) {
        (Some(text), _) => Source::parse(text),
        (None, Some(url)) => Source::Url(url.clone()),
        (None, None) => Source::Files(config.schema_path()),
    };
    let catalog = source.catalog(&ScratchServer::new(&args.servers))?;
    let code = match args.language {
        Language::Typescript => tenet_codegen::typescript(&catalog),
        Language::Rust => tenet_codegen::rust(&catalog),
        Language::Sqlmodel => tenet_codegen::sqlmodel(&catalog),
    };
    match &args.out {
        Some(path) => std::fs::write(path, code)?,
        None => super::print(&code)?,
    }
    Ok(0)
}
