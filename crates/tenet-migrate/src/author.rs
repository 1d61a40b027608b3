//! Writing migrations: the plan from what the migrations build to what the schema files say,
//! as an up file, a down file, a new sum and a decision entry.

use std::path::{Path, PathBuf};

use tenet_diff::Plan;
use tenet_pg::LazyServer;

use crate::decisions::{self, Entry};
use crate::dir::{next_version, snake_name};
use crate::replay::{plan_between, replay, schema_files, Extent};
use crate::run::load_checked;
use crate::{sum, Error, Migration};

pub struct NewMigration<'a> {
    /// The migrations directory.
    pub dir: &'a Path,
    /// The desired state: a `.sql` file or a directory of them.
    pub schema: &'a Path,
    pub name: &'a str,
    pub why: Option<&'a str>,
    pub allow_destructive: bool,
    /// The decision log to append to.
    pub decisions: &'a Path,
}

pub struct Written {
    pub up: PathBuf,
    pub down: PathBuf,
    pub plan: Plan,
}

/// Write the next migration. Refused when the schema files hold nothing the migrations do not
/// already build, and (unless allowed) when the change loses data.
pub fn new_migration(scratch: &LazyServer, new: &NewMigration) -> Result<Written, Error> {
    let name = snake_name(new.name)?;
    let migrations = load_checked(new.dir)?;
    let (up, down) = plans(scratch, &migrations, new.schema, new.allow_destructive)?;
    if up.is_empty() {
        return Err(Error::Findings(format!(
            "nothing to do: the migrations in {} already build the schema in {}",
            new.dir.display(),
            new.schema.display()
        )));
    }
    let version = next_version(&migrations);
    let id = format!("{version}_{name}");
    let up_path = new.dir.join(format!("{id}.up.sql"));
    let down_path = new.dir.join(format!("{id}.down.sql"));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    std::fs::create_dir_all(new.dir).map_err(io(new.dir))?;
    let header = |what: &str| {
        format!(
            "-- {id}: {what}\n-- Written by `tenet migrate new` from {}; review it before applying. Tenet runs\n-- it in one transaction, except statements marked \"runs outside a transaction\" (each\n-- alone) and \"in a transaction of its own\" (committed apart from what comes before), with\n-- the lock_timeout `tenet migrate apply` is given.\n",
            new.schema.display()
        )
    };
    std::fs::write(&up_path, header("up") + &up.to_migration_sql()).map_err(io(&up_path))?;
    let down_note = if down.steps.iter().any(|s| s.is_destructive()) {
        "down (it drops what the up migration created: data in it is lost)"
    } else {
        "down"
    };
    std::fs::write(&down_path, header(down_note) + &down.to_migration_sql())
        .map_err(io(&down_path))?;
    sum::write(new.dir)?;
    decisions::append(
        new.decisions,
        &Entry {
            version,
            migration_id: &id,
            up_file: &up_path,
            date: today(),
            plan: &up,
            why: new.why,
        },
    )?;
    Ok(Written {
        up: up_path,
        down: down_path,
        plan: up,
    })
}

/// The up and down plans between what `migrations` build and the schema files.
fn plans(
    scratch: &LazyServer,
    migrations: &[Migration],
    schema: &Path,
    allow_destructive: bool,
) -> Result<(Plan, Plan), Error> {
    let all: Vec<(&Migration, Extent)> = migrations.iter().map(|m| (m, Extent::All)).collect();
    let (built, wanted) = std::thread::scope(|threads| {
        let built = threads.spawn(|| replay(scratch, &all));
        let wanted = schema_files(scratch, schema);
        (built.join().expect("replay panicked"), wanted)
    });
    let (built, wanted) = (built?, wanted?);
    let up = plan_between(built.clone(), wanted.clone(), allow_destructive)?;
    let down = plan_between(wanted, built, true)?;
    Ok((up, down))
}

/// The schema files' changes that no migration captures ("pending model changes"), as a plan;
/// empty when the migrations build exactly the schema.
pub fn pending_model_changes(
    scratch: &LazyServer,
    dir: &Path,
    schema: &Path,
) -> Result<Plan, Error> {
    let migrations = load_checked(dir)?;
    Ok(plans(scratch, &migrations, schema, true)?.0)
}

/// A decision entry for an existing migration, from the plan between what the migrations
/// before it build and what it builds.
pub fn add_decision(
    scratch: &LazyServer,
    dir: &Path,
    version: Option<i64>,
    why: Option<&str>,
    log: &Path,
) -> Result<String, Error> {
    let migrations = load_checked(dir)?;
    let migration = match version {
        Some(v) => migrations.iter().find(|m| m.version == v).ok_or_else(|| {
            Error::MissingFile(format!("no migration in {} has version {v}", dir.display()))
        })?,
        None => migrations
            .last()
            .ok_or_else(|| Error::Invalid(format!("{} holds no migrations", dir.display())))?,
    };
    let before: Vec<(&Migration, Extent)> = migrations
        .iter()
        .filter(|m| m.version < migration.version)
        .map(|m| (m, Extent::All))
        .collect();
    let mut after = before.clone();
    after.push((migration, Extent::All));
    let (from, to) = std::thread::scope(|threads| {
        let from = threads.spawn(|| replay(scratch, &before));
        let to = replay(scratch, &after);
        (from.join().expect("replay panicked"), to)
    });
    let plan = plan_between(from?, to?, true)?;
    let id = migration.id();
    decisions::append(
        log,
        &Entry {
            version: migration.version,
            migration_id: &id,
            up_file: &migration.up_path,
            date: today(),
            plan: &plan,
            why,
        },
    )?;
    Ok(id)
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}
