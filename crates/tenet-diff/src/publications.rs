//! Publications and tables' replica identities.
//!
//! What must go before tables and columns change goes first ([`early_steps`]): publications
//! that are dropped or change between `FOR ALL TABLES` and lists, and the table entries that
//! change or whose table changes under them (a column in a column list or row filter cannot
//! be dropped or retyped, and a table dropped and created again leaves its publications).
//! Everything else comes once every table, column and index exists ([`late_steps`]).

use std::collections::BTreeMap;

use tenet_catalog::model::*;
use tenet_catalog::quote::ident;
use tenet_catalog::render;

use crate::diff::{comment_sql, Side};
use crate::plan::{Lock, Step};
use crate::table;

fn key(p: &Publication) -> String {
    format!("publication {}", p.name)
}

fn target(p: &Publication) -> String {
    format!("PUBLICATION {}", ident(&p.name))
}

fn by_name(c: &Catalog) -> BTreeMap<&str, &Publication> {
    c.publications
        .iter()
        .map(|p| (p.name.as_str(), p))
        .collect()
}

/// The publication of `old`'s name in `b`, unless it must be dropped and created again.
fn kept<'b>(old: &Publication, b: &BTreeMap<&str, &'b Publication>) -> Option<&'b Publication> {
    b.get(old.name.as_str())
        .copied()
        .filter(|new| new.all_tables == old.all_tables)
}

/// Whether the table of an entry changes in a way the entry does not survive: dropped and
/// created whole, or (for an entry naming columns) any column change.
fn table_changes_under(entry: &PublishedTable, a: &Side, b: &Side) -> bool {
    let (Some(old), Some(new)) = (a.tables.get(&entry.table), b.tables.get(&entry.table)) else {
        return false;
    };
    let names_columns = !entry.columns.is_empty() || entry.row_filter.is_some();
    table::recreated_whole(old, new) || (names_columns && old.columns != new.columns)
}

/// Old entries of a kept publication that go before the tables change.
fn entries_to_drop<'p>(
    old: &'p Publication,
    new: &Publication,
    a: &Side,
    b: &Side,
) -> Vec<&'p PublishedTable> {
    old.tables
        .iter()
        .filter(|e| !new.tables.contains(e) || table_changes_under(e, a, b))
        .collect()
}

/// Drops that must come before any table or column changes.
pub(crate) fn early_steps(a: &Side, b: &Side) -> Vec<Step> {
    let wanted = by_name(b.catalog);
    let mut steps = Vec::new();
    for old in &a.catalog.publications {
        let Some(new) = kept(old, &wanted) else {
            steps.push(Step::new(
                key(old),
                format!("DROP PUBLICATION {};", ident(&old.name)),
            ));
            continue;
        };
        let tables = entries_to_drop(old, new, a, b)
            .into_iter()
            .map(|e| format!("TABLE ONLY {}", e.table));
        let schemas = old
            .schemas
            .iter()
            .filter(|s| !new.schemas.contains(s))
            .map(|s| format!("TABLES IN SCHEMA {}", ident(s)));
        let objects: Vec<String> = tables.chain(schemas).collect();
        if !objects.is_empty() {
            steps.push(
                Step::new(
                    key(old),
                    format!("ALTER {} DROP {};", target(old), objects.join(", ")),
                )
                .lock(Lock::ShareUpdateExclusive),
            );
        }
    }
    steps
}

/// Creates and changes, once every table, column and index is in place; `usual_owner` as
/// for every other object (a new publication belongs to whoever runs the plan).
pub(crate) fn late_steps(a: &Side, b: &Side, usual_owner: Option<&str>) -> Vec<Step> {
    let existing = by_name(a.catalog);
    let mut steps = Vec::new();
    for new in &b.catalog.publications {
        let old = existing.get(new.name.as_str()).copied();
        let kept = old.filter(|o| o.all_tables == new.all_tables);
        let mut sql = String::new();
        match kept {
            None => {
                sql.push_str(&render::create_publication(new));
                sql.push('\n');
            }
            Some(old) => {
                let dropped = entries_to_drop(old, new, a, b);
                let tables = new
                    .tables
                    .iter()
                    .filter(|e| !old.tables.contains(e) || dropped.contains(e))
                    .map(render::published_table);
                let schemas = new
                    .schemas
                    .iter()
                    .filter(|s| !old.schemas.contains(s))
                    .map(|s| format!("TABLES IN SCHEMA {}", ident(s)));
                let objects: Vec<String> = tables.chain(schemas).collect();
                if !objects.is_empty() {
                    sql.push_str(&format!(
                        "ALTER {} ADD {};\n",
                        target(new),
                        objects.join(", ")
                    ));
                }
                if (&old.publish, old.via_root) != (&new.publish, new.via_root) {
                    sql.push_str(&format!(
                        "ALTER {} SET ({});\n",
                        target(new),
                        render::publish_options(new)
                    ));
                }
            }
        }
        let old_comment = kept.and_then(|o| o.comment.clone());
        if old_comment != new.comment {
            sql.push_str(&comment_sql(&target(new), &new.comment));
        }
        let owner_changed = match kept {
            Some(o) => o.owner != new.owner,
            None => usual_owner.is_some_and(|u| u != new.owner),
        };
        if owner_changed {
            sql.push_str(&format!(
                "ALTER {} OWNER TO {};\n",
                target(new),
                ident(&new.owner)
            ));
        }
        if !sql.is_empty() {
            let mut step = Step::new(key(new), sql.trim_end().to_string());
            if !new.tables.is_empty() {
                step = step.lock(Lock::ShareUpdateExclusive);
            }
            steps.push(step);
        }
    }
    steps
}

/// `REPLICA IDENTITY` of every table of `b` whose identity differs from what it has by then:
/// a table created by the plan has the default, and an identity index built again has lost
/// its mark.
pub(crate) fn replica_identity_steps(a: &Side, b: &Side) -> Vec<Step> {
    let mut steps = Vec::new();
    for (name, new) in &b.tables {
        let old = a
            .tables
            .get(name)
            .copied()
            .filter(|o| !table::recreated_whole(o, new));
        let have = old.and_then(|o| o.replica_identity.as_ref());
        let want = new.replica_identity.as_ref();
        let index_rebuilt = match (old, want) {
            (Some(old), Some(ReplicaIdentity::Index(index))) => {
                index_definition(old, index) != index_definition(new, index)
            }
            _ => false,
        };
        if have != want || index_rebuilt {
            steps.push(
                Step::new(
                    format!("table {name}"),
                    render::replica_identity(name, want),
                )
                .lock(Lock::AccessExclusive),
            );
        }
    }
    steps
}

/// The definition of the index or key called `name` on `t`.
fn index_definition<'t>(t: &'t Table, name: &str) -> Option<&'t str> {
    let index = t.indexes.iter().find(|i| i.name == name);
    let key = t.constraints.iter().find(|c| c.name == name);
    index
        .map(|i| i.definition.as_str())
        .or(key.map(|c| c.definition.as_str()))
}
