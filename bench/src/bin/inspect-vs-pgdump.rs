//! Time `tenet inspect --url` against `pg_dump --schema-only` on a generated multi-tenant schema.
//!
//! Creates a scratch database on the server, loads a schema of `--tables` tables (2,000 by
//! default), runs each tool once to warm up and then `--runs` times alternately (output to
//! /dev/null), prints the medians and the ratio inspect/pg_dump, and drops the database (also on
//! Ctrl-C). The target is inspect <= 0.5 x pg_dump.
//!
//! ```sh
//! cargo build --release -p tenet-cli -p tenet-bench && target/release/inspect-vs-pgdump
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use clap::Parser;
use tenet_bench::measure::{default_tenet, describe, list, median, timed, warm_up};

/// Inspect may take at most this share of pg_dump's time.
const TARGET_RATIO: f64 = 0.5;

#[derive(Parser)]
#[command(
    about = "Time `tenet inspect --url` against `pg_dump --schema-only` on a generated schema."
)]
struct Args {
    /// Server to create the benchmark database on (needs CREATEDB).
    #[arg(
        long,
        env = "TENET_BENCH_URL",
        default_value = "postgresql://postgres@127.0.0.1:5432/postgres",
        hide_env_values = true
    )]
    url: String,
    /// The tenet binary (default: target/release/tenet, else the one beside this binary).
    #[arg(long)]
    tenet: Option<PathBuf>,
    /// The pg_dump binary (default: the one of the server's major version in
    /// /usr/lib/postgresql/N/bin, else pg_dump on PATH).
    #[arg(long)]
    pg_dump: Option<PathBuf>,
    /// Number of tenant tables in the generated schema.
    #[arg(long, default_value_t = tenet_bench::DEFAULT_TABLES)]
    tables: usize,
    /// Seed of the schema generator.
    #[arg(long, default_value_t = tenet_bench::DEFAULT_SEED)]
    seed: u64,
    /// Timed runs of each tool, after one warm-up run.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Exit with status 1 when the target (inspect <= 0.5 x pg_dump) is not met.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tenet_bench::measure::exit_code(run(&args).map(|met| met || !args.check))
}

fn run(args: &Args) -> Result<bool, String> {
    if args.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    let tenet = match &args.tenet {
        Some(path) => path.clone(),
        None => default_tenet(),
    };
    if !tenet.is_file() {
        return Err(format!(
            "no tenet binary at {} (build it with `cargo build --release -p tenet-cli`, or give --tenet)",
            tenet.display()
        ));
    }

    let server = tenet_pg::Server::from_url(&args.url).map_err(|e| e.to_string())?;
    let version: String = server
        .connect()
        .and_then(|mut c| {
            c.query_one("SELECT current_setting('server_version')", &[])
                .map(|row| row.get(0))
                .map_err(|e| tenet_pg::PgError::from_postgres(e, server.target()))
        })
        .map_err(|e| e.to_string())?;
    let pg_dump = match &args.pg_dump {
        Some(path) => path.clone(),
        None => default_pg_dump(&version),
    };

    let schema = tenet_bench::Schema::generate(args.tables, args.seed);
    let sql = schema.to_sql();
    println!("inspect vs pg_dump --schema-only");
    println!("  server:  PostgreSQL {version} at {}", server.target());
    println!("  tenet:   {}", tenet.display());
    println!("  pg_dump: {}", pg_dump.display());
    println!(
        "  schema:  {} tenant tables + app.tenants, {} views, {} functions (seed {}, {} KiB of SQL)",
        schema.tables.len(),
        schema.views.len(),
        schema.functions.len(),
        args.seed,
        sql.len() / 1024
    );

    let db = server.scratch().map_err(|e| e.to_string())?;
    let started = Instant::now();
    {
        let mut client = db.connect().map_err(|e| e.to_string())?;
        for batch in schema.to_sql_batches(100) {
            client
                .batch_execute(&batch)
                .map_err(|e| format!("loading the generated schema failed: {}", describe(&e)))?;
        }
        client
            .batch_execute("ANALYZE")
            .map_err(|e| format!("ANALYZE failed: {}", describe(&e)))?;
    }
    println!(
        "  loaded into database {} in {:.2} s",
        db.name(),
        started.elapsed().as_secs_f64()
    );
    let url = db.url();

    let tenet_cmd = || {
        let mut c = Command::new(&tenet);
        c.arg("inspect")
            .arg("--url")
            .arg(&url)
            .env_remove("DATABASE_URL")
            .env_remove("TENET_DEV_URL");
        c
    };
    let pg_dump_cmd = || {
        let mut c = Command::new(&pg_dump);
        c.arg("--schema-only")
            .arg("--no-password")
            .arg(format!("--dbname={url}"));
        c
    };

    // Warm-up: also checks that both work, and measures how much each prints.
    let tenet_bytes = warm_up("tenet inspect", tenet_cmd())?;
    let dump_bytes = warm_up("pg_dump", pg_dump_cmd())?;
    println!(
        "  output:  tenet inspect {} KiB, pg_dump {} KiB",
        tenet_bytes / 1024,
        dump_bytes / 1024
    );

    let mut inspect_times = Vec::new();
    let mut dump_times = Vec::new();
    for round in 0..args.runs {
        // Alternate the order so neither tool always runs on a cache the other warmed.
        if round % 2 == 0 {
            inspect_times.push(timed("tenet inspect", tenet_cmd())?);
            dump_times.push(timed("pg_dump", pg_dump_cmd())?);
        } else {
            dump_times.push(timed("pg_dump", pg_dump_cmd())?);
            inspect_times.push(timed("tenet inspect", tenet_cmd())?);
        }
    }
    drop(db);

    let inspect = median(&inspect_times);
    let dump = median(&dump_times);
    let ratio = inspect.as_secs_f64() / dump.as_secs_f64();
    println!();
    println!(
        "tenet inspect --url          median {:>8.3} s   runs: {}",
        inspect.as_secs_f64(),
        list(&inspect_times)
    );
    println!(
        "pg_dump --schema-only        median {:>8.3} s   runs: {}",
        dump.as_secs_f64(),
        list(&dump_times)
    );
    let met = ratio <= TARGET_RATIO;
    println!(
        "ratio inspect/pg_dump        {ratio:.2}   target <= {TARGET_RATIO:.2}: {}",
        if met { "met" } else { "NOT met" }
    );
    Ok(met)
}

/// The real pg_dump of the server's major version: Debian's /usr/bin/pg_dump is a Perl wrapper
/// whose start-up would be counted against pg_dump.
fn default_pg_dump(server_version: &str) -> PathBuf {
    let major = server_version
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap_or_default();
    let debian = Path::new("/usr/lib/postgresql")
        .join(major)
        .join("bin/pg_dump");
    if !major.is_empty() && debian.is_file() {
        debian
    } else {
        PathBuf::from("pg_dump")
    }
}
