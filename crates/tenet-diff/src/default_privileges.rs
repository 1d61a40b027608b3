//! Default privileges: each entry that differs is revoked and granted again.
//!
//! They run after every object is created: objects a plan creates get the privileges the
//! target lists for them (set explicitly with the other grants), not ones a new default
//! would add. Entries of a schema that goes are revoked before it is dropped.

use std::collections::BTreeMap;

use tenet_catalog::model::*;
use tenet_catalog::render;

use crate::plan::Step;

type Key<'c> = (&'c str, Option<&'c str>, &'c str);

fn entries(c: &Catalog) -> BTreeMap<Key<'_>, &DefaultPrivilege> {
    c.default_privileges
        .iter()
        .map(|d| {
            (
                (d.role.as_str(), d.schema.as_deref(), d.objects.as_str()),
                d,
            )
        })
        .collect()
}

fn object(d: &DefaultPrivilege) -> String {
    match &d.schema {
        Some(s) => format!("default privileges of {} in {s} on {}", d.role, d.objects),
        None => format!("default privileges of {} on {}", d.role, d.objects),
    }
}

/// One step per entry that is new, gone or changed.
pub(crate) fn steps(from: &Catalog, to: &Catalog) -> Vec<Step> {
    let (old, new) = (entries(from), entries(to));
    let mut keys: Vec<&Key> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut steps = Vec::new();
    for key in keys {
        let (before, after) = (old.get(key).copied(), new.get(key).copied());
        if before.map(|d| &d.grants) == after.map(|d| &d.grants) {
            continue;
        }
        let Some(entry) = after.or(before) else {
            continue;
        };
        let sql = render::change_default_privileges(
            entry,
            before.map(|d| d.grants.as_slice()),
            after.map(|d| d.grants.as_slice()),
        );
        steps.push(Step::new(object(entry), sql.trim_end().to_string()));
    }
    steps
}
