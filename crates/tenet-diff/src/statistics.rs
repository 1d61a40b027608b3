//! Extended statistics (`CREATE STATISTICS`).
//!
//! One whose definition changes, or whose table changes under it (a column it covers dropped
//! or retyped, the table dropped or created again, a function its expressions call dropped
//! and created again), is dropped before anything else changes ([`early_steps`]) and created
//! again once every table and function exists ([`late_steps`]). One that stays is altered in
//! place: statistics target, comment, owner. Dropping one loses nothing that `ANALYZE` does
//! not rebuild.

use std::collections::BTreeSet;

use tenet_catalog::model::*;
use tenet_catalog::render;

use crate::diff::{comment_sql, view_key, Side};
use crate::plan::{Lock, Step};
use crate::table::{recreated_whole, Recreated};

fn key(s: &Statistics) -> String {
    format!("statistics {}", QualifiedName::new(&s.schema, &s.name))
}

/// What the diff knows about the tables and functions the statistics depend on.
pub(crate) struct Context<'a> {
    a: &'a Side<'a>,
    b: &'a Side<'a>,
    recreated: &'a BTreeSet<String>,
    mentions: Recreated,
}

impl<'a> Context<'a> {
    pub(crate) fn new(
        a: &'a Side<'a>,
        b: &'a Side<'a>,
        recreated: &'a BTreeSet<String>,
    ) -> Context<'a> {
        Context {
            a,
            b,
            recreated,
            mentions: Recreated::new(a, b, recreated),
        }
    }

    /// The statistics of `b` that `old` is and stays, unchanged but for what can be altered.
    fn kept_as(&self, old: &Statistics) -> Option<&'a Statistics> {
        let new = self
            .b
            .catalog
            .statistics
            .iter()
            .find(|s| s.schema == old.schema && s.name == old.name)?;
        let same = new.table == old.table && new.definition == old.definition;
        let stays =
            same && self.relation_stays(old) && !self.mentions.mentioned_in(&old.definition);
        stays.then_some(new)
    }

    /// Whether the relation of `old` and every column it covers stay as they are.
    fn relation_stays(&self, old: &Statistics) -> bool {
        let name = &old.table;
        if let (Some(before), Some(after)) = (self.a.tables.get(name), self.b.tables.get(name)) {
            let same_column = |c: &String| match (before.column(c), after.column(c)) {
                (Some(x), Some(y)) => {
                    (&x.data_type, &x.collation, &x.generated)
                        == (&y.data_type, &y.collation, &y.generated)
                }
                _ => false,
            };
            return !recreated_whole(before, after) && old.columns.iter().all(same_column);
        }
        match (self.a.views.get(name), self.b.views.get(name)) {
            (Some(view), Some(_)) => !self.recreated.contains(&view_key(view)),
            _ => false,
        }
    }
}

/// Drops of statistics that change or go, before anything else changes.
pub(crate) fn early_steps(cx: &Context) -> Vec<Step> {
    cx.a.catalog
        .statistics
        .iter()
        .filter(|old| cx.kept_as(old).is_none())
        .map(|old| {
            let sql = format!(
                "DROP STATISTICS {};",
                QualifiedName::new(&old.schema, &old.name)
            );
            Step::new(key(old), sql).lock(Lock::ShareUpdateExclusive)
        })
        .collect()
}

/// Creates and changes, once every table and function is in place; `usual_owner` as for
/// every other object (a new one belongs to whoever runs the plan).
pub(crate) fn late_steps(cx: &Context, usual_owner: Option<&str>) -> Vec<Step> {
    let kept: Vec<(&Statistics, &Statistics)> =
        cx.a.catalog
            .statistics
            .iter()
            .filter_map(|old| cx.kept_as(old).map(|new| (new, old)))
            .collect();
    let mut steps = Vec::new();
    for new in &cx.b.catalog.statistics {
        let old = kept
            .iter()
            .find(|(n, _)| std::ptr::eq(*n, new))
            .map(|x| x.1);
        let mut sql = Vec::new();
        match old {
            None => sql.push(render::create_statistics(new)),
            Some(old) if old.target != new.target => {
                sql.push(render::statistics_target(new, new.target.unwrap_or(-1)))
            }
            Some(_) => {}
        }
        if old.and_then(|o| o.comment.as_ref()) != new.comment.as_ref() {
            let target = format!("STATISTICS {}", QualifiedName::new(&new.schema, &new.name));
            sql.push(comment_sql(&target, &new.comment).trim_end().to_string());
        }
        let owner_changed = match old {
            Some(o) => o.owner != new.owner,
            None => usual_owner.is_some_and(|u| u != new.owner),
        };
        if owner_changed {
            sql.push(render::statistics_owner(new));
        }
        if !sql.is_empty() {
            let mut step = Step::new(key(new), sql.join("\n")).lock(Lock::ShareUpdateExclusive);
            if old.is_none() {
                step = step.note("the planner uses it once ANALYZE has filled it");
            }
            steps.push(step);
        }
    }
    steps
}
