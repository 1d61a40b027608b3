//! Index and key definitions printed on the client, byte for byte as `pg_get_indexdef` and
//! `pg_get_constraintdef` print them (`ruleutils.c`), from the catalog arrays the bulk queries
//! return. Asking the server costs a deparse per object, most of inspect's time on a large
//! schema; only expressions, predicates, checks and exclusions are left to it.
//! `tests/definitions.rs` holds every rendering here to the server's, on the corpus.

use serde::Deserialize;

use crate::model::{Constraint, ConstraintKind, Index, QualifiedName};
use crate::quote::ident;

/// What an index on plain columns is made of, beyond what [`Index`] holds.
#[derive(Debug, Deserialize)]
pub(super) struct IndexParts {
    table: QualifiedName,
    /// A partitioned index: `ON ONLY`.
    only: bool,
    nulls_not_distinct: bool,
    /// The access method sorts (btree): `DESC` and `NULLS` apply.
    can_order: bool,
    /// `pg_class.reloptions` of the index, `name=value` each.
    options: Option<Vec<String>>,
    /// One per key column, in order.
    keys: Vec<KeyPart>,
}

/// A key column's decorations, each present only when PostgreSQL prints it.
#[derive(Debug, Deserialize)]
struct KeyPart {
    /// `[schema, name]` of a collation other than the column's.
    collation: Option<(String, String)>,
    /// `[schema, name]` of an operator class other than the type's default.
    opclass: Option<(String, String)>,
    /// `pg_index.indoption`: bit 0 DESC, bit 1 NULLS FIRST.
    option: i16,
}

/// What a primary, unique or foreign key is made of, beyond what [`Constraint`] holds.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ConstraintParts {
    #[serde(default)]
    nulls_not_distinct: bool,
    /// Non-key columns of a key's index (`INCLUDE`).
    #[serde(default)]
    include: Vec<String>,
    /// `pg_constraint.confmatchtype`: `s` simple, `f` full, `p` partial.
    #[serde(rename = "match")]
    match_type: Option<String>,
    /// The columns of `ON DELETE SET NULL (...)` / `SET DEFAULT (...)`.
    set_columns: Option<Vec<String>>,
}

const INDOPTION_DESC: i16 = 1;
const INDOPTION_NULLS_FIRST: i16 = 2;

/// `pg_get_indexdef(oid)` for an index whose key columns are all plain columns.
/// `index.columns` and `index.include` are already quoted (the query quotes them).
pub(super) fn index_definition(index: &Index, parts: &IndexParts) -> Option<String> {
    if parts.keys.len() != index.columns.len() {
        return None;
    }
    let mut sql = format!(
        "CREATE {}INDEX {} ON {}{} USING {} (",
        if index.unique { "UNIQUE " } else { "" },
        ident(&index.name),
        if parts.only { "ONLY " } else { "" },
        qualified(&parts.table.schema, &parts.table.name),
        ident(&index.method),
    );
    for (i, (column, key)) in index.columns.iter().zip(&parts.keys).enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(column);
        if let Some((schema, name)) = &key.collation {
            sql.push_str(" COLLATE ");
            sql.push_str(&visible_name(schema, name));
        }
        if let Some((schema, name)) = &key.opclass {
            sql.push(' ');
            sql.push_str(&visible_name(schema, name));
        }
        if parts.can_order {
            if key.option & INDOPTION_DESC != 0 {
                sql.push_str(" DESC");
                // NULLS FIRST is the default for DESC.
                if key.option & INDOPTION_NULLS_FIRST == 0 {
                    sql.push_str(" NULLS LAST");
                }
            } else if key.option & INDOPTION_NULLS_FIRST != 0 {
                sql.push_str(" NULLS FIRST");
            }
        }
    }
    if !index.include.is_empty() {
        sql.push_str(") INCLUDE (");
        sql.push_str(&index.include.join(", "));
    }
    sql.push(')');
    if parts.nulls_not_distinct {
        sql.push_str(" NULLS NOT DISTINCT");
    }
    if let Some(options) = &parts.options {
        sql.push_str(" WITH (");
        sql.push_str(&reloptions(options)?);
        sql.push(')');
    }
    if let Some(predicate) = &index.predicate {
        sql.push_str(" WHERE ");
        sql.push_str(predicate);
    }
    Some(sql)
}

/// `pg_get_constraintdef(oid)` for a primary, unique or foreign key; None for other kinds.
/// Column names in `constraint` are raw (unquoted).
pub(super) fn constraint_definition(
    constraint: &Constraint,
    parts: &ConstraintParts,
) -> Option<String> {
    let columns = idents(&constraint.columns);
    let mut sql = match constraint.kind {
        ConstraintKind::PrimaryKey => format!("PRIMARY KEY ({columns})"),
        ConstraintKind::Unique => format!(
            "UNIQUE {}({columns})",
            if parts.nulls_not_distinct {
                "NULLS NOT DISTINCT "
            } else {
                ""
            }
        ),
        ConstraintKind::ForeignKey => foreign_key(constraint, parts, &columns)?,
        ConstraintKind::Check | ConstraintKind::Exclusion => return None,
    };
    if !parts.include.is_empty() {
        sql.push_str(&format!(" INCLUDE ({})", idents(&parts.include)));
    }
    if constraint.deferrable {
        sql.push_str(" DEFERRABLE");
    }
    if constraint.initially_deferred {
        sql.push_str(" INITIALLY DEFERRED");
    }
    if !constraint.validated {
        sql.push_str(" NOT VALID");
    }
    Some(sql)
}

fn foreign_key(constraint: &Constraint, parts: &ConstraintParts, columns: &str) -> Option<String> {
    let fk = constraint.references.as_ref()?;
    let mut sql = format!(
        "FOREIGN KEY ({columns}) REFERENCES {}({})",
        qualified(&fk.table.schema, &fk.table.name),
        idents(&fk.columns)
    );
    match parts.match_type.as_deref()? {
        "s" => {}
        "f" => sql.push_str(" MATCH FULL"),
        "p" => sql.push_str(" MATCH PARTIAL"),
        _ => return None,
    }
    for (clause, action) in [("UPDATE", &fk.on_update), ("DELETE", &fk.on_delete)] {
        if action != "no action" {
            sql.push_str(&format!(" ON {clause} {}", action.to_uppercase()));
        }
    }
    if let Some(set_columns) = &parts.set_columns {
        sql.push_str(&format!(" ({})", idents(set_columns)));
    }
    Some(sql)
}

/// `get_reloptions`: `name=value, ...`, the value bare when it is an identifier that needs no
/// quotes, else a literal. None for a value the client cannot be sure to print the same
/// (a backslash depends on `standard_conforming_strings`).
fn reloptions(options: &[String]) -> Option<String> {
    let mut out = Vec::with_capacity(options.len());
    for option in options {
        let (name, value) = option.split_once('=').unwrap_or((option, ""));
        if value.contains('\\') {
            return None;
        }
        let value = if ident(value) == value {
            value.to_string()
        } else {
            crate::quote::literal(value)
        };
        out.push(format!("{}={value}", ident(name)));
    }
    Some(out.join(", "))
}

fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// A collation's or operator class's name as PostgreSQL prints it with an empty
/// `search_path`: bare when it lives in `pg_catalog` (always searched), else qualified.
fn visible_name(schema: &str, name: &str) -> String {
    if schema == "pg_catalog" {
        ident(name)
    } else {
        qualified(schema, name)
    }
}

fn idents(names: &[String]) -> String {
    names
        .iter()
        .map(|n| ident(n))
        .collect::<Vec<_>>()
        .join(", ")
}
