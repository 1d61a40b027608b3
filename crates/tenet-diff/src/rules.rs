//! Rules (`CREATE RULE`) on tables and views, and triggers on views.
//!
//! A rule or view trigger that changes, or that names something changing under it (a function
//! or view dropped and created again, a table whose columns change: PostgreSQL refuses to
//! drop or retype a column a rule uses), is dropped before anything else changes
//! ([`early_steps`]) and created again once every relation and function exists
//! ([`late_steps`]). One that stays as it is is left alone.

use tenet_catalog::model::*;
use tenet_catalog::quote::ident;
use tenet_catalog::render;

use crate::diff::Side;
use crate::plan::{Lock, Step};
use crate::table::{recreated_whole, Recreated};

/// Rules and triggers of one relation on one side.
struct Parts<'c> {
    name: QualifiedName,
    key: String,
    rules: &'c [Rule],
    triggers: &'c [Trigger],
}

fn parts<'c>(side: &Side<'c>) -> Vec<Parts<'c>> {
    let tables = side.catalog.tables.iter().map(|t| Parts {
        name: t.qualified_name(),
        key: crate::diff::table_key(t),
        rules: &t.rules,
        triggers: &[],
    });
    let views = side.catalog.views.iter().map(|v| Parts {
        name: QualifiedName::new(&v.schema, &v.name),
        key: crate::diff::view_key(v),
        rules: &v.rules,
        triggers: &v.triggers,
    });
    tables.chain(views).collect()
}

/// What the diff knows about the relations: which stay, and what changes under them.
pub(crate) struct Context<'a> {
    a: &'a Side<'a>,
    b: &'a Side<'a>,
    recreated: &'a std::collections::BTreeSet<String>,
    mentions: Recreated,
    /// Tables whose columns change, as SQL names (`public.t`).
    reshaped: Vec<String>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(
        a: &'a Side<'a>,
        b: &'a Side<'a>,
        recreated: &'a std::collections::BTreeSet<String>,
    ) -> Context<'a> {
        let reshaped = a
            .tables
            .iter()
            .filter(|(name, old)| {
                b.tables
                    .get(*name)
                    .is_none_or(|new| new.columns != old.columns)
            })
            .map(|(name, _)| name.to_string())
            .collect();
        Context {
            a,
            b,
            recreated,
            mentions: Recreated::new(a, b, recreated),
            reshaped,
        }
    }

    /// Whether the relation of `key` is the same object on both sides (not dropped, not
    /// created again).
    fn kept(&self, name: &QualifiedName, key: &str) -> bool {
        match (self.a.tables.get(name), self.b.tables.get(name)) {
            (Some(old), Some(new)) => key.starts_with("table ") && !recreated_whole(old, new),
            _ => {
                self.a.views.contains_key(name)
                    && self.b.views.contains_key(name)
                    && !self.recreated.contains(key)
            }
        }
    }

    /// Whether a definition names something that changes under it.
    fn affected(&self, definition: &str) -> bool {
        self.mentions.mentioned_in(definition)
            || self.reshaped.iter().any(|t| {
                definition.contains(&format!("{t}.")) || definition.contains(&format!("{t} "))
            })
    }

    /// Whether a rule or trigger present on both sides can stay as it is.
    fn stays(&self, name: &QualifiedName, key: &str, definition: &str) -> bool {
        self.kept(name, key) && !self.affected(definition)
    }
}

/// Drops before anything changes.
pub(crate) fn early_steps(cx: &Context) -> Vec<Step> {
    let new_parts = parts(cx.b);
    let mut steps = Vec::new();
    for old in parts(cx.a) {
        let new = new_parts
            .iter()
            .find(|p| p.name == old.name && p.key == old.key);
        for r in old.rules {
            let same = new.is_some_and(|n| n.rules.contains(r));
            if !(same && cx.stays(&old.name, &old.key, &r.definition)) {
                let sql = format!("DROP RULE {} ON {};", ident(&r.name), old.name);
                steps.push(Step::new(old.key.clone(), sql).lock(Lock::AccessExclusive));
            }
        }
        for t in old.triggers {
            let same = new.is_some_and(|n| n.triggers.contains(t));
            if !(same && cx.stays(&old.name, &old.key, &t.definition)) {
                let sql = format!("DROP TRIGGER {} ON {};", ident(&t.name), old.name);
                steps.push(Step::new(old.key.clone(), sql).lock(Lock::AccessExclusive));
            }
        }
    }
    steps
}

/// Creates once every relation and function exists.
pub(crate) fn late_steps(cx: &Context) -> Vec<Step> {
    let old_parts = parts(cx.a);
    let mut steps = Vec::new();
    for new in parts(cx.b) {
        let old = old_parts
            .iter()
            .find(|p| p.name == new.name && p.key == new.key);
        for t in new.triggers {
            let same = old.is_some_and(|o| o.triggers.contains(t));
            if !(same && cx.stays(&new.name, &new.key, &t.definition)) {
                let sql = render::view_trigger_sql(&new.name, t);
                steps.push(Step::new(new.key.clone(), sql).lock(Lock::ShareRowExclusive));
            }
        }
        for r in new.rules {
            let same = old.is_some_and(|o| o.rules.contains(r));
            if !(same && cx.stays(&new.name, &new.key, &r.definition)) {
                let sql = render::rule_sql(&new.name, r);
                steps.push(Step::new(new.key.clone(), sql).lock(Lock::AccessExclusive));
            }
        }
    }
    steps
}
