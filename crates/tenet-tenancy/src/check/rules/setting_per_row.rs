//! `setting-per-row`: a policy reads the setting for every row instead of once.

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::{Info, Subject, GENERATE};
use crate::check::{finding, per_row_policies, policy_object};
use crate::model::Model;

pub const RULE: Info = (
    "setting-per-row",
    Severity::Warning,
    "a policy reads the setting for every row instead of once",
);

pub fn check(model: &Model, s: &Subject, out: &mut Vec<Finding>) {
    let setting = &model.tenancy.setting;
    let name = &s.name;
    for p in per_row_policies(model, s.t) {
        out.push(finding(
            RULE.0,
            policy_object(s.t, p),
            format!(
                "policy {} on {name} calls current_setting('{setting}') outside a sub-select",
                quote::ident(&p.name)
            ),
            "Outside a sub-select the setting is read and cast for every row scanned; wrapped in (SELECT ...) it becomes an init plan evaluated once, and the comparison can use the tenant index.",
            format!(
                "Wrap the read in a sub-select: {} ; {GENERATE}",
                model.condition(s.t)
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
            "DROP POLICY tenant_isolation ON tasks;\n\
             CREATE POLICY tenant_isolation ON tasks TO {{app}}\n\
             USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)\n\
             WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);",
            "setting-per-row",
        );
        assert_eq!(
            found[0].object.as_deref(),
            Some("policy tenant_isolation on table public.tasks")
        );
    }

    #[test]
    fn passes() {
        // Every clean policy reads the setting in a sub-select.
        silent("", "setting-per-row");
    }
}
