//! Adopting a database another migration tool managed: read that tool's history table in the
//! shape the tool creates it, refuse a history that records a failed or half-applied migration,
//! and say which Tenet version the database stands at.
//!
//! Tools that number their migrations (sqlx, golang-migrate, goose, dbmate, Supabase) are
//! adopted by version: the migrations were carried over with their numbers, so every version
//! the tool applied must be a file in the directory, and the newest is the baseline. Tools with
//! their own identifiers (Alembic revisions, Prisma and EF Core names, Drizzle hashes, Flyway's
//! dotted versions) cannot be matched file by file: their history must be clean, and the
//! baseline is the version given, else the newest Tenet migration (the one `migrate new` wrote
//! from the adopted schema). Either way `baseline` then checks the database is what those
//! migrations build.

use postgres::Client;

use crate::dir::Migration;
use crate::Error;

/// A migration tool whose history a database may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Sqlx,
    GolangMigrate,
    Goose,
    Dbmate,
    Supabase,
    Flyway,
    Alembic,
    Prisma,
    Drizzle,
    EfCore,
}

/// Every table a known tool keeps its history in, schema-qualified. They are bookkeeping, not
/// part of any schema a project describes, so catalogs read from live databases leave them out.
pub const HISTORY_TABLES: &[&str] = &[
    "public._sqlx_migrations",
    "public.schema_migrations",
    "public.goose_db_version",
    "supabase_migrations.schema_migrations",
    "supabase_migrations.seed_files",
    "public.flyway_schema_history",
    "public.alembic_version",
    "public._prisma_migrations",
    "drizzle.__drizzle_migrations",
    "public.__EFMigrationsHistory",
];

/// Schemas that exist only to hold a tool's history; left out with it when they hold nothing else.
pub const HISTORY_SCHEMAS: &[&str] = &["supabase_migrations", "drizzle"];

impl Tool {
    pub const ALL: [Tool; 10] = [
        Tool::Sqlx,
        Tool::GolangMigrate,
        Tool::Goose,
        Tool::Dbmate,
        Tool::Supabase,
        Tool::Flyway,
        Tool::Alembic,
        Tool::Prisma,
        Tool::Drizzle,
        Tool::EfCore,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Sqlx => "sqlx",
            Tool::GolangMigrate => "golang-migrate",
            Tool::Goose => "goose",
            Tool::Dbmate => "dbmate",
            Tool::Supabase => "supabase",
            Tool::Flyway => "flyway",
            Tool::Alembic => "alembic",
            Tool::Prisma => "prisma",
            Tool::Drizzle => "drizzle",
            Tool::EfCore => "efcore",
        }
    }

    /// The history table, schema-qualified and quoted as it must be in SQL.
    pub fn table(self) -> &'static str {
        match self {
            Tool::Sqlx => "public._sqlx_migrations",
            Tool::GolangMigrate | Tool::Dbmate => "public.schema_migrations",
            Tool::Goose => "public.goose_db_version",
            Tool::Supabase => "supabase_migrations.schema_migrations",
            Tool::Flyway => "public.flyway_schema_history",
            Tool::Alembic => "public.alembic_version",
            Tool::Prisma => "public._prisma_migrations",
            Tool::Drizzle => "drizzle.__drizzle_migrations",
            Tool::EfCore => "public.\"__EFMigrationsHistory\"",
        }
    }

    /// Columns the tool's table has; checked first, so that a table of the same name from
    /// another tool (golang-migrate's and dbmate's are both `schema_migrations`) is told apart.
    fn columns(self) -> &'static [&'static str] {
        match self {
            Tool::Sqlx => &["version", "success"],
            Tool::GolangMigrate => &["version", "dirty"],
            Tool::Goose => &["version_id", "is_applied"],
            Tool::Dbmate => &["version"],
            Tool::Supabase => &["version"],
            Tool::Flyway => &["version", "success", "installed_rank"],
            Tool::Alembic => &["version_num"],
            Tool::Prisma => &["migration_name", "finished_at", "rolled_back_at"],
            Tool::Drizzle => &["hash", "created_at"],
            Tool::EfCore => &["MigrationId", "ProductVersion"],
        }
    }
}

/// The version the other tool's history puts the database at: `Some` for tools that number
/// their migrations like Tenet does, `None` (after checking the history is clean and not
/// empty) for tools with identifiers of their own.
pub fn adopted_version(
    client: &mut Client,
    tool: Tool,
    migrations: &[Migration],
    dir: &std::path::Path,
) -> Result<Option<i64>, Error> {
    check_shape(client, tool)?;
    let table = tool.table();
    let invalid = |message: String| Err(Error::Invalid(message));
    let count = |client: &mut Client, sql: &str| -> Result<i64, Error> {
        Ok(client.query_one(sql, &[])?.get(0))
    };
    let versions: Vec<i64> = match tool {
        Tool::Sqlx => {
            let sql = format!("SELECT count(*) FROM {table} WHERE NOT success");
            if count(client, &sql)? > 0 {
                return invalid(format!(
                    "{table} records a failed migration; repair it with sqlx first"
                ));
            }
            numbers(
                client,
                &format!("SELECT version FROM {table} ORDER BY version"),
            )?
        }
        Tool::GolangMigrate => {
            let row = client.query_opt(&format!("SELECT version, dirty FROM {table}"), &[])?;
            match row {
                None => Vec::new(),
                Some(r) if r.get::<_, bool>(1) => {
                    return invalid(format!(
                        "schema_migrations is dirty at version {}: a migration failed halfway; \
                         fix it and run `migrate force` with golang-migrate first",
                        r.get::<_, i64>(0)
                    ))
                }
                Some(r) => vec![r.get(0)],
            }
        }
        // goose appends a row per up and per down; a version is applied when its latest row
        // says so. Version 0 is the row goose writes when it creates the table.
        Tool::Goose => numbers(
            client,
            &format!(
                "SELECT version_id FROM (SELECT DISTINCT ON (version_id) version_id, is_applied \
                 FROM {table} WHERE version_id <> 0 ORDER BY version_id, id DESC) last \
                 WHERE is_applied ORDER BY version_id"
            ),
        )?,
        Tool::Dbmate | Tool::Supabase => {
            let texts: Vec<String> = client
                .query(&format!("SELECT version::text FROM {table}"), &[])?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let mut versions = Vec::new();
            for text in texts {
                match text.trim().parse::<i64>() {
                    Ok(v) => versions.push(v),
                    Err(_) => {
                        return invalid(format!(
                            "{table} records version {text:?}, which is not a number; \
                             adopt with an explicit VERSION"
                        ))
                    }
                }
            }
            versions.sort_unstable();
            versions
        }
        Tool::Flyway => {
            let failed: Vec<String> = client
                .query(
                    &format!(
                        "SELECT coalesce(version, description) FROM {table} \
                         WHERE NOT success ORDER BY installed_rank"
                    ),
                    &[],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
            if let Some(first) = failed.first() {
                return invalid(format!(
                    "{table} records a failed migration ({first}); run `flyway repair` first"
                ));
            }
            return nonempty(client, table, None);
        }
        Tool::Alembic => {
            let heads: Vec<String> = client
                .query(&format!("SELECT version_num FROM {table} ORDER BY 1"), &[])?
                .iter()
                .map(|r| r.get(0))
                .collect();
            if heads.len() > 1 {
                return invalid(format!(
                    "{table} has {} heads ({}): merge them with `alembic merge` first",
                    heads.len(),
                    heads.join(", ")
                ));
            }
            return nonempty(client, table, None);
        }
        Tool::Prisma => {
            // A row neither finished nor rolled back is a migration that failed (or is running).
            let failed: Vec<String> = client
                .query(
                    &format!(
                        "SELECT migration_name FROM {table} \
                         WHERE finished_at IS NULL AND rolled_back_at IS NULL ORDER BY started_at"
                    ),
                    &[],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
            if let Some(first) = failed.first() {
                return invalid(format!(
                    "{table} records {first} as failed or unfinished; \
                     resolve it with `prisma migrate resolve` first"
                ));
            }
            return nonempty(client, table, Some("rolled_back_at IS NULL"));
        }
        Tool::Drizzle | Tool::EfCore => return nonempty(client, table, None),
    };
    let Some(&newest) = versions.last() else {
        return invalid(format!("{table} records no applied migration"));
    };
    for v in versions {
        if !migrations.iter().any(|m| m.version == v) {
            return Err(Error::MissingFile(format!(
                "{table} records version {v}, which no migration in {} has",
                dir.display()
            )));
        }
    }
    Ok(Some(newest))
}

fn numbers(client: &mut Client, sql: &str) -> Result<Vec<i64>, Error> {
    Ok(client.query(sql, &[])?.iter().map(|r| r.get(0)).collect())
}

/// `None` when the history has at least one applied entry; refused when it has none.
fn nonempty(client: &mut Client, table: &str, filter: Option<&str>) -> Result<Option<i64>, Error> {
    let sql = match filter {
        Some(filter) => format!("SELECT count(*) FROM {table} WHERE {filter}"),
        None => format!("SELECT count(*) FROM {table}"),
    };
    let applied: i64 = client.query_one(&sql, &[])?.get(0);
    if applied == 0 {
        return Err(Error::Invalid(format!(
            "{table} records no applied migration"
        )));
    }
    Ok(None)
}

/// The table exists and has the tool's columns.
fn check_shape(client: &mut Client, tool: Tool) -> Result<(), Error> {
    let table = tool.table();
    let columns: Option<Vec<String>> = client
        .query_one(
            "SELECT (SELECT array_agg(attname::text) FROM pg_attribute \
             WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped)",
            &[&table],
        )?
        .get(0);
    let Some(columns) = columns else {
        return Err(Error::Invalid(format!(
            "{table} does not exist in this database: is it {}'s?",
            tool.name()
        )));
    };
    if let Some(missing) = tool
        .columns()
        .iter()
        .find(|c| !columns.iter().any(|have| have == *c))
    {
        return Err(Error::Invalid(format!(
            "{table} is not {}'s history table (it has no column {missing}); \
             pick the tool that created it with --from",
            tool.name()
        )));
    }
    // dbmate's and golang-migrate's tables share a name; only golang-migrate's has `dirty`.
    if tool == Tool::Dbmate && columns.iter().any(|c| c == "dirty") {
        return Err(Error::Invalid(format!(
            "{table} is golang-migrate's history table (it has a dirty column): use --from golang-migrate"
        )));
    }
    Ok(())
}
