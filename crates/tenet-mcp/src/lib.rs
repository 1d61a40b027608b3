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
    /// The desired state as SQL DDL (for example the contents of schema/*.sql).
    pub desired_sql: String,
    /// Accept steps that lose data (dropped tables or columns, narrowing casts).
    #[serde(default)]
    pub allow_destructive: bool,
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
    tenet_catalog::inspect(&mut connect(settings)?).map_err(|e| e.to_string())
}

fn tenancy(settings: &Settings) -> Result<Tenancy, String> {
    tenet_config::Config::load(settings.config.as_deref())
        .map_err(|e| e.to_string())?
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
        description = "Plan the SQL that turns the database into the desired state given as SQL DDL: ordered steps with the lock each takes and its hazards (rewrite, index build, data loss). Nothing is applied."
    )]
    async fn plan(&self, Parameters(request): Parameters<PlanRequest>) -> Answer {
        self.blocking(move |s| {
            let from = catalog(s)?;
            let server = Server::from_url(s.dev_url.as_deref().unwrap_or(&s.url))
                .map_err(|e| e.to_string())?;
            let scratch = server.scratch().map_err(|e| e.to_string())?;
            let mut client = scratch.connect().map_err(|e| e.to_string())?;
            tenet_catalog::source::apply_script(
                &mut client,
                std::path::Path::new("desired_sql"),
                &request.desired_sql,
            )
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
