//! `view-not-security-invoker`: a view over tenant tables the app role can read runs with its
//! owner's rights (and so its owner's row-level security).

use tenet_catalog::{QualifiedName, View};
use tenet_report::{Finding, Severity};

use super::Info;
use crate::check::finding;
use crate::model::Model;

pub const RULE: Info = (
    "view-not-security-invoker",
    Severity::Error,
    "a view over tenant tables runs with its owner's rights",
);

/// Views in scope the app role can read that read tenant tables, with those tables listed.
pub fn readable_tenant_views<'a>(
    model: &'a Model,
) -> impl Iterator<Item = (&'a View, String)> + 'a {
    model.catalog.views.iter().filter_map(|v| {
        let tables = model.view_tenant_tables(v);
        if !model.in_scope(&v.schema)
            || tables.is_empty()
            || !model.app_has(&v.owner, &v.grants, false, "SELECT")
        {
            return None;
        }
        let list: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
        Some((v, list.join(", ")))
    })
}

pub fn check(model: &Model, out: &mut Vec<Finding>) {
    let app = &model.tenancy.app_role;
    for (v, list) in readable_tenant_views(model) {
        if v.materialized || v.security_invoker() {
            continue;
        }
        let name = QualifiedName::new(&v.schema, &v.name);
        out.push(finding(
            RULE.0,
            format!("view {name}"),
            format!("view {name} reads tenant tables ({list}) with its owner's rights, and {app} can read it"),
            "A view runs its query as the view owner unless security_invoker is set: the owner's row-level security (often none) applies instead of the app role's, so the view shows every tenant.",
            format!("ALTER VIEW {name} SET (security_invoker = true); or run `tenet tenancy generate`"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let found = fires(
            "CREATE VIEW all_tasks AS SELECT * FROM tasks;\nGRANT SELECT ON all_tasks TO {{app}};",
            "view-not-security-invoker",
        );
        assert_eq!(found[0].object.as_deref(), Some("view public.all_tasks"));
    }

    #[test]
    fn passes() {
        // open_tasks is security_invoker; this one the app role cannot read.
        silent(
            "CREATE VIEW all_tasks AS SELECT * FROM tasks;",
            "view-not-security-invoker",
        );
    }
}
