//! `tenet advise`: rules over a live database's catalog (and its statistics).

use std::collections::BTreeSet;

use tenet_catalog::{Catalog, ConstraintKind, QualifiedName, Table};
use tenet_report::Finding;

use crate::rules;

/// How often an index was scanned, from `pg_stat_user_indexes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexUsage {
    pub schema: String,
    pub table: String,
    pub index: String,
    pub scans: i64,
    /// Unique, primary key or exclusion index, or one backing a constraint: needed for
    /// correctness whether or not queries use it.
    pub enforces: bool,
}

const USAGE: &str = "\
select s.schemaname::text, s.relname::text, s.indexrelname::text, s.idx_scan,
       i.indisunique or i.indisprimary or i.indisexclusion
         or exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)
from pg_stat_user_indexes s join pg_index i on i.indexrelid = s.indexrelid
where s.schemaname <> 'tenet'";

/// Index scan counts of the database `client` is connected to.
pub fn index_usage(client: &mut postgres::Client) -> Result<Vec<IndexUsage>, postgres::Error> {
    Ok(client
        .query(USAGE, &[])?
        .iter()
        .map(|row| IndexUsage {
            schema: row.get(0),
            table: row.get(1),
            index: row.get(2),
            scans: row.get(3),
            enforces: row.get(4),
        })
        .collect())
}

/// The advise rules over a catalog. `usage` (from [`index_usage`]) enables `unused-index`.
pub fn advise(catalog: &Catalog, usage: Option<&[IndexUsage]>) -> Vec<Finding> {
    let mut out = Vec::new();
    for table in &catalog.tables {
        unindexed_foreign_keys(table, &mut out);
        duplicate_indexes(table, &mut out);
        if table.partition_of.is_none()
            && !table
                .constraints
                .iter()
                .any(|c| c.kind == ConstraintKind::PrimaryKey)
        {
            let name = table.qualified_name();
            out.push(finding(
                "missing-primary-key",
                format!("table {name}"),
                format!("table {name} has no primary key"),
                format!("ALTER TABLE {name} ADD PRIMARY KEY (...) (on a large table: CREATE UNIQUE INDEX CONCURRENTLY, then ADD PRIMARY KEY USING INDEX)."),
            ));
        }
    }
    if let Some(usage) = usage {
        for u in usage.iter().filter(|u| u.scans == 0 && !u.enforces) {
            let table = QualifiedName::new(&u.schema, &u.table);
            let index = QualifiedName::new(&u.schema, &u.index);
            out.push(finding(
                "unused-index",
                format!("index {index}"),
                format!("index {index} on {table} has not been scanned since statistics were last reset"),
                format!("If the statistics cover normal traffic (on every replica too): DROP INDEX CONCURRENTLY {index};"),
            ));
        }
    }
    for f in &catalog.functions {
        if !f.security_definer {
            continue;
        }
        let search_path = f.config.iter().find_map(|c| c.strip_prefix("search_path="));
        let mutable = match search_path {
            None => true,
            Some(path) => path.trim().is_empty() || path.contains("$user"),
        };
        if mutable {
            let signature = f.signature();
            let kind = if f.kind == "procedure" {
                "PROCEDURE"
            } else {
                "FUNCTION"
            };
            out.push(finding(
                "security-definer-search-path",
                format!("{} {signature}", f.kind),
                match search_path {
                    None => format!("SECURITY DEFINER {} {signature} does not set search_path", f.kind),
                    Some(path) => format!("SECURITY DEFINER {} {signature} sets search_path={path}, which callers can influence", f.kind),
                },
                format!("ALTER {kind} {signature} SET search_path = pg_catalog, pg_temp; and schema-qualify the names its body uses."),
            ));
        }
    }
    for e in &catalog.extensions {
        if e.schema == "public" && e.name != "plpgsql" {
            out.push(finding(
                "extension-in-public",
                format!("extension {}", e.name),
                format!("extension {} is installed in schema public", e.name),
                format!(
                    "CREATE SCHEMA IF NOT EXISTS extensions; ALTER EXTENSION {} SET SCHEMA extensions; and add extensions to the search_path of roles that need it.",
                    tenet_catalog::quote::ident(&e.name)
                ),
            ));
        }
    }
    out
}

fn finding(rule: &'static str, object: String, message: String, fix: String) -> Finding {
    let info = rules::rule(rule).expect("rule is in the table");
    Finding {
        rule: rule.to_string(),
        severity: info.severity,
        object: Some(object),
        message,
        why: info.why.to_string(),
        fix,
        location: None,
    }
}

/// An index (or a constraint's index) as far as these rules care.
struct KeyIndex {
    name: String,
    /// Backs a primary key or unique constraint.
    constraint: bool,
    unique: bool,
    method: String,
    columns: Vec<String>,
    include: Vec<String>,
    predicate: Option<String>,
}

fn key_indexes(table: &Table) -> Vec<KeyIndex> {
    let mut out: Vec<KeyIndex> = table
        .constraints
        .iter()
        .filter(|c| matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique))
        .map(|c| KeyIndex {
            name: c.name.clone(),
            constraint: true,
            unique: true,
            method: "btree".into(),
            columns: c.columns.clone(),
            include: Vec::new(),
            predicate: None,
        })
        .collect();
    out.extend(table.indexes.iter().map(|i| KeyIndex {
        name: i.name.clone(),
        constraint: false,
        unique: i.unique,
        method: i.method.clone(),
        columns: i.columns.iter().map(|c| unquote(c)).collect(),
        include: i.include.iter().map(|c| unquote(c)).collect(),
        predicate: i.predicate.clone(),
    }));
    out
}

/// `"Order"` -> `Order`; anything else unchanged (expressions stay as rendered).
fn unquote(column: &str) -> String {
    match column.strip_prefix('"').and_then(|c| c.strip_suffix('"')) {
        Some(inner) if !inner.contains("\"\"") || inner.matches('"').count() % 2 == 0 => {
            inner.replace("\"\"", "\"")
        }
        _ => column.to_string(),
    }
}

fn unindexed_foreign_keys(table: &Table, out: &mut Vec<Finding>) {
    let indexes = key_indexes(table);
    let name = table.qualified_name();
    for fk in table
        .constraints
        .iter()
        .filter(|c| c.kind == ConstraintKind::ForeignKey)
    {
        let wanted: BTreeSet<&str> = fk.columns.iter().map(String::as_str).collect();
        // An index serves the key when its leading columns are the key's columns (in any
        // order): a composite index (a, b, c) covers a foreign key on (b, a).
        let covered = indexes.iter().any(|i| {
            i.predicate.is_none()
                && i.method == "btree"
                && i.columns.len() >= wanted.len()
                && i.columns[..wanted.len()]
                    .iter()
                    .map(String::as_str)
                    .collect::<BTreeSet<_>>()
                    == wanted
        });
        if covered {
            continue;
        }
        let columns = fk
            .columns
            .iter()
            .map(|c| tenet_catalog::quote::ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        let target = fk
            .references
            .as_ref()
            .map(|r| format!(" referencing {}", r.table))
            .unwrap_or_default();
        out.push(finding(
            "unindexed-foreign-key",
            format!("table {name}"),
            format!(
                "foreign key {} on {name} ({columns}){target} has no index on its columns",
                tenet_catalog::quote::ident(&fk.name)
            ),
            format!("CREATE INDEX CONCURRENTLY ON {name} ({columns});"),
        ));
    }
}

fn duplicate_indexes(table: &Table, out: &mut Vec<Finding>) {
    let indexes = key_indexes(table);
    let name = table.qualified_name();
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    for (i, a) in indexes.iter().enumerate() {
        for b in &indexes[i + 1..] {
            let same = a.method == b.method
                && a.columns == b.columns
                && a.predicate == b.predicate
                && a.include == b.include;
            if !same {
                continue;
            }
            // Keep the one that enforces more: constraint, then unique; drop the other.
            let rank = |k: &KeyIndex| (k.constraint, k.unique);
            let (keep, drop) = if rank(b) > rank(a) { (b, a) } else { (a, b) };
            if drop.constraint || drop.unique && !keep.unique || !reported.insert(&drop.name) {
                if drop.constraint {
                    // Two constraints with one key: still worth saying, but nothing to drop
                    // safely without knowing which one references depend on.
                    if reported.insert(&drop.name) {
                        out.push(finding(
                            "duplicate-index",
                            format!("table {name}"),
                            format!(
                                "constraints {} and {} on {name} have the same key ({})",
                                tenet_catalog::quote::ident(&keep.name),
                                tenet_catalog::quote::ident(&drop.name),
                                drop.columns.join(", ")
                            ),
                            "Drop the constraint nothing references (ALTER TABLE ... DROP CONSTRAINT)."
                                .to_string(),
                        ));
                    }
                }
                continue;
            }
            let drop_name = QualifiedName::new(&table.schema, &drop.name);
            out.push(finding(
                "duplicate-index",
                format!("index {drop_name}"),
                format!(
                    "index {} on {name} duplicates {} ({})",
                    tenet_catalog::quote::ident(&drop.name),
                    tenet_catalog::quote::ident(&keep.name),
                    drop.columns.join(", ")
                ),
                format!("DROP INDEX CONCURRENTLY {drop_name};"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquotes_index_columns() {
        assert_eq!(unquote("\"Order\""), "Order");
        assert_eq!(unquote("user_id"), "user_id");
        assert_eq!(unquote("lower(email)"), "lower(email)");
    }
}
