//! `matview-over-tenant`: a materialized view the app role can read holds rows of tenant
//! tables, without row-level security.

use tenet_catalog::{quote, QualifiedName};
use tenet_report::{Finding, Severity};

use super::view_not_security_invoker::readable_tenant_views;
use super::Info;
use crate::check::finding;
use crate::model::Model;

pub const RULE: Info = (
    "matview-over-tenant",
    Severity::Error,
    "a materialized view holds tenant rows without row-level security",
);

pub fn check(model: &Model, out: &mut Vec<Finding>) {
    let app = &model.tenancy.app_role;
    for (v, list) in readable_tenant_views(model).filter(|(v, _)| v.materialized) {
        let name = QualifiedName::new(&v.schema, &v.name);
        out.push(finding(
            RULE.0,
            format!("materialized view {name}"),
            format!("materialized view {name} holds rows of tenant tables ({list}) and {app} can read it"),
            "A materialized view is a copy without row-level security: whoever can select from it sees every tenant's rows in it.",
            format!(
                "REVOKE SELECT ON {name} FROM {}; serve it through a security_invoker view or function that filters by tenant, or make it a plain view.",
                quote::ident(app)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    const COUNTS: &str =
        "CREATE MATERIALIZED VIEW task_counts AS SELECT tenant_id, count(*) AS n FROM tasks GROUP BY tenant_id;";

    #[test]
    fn fails() {
        let found = fires(
            &format!("{COUNTS}\nGRANT SELECT ON task_counts TO {{{{app}}}};"),
            "matview-over-tenant",
        );
        assert_eq!(
            found[0].object.as_deref(),
            Some("materialized view public.task_counts")
        );
    }

    #[test]
    fn passes() {
        // Not granted to the app role.
        silent(COUNTS, "matview-over-tenant");
    }
}
