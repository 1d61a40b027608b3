//! `privilege-beyond-rls`: the app role holds TRUNCATE, TRIGGER or REFERENCES on a tenant
//! table, privileges row-level security does not govern.

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::{reached_tables, Info};
use crate::check::reach::{granted, BEYOND_RLS};
use crate::check::{finding, table_object};
use crate::model::Model;

pub const RULE: Info = (
    "privilege-beyond-rls",
    Severity::Error,
    "the app role holds TRUNCATE, TRIGGER or REFERENCES on a tenant table",
);

pub fn check(model: &Model, out: &mut Vec<Finding>) {
    let app = &model.tenancy.app_role;
    for t in reached_tables(model).filter(|t| model.is_tenant(t)) {
        let beyond = granted(model, t, &BEYOND_RLS);
        if beyond.is_empty() {
            continue;
        }
        let name = t.qualified_name();
        out.push(finding(
            RULE.0,
            table_object(t),
            format!("{app} holds {} on tenant table {name}", beyond.join(", ")),
            "Row-level security governs SELECT, INSERT, UPDATE and DELETE only: TRUNCATE empties every tenant's rows, TRIGGER runs the app's code on every tenant's writes, REFERENCES lets it probe for other tenants' keys.",
            format!("REVOKE {} ON {name} FROM {};", beyond.join(", "), quote::ident(app)),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let found = fires(
            "GRANT TRUNCATE ON comments TO {{app}};",
            "privilege-beyond-rls",
        );
        assert!(found[0].message.contains("TRUNCATE"), "{found:?}");
    }

    #[test]
    fn passes() {
        // TRUNCATE on a global table is global-table-writable's business.
        silent("", "privilege-beyond-rls");
    }
}
