//! `membership-writable`: the app role can write the membership table, and so add its user to
//! any tenant.

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::{reached_tables, Info};
use crate::check::reach::{granted, WRITES};
use crate::check::{finding, table_object};
use crate::model::Model;

pub const RULE: Info = (
    "membership-writable",
    Severity::Error,
    "the app role can write the membership table",
);

pub fn check(model: &Model, out: &mut Vec<Finding>) {
    let app = &model.tenancy.app_role;
    for t in reached_tables(model).filter(|t| model.is_tenant(t) && model.is_membership(t)) {
        let writes = if model.is_app(&t.owner) {
            WRITES.to_vec()
        } else {
            granted(model, t, &WRITES)
        };
        if writes.is_empty() {
            continue;
        }
        let name = t.qualified_name();
        out.push(finding(
            RULE.0,
            table_object(t),
            format!("{app} can {} the membership table {name}", writes.join(", ")),
            "The membership table decides which tenants a user reaches: a user who can write it can add themselves to any tenant.",
            format!(
                "REVOKE {} ON {name} FROM {}; change memberships through a SECURITY DEFINER function that checks the caller may invite.",
                writes.join(", "),
                quote::ident(app)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let found = fires_on(
            Base::Membership,
            "GRANT INSERT ON memberships TO {{app}};",
            "membership-writable",
        );
        assert_eq!(found[0].object.as_deref(), Some("table public.memberships"));
    }

    #[test]
    fn passes() {
        silent_on(Base::Membership, "", "membership-writable");
    }
}
