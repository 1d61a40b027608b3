//! `app-role-missing`: the app role does not exist (or nothing in the schema names it).

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::{app_role, role_object, Info};
use crate::check::finding;
use crate::model::Model;

pub const RULE: Info = (
    "app-role-missing",
    Severity::Warning,
    "the app role does not exist",
);

pub fn check(model: &Model, out: &mut Vec<Finding>) {
    if app_role(model).is_some() {
        return;
    }
    let app = &model.tenancy.app_role;
    out.push(finding(
        RULE.0,
        role_object(model),
        format!("role {app} (the [tenancy] app_role) does not exist, or nothing in the schema names it"),
        "Policies and grants for a role that is not there protect nothing, and the app may be connecting as some other, more powerful role.",
        format!("CREATE ROLE {} LOGIN; grant it what the app needs, or fix app_role in tenet.toml", quote::ident(app)),
    ));
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let mut case = Case::new(Base::Direct, "");
        case.tenancy.app_role = format!("{}_gone", case.tenancy.app_role);
        let found: Vec<_> = case
            .findings()
            .into_iter()
            .filter(|f| f.rule == "app-role-missing")
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn passes() {
        silent("", "app-role-missing");
    }
}
