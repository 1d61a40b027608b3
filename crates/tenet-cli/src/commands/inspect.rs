//! `tenet inspect`: print the normalized catalog as SQL DDL or JSON.

use crate::failure::Failure;
use crate::source::{ScratchServer, Source};
use crate::ServerArgs;

#[derive(clap::Args)]
pub struct Args {
    /// A `.sql` file or directory of them (applied to a scratch database first), or a
    /// postgres:// URL. Without it, the database of --url is inspected.
    pub source: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Sql)]
    pub format: Format,
    #[command(flatten)]
    pub servers: ServerArgs,
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum Format {
    Sql,
    Json,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let source =
        match (&args.source, &args.servers.url) {
            (Some(source), _) => Source::parse(source),
            (None, Some(url)) => Source::Url(url.clone()),
            (None, None) => return Err(Failure::usage(
                "nothing to inspect: give a schema file or directory, or --url (or DATABASE_URL)",
            )),
        };
    let catalog = source.catalog(&ScratchServer::new(&args.servers))?;
    let text = match args.format {
        Format::Sql => tenet_catalog::render::to_sql(&catalog),
        Format::Json => {
            let mut json = serde_json::to_string_pretty(&catalog)
                .map_err(|e| Failure::usage(format!("cannot serialize the catalog: {e}")))?;
            json.push('\n');
            json
        }
    };
    super::print(&text)?;
    Ok(0)
}
