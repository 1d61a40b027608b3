//! Comparing definitions in one canonical form. PostgreSQL does not always print back what it
//! was given: `= ANY ((ARRAY['a'::varchar])::text[])` comes back from a second load as
//! `= ANY (ARRAY[('a'::varchar)::text])`, and a select list's `NULL::integer` as
//! `NULL::integer AS int4`. Two texts that differ are parsed (the PostgreSQL grammar, through
//! pg_query) and compared as trees with positions stripped and those re-printings folded. Equal
//! texts, nearly all of them, are never parsed.

use serde_json::{Map, Value};

/// Two expressions (defaults, policy clauses).
pub fn same_expr(a: &str, b: &str) -> bool {
    a == b || same_tree(&format!("SELECT {a}"), &format!("SELECT {b}"))
}

/// Two optional expressions.
pub fn same_opt_expr(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same_expr(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Two whole statements or queries (view definitions, `CREATE INDEX`, `CREATE TRIGGER`).
pub fn same_statement(a: &str, b: &str) -> bool {
    a == b || same_tree(a, b)
}

/// Two constraint definitions as `pg_get_constraintdef` prints them (`CHECK (...)`).
pub fn same_constraint(a: &str, b: &str) -> bool {
    let wrap = |d: &str| format!("ALTER TABLE t ADD CONSTRAINT c {d}");
    a == b || same_tree(&wrap(a), &wrap(b))
}

fn same_tree(a: &str, b: &str) -> bool {
    match (canonical(a), canonical(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The parse tree of `sql` in canonical form; None when it does not parse.
fn canonical(sql: &str) -> Option<Value> {
    let parsed = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT).ok()?;
    let mut tree = serde_json::to_value(&parsed.protobuf).ok()?;
    normalize(&mut tree);
    Some(tree)
}

fn normalize(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for position in [
                "location",
                "list_start",
                "list_end",
                "stmt_location",
                "stmt_len",
            ] {
                map.remove(position);
            }
            for child in map.values_mut() {
                normalize(child);
            }
            if let Some(folded) = fold_array_cast(map) {
                *map = folded;
            }
            name_cast_target(map);
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

/// `(ARRAY[x, y])::t[]` as `ARRAY[x::t, y::t]`: the form PostgreSQL prints on a second load.
fn fold_array_cast(node: &Map<String, Value>) -> Option<Map<String, Value>> {
    let cast = node.get("TypeCast")?;
    let elements = cast.pointer("/arg/node/AArrayExpr/elements")?.as_array()?;
    let mut element_type = cast.get("type_name")?.clone();
    let bounds = element_type.get_mut("array_bounds")?.as_array_mut()?;
    if bounds.len() != 1 {
        return None;
    }
    bounds.clear();
    let elements: Vec<Value> = elements
        .iter()
        .map(|e| serde_json::json!({"node": {"TypeCast": {"arg": e, "type_name": element_type}}}))
        .collect();
    let mut array = cast.pointer("/arg/node/AArrayExpr")?.clone();
    array["elements"] = Value::Array(elements);
    let mut out = Map::new();
    out.insert("AArrayExpr".into(), array);
    Some(out)
}

/// A select-list entry that is a cast constant with no name is named by PostgreSQL after the
/// type (`NULL::integer` is `NULL::integer AS int4`); spell the name out.
fn name_cast_target(node: &mut Map<String, Value>) {
    let Some(Value::Object(target)) = node.get_mut("ResTarget") else {
        return;
    };
    if target
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty())
    {
        return;
    }
    let Some(cast) = target.get("val").and_then(|v| v.pointer("/node/TypeCast")) else {
        return;
    };
    if cast.pointer("/arg/node/AConst").is_none() {
        return;
    }
    let name = cast
        .pointer("/type_name/names")
        .and_then(Value::as_array)
        .and_then(|names| names.last())
        .and_then(|n| n.pointer("/node/String/sval"))
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(name) = name {
        target.insert("name".into(), Value::String(name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_array_cast_to_text_array_folds() {
        assert!(same_constraint(
            "CHECK (((s)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])))",
            "CHECK (((s)::text = ANY (ARRAY[('a'::character varying)::text, ('b'::character varying)::text])))",
        ));
        assert!(!same_constraint(
            "CHECK (((s)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])))",
            "CHECK (((s)::text = ANY (ARRAY[('a'::character varying)::text, ('c'::character varying)::text])))",
        ));
    }

    #[test]
    fn cast_constant_is_named_after_its_type() {
        assert!(same_statement(
            " SELECT NULL::integer,\n    t.n\n   FROM t;",
            " SELECT NULL::integer AS int4,\n    t.n\n   FROM t;",
        ));
        assert!(!same_statement(
            " SELECT NULL::integer AS x FROM t;",
            " SELECT NULL::integer AS int4 FROM t;",
        ));
    }

    #[test]
    fn positions_do_not_matter() {
        assert!(same_expr("(a  >  1)", "(a > 1)"));
        assert!(!same_expr("a > 1", "a > 2"));
    }
}
