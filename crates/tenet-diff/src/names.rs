//! Relation names. Tables, views, sequences and indexes (those behind keys too) share one
//! namespace per schema, so an object created under a name an old one still holds needs the old
//! one gone first. Names are `(schema, name)` pairs borrowed from the catalog: these walks visit
//! every relation of large schemas and allocate nothing.

use std::collections::HashSet;

use tenet_catalog::model::*;

pub type Name<'c> = (&'c str, &'c str);

/// The names of `c` that are also in `wanted`.
pub fn held_of<'c>(c: &'c Catalog, wanted: &HashSet<Name<'_>>) -> HashSet<Name<'c>> {
    let mut out = HashSet::new();
    if wanted.is_empty() {
        return out;
    }
    let mut visit = |n: Name<'c>| {
        if wanted.contains(&n) {
            out.insert(n);
        }
    };
    for t in &c.tables {
        held_by_table(t).for_each(&mut visit);
    }
    for v in &c.views {
        visit((&v.schema, &v.name));
        v.indexes.iter().for_each(|i| visit((&v.schema, &i.name)));
    }
    for s in &c.sequences {
        visit((&s.schema, &s.name));
    }
    out
}

/// The names a table holds: its own, its indexes' and those of the indexes behind its keys.
pub fn held_by_table(t: &Table) -> impl Iterator<Item = Name<'_>> {
    let keys = t.constraints.iter().filter(|c| {
        matches!(
            c.kind,
            ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion
        )
    });
    std::iter::once(t.name.as_str())
        .chain(t.indexes.iter().map(|i| i.name.as_str()))
        .chain(t.partition_indexes.iter().map(|i| i.name.as_str()))
        .chain(keys.map(|c| c.name.as_str()))
        .map(|n| (t.schema.as_str(), n))
}
