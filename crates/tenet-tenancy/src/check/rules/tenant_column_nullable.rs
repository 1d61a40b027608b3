//! `tenant-column-nullable`: the tenant column allows NULL.

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::{Info, Subject, GENERATE};
use crate::check::{finding, table_object};
use crate::model::Model;

pub const RULE: Info = (
    "tenant-column-nullable",
    Severity::Error,
    "the tenant column allows NULL",
);

pub fn check(_model: &Model, s: &Subject, out: &mut Vec<Finding>) {
    // An inherited column's nullability is the parent's, reported there.
    let Some(col) = s.col.filter(|c| !c.not_null && !c.inherited) else {
        return;
    };
    let name = &s.name;
    out.push(finding(
        RULE.0,
        table_object(s.t),
        format!("{name}.{} allows NULL", quote::ident(&col.name)),
        "A row with no tenant belongs to nobody: policies comparing the column never match it, and writes can create rows no tenant can see or delete.",
        format!("ALTER TABLE {name} ALTER COLUMN {} SET NOT NULL; {GENERATE}", quote::ident(&col.name)),
    ));
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let found = fires(
            "CREATE TABLE attachments (tenant_id uuid REFERENCES tenants (id), id uuid NOT NULL, UNIQUE (tenant_id, id));",
            "tenant-column-nullable",
        );
        assert!(found[0].message.contains("public.attachments"), "{found:?}");
    }

    #[test]
    fn passes() {
        silent("", "tenant-column-nullable");
    }
}
