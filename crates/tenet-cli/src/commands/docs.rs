//! `tenet docs`: write the schema document (Markdown with a Mermaid ER diagram), or check that
//! the committed one is current.

use std::path::PathBuf;

use super::ReportFormat;
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
    /// Where to write the document; `-` for standard output. Default: specs/db/schema.md beside
    /// tenet.toml.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Do not write: exit 1 when the document at --out differs from what would be written.
    #[arg(long)]
    pub check: bool,
    /// The configuration file (default: ./tenet.toml when present), for [tenancy] and [schema].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// `json`: `{"path", "status"}` on standard output, status `written`, or with --check
    /// `current`, `stale` or `missing`.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub servers: ServerArgs,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let format = args.format;
    super::reporting(format, || run_command(args))
}

fn run_command(args: Args) -> Result<i32, Failure> {
    let json = args.format == ReportFormat::Json;
    let config = tenet_config::Config::load(args.config.as_deref())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let source = match (&args.source, &args.servers.url) {
        (Some(text), _) => Source::parse(text),
        (None, Some(url)) => Source::Url(url.clone()),
        (None, None) => Source::Files(config.schema_path()),
    };
    // A path given on the command line is the user's (relative to where they are); the default
    // belongs to the project, so it is relative to tenet.toml, whatever the current directory.
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| config.root.join(DEFAULT_OUT));
    let catalog = source.catalog(&ScratchServer::with_config(&args.servers, &config))?;
    let document = tenet_docs::markdown_with_decisions(
        &catalog,
        config.tenancy.as_ref(),
        &decisions(&config, &out),
    );
    if out.as_os_str() == "-" {
        if json {
            return Err(Failure::usage(
                "--format json reports on a file: give --out FILE, not -",
            ));
        }
        super::print(&document)?;
        return Ok(0);
    }
    let report = |status: &str, message: String| {
        if json {
            let path = out.display().to_string();
            super::print_json(&serde_json::json!({ "path": path, "status": status }))
        } else {
            eprintln!("{message}");
            Ok(())
        }
    };
    if args.check {
        let current = match std::fs::read_to_string(&out) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let message = format!(
                    "{} does not exist: run `tenet docs` to write it",
                    out.display()
                );
                report("missing", message)?;
                return Ok(1);
            }
            Err(e) => {
                return Err(Failure::usage(format!(
                    "cannot read {}: {e}",
                    out.display()
                )))
            }
        };
        if current == document {
            if json {
                report("current", String::new())?;
            }
            return Ok(0);
        }
        let message = format!(
            "{} is out of date with the schema: run `tenet docs` to update it",
            out.display()
        );
        report("stale", message)?;
        return Ok(1);
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, &document)?;
    report("written", format!("wrote {}", out.display()))?;
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
