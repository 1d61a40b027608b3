//! The Todo API under load: requests per second and p50/p99 latency with isolation by the RLS
//! Tenet generates (through tenet-runtime), against the same API with an explicit owner filter
//! and no RLS. Target: within 10%. Both runs also check that no user saw or changed another's
//! task.
//!
//! ```sh
//! cargo build --release -p tenet-bench --bin todo-load && target/release/todo-load
//! ```

use clap::Parser;
use tenet_pg::Server;
use todo_app::load::{self, Report};
use todo_app::{prepare_database, Db, Isolation};
use uuid::Uuid;

#[derive(Parser)]
#[command(about = "Load-test the Todo API with RLS against an explicit owner filter.")]
struct Args {
    /// Server for the two benchmark databases (needs CREATEDB).
    #[arg(
        long,
        env = "TENET_BENCH_URL",
        default_value = "postgresql://postgres@127.0.0.1:5432/postgres",
        hide_env_values = true
    )]
    url: String,
    #[arg(long, default_value_t = 500)]
    users: usize,
    #[arg(long, default_value_t = 20)]
    tasks_each: usize,
    #[arg(long, default_value_t = 20000)]
    requests: usize,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, default_value_t = 10)]
    pool_size: u32,
    /// Measured rounds per mode, alternating (the machine may be shared).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    let server = Server::from_url(&args.url).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut setups = Vec::new();
    for isolation in [Isolation::Rls, Isolation::OwnerFilter] {
        let db = server.scratch().map_err(|e| e.to_string())?;
        let mut client = db.connect().map_err(|e| e.to_string())?;
        prepare_database(&mut client, isolation)?;
        let users = load::seed(&mut client, args.users, args.tasks_each)?;
        client.batch_execute("analyze").map_err(|e| e.to_string())?;
        let victims: Vec<(Uuid, Uuid)> = client
            .query("select id::text, user_id::text from tasks limit 1000", &[])
            .map_err(|e| e.to_string())?
            .iter()
            .map(|r| {
                let (t, u): (String, String) = (r.get(0), r.get(1));
                (t.parse().unwrap(), u.parse().unwrap())
            })
            .collect();
        setups.push((isolation, db, users, victims));
    }
    println!(
        "Todo API load: {} users x {} tasks, {} requests per round from {} clients, pool of {}",
        args.users, args.tasks_each, args.requests, args.concurrency, args.pool_size
    );
    let mut results: Vec<(Isolation, Vec<Report>)> = vec![
        (Isolation::Rls, Vec::new()),
        (Isolation::OwnerFilter, Vec::new()),
    ];
    runtime.block_on(async {
        let mut servers = Vec::new();
        for (isolation, db, _, _) in &setups {
            let pool = load::app_pool(db.config(), args.pool_size).await?;
            servers.push(load::serve(Db::new(pool, *isolation)).await);
        }
        // A warm-up round each, then alternating measured rounds.
        for round in 0..=args.rounds {
            for (i, (_, _, users, victims)) in setups.iter().enumerate() {
                let report = load::run(
                    servers[i].0,
                    users,
                    victims,
                    args.requests,
                    args.concurrency,
                )
                .await;
                if !report.violations.is_empty() || !report.errors.is_empty() {
                    return Err(format!(
                        "{:?}: {} violations, {} errors, e.g. {:?}",
                        setups[i].0,
                        report.violations.len(),
                        report.errors.len(),
                        report.violations.iter().chain(&report.errors).next()
                    ));
                }
                if round > 0 {
                    results[i].1.push(report);
                }
            }
        }
        Ok::<(), String>(())
    })?;
    let summary = |reports: &[Report]| {
        let mut all = Report::default();
        for r in reports {
            all.requests += r.requests;
            all.elapsed += r.elapsed;
            all.latencies.extend(r.latencies.iter().copied());
            all.refused += r.refused;
        }
        all
    };
    let rls = summary(&results[0].1);
    let filter = summary(&results[1].1);
    for (name, r) in [
        ("RLS via tenet-runtime", &rls),
        ("explicit owner filter", &filter),
    ] {
        println!(
            "{name:<24} {:>8.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({} cross-user attempts refused, 0 leaks)",
            r.requests_per_second(),
            r.percentile(0.5).as_secs_f64() * 1e3,
            r.percentile(0.99).as_secs_f64() * 1e3,
            r.refused
        );
    }
    let ratio = rls.requests_per_second() / filter.requests_per_second();
    println!(
        "throughput RLS / filter  {ratio:.3}   target >= 0.90: {}",
        if ratio >= 0.9 { "met" } else { "NOT met" }
    );
    Ok(())
}
