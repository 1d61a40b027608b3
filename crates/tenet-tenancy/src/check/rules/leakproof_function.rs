//! `leakproof-function`: a user-defined function is LEAKPROOF, so the planner may run it on
//! other tenants' rows before the row-level security filter.

use tenet_report::{Finding, Severity};

use super::Info;
use crate::check::finding;
use crate::check::reach::is_leakproof;
use crate::model::Model;

pub const RULE: Info = (
    "leakproof-function",
    Severity::Error,
    "a user-defined function is LEAKPROOF",
);

pub fn check(model: &Model, out: &mut Vec<Finding>) {
    for f in &model.catalog.functions {
        if !model.in_scope(&f.schema)
            || !is_leakproof(&f.definition)
            || !model.app_has(&f.owner, &f.grants, true, "EXECUTE")
        {
            continue;
        }
        out.push(finding(
            RULE.0,
            format!("function {}", f.signature()),
            format!("user-defined function {} is LEAKPROOF", f.signature()),
            "The planner runs LEAKPROOF functions before the row-level security filter; one that raises or logs its argument shows other tenants' values.",
            format!("ALTER FUNCTION {} NOT LEAKPROOF;", f.signature()),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    const SHOUT: &str =
        "CREATE FUNCTION shout(t text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE LEAKPROOF
        AS $$ BEGIN RAISE NOTICE '%', t; RETURN true; END $$;";

    #[test]
    fn fails() {
        let found = fires(SHOUT, "leakproof-function");
        assert_eq!(
            found[0].object.as_deref(),
            Some("function public.shout(t text)")
        );
    }

    #[test]
    fn passes() {
        // The app role cannot call it.
        silent(
            &format!("{SHOUT}\nREVOKE EXECUTE ON FUNCTION shout(text) FROM PUBLIC;"),
            "leakproof-function",
        );
    }
}
