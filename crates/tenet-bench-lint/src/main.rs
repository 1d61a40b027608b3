//! `bench-lint`: time `tenet lint` and squawk on the same deterministic corpus of migrations
//! and print the ratio.
//!
//! ```text
//! cargo build --release -p tenet-cli -p tenet-bench-lint
//! pip install squawk-cli
//! target/release/bench-lint [--migrations 250] [--runs 7] [--tenet PATH] [--squawk PATH]
//!                           [--replay | --dev-url URL]   # also time the replay mode
//! ```
//!
//! The corpus is `--migrations` files of 10 statements each (2,500 by default): the DDL a
//! growing multi-tenant application writes (tables, columns, indexes, constraints, backfills,
//! renames), safe and unsafe forms mixed, generated from a fixed seed. Each tool lints every
//! file in one process; the time is the median of `--runs` runs after one warm-up run.
//! `tenet lint --offline` is the like-for-like comparison with squawk (static analysis of the
//! files); with `--replay` (embedded cluster) or `--dev-url` the default mode, which replays
//! every migration on a scratch database first, is timed as well.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Options {
    migrations: usize,
    runs: usize,
    tenet: PathBuf,
    squawk: String,
    dev_url: Option<String>,
    /// Time the replay mode on the embedded throwaway cluster.
    replay: bool,
}

fn main() {
    let options = parse_args();
    let dir = std::env::temp_dir().join(format!("tenet-bench-lint-{}", std::process::id()));
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations).expect("create the corpus directory");
    let statements = write_corpus(&migrations, options.migrations);
    let files: Vec<PathBuf> = {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&migrations)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
            .collect();
        files.sort();
        files
    };
    println!(
        "corpus: {} migrations, {statements} statements, {} bytes ({})",
        files.len(),
        files
            .iter()
            .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
            .sum::<u64>(),
        migrations.display()
    );

    let mut tenet = Command::new(&options.tenet);
    tenet
        .current_dir(&dir)
        .args(["lint", "--offline", "--format", "json", "migrations"])
        .env_remove("DATABASE_URL")
        .env_remove("TENET_DEV_URL");
    let mut squawk = Command::new(&options.squawk);
    squawk
        .current_dir(&dir)
        .args(["--reporter", "json"])
        .args(files.iter().map(|f| f.strip_prefix(&dir).unwrap()));

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
    let ratio = tenet_time.as_secs_f64() / squawk_time.as_secs_f64();
    println!(
        "ratio tenet/squawk: {ratio:.2} ({})",
        if ratio <= 1.0 {
            "tenet is no slower: target met"
        } else {
            "tenet is slower: target missed"
        }
    );

    if options.replay || options.dev_url.is_some() {
        let mut replay = Command::new(&options.tenet);
        replay
            .current_dir(&dir)
            .args(["lint", "--format", "json", "migrations"])
            .env_remove("DATABASE_URL")
            .env_remove("TENET_DEV_URL");
        let server = match &options.dev_url {
            Some(url) => {
                replay.args(["--dev-url", url]);
                "a scratch database on --dev-url"
            }
            None => "the embedded cluster",
        };
        let findings = count_findings(&mut replay, "tenet (replay)");
        let replay_time = time(&mut replay, options.runs.min(3));
        println!(
            "tenet lint (replaying every migration on {server}): {:.1} ms, {findings} findings, ratio to squawk {:.2}",
            ms(replay_time),
            replay_time.as_secs_f64() / squawk_time.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn parse_args() -> Options {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut options = Options {
        migrations: 250,
        runs: 7,
        tenet: workspace.join("target/release/tenet"),
        squawk: "squawk".to_string(),
        dev_url: None,
        replay: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--migrations" => {
                options.migrations = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--migrations takes a number"))
            }
            "--runs" => {
                options.runs = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--runs takes a number"))
            }
            "--tenet" => options.tenet = PathBuf::from(value()),
            "--squawk" => options.squawk = value(),
            "--dev-url" => options.dev_url = Some(value()),
            "--replay" => options.replay = true,
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if !options.tenet.exists() {
        usage(&format!(
            "{} not found: cargo build --release -p tenet-cli",
            options.tenet.display()
        ));
    }
    options.runs = options.runs.max(1);
    options
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("bench-lint: {problem}");
    }
    eprintln!("usage: bench-lint [--migrations N] [--runs N] [--tenet PATH] [--squawk PATH] [--replay | --dev-url URL]");
    std::process::exit(2);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Run once; the number of findings in its JSON output (squawk: one object per violation).
fn count_findings(command: &mut Command, name: &str) -> usize {
    let out = command.stderr(Stdio::piped()).output().unwrap_or_else(|e| {
        eprintln!("bench-lint: cannot run {name}: {e} (squawk: pip install squawk-cli)");
        std::process::exit(2);
    });
    let text = String::from_utf8_lossy(&out.stdout);
    // Exit 1 means findings; anything else is a failure.
    if !matches!(out.status.code(), Some(0) | Some(1)) {
        eprintln!(
            "bench-lint: {name} failed ({}): {}",
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
