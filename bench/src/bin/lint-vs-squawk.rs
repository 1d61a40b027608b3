//! `lint-vs-squawk`: time `tenet lint` against squawk on the same deterministic migrations,
//! the replay mode against replaying the same history with psql, and the memory of linting one
//! 50 MB migration; print the ratios against the targets.
//!
//! ```text
//! python3 -m venv /tmp/squawk && /tmp/squawk/bin/pip install squawk-cli
//! cargo build --release -p tenet-cli -p tenet-bench
//! target/release/lint-vs-squawk --squawk /tmp/squawk/bin/squawk [--migrations 250] [--runs 7]
//!     [--history 300] [--big-mb 50] [--url URL]
//! ```
//!
//! 1. `--migrations` files of 10 statements each (2,500 by default): the DDL a growing
//!    multi-tenant application writes (tables, columns, indexes, constraints, backfills,
//!    renames), safe and unsafe forms mixed, from a fixed seed. `tenet lint --offline` (static
//!    analysis, like squawk) and squawk each lint every file in one process: median of `--runs`
//!    runs after a warm-up. Target: tenet at most squawk's time.
//! 2. A `--history` of migrations from the same generator: `tenet lint --dev-url URL` (replay on
//!    a scratch database, statements observed) against `psql -f` of every file, in one psql
//!    process, into a fresh database. Target: at most 2x psql.
//! 3. One migration of `--big-mb` MB (about 449k statements for 50 MB: a data backfill with
//!    DDL among it), linted offline and with the replay: time and peak memory (`/usr/bin/time`).
//!    Target: a few hundred MB.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// tenet lint --offline at most this times squawk's time.
const TARGET_STATIC: f64 = 1.0;
/// The replay at most this times psql's.
const TARGET_REPLAY: f64 = 2.0;
/// Peak memory for the big migration, MB.
const TARGET_MEMORY_MB: f64 = 400.0;

struct Options {
    migrations: usize,
    runs: usize,
    tenet: PathBuf,
    squawk: String,
    psql: String,
    url: String,
    history: usize,
    big_mb: usize,
}

fn main() {
    let options = parse_args();
    let dir = std::env::temp_dir().join(format!("tenet-lint-vs-squawk-{}", std::process::id()));
    let mut met = true;
    met &= static_vs_squawk(&options, &dir.join("static"));
    if options.history > 0 {
        met &= replay_vs_psql(&options, &dir.join("history"));
    }
    if options.big_mb > 0 {
        met &= big_migration(&options, &dir.join("big"));
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{}",
        if met {
            "all targets met"
        } else {
            "some targets missed"
        }
    );
}

fn corpus(dir: &Path, migrations: usize) -> (Vec<PathBuf>, usize) {
    let migrations_dir = dir.join("migrations");
    std::fs::create_dir_all(&migrations_dir).expect("create the corpus directory");
    let statements = write_corpus(&migrations_dir, migrations);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&migrations_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    files.sort();
    println!(
        "corpus: {} migrations, {statements} statements, {} bytes",
        files.len(),
        files
            .iter()
            .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
            .sum::<u64>(),
    );
    (files, statements)
}

fn tenet_lint(options: &Options, dir: &Path, extra: &[&str]) -> Command {
    let mut tenet = Command::new(&options.tenet);
    tenet
        .current_dir(dir)
        .args(["lint", "--format", "json"])
        .args(extra)
        .env_remove("DATABASE_URL")
        .env_remove("TENET_DEV_URL");
    tenet
}

fn static_vs_squawk(options: &Options, dir: &Path) -> bool {
    println!("\n## tenet lint --offline vs squawk");
    let (files, statements) = corpus(dir, options.migrations);
    let mut tenet = tenet_lint(options, dir, &["--offline", "migrations"]);
    let mut squawk = Command::new(&options.squawk);
    squawk
        .current_dir(dir)
        .args(["--reporter", "json"])
        .args(files.iter().map(|f| f.strip_prefix(dir).unwrap()));
    let tenet_findings = count_findings(&mut tenet, "tenet");
    let squawk_findings = count_findings(&mut squawk, "squawk");
    println!("findings: tenet {tenet_findings}, squawk {squawk_findings}");
    let tenet_time = time(&mut tenet, options.runs);
    let squawk_time = time(&mut squawk, options.runs);
    println!(
        "tenet lint --offline: {:>8.1} ms  ({:.1} µs/statement)",
        ms(tenet_time),
        tenet_time.as_secs_f64() * 1e6 / statements as f64
    );
    println!(
        "squawk:               {:>8.1} ms  ({:.1} µs/statement)",
        ms(squawk_time),
        squawk_time.as_secs_f64() * 1e6 / statements as f64
    );
    verdict(
        "tenet/squawk",
        tenet_time.as_secs_f64() / squawk_time.as_secs_f64(),
        TARGET_STATIC,
    )
}

fn replay_vs_psql(options: &Options, dir: &Path) -> bool {
    println!("\n## tenet lint (replay) vs psql replaying the same history");
    let (files, _) = corpus(dir, options.history);
    let mut tenet = tenet_lint(options, dir, &["--dev-url", &options.url, "migrations"]);
    let findings = count_findings(&mut tenet, "tenet (replay)");
    println!("findings: tenet (replay) {findings}");
    let runs = options.runs.min(5);
    let tenet_time = time(&mut tenet, runs);
    let mut psql_times = Vec::new();
    for run in 0..=runs {
        let db = format!("tenet_bench_psql_{}_{run}", std::process::id());
        admin(options, &format!("CREATE DATABASE {db}"));
        let mut psql = Command::new(&options.psql);
        psql.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(url_with_database(&options.url, &db))
            .args(
                files
                    .iter()
                    .flat_map(|f| ["-f".into(), f.clone().into_os_string()]),
            )
            .stdout(Stdio::null());
        let start = Instant::now();
        let status = psql.status().expect("run psql");
        let elapsed = start.elapsed();
        admin(options, &format!("DROP DATABASE {db}"));
        assert!(status.success(), "psql failed replaying the history");
        if run > 0 {
            psql_times.push(elapsed);
        }
    }
    psql_times.sort();
    let psql_time = psql_times[psql_times.len() / 2];
    println!(
        "tenet lint (replay, every linted statement observed): {:>8.1} ms",
        ms(tenet_time)
    );
    println!(
        "psql -f (one process, every file):                    {:>8.1} ms",
        ms(psql_time)
    );
    verdict(
        "tenet replay/psql",
        tenet_time.as_secs_f64() / psql_time.as_secs_f64(),
        TARGET_REPLAY,
    )
}

fn big_migration(options: &Options, dir: &Path) -> bool {
    println!("\n## one {} MB migration", options.big_mb);
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    let path = dir.join("migrations/20240101000000_backfill.up.sql");
    let statements = tenet_bench::write_big_migration(&path, options.big_mb << 20);
    println!(
        "file: {statements} statements, {} bytes",
        std::fs::metadata(&path).unwrap().len()
    );
    let mut met = true;
    for (mode, extra) in [
        ("--offline", vec!["--offline"]),
        ("replay", vec!["--dev-url", options.url.as_str()]),
    ] {
        let mut command = Command::new("/usr/bin/time");
        command
            .current_dir(dir)
            .args(["-f", "%M"])
            .arg(&options.tenet)
            .args(["lint", "--format", "json"])
            .args(&extra)
            .arg("migrations")
            .env_remove("DATABASE_URL")
            .env_remove("TENET_DEV_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let start = Instant::now();
        let out = command.output().expect("run /usr/bin/time");
        let elapsed = start.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let kb: f64 = stderr
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or_else(|| panic!("no peak memory in: {stderr}"));
        if !matches!(out.status.code(), Some(0) | Some(1)) {
            panic!("tenet lint {mode} failed: {stderr}");
        }
        println!(
            "tenet lint {mode}: {:.1} s, peak memory {:.0} MB",
            elapsed.as_secs_f64(),
            kb / 1024.0
        );
        met &= verdict(
            &format!("peak MB / {TARGET_MEMORY_MB:.0} MB ({mode})"),
            kb / 1024.0 / TARGET_MEMORY_MB,
            1.0,
        );
    }
    met
}

fn verdict(what: &str, ratio: f64, target: f64) -> bool {
    let met = ratio <= target;
    println!(
        "ratio {what}: {ratio:.2} (target at most {target:.1}: {})",
        if met { "met" } else { "missed" }
    );
    met
}

/// Run SQL on the server's maintenance database.
fn admin(options: &Options, sql: &str) {
    let status = Command::new(&options.psql)
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            &options.url,
            "-c",
            sql,
        ])
        .status()
        .expect("run psql");
    assert!(status.success(), "{sql} failed");
}

/// `postgresql://u@h:p/db?x` with another database.
fn url_with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A data migration of about `bytes` bytes: a table, batches of inserts, and every 50,000
/// statements a piece of DDL on the table it fills.
fn parse_args() -> Options {
    let mut options = Options {
        migrations: 250,
        runs: 7,
        tenet: tenet_bench::measure::default_tenet(),
        squawk: "squawk".to_string(),
        psql: "psql".to_string(),
        url: std::env::var("TENET_BENCH_URL")
            .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/postgres".to_string()),
        history: 300,
        big_mb: 50,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        let number = |v: String, what: &str| -> usize {
            v.parse()
                .unwrap_or_else(|_| usage(&format!("{what} takes a number")))
        };
        match arg.as_str() {
            "--migrations" => options.migrations = number(value(), "--migrations"),
            "--runs" => options.runs = number(value(), "--runs"),
            "--history" => options.history = number(value(), "--history"),
            "--big-mb" => options.big_mb = number(value(), "--big-mb"),
            "--tenet" => options.tenet = PathBuf::from(value()),
            "--squawk" => options.squawk = value(),
            "--psql" => options.psql = value(),
            "--url" => options.url = value(),
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    // The commands run in the corpus's directory: a relative path would not reach the binary.
    options.tenet = options.tenet.canonicalize().unwrap_or_else(|_| {
        usage(&format!(
            "{} not found: cargo build --release -p tenet-cli",
            options.tenet.display()
        ))
    });
    options.runs = options.runs.max(1);
    options
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("lint-vs-squawk: {problem}");
    }
    eprintln!("usage: lint-vs-squawk [--migrations N] [--runs N] [--history N] [--big-mb N] [--tenet PATH] [--squawk PATH] [--psql PATH] [--url URL]");
    std::process::exit(2);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Run once; the number of findings in its JSON output (squawk: one object per violation).
fn count_findings(command: &mut Command, name: &str) -> usize {
    let out = command.stderr(Stdio::piped()).output().unwrap_or_else(|e| {
        eprintln!("lint-vs-squawk: cannot run {name}: {e} (squawk: pip install squawk-cli)");
        std::process::exit(2);
    });
    let text = String::from_utf8_lossy(&out.stdout);
    // Exit 1 means findings; anything else is a failure.
    if !matches!(out.status.code(), Some(0) | Some(1)) {
        eprintln!(
            "lint-vs-squawk: {name} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        std::process::exit(2);
    }
    text.matches("\"rule").count()
}

/// Median wall time of `runs` runs, after one warm-up run.
fn time(command: &mut Command, runs: usize) -> Duration {
    command.stdout(Stdio::null()).stderr(Stdio::null());
    let _ = command.status();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let _ = command.status().expect("runs");
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// A small deterministic generator (64-bit LCG): the same corpus on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const COLUMN_TYPES: &[&str] = &[
    "text",
    "bigint",
    "integer",
    "timestamptz",
    "timestamp",
    "varchar(120)",
    "numeric(12, 2)",
    "boolean",
    "uuid",
    "jsonb",
];

/// Write the corpus; returns the number of statements.
fn write_corpus(dir: &Path, migrations: usize) -> usize {
    let mut rng = Rng(0x7e4e7);
    let mut statements = 0;
    // Tables whose c1 was renamed already (renaming it twice would not replay).
    let mut renamed = std::collections::HashSet::new();
    for m in 0..migrations {
        let version = 20240101000000u64 + m as u64 * 100;
        let table = format!("t{m}");
        let earlier_index = if m == 0 { 0 } else { rng.below(m) };
        let earlier = format!("t{earlier_index}");
        let mut sql = String::new();
        let mut stmt = |sql: &mut String, text: String| {
            sql.push_str(&text);
            sql.push_str(";\n");
            statements += 1;
        };
        let _ = writeln!(sql, "-- migration {m}: {table}");
        if m % 3 != 0 {
            stmt(&mut sql, "SET lock_timeout = '5s'".into());
        } else {
            stmt(&mut sql, "SET statement_timeout = '60s'".into());
        }
        let mut columns = String::new();
        for c in 0..(3 + rng.below(6)) {
            let ty = COLUMN_TYPES[rng.below(COLUMN_TYPES.len())];
            let not_null = if rng.below(3) == 0 { " NOT NULL" } else { "" };
            let _ = write!(columns, ",\n  c{c} {ty}{not_null}");
        }
        let id = if m % 7 == 0 {
            "id serial PRIMARY KEY"
        } else {
            "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
        };
        stmt(
            &mut sql,
            format!(
                "CREATE TABLE {table} (\n  {id},\n  tenant_id uuid NOT NULL,\n  parent_id bigint,\n  created_at timestamptz NOT NULL DEFAULT now(){columns}\n)"
            ),
        );
        stmt(
            &mut sql,
            format!("CREATE INDEX {table}_tenant ON {table} (tenant_id, created_at)"),
        );
        stmt(
            &mut sql,
            format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"),
        );
        // Changes to an earlier table: the statements lint is for.
        let mut action = rng.below(6);
        if action == 4 && !renamed.insert(earlier_index) {
            action = 3;
        }
        match action {
            0 => stmt(
                &mut sql,
                format!("ALTER TABLE {earlier} ADD COLUMN note_{m} text NOT NULL"),
            ),
            1 => stmt(
                &mut sql,
                format!(
                    "ALTER TABLE {earlier} ADD COLUMN token_{m} uuid DEFAULT gen_random_uuid()"
                ),
            ),
            2 => stmt(
                &mut sql,
                format!("ALTER TABLE {earlier} ALTER COLUMN c0 TYPE text"),
            ),
            3 => stmt(
                &mut sql,
                format!("ALTER TABLE {earlier} ADD COLUMN flag_{m} boolean NOT NULL DEFAULT false"),
            ),
            4 => stmt(
                &mut sql,
                format!("ALTER TABLE {earlier} RENAME COLUMN c1 TO c1_{m}"),
            ),
            _ => stmt(
                &mut sql,
                format!("ALTER TABLE {earlier} ALTER COLUMN c0 SET NOT NULL"),
            ),
        }
        if rng.below(2) == 0 {
            stmt(
                &mut sql,
                format!("CREATE INDEX CONCURRENTLY {table}_x_{m} ON {earlier} (created_at)"),
            );
        } else {
            stmt(
                &mut sql,
                format!("CREATE INDEX {table}_x_{m} ON {earlier} (created_at)"),
            );
        }
        stmt(
            &mut sql,
            format!(
                "ALTER TABLE {table} ADD CONSTRAINT {table}_parent_fk FOREIGN KEY (parent_id) REFERENCES {earlier} (id){}",
                if rng.below(2) == 0 { " NOT VALID" } else { "" }
            ),
        );
        stmt(
            &mut sql,
            format!(
                "UPDATE {earlier} SET created_at = now() WHERE id < {}",
                rng.below(1000)
            ),
        );
        stmt(
            &mut sql,
            format!(
                "CREATE OR REPLACE VIEW {table}_recent AS SELECT id, tenant_id, created_at FROM {table} WHERE created_at > now() - interval '{} days'",
                1 + rng.below(30)
            ),
        );
        stmt(
            &mut sql,
            format!("COMMENT ON TABLE {table} IS 'generated table {m}'"),
        );
        std::fs::write(dir.join(format!("{version}_{table}.up.sql")), sql)
            .expect("write a migration");
        std::fs::write(
            dir.join(format!("{version}_{table}.down.sql")),
            format!("DROP TABLE {table} CASCADE;\n"),
        )
        .expect("write a migration");
    }
    statements
}
