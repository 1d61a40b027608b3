//! Synthetic rows: valid values for every column of a table, found by letting PostgreSQL judge
//! candidates inside savepoints.
//!
//! Each column gets a list of candidates from its type (enum labels, domain base types, array,
//! text, number, time ...) and from the constants of the CHECK constraints that mention it. The
//! first candidate of every column is tried; when PostgreSQL rejects the row, the error says
//! which constraint failed (CHECK: move to the next combination of that constraint's columns;
//! unique: take fresh counter values; NOT NULL: give the column a value) and the next attempt
//! follows. Foreign key columns take their parent row's values; the tenant column the tenant's.

use std::collections::{BTreeMap, BTreeSet};

use postgres::Client;
use tenet_catalog::{quote, Catalog, Column, ConstraintKind, QualifiedName, Table, TypeKind};

/// A row that was inserted: where it lives and what it holds.
#[derive(Debug, Clone)]
pub struct Inserted {
    pub tableoid: i64,
    pub ctid: String,
    /// Every column's value as text (NULL as None).
    pub values: BTreeMap<String, Option<String>>,
    /// The column list and SQL expressions that produced it (to insert an equivalent row again).
    pub supplied: Vec<(String, String)>,
    pub overriding: bool,
}

/// How a column's value is chosen.
#[derive(Debug, Clone)]
enum Cand {
    /// A SQL expression (cast to the column type on use).
    Sql(String),
    /// A fresh integer.
    Int,
    /// A fresh string, at most this many characters.
    Text(Option<usize>),
    /// A fresh, lower-case e-mail address.
    Email,
    Null,
}

pub struct Synth<'a> {
    catalog: &'a Catalog,
    counter: u64,
    /// Constants of CHECK constraints, per table and column.
    check_consts: BTreeMap<(QualifiedName, String), Vec<Const>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Const {
    Int(i64),
    Num(String),
    Str(String),
}

/// Why a row could not be made.
pub type SynthError = String;

impl<'a> Synth<'a> {
    pub fn new(catalog: &'a Catalog) -> Synth<'a> {
        let mut check_consts: BTreeMap<(QualifiedName, String), Vec<Const>> = BTreeMap::new();
        for t in &catalog.tables {
            for c in t
                .constraints
                .iter()
                .filter(|c| c.kind == ConstraintKind::Check)
            {
                let consts = constants_of(&c.definition);
                for col in &c.columns {
                    let entry = check_consts
                        .entry((t.qualified_name(), col.clone()))
                        .or_default();
                    for k in &consts {
                        if !entry.contains(k) {
                            entry.push(k.clone());
                        }
                    }
                }
            }
        }
        Synth {
            catalog,
            counter: 1000,
            check_consts,
        }
    }

    /// Insert one row into `target` shaped like `shape` (the same table, or the root of a
    /// partition). `fixed` maps columns to SQL expressions that must be used as given (tenant
    /// column, foreign keys, overrides). Runs in its own savepoint; on failure nothing is left.
    pub fn insert(
        &mut self,
        client: &mut Client,
        shape: &Table,
        target: &QualifiedName,
        fixed: &BTreeMap<String, String>,
    ) -> Result<Inserted, SynthError> {
        let mut free: Vec<(&Column, Vec<Cand>)> = Vec::new();
        for col in &shape.columns {
            if fixed.contains_key(&col.name) || col.generated.is_some() {
                continue;
            }
            let reads_setting = col
                .default
                .as_deref()
                .is_some_and(|d| d.contains("current_setting("));
            if (col.default.is_some() && !reads_setting) || col.identity.is_some() {
                continue;
            }
            let mut cands = self.candidates(shape, col);
            if !col.not_null {
                cands.insert(0, Cand::Null);
            }
            if cands.is_empty() {
                return Err(format!(
                    "no candidate values for column {} of type {}",
                    col.name, col.data_type
                ));
            }
            free.push((col, cands));
        }
        let mut choice: BTreeMap<String, usize> = BTreeMap::new();
        let mut last_error = String::new();
        let returning = std::iter::once("tableoid::bigint, ctid::text".to_string())
            .chain(
                shape
                    .columns
                    .iter()
                    .map(|c| format!("{}::text", quote::ident(&c.name))),
            )
            .collect::<Vec<_>>()
            .join(", ");
        let identity_always: BTreeSet<&str> = shape
            .columns
            .iter()
            .filter(|c| {
                c.identity
                    .as_ref()
                    .is_some_and(|i| i.generation == "always")
            })
            .map(|c| c.name.as_str())
            .collect();
        for _attempt in 0..60 {
            self.counter += 1;
            let n = self.counter;
            let mut supplied: Vec<(String, String)> = Vec::new();
            for col in &shape.columns {
                if let Some(expr) = fixed.get(&col.name) {
                    supplied.push((col.name.clone(), expr.clone()));
                }
            }
            for (col, cands) in &free {
                let i = choice.get(&col.name).copied().unwrap_or(0) % cands.len();
                supplied.push((col.name.clone(), render(&cands[i], n, &col.data_type)));
            }
            let overriding = supplied
                .iter()
                .any(|(c, _)| identity_always.contains(c.as_str()));
            let sql = insert_sql(target, &supplied, overriding, Some(&returning));
            client
                .batch_execute("SAVEPOINT tenet_synth")
                .map_err(|e| e.to_string())?;
            match client.query_one(sql.as_str(), &[]) {
                Ok(row) => {
                    client
                        .batch_execute("RELEASE SAVEPOINT tenet_synth")
                        .map_err(|e| e.to_string())?;
                    let mut values = BTreeMap::new();
                    for (i, c) in shape.columns.iter().enumerate() {
                        values.insert(c.name.clone(), row.get::<_, Option<String>>(i + 2));
                    }
                    return Ok(Inserted {
                        tableoid: row.get(0),
                        ctid: row.get(1),
                        values,
                        supplied,
                        overriding,
                    });
                }
                Err(e) => {
                    client
                        .batch_execute(
                            "ROLLBACK TO SAVEPOINT tenet_synth; RELEASE SAVEPOINT tenet_synth",
                        )
                        .map_err(|e| e.to_string())?;
                    let Some(db) = e.as_db_error() else {
                        return Err(e.to_string());
                    };
                    last_error = db.message().to_string();
                    let code = db.code().code();
                    let columns: Vec<String> = match code {
                        // check_violation: the constraint's columns (a domain's: its columns).
                        "23514" => {
                            let name = db.constraint().unwrap_or("");
                            let cols: Vec<String> = shape
                                .constraints
                                .iter()
                                .find(|c| c.name == name)
                                .map(|c| c.columns.clone())
                                .or_else(|| self.domain_columns(shape, name))
                                .unwrap_or_default();
                            if cols.is_empty() {
                                free.iter().map(|(c, _)| c.name.clone()).collect()
                            } else {
                                cols
                            }
                        }
                        // unique or exclusion: counter-based values change by themselves on
                        // the next attempt; fixed ones move on to the next candidate.
                        "23505" | "23P01" => {
                            let name = db.constraint().unwrap_or("");
                            let cols: Vec<String> = shape
                                .constraints
                                .iter()
                                .find(|c| c.name == name)
                                .map(|c| c.columns.clone())
                                .or_else(|| {
                                    shape
                                        .indexes
                                        .iter()
                                        .find(|i| i.name == name)
                                        .map(|i| i.columns.clone())
                                })
                                .unwrap_or_default();
                            let fixed_literal = cols.iter().any(|c| {
                                free.iter().any(|(f, cands)| {
                                    &f.name == c
                                        && matches!(
                                            cands
                                                [choice.get(c).copied().unwrap_or(0) % cands.len()],
                                            Cand::Sql(_) | Cand::Null
                                        )
                                })
                            });
                            if fixed_literal {
                                cols
                            } else {
                                Vec::new()
                            }
                        }
                        // not_null_violation on a column left to its default.
                        "23502" => {
                            let col = db.column().unwrap_or("");
                            if let Some(c) = shape.column(col) {
                                if !free.iter().any(|(f, _)| f.name == c.name)
                                    && !fixed.contains_key(&c.name)
                                {
                                    let cands = self.candidates(shape, c);
                                    if cands.is_empty() {
                                        return Err(last_error);
                                    }
                                    free.push((c, cands));
                                    continue;
                                }
                            }
                            return Err(last_error);
                        }
                        c if c.starts_with("22") || c == "42804" => {
                            free.iter().map(|(c, _)| c.name.clone()).collect()
                        }
                        _ => return Err(last_error),
                    };
                    if !columns.is_empty() && !bump(&mut choice, &free, &columns) {
                        return Err(last_error);
                    }
                }
            }
        }
        Err(format!("gave up after 60 attempts: {last_error}"))
    }

    /// Columns of `shape` whose type is the domain owning constraint `name`.
    fn domain_columns(&self, shape: &Table, name: &str) -> Option<Vec<String>> {
        let domains: Vec<String> = self
            .catalog
            .types
            .iter()
            .filter(|t| match &t.kind {
                TypeKind::Domain { checks, .. } => checks.iter().any(|c| c.name == name),
                _ => false,
            })
            .map(|t| QualifiedName::new(&t.schema, &t.name).to_string())
            .collect();
        let cols: Vec<String> = shape
            .columns
            .iter()
            .filter(|c| domains.contains(&c.data_type))
            .map(|c| c.name.clone())
            .collect();
        (!cols.is_empty()).then_some(cols)
    }

    fn candidates(&self, shape: &Table, col: &Column) -> Vec<Cand> {
        let mut consts: Vec<Const> = self
            .check_consts
            .get(&(shape.qualified_name(), col.name.clone()))
            .cloned()
            .unwrap_or_default();
        // A domain: its checks' constants, and the candidates of its base type.
        let mut ty = col.data_type.clone();
        for _ in 0..4 {
            let Some(t) = self
                .catalog
                .types
                .iter()
                .find(|t| QualifiedName::new(&t.schema, &t.name).to_string() == ty)
            else {
                break;
            };
            match &t.kind {
                TypeKind::Domain { base, checks, .. } => {
                    for c in checks {
                        consts.extend(constants_of(&c.definition));
                    }
                    ty = base.clone();
                }
                TypeKind::Enum { labels } => {
                    return labels
                        .iter()
                        .map(|l| Cand::Sql(quote::literal(l)))
                        .collect();
                }
                TypeKind::Composite { .. } | TypeKind::Range { .. } => return Vec::new(),
            }
        }
        type_candidates(&ty, &consts)
    }
}

fn type_candidates(ty: &str, consts: &[Const]) -> Vec<Cand> {
    let sql = |s: &str| Cand::Sql(s.to_string());
    if ty.ends_with("[]") {
        return vec![sql("'{}'")];
    }
    let base = ty.split('(').next().unwrap_or(ty).trim();
    let len = ty.split_once('(').and_then(|(_, r)| {
        r.trim_end_matches(')')
            .split(',')
            .next()?
            .trim()
            .parse::<usize>()
            .ok()
    });
    let ints = || {
        let mut out = Vec::new();
        for c in consts {
            match c {
                Const::Int(i) => {
                    for v in [*i, i + 1, i - 1] {
                        out.push(Cand::Sql(v.to_string()));
                    }
                }
                Const::Num(s) => out.push(Cand::Sql(s.clone())),
                Const::Str(_) => {}
            }
        }
        out
    };
    match base {
        "smallint" | "integer" | "bigint" | "oid" => {
            let mut out = ints();
            out.push(Cand::Int);
            out.extend(["1", "0", "-1"].map(sql));
            out
        }
        "numeric" | "real" | "double precision" | "money" => {
            let mut out = ints();
            out.push(Cand::Int);
            out.extend(["1", "0", "0.5"].map(sql));
            out
        }
        "text" | "citext" | "public.citext" | "name" | "character varying" | "character"
        | "bpchar" | "\"char\"" => {
            let len = match base {
                "character" | "bpchar" => Some(len.unwrap_or(1)),
                "\"char\"" => Some(1),
                _ => len,
            };
            let mut out: Vec<Cand> = consts
                .iter()
                .filter_map(|c| match c {
                    Const::Str(s) => Some(Cand::Sql(quote::literal(s))),
                    _ => None,
                })
                .collect();
            out.push(Cand::Text(len));
            out.push(sql("'a'"));
            if len.is_none_or(|l| l >= 24) {
                out.push(Cand::Email);
                out.push(sql("'https://example.com/'"));
            }
            out.push(sql("''"));
            out
        }
        "boolean" => vec![sql("false"), sql("true")],
        "uuid" => vec![sql("gen_random_uuid()")],
        "date" => vec![sql("CURRENT_DATE"), sql("'2000-01-01'")],
        b if b.starts_with("timestamp") => vec![sql("now()"), sql("'2000-01-01'")],
        b if b.starts_with("time") => vec![sql("'12:00'")],
        b if b.starts_with("interval") => vec![sql("'1 day'")],
        "json" | "jsonb" => vec![sql("'{}'"), sql("'[]'"), sql("'{\"a\": 1}'")],
        "bytea" => vec![sql("'\\x00'")],
        "inet" => vec![sql("'10.0.0.1'")],
        "cidr" => vec![sql("'10.0.0.0/8'")],
        "macaddr" | "macaddr8" => vec![sql("'08:00:2b:01:02:03'")],
        "tsvector" | "tsquery" => vec![sql("''")],
        "point" => vec![sql("'(0,0)'")],
        "xml" => vec![sql("'<a/>'")],
        b if b.ends_with("range") => vec![sql("'empty'")],
        b if b.starts_with("bit") => vec![sql(&format!("'{}'", "0".repeat(len.unwrap_or(1))))],
        _ => Vec::new(),
    }
}

fn render(c: &Cand, n: u64, ty: &str) -> String {
    match c {
        Cand::Null => format!("NULL::{ty}"),
        Cand::Int => format!("{}::{ty}", fit_digits(n, ty)),
        Cand::Text(len) => {
            let mut s = format!("t{n}");
            if let Some(l) = len {
                if s.len() > *l {
                    s = s[s.len() - l..].to_string();
                }
            }
            format!("{}::{ty}", quote::literal(&s))
        }
        Cand::Email => format!("'t{n}@example.com'::{ty}"),
        Cand::Sql(s) => format!("({s})::{ty}"),
    }
}

/// A fresh integer that fits `numeric(p, s)`: at most `p - s` digits before the point (a
/// counter past 999 overflows `numeric(5,2)`).
fn fit_digits(n: u64, ty: &str) -> u64 {
    let Some(args) = ty
        .strip_prefix("numeric(")
        .and_then(|r| r.strip_suffix(')'))
    else {
        return n;
    };
    let mut it = args.split(',').map(|x| x.trim().parse::<u32>().ok());
    let (Some(Some(p)), s) = (it.next(), it.next().flatten().unwrap_or(0)) else {
        return n;
    };
    match p.saturating_sub(s) {
        d if d >= 19 => n,
        d => n % 10u64.pow(d),
    }
}

/// Advance the combination of `columns` (an odometer); false when every combination was tried.
fn bump(
    choice: &mut BTreeMap<String, usize>,
    free: &[(&Column, Vec<Cand>)],
    columns: &[String],
) -> bool {
    for name in columns {
        let Some((_, cands)) = free.iter().find(|(c, _)| &c.name == name) else {
            continue;
        };
        let i = choice.entry(name.clone()).or_insert(0);
        *i += 1;
        if *i < cands.len() {
            return true;
        }
        *i = 0;
    }
    false
}

/// `INSERT INTO target (cols) [OVERRIDING SYSTEM VALUE] VALUES (...) [RETURNING ...]`.
pub fn insert_sql(
    target: &QualifiedName,
    supplied: &[(String, String)],
    overriding: bool,
    returning: Option<&str>,
) -> String {
    let mut sql = if supplied.is_empty() {
        format!("INSERT INTO {target} DEFAULT VALUES")
    } else {
        format!(
            "INSERT INTO {target} ({}){} VALUES ({})",
            supplied
                .iter()
                .map(|(c, _)| quote::ident(c))
                .collect::<Vec<_>>()
                .join(", "),
            if overriding {
                " OVERRIDING SYSTEM VALUE"
            } else {
                ""
            },
            supplied
                .iter()
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if let Some(r) = returning {
        sql.push_str(" RETURNING ");
        sql.push_str(r);
    }
    sql
}

/// The constants a CHECK definition compares with (`CHECK ((priority >= 1) AND ...)`).
fn constants_of(definition: &str) -> Vec<Const> {
    let expr = definition
        .trim()
        .trim_start_matches("CHECK")
        .trim()
        .trim_end_matches("NOT VALID")
        .trim();
    let Ok(parsed) = pg_query::parse(&format!("SELECT {expr}"), pg_query::ParserOptions::DEFAULT)
    else {
        return Vec::new();
    };
    let Ok(json) = serde_json::to_value(&parsed.protobuf) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    collect_consts(&json, &mut out);
    out
}

fn collect_consts(v: &serde_json::Value, out: &mut Vec<Const>) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            if let Some(c) = map.get("AConst") {
                let k = if let Some(i) = c.pointer("/val/Ival/ival").and_then(Value::as_i64) {
                    Some(Const::Int(i))
                } else if c.pointer("/val/Ival").is_some() {
                    Some(Const::Int(0))
                } else if let Some(f) = c.pointer("/val/Fval/fval").and_then(Value::as_str) {
                    Some(Const::Num(f.to_string()))
                } else {
                    c.pointer("/val/Sval/sval")
                        .and_then(Value::as_str)
                        .map(|s| Const::Str(s.to_string()))
                };
                if let Some(k) = k {
                    if !out.contains(&k) {
                        out.push(k);
                    }
                }
            }
            for child in map.values() {
                collect_consts(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_consts(i, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_constants_are_collected() {
        assert_eq!(
            constants_of("CHECK (((priority >= 1) AND (priority <= 5)))"),
            vec![Const::Int(1), Const::Int(5)]
        );
        assert_eq!(
            constants_of("CHECK ((status = ANY (ARRAY['open'::text, 'done'::text])))"),
            vec![Const::Str("open".into()), Const::Str("done".into())]
        );
        assert_eq!(
            constants_of("CHECK ((x > 0)) NOT VALID"),
            vec![Const::Int(0)]
        );
    }

    #[test]
    fn integers_fit_numeric_precision() {
        assert_eq!(fit_digits(1234, "numeric(5,2)"), 234);
        assert_eq!(fit_digits(1234, "numeric(2,2)"), 0);
        assert_eq!(fit_digits(1234, "numeric"), 1234);
        assert_eq!(fit_digits(1234, "integer"), 1234);
    }

    #[test]
    fn text_candidates_fit_their_length() {
        let c = render(&Cand::Text(Some(3)), 12345, "character varying(3)");
        assert_eq!(c, "'345'::character varying(3)");
    }
}
