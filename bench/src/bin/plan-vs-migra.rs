//! Time `tenet plan` against migra on the same pair of databases, and check both plans.
//!
//! Loads a generated schema of `--tables` tables (2,000 by default) into one database and a
//! copy with about 5% of its objects changed into another, times `tenet plan --from A --to B`
//! and `migra --unsafe A B` (one warm-up, then `--runs` alternating runs), prints the medians
//! and the speed-up migra/tenet (target: at least 10x), then applies each tool's plan to a fresh
//! copy of A and says whether the result has exactly B's catalog.
//!
//! ```sh
//! python3 -m venv /tmp/migra && /tmp/migra/bin/pip install migra psycopg2-binary
//! cargo build --release -p tenet-cli -p tenet-bench
//! target/release/plan-vs-migra --migra /tmp/migra/bin/migra
//! ```

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;

use clap::Parser;
use tenet_bench::measure::{default_tenet, describe, list, median, timed_allowing};
use tenet_pg::{ScratchDb, Server};

/// tenet plan must be at least this many times faster than migra.
const TARGET_SPEEDUP: f64 = 10.0;

#[derive(Parser)]
#[command(
    about = "Time `tenet plan` against migra on a generated schema pair, and check both plans."
)]
struct Args {
    /// Server to create the benchmark databases on (needs CREATEDB; TCP, for migra).
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
    /// The migra command (`pip install migra psycopg2-binary`).
    #[arg(long, default_value = "migra")]
    migra: PathBuf,
    /// Number of tenant tables in the generated schema.
    #[arg(long, default_value_t = tenet_bench::DEFAULT_TABLES)]
    tables: usize,
    /// Share of objects changed in the second schema, in percent.
    #[arg(long, default_value_t = 5.0)]
    percent: f64,
    #[arg(long, default_value_t = tenet_bench::DEFAULT_SEED)]
    seed: u64,
    /// Timed runs of each tool, after one warm-up run.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Skip applying the plans (two more loads of the schema).
    #[arg(long)]
    no_verify: bool,
}

fn main() -> ExitCode {
    tenet_bench::measure::exit_code(run(&Args::parse()).map(|()| true))
}

fn run(args: &Args) -> Result<(), String> {
    let tenet = args.tenet.clone().unwrap_or_else(default_tenet);
    let server = Server::from_url(&args.url).map_err(|e| e.to_string())?;
    let schema = tenet_bench::Schema::generate(args.tables, args.seed);
    let (changed, changes) = schema.mutate(args.percent, args.seed);
    println!("tenet plan vs migra");
    println!("  server: {}", server.target());
    println!(
        "  schema: {} tenant tables; the target has {} changes ({}% of objects)",
        schema.tables.len(),
        changes.len(),
        args.percent
    );

    let from = load(&server, &schema, "from")?;
    let to = load(&server, &changed, "to")?;
    let (from_url, to_url) = (from.url(), to.url());
    // SQLAlchemy names the driver in the scheme.
    let sqlalchemy = |url: &str| url.replacen("postgresql://", "postgresql+psycopg2://", 1);

    let tenet_cmd = || {
        let mut c = Command::new(&tenet);
        c.args([
            "plan",
            "--allow-destructive",
            "--from",
            &from_url,
            "--to",
            &to_url,
        ])
        .env_remove("DATABASE_URL")
        .env_remove("TENET_DEV_URL");
        c
    };
    let migra_cmd = || {
        let mut c = Command::new(&args.migra);
        c.arg("--unsafe")
            .arg(sqlalchemy(&from_url))
            .arg(sqlalchemy(&to_url));
        c
    };
    // migra exits 2 when it found differences.
    let tenet_plan = output("tenet plan", tenet_cmd(), &[0])?;
    let migra_plan = output("migra", migra_cmd(), &[0, 2])?;
    println!(
        "  plans:  tenet {} statements, migra {} statements",
        tenet_catalog::source::statement_spans(&tenet_plan).len(),
        tenet_catalog::source::statement_spans(&migra_plan).len()
    );

    let (mut tenet_times, mut migra_times) = (Vec::new(), Vec::new());
    for round in 0..args.runs {
        if round % 2 == 0 {
            tenet_times.push(timed_allowing("tenet plan", tenet_cmd(), &[0])?);
            migra_times.push(timed_allowing("migra", migra_cmd(), &[0, 2])?);
        } else {
            migra_times.push(timed_allowing("migra", migra_cmd(), &[0, 2])?);
            tenet_times.push(timed_allowing("tenet plan", tenet_cmd(), &[0])?);
        }
    }
    let (t, m) = (median(&tenet_times), median(&migra_times));
    let speedup = m.as_secs_f64() / t.as_secs_f64();
    println!();
    println!(
        "tenet plan      median {:>8.3} s   runs: {}",
        t.as_secs_f64(),
        list(&tenet_times)
    );
    println!(
        "migra           median {:>8.3} s   runs: {}",
        m.as_secs_f64(),
        list(&migra_times)
    );
    println!(
        "speed-up migra/tenet   {speedup:.1}x   target >= {TARGET_SPEEDUP:.0}x: {}",
        if speedup >= TARGET_SPEEDUP {
            "met"
        } else {
            "NOT met"
        }
    );

    if !args.no_verify {
        let expected = catalog_of(&to)?;
        for (tool, plan) in [("tenet plan", &tenet_plan), ("migra", &migra_plan)] {
            let copy = load(&server, &schema, tool)?;
            let verdict = match apply(&copy, plan) {
                Err(e) => format!("FAILS to apply: {e}"),
                Ok(()) => match differences(&expected, &catalog_of(&copy)?) {
                    0 => "gives exactly the target catalog".to_string(),
                    n => format!("differs from the target in {n} objects"),
                },
            };
            println!("{tool:<15} plan applied to a copy of the source: {verdict}");
        }
    }
    Ok(())
}

fn load(server: &Server, schema: &tenet_bench::Schema, what: &str) -> Result<ScratchDb, String> {
    let db = server.scratch().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut client = db.connect().map_err(|e| e.to_string())?;
    for batch in schema.to_sql_batches(100) {
        client
            .batch_execute(&batch)
            .map_err(|e| format!("loading the {what} schema failed: {}", describe(&e)))?;
    }
    println!(
        "  loaded {what} into {} in {:.1} s",
        db.name(),
        started.elapsed().as_secs_f64()
    );
    Ok(db)
}

fn output(what: &str, mut cmd: Command, ok: &[i32]) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if !out.status.code().is_some_and(|c| ok.contains(&c)) {
        return Err(format!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Apply a plan statement by statement, outside a transaction, as a migration runner would.
fn apply(db: &ScratchDb, plan: &str) -> Result<(), String> {
    let mut client = db.connect().map_err(|e| e.to_string())?;
    for (start, end) in tenet_catalog::source::statement_spans(plan) {
        client
            .batch_execute(&plan[start..end])
            .map_err(|e| describe(&e))?;
    }
    Ok(())
}

fn catalog_of(db: &ScratchDb) -> Result<tenet_catalog::Catalog, String> {
    let mut client = db.connect().map_err(|e| e.to_string())?;
    tenet_catalog::inspect(&mut client).map_err(|e| e.to_string())
}

/// How many top-level objects differ between two catalogs (column order aside: no tool can
/// reorder the columns of a table that stays).
fn differences(a: &tenet_catalog::Catalog, b: &tenet_catalog::Catalog) -> usize {
    fn by_column_name(c: &tenet_catalog::Catalog) -> tenet_catalog::Catalog {
        let mut c = c.clone();
        for t in &mut c.tables {
            t.columns.sort_by(|x, y| x.name.cmp(&y.name));
        }
        c
    }
    let (a, b) = (by_column_name(a), by_column_name(b));
    fn count<T: PartialEq>(x: &[T], y: &[T]) -> usize {
        x.iter().filter(|i| !y.contains(i)).count() + y.iter().filter(|i| !x.contains(i)).count()
    }
    count(&a.tables, &b.tables)
        + count(&a.views, &b.views)
        + count(&a.functions, &b.functions)
        + count(&a.types, &b.types)
        + count(&a.sequences, &b.sequences)
        + count(&a.schemas, &b.schemas)
}
