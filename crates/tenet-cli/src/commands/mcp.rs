//! `tenet mcp`: serve Tenet's tools to coding agents over the Model Context Protocol (stdio).

use std::path::PathBuf;
use std::time::Duration;

use crate::failure::Failure;
use crate::ServerArgs;

#[derive(clap::Args)]
pub struct Args {
    /// Let execute_sql run any one statement, committed, and apply_migration apply migrations
    /// (execute_sql is read-only otherwise).
    #[arg(long)]
    pub allow_write: bool,
    /// The configuration file, for the [tenancy] section (default: ./tenet.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub servers: ServerArgs,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let url = args
        .servers
        .url
        .clone()
        .ok_or_else(|| Failure::usage("tenet mcp needs the database: --url or DATABASE_URL"))?;
    let settings = tenet_mcp::Settings {
        url,
        dev_url: args.servers.dev_url.clone(),
        config: args.config,
        allow_write: args.allow_write,
        // One execute_sql statement (and the plan tool's desired SQL).
        statement_timeout: args
            .servers
            .statement_timeout
            .unwrap_or(Duration::from_secs(10)),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Failure::from)?;
    runtime
        .block_on(tenet_mcp::serve_stdio(settings))
        .map_err(|message| Failure { code: 3, message })?;
    Ok(0)
}
