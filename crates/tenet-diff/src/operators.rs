//! Operators and casts: created whole, each after the functions and types it uses and before
//! the tables and views that use it; changed by dropping and creating again (PostgreSQL 15
//! alters neither beyond an operator's estimators), like a view, so what uses them is
//! recreated with them.

use std::collections::{BTreeMap, BTreeSet};

use tenet_catalog::model::*;
use tenet_catalog::quote::ident;
use tenet_catalog::render::{self, Node};

use crate::diff::comment_sql;
use crate::plan::Step;

/// An operator or cast, as the differ handles both.
struct Whole<'c> {
    /// `create` says everything about it but its comment and owner.
    create: String,
    drop: String,
    /// What `COMMENT ON` and `ALTER ... OWNER TO` name it by.
    target: String,
    depends_on: &'c [String],
    comment: &'c Option<String>,
    /// None for a cast: it has no owner.
    owner: Option<&'c str>,
}

/// Every operator and cast of `c`, by key.
fn wholes(c: &Catalog) -> BTreeMap<String, Whole<'_>> {
    let operators = c.operators.iter().map(|o| {
        let whole = Whole {
            create: render::create_operator(o),
            drop: format!("DROP OPERATOR {};", o.signature()),
            target: format!("OPERATOR {}", o.signature()),
            depends_on: &o.depends_on,
            comment: &o.comment,
            owner: Some(&o.owner),
        };
        (ObjectKey::operator(o), whole)
    });
    let casts = c.casts.iter().map(|k| {
        let whole = Whole {
            create: render::create_cast(k),
            drop: format!("DROP CAST {};", k.signature()),
            target: format!("CAST {}", k.signature()),
            depends_on: &k.depends_on,
            comment: &k.comment,
            owner: None,
        };
        (ObjectKey::cast(k), whole)
    });
    operators.chain(casts).collect()
}

fn node(key: &str, w: &Whole) -> Node {
    Node {
        key: key.to_string(),
        rank: 2,
        depends_on: w.depends_on.to_vec(),
    }
}

/// Keys of operators and casts on both sides whose definition changes.
pub(crate) fn changed(from: &Catalog, to: &Catalog) -> Vec<String> {
    let new = wholes(to);
    wholes(from)
        .into_iter()
        .filter(|(key, old)| new.get(key).is_some_and(|n| n.create != old.create))
        .map(|(key, _)| key)
        .collect()
}

/// Keys of operators and casts of `from` that must be recreated because `dirty` says
/// something they depend on is; and of those that go but use a function in `recreated`,
/// which must be dropped as early as it is.
pub(crate) fn depending_on(
    from: &Catalog,
    to: &Catalog,
    recreated: &BTreeSet<String>,
    dirty: impl Fn(&Vec<String>) -> bool,
) -> Vec<String> {
    let new = wholes(to);
    wholes(from)
        .into_iter()
        .filter(|(key, old)| match new.contains_key(key) {
            true => dirty(&old.depends_on.to_vec()),
            false => old
                .depends_on
                .iter()
                .any(|d| d.starts_with("function ") && recreated.contains(d)),
        })
        .map(|(key, _)| key)
        .collect()
}

/// Drops of the recreated ones, to be ordered with the views and functions dropped up front.
pub(crate) fn drops_of_recreated(
    from: &Catalog,
    recreated: &BTreeSet<String>,
) -> Vec<(Node, Step)> {
    wholes(from)
        .iter()
        .filter(|(key, _)| recreated.contains(*key))
        .map(|(key, w)| (node(key, w), Step::new(key.clone(), w.drop.clone())))
        .collect()
}

/// Creates of new and recreated ones, to be ordered with the other creates.
pub(crate) fn creates(
    from: &Catalog,
    to: &Catalog,
    recreated: &BTreeSet<String>,
) -> Vec<(Node, Step)> {
    let old = wholes(from);
    wholes(to)
        .iter()
        .filter(|(key, _)| !old.contains_key(*key) || recreated.contains(*key))
        .map(|(key, w)| (node(key, w), Step::new(key.clone(), w.create.clone())))
        .collect()
}

/// Drops of those that are gone (and not dropped early), to be ordered with the other drops
/// (after the tables that use them, before the functions they use).
pub(crate) fn drops_of_removed(
    from: &Catalog,
    to: &Catalog,
    recreated: &BTreeSet<String>,
) -> Vec<(Node, Step)> {
    let new = wholes(to);
    wholes(from)
        .iter()
        .filter(|(key, _)| !new.contains_key(*key) && !recreated.contains(*key))
        .map(|(key, w)| (node(key, w), Step::new(key.clone(), w.drop.clone())))
        .collect()
}

/// Comments and owners that change (all of them on created ones). A created operator gets
/// an owner only when it is not the usual one: it belongs to whoever runs the plan.
pub(crate) fn comments_and_owners(
    from: &Catalog,
    to: &Catalog,
    recreated: &BTreeSet<String>,
    usual_owner: Option<&str>,
) -> Vec<Step> {
    let old = wholes(from);
    let mut steps = Vec::new();
    for (key, w) in &wholes(to) {
        let before = old.get(key).filter(|_| !recreated.contains(key));
        let mut sql = String::new();
        if before.and_then(|o| o.comment.as_ref()) != w.comment.as_ref() {
            sql.push_str(&comment_sql(&w.target, w.comment));
        }
        if let Some(owner) = w.owner {
            let owner_changed = match before {
                Some(o) => o.owner != w.owner,
                None => usual_owner.is_some_and(|u| u != owner),
            };
            if owner_changed {
                sql.push_str(&format!("ALTER {} OWNER TO {};\n", w.target, ident(owner)));
            }
        }
        if !sql.is_empty() {
            steps.push(Step::new(key.clone(), sql));
        }
    }
    steps
}
