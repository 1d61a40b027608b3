//! `tenet mcp`: a Model Context Protocol server over stdio, so coding agents can use Tenet on a
//! database safely.
//!
//! Read-only by default: `execute_sql` runs in a READ ONLY transaction with a statement timeout
//! and a row limit; writes need the server started with `--allow-write`. `prove_isolation`
//! writes only inside a transaction it always rolls back. Every tool answers with text (JSON or
//! SQL); a failure is a tool error with a one-line message, never a password.

use std::path::PathBuf;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{ServerCapabilities, ServerConfig};
use rmcp::{tool, tool_handler, tool_router, ServerHandler, ServiceExt};
use schemars::JsonSchema;
use serde::Deserialize;
use tenet_catalog::Catalog;
use tenet_config::Tenancy;
use tenet_pg::Server;

/// Rows `execute_sql` returns at most.
pub const ROW_LIMIT: usize = 100;
/// How long one `execute_sql` statement may run.
pub const STATEMENT_TIMEOUT: &str = "5s";

/// What the server works on.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The database the tools read (and, with `allow_write`, change).
    pub url: String,
    /// The server for scratch databases (`plan` applies desired SQL there); None: `url`'s server.
    pub dev_url: Option<String>,
    /// `tenet.toml`, for the `[tenancy]` section.
    pub config: Option<PathBuf>,
    pub allow_write: bool,
}

#[derive(Clone)]
pub struct TenetServer {
    settings: Settings,
    tool_router: ToolRouter<Self>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TablesRequest {
    /// Only tables of this schema.
    pub schema: Option<String>,
}

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
pub struct ApplyRequest {
    /// Apply up to and including this version; absent: every pending migration.
    #[serde(default)]
    pub to: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TypesRequest {
    /// `typescript`, `rust` or `sqlmodel`.
    pub language: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SqlRequest {
    /// SQL text.
    pub sql: String,
}

type Answer = Result<String, String>;

impl TenetServer {
    pub fn new(settings: Settings) -> TenetServer {
        TenetServer {
            settings,
            tool_router: Self::tool_router(),
        }
    }

    /// Run blocking database work off the async runtime.
    async fn blocking(&self, work: impl FnOnce(&Settings) -> Answer + Send + 'static) -> Answer {
        let settings = self.settings.clone();
        tokio::task::spawn_blocking(move || work(&settings))
            .await
            .map_err(|e| format!("internal error: {e}"))?
    }
}

fn connect(settings: &Settings) -> Result<postgres::Client, String> {
    Server::from_url(&settings.url)
        .and_then(|s| s.connect())
        .map_err(|e| e.to_string())
}

fn catalog(settings: &Settings) -> Result<Catalog, String> {
    let mut catalog = tenet_catalog::inspect(&mut connect(settings)?).map_err(|e| e.to_string())?;
    tenet_migrate::replay::without_history(&mut catalog);
    Ok(catalog)
}

fn config(settings: &Settings) -> Result<tenet_config::Config, String> {
    tenet_config::Config::load(settings.config.as_deref()).map_err(|e| e.to_string())
}

/// Where scratch databases go: the dev server, else the database's own server.
fn scratch_server(settings: &Settings) -> tenet_pg::LazyServer {
    tenet_pg::LazyServer::new(vec![settings.dev_url.clone(), Some(settings.url.clone())])
}

fn tenancy(settings: &Settings) -> Result<Tenancy, String> {
    config(settings)?
        .tenancy
        .ok_or_else(|| "no [tenancy] section in tenet.toml: start the server with --config".into())
}

fn json(value: &impl serde::Serialize) -> Answer {
    serde_json::to_string_pretty(value).map_err(|e| e.to_string())
}

#[tool_router(router = tool_router)]
impl TenetServer {
    #[tool(description = "List the database's schemas (not PostgreSQL's own).")]
    async fn list_schemas(&self) -> Answer {
        self.blocking(|s| {
            let names: Vec<String> = catalog(s)?.schemas.into_iter().map(|x| x.name).collect();
            json(&names)
        })
        .await
    }

    #[tool(
        description = "List tables with their columns (type, nullability, default), keys, foreign keys, indexes, row-level security state and policies."
    )]
    async fn list_tables(&self, Parameters(request): Parameters<TablesRequest>) -> Answer {
        self.blocking(move |s| {
            let tables: Vec<_> = catalog(s)?
                .tables
                .into_iter()
                .filter(|t| request.schema.as_ref().is_none_or(|x| *x == t.schema))
                .collect();
            json(&tables)
        })
        .await
    }

    #[tool(description = "List installed extensions with their schema and version.")]
    async fn list_extensions(&self) -> Answer {
        self.blocking(|s| json(&catalog(s)?.extensions)).await
    }

    #[tool(
        description = "Plan the SQL that turns the database into the desired state (SQL DDL given as desired_sql, else the project's schema files): ordered steps with the lock each takes and its hazards (rewrite, index build, data loss). Nothing is applied."
    )]
    async fn plan(&self, Parameters(request): Parameters<PlanRequest>) -> Answer {
        self.blocking(move |s| {
            let from = catalog(s)?;
            let server = Server::from_url(s.dev_url.as_deref().unwrap_or(&s.url))
                .map_err(|e| e.to_string())?;
            let scratch = server.scratch().map_err(|e| e.to_string())?;
            let mut client = scratch.connect().map_err(|e| e.to_string())?;
            match &request.desired_sql {
                Some(sql) => tenet_catalog::source::apply_script(
                    &mut client,
                    std::path::Path::new("desired_sql"),
                    sql,
                ),
                None => tenet_catalog::source::sql_files(&config(s)?.schema_path())
                    .and_then(|files| tenet_catalog::source::apply_files(&mut client, &files)),
            }
            .map_err(|e| e.to_string())?;
            let to = tenet_catalog::inspect(&mut client).map_err(|e| e.to_string())?;
            let options = tenet_diff::Options {
                allow_destructive: request.allow_destructive,
            };
            let plan = tenet_diff::plan(&from, &to, &options).map_err(|e| e.to_string())?;
            Ok(if plan.is_empty() {
                "-- nothing to do: the database already has the desired state".into()
            } else {
                plan.to_sql()
            })
        })
        .await
    }

    #[tool(
        description = "Lint migration SQL: risky locks, table rewrites, data loss, transactions, types, tenant tables without RLS. Returns findings with line and column."
    )]
    async fn lint(&self, Parameters(request): Parameters<SqlRequest>) -> Answer {
        self.blocking(move |s| {
            let tenancy = tenancy(s).ok();
            let findings =
                tenet_lint::lint_sql("migration.sql", &request.sql, None, tenancy.as_ref());
            Ok(tenet_report::to_json(&findings))
        })
        .await
    }

    #[tool(
        description = "Advise on the live database: unindexed foreign keys, duplicate indexes, tables without a primary key, SECURITY DEFINER functions with a mutable search_path, extensions in public, and the tenant isolation rules when a tenancy config is present."
    )]
    async fn get_advisors(&self) -> Answer {
        self.blocking(|s| {
            let catalog = catalog(s)?;
            let mut findings = tenet_lint::advise(&catalog, None);
            if let Ok(tenancy) = tenancy(s) {
                findings.extend(tenet_tenancy::check(&tenet_tenancy::Model::new(
                    &catalog, &tenancy,
                )));
            }
            Ok(tenet_report::to_json(&findings))
        })
        .await
    }

    #[tool(
        description = "Check tenant isolation rules (tenant column, RLS enabled and forced, policies, tenant-led keys and indexes, app role, views and functions that bypass RLS) against the [tenancy] config."
    )]
    async fn check_tenancy(&self) -> Answer {
        self.blocking(|s| {
            let tenancy = tenancy(s)?;
            let catalog = catalog(s)?;
            let findings = tenet_tenancy::check(&tenet_tenancy::Model::new(&catalog, &tenancy));
            Ok(tenet_report::to_json(&findings))
        })
        .await
    }

    #[tool(
        description = "Prove tenant isolation on the live database: cross-tenant reads and writes as the app role, inside a transaction that is always rolled back. Returns the matrix of probes (pass, LEAK, untested)."
    )]
    async fn prove_isolation(&self) -> Answer {
        self.blocking(|s| {
            let tenancy = tenancy(s)?;
            let report = tenet_tenancy::prove::prove(&mut connect(s)?, &tenancy)
                .map_err(|e| e.to_string())?;
            Ok(tenet_tenancy::prove::to_human(&report))
        })
        .await
    }

    #[tool(
        description = "List the project's migrations with their state on the database: applied (when, by whom, how long), partly applied, pending, changed since applied, or missing from the directory."
    )]
    async fn list_migrations(&self) -> Answer {
        self.blocking(|s| {
            let dir = config(s)?.migrations_dir();
            let lines =
                tenet_migrate::run::status(&mut connect(s)?, &dir).map_err(|e| e.to_string())?;
            let rows: Vec<serde_json::Value> = lines
                .iter()
                .map(|l| {
                    use tenet_migrate::run::State;
                    let (state, applied) = match &l.state {
                        State::Applied(a) => ("applied", Some(a)),
                        State::Partial(a) => ("partly_applied", Some(a)),
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
        description = "Apply the project's pending migrations to the database (each once, under an advisory lock, after checking the sum file, history and drift). Needs the server started with --allow-write."
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
                &mut connect(s)?,
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

    #[tool(
        description = "Generate typed code for the database's tables: language `typescript` (Row, Insert and Update types per table, enums as unions), `rust` (sqlx/serde structs and enums) or `sqlmodel` (Python SQLModel classes)."
    )]
    async fn generate_types(&self, Parameters(request): Parameters<TypesRequest>) -> Answer {
        self.blocking(move |s| {
            let catalog = catalog(s)?;
            match request.language.as_str() {
                "typescript" => Ok(tenet_codegen::typescript(&catalog)),
                "rust" => Ok(tenet_codegen::rust(&catalog)),
                "sqlmodel" => Ok(tenet_codegen::sqlmodel(&catalog)),
                other => Err(format!(
                    "unknown language {other:?}: use typescript, rust or sqlmodel"
                )),
            }
        })
        .await
    }

    #[tool(
        description = "The schema document of the database as Markdown: entities, relationships, constraints, indexing strategy, integrity rules, ownership and isolation rules, and a Mermaid ER diagram."
    )]
    async fn docs(&self) -> Answer {
        self.blocking(|s| {
            let catalog = catalog(s)?;
            Ok(tenet_docs::markdown(&catalog, tenancy(s).ok().as_ref()))
        })
        .await
    }

    #[tool(
        description = "Run SQL and return up to 100 rows as JSON. In a READ ONLY transaction with a 5 s statement timeout unless the server was started with --allow-write."
    )]
    async fn execute_sql(&self, Parameters(request): Parameters<SqlRequest>) -> Answer {
        self.blocking(move |s| execute(s, &request.sql)).await
    }
}

fn execute(settings: &Settings, sql: &str) -> Answer {
    let mut client = connect(settings)?;
    let mut tx = client
        .build_transaction()
        .read_only(!settings.allow_write)
        .start()
        .map_err(describe)?;
    tx.batch_execute(&format!(
        "SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'"
    ))
    .map_err(describe)?;
    let statement = sql.trim().trim_end_matches(';');
    // Rows as JSON when the statement returns rows; otherwise just run it.
    let wrapped = format!(
        "SELECT coalesce(json_agg(r), '[]'::json)::text FROM (SELECT * FROM ({statement}) q LIMIT {}) r",
        ROW_LIMIT + 1
    );
    tx.batch_execute("SAVEPOINT tenet_rows").map_err(describe)?;
    let answer = match tx.query_one(&wrapped, &[]) {
        Ok(row) => {
            let mut rows: Vec<serde_json::Value> =
                serde_json::from_str(row.get::<_, &str>(0)).map_err(|e| e.to_string())?;
            let truncated = rows.len() > ROW_LIMIT;
            rows.truncate(ROW_LIMIT);
            json(&serde_json::json!({ "rows": rows, "truncated": truncated }))?
        }
        Err(_) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT tenet_rows")
                .map_err(describe)?;
            tx.batch_execute(sql).map_err(describe)?;
            json(&serde_json::json!({ "rows": [], "truncated": false }))?
        }
    };
    tx.commit().map_err(describe)?;
    Ok(answer)
}

fn describe(e: postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for TenetServer {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        info.instructions = Some(
            "Tenet: a persistence engineer for multi-tenant PostgreSQL. Inspect the schema, plan \
             changes with their hazards, lint migration SQL, read advisors, check and prove tenant \
             isolation. Read-only unless started with --allow-write."
                .into(),
        );
        info
    }
}

/// Serve on stdin/stdout until the client goes away.
pub async fn serve_stdio(settings: Settings) -> Result<(), String> {
    // Fail early, with the usual one-line message, when the database is out of reach.
    let url = settings.url.clone();
    tokio::task::spawn_blocking(move || Server::from_url(&url).map(drop))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let service = TenetServer::new(settings)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| e.to_string())?;
    service.waiting().await.map_err(|e| e.to_string())?;
    Ok(())
}
