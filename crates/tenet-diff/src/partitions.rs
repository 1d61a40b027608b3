//! Indexes of partitions attached to their parent's indexes (`Table::partition_indexes`).
//! PostgreSQL builds a partition's index itself, under a name of its choosing, when the parent's
//! index is created or a partition is attached; so the partitions' own indexes are created
//! first (deepest partitions first), and the parent's `CREATE INDEX` then attaches them. A
//! partition joining an index that already exists gets PostgreSQL's index, renamed.

use tenet_catalog::model::*;
use tenet_catalog::quote::{ident, literal};
use tenet_catalog::render;

use crate::diff::{table_key, Side};
use crate::plan::{Hazard, Lock, Step};
use crate::table::{recreated_whole, same_index};

/// Whether the index `index` of table `table` (in `b`) is created by this plan.
fn index_created(a: &Side, b: &Side, table: &QualifiedName, index: &str, depth: usize) -> bool {
    let (Some(new), Some(old)) = (b.tables.get(table), a.tables.get(table)) else {
        return true;
    };
    if recreated_whole(old, new) || depth > 64 {
        return true;
    }
    if let Some(i) = new.indexes.iter().find(|i| i.name == index) {
        return !old.indexes.iter().any(|o| same_index(o, i));
    }
    match new.partition_indexes.iter().find(|i| i.name == index) {
        Some(child) => child_created(a, b, new, child, depth + 1),
        None => false,
    }
}

/// A partition's index is created when its parent's index is.
fn child_created(a: &Side, b: &Side, t: &Table, child: &PartitionIndex, depth: usize) -> bool {
    t.partition_of
        .as_ref()
        .is_some_and(|p| index_created(a, b, &p.parent, &child.parent, depth))
}

/// The steps for every partition index of `b`: created before the parents' indexes, or renamed
/// where PostgreSQL made its own.
pub fn steps(a: &Side, b: &Side) -> Vec<Step> {
    let mut out = Vec::new();
    for (t, child) in render::partition_indexes_deepest_first(&b.catalog.tables, &b.table_map) {
        let Some(parent) = t.partition_of.as_ref().map(|p| &p.parent) else {
            continue;
        };
        let name = t.qualified_name();
        let key = table_key(t);
        if child_created(a, b, t, child, 0) {
            let sql = render::create_index_of(t, child);
            let existing = a.tables.get(&name).is_some_and(|o| !recreated_whole(o, t));
            out.push(if existing && t.partition_by.is_none() {
                Step::new(
                    key,
                    format!("{};", sql.replacen(" INDEX ", " INDEX CONCURRENTLY ", 1)),
                )
                .lock(Lock::ShareUpdateExclusive)
                .hazard(Hazard::IndexBuild)
                .outside_transaction()
                .note("the partition's own index, built before its parent's index attaches it")
            } else {
                Step::new(key, format!("{sql};"))
                    .note("built before its parent's index, which attaches it")
            });
            continue;
        }
        // The parent's index exists: the partition has PostgreSQL's index, or the one it had.
        let before = a
            .tables
            .get(&name)
            .filter(|o| o.partition_of.as_ref().map(|p| &p.parent) == Some(parent))
            .and_then(|o| {
                o.partition_indexes
                    .iter()
                    .find(|i| i.parent == child.parent)
            });
        match before {
            Some(old) if old.name == child.name => {}
            Some(old) => out.push(
                Step::new(
                    key,
                    format!(
                        "ALTER INDEX {} RENAME TO {};",
                        QualifiedName::new(&t.schema, &old.name),
                        ident(&child.name)
                    ),
                )
                .lock(Lock::AccessExclusive),
            ),
            None => out.push(
                Step::new(
                    key,
                    rename_made_index(parent, &child.parent, &name, &child.name),
                )
                .lock(Lock::AccessExclusive)
                .note("PostgreSQL built the partition's index when it joined: give it its name"),
            ),
        }
    }
    out
}

/// SQL that renames the index PostgreSQL attached to `parent_index` on `partition`.
fn rename_made_index(
    parent: &QualifiedName,
    parent_index: &str,
    partition: &QualifiedName,
    name: &str,
) -> String {
    let parent_index = literal(&QualifiedName::new(&parent.schema, parent_index).to_string());
    let partition_lit = literal(&partition.to_string());
    let schema = literal(&partition.schema);
    let name = literal(name);
    format!(
        "DO $$\nDECLARE made name;\nBEGIN\n  SELECT c.relname INTO made FROM pg_inherits h\n    \
         JOIN pg_index x ON x.indexrelid = h.inhrelid JOIN pg_class c ON c.oid = h.inhrelid\n   \
         WHERE h.inhparent = {parent_index}::regclass AND x.indrelid = {partition_lit}::regclass;\n  \
         IF made <> {name} THEN\n    EXECUTE format('ALTER INDEX %I.%I RENAME TO %I', {schema}, made, {name});\n  \
         END IF;\nEND\n$$;"
    )
}
