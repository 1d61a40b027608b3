//! Extended statistics as SQL.

use std::fmt::Write;

use crate::model::*;
use crate::quote::{ident, literal};

/// `CREATE STATISTICS`, and its statistics target when not the default.
pub fn create_statistics(s: &Statistics) -> String {
    let mut sql = format!("{};", s.definition);
    if let Some(target) = s.target {
        write!(sql, "\n{}", statistics_target(s, target)).unwrap();
    }
    sql
}

/// `ALTER STATISTICS ... SET STATISTICS n` (-1 for the default).
pub fn statistics_target(s: &Statistics, target: i32) -> String {
    format!(
        "ALTER STATISTICS {} SET STATISTICS {target};",
        QualifiedName::new(&s.schema, &s.name)
    )
}

/// `COMMENT ON STATISTICS`; `IS NULL` to remove one.
fn statistics_comment(s: &Statistics) -> String {
    let text = s.comment.as_deref().map(literal);
    format!(
        "COMMENT ON STATISTICS {} IS {};",
        QualifiedName::new(&s.schema, &s.name),
        text.as_deref().unwrap_or("NULL")
    )
}

/// `ALTER STATISTICS ... OWNER TO`.
pub fn statistics_owner(s: &Statistics) -> String {
    format!(
        "ALTER STATISTICS {} OWNER TO {};",
        QualifiedName::new(&s.schema, &s.name),
        ident(&s.owner)
    )
}

/// Every statistics object, once its table and the functions its expressions call exist.
pub fn statistics(out: &mut String, catalog: &Catalog) {
    for s in &catalog.statistics {
        writeln!(out, "{}", create_statistics(s)).unwrap();
        if s.comment.is_some() {
            writeln!(out, "{}", statistics_comment(s)).unwrap();
        }
        writeln!(out, "{}", statistics_owner(s)).unwrap();
    }
}
