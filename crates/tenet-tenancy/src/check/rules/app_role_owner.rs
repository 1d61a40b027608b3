//! `app-role-owner`: the app role owns tenant tables (an owner can switch row-level security
//! off, and bypasses it unless forced).

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::{app_role, role_object, Info};
use crate::check::finding;
use crate::model::Model;

pub const RULE: Info = (
    "app-role-owner",
    Severity::Error,
    "the app role owns tenant tables",
);

/// The tenant tables `role` owns.
pub fn owned_by(model: &Model, role: &str) -> Vec<String> {
    model
        .tenant_tables()
        .filter(|t| t.owner == role)
        .map(|t| t.qualified_name().to_string())
        .collect()
}

pub fn check(model: &Model, out: &mut Vec<Finding>) {
    if app_role(model).is_none() {
        return;
    }
    let app = &model.tenancy.app_role;
    let mine = owned_by(model, app);
    if mine.is_empty() {
        return;
    }
    out.push(finding(
        RULE.0,
        role_object(model),
        format!("app role {app} owns tenant tables: {}", mine.join(", ")),
        "An owner bypasses row-level security unless it is forced, and can disable it or drop the policies at will.",
        format!(
            "Create the schema as a separate owner role and ALTER TABLE ... OWNER TO it; grant {} only SELECT, INSERT, UPDATE, DELETE.",
            quote::ident(app)
        ),
    ));
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let found = fires("ALTER TABLE tasks OWNER TO {{app}};", "app-role-owner");
        assert!(found[0].message.ends_with("public.tasks"), "{found:?}");
    }

    #[test]
    fn passes() {
        silent("", "app-role-owner");
    }
}
