//! `global-table-writable`: the app role can write a table shared by every tenant.

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::{reached_tables, Info};
use crate::check::reach::{granted, WRITES};
use crate::check::{finding, table_object};
use crate::model::Model;

pub const RULE: Info = (
    "global-table-writable",
    Severity::Error,
    "the app role can write a table shared by every tenant",
);

pub fn check(model: &Model, out: &mut Vec<Finding>) {
    let app = &model.tenancy.app_role;
    for t in reached_tables(model).filter(|t| !model.is_tenant(t)) {
        let writes = granted(model, t, &WRITES);
        if writes.is_empty() {
            continue;
        }
        let name = t.qualified_name();
        out.push(finding(
            RULE.0,
            table_object(t),
            format!("{app} can {} global table {name}", writes.join(", ")),
            "A global table is shared by every tenant: a tenant that writes it changes what all the others see (the tenant registry, plans, prices).",
            format!("REVOKE {} ON {name} FROM {};", writes.join(", "), quote::ident(app)),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let found = fires("GRANT UPDATE ON plans TO {{app}};", "global-table-writable");
        assert_eq!(found[0].object.as_deref(), Some("table public.plans"));
    }

    #[test]
    fn passes() {
        // plans and tenants are read-only to the app role.
        silent("", "global-table-writable");
    }
}
