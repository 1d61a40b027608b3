//! `apply-memory`: the peak memory of `tenet migrate apply` on one migration of `--mb` MB
//! (50 by default: about 449k statements, a data backfill with index builds among it, the
//! same file `lint-vs-squawk` lints), measured with `/usr/bin/time`; print it against the
//! target (a few hundred MB: 400).
//!
//! ```text
//! cargo build --release -p tenet-cli -p tenet-bench
//! target/release/apply-memory [--url URL] [--mb 50]
//! ```
//!
//! Before segments were split with the chunked scanner, the file was one parse tree: 3.2 GB.

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use clap::Parser;
use tenet_bench::measure::{default_tenet, warm_up};

/// Peak memory of the apply, MB.
const TARGET_MB: f64 = 400.0;

#[derive(Parser)]
#[command(about = "Peak memory of `tenet migrate apply` on one big migration.")]
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
    /// Size of the migration, MB.
    #[arg(long, default_value_t = 50)]
    mb: usize,
}

fn main() -> ExitCode {
    tenet_bench::measure::exit_code(run(&Args::parse()))
}

fn run(args: &Args) -> Result<bool, String> {
    let tenet = args.tenet.clone().unwrap_or_else(default_tenet);
    let tenet = tenet.canonicalize().map_err(|e| {
        format!(
            "{}: {e} (cargo build --release -p tenet-cli)",
            tenet.display()
        )
    })?;
    let server = tenet_pg::Server::from_url(&args.url).map_err(|e| e.to_string())?;
    let db = server.scratch().map_err(|e| e.to_string())?;
    let project = std::env::temp_dir().join(format!("tenet-apply-memory-{}", std::process::id()));
    std::fs::create_dir_all(project.join("migrations")).map_err(|e| e.to_string())?;
    std::fs::write(
        project.join("tenet.toml"),
        "[migrations]\ndir = \"migrations\"\n",
    )
    .map_err(|e| e.to_string())?;
    let file = project.join("migrations/20240101000000_backfill.up.sql");
    let statements = tenet_bench::write_big_migration(&file, args.mb << 20);
    let bytes = std::fs::metadata(&file).map_err(|e| e.to_string())?.len();
    println!("apply memory: one migration of {statements} statements, {bytes} bytes");
    let mut hash = Command::new(&tenet);
    hash.current_dir(&project).args(["migrate", "hash"]);
    warm_up("tenet migrate hash", hash)?;
    let mut apply = Command::new("/usr/bin/time");
    apply
        .current_dir(&project)
        .args(["-f", "%M"])
        .arg(&tenet)
        .args(["migrate", "apply", "--url", &db.url()])
        .env_remove("DATABASE_URL")
        .env("TENET_DEV_URL", &args.url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let out = apply.output().map_err(|e| format!("/usr/bin/time: {e}"))?;
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let _ = std::fs::remove_dir_all(&project);
    if !out.status.success() {
        return Err(format!("tenet migrate apply failed: {stderr}"));
    }
    let kb: f64 = stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| format!("no peak memory in: {stderr}"))?;
    let mb = kb / 1024.0;
    let met = mb <= TARGET_MB;
    println!(
        "  tenet migrate apply: {:.1} s, peak memory {mb:.0} MB (target <= {TARGET_MB}): {}",
        elapsed.as_secs_f64(),
        if met { "met" } else { "MISSED" }
    );
    Ok(met)
}
