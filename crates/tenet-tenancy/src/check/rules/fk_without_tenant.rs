//! `fk-without-tenant`: a foreign key between tenant tables does not include the tenant
//! column, so it can point one tenant's rows at another's.

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::{Info, Subject, GENERATE};
use crate::check::{constraint_object, finding, fks_without_tenant};
use crate::model::Model;

pub const RULE: Info = (
    "fk-without-tenant",
    Severity::Error,
    "a foreign key between tenant tables does not include the tenant column",
);

pub fn check(model: &Model, s: &Subject, out: &mut Vec<Finding>) {
    if s.child || s.col.is_none() {
        return;
    }
    let (t, name, column) = (s.t, &s.name, &s.column);
    for fk in fks_without_tenant(model, t) {
        let r = fk.references.as_ref().expect("a foreign key");
        out.push(finding(
            RULE.0,
            constraint_object(t, &fk.name),
            format!(
                "foreign key {} from {name} ({}) to {} ({}) does not include {column}",
                quote::ident(&fk.name),
                fk.columns.join(", "),
                r.table,
                r.columns.join(", ")
            ),
            "The foreign key check runs without row-level security: a tenant can point its rows at another tenant's rows (and learn they exist), and cascades cross tenants.",
            format!(
                "FOREIGN KEY ({c}, {}) REFERENCES {} ({c}, {}); {GENERATE}",
                fk.columns.join(", "),
                r.table,
                r.columns.join(", "),
                c = quote::ident(column)
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
            "ALTER TABLE tasks ADD CONSTRAINT tasks_id_key UNIQUE (id);\n\
             ALTER TABLE comments DROP CONSTRAINT comments_tenant_id_task_id_fkey;\n\
             ALTER TABLE comments ADD CONSTRAINT comments_task_fkey FOREIGN KEY (task_id) REFERENCES tasks (id);",
            "fk-without-tenant",
        );
        assert_eq!(
            found[0].object.as_deref(),
            Some("constraint comments_task_fkey on table public.comments")
        );
    }

    #[test]
    fn passes() {
        // Every clean foreign key is (tenant_id, ...) -> (tenant_id, ...).
        silent("", "fk-without-tenant");
    }
}
