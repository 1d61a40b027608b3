//! `tenet demo`: the whole flow on a project (the README runs it on examples/todo), against a
//! throwaway database: the migrations capture the schema, apply them, check tenant isolation,
//! prove it with real cross-tenant reads and writes, and check the schema document.

use std::path::PathBuf;
use std::time::Instant;

use tenet_migrate::run::{self, ApplyOptions};

use super::migrate::failure;
use crate::failure::Failure;
use crate::source::ScratchServer;
use crate::ServerArgs;

#[derive(clap::Args)]
pub struct Args {
    /// The project's configuration (default: ./tenet.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub servers: ServerArgs,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let started = Instant::now();
    let config = tenet_config::Config::load(args.config.as_deref())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let tenancy = config.tenancy.clone().ok_or_else(|| {
        Failure::usage("the demo proves tenant isolation: tenet.toml needs a [tenancy] section")
    })?;
    let (dir, schema) = (config.migrations_dir(), config.schema_path());
    // The database the demo migrates is a scratch one, so --url is never touched.
    let servers = ServerArgs {
        url: None,
        ..args.servers.clone()
    };
    let scratch = ScratchServer::with_config(&servers, &config);
    let server = scratch.get()?;
    println!(
        "server: {}",
        if server.is_embedded() {
            "a throwaway PostgreSQL started from the local binaries".to_string()
        } else {
            server.target().to_string()
        }
    );

    // 1. Plan: the migrations build exactly what the schema files describe.
    let pending = tenet_migrate::author::pending_model_changes(scratch.lazy(), &dir, &schema)
        .map_err(failure)?;
    if !pending.is_empty() {
        eprintln!("{}", pending.to_sql());
        return Err(Failure {
            code: 1,
            message: format!(
                "plan: {} holds changes no migration in {} captures; run `tenet migrate new NAME`",
                schema.display(),
                dir.display()
            ),
        });
    }
    println!(
        "plan:    the migrations in {} build exactly the schema in {} (no pending model changes)",
        dir.display(),
        schema.display()
    );

    // 2. Migrate a fresh database, exactly as `tenet migrate apply` would.
    let database = server.scratch()?;
    let mut client = database.connect()?;
    let mut progress = |line: String| println!("         {line}");
    let applied = run::apply(
        &mut client,
        scratch.lazy(),
        &dir,
        &ApplyOptions::default(),
        &mut progress,
    )
    .map_err(failure)?;
    println!(
        "migrate: applied {} migration(s) to a fresh database",
        applied.len()
    );

    // 3. Check the isolation rules on what the migrations built.
    let mut catalog = tenet_catalog::inspect(&mut client)?;
    tenet_tenancy::merge_role(&mut client, &mut catalog, &tenancy.app_role)
        .map_err(|e| Failure::from(tenet_pg::PgError::from_postgres(e, server.target())))?;
    let model = tenet_tenancy::Model::new(&catalog, &tenancy);
    let findings = tenet_tenancy::check(&model);
    let errors = findings
        .iter()
        .filter(|f| f.severity == tenet_report::Severity::Error)
        .count();
    println!(
        "tenancy: {} finding(s), {errors} error(s) (column {}, setting {}, app role {})",
        findings.len(),
        tenancy.column,
        tenancy.setting,
        tenancy.app_role
    );
    for f in &findings {
        println!("         {}: {}", f.rule, f.message);
    }

    // 4. Prove it: cross-tenant reads and writes as the app role, rolled back.
    let report = tenet_tenancy::prove::prove(&mut client, &tenancy).map_err(|e| Failure {
        code: e.exit_code(),
        message: e.to_string(),
    })?;
    println!(
        "prove:   {} probe(s) passed, {} leak(s), {} untested, in {} ms",
        report.passed, report.leaks, report.untested, report.elapsed_ms
    );
    if report.leaks > 0 {
        print!("{}", tenet_tenancy::prove::to_human(&report));
    }

    // 5. Docs: the committed schema document matches the database.
    let document = tenet_docs::markdown_with_decisions(
        &catalog,
        Some(&tenancy),
        &super::docs::decisions(&config, &config.root.join(super::docs::DEFAULT_OUT)),
    );
    let out = config.root.join(super::docs::DEFAULT_OUT);
    let docs_current = std::fs::read_to_string(&out).is_ok_and(|text| text == document);
    println!(
        "docs:    {} {} ({} tables, Mermaid ER diagram)",
        out.display(),
        if docs_current {
            "is current"
        } else {
            "is missing or out of date: run `tenet docs`"
        },
        catalog.tables.len()
    );
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    let failed = errors > 0 || report.leaks > 0 || !docs_current;
    Ok(if failed { 1 } else { 0 })
}
