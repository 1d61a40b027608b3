//! `app-role-bypassrls`: the app role has BYPASSRLS.

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::{app_role, role_object, Info};
use crate::check::finding;
use crate::model::Model;

pub const RULE: Info = (
    "app-role-bypassrls",
    Severity::Error,
    "the app role bypasses row-level security",
);

pub fn check(model: &Model, out: &mut Vec<Finding>) {
    if !app_role(model).is_some_and(|r| r.bypassrls) {
        return;
    }
    let app = &model.tenancy.app_role;
    out.push(finding(
        RULE.0,
        role_object(model),
        format!("app role {app} has BYPASSRLS"),
        "A role with BYPASSRLS ignores every policy: every tenant's rows are visible to the app.",
        format!("ALTER ROLE {} NOBYPASSRLS;", quote::ident(app)),
    ));
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        fires("ALTER ROLE {{app}} BYPASSRLS;", "app-role-bypassrls");
    }

    #[test]
    fn passes() {
        silent("", "app-role-bypassrls");
    }
}
