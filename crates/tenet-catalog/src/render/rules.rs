//! Rules (`CREATE RULE`) and triggers on views as SQL.

use std::fmt::Write;

use crate::model::*;
use crate::quote::ident;

/// `CREATE RULE ...;`.
pub fn create_rule(r: &Rule) -> String {
    format!("{};", r.definition)
}

/// `ALTER TABLE ... DISABLE|ENABLE ... RULE` for a rule's firing state; None for the default.
pub fn rule_state(relation: &QualifiedName, r: &Rule) -> Option<String> {
    let state = match r.enabled.as_str() {
        "disabled" => "DISABLE RULE",
        "replica" => "ENABLE REPLICA RULE",
        "always" => "ENABLE ALWAYS RULE",
        _ => return None,
    };
    Some(format!(
        "ALTER TABLE {relation} {state} {};",
        ident(&r.name)
    ))
}

/// A rule with its state and comment.
pub fn rule_sql(relation: &QualifiedName, r: &Rule) -> String {
    let mut sql = create_rule(r);
    if let Some(state) = rule_state(relation, r) {
        write!(sql, "\n{state}").unwrap();
    }
    if let Some(text) = &r.comment {
        let target = format!("RULE {} ON {relation}", ident(&r.name));
        write!(
            sql,
            "\nCOMMENT ON {target} IS {};",
            crate::quote::literal(text)
        )
        .unwrap();
    }
    sql
}

/// A trigger on a view with its comment (views take no `ENABLE`/`DISABLE TRIGGER`).
pub fn view_trigger_sql(view: &QualifiedName, t: &Trigger) -> String {
    let mut sql = format!("{};", t.definition);
    if let Some(text) = &t.comment {
        let target = format!("TRIGGER {} ON {view}", ident(&t.name));
        write!(
            sql,
            "\nCOMMENT ON {target} IS {};",
            crate::quote::literal(text)
        )
        .unwrap();
    }
    sql
}

/// Every view trigger, then every rule of tables and views.
pub fn rules_and_view_triggers(out: &mut String, catalog: &Catalog) {
    for v in &catalog.views {
        let name = QualifiedName::new(&v.schema, &v.name);
        for t in &v.triggers {
            writeln!(out, "{}", view_trigger_sql(&name, t)).unwrap();
        }
    }
    let tables = catalog
        .tables
        .iter()
        .map(|t| (t.qualified_name(), &t.rules));
    let views = catalog
        .views
        .iter()
        .map(|v| (QualifiedName::new(&v.schema, &v.name), &v.rules));
    for (relation, rules) in tables.chain(views) {
        for r in rules {
            writeln!(out, "{}", rule_sql(&relation, r)).unwrap();
        }
    }
}
