//! Tools about changing the schema: plan, lint, migrations.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::{catalog, config, json, tenancy_config, Answer, Settings, TenetServer};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PlanRequest {
    /// The desired state as SQL DDL; absent: the project's schema files ([schema] of tenet.toml).
    #[serde(default)]
    pub desired_sql: Option<String>,
    /// Accept steps that lose data (dropped tables or columns, narrowing casts).
    #[serde(default)]
    pub allow_destructive: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LintRequest {
    /// The migration's SQL text.
    pub sql: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ApplyRequest {
    /// Apply up to and including this version; absent: every pending migration.
    #[serde(default)]
    pub to: Option<i64>,
}

/// Where scratch databases go: the dev server, else the embedded cluster (never the
/// database's own server: the desired SQL is untrusted).
fn scratch_server(settings: &Settings) -> tenet_pg::LazyServer {
    tenet_pg::LazyServer::new(vec![settings.dev_url.clone()])
        .with_statement_timeout(settings.statement_timeout)
}

#[tool_router(router = change_tools, vis = "pub(crate)")]
impl TenetServer {
    #[tool(
        description = "Plan the SQL that turns the database into the desired state (SQL DDL given as desired_sql, else the project's schema files): JSON with the ordered steps, each with its SQL, the lock it takes, its hazards (rewrite, index build, data loss) and whether it runs in a transaction. Nothing is applied to the database; the desired state is built in a scratch database that is dropped afterwards.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn plan(&self, Parameters(request): Parameters<PlanRequest>) -> Answer {
        self.blocking(move |s| {
            let from = catalog(s)?;
            let scratch = scratch_server(s);
            let server = scratch.get().map_err(|e| e.to_string())?;
            let mut sandbox = server.sandbox().map_err(|e| e.to_string())?;
            let to = match &request.desired_sql {
                Some(sql) => tenet_catalog::source::apply_schema_script(
                    &mut sandbox,
                    std::path::Path::new("desired_sql"),
                    sql,
                )
                .and_then(|()| sandbox.finish().map_err(tenet_catalog::Error::from))
                .and_then(|()| tenet_catalog::inspect(sandbox.admin())),
                None => tenet_catalog::source::sql_files(&config(s)?.schema_path())
                    .and_then(|files| tenet_catalog::source::load(&mut sandbox, &files)),
            }
            .map_err(|e| e.to_string())?;
            let options = tenet_diff::Options {
                allow_destructive: request.allow_destructive,
            };
            let plan = tenet_diff::plan(&from, &to, &options).map_err(|e| e.to_string())?;
            Ok(plan.to_json())
        })
        .await
    }

    #[tool(
        description = "Lint migration SQL: risky locks, table rewrites, data loss, transactions, types, tenant tables without RLS. Returns findings with line and column. Runs nothing.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn lint(&self, Parameters(request): Parameters<LintRequest>) -> Answer {
        self.blocking(move |s| {
            let tenancy = tenancy_config(s).ok();
            let findings =
                tenet_lint::lint_sql("migration.sql", &request.sql, None, tenancy.as_ref());
            Ok(tenet_report::to_json(&findings))
        })
        .await
    }

    #[tool(
        description = "List the project's migrations with their state on the database: applied (when, by whom, how long), partly applied, pending, changed since applied, or missing from the directory.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_migrations(&self) -> Answer {
        self.blocking(|s| {
            let dir = config(s)?.migrations_dir();
            let lines = tenet_migrate::run::status(&mut crate::connect(s)?, &dir)
                .map_err(|e| e.to_string())?;
            let rows: Vec<serde_json::Value> = lines
                .iter()
                .map(|l| {
                    use tenet_migrate::run::State;
                    let (state, applied) = match &l.state {
                        State::Applied(a) => ("applied", Some(a)),
                        State::Partial(a) => ("partly_applied", Some(a)),
                        State::Reverting(a) => ("partly_reverted", Some(a)),
                        State::Pending => ("pending", None),
                        State::Changed(a) => ("changed_since_applied", Some(a)),
                        State::Missing(a) => ("file_missing", Some(a)),
                    };
                    serde_json::json!({
                        "version": l.version,
                        "name": l.name,
                        "state": state,
                        "applied_at": applied.map(|a| a.applied_at.clone()),
                        "applied_by": applied.map(|a| a.applied_by.clone()),
                        "duration_ms": applied.map(|a| a.duration_ms),
                    })
                })
                .collect();
            json(&rows)
        })
        .await
    }

    #[tool(
        description = "Apply the project's pending migrations to the database (each once, under an advisory lock, after checking the sum file, history and drift). Needs the server started with --allow-write.",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn apply_migration(&self, Parameters(request): Parameters<ApplyRequest>) -> Answer {
        self.blocking(move |s| {
            if !s.allow_write {
                return Err("apply_migration changes the database: start `tenet mcp` with --allow-write to allow it".into());
            }
            let dir = config(s)?.migrations_dir();
            let options = tenet_migrate::run::ApplyOptions {
                to: request.to,
                ..Default::default()
            };
            let mut log = Vec::new();
            let applied = tenet_migrate::run::apply(
                &mut crate::connect(s)?,
                &scratch_server(s),
                &dir,
                &options,
                &mut |line| log.push(line),
            )
            .map_err(|e| e.to_string())?;
            json(&serde_json::json!({ "applied": applied, "log": log }))
        })
        .await
    }
}
