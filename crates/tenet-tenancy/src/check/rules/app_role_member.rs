//! `app-role-member`: the app role belongs to a superuser, BYPASSRLS or owning role, which it
//! can SET ROLE to.

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::{app_role, app_role_owner::owned_by, role_object, Info};
use crate::check::finding;
use crate::model::Model;

pub const RULE: Info = (
    "app-role-member",
    Severity::Error,
    "the app role belongs to a superuser, BYPASSRLS or owning role",
);

pub fn check(model: &Model, out: &mut Vec<Finding>) {
    if app_role(model).is_none() {
        return;
    }
    let app = &model.tenancy.app_role;
    for other in model.app_roles.iter().filter(|r| *r != app) {
        let Some(r) = model.catalog.roles.iter().find(|x| &x.name == other) else {
            continue;
        };
        let mut powers = Vec::new();
        if r.superuser {
            powers.push("is a superuser".to_string());
        }
        if r.bypassrls {
            powers.push("has BYPASSRLS".to_string());
        }
        let theirs = owned_by(model, other);
        if !theirs.is_empty() {
            powers.push(format!("owns {}", theirs.join(", ")));
        }
        if powers.is_empty() {
            continue;
        }
        out.push(finding(
            RULE.0,
            role_object(model),
            format!("app role {app} is a member of {other}, which {}", powers.join(" and ")),
            "A member can SET ROLE to the roles it belongs to (and inherits their ownership): the app can step around row-level security.",
            format!("REVOKE {} FROM {};", quote::ident(other), quote::ident(app)),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let found = fires(
            "ALTER ROLE {{other}} BYPASSRLS;\nGRANT {{other}} TO {{app}};",
            "app-role-member",
        );
        assert!(found[0].message.contains("has BYPASSRLS"), "{found:?}");
    }

    #[test]
    fn passes() {
        // A plain role it belongs to grants nothing beyond row-level security.
        silent("GRANT {{other}} TO {{app}};", "app-role-member");
    }
}
