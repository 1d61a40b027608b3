//! Rewrite rules (`CREATE RULE`). (Triggers on views come with the triggers query.)

use std::collections::HashMap;

use crate::model::{Rule, Table, View};
use crate::Error;

use super::{parse_all, Rows};

/// Rules other than views' own `_RETURN`, `(relation oid, json)` shaped like [`Rule`].
pub const RULES: &str = concat!(
    "select r.ev_class, json_build_object('name', r.rulename, ",
    "'definition', rtrim(pg_get_ruledef(r.oid), ';'), ",
    "'enabled', case r.ev_enabled when 'D' then 'disabled' when 'R' then 'replica' ",
    "when 'A' then 'always' else 'origin' end, ",
    "'comment', ",
    description!("pg_rewrite", "r.oid"),
    ")::text from pg_rewrite r join pg_class c on c.oid = r.ev_class ",
    "join pg_namespace n on n.oid = c.relnamespace ",
    "where r.rulename <> '_RETURN' and c.relkind in ('r', 'p', 'v', 'm') and ",
    user_schema!(),
    " and ",
    not_extension_member!("pg_rewrite", "r.oid")
);

/// Give each table and view its rules, sorted by name.
pub fn attach_rules(
    rows: Rows,
    tables: &mut [(u32, Table)],
    table_at: &HashMap<u32, usize>,
    views: &mut [(u32, View)],
    view_at: &HashMap<u32, usize>,
) -> Result<(), Error> {
    for (oid, rule) in parse_all::<Rule>(rows)? {
        if let Some(&i) = table_at.get(&oid) {
            tables[i].1.rules.push(rule);
        } else if let Some(&i) = view_at.get(&oid) {
            views[i].1.rules.push(rule);
        }
    }
    tables
        .iter_mut()
        .for_each(|(_, t)| t.rules.sort_by(|a, b| a.name.cmp(&b.name)));
    views
        .iter_mut()
        .for_each(|(_, v)| v.rules.sort_by(|a, b| a.name.cmp(&b.name)));
    Ok(())
}
