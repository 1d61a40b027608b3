//! `security-definer-function`: a SECURITY DEFINER function the app role can execute reads
//! tenant tables (as its owner, outside the caller's row-level security).

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::Info;
use crate::check::finding;
use crate::model::Model;

pub const RULE: Info = (
    "security-definer-function",
    Severity::Error,
    "a SECURITY DEFINER function reads tenant tables",
);

pub fn check(model: &Model, out: &mut Vec<Finding>) {
    let app = &model.tenancy.app_role;
    for f in &model.catalog.functions {
        if !f.security_definer
            || !model.in_scope(&f.schema)
            || f.kind != "function" && f.kind != "procedure"
            || matches!(
                f.returns.as_deref(),
                Some("trigger") | Some("event_trigger")
            )
            || !model.app_has(&f.owner, &f.grants, true, "EXECUTE")
        {
            continue;
        }
        let what = match model.function_tenant_tables(f) {
            Ok(tables) if tables.is_empty() => continue,
            Ok(tables) => format!(
                "reads tenant tables ({})",
                tables
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(reason) => format!("may read tenant tables: {reason}"),
        };
        out.push(finding(
            RULE.0,
            format!("function {}", f.signature()),
            format!("SECURITY DEFINER function {} {what}, and {app} can execute it", f.signature()),
            "A SECURITY DEFINER function runs as its owner: row-level security applies to the owner (often not at all), so whatever it reads or writes is not limited to the caller's tenant.",
            format!(
                "Make it SECURITY INVOKER (ALTER FUNCTION {} SECURITY INVOKER), or filter by the tenant setting inside it and REVOKE EXECUTE ... FROM PUBLIC, {}.",
                f.signature(),
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
        let found = fires(
            "CREATE FUNCTION tenant_task_titles(p_tenant uuid) RETURNS SETOF text
                LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
                AS $$ SELECT title FROM tasks WHERE tenant_id = p_tenant $$;",
            "security-definer-function",
        );
        assert!(found[0].message.contains("public.tasks"), "{found:?}");
    }

    #[test]
    fn passes() {
        // plan_name is SECURITY DEFINER over the global plans only.
        silent("", "security-definer-function");
    }
}
