//! `type-change-rewrite`: ALTER COLUMN ... TYPE rewrites the table unless the change is binary
//! compatible (known when the replay tells the column's current type).

use pg_query::protobuf;
use pg_query::NodeEnum;

use crate::lint::names::{quote, string_value, TableRef};
use crate::lint::{Ctx, Predicted};
use crate::observe::LockMode;

pub(in crate::lint) fn check(ctx: &mut Ctx, t: &TableRef, column: &str, col: &protobuf::ColumnDef) {
    let Some(ty) = &col.type_name else { return };
    let name = ctx.qualified(t);
    let span = ctx
        .find_words(&["type"])
        .or_else(|| ctx.find_words(&["set", "data", "type"]))
        .map_or_else(|| ctx.first_line(), |(start, _)| ctx.to_line_end(start));
    let target = ctx.text(ctx.type_span(ctx.at(ty.location))).to_string();
    let current = ctx
        .facts
        .and_then(|f| f.table(t.schema.as_deref(), &t.name))
        .and_then(|f| f.columns.get(column))
        .cloned();
    let using = col.raw_default.is_some();
    if !using && current.as_deref().is_some_and(|c| binary_compatible(c, ty)) {
        return;
    }
    let from = current
        .as_deref()
        .map(|c| format!(" from {c}"))
        .unwrap_or_default();
    ctx.report_effect(
        "type-change-rewrite",
        span,
        Some(format!("column {name}.{}", quote(column))),
        format!(
            "changing {name}.{}{from} to {target} rewrites the table under an ACCESS EXCLUSIVE lock",
            quote(column)
        ),
        None,
        Some(Predicted {
            table: Some(t.clone()),
            lock: LockMode::AccessExclusive,
            rewrite: true,
            scan: false,
            scales: true,
        }),
    );
}

/// Whether changing a column from `current` (as `format_type` renders it) to `target` keeps
/// the stored bytes valid, so PostgreSQL skips the rewrite.
fn binary_compatible(current: &str, target: &protobuf::TypeName) -> bool {
    let name = target
        .names
        .last()
        .and_then(string_value)
        .unwrap_or_default();
    let mods: Vec<i64> = target
        .typmods
        .iter()
        .filter_map(|m| match &m.node {
            Some(NodeEnum::AConst(c)) => match &c.val {
                Some(protobuf::a_const::Val::Ival(i)) => Some(i64::from(i.ival)),
                _ => None,
            },
            _ => None,
        })
        .collect();
    if !target.array_bounds.is_empty() {
        return false;
    }
    let current_len = |prefix: &str| -> Option<Option<i64>> {
        if current == prefix {
            return Some(None);
        }
        current
            .strip_prefix(prefix)?
            .strip_prefix('(')?
            .strip_suffix(')')
            .map(|n| n.split(',').next().and_then(|n| n.trim().parse().ok()))
    };
    match name {
        "text" => current == "text" || current_len("character varying").is_some(),
        "varchar" => match (current_len("character varying"), mods.first()) {
            (Some(_), None) => true,
            (Some(Some(old)), Some(new)) => *new >= old,
            (Some(None), Some(_)) => false,
            (None, None) => current == "text",
            (None, Some(_)) => false,
        },
        "numeric" => {
            let scale = |text: &str| -> Option<(i64, i64)> {
                let inner = text.strip_prefix("numeric(")?.strip_suffix(')')?;
                let (p, s) = inner.split_once(',').unwrap_or((inner, "0"));
                Some((p.trim().parse().ok()?, s.trim().parse().ok()?))
            };
            match (current, mods.as_slice()) {
                (_, []) => current.starts_with("numeric"),
                ("numeric", _) => false,
                (c, [p, rest @ ..]) => match scale(c) {
                    Some((old_p, old_s)) => {
                        let new_s = rest.first().copied().unwrap_or(0);
                        new_s == old_s && *p >= old_p
                    }
                    None => false,
                },
            }
        }
        "varbit" => match (current_len("bit varying"), mods.first()) {
            (Some(_), None) => true,
            (Some(Some(old)), Some(new)) => *new >= old,
            _ => false,
        },
        "inet" => current == "cidr" || current == "inet",
        "citext" => current == "citext",
        _ => {
            // Same type and modifiers: nothing changes.
            let canonical = match name {
                "int4" => "integer",
                "int8" => "bigint",
                "int2" => "smallint",
                "bool" => "boolean",
                "timestamptz" => "timestamp with time zone",
                "timestamp" => "timestamp without time zone",
                other => other,
            };
            mods.is_empty() && current == canonical
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    fn users() -> Facts {
        Facts::default().with_table(
            "public",
            "users",
            TableFacts {
                columns: [
                    ("name".to_string(), "character varying(50)".to_string()),
                    ("id".to_string(), "integer".to_string()),
                ]
                .into(),
                ..TableFacts::default()
            },
        )
    }

    #[test]
    fn fails() {
        let sql = format!("{TIMEOUT}ALTER TABLE users ALTER COLUMN id TYPE bigint;");
        let f = fires(&sql, "type-change-rewrite", 2, 35);
        assert_eq!(underlined(&sql, &f), "TYPE bigint");
        let narrow = lint_facts(
            &format!("{TIMEOUT}ALTER TABLE users ALTER COLUMN name TYPE varchar(20);"),
            &users(),
        );
        assert_eq!(positions(&narrow, "type-change-rewrite").len(), 1);
        let int = lint_facts(
            &format!("{TIMEOUT}ALTER TABLE users ALTER COLUMN id TYPE bigint;"),
            &users(),
        );
        let f = int
            .iter()
            .find(|f| f.rule == "type-change-rewrite")
            .unwrap();
        assert!(
            f.message.contains("from integer to bigint"),
            "{}",
            f.message
        );
    }

    #[test]
    fn passes() {
        // With the current type known, widening a varchar is binary compatible.
        for to in ["varchar(100)", "text"] {
            let widen = lint_facts(
                &format!("{TIMEOUT}ALTER TABLE users ALTER COLUMN name TYPE {to};"),
                &users(),
            );
            assert!(
                positions(&widen, "type-change-rewrite").is_empty(),
                "{widen:#?}"
            );
        }
        silent(
            "CREATE TABLE t (id int);\nALTER TABLE t ALTER COLUMN id TYPE bigint;",
            "type-change-rewrite",
        );
    }
}
