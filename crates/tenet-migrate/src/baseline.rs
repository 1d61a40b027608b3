//! Adopting a database whose migrations were applied by other means: `baseline` records them
//! as applied without running them (the version may come from another tool's history table,
//! see `adopt.rs`), after checking the schema is what they build.

use std::path::Path;

use postgres::Client;
use tenet_pg::LazyServer;

use crate::adopt::{adopted_version, Tool};
use crate::history::{self, Scope};
use crate::replay::{check_drift, Extent};
use crate::run::{load_checked, Progress};
use crate::{segments, Error, Migration};

/// Record every migration up to `version` as applied without running any: for a database the
/// migrations were already applied to by other means. With `adopt`, the version comes from the
/// other tool's history table. Refused when the database is not what those migrations build.
pub fn baseline(
    client: &mut Client,
    scratch: &LazyServer,
    dir: &Path,
    version: Option<i64>,
    adopt: Option<Tool>,
    progress: Progress,
) -> Result<Vec<String>, Error> {
    let migrations = load_checked(dir)?;
    let scope = &Scope::Database;
    history::lock(client, scope, || {
        progress("waiting for another migration run on this database to finish".into())
    })?;
    let adopted = match adopt {
        Some(tool) => adopted_version(client, tool, &migrations, dir)?,
        None => None,
    };
    let upto = match (version, adopted) {
        (Some(v), Some(a)) if v != a => {
            return Err(Error::Invalid(format!(
                "version {v} was given but the {} history says {a}",
                adopt.expect("adopted implies a tool").table()
            )))
        }
        (Some(v), _) | (None, Some(v)) => v,
        // A tool with identifiers of its own: the newest migration, the one written from
        // the adopted schema.
        (None, None) if adopt.is_some() => match migrations.last() {
            Some(m) => m.version,
            None => {
                return Err(Error::MissingFile(format!(
                    "{} holds no migration to baseline",
                    dir.display()
                )))
            }
        },
        (None, None) => return Err(Error::Invalid(
            "baseline needs a VERSION, or --from TOOL (the tool whose history this database has)"
                .into(),
        )),
    };
    if !migrations.iter().any(|m| m.version == upto) {
        return Err(Error::MissingFile(format!(
            "no migration in {} has version {upto}",
            dir.display()
        )));
    }
    history::ensure(client, scope)?;
    if !history::read(client, scope)?.is_empty() {
        return Err(Error::Invalid(
            "this database already has Tenet migration history; baseline is for one that has none"
                .into(),
        ));
    }
    let covered: Vec<&Migration> = migrations.iter().filter(|m| m.version <= upto).collect();
    let expected: Vec<(&Migration, Extent)> = covered.iter().map(|m| (*m, Extent::All)).collect();
    let fingerprint = check_drift(client, scratch, &expected, None, scope)?;
    let applied_by = history::applied_by(client)?;
    let mut tx = client.transaction()?;
    for m in &covered {
        let total = segments::split(&m.up_path.display().to_string(), &m.up_sql)?
            .len()
            .max(1) as i32;
        history::record(
            &mut tx,
            scope,
            m.version,
            &m.name,
            &m.checksum,
            0,
            &applied_by,
            total,
            total,
            true,
        )?;
    }
    if let Some(newest) = covered.last() {
        history::record_fingerprint(&mut tx, scope, newest.version, &fingerprint)?;
    }
    tx.commit()?;
    Ok(covered.iter().map(|m| m.id()).collect())
}
