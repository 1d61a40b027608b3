//! `key-without-tenant`: a primary or unique key of a tenant table does not include the
//! tenant column (keys that must stay global, such as credentials, are left alone).

use tenet_catalog::{quote, ConstraintKind, QualifiedName};
use tenet_report::{Finding, Severity};

use super::{Info, Subject, GENERATE};
use crate::check::{constraint_object, finding, keys_without_tenant, Key};
use crate::model::Model;

pub const RULE: Info = (
    "key-without-tenant",
    Severity::Warning,
    "a primary or unique key does not include the tenant column",
);

pub fn check(model: &Model, s: &Subject, out: &mut Vec<Finding>) {
    // A child's keys are its parent's; a linked table has no tenant column to put in a key.
    if s.child || s.col.is_none() {
        return;
    }
    let (t, name, column) = (s.t, &s.name, &s.column);
    for key in keys_without_tenant(model, t) {
        let (object, what) = match key {
            Key::Constraint(c) => (
                constraint_object(t, &c.name),
                format!(
                    "{} {} on {name} ({}) does not include {column}",
                    if c.kind == ConstraintKind::PrimaryKey {
                        "primary key"
                    } else {
                        "unique constraint"
                    },
                    quote::ident(&c.name),
                    c.columns.join(", ")
                ),
            ),
            Key::Index(i) => (
                format!("index {}", QualifiedName::new(&t.schema, &i.name)),
                format!(
                    "unique index {} on {name} ({}) does not include {column}",
                    quote::ident(&i.name),
                    i.columns.join(", ")
                ),
            ),
        };
        out.push(finding(
            RULE.0,
            object,
            what,
            "A key that spans tenants tells one tenant, through a unique violation, that another holds a value; and foreign keys can only carry the tenant column across to keys that include it.",
            format!(
                "Put {} first in the key, e.g. PRIMARY KEY ({}, id); {GENERATE}",
                quote::ident(column),
                quote::ident(column)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let found = fires(
            "CREATE UNIQUE INDEX comments_body_key ON comments (body);",
            "key-without-tenant",
        );
        assert_eq!(
            found[0].object.as_deref(),
            Some("index public.comments_body_key")
        );
    }

    #[test]
    fn passes() {
        // A credential's key must stay global: not reported.
        silent(
            "ALTER TABLE comments ADD COLUMN token text UNIQUE;",
            "key-without-tenant",
        );
    }
}
