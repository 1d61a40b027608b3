//! Event triggers as SQL.

use std::fmt::Write;

use crate::model::*;
use crate::quote::{ident, literal};

/// `CREATE EVENT TRIGGER`, its state, comment and owner.
pub fn event_trigger_sql(e: &EventTrigger) -> String {
    let name = ident(&e.name);
    let mut sql = format!("CREATE EVENT TRIGGER {name} ON {}", ident(&e.event));
    if !e.tags.is_empty() {
        let tags: Vec<String> = e.tags.iter().map(|t| literal(t)).collect();
        write!(sql, " WHEN TAG IN ({})", tags.join(", ")).unwrap();
    }
    write!(sql, " EXECUTE FUNCTION {}();", e.function).unwrap();
    let state = match e.enabled.as_str() {
        "disabled" => Some("DISABLE"),
        "replica" => Some("ENABLE REPLICA"),
        "always" => Some("ENABLE ALWAYS"),
        _ => None,
    };
    if let Some(state) = state {
        write!(sql, "\nALTER EVENT TRIGGER {name} {state};").unwrap();
    }
    if let Some(text) = &e.comment {
        write!(
            sql,
            "\nCOMMENT ON EVENT TRIGGER {name} IS {};",
            literal(text)
        )
        .unwrap();
    }
    write!(
        sql,
        "\nALTER EVENT TRIGGER {name} OWNER TO {};",
        ident(&e.owner)
    )
    .unwrap();
    sql
}

/// Every event trigger.
pub fn event_triggers(out: &mut String, catalog: &Catalog) {
    for e in &catalog.event_triggers {
        writeln!(out, "{}", event_trigger_sql(e)).unwrap();
    }
}
