//! What migrations build, read back from a scratch database, and how a live database differs
//! from it (drift).

use std::path::Path;

use postgres::Client;
use tenet_catalog::cache::Entry;
use tenet_catalog::Catalog;
use tenet_diff::{Options, Plan};
use tenet_pg::{LazyServer, Sandbox};

use crate::history::{Scope, SCHEMA, SCHEMA_TABLE};
use crate::segments;
use crate::{Error, Migration};

/// How much of a migration to replay: all of it, its first `n` segments (a migration that
/// was interrupted between segments), or all of it and then the first `n` segments of its down
/// file (a `down` that was interrupted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Extent {
    All,
    Segments(usize),
    Reverting(usize),
}

/// The catalog `migrations` build on an empty database, and the user that owns what they built
/// (the scratch server's user).
pub fn replay(
    scratch: &LazyServer,
    migrations: &[(&Migration, Extent)],
) -> Result<(Catalog, String), Error> {
    replay_in(scratch, migrations, &Scope::Database)
}

/// The schema a tenant's migrations are replayed in: the template every tenant schema is
/// compared with, renamed to the tenant's (see [`for_tenant`]). A name no tenant would have.
pub const TEMPLATE: &str = "tenet_fleet_template";

/// [`replay`] for a scope. For a tenant schema the migrations run with `search_path` set to
/// [`TEMPLATE`] and the result is that schema's catalog, in [`schema_view`] form, with the
/// template's name (rename it with [`for_tenant`]).
pub fn replay_in(
    scratch: &LazyServer,
    migrations: &[(&Migration, Extent)],
    scope: &Scope,
) -> Result<(Catalog, String), Error> {
    if scope.schema().is_some() && migrations.is_empty() {
        // Nothing applied: an empty schema, no scratch database needed.
        return Ok((Catalog::default(), String::new()));
    }
    let replayed = || -> Result<Entry, Error> {
        let mut sandbox = scratch.get()?.sandbox()?;
        if scope.schema().is_some() {
            sandbox.execute(&format!(
                "CREATE SCHEMA {TEMPLATE}; SET search_path = {TEMPLATE}"
            ))?;
        }
        for (migration, extent) in migrations {
            run_extent(&mut sandbox, migration, *extent)?;
        }
        sandbox.finish()?;
        let client = sandbox.admin();
        let user = current_user(client)?;
        let catalog = match scope {
            Scope::Database => tenet_catalog::inspect(client)?,
            Scope::Schema(_) => schema_view(tenet_catalog::inspect_schema(client, TEMPLATE)?),
        };
        Ok(Entry { user, catalog })
    };
    // A whole history replayed into a database (what check and migrate new compare the
    // schema files with) comes from the project's cache when its files are unchanged;
    // partial extents are rare, and a fleet replays once per run anyway.
    let whole = migrations.iter().all(|(_, e)| *e == Extent::All);
    let Entry { mut catalog, user } = if whole && matches!(scope, Scope::Database) {
        let inputs: Vec<(String, Vec<u8>)> = migrations
            .iter()
            .map(|(m, _)| {
                (
                    m.up_path.display().to_string(),
                    m.up_sql.clone().into_bytes(),
                )
            })
            .collect();
        tenet_catalog::cache::cached(scratch, "migrations", &inputs, replayed)?
    } else {
        replayed()?
    };
    without_excluded(&mut catalog);
    Ok((catalog, user))
}

/// A tenant schema's catalog as fleets compare it: its objects, without the schema itself
/// (whoever created it owns it), Tenet's history table in it, or what is the database's and
/// the cluster's rather than the tenant's (extensions, roles).
pub fn schema_view(mut catalog: Catalog) -> Catalog {
    catalog.schemas.clear();
    catalog.extensions.clear();
    catalog.roles.clear();
    catalog.tables.retain(|t| t.name != SCHEMA_TABLE);
    catalog
}

/// The template's catalog (from [`replay_in`]) with [`TEMPLATE`] renamed to `schema`: every
/// name field that is the template's becomes the tenant's, and every qualified reference in a
/// definition (`tenet_fleet_template.tasks`) is qualified with the tenant's quoted name. The
/// template's name is Tenet's own, so replacing it cannot touch a user's text.
pub fn for_tenant(template: &Catalog, schema: &str) -> Catalog {
    fn walk(value: &mut serde_json::Value, name: &str, qualified: &str) {
        match value {
            serde_json::Value::String(s) if s == TEMPLATE => *s = name.to_string(),
            serde_json::Value::String(s) if s.contains(TEMPLATE) => {
                *s = s.replace(&format!("{TEMPLATE}."), qualified)
            }
            serde_json::Value::Array(items) => {
                items.iter_mut().for_each(|v| walk(v, name, qualified))
            }
            serde_json::Value::Object(fields) => {
                fields.values_mut().for_each(|v| walk(v, name, qualified))
            }
            _ => {}
        }
    }
    let mut json = serde_json::to_value(template).expect("catalogs serialize");
    let qualified = format!("{}.", tenet_catalog::quote::ident(schema));
    walk(&mut json, schema, &qualified);
    // One schema throughout, so the lists stay in the order inspection sorted them.
    serde_json::from_value(json).expect("a renamed catalog reads back")
}

fn run_extent(sandbox: &mut Sandbox, migration: &Migration, extent: Extent) -> Result<(), Error> {
    let sql = &migration.up_sql;
    let up = &migration.up_path;
    match extent {
        // Each statement alone, as apply runs it (a DO block may COMMIT).
        Extent::All if tenet_catalog::migrations::no_transaction(sql) => {
            run_segments(sandbox, up, sql, usize::MAX)?
        }
        Extent::All => tenet_catalog::source::apply_script(sandbox, up, sql)?,
        Extent::Segments(n) => run_segments(sandbox, up, sql, n)?,
        Extent::Reverting(n) => {
            tenet_catalog::source::apply_script(sandbox, up, sql)?;
            let down = migration.down_sql()?;
            let path = migration.down_path.as_ref().expect("down_sql found it");
            run_segments(sandbox, path, &down, n)?;
        }
    }
    Ok(())
}

/// The first `n` segments of `sql`, each statement on its own (through the sandbox's gate).
fn run_segments(sandbox: &mut Sandbox, path: &Path, sql: &str, n: usize) -> Result<(), Error> {
    let file = path.display().to_string();
    for segment in segments::split(&file, sql)?.iter().take(n) {
        for &span in &segment.statements {
            tenet_catalog::source::apply_statement(sandbox, path, sql, span)?;
        }
    }
    Ok(())
}

/// The catalog of schema files, applied to a scratch database, and its owner.
pub fn schema_files(scratch: &LazyServer, path: &Path) -> Result<(Catalog, String), Error> {
    let files = tenet_catalog::source::sql_files(path)?;
    // From the project's cache when these files were loaded before.
    let tenet_catalog::cache::Entry { mut catalog, user } =
        tenet_catalog::cache::load_files(scratch, &files)?;
    without_excluded(&mut catalog);
    // The renames the files hint (`-- tenet:renamed-from`), so a migration renames rather than
    // dropping and adding; the down plan undoes them.
    tenet_catalog::hints::read_renames(&mut catalog, &files)?;
    Ok((catalog, user))
}

pub fn current_user(client: &mut Client) -> Result<String, Error> {
    Ok(client.query_one("SELECT current_user::text", &[])?.get(0))
}

/// The project's `[schema] exclude`: objects managed elsewhere, left out of both sides of every
/// drift check and fingerprint, as plan and inspect leave them out. Process-wide because it is
/// the project's, like tenet.toml: the command that loads the configuration sets it once.
static EXCLUDED: std::sync::RwLock<Vec<String>> = std::sync::RwLock::new(Vec::new());

/// Set the project's `[schema] exclude` patterns for drift checks (see [`EXCLUDED`]).
pub fn exclude_from_drift(patterns: &[String]) {
    *EXCLUDED.write().expect("exclusions") = patterns.to_vec();
}

fn without_excluded(catalog: &mut Catalog) {
    let schema = tenet_config::SchemaConfig {
        exclude: EXCLUDED.read().expect("exclusions").clone(),
        ..Default::default()
    };
    if schema.exclude.is_empty() {
        return;
    }
    tenet_catalog::exclude::exclude(
        catalog,
        |s, n| schema.excludes(s, n),
        |s| schema.excludes_schema(s),
    );
}

/// A live database's catalog without Tenet's own history schema or other tools' history
/// tables, with its owner.
pub fn live(client: &mut Client) -> Result<(Catalog, String), Error> {
    live_in(client, &Scope::Database)
}

/// [`live`] for a scope: a tenant schema's catalog in [`schema_view`] form.
pub fn live_in(client: &mut Client, scope: &Scope) -> Result<(Catalog, String), Error> {
    let mut catalog = match scope {
        Scope::Database => tenet_catalog::inspect(client)?,
        Scope::Schema(s) => schema_view(tenet_catalog::inspect_schema(client, s)?),
    };
    without_history(&mut catalog);
    without_excluded(&mut catalog);
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

/// Remove Tenet's history schema and every known tool's history table (and a schema that holds
/// nothing but one): bookkeeping, not part of any schema a project describes.
pub fn without_history(catalog: &mut Catalog) {
    use crate::adopt::{HISTORY_SCHEMAS, HISTORY_TABLES};
    let is_history =
        |schema: &str, name: &str| HISTORY_TABLES.contains(&format!("{schema}.{name}").as_str());
    catalog.tables.retain(|t| !is_history(&t.schema, &t.name));
    // The serial sequences of those tables (goose's and drizzle's ids) go with them.
    catalog.sequences.retain(|s| {
        s.owned_by
            .as_ref()
            .is_none_or(|o| !is_history(&o.table.schema, &o.table.name))
    });
    let history_only: Vec<String> = HISTORY_SCHEMAS
        .iter()
        .filter(|s| !catalog.holds_objects(s))
        .map(|s| s.to_string())
        .collect();
    catalog.schemas.retain(|s| !history_only.contains(&s.name));
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

/// A catalog's fingerprint: SHA-256 of its JSON (inspection sorts everything, so two equal
/// catalogs give one fingerprint).
pub fn fingerprint(catalog: &Catalog) -> String {
    let json = serde_json::to_vec(catalog).expect("catalogs serialize");
    crate::dir::sha256(&json)
}

/// The live database's (or tenant schema's) fingerprint, as [`check_drift`] computes it.
pub fn live_fingerprint(client: &mut Client, scope: &Scope) -> Result<String, Error> {
    Ok(fingerprint(&live_in(client, scope)?.0))
}

/// What `expected` builds, for comparison with `scope`'s live catalog: a tenant schema's is
/// the template's renamed to the tenant's.
fn wanted(
    scratch: &LazyServer,
    expected: &[(&Migration, Extent)],
    scope: &Scope,
) -> Result<(Catalog, String), Error> {
    let (catalog, user) = replay_in(scratch, expected, scope)?;
    Ok(match scope.schema() {
        Some(schema) => (for_tenant(&catalog, schema), user),
        None => (catalog, user),
    })
}

/// The drift of a live catalog from the one its history builds, as an error holding the plan
/// that would bring it back (none when they agree).
pub fn drift_between(
    live: (Catalog, String),
    want: (Catalog, String),
    applied: usize,
) -> Result<(), Error> {
    let plan = plan_between(live, want, true)?;
    if plan.is_empty() {
        return Ok(());
    }
    Err(Error::Drift(format!(
        "the database drifted from its migration history: it is not what the {applied} applied \
         migration(s) build. This plan would bring it back (review it; Tenet does not run it):\n{}",
        plan.to_sql().trim_end()
    )))
}

/// Refuse when the live database differs from what `expected` builds, showing the plan that
/// would bring it back. When the live catalog's fingerprint is `recorded` (what the last
/// migration left, or the last check verified), that is the answer and nothing is replayed.
/// Returns the live fingerprint.
pub fn check_drift(
    client: &mut Client,
    scratch: &LazyServer,
    expected: &[(&Migration, Extent)],
    recorded: Option<&str>,
    scope: &Scope,
) -> Result<String, Error> {
    let (want, live) = match recorded {
        // Replay only when the fingerprint disagrees.
        Some(recorded) => {
            let live = live_in(client, scope)?;
            let fingerprint = fingerprint(&live.0);
            if fingerprint == recorded {
                return Ok(fingerprint);
            }
            (wanted(scratch, expected, scope), Ok(live))
        }
        None => std::thread::scope(|threads| {
            let want = threads.spawn(|| wanted(scratch, expected, scope));
            let live = live_in(client, scope);
            (want.join().expect("replay panicked"), live)
        }),
    };
    let live = live?;
    let fingerprint = fingerprint(&live.0);
    drift_between(live, want?, expected.len())?;
    Ok(fingerprint)
}
