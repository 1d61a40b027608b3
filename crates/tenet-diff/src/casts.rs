//! Whether a column can change type through a cast. The diff has only catalogs, so it carries
//! PostgreSQL's built-in casts (`casts.txt`, held to the server's `pg_cast` by a test); a type
//! it does not know (an extension's, a domain, an enum) is left for PostgreSQL to judge. A
//! user's `CREATE CAST` on either side counts too: the plan creates new ones before it
//! changes columns and drops old ones after.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use tenet_catalog::model::{Catalog, QualifiedName, Table};
use tenet_catalog::quote::ident;

use crate::table;

struct Known {
    types: HashSet<&'static str>,
    casts: HashSet<(&'static str, &'static str)>,
}

fn known() -> &'static Known {
    static KNOWN: OnceLock<Known> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let mut known = Known {
            types: HashSet::new(),
            casts: HashSet::new(),
        };
        for line in include_str!("casts.txt").lines() {
            if let Some(t) = line.strip_prefix("type ") {
                known.types.insert(t);
            } else if let Some((from, to)) = line.split_once(" -> ") {
                known.casts.insert((from, to));
            }
        }
        known
    })
}

/// Every type converts to and from these through its text form (an I/O conversion cast).
const STRING_TYPES: &[&str] = &["text", "character varying", "character", "name"];

/// The type without its modifiers: `character varying(10)` -> `character varying`,
/// `timestamp(3) without time zone` -> `timestamp without time zone`.
fn without_modifiers(t: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in t.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// False only when both types are built in and PostgreSQL has no cast from one to the other
/// (`bigint` to `timestamp`).
pub fn castable(from: &str, to: &str) -> bool {
    let (from, to) = (without_modifiers(from), without_modifiers(to));
    if from == to {
        return true;
    }
    let known = known();
    let scalar = |t: &str| !known.types.contains(t) || STRING_TYPES.contains(&t);
    match (from.strip_suffix("[]"), to.strip_suffix("[]")) {
        (Some(f), Some(t)) => return castable(f, t),
        // Between an array and a built-in scalar only the text forms convert.
        (Some(_), None) => return scalar(&to),
        (None, Some(_)) => return scalar(&from),
        (None, None) => {}
    }
    if !known.types.contains(from.as_str()) || !known.types.contains(to.as_str()) {
        return true;
    }
    STRING_TYPES.contains(&from.as_str())
        || STRING_TYPES.contains(&to.as_str())
        || known.casts.contains(&(from.as_str(), to.as_str()))
}

/// A column whose type changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retype {
    pub table: QualifiedName,
    pub column: String,
    pub from: String,
    pub to: String,
}

pub fn describe_retypes(retypes: &[Retype]) -> String {
    let mut out = String::from("no cast converts these columns to their new types:\n");
    for r in retypes {
        out.push_str(&format!(
            "  {}.{}: {} -> {}\n",
            r.table,
            ident(&r.column),
            r.from,
            r.to
        ));
    }
    let r = &retypes[0];
    out.push_str(&format!(
        "Supply the conversion in a migration written by hand and applied before this plan, e.g.\n  \
         ALTER TABLE {} ALTER COLUMN {} TYPE {} USING <expression of the old value>;\n\
         (for bigint seconds to timestamp: USING to_timestamp({}) AT TIME ZONE 'UTC'), or add a new \
         column, fill it, and drop the old one.",
        r.table,
        ident(&r.column),
        r.to,
        ident(&r.column)
    ));
    out
}

/// Columns of tables on both sides whose type changes with no cast between the two types.
pub fn uncastable(from: &Catalog, to: &Catalog) -> Vec<Retype> {
    let user_casts: HashSet<(String, String)> = from
        .casts
        .iter()
        .chain(&to.casts)
        .map(|c| (without_modifiers(&c.source), without_modifiers(&c.target)))
        .collect();
    let castable = |from: &str, to: &str| {
        castable(from, to) || user_casts.contains(&(without_modifiers(from), without_modifiers(to)))
    };
    let mut out = Vec::new();
    let before: HashMap<(&str, &str), &Table> = from
        .tables
        .iter()
        .map(|t| ((t.schema.as_str(), t.name.as_str()), t))
        .collect();
    for new in &to.tables {
        let Some(old) = before.get(&(new.schema.as_str(), new.name.as_str())) else {
            continue;
        };
        if table::recreated_whole(old, new) {
            continue;
        }
        for c in new
            .columns
            .iter()
            .filter(|c| !c.inherited && c.generated.is_none())
        {
            let Some(o) = old.column(&c.name).filter(|o| o.generated.is_none()) else {
                continue;
            };
            if o.data_type != c.data_type && !castable(&o.data_type, &c.data_type) {
                out.push(Retype {
                    table: new.qualified_name(),
                    column: c.name.clone(),
                    from: o.data_type.clone(),
                    to: c.data_type.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_casts() {
        assert!(!castable("bigint", "timestamp without time zone"));
        assert!(castable("integer", "bigint"));
        assert!(castable("character varying(10)", "character varying(20)"));
        assert!(castable("timestamp(3) without time zone", "date"));
        assert!(castable("uuid", "text"));
        assert!(castable("text", "uuid"));
        assert!(!castable("uuid", "integer"));
        assert!(castable("integer[]", "bigint[]"));
        assert!(!castable("bigint[]", "timestamp without time zone[]"));
        assert!(castable("public.status", "integer"));
        assert!(castable("json", "jsonb"));
    }
}
