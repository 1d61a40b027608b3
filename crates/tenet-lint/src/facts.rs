//! What the database looks like before a migration runs: read from a scratch database on which
//! the earlier migrations were replayed, or from the database the migration will run on
//! (`--url`). The static rules consult it where the migration's own text cannot tell: which
//! tables already exist (a table that does not is created by this migration, so locking it
//! hurts nobody), a column's current type, NOT NULL and validated `CHECK (col IS NOT NULL)`
//! constraints, which functions are volatile, and (from the target database only: a scratch
//! database's tables are empty) how large each table is.

use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Default)]
pub struct Facts {
    tables: HashMap<(String, String), TableFacts>,
    volatile_functions: HashSet<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableFacts {
    pub partitioned: bool,
    /// Column name -> type as `format_type` renders it (`integer`, `character varying(20)`).
    pub columns: HashMap<String, String>,
    /// Columns already NOT NULL.
    pub not_null: HashSet<String>,
    /// Columns a validated `CHECK (col IS NOT NULL)` covers.
    pub checked_not_null: HashSet<String>,
    /// Known only for the target database.
    pub size: Option<TableSize>,
}

/// A table's size (a partitioned table's: its partitions').
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSize {
    /// `reltuples`; `None` when the table was never analyzed (or vacuumed).
    pub rows: Option<u64>,
    /// `pg_relation_size`: the main data file, without indexes and TOAST.
    pub bytes: u64,
}

impl TableSize {
    /// The row count, or an estimate from the size for a table never analyzed (about 100
    /// bytes a row; an empty file is an empty table).
    pub fn rows_or_estimate(&self) -> u64 {
        self.rows.unwrap_or(self.bytes / 100)
    }

    /// `50,000,000 rows, 7.2 GB` / `about 80 rows (never analyzed), 8 kB`.
    pub fn describe(&self) -> String {
        let rows = match self.rows {
            Some(1) => "1 row".to_string(),
            Some(n) => format!("{} rows", thousands(n)),
            None => format!(
                "about {} rows (estimated from its size: never analyzed)",
                thousands(self.rows_or_estimate())
            ),
        };
        format!("{rows}, {}", bytes(self.bytes))
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bytes(n: u64) -> String {
    const UNITS: &[&str] = &["bytes", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} bytes")
    } else if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

const TABLES: &str = "\
select n.nspname, c.relname, c.relkind = 'p',
  coalesce((select json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull) order by a.attnum)
            from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]')::text,
  coalesce((select json_agg(pg_get_constraintdef(k.oid))
            from pg_constraint k where k.conrelid = c.oid and k.contype = 'c' and k.convalidated), '[]')::text,
  case when $2 then (
    select json_build_array(
      case when bool_or(p.reltuples < 0 and pg_relation_size(p.oid) > 0) then null
           else sum(greatest(p.reltuples, 0))::bigint end,
      coalesce(sum(pg_relation_size(p.oid)), 0)::bigint)::text
    from pg_class p
    where p.oid = c.oid and c.relkind = 'r'
       or p.oid in (select relid from pg_partition_tree(c.oid) where isleaf and c.relkind = 'p'))
  end
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p')
  and n.nspname not in ('pg_catalog', 'information_schema')
  and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'
  and ($1::text[] is null or c.relname = any($1))";

const VOLATILE: &str = "select distinct proname::text from pg_proc where provolatile = 'v'
  and ($1::text[] is null or proname = any($1))";

impl Facts {
    /// Read the facts of the database `client` is connected to.
    pub fn load(client: &mut postgres::Client) -> Result<Facts, postgres::Error> {
        Facts::load_names(client, None, false)
    }

    /// Facts about the tables and functions with these names only (what a migration mentions:
    /// cheaper on large schemas, and complete for every name the migration uses).
    pub fn load_for(
        client: &mut postgres::Client,
        names: &[String],
    ) -> Result<Facts, postgres::Error> {
        Facts::load_names(client, Some(names), false)
    }

    /// Facts of the database a migration will run on (`--url`), sizes included. Read only.
    pub fn load_target(client: &mut postgres::Client) -> Result<Facts, postgres::Error> {
        Facts::load_names(client, None, true)
    }

    fn load_names(
        client: &mut postgres::Client,
        names: Option<&[String]>,
        sizes: bool,
    ) -> Result<Facts, postgres::Error> {
        let names: Option<Vec<&str>> = names.map(|n| n.iter().map(String::as_str).collect());
        let mut facts = Facts::default();
        for row in client.query(TABLES, &[&names, &sizes])? {
            let schema: String = row.get(0);
            let name: String = row.get(1);
            let columns: Vec<(String, String, bool)> =
                serde_json::from_str(row.get::<_, &str>(3)).unwrap_or_default();
            let checks: Vec<String> =
                serde_json::from_str(row.get::<_, &str>(4)).unwrap_or_default();
            let size = row
                .get::<_, Option<&str>>(5)
                .and_then(|s| serde_json::from_str::<(Option<i64>, i64)>(s).ok())
                .map(|(rows, bytes)| TableSize {
                    rows: rows.map(|r| r.max(0) as u64),
                    bytes: bytes.max(0) as u64,
                });
            let table = TableFacts {
                partitioned: row.get(2),
                not_null: columns
                    .iter()
                    .filter(|c| c.2)
                    .map(|c| c.0.clone())
                    .collect(),
                columns: columns.into_iter().map(|(n, t, _)| (n, t)).collect(),
                checked_not_null: checks
                    .iter()
                    .filter_map(|c| not_null_check_column(c))
                    .collect(),
                size,
            };
            facts.tables.insert((schema, name), table);
        }
        for row in client.query(VOLATILE, &[&names])? {
            facts.volatile_functions.insert(row.get(0));
        }
        Ok(facts)
    }

    /// Take table sizes from `target` (the database the migration will run on) for the tables
    /// both know.
    pub fn with_sizes_from(mut self, target: &Facts) -> Facts {
        for ((schema, name), table) in self.tables.iter_mut() {
            if let Some(t) = target.tables.get(&(schema.clone(), name.clone())) {
                table.size = t.size;
            }
        }
        self
    }

    /// Facts for tests and callers that know the schema already.
    pub fn with_table(mut self, schema: &str, name: &str, table: TableFacts) -> Facts {
        self.tables
            .insert((schema.to_string(), name.to_string()), table);
        self
    }

    /// The table `schema.name`; without a schema, `public.name`, else the only table of that
    /// name in any schema.
    pub fn table(&self, schema: Option<&str>, name: &str) -> Option<&TableFacts> {
        match schema {
            Some(schema) => self.tables.get(&(schema.to_string(), name.to_string())),
            None => self
                .tables
                .get(&("public".to_string(), name.to_string()))
                .or_else(|| {
                    let mut found = self.tables.iter().filter(|((_, n), _)| n == name);
                    match (found.next(), found.next()) {
                        (Some((_, t)), None) => Some(t),
                        _ => None,
                    }
                }),
        }
    }

    /// The schema an unqualified table name resolves to, when known.
    pub fn schema_of(&self, name: &str) -> Option<&str> {
        if self
            .tables
            .contains_key(&("public".to_string(), name.to_string()))
        {
            return Some("public");
        }
        let mut found = self.tables.keys().filter(|(_, n)| n == name);
        match (found.next(), found.next()) {
            (Some((s, _)), None) => Some(s.as_str()),
            _ => None,
        }
    }

    /// Whether some function of this name is volatile (`None`: no facts were loaded).
    pub fn is_volatile(&self, function: &str) -> bool {
        self.volatile_functions.contains(function)
    }
}

/// `CHECK ((col IS NOT NULL))` -> `col`.
fn not_null_check_column(definition: &str) -> Option<String> {
    let inner = definition
        .strip_prefix("CHECK ((")?
        .strip_suffix(" IS NOT NULL))")?;
    if let Some(quoted) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return Some(quoted.replace("\"\"", "\""));
    }
    if inner.chars().all(|c| c.is_alphanumeric() || c == '_') {
        Some(inner.to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_not_null_checks() {
        assert_eq!(
            not_null_check_column("CHECK ((email IS NOT NULL))"),
            Some("email".into())
        );
        assert_eq!(
            not_null_check_column("CHECK ((\"E mail\" IS NOT NULL))"),
            Some("E mail".into())
        );
        assert_eq!(not_null_check_column("CHECK ((a > 0))"), None);
    }

    #[test]
    fn describes_sizes() {
        let size = TableSize {
            rows: Some(50_000_000),
            bytes: 7_730_941_132,
        };
        assert_eq!(size.describe(), "50,000,000 rows, 7.2 GB");
        let unanalyzed = TableSize {
            rows: None,
            bytes: 8192,
        };
        assert_eq!(
            unanalyzed.describe(),
            "about 81 rows (estimated from its size: never analyzed), 8.0 kB"
        );
    }
}
