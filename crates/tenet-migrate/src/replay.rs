//! What migrations build, read back from a scratch database, and how a live database differs
//! from it (drift).

use std::path::Path;

use postgres::Client;
use tenet_catalog::Catalog;
use tenet_diff::{Options, Plan};
use tenet_pg::LazyServer;

use crate::history::SCHEMA;
use crate::segments;
use crate::{Error, Migration};

/// How much of a migration to replay: all of it, or its first `n` segments (a migration that
/// was interrupted between segments).
#[derive(Clone, Copy)]
pub enum Extent {
    All,
    Segments(usize),
}

/// The catalog `migrations` build on an empty database, and the user that owns what they built
/// (the scratch server's user).
pub fn replay(
    scratch: &LazyServer,
    migrations: &[(&Migration, Extent)],
) -> Result<(Catalog, String), Error> {
    let database = scratch.get()?.scratch()?;
    let mut client = database.connect()?;
    for (migration, extent) in migrations {
        run_extent(&mut client, migration, *extent)?;
    }
    let user = current_user(&mut client)?;
    Ok((tenet_catalog::inspect(&mut client)?, user))
}

fn run_extent(client: &mut Client, migration: &Migration, extent: Extent) -> Result<(), Error> {
    let sql = &migration.up_sql;
    match extent {
        Extent::All => tenet_catalog::source::apply_script(client, &migration.up_path, sql)?,
        Extent::Segments(n) => {
            let file = migration.up_path.display().to_string();
            for segment in segments::split(&file, sql)?.iter().take(n) {
                for &(start, end) in &segment.statements {
                    client
                        .batch_execute(&sql[start..end])
                        .map_err(|e| match e.as_db_error() {
                            Some(db) => tenet_catalog::source::statement_error(
                                &migration.up_path,
                                sql,
                                (start, end),
                                db,
                            )
                            .into(),
                            None => Error::from(e),
                        })?;
                }
            }
        }
    }
    Ok(())
}

/// The catalog of schema files, applied to a scratch database, and its owner.
pub fn schema_files(scratch: &LazyServer, path: &Path) -> Result<(Catalog, String), Error> {
    let files = tenet_catalog::source::sql_files(path)?;
    let database = scratch.get()?.scratch()?;
    let mut client = database.connect()?;
    tenet_catalog::source::apply_files(&mut client, &files)?;
    let user = current_user(&mut client)?;
    Ok((tenet_catalog::inspect(&mut client)?, user))
}

pub fn current_user(client: &mut Client) -> Result<String, Error> {
    Ok(client.query_one("SELECT current_user::text", &[])?.get(0))
}

/// Other tools' history tables, left behind when a project adopts Tenet (sqlx; golang-migrate
/// and Rails): never part of the schema the migrations build.
const OTHER_HISTORY: &[&str] = &["public._sqlx_migrations", "public.schema_migrations"];

/// A live database's catalog without Tenet's own history schema or other tools' history
/// tables, with its owner.
pub fn live(client: &mut Client) -> Result<(Catalog, String), Error> {
    let mut catalog = tenet_catalog::inspect(client)?;
    without_history(&mut catalog);
    catalog
        .tables
        .retain(|t| !OTHER_HISTORY.contains(&format!("{}.{}", t.schema, t.name).as_str()));
    // An invalid index is a CREATE INDEX CONCURRENTLY that failed or was interrupted: not part
    // of any intended schema, and rebuilt by apply when its migration resumes.
    let invalid: Vec<(String, String, String)> = client
        .query(
            "SELECT n.nspname::text, t.relname::text, c.relname::text FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace WHERE NOT i.indisvalid",
            &[],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    for table in &mut catalog.tables {
        table.indexes.retain(|index| {
            !invalid
                .iter()
                .any(|(s, t, i)| *s == table.schema && *t == table.name && *i == index.name)
        });
    }
    let user = current_user(client)?;
    Ok((catalog, user))
}

/// Remove Tenet's history schema: bookkeeping, not part of any schema a project describes.
pub fn without_history(catalog: &mut Catalog) {
    catalog.schemas.retain(|s| s.name != SCHEMA);
    catalog.tables.retain(|t| t.schema != SCHEMA);
    catalog.sequences.retain(|s| s.schema != SCHEMA);
    catalog.views.retain(|v| v.schema != SCHEMA);
    catalog.functions.retain(|f| f.schema != SCHEMA);
    catalog.types.retain(|t| t.schema != SCHEMA);
}

/// The plan from `from` to `to`, where each side's objects were created by its own user (the
/// migrating user on the live database, the scratch user on replays): owners are compared as
/// if those two were one, and neither user counts as a role the schema needs.
pub fn plan_between(
    (from, from_user): (Catalog, String),
    (mut to, to_user): (Catalog, String),
    allow_destructive: bool,
) -> Result<Plan, Error> {
    let mut from = from;
    rename_owner(&mut to, &to_user, &from_user);
    from.roles.retain(|r| r.name != from_user);
    to.roles
        .retain(|r| r.name != from_user && r.name != to_user);
    tenet_diff::plan(&from, &to, &Options { allow_destructive })
        .map_err(|e| Error::Findings(e.to_string()))
}

fn rename_owner(catalog: &mut Catalog, from: &str, to: &str) {
    if from == to {
        return;
    }
    let owners = catalog
        .schemas
        .iter_mut()
        .map(|o| &mut o.owner)
        .chain(catalog.collations.iter_mut().map(|o| &mut o.owner))
        .chain(catalog.types.iter_mut().map(|o| &mut o.owner))
        .chain(catalog.sequences.iter_mut().map(|o| &mut o.owner))
        .chain(catalog.tables.iter_mut().map(|o| &mut o.owner))
        .chain(catalog.views.iter_mut().map(|o| &mut o.owner))
        .chain(catalog.functions.iter_mut().map(|o| &mut o.owner));
    for owner in owners {
        if owner == from {
            *owner = to.to_string();
        }
    }
}

/// Refuse when the live database differs from what `expected` builds, showing the plan that
/// would bring it back.
pub fn check_drift(
    client: &mut Client,
    scratch: &LazyServer,
    expected: &[(&Migration, Extent)],
) -> Result<(), Error> {
    let (want, live) = std::thread::scope(|threads| {
        let want = threads.spawn(|| replay(scratch, expected));
        let live = live(client);
        (want.join().expect("replay panicked"), live)
    });
    let plan = plan_between(live?, want?, true)?;
    if plan.is_empty() {
        return Ok(());
    }
    Err(Error::Drift(format!(
        "the database drifted from its migration history: it is not what the {} applied \
         migration(s) build. This plan would bring it back (review it; Tenet does not run it):\n{}",
        expected.len(),
        plan.to_sql().trim_end()
    )))
}
