//! `noop-apply-vs-inspect`: time `tenet migrate apply` with nothing to apply, on a history of
//! `--migrations` migrations (342 by default, the size of the history that took 5.5 s before
//! drift became a fingerprint comparison), against `tenet inspect --url` of the same database;
//! print the ratio against the target (at most 2x).
//!
//! ```text
//! cargo build --release -p tenet-cli -p tenet-bench
//! target/release/noop-apply-vs-inspect [--url URL] [--migrations 342] [--runs 5]
//! ```
//!
//! The history is generated (fixed, no randomness): every third migration creates a tenant
//! table with a primary key, a foreign key to the first table and an index; the others add a
//! column with a default and a concurrent index to an earlier table. It is applied once, and
//! the first no-op apply after it runs too (both untimed); then each command runs `--runs`
//! times, alternating, and the medians are compared.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::Parser;
use tenet_bench::measure::{default_tenet, list, median, timed, warm_up};

/// A no-op apply at most this times `tenet inspect --url`.
const TARGET_RATIO: f64 = 2.0;

#[derive(Parser)]
#[command(about = "Time a no-op `tenet migrate apply` against `tenet inspect --url`.")]
struct Args {
    /// Server to create the benchmark database on (needs CREATEDB); also the scratch server.
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
    /// Migrations in the generated history.
    #[arg(long, default_value_t = 342)]
    migrations: usize,
    /// Timed runs of each command.
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

fn main() -> ExitCode {
    tenet_bench::measure::exit_code(run(&Args::parse()))
}

fn run(args: &Args) -> Result<bool, String> {
    let tenet = args.tenet.clone().unwrap_or_else(default_tenet);
    if !tenet.is_file() {
        return Err(format!(
            "no tenet binary at {} (cargo build --release -p tenet-cli, or give --tenet)",
            tenet.display()
        ));
    }
    // The commands run in the project directory.
    let tenet = tenet.canonicalize().map_err(|e| e.to_string())?;
    let server = tenet_pg::Server::from_url(&args.url).map_err(|e| e.to_string())?;
    let db = server.scratch().map_err(|e| e.to_string())?;
    let project = tempfile_dir()?;
    write_history(&project, args.migrations)?;
    let command = |what: &[&str]| {
        let mut c = Command::new(&tenet);
        c.current_dir(&project)
            .env_remove("DATABASE_URL")
            .env("TENET_DEV_URL", &args.url)
            .args(what)
            .args(["--url", &db.url()]);
        c
    };
    println!(
        "no-op migrate apply vs inspect: {} migrations, database {}",
        args.migrations,
        db.name()
    );
    warm_up("tenet migrate hash", command(&["migrate", "hash"]))?;
    let first = timed("the first apply", command(&["migrate", "apply"]))?;
    println!("  first apply (everything): {:.2} s", first.as_secs_f64());
    warm_up("a no-op apply", command(&["migrate", "apply"]))?;
    warm_up("tenet inspect", command(&["inspect"]))?;
    let (mut apply, mut inspect): (Vec<Duration>, Vec<Duration>) = (Vec::new(), Vec::new());
    for run in 0..args.runs {
        let mut pair = [
            ("apply", command(&["migrate", "apply"])),
            ("inspect", command(&["inspect"])),
        ];
        if run % 2 == 1 {
            pair.reverse();
        }
        for (what, cmd) in pair {
            let took = timed(what, cmd)?;
            if what == "apply" {
                apply.push(took);
            } else {
                inspect.push(took);
            }
        }
    }
    // For comparison, the replay the fingerprint saves: one no-op apply without it.
    db.connect()
        .and_then(|mut c| {
            c.batch_execute("UPDATE tenet.migrations SET fingerprint = NULL")
                .map_err(|e| tenet_pg::PgError::from_postgres(e, server.target()))
        })
        .map_err(|e| e.to_string())?;
    let replayed = timed("a no-op apply that replays", command(&["migrate", "apply"]))?;
    println!(
        "  no-op apply without a recorded fingerprint (replays the history): {:.3} s",
        replayed.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&project);
    let (a, i) = (median(&apply), median(&inspect));
    let ratio = a.as_secs_f64() / i.as_secs_f64();
    println!(
        "  no-op apply: median {:.3} s ({})",
        a.as_secs_f64(),
        list(&apply)
    );
    println!(
        "  inspect:     median {:.3} s ({})",
        i.as_secs_f64(),
        list(&inspect)
    );
    let met = ratio <= TARGET_RATIO;
    println!(
        "  apply/inspect = {ratio:.2} (target <= {TARGET_RATIO}): {}",
        if met { "met" } else { "MISSED" }
    );
    Ok(met)
}

fn tempfile_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("tenet-noop-apply-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("migrations")).map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join("tenet.toml"),
        "[migrations]\ndir = \"migrations\"\n",
    )
    .map_err(|e| e.to_string())?;
    Ok(dir)
}

/// The generated history (see the module docs).
fn write_history(project: &Path, migrations: usize) -> Result<(), String> {
    let mut tables = 0usize;
    for n in 1..=migrations {
        let up = if n == 1 || n % 3 == 0 {
            tables += 1;
            let t = tables;
            let fk = if t == 1 {
                String::new()
            } else {
                ", tenant_id bigint NOT NULL REFERENCES t1 (id)".to_string()
            };
            format!(
                "CREATE TABLE t{t} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
                 name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(){fk});\n\
                 CREATE INDEX t{t}_name ON t{t} (name);\n"
            )
        } else {
            let t = n % tables + 1;
            format!(
                "ALTER TABLE t{t} ADD COLUMN c{n} integer NOT NULL DEFAULT {n};\n\
                 CREATE INDEX CONCURRENTLY t{t}_c{n} ON t{t} (c{n});\n"
            )
        };
        let path = project.join(format!("migrations/{n:05}_m{n}.up.sql"));
        std::fs::write(&path, up).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
