//! `tenet fleet check`: pending migrations and drift on every target, compared with what its
//! history builds. The migrations are replayed once per distinct history (usually one or two
//! for a whole fleet, not one per target) and each target's catalog is compared with that
//! replay; a tenant schema with the template schema renamed to it ([`replay::for_tenant`]).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use tenet_catalog::Catalog;
use tenet_pg::LazyServer;

use super::status::pending;
use super::{newest_applied, pool, Target};
use crate::history::{self, Scope};
use crate::replay::{self, Extent};
use crate::run;
use crate::{Error, Migration};

/// What check found on one target.
#[derive(Debug, Clone)]
pub struct Checked {
    pub target: String,
    pub version: Option<String>,
    pub pending: Vec<String>,
    /// The drift, as the message with the plan that would bring the target back.
    pub drift: Option<String>,
    /// The target could not be checked (unreachable, history that disagrees with the files).
    pub error: Option<String>,
}

impl Checked {
    pub fn is_clean(&self) -> bool {
        self.pending.is_empty() && self.drift.is_none() && self.error.is_none()
    }
}

/// A replay's identity: the kind of scope and how far each migration got.
type ReplayKey = (bool, Vec<(i64, Extent)>);
type Replayed = Arc<OnceLock<Result<(Catalog, String), String>>>;

/// Replays shared by the workers: the first to need one runs it, the others wait for it.
#[derive(Default)]
struct Replays(Mutex<HashMap<ReplayKey, Replayed>>);

impl Replays {
    fn get(
        &self,
        scratch: &LazyServer,
        expected: &[(&Migration, Extent)],
        scope: &Scope,
    ) -> Replayed {
        let key = (
            scope.schema().is_some(),
            expected.iter().map(|(m, e)| (m.version, *e)).collect(),
        );
        let cell = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone();
        cell.get_or_init(|| replay::replay_in(scratch, expected, scope).map_err(|e| e.to_string()));
        cell
    }
}

pub fn check(
    targets: &[Target],
    dir: &Path,
    scratch: &LazyServer,
    parallel: usize,
) -> Result<Vec<Checked>, Error> {
    let migrations = run::load_checked(dir)?;
    let replays = Replays::default();
    let job = |i: usize| check_one(&targets[i], dir, &migrations, scratch, &replays);
    Ok(pool::run(targets.len(), parallel, &|| false, &job)
        .into_iter()
        .map(|c| c.expect("check reads every target"))
        .collect())
}

fn check_one(
    target: &Target,
    dir: &Path,
    migrations: &[Migration],
    scratch: &LazyServer,
    replays: &Replays,
) -> Checked {
    let mut checked = Checked {
        target: target.label(),
        version: None,
        pending: Vec::new(),
        drift: None,
        error: None,
    };
    let result = (|| -> Result<(), Error> {
        let mut client = target.connect()?;
        // search_path matters to the effect checks of a partly applied migration.
        run::enter(&mut client, &target.scope)?;
        let applied = history::read(&mut client, &target.scope)?;
        checked.version = newest_applied(&mut client, &target.scope, migrations)?;
        checked.pending = pending(migrations, &applied);
        let mut expected = run::verify_history(migrations, &applied, dir)?;
        run::expected_with_effects(&mut client, &mut expected)?;
        let replayed = replays.get(scratch, &expected, &target.scope);
        let (template, user) = match replayed.get().expect("initialized by get") {
            Ok(replayed) => replayed,
            Err(e) => return Err(Error::Failed(format!("the replay failed: {e}"))),
        };
        let want = match target.scope.schema() {
            Some(schema) => replay::for_tenant(template, schema),
            None => template.clone(),
        };
        let live = replay::live_in(&mut client, &target.scope)?;
        match replay::drift_between(live, (want, user.clone()), expected.len()) {
            Err(Error::Drift(plan)) => checked.drift = Some(plan),
            other => other?,
        }
        Ok(())
    })();
    if let Err(e) = result {
        checked.error = Some(e.to_string());
    }
    checked
}
