//! `tenant-column-missing`: a tenant-scoped table with no tenant column (and no foreign key
//! through which it reaches its tenant).

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::{judged, Info};
use crate::check::{finding, table_object};
use crate::model::Model;

pub const RULE: Info = (
    "tenant-column-missing",
    Severity::Error,
    "a tenant-scoped table has no tenant column",
);

pub fn check(model: &Model, out: &mut Vec<Finding>) {
    let column = &model.tenancy.column;
    for t in model.tenant_tables().filter(|t| judged(model, t)) {
        if model.tenant_column(t).is_some() || model.link(t).is_some() {
            continue;
        }
        let name = t.qualified_name();
        out.push(finding(
            RULE.0,
            table_object(t),
            format!("tenant-scoped table {name} has no {column} column"),
            "Without the tenant column no policy can tell whose row it is; every tenant shares the table.",
            format!(
                "Add the column (ALTER TABLE {name} ADD COLUMN {} <type> NOT NULL REFERENCES ...), backfill it, or list the table in [tenancy] global_tables if it is shared reference data.",
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
            "CREATE TABLE notes (id bigint PRIMARY KEY, body text NOT NULL);\n\
             GRANT SELECT ON notes TO {{app}};",
            "tenant-column-missing",
        );
        assert_eq!(found[0].object.as_deref(), Some("table public.notes"));
    }

    #[test]
    fn passes() {
        // tasks, comments: the tenant column; tenants, plans: global.
        silent("", "tenant-column-missing");
    }
}
