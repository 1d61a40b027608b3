//! `rls-disabled`: row-level security is not enabled on a tenant table.

use tenet_report::{Finding, Severity};

use super::{Info, Subject, GENERATE};
use crate::check::{finding, table_object};
use crate::model::Model;

pub const RULE: Info = (
    "rls-disabled",
    Severity::Error,
    "row-level security is not enabled on a tenant table",
);

pub fn check(_model: &Model, s: &Subject, out: &mut Vec<Finding>) {
    // A child's disabled RLS is part of partition-without-policy.
    if s.child || s.t.rls_enabled {
        return;
    }
    let name = &s.name;
    out.push(finding(
        RULE.0,
        table_object(s.t),
        format!("row-level security is disabled on {name}"),
        "Without row-level security policies are ignored: any query from the app role sees and changes every tenant's rows.",
        format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY; {GENERATE}"),
    ));
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let found = fires(
            "ALTER TABLE tasks DISABLE ROW LEVEL SECURITY;",
            "rls-disabled",
        );
        assert_eq!(found[0].object.as_deref(), Some("table public.tasks"));
    }

    #[test]
    fn passes() {
        silent("", "rls-disabled");
    }
}
