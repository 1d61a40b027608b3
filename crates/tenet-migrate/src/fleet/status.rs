//! `tenet fleet status`: the version each target is at, and what is pending there.

use std::collections::BTreeMap;
use std::path::Path;

use super::{newest_applied, pool, Target};
use crate::run::{self, State};
use crate::{dir, history, Error, Migration};

/// Where one target stands.
#[derive(Debug, Clone)]
pub struct Standing {
    pub target: String,
    /// The newest migration applied (None: none yet).
    pub version: Option<String>,
    /// Migrations of the directory not (completely) applied there.
    pub pending: Vec<String>,
    /// The target could not be read (unreachable, no such schema...).
    pub error: Option<String>,
}

/// Every target's standing, read on `parallel` connections at once.
pub fn status(targets: &[Target], dir: &Path, parallel: usize) -> Result<Vec<Standing>, Error> {
    let migrations = dir::load(dir)?;
    let job = |i: usize| standing(&targets[i], &migrations);
    Ok(pool::run(targets.len(), parallel, &|| false, &job)
        .into_iter()
        .map(|s| s.expect("status reads every target"))
        .collect())
}

fn standing(target: &Target, migrations: &[Migration]) -> Standing {
    let read = || -> Result<(Option<String>, Vec<String>), Error> {
        let mut client = target.connect()?;
        if let Some(schema) = target.scope.schema() {
            let exists: bool = client
                .query_one(
                    "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)",
                    &[&schema],
                )?
                .get(0);
            if !exists {
                return Err(Error::Invalid(format!(
                    "schema {} does not exist",
                    tenet_catalog::quote::ident(schema)
                )));
            }
        }
        let version = newest_applied(&mut client, &target.scope, migrations)?;
        let applied = history::read(&mut client, &target.scope)?;
        Ok((version, pending(migrations, &applied)))
    };
    match read() {
        Ok((version, pending)) => Standing {
            target: target.label(),
            version,
            pending,
            error: None,
        },
        Err(e) => Standing {
            target: target.label(),
            version: None,
            pending: Vec::new(),
            error: Some(e.to_string()),
        },
    }
}

/// The directory's migrations a history has not completely applied.
pub(crate) fn pending(migrations: &[Migration], applied: &[history::Applied]) -> Vec<String> {
    run::classify(migrations, applied)
        .into_iter()
        .filter(|l| matches!(l.state, State::Pending | State::Partial(_)))
        .map(|l| {
            migrations
                .iter()
                .find(|m| m.version == l.version)
                .map_or_else(|| format!("{}_{}", l.version, l.name), Migration::id)
        })
        .collect()
}

/// How many targets are at each version, the largest group first ("no migration applied" and
/// "unreadable" are groups too).
pub fn groups(standings: &[Standing]) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for s in standings {
        let label = match (&s.error, &s.version) {
            (Some(_), _) => "unreadable".to_string(),
            (None, None) => "no migration applied".to_string(),
            (None, Some(v)) => v.clone(),
        };
        *counts.entry(label).or_default() += 1;
    }
    let mut groups: Vec<(String, usize)> = counts.into_iter().collect();
    groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    groups
}
