//! The `tenet` command line: parses arguments, runs one command, maps failures to exit codes
//! (0 clean, 1 findings, 2 usage or configuration, 3 database or I/O).

mod commands;
mod failure;
mod source;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "tenet",
    version,
    about = "A persistence engineer for multi-tenant PostgreSQL: schema as code, checked against a real server."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where Tenet finds servers. Shared by every command that touches PostgreSQL.
#[derive(clap::Args, Clone, Debug)]
pub struct ServerArgs {
    /// The database to work on.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub url: Option<String>,
    /// A server for scratch databases, where schema files and migrations are applied (as an
    /// unprivileged sandbox role) to be read back. Without it (or `dev_url` in tenet.toml),
    /// Tenet starts a throwaway PostgreSQL from the local binaries; --url is never used for it.
    #[arg(long, env = "TENET_DEV_URL", hide_env_values = true, global = true)]
    pub dev_url: Option<String>,
    /// The longest one statement Tenet runs for you may take: schema SQL and replayed
    /// migrations (default 60s), `tenet mcp`'s execute_sql (default 10s). E.g. 500ms, 30s, 2min.
    #[arg(
        long,
        env = "TENET_STATEMENT_TIMEOUT",
        global = true,
        value_parser = tenet_mcp::parse_timeout
    )]
    pub statement_timeout: Option<std::time::Duration>,
}

#[derive(Subcommand)]
enum Command {
    /// The whole flow on a throwaway database: plan, migrate, tenancy, prove, docs.
    Demo(commands::demo::Args),
    /// Scaffold a project: tenet.toml, schema/, migrations/ and the decision log.
    Init(commands::init::Args),
    /// Print the normalized catalog of a database or of schema files.
    Inspect(commands::inspect::Args),
    /// Print the SQL that turns one schema into another, with locks and hazards.
    Plan(commands::plan::Args),
    /// Versioned migrations: new, apply, down, status, baseline, hash.
    Migrate(commands::migrate::Args),
    /// Many databases or tenant schemas ([fleet] in tenet.toml): apply, status, check.
    Fleet(commands::fleet::Args),
    /// The CI gate: sum file, pending model changes, and (with --url) drift and pending
    /// migrations.
    Check(commands::check::Args),
    /// The persistence decision log.
    Decisions(commands::decisions::Args),
    /// Lint migrations: locks, rewrites, data loss, transactions, types, tenancy.
    Lint(commands::lint::Args),
    /// Advise on a live database: indexes, keys, SECURITY DEFINER, extensions, tenancy.
    Advise(commands::advise::Args),
    /// Tenant isolation: check the rules, generate the SQL that satisfies them.
    Tenancy(commands::tenancy::Args),
    /// Prove on a live database that no tenant sees another's rows (rolled back; exit 1 on a leak).
    Prove(commands::prove::Args),
    /// Serve Tenet's tools to coding agents over MCP (stdio); read-only unless --allow-write.
    Mcp(commands::mcp::Args),
    /// Write the schema document (Markdown, Mermaid ER diagram), or --check that it is current.
    Docs(commands::docs::Args),
    /// Generate typed code from a schema: TypeScript, Rust (sqlx, serde) or Python (SQLModel).
    Gen(commands::gen::Args),
    /// Print a shell completion script: `tenet completions bash > /etc/bash_completion.d/tenet`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TENET_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => commands::demo::run(args),
        Command::Init(args) => commands::init::run(args),
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Migrate(args) => commands::migrate::run(args),
        Command::Fleet(args) => commands::fleet::run(args),
        Command::Check(args) => commands::check::run(args),
        Command::Decisions(args) => commands::decisions::run(args),
        Command::Plan(args) => commands::plan::run(args),
        Command::Lint(args) => commands::lint::run(args),
        Command::Advise(args) => commands::advise::run(args),
        Command::Tenancy(args) => commands::tenancy::run(args),
        Command::Prove(args) => commands::prove::run(args),
        Command::Mcp(args) => commands::mcp::run(args),
        Command::Docs(args) => commands::docs::run(args),
        Command::Gen(args) => commands::gen::run(args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "tenet", &mut std::io::stdout());
            Ok(0)
        }
    };
    let code = match result {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            failure.code
        }
    };
    // Destructors have run by now; this catches anything registered but not yet cleaned.
    tenet_pg::run_cleanup();
    std::process::exit(code);
}
