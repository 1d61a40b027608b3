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

/// Index statistics and how long they have been collected.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexStats {
    pub indexes: Vec<IndexUsage>,
    pub coverage: Coverage,
    /// `unused-index` reports only when the statistics cover at least this many days.
    pub min_days: f64,
}

/// The period index statistics cover.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// Days since the start below (`None`: unknown).
    pub days: Option<f64>,
    /// What the start is: `since statistics were reset at ...`.
    pub since: String,
}

impl IndexStats {
    /// Why `unused-index` did not run, when it did not.
    pub fn note(&self) -> Option<String> {
        match self.coverage.days {
            Some(days) if days >= self.min_days => None,
            Some(days) => Some(format!(
                "unused-index not checked: the index statistics cover {} ({}), less than unused_index_min_days = {}",
                describe_days(days),
                self.coverage.since,
                self.min_days
            )),
            None => Some(format!(
                "unused-index not checked: how long the index statistics cover is unknown ({})",
                self.coverage.since
            )),
        }
    }
}

fn describe_days(days: f64) -> String {
    if days < 1.0 {
        format!("{:.1} hours", days * 24.0)
    } else {
        format!("{days:.1} days")
    }
}

const USAGE: &str = "\
select s.schemaname::text, s.relname::text, s.indexrelname::text, s.idx_scan,
       i.indisunique or i.indisprimary or i.indisexclusion
         or exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)
from pg_stat_user_indexes s join pg_index i on i.indexrelid = s.indexrelid
where s.schemaname <> 'tenet'";

/// Since when statistics accumulate: the last reset, else the database's creation (its
/// PG_VERSION file, readable by superusers and pg_read_server_files), else the server's start.
const RESET: &str =
    "select extract(epoch from now() - stats_reset)::float8 / 86400, stats_reset::text
from pg_stat_database where datname = current_database() and stats_reset is not null";
const CREATED: &str = "select extract(epoch from now() - m)::float8 / 86400, m::text
from (select (pg_stat_file('base/' || oid || '/PG_VERSION')).modification m
      from pg_database where datname = current_database()) d";
const STARTED: &str =
    "select extract(epoch from now() - pg_postmaster_start_time())::float8 / 86400,
pg_postmaster_start_time()::text";

/// Index scan counts of the database `client` is connected to, and what they cover;
/// `min_days` defaults to [`crate::settings::UNUSED_INDEX_MIN_DAYS`].
pub fn index_usage(client: &mut postgres::Client) -> Result<IndexStats, postgres::Error> {
    let indexes = client
        .query(USAGE, &[])?
        .iter()
        .map(|row| IndexUsage {
            schema: row.get(0),
            table: row.get(1),
            index: row.get(2),
            scans: row.get(3),
            enforces: row.get(4),
        })
        .collect();
    let coverage = if let Some(row) = client.query_opt(RESET, &[])? {
        Coverage {
            days: row.get(0),
            since: format!("since statistics were reset at {}", row.get::<_, String>(1)),
        }
    } else if let Ok(row) = client.query_one(CREATED, &[]) {
        Coverage {
            days: row.get(0),
            since: format!(
                "since the database was created at {}, never reset",
                row.get::<_, String>(1)
            ),
        }
    } else {
        let row = client.query_one(STARTED, &[])?;
        Coverage {
            days: row.get(0),
            since: format!(
                "at least since the server started at {}, never reset",
                row.get::<_, String>(1)
            ),
        }
    };
    Ok(IndexStats {
        indexes,
        coverage,
        min_days: crate::settings::UNUSED_INDEX_MIN_DAYS,
    })
}

/// The advise rules over a catalog. `usage` (from [`index_usage`]) enables `unused-index`,
/// when its statistics cover long enough.
pub fn advise(catalog: &Catalog, usage: Option<&IndexStats>) -> Vec<Finding> {
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
    if let Some(stats) = usage.filter(|s| s.note().is_none()) {
        let days = describe_days(stats.coverage.days.unwrap_or_default());
        for u in stats.indexes.iter().filter(|u| u.scans == 0 && !u.enforces) {
            let table = QualifiedName::new(&u.schema, &u.table);
            let index = QualifiedName::new(&u.schema, &u.index);
            out.push(finding(
                "unused-index",
                format!("index {index}"),
                format!(
                    "index {index} on {table} was not scanned in the {days} the statistics cover ({})",
                    stats.coverage.since
                ),
                format!("If those {days} are normal traffic (on every replica too): DROP INDEX CONCURRENTLY {index};"),
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
    /// Each key as the definition writes it: column or expression with its collation,
    /// operator class and sort order (`name COLLATE "C" text_pattern_ops DESC`).
    keys: Vec<String>,
    include: Vec<String>,
    predicate: Option<String>,
}

/// The keys of `CREATE INDEX ... USING method (keys) [INCLUDE ...] [WHERE ...]`, split at
/// top-level commas.
fn definition_keys(definition: &str) -> Option<Vec<String>> {
    let using = definition.find(" USING ")?;
    let open = using + definition[using..].find('(')?;
    let mut depth = 0;
    let mut quoted: Option<char> = None;
    let mut keys = Vec::new();
    let mut start = open + 1;
    for (i, c) in definition[open..].char_indices() {
        let i = open + i;
        match (quoted, c) {
            (Some(q), c) if c == q => quoted = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quoted = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    keys.push(definition[start..i].trim().to_string());
                    return Some(keys);
                }
            }
            (None, ',') if depth == 1 => {
                keys.push(definition[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    None
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
            keys: c
                .columns
                .iter()
                .map(|c| tenet_catalog::quote::ident(c))
                .collect(),
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
        keys: definition_keys(&i.definition).unwrap_or_else(|| i.columns.clone()),
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
                && a.keys == b.keys
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
    fn reads_keys_from_definitions() {
        assert_eq!(
            definition_keys("CREATE INDEX i ON public.t USING btree (name COLLATE \"C\" text_pattern_ops, lower((a)::text), b DESC) INCLUDE (c) WHERE (a > 0)"),
            Some(vec![
                "name COLLATE \"C\" text_pattern_ops".to_string(),
                "lower((a)::text)".to_string(),
                "b DESC".to_string()
            ])
        );
    }

    #[test]
    fn unquotes_index_columns() {
        assert_eq!(unquote("\"Order\""), "Order");
        assert_eq!(unquote("user_id"), "user_id");
        assert_eq!(unquote("lower(email)"), "lower(email)");
    }
}
