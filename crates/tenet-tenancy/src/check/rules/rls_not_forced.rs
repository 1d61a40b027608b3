//! `rls-not-forced`: row-level security does not apply to the table owner.

use tenet_report::{Finding, Severity};

use super::{Info, Subject, GENERATE};
use crate::check::{finding, table_object};
use crate::model::Model;

pub const RULE: Info = (
    "rls-not-forced",
    Severity::Warning,
    "row-level security does not apply to the table owner",
);

pub fn check(_model: &Model, s: &Subject, out: &mut Vec<Finding>) {
    if !s.t.rls_enabled || s.t.rls_forced {
        return;
    }
    let name = &s.name;
    out.push(finding(
        RULE.0,
        table_object(s.t),
        format!("row-level security on {name} is not forced"),
        "The table owner bypasses policies unless they are forced; an app, job or view running as the owner sees every tenant.",
        format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY; {GENERATE}"),
    ));
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let found = fires(
            "ALTER TABLE tasks NO FORCE ROW LEVEL SECURITY;",
            "rls-not-forced",
        );
        assert_eq!(found[0].object.as_deref(), Some("table public.tasks"));
    }

    #[test]
    fn passes() {
        silent("", "rls-not-forced");
    }
}
