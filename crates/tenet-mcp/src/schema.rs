//! Tools that read the schema: schemas, tables, extensions, typed code, the schema document.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::{catalog, json, tenancy_config, Answer, TenetServer};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TablesRequest {
    /// Only tables of this schema.
    pub schema: Option<String>,
}

/// The languages `generate_types` writes.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// TypeScript: Row, Insert and Update types per table, enums as unions, and a supabase-js
    /// `Database` type.
    Typescript,
    /// Rust: sqlx `FromRow` + serde structs, `sqlx::Type` enums.
    Rust,
    /// Python: SQLModel table classes.
    Sqlmodel,
    /// Drizzle ORM: pgTable, pgEnum, keys, indexes and RLS policies.
    Drizzle,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TypesRequest {
    pub language: Language,
}

#[tool_router(router = schema_tools, vis = "pub(crate)")]
impl TenetServer {
    #[tool(
        description = "List the database's schemas (not PostgreSQL's own).",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_schemas(&self) -> Answer {
        self.blocking(|s| {
            let names: Vec<String> = catalog(s)?.schemas.into_iter().map(|x| x.name).collect();
            json(&names)
        })
        .await
    }

    #[tool(
        description = "List tables with their columns (type, nullability, default), keys, foreign keys, indexes, row-level security state and policies.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
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

    #[tool(
        description = "List installed extensions with their schema and version.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_extensions(&self) -> Answer {
        self.blocking(|s| json(&catalog(s)?.extensions)).await
    }

    #[tool(
        description = "Generate typed code for the database's tables: `typescript` (Row, Insert and Update types per table, enums as unions, a supabase-js `Database` type), `rust` (sqlx/serde structs and enums), `sqlmodel` (Python SQLModel classes) or `drizzle` (Drizzle ORM schema with RLS policies). Returns {language, code}.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn generate_types(&self, Parameters(request): Parameters<TypesRequest>) -> Answer {
        self.blocking(move |s| {
            let catalog = catalog(s)?;
            let (language, code) = match request.language {
                Language::Typescript => ("typescript", tenet_codegen::typescript(&catalog)),
                Language::Rust => ("rust", tenet_codegen::rust(&catalog)),
                Language::Sqlmodel => ("sqlmodel", tenet_codegen::sqlmodel(&catalog)),
                Language::Drizzle => ("drizzle", tenet_codegen::drizzle(&catalog)),
            };
            json(&serde_json::json!({ "language": language, "code": code }))
        })
        .await
    }

    #[tool(
        description = "The schema document of the database as Markdown: entities, relationships, constraints, indexing strategy, integrity rules, ownership and isolation rules, and a Mermaid ER diagram. Returns {markdown}.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn docs(&self) -> Answer {
        self.blocking(|s| {
            let catalog = catalog(s)?;
            let markdown = tenet_docs::markdown(&catalog, tenancy_config(s).ok().as_ref());
            json(&serde_json::json!({ "markdown": markdown }))
        })
        .await
    }
}
