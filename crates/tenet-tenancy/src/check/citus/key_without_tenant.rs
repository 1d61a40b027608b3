//! `citus-key-without-tenant`: a primary or unique key of a table that would be distributed
//! does not include its distribution column. Citus enforces uniqueness per shard only, so it
//! refuses such a key; unlike `key-without-tenant`, no key is exempt (not even a credential's).

use tenet_catalog::{quote, ConstraintKind, QualifiedName};
use tenet_report::{Finding, Severity};

use super::Layout;
use crate::check::{constraint_object, finding};
use crate::model::Model;

pub const RULE: (&str, Severity, &str) = (
    "citus-key-without-tenant",
    Severity::Error,
    "a primary or unique key of a distributed table does not include the distribution column",
);

fn has(columns: &[String], column: &str) -> bool {
    columns
        .iter()
        .any(|c| c == column || *c == quote::ident(column))
}

pub fn check(model: &Model, layout: &Layout, out: &mut Vec<Finding>) {
    for (t, col) in &layout.distributed {
        let name = t.qualified_name();
        let column = &col.name;
        let fix = if model.is_root(t) {
            format!(
                "Add {} to the key, or keep {name} as a reference table (it holds the tenants themselves) by listing it in [tenancy] global_tables.",
                quote::ident(column)
            )
        } else {
            format!(
                "Put {} in the key, e.g. PRIMARY KEY ({}, id); a value that must be unique across tenants needs a reference table of its own.",
                quote::ident(column),
                quote::ident(column)
            )
        };
        let why = "Citus checks unique constraints shard by shard: it refuses to distribute a table whose primary or unique key does not include the distribution column.";
        for c in t.constraints.iter().filter(|c| {
            matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique)
                && !has(&c.columns, column)
        }) {
            out.push(finding(
                RULE.0,
                constraint_object(t, &c.name),
                format!(
                    "{} {} on {name} ({}) does not include {}, the column {name} would be distributed by",
                    if c.kind == ConstraintKind::PrimaryKey { "primary key" } else { "unique constraint" },
                    quote::ident(&c.name),
                    c.columns.join(", "),
                    quote::ident(column)
                ),
                why,
                fix.clone(),
            ));
        }
        for i in t
            .indexes
            .iter()
            .filter(|i| i.unique && !has(&i.columns, column))
        {
            out.push(finding(
                RULE.0,
                format!("index {}", QualifiedName::new(&t.schema, &i.name)),
                format!(
                    "unique index {} on {name} ({}) does not include {}, the column {name} would be distributed by",
                    quote::ident(&i.name),
                    i.columns.join(", "),
                    quote::ident(column)
                ),
                why,
                fix.clone(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    const RULE: &str = "citus-key-without-tenant";

    #[test]
    fn fails() {
        // A credential's key may stay global for isolation, not on Citus.
        let found = citus_fires(
            Base::Direct,
            "ALTER TABLE comments ADD COLUMN token text UNIQUE;",
            RULE,
        );
        assert_eq!(
            found[0].object.as_deref(),
            Some("constraint comments_token_key on table public.comments"),
            "{found:?}"
        );
    }

    #[test]
    fn passes() {
        // Every key of the clean schema leads with tenant_id; plans and tenants are
        // reference tables, whose keys Citus enforces as they are.
        citus_silent(Base::Direct, "", RULE);
    }
}
