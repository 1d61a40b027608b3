//! Operators and casts as SQL.

use std::fmt::Write;

use crate::model::*;
use crate::quote::ident;

/// `CREATE OPERATOR`. A commutator or negator not created yet is made a shell by PostgreSQL
/// and completed by its own `CREATE OPERATOR` later, so operators need no order among
/// themselves.
pub fn create_operator(o: &Operator) -> String {
    let mut options = vec![format!("FUNCTION = {}", o.function)];
    if let Some(left) = &o.left {
        options.push(format!("LEFTARG = {left}"));
    }
    options.push(format!("RIGHTARG = {}", o.right));
    let named = [
        ("COMMUTATOR", &o.commutator),
        ("NEGATOR", &o.negator),
        ("RESTRICT", &o.restrict),
        ("JOIN", &o.join),
    ];
    for (option, value) in named {
        if let Some(value) = value {
            options.push(format!("{option} = {value}"));
        }
    }
    if o.hashes {
        options.push("HASHES".into());
    }
    if o.merges {
        options.push("MERGES".into());
    }
    format!(
        "CREATE OPERATOR {} ({});",
        o.qualified_name(),
        options.join(", ")
    )
}

/// `CREATE CAST`.
pub fn create_cast(c: &Cast) -> String {
    let how = match (c.method.as_str(), &c.function) {
        ("function", Some(f)) => format!("WITH FUNCTION {f}"),
        ("inout", _) => "WITH INOUT".into(),
        _ => "WITHOUT FUNCTION".into(),
    };
    let context = match c.context.as_str() {
        "assignment" => " AS ASSIGNMENT",
        "implicit" => " AS IMPLICIT",
        _ => "",
    };
    format!("CREATE CAST {} {how}{context};", c.signature())
}

/// Comments on operators and casts.
pub fn comments(out: &mut String, catalog: &Catalog) {
    for o in &catalog.operators {
        super::comment(out, &format!("OPERATOR {}", o.signature()), &o.comment);
    }
    for c in &catalog.casts {
        super::comment(out, &format!("CAST {}", c.signature()), &c.comment);
    }
}

/// Owners of operators (casts have none).
pub fn owners(out: &mut String, catalog: &Catalog) {
    for o in &catalog.operators {
        writeln!(
            out,
            "ALTER OPERATOR {} OWNER TO {};",
            o.signature(),
            ident(&o.owner)
        )
        .unwrap();
    }
}
