//! Foreign servers, user mappings and foreign tables.
//!
//! What goes, or must be created again, is dropped early ([`early_steps`], once the views on
//! them are dropped): foreign tables, then mappings, then servers, so nothing holds on to the
//! types, functions and extensions (wrappers) the rest of the plan may drop. Servers and
//! mappings are created once extensions and roles exist ([`server_steps`]); foreign tables
//! among the other relations, in dependency order ([`table_steps`]), and the views on one
//! that goes or whose columns change are created again ([`shaken`]). A foreign table holds
//! no rows, so one whose server or column order changes is simply created again.
//!
//! A user mapping's options (passwords) are never in the catalog: a new mapping is created
//! without them, and the plan says they must be set by hand.

use std::collections::{BTreeMap, BTreeSet};

use tenet_catalog::model::*;
use tenet_catalog::quote::ident;
use tenet_catalog::render::{self, Node};

use crate::diff::{comment_sql, Meta};
use crate::plan::{Hazard, Lock, Step};

fn server_key(s: &ForeignServer) -> String {
    format!("server {}", s.name)
}

fn mapping_key(m: &UserMapping) -> String {
    format!("user mapping {}", render::user_mapping_name(m))
}

fn table_key(t: &ForeignTable) -> String {
    ObjectKey::relation("foreign table", &t.schema, &t.name)
}

/// The server of `old`'s name in `to`, unless it must be dropped and created again (its
/// wrapper or type cannot be altered).
fn kept_server<'b>(old: &ForeignServer, to: &'b Catalog) -> Option<&'b ForeignServer> {
    to.foreign_servers
        .iter()
        .find(|s| s.name == old.name)
        .filter(|s| (&s.wrapper, &s.server_type) == (&old.wrapper, &old.server_type))
}

fn server_kept(name: &str, from: &Catalog, to: &Catalog) -> bool {
    from.foreign_servers
        .iter()
        .find(|s| s.name == name)
        .is_some_and(|old| kept_server(old, to).is_some())
}

/// Whether a mapping is on both sides and its server stays.
fn mapping_kept(m: &UserMapping, from: &Catalog, to: &Catalog) -> bool {
    from.user_mappings.contains(m)
        && to.user_mappings.contains(m)
        && server_kept(&m.server, from, to)
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn server_meta(s: &ForeignServer) -> Meta<'_> {
    Meta::new(&s.comment, &s.owner, &s.grants)
}

fn table_meta(t: &ForeignTable) -> Meta<'_> {
    Meta::new(&t.comment, &t.owner, &t.grants)
}

/// Whether `new` lists what `old` keeps in `old`'s order, followed by what it adds: what
/// `ADD` (which appends) can reach.
fn appends_only(old: &[&str], new: &[&str]) -> bool {
    let kept: Vec<&str> = old.iter().filter(|n| new.contains(n)).copied().collect();
    new.starts_with(&kept)
}

/// The foreign table of `old`'s name in `to`, unless it must be dropped and created again
/// (its server changes, its columns cannot be reordered, or a column's generation changes).
fn kept_table<'b>(old: &ForeignTable, from: &Catalog, to: &'b Catalog) -> Option<&'b ForeignTable> {
    let new = to
        .foreign_tables
        .iter()
        .find(|t| t.qualified_name() == old.qualified_name())?;
    let names =
        |t: &ForeignTable| -> Vec<String> { t.columns.iter().map(|c| c.name.clone()).collect() };
    let (old_names, new_names) = (names(old), names(new));
    let same_generation = old.columns.iter().all(|c| {
        new.columns
            .iter()
            .find(|n| n.name == c.name)
            .is_none_or(|n| n.generated == c.generated)
    });
    let alterable = new.server == old.server
        && server_kept(&old.server, from, to)
        && appends_only(&strs(&old_names), &strs(&new_names))
        && same_generation;
    alterable.then_some(new)
}

/// `OPTIONS (...)` that turns the `old` options into `new` ones (both `name=value`); None
/// when they are equal. PostgreSQL keeps options in order (`SET` in place, `ADD` at the
/// end): when that reaches `new`, option by option; otherwise every old one is dropped and
/// `new` added whole.
pub(crate) fn options_change(old: &[String], new: &[String]) -> Option<String> {
    if old == new {
        return None;
    }
    let split = |l: &[String]| -> Vec<(String, String)> {
        l.iter()
            .map(|o| {
                let (n, v) = render::split_option(o);
                (n.to_string(), v.to_string())
            })
            .collect()
    };
    let (old, new) = (split(old), split(new));
    let names =
        |l: &[(String, String)]| -> Vec<String> { l.iter().map(|(n, _)| n.clone()).collect() };
    let (old_names, new_names) = (names(&old), names(&new));
    let add = |n: &str, v: &str| format!("ADD {}", render::options_list(&[format!("{n}={v}")]));
    let mut items = Vec::new();
    if appends_only(&strs(&old_names), &strs(&new_names)) {
        for (n, _) in old.iter().filter(|(n, _)| !new_names.contains(n)) {
            items.push(format!("DROP {}", ident(n)));
        }
        for (n, v) in &new {
            match old.iter().find(|(o, _)| o == n) {
                None => items.push(add(n, v)),
                Some((_, was)) if was != v => items.push(format!(
                    "SET {}",
                    render::options_list(&[format!("{n}={v}")])
                )),
                Some(_) => {}
            }
        }
    } else {
        items.extend(old.iter().map(|(n, _)| format!("DROP {}", ident(n))));
        items.extend(new.iter().map(|(n, v)| add(n, v)));
    }
    Some(format!("OPTIONS ({})", items.join(", ")))
}

/// Drops of foreign tables, user mappings and servers that go or are created again.
pub(crate) fn early_steps(from: &Catalog, to: &Catalog) -> Vec<Step> {
    let mut steps = Vec::new();
    for t in &from.foreign_tables {
        if kept_table(t, from, to).is_none() {
            steps.push(
                Step::new(
                    table_key(t),
                    format!("DROP FOREIGN TABLE {};", t.qualified_name()),
                )
                .lock(Lock::AccessExclusive),
            );
        }
    }
    for m in &from.user_mappings {
        if !mapping_kept(m, from, to) {
            steps.push(
                Step::new(
                    mapping_key(m),
                    format!("DROP USER MAPPING {};", render::user_mapping_name(m)),
                )
                .hazard(Hazard::DataLoss)
                .note("the mapping's options (user, password) go with it"),
            );
        }
    }
    for s in &from.foreign_servers {
        if kept_server(s, to).is_none() {
            steps.push(Step::new(
                server_key(s),
                format!("DROP SERVER {};", ident(&s.name)),
            ));
        }
    }
    steps
}

/// Creates and changes of servers and user mappings, with the servers' comments, owners and
/// privileges; `usual_owner` as for every other object. Once extensions and roles exist.
pub(crate) fn server_steps(from: &Catalog, to: &Catalog, usual_owner: Option<&str>) -> Vec<Step> {
    let mut steps = Vec::new();
    let old_servers: BTreeMap<&str, &ForeignServer> = from
        .foreign_servers
        .iter()
        .map(|s| (s.name.as_str(), s))
        .collect();
    for new in &to.foreign_servers {
        let old = old_servers
            .get(new.name.as_str())
            .copied()
            .filter(|o| kept_server(o, to).is_some());
        let target = render::server_target(new);
        let mut sql = String::new();
        match old {
            None => {
                sql.push_str(&render::create_server(new));
                sql.push('\n');
            }
            Some(old) => {
                if old.version != new.version {
                    let version = match &new.version {
                        Some(v) => tenet_catalog::quote::literal(v),
                        None => "NULL".into(),
                    };
                    sql.push_str(&format!("ALTER {target} VERSION {version};\n"));
                }
                if let Some(change) = options_change(&old.options, &new.options) {
                    sql.push_str(&format!("ALTER {target} {change};\n"));
                }
            }
        }
        sql.push_str(&server_meta(new).changes_from(
            old.map(server_meta),
            &target,
            &render::server_grant_target(new),
            usual_owner,
        ));
        if !sql.is_empty() {
            steps.push(Step::new(server_key(new), sql.trim_end().to_string()));
        }
    }
    for m in &to.user_mappings {
        if !mapping_kept(m, from, to) {
            steps.push(
                Step::new(mapping_key(m), render::create_user_mapping(m)).note(format!(
                    "set its options by hand: ALTER USER MAPPING {} OPTIONS (ADD user '...', ADD password '...')",
                    render::user_mapping_name(m)
                )),
            );
        }
    }
    steps
}

/// Whether a relation that depends on a foreign table of `from` must let go of it: the table
/// is dropped or created again, or a column changes type or goes.
pub(crate) fn shaken(from: &Catalog, to: &Catalog) -> Vec<String> {
    from.foreign_tables
        .iter()
        .filter(|old| match kept_table(old, from, to) {
            None => true,
            Some(new) => old.columns.iter().any(|c| {
                !new.columns.iter().any(|n| {
                    (&n.name, &n.data_type, &n.collation) == (&c.name, &c.data_type, &c.collation)
                })
            }),
        })
        .map(table_key)
        .collect()
}

/// Creates and changes of foreign tables, with their comments, owners and privileges, each
/// with its node for the dependency order the plan creates relations in.
pub(crate) fn table_steps(
    from: &Catalog,
    to: &Catalog,
    usual_owner: Option<&str>,
) -> Vec<(Node, Step)> {
    let mut steps = Vec::new();
    for new in &to.foreign_tables {
        let old = from
            .foreign_tables
            .iter()
            .find(|t| t.qualified_name() == new.qualified_name())
            .filter(|o| kept_table(o, from, to).is_some());
        let name = new.qualified_name();
        let target = format!("FOREIGN TABLE {name}");
        let mut sql = match old {
            None => format!("{}\n", render::create_foreign_table(new)),
            Some(old) => alter_foreign_table(old, new),
        };
        sql.push_str(&table_meta(new).changes_from(
            old.map(table_meta),
            &target,
            &format!("TABLE {name}"),
            usual_owner,
        ));
        sql.push_str(&column_comments_and_grants(old, new));
        if !sql.is_empty() {
            let node = Node {
                key: table_key(new),
                rank: 3,
                depends_on: new.depends_on.clone(),
            };
            let step = Step::new(table_key(new), sql.trim_end().to_string());
            steps.push((node, step.lock(Lock::AccessExclusive)));
        }
    }
    steps
}

/// `ALTER FOREIGN TABLE` statements for a table that stays: its options and columns.
fn alter_foreign_table(old: &ForeignTable, new: &ForeignTable) -> String {
    let alter = format!("ALTER FOREIGN TABLE {}", new.qualified_name());
    let mut sql = String::new();
    if let Some(change) = options_change(&old.options, &new.options) {
        sql.push_str(&format!("{alter} {change};\n"));
    }
    // Checks that change go before the columns they may name.
    for k in old.checks.iter().filter(|k| !new.checks.contains(k)) {
        sql.push_str(&format!("{alter} DROP CONSTRAINT {};\n", ident(&k.name)));
    }
    for c in old
        .columns
        .iter()
        .filter(|c| !new.columns.iter().any(|n| n.name == c.name))
    {
        sql.push_str(&format!("{alter} DROP COLUMN {};\n", ident(&c.name)));
    }
    for c in &new.columns {
        let column = format!("{alter} ALTER COLUMN {}", ident(&c.name));
        let Some(was) = old.columns.iter().find(|o| o.name == c.name) else {
            sql.push_str(&format!(
                "{alter} ADD COLUMN {};\n",
                render::foreign_column_sql(c)
            ));
            continue;
        };
        if (&was.data_type, &was.collation) != (&c.data_type, &c.collation) {
            let collate = c
                .collation
                .as_ref()
                .map(|x| format!(" COLLATE {x}"))
                .unwrap_or_default();
            sql.push_str(&format!("{column} TYPE {}{collate};\n", c.data_type));
        }
        if was.default != c.default {
            match &c.default {
                Some(d) => sql.push_str(&format!("{column} SET DEFAULT {d};\n")),
                None => sql.push_str(&format!("{column} DROP DEFAULT;\n")),
            }
        }
        if was.not_null != c.not_null {
            let change = if c.not_null { "SET" } else { "DROP" };
            sql.push_str(&format!("{column} {change} NOT NULL;\n"));
        }
        if let Some(change) = options_change(&was.options, &c.options) {
            sql.push_str(&format!("{column} {change};\n"));
        }
    }
    for k in new.checks.iter().filter(|k| !old.checks.contains(k)) {
        sql.push_str(&format!(
            "{alter} ADD CONSTRAINT {} {};\n",
            ident(&k.name),
            k.definition
        ));
    }
    sql
}

/// Column comments and privileges that differ from what the columns have by then (nothing,
/// for a table the plan creates). Revoking a table privilege takes the columns' with it, so
/// those are restated when the table's change.
fn column_comments_and_grants(old: Option<&ForeignTable>, new: &ForeignTable) -> String {
    let name = new.qualified_name();
    let table_acl_changed = old.is_some_and(|o| o.grants != new.grants);
    let mut sql = String::new();
    for c in &new.columns {
        let was = old.and_then(|o| o.columns.iter().find(|x| x.name == c.name));
        if was.and_then(|w| w.comment.clone()) != c.comment {
            let target = format!("COLUMN {name}.{}", ident(&c.name));
            sql.push_str(&comment_sql(&target, &c.comment));
        }
        let before = was.and_then(|w| w.grants.clone());
        if before == c.grants && !(c.grants.is_some() && table_acl_changed) {
            continue;
        }
        let grantees: BTreeSet<&str> = before
            .iter()
            .flatten()
            .map(|g| g.grantee.as_str())
            .collect();
        for grantee in grantees {
            let grantee = if grantee == "PUBLIC" {
                "PUBLIC".to_string()
            } else {
                ident(grantee)
            };
            sql.push_str(&format!(
                "REVOKE ALL ({}) ON TABLE {name} FROM {grantee};\n",
                ident(&c.name)
            ));
        }
        render::column_grant_statements(&mut sql, &name.to_string(), &c.name, &c.grants);
    }
    sql
}
