//! `policy-vs-filter`: what tenant isolation costs, and how long a proof takes.
//!
//! 1. **Lookup** (pgbench): 1,000,000 rows across 1,000 tenants, a tenant's item by number,
//!    three ways, on the same data:
//!    - `explicit`: no row-level security, `WHERE tenant_id = $t AND item_no = $k`, index
//!      `(tenant_id, item_no)`;
//!    - `generated`: the policy `tenet tenancy generate` writes (the setting read once in a
//!      sub-select), `WHERE item_no = $k`, same index;
//!    - `naive`: `current_setting()` compared per row, index on `item_no` only (no tenant index).
//!
//!    Every transaction has the same shape for all three, so the ratios isolate what the policy
//!    costs: set the tenant (`set_config('app.tenant_id', $t, ...)`), then look up. Two modes:
//!    `prepared` (two statements, plans cached, as drivers run them: the headline ratio) and
//!    `simple` (both in one round trip, `\;`, every lookup planned anew, so the cost of planning
//!    the policy shows). A bare explicit lookup (no set_config) is printed for reference. The
//!    explicit and generated runs come in back-to-back pairs (alternating which goes first);
//!    the median of the pair ratios is the result, which holds up on a shared machine.
//! 2. **Prove**: `tenet prove` (the library) on a generated 100-table tenant schema
//!    (`tenet_bench::Schema`), with an app role granted every table.
//!
//! Everything happens in scratch databases that are dropped at the end; the roles it creates
//! are dropped too.

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;

use clap::Parser;
use tenet_config::Tenancy;
use tenet_tenancy::{generate, prove, Model};

const APP: &str = "tenet_bench_tenancy_app";
const TARGET_OVERHEAD: f64 = 1.05;
const TARGET_PROVE_SECS: f64 = 10.0;

#[derive(Parser)]
#[command(
    about = "Tenant isolation benchmarks: generated policy vs explicit filter vs naive policy (pgbench), and prove on 100 tables."
)]
struct Args {
    /// Server to create the benchmark databases on (needs CREATEDB and CREATEROLE).
    #[arg(
        long,
        env = "TENET_BENCH_URL",
        default_value = "postgresql://postgres@127.0.0.1:5432/postgres",
        hide_env_values = true
    )]
    url: String,
    /// The pgbench binary (default: the server's version in /usr/lib/postgresql/N/bin).
    #[arg(long)]
    pgbench: Option<PathBuf>,
    #[arg(long, default_value_t = 1000)]
    tenants: u32,
    #[arg(long, default_value_t = 1000)]
    rows_per_tenant: u32,
    /// Seconds per pgbench run.
    #[arg(long, default_value_t = 3)]
    seconds: u32,
    /// Paired (explicit, generated) runs per protocol mode.
    #[arg(long, default_value_t = 12)]
    pairs: usize,
    /// pgbench clients (and threads).
    #[arg(long, default_value_t = 2)]
    clients: u32,
    /// Tables of the schema prove runs on.
    #[arg(long, default_value_t = 100)]
    tables: usize,
    /// Only the lookup benchmark, or only prove.
    #[arg(long, value_parser = ["lookup", "prove"])]
    only: Option<String>,
    /// Exit with status 1 when a target is missed.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = run(&args);
    drop_role();
    tenet_pg::run_cleanup();
    match result {
        Ok(met) if met || !args.check => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(3)
        }
    }
}

fn server(url: &str) -> Result<tenet_pg::Server, String> {
    tenet_pg::Server::from_url(url).map_err(|e| e.to_string())
}

fn run(args: &Args) -> Result<bool, String> {
    let server = server(&args.url)?;
    let mut admin = server.connect().map_err(|e| e.to_string())?;
    let version: String = admin
        .query_one("SELECT current_setting('server_version')", &[])
        .map_err(|e| e.to_string())?
        .get(0);
    admin
        .batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE {APP} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        ))
        .map_err(|e| e.to_string())?;
    println!(
        "tenancy benchmarks on PostgreSQL {version} at {}",
        server.target()
    );
    let mut met = true;
    if args.only.as_deref() != Some("prove") {
        met &= lookup(args, &server, &version)?;
    }
    if args.only.as_deref() != Some("lookup") {
        met &= prove_bench(args, &server)?;
    }
    Ok(met)
}

fn drop_role() {
    let args = Args::parse();
    if let Ok(server) = tenet_pg::Server::from_url(&args.url) {
        if let Ok(mut c) = server.connect() {
            let _ = c.batch_execute(&format!("DROP ROLE IF EXISTS {APP}"));
        }
    }
}

fn exec(client: &mut postgres::Client, sql: &str) -> Result<(), String> {
    client
        .batch_execute(sql)
        .map_err(|e| match e.as_db_error() {
            Some(d) => format!("{} (SQLSTATE {})\n{sql}", d.message(), d.code().code()),
            None => e.to_string(),
        })
}

fn lookup(args: &Args, server: &tenet_pg::Server, version: &str) -> Result<bool, String> {
    let major = version.split(['.', ' ']).next().unwrap_or("15");
    let pgbench = args.pgbench.clone().unwrap_or_else(|| {
        let p = PathBuf::from(format!("/usr/lib/postgresql/{major}/bin/pgbench"));
        if p.is_file() {
            p
        } else {
            PathBuf::from("pgbench")
        }
    });
    let rows = u64::from(args.tenants) * u64::from(args.rows_per_tenant);
    println!(
        "\n== lookup: {rows} rows across {} tenants, {} pairs of {} s runs per mode, {} clients, {}",
        args.tenants,
        args.pairs,
        args.seconds,
        args.clients,
        pgbench.display()
    );
    let db = server.scratch().map_err(|e| e.to_string())?;
    let mut client = db.connect().map_err(|e| e.to_string())?;
    let started = Instant::now();
    exec(
        &mut client,
        &format!(
            "CREATE TABLE items_plain (tenant_id integer NOT NULL, item_no integer NOT NULL, payload text NOT NULL, \
               PRIMARY KEY (tenant_id, item_no));
             INSERT INTO items_plain SELECT t, k, md5(t || ':' || k)
               FROM generate_series(1, {tenants}) t, generate_series(1, {per}) k;
             CREATE TABLE items_gen (tenant_id integer NOT NULL, item_no integer NOT NULL, payload text NOT NULL, \
               PRIMARY KEY (tenant_id, item_no));
             INSERT INTO items_gen SELECT * FROM items_plain;
             CREATE TABLE items_naive (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
               tenant_id integer NOT NULL, item_no integer NOT NULL, payload text NOT NULL);
             INSERT INTO items_naive (tenant_id, item_no, payload) SELECT * FROM items_plain;
             CREATE INDEX items_naive_item_no_idx ON items_naive (item_no);
             ALTER TABLE items_naive ENABLE ROW LEVEL SECURITY;
             ALTER TABLE items_naive FORCE ROW LEVEL SECURITY;
             CREATE POLICY naive ON items_naive USING (tenant_id = current_setting('app.tenant_id')::integer);
             GRANT SELECT ON items_plain, items_gen, items_naive TO {APP};",
            tenants = args.tenants,
            per = args.rows_per_tenant
        ),
    )?;
    // Tenet's policy: what `tenet tenancy generate` writes for items_gen.
    let tenancy = Tenancy {
        column: "tenant_id".into(),
        setting: "app.tenant_id".into(),
        app_role: APP.into(),
        global_tables: vec!["items_plain".into(), "items_naive".into()],
        ..Default::default()
    };
    let catalog = tenet_catalog::inspect(&mut client).map_err(|e| e.to_string())?;
    let generated = generate::generate(&Model::new(&catalog, &tenancy));
    exec(&mut client, &generated.sql)?;
    for t in ["items_plain", "items_gen", "items_naive"] {
        exec(&mut client, &format!("VACUUM ANALYZE {t}"))?;
    }
    println!(
        "  loaded in {:.1} s; generated policy:",
        started.elapsed().as_secs_f64()
    );
    for line in generated
        .sql
        .lines()
        .filter(|l| l.starts_with("CREATE POLICY"))
    {
        println!("    {line}");
    }

    let scripts = [
        (
            "explicit",
            "SELECT payload FROM items_plain WHERE tenant_id = :t AND item_no = :k",
        ),
        (
            "generated",
            "SELECT payload FROM items_gen WHERE item_no = :k",
        ),
        (
            "naive",
            "SELECT payload FROM items_naive WHERE item_no = :k",
        ),
    ];
    // Sanity: each way returns the one row, as the app role.
    let app_url = with_user(&db.url(), APP);
    let mut app = tenet_pg::Server::from_url(&app_url)
        .and_then(|s| s.connect())
        .map_err(|e| e.to_string())?;
    for (name, sql) in scripts {
        let sql = sql.replace(":t", "7").replace(":k", "42");
        let mut tx = app.transaction().map_err(|e| e.to_string())?;
        tx.batch_execute("SELECT set_config('app.tenant_id', '7', true)")
            .map_err(|e| e.to_string())?;
        let n = tx
            .query(sql.as_str(), &[])
            .map_err(|e| e.to_string())?
            .len();
        let plan: Vec<String> = tx
            .query(format!("EXPLAIN {sql}").as_str(), &[])
            .map_err(|e| e.to_string())?
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect();
        drop(tx);
        if n != 1 {
            return Err(format!(
                "{name}: expected 1 row for tenant 7 item 42, got {n}"
            ));
        }
        println!(
            "  {name:<9} plan: {}",
            plan.join(" | ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    drop(app);

    let dir = std::env::temp_dir().join(format!("tenet-policy-vs-filter-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let header = format!(
        "\\set t random(1, {})\n\\set k random(1, {})\n",
        args.tenants, args.rows_per_tenant
    );
    let set = "SELECT set_config('app.tenant_id', :t::text, false)";
    // Prepared: the tenant set, then the lookup (two statements, plans cached as drivers do).
    // Simple: both in one round trip, every lookup planned anew.
    let mut runs: Vec<Run> = Vec::new();
    for (name, sql) in scripts {
        runs.push(Run::new(
            &dir,
            "prepared",
            name,
            &format!("{header}{set};\n{sql};\n"),
        )?);
    }
    runs.push(Run::new(
        &dir,
        "prepared",
        "explicit-bare",
        &format!("{header}{};\n", scripts[0].1),
    )?);
    for (name, sql) in scripts.iter().filter(|(n, _)| *n != "naive") {
        runs.push(Run::new(
            &dir,
            "simple",
            name,
            &format!("{header}SELECT set_config('app.tenant_id', :t::text, true) \\; {sql};\n"),
        )?);
    }
    // Pairs of (explicit, generated) runs back to back, in alternating order, per mode: the
    // ratio of each pair cancels background load that drifts slower than a pair; the median
    // pair ratio is the result. Naive and bare explicit are timed a few times for reference.
    let idx = |runs: &[Run], mode: &str, name: &str| {
        runs.iter()
            .position(|r| r.mode == mode && r.name == name)
            .unwrap()
    };
    let mut pair_ratios: Vec<(&str, Vec<f64>)> =
        vec![("prepared", Vec::new()), ("simple", Vec::new())];
    for pair in 0..args.pairs {
        for (mode, ratios) in pair_ratios.iter_mut() {
            let (e, g) = (idx(&runs, mode, "explicit"), idx(&runs, mode, "generated"));
            let order = if pair % 2 == 0 { [e, g] } else { [g, e] };
            for i in order {
                let t = pgbench_tps(&pgbench, &runs[i], &app_url, args)?;
                runs[i].tps.push(t);
            }
            let (te, tg) = (*runs[e].tps.last().unwrap(), *runs[g].tps.last().unwrap());
            ratios.push(te / tg);
            println!(
                "  pair {:>2} {:<8} explicit {te:>8.0} tps  generated {tg:>8.0} tps  ratio {:.3}",
                pair + 1,
                mode,
                te / tg
            );
        }
        if pair % 4 == 0 {
            for name in ["naive", "explicit-bare"] {
                let i = idx(&runs, "prepared", name);
                let t = pgbench_tps(&pgbench, &runs[i], &app_url, args)?;
                runs[i].tps.push(t);
                println!("  pair {:>2} prepared {name:<13} {t:>8.0} tps", pair + 1);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let med = |mode: &str, name: &str| median(&runs[idx(&runs, mode, name)].tps);
    println!("\n  median transactions per second (each: set the tenant, look up one item):");
    for r in &runs {
        println!(
            "    {:<8} {:<13} {:>10.0} tps  ({} runs)",
            r.mode,
            r.name,
            median(&r.tps),
            r.tps.len()
        );
    }
    let ratios = |mode: &str| {
        pair_ratios
            .iter()
            .find(|(m, _)| *m == mode)
            .unwrap()
            .1
            .clone()
    };
    let quartiles = |v: &[f64]| {
        let mut s = v.to_vec();
        s.sort_by(|a, b| a.partial_cmp(b).unwrap());
        (s[s.len() / 4], s[(3 * s.len()) / 4])
    };
    let gen_ratio = median(&ratios("prepared"));
    let simple_ratio = median(&ratios("simple"));
    let (gq1, gq3) = quartiles(&ratios("prepared"));
    let (sq1, sq3) = quartiles(&ratios("simple"));
    let naive_ratio = med("prepared", "explicit") / med("prepared", "naive");
    println!("\n  time per lookup relative to the explicit filter (median of {} paired runs, interquartile range):", args.pairs);
    println!("    generated policy, prepared:        {gen_ratio:.3}  [{gq1:.3} .. {gq3:.3}]  (target <= {TARGET_OVERHEAD})");
    println!("    generated policy, simple protocol: {simple_ratio:.3}  [{sq1:.3} .. {sq3:.3}]  (planned every time: includes planning the policy)");
    println!("    naive policy, prepared:            {naive_ratio:.2}  (medians)");
    println!(
        "    naive / generated, prepared:       {:.2}  (medians)",
        med("prepared", "generated") / med("prepared", "naive")
    );
    let met = gen_ratio <= TARGET_OVERHEAD;
    println!("  target {}", if met { "met" } else { "MISSED" });
    drop(client);
    drop(db);
    Ok(met)
}

/// One pgbench script and its results.
struct Run {
    mode: &'static str,
    name: &'static str,
    path: PathBuf,
    tps: Vec<f64>,
}

impl Run {
    fn new(
        dir: &std::path::Path,
        mode: &'static str,
        name: &'static str,
        script: &str,
    ) -> Result<Run, String> {
        let path = dir.join(format!("{mode}-{name}.sql"));
        std::fs::write(&path, script).map_err(|e| e.to_string())?;
        Ok(Run {
            mode,
            name,
            path,
            tps: Vec::new(),
        })
    }
}

fn pgbench_tps(pgbench: &PathBuf, run: &Run, url: &str, args: &Args) -> Result<f64, String> {
    let out = Command::new(pgbench)
        .args([
            "-n",
            "-M",
            run.mode,
            "-c",
            &args.clients.to_string(),
            "-j",
            &args.clients.to_string(),
        ])
        .args(["-T", &args.seconds.to_string(), "-f"])
        .arg(&run.path)
        .arg(url)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", pgbench.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "pgbench failed: {}{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no tps in pgbench output:\n{stdout}"))
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    s[s.len() / 2]
}

/// The URL with another user (trust or peer authentication assumed for the app role).
fn with_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgresql", url));
    let host = rest.split_once('@').map(|(_, h)| h).unwrap_or(rest);
    format!("{scheme}://{user}@{host}")
}

fn prove_bench(args: &Args, server: &tenet_pg::Server) -> Result<bool, String> {
    let schema = tenet_bench::Schema::generate(args.tables, tenet_bench::DEFAULT_SEED);
    println!(
        "\n== prove: {} tenant tables + app.tenants, {} views, {} functions (tenet_bench::Schema, seed {})",
        schema.tables.len(),
        schema.views.len(),
        schema.functions.len(),
        tenet_bench::DEFAULT_SEED
    );
    let db = server.scratch().map_err(|e| e.to_string())?;
    let mut client = db.connect().map_err(|e| e.to_string())?;
    for batch in schema.to_sql_batches(100) {
        exec(&mut client, &batch)?;
    }
    let schemas = tenet_bench::SCHEMAS.join(", ");
    exec(
        &mut client,
        &format!(
            "GRANT USAGE ON SCHEMA {schemas} TO {APP};
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schemas} TO {APP};
             GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schemas} TO {APP};
             ANALYZE;"
        ),
    )?;
    let tenancy = Tenancy {
        column: "tenant_id".into(),
        setting: "app.tenant_id".into(),
        app_role: APP.into(),
        global_tables: vec!["app.tenants".into()],
        ..Default::default()
    };
    let mut catalog = tenet_catalog::inspect(&mut client).map_err(|e| e.to_string())?;
    tenet_tenancy::merge_role(&mut client, &mut catalog, APP).map_err(|e| e.to_string())?;
    let findings = tenet_tenancy::check(&Model::new(&catalog, &tenancy));
    println!("  tenancy check: {} findings", findings.len());
    let started = Instant::now();
    let report = prove::prove(&mut client, &tenancy).map_err(|e| e.to_string())?;
    let secs = started.elapsed().as_secs_f64();
    let probes = report.passed + report.leaks + report.untested;
    println!(
        "  prove: {:.2} s, {} objects, {probes} probes: {} pass, {} LEAK, {} untested",
        secs,
        report.objects.len(),
        report.passed,
        report.leaks,
        report.untested
    );
    if report.untested > 0 || report.leaks > 0 {
        for row in &report.objects {
            for (p, c) in &row.probes {
                if c.status != prove::Status::Pass {
                    println!("    {:?} {} [{p}]: {}", c.status, row.object, c.detail);
                }
            }
        }
    }
    let met = secs <= TARGET_PROVE_SECS && report.leaks == 0;
    println!(
        "  target (<= {TARGET_PROVE_SECS} s, no leak) {}",
        if met { "met" } else { "MISSED" }
    );
    drop(client);
    drop(db);
    Ok(met)
}
