//! `fleet-vs-loop`: `--tenants` schema-per-tenant targets (1,000 by default) and 3 migrations;
//! time `tenet fleet apply --parallel 4` against applying to each tenant one at a time with
//! `tenet migrate apply --schema S` in a shell-style loop (one process per tenant, the way
//! teams script it today); print the ratio and the time per target, then time `tenet fleet
//! check` and a no-op `tenet fleet apply` on the migrated fleet.
//!
//! ```text
//! cargo build --release -p tenet-cli -p tenet-bench
//! target/release/fleet-vs-loop [--url URL] [--tenants 1000] [--parallel 4]
//! ```
//!
//! Two databases with the same empty tenant schemas: the fleet runs on one, the loop on the
//! other, so neither finds the other's work done. `migrate apply --schema` does per tenant what
//! fleet apply does per target (search_path, the tenant's own history and lock), so the
//! difference is the process and connection per tenant, and the parallelism.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use clap::Parser;
use tenet_bench::measure::{default_tenet, timed, warm_up};

#[derive(Parser)]
#[command(about = "Time `tenet fleet apply` against `tenet migrate apply` in a loop.")]
struct Args {
    /// Server to create the benchmark databases on (needs CREATEDB); also the scratch server.
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
    /// Tenant schemas.
    #[arg(long, default_value_t = 1000)]
    tenants: usize,
    /// fleet apply's --parallel.
    #[arg(long, default_value_t = 4)]
    parallel: usize,
}

/// The three migrations: a table, a second table with a foreign key and an index, a column.
const MIGRATIONS: [(&str, &str, &str); 3] = [
    (
        "0001_tasks",
        "CREATE TABLE tasks (id bigint PRIMARY KEY, title text NOT NULL);",
        "DROP TABLE tasks;",
    ),
    (
        "0002_notes",
        "CREATE TABLE notes (id bigint PRIMARY KEY, task_id bigint NOT NULL REFERENCES tasks);\n\
         CREATE INDEX notes_task ON notes (task_id);",
        "DROP TABLE notes;",
    ),
    (
        "0003_done",
        "ALTER TABLE tasks ADD COLUMN done boolean NOT NULL DEFAULT false;",
        "ALTER TABLE tasks DROP COLUMN done;",
    ),
];

fn main() -> ExitCode {
    tenet_bench::measure::exit_code(run(&Args::parse()).map(|()| true))
}

fn run(args: &Args) -> Result<(), String> {
    let tenet = args.tenet.clone().unwrap_or_else(default_tenet);
    if !tenet.is_file() {
        return Err(format!(
            "no tenet binary at {} (cargo build --release -p tenet-cli, or give --tenet)",
            tenet.display()
        ));
    }
    let tenet = tenet.canonicalize().map_err(|e| e.to_string())?;
    let server = tenet_pg::Server::from_url(&args.url).map_err(|e| e.to_string())?;
    let fleet_db = server.scratch().map_err(|e| e.to_string())?;
    let loop_db = server.scratch().map_err(|e| e.to_string())?;
    let schemas: Vec<String> = (0..args.tenants)
        .map(|i| format!("tenant_{i:05}"))
        .collect();
    for db in [&fleet_db, &loop_db] {
        let sql: String = schemas
            .iter()
            .map(|s| format!("CREATE SCHEMA {s};"))
            .collect();
        db.connect()
            .map_err(|e| e.to_string())?
            .batch_execute(&sql)
            .map_err(|e| e.to_string())?;
    }
    let project = project_dir(&fleet_db.url())?;
    let command = |what: &[&str]| {
        let mut c = Command::new(&tenet);
        c.current_dir(&project)
            .env_remove("DATABASE_URL")
            .env("TENET_DEV_URL", &args.url)
            .args(what);
        c
    };
    warm_up("tenet migrate hash", command(&["migrate", "hash"]))?;
    println!(
        "fleet apply vs a migrate apply loop: {} tenant schemas, {} migrations",
        args.tenants,
        MIGRATIONS.len()
    );

    let parallel = args.parallel.to_string();
    let fleet = timed(
        "tenet fleet apply",
        command(&["fleet", "apply", "--parallel", &parallel]),
    )?;
    let loop_url = loop_db.url();
    let started = Instant::now();
    for schema in &schemas {
        timed(
            "tenet migrate apply --schema",
            command(&["migrate", "apply", "--url", &loop_url, "--schema", schema]),
        )?;
    }
    let looped = started.elapsed();
    let per = |d: std::time::Duration| d.as_secs_f64() * 1000.0 / args.tenants as f64;
    println!(
        "  fleet apply --parallel {}: {:.2} s ({:.1} ms per target)",
        args.parallel,
        fleet.as_secs_f64(),
        per(fleet)
    );
    println!(
        "  migrate apply loop:       {:.2} s ({:.1} ms per target)",
        looped.as_secs_f64(),
        per(looped)
    );
    println!(
        "  loop/fleet = {:.2} (fleet apply is {:.2}x faster)",
        looped.as_secs_f64() / fleet.as_secs_f64(),
        looped.as_secs_f64() / fleet.as_secs_f64()
    );
    let noop = timed(
        "a no-op tenet fleet apply",
        command(&["fleet", "apply", "--parallel", &parallel]),
    )?;
    println!(
        "  no-op fleet apply (all at the latest): {:.2} s ({:.1} ms per target)",
        noop.as_secs_f64(),
        per(noop)
    );
    let check = timed(
        "tenet fleet check",
        command(&["fleet", "check", "--parallel", &parallel]),
    )?;
    println!(
        "  fleet check: {:.2} s ({:.1} ms per target)",
        check.as_secs_f64(),
        per(check)
    );
    let _ = std::fs::remove_dir_all(&project);
    Ok(())
}

/// A project whose `[fleet]` is every `tenant_%` schema of `url`, with the three migrations.
fn project_dir(url: &str) -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("tenet-fleet-vs-loop-{}", std::process::id()));
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations).map_err(|e| e.to_string())?;
    let write = |path: &Path, text: &str| std::fs::write(path, text).map_err(|e| e.to_string());
    write(
        &dir.join("tenet.toml"),
        &format!(
            "[migrations]\ndir = \"migrations\"\n[fleet]\nurl = {url:?}\nschemas = \"tenant_%\"\n"
        ),
    )?;
    for (id, up, down) in MIGRATIONS {
        write(&migrations.join(format!("{id}.up.sql")), up)?;
        write(&migrations.join(format!("{id}.down.sql")), down)?;
    }
    Ok(dir)
}
