//! `app-role-superuser`: the app role is a superuser (superusers bypass row-level security).

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::{app_role, role_object, Info};
use crate::check::finding;
use crate::model::Model;

pub const RULE: Info = (
    "app-role-superuser",
    Severity::Error,
    "the app role is a superuser",
);

pub fn check(model: &Model, out: &mut Vec<Finding>) {
    if !app_role(model).is_some_and(|r| r.superuser) {
        return;
    }
    let app = &model.tenancy.app_role;
    out.push(finding(
        RULE.0,
        role_object(model),
        format!("app role {app} is a superuser"),
        "Superusers bypass row-level security entirely: every tenant's rows are visible to the app.",
        format!("ALTER ROLE {} NOSUPERUSER;", quote::ident(app)),
    ));
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        fires("ALTER ROLE {{app}} SUPERUSER;", "app-role-superuser");
    }

    #[test]
    fn passes() {
        silent("", "app-role-superuser");
    }
}
