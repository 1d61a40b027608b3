//! `tenet docs`: write the schema document (Markdown with a Mermaid ER diagram), or check that
//! the committed one is current.

use std::path::PathBuf;

use crate::failure::Failure;
use crate::source::{ScratchServer, Source};
use crate::ServerArgs;

/// Where the schema document goes, relative to the project.
pub const DEFAULT_OUT: &str = "specs/db/schema.md";

#[derive(clap::Args)]
pub struct Args {
    /// A `.sql` file or directory, a migrations directory, or a postgres:// URL. Default: --url,
    /// else the schema path of tenet.toml.
    pub source: Option<String>,
    /// Where to write the document; `-` for standard output.
    #[arg(long, default_value = DEFAULT_OUT)]
    pub out: PathBuf,
    /// Do not write: exit 1 when the document at --out differs from what would be written.
    #[arg(long)]
    pub check: bool,
    /// The configuration file (default: ./tenet.toml when present), for [tenancy] and [schema].
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub servers: ServerArgs,
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
    let document = tenet_docs::markdown_with_decisions(
        &catalog,
        config.tenancy.as_ref(),
        &decisions(&config, &args.out),
    );
    if args.out.as_os_str() == "-" {
        super::print(&document)?;
        return Ok(0);
    }
    if args.check {
        let current = std::fs::read_to_string(&args.out).unwrap_or_default();
        if current == document {
            return Ok(0);
        }
        eprintln!(
            "{} is out of date with the schema: run `tenet docs` to update it",
            args.out.display()
        );
        return Ok(1);
    }
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, &document)?;
    eprintln!("wrote {}", args.out.display());
    Ok(0)
}

/// The decision log's entries, linked relative to where the document is written.
pub fn decisions(
    config: &tenet_config::Config,
    out: &std::path::Path,
) -> Vec<tenet_docs::Decision> {
    use tenet_migrate::decisions;
    let log = config.root.join(decisions::DEFAULT_PATH);
    let from = out.parent().unwrap_or(std::path::Path::new(""));
    let from = if out.as_os_str() == "-" {
        std::path::Path::new(".")
    } else {
        from
    };
    let href = decisions::relative(from, &log);
    decisions::read(&log)
        .into_iter()
        .map(|d| tenet_docs::Decision {
            link: format!("{}#{}", href.display(), d.anchor),
            title: d.title,
            tables: d.tables,
        })
        .collect()
}
