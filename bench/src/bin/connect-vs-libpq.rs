//! Connecting: Tenet (tenet-pg, rustls) against libpq (pgbench -C), on the same connection
//! string, plaintext or TLS. Prints the average time per connection and the ratio.
//!
//! ```sh
//! cargo run --release -p tenet-bench --bin connect-vs-libpq -- \
//!     --url "host=127.0.0.1 user=postgres dbname=postgres sslmode=require"
//! ```

use std::process::Command;
use std::time::Instant;

use clap::Parser;

#[derive(Parser)]
struct Args {
    /// A libpq connection string (URL or key=value) both sides understand.
    #[arg(long)]
    url: String,
    /// Connections each side opens.
    #[arg(long, default_value_t = 200)]
    connections: u32,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("connect-vs-libpq: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), String> {
    // The first connection also reads the settings and builds the TLS configuration, once per
    // process, as every `tenet` command does.
    let started = Instant::now();
    let server = tenet_pg::Server::from_url(&args.url).map_err(|e| e.to_string())?;
    let first_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    for _ in 0..args.connections {
        drop(server.connect().map_err(|e| e.to_string())?);
    }
    let tenet_ms = started.elapsed().as_secs_f64() * 1e3 / f64::from(args.connections);

    let script = std::env::temp_dir().join(format!("connect-vs-libpq-{}.sql", std::process::id()));
    std::fs::write(&script, "SELECT 1;\n").map_err(|e| e.to_string())?;
    let out = Command::new("pgbench")
        .args(["-C", "-n", "-t", &args.connections.to_string(), "-f"])
        .arg(&script)
        .arg(&args.url)
        .output();
    let _ = std::fs::remove_file(&script);
    let out = out.map_err(|e| format!("cannot run pgbench (postgresql-contrib/client): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "pgbench failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let libpq_ms: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("average connection time = "))
        .and_then(|rest| rest.trim_end_matches(" ms").trim().parse().ok())
        .ok_or("pgbench printed no average connection time")?;

    println!("target: {}", server.target());
    println!("first connection (settings, TLS config, connect): {first_ms:.2} ms");
    println!("tenet-pg: {tenet_ms:.2} ms per connection");
    println!("libpq (pgbench -C): {libpq_ms:.2} ms per connection");
    println!("ratio tenet/libpq: {:.2}", tenet_ms / libpq_ms);
    Ok(())
}
