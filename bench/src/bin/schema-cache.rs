//! `schema-cache`: time `tenet check` and `tenet plan --to schema` cold (no cache: the schema
//! files, and for check the migrations, are loaded into scratch databases) and warm (the
//! project's `.tenet/cache` holds their catalogs), on the Todo example and on a generated
//! schema of `--tables` tables; print each median and the speed-up warm over cold.
//!
//! ```text
//! cargo build --release -p tenet-cli -p tenet-bench
//! target/release/schema-cache [--url URL] [--tables 2000] [--runs 3]
//! ```
//!
//! The generated project's schema is `tenet_bench::Schema::generate(tables, DEFAULT_SEED)` in
//! `schema/schema.sql` and the same SQL as its one migration, so `check` finds nothing pending.
//! `plan` plans from an empty scratch database to the schema directory.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::Parser;
use tenet_bench::measure::{default_tenet, list, median, timed, warm_up};

#[derive(Parser)]
#[command(about = "Time check and plan with and without the schema-file catalog cache.")]
struct Args {
    /// Server for the empty database plan starts from (needs CREATEDB); also the scratch server.
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
    /// Tables of the generated schema.
    #[arg(long, default_value_t = tenet_bench::DEFAULT_TABLES)]
    tables: usize,
    /// The Todo example's directory.
    #[arg(long, default_value = "examples/todo")]
    todo: PathBuf,
    /// Timed runs of each command, cold and warm.
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = run(&args);
    tenet_pg::run_cleanup();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(3)
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let tenet = args.tenet.clone().unwrap_or_else(default_tenet);
    let tenet = tenet.canonicalize().map_err(|e| {
        format!(
            "no tenet binary at {} (cargo build --release -p tenet-cli, or give --tenet): {e}",
            tenet.display()
        )
    })?;
    let server = tenet_pg::Server::from_url(&args.url).map_err(|e| e.to_string())?;
    let empty = server.scratch().map_err(|e| e.to_string())?;
    let base = std::env::temp_dir().join(format!("tenet-schema-cache-{}", std::process::id()));

    let todo = base.join("todo");
    for part in ["tenet.toml", "schema", "migrations"] {
        copy(&args.todo.join(part), &todo.join(part))?;
    }
    let generated = base.join("generated");
    let sql = tenet_bench::Schema::generate(args.tables, tenet_bench::DEFAULT_SEED).to_sql();
    write(
        &generated.join("tenet.toml"),
        "[schema]\npath = \"schema\"\n\n[migrations]\ndir = \"migrations\"\n",
    )?;
    write(&generated.join("schema/schema.sql"), &sql)?;
    write(&generated.join("migrations/00001_schema.up.sql"), &sql)?;

    let result = (|| {
        for (name, project) in [
            ("Todo example".to_string(), &todo),
            (format!("generated, {} tables", args.tables), &generated),
        ] {
            println!("{name}:");
            let command = |what: &[&str]| {
                let mut c = Command::new(&tenet);
                c.current_dir(project)
                    .env_remove("DATABASE_URL")
                    .env("TENET_DEV_URL", &args.url)
                    .args(what);
                c
            };
            warm_up("tenet migrate hash", command(&["migrate", "hash"]))?;
            let from = empty.url();
            for what in [
                vec!["check"],
                vec!["plan", "--from", from.as_str(), "--to", "schema"],
            ] {
                let (cold, warm) = cold_and_warm(project, args.runs, || command(&what))?;
                let (c, w) = (median(&cold), median(&warm));
                println!(
                    "  {:<6} cold median {:.3} s ({}), warm median {:.3} s ({}): {:.1}x faster warm",
                    what[0],
                    c.as_secs_f64(),
                    list(&cold),
                    w.as_secs_f64(),
                    list(&warm),
                    c.as_secs_f64() / w.as_secs_f64()
                );
            }
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&base);
    result
}

/// `runs` timed runs with the cache emptied before each, then `runs` with it filled (by one
/// untimed run first).
fn cold_and_warm(
    project: &Path,
    runs: usize,
    command: impl Fn() -> Command,
) -> Result<(Vec<Duration>, Vec<Duration>), String> {
    let cache = project.join(".tenet");
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let _ = std::fs::remove_dir_all(&cache);
        cold.push(timed("cold", command())?);
    }
    warm_up("the run that fills the cache", command())?;
    for _ in 0..runs {
        warm.push(timed("warm", command())?);
    }
    Ok((cold, warm))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Copy a file or a directory of files.
fn copy(from: &Path, to: &Path) -> Result<(), String> {
    if from.is_dir() {
        let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| e.to_string())?;
            copy(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        let text = std::fs::read_to_string(from).map_err(|e| format!("{}: {e}", from.display()))?;
        write(to, &text)
    }
}
