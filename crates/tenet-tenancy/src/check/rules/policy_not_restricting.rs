//! `policy-not-restricting`: a policy that does not compare the tenant column with the setting on every path.

use tenet_report::{Finding, Severity};

use super::{policy_leaks, Info, Subject};
use crate::model::Model;

pub const RULE: Info = (
    "policy-not-restricting",
    Severity::Error,
    "a policy does not compare the tenant column with the setting",
);

const WHY: &str = "A policy that does not compare the tenant column with the current tenant lets the app role reach other tenants' rows.";

pub fn check(model: &Model, s: &Subject, out: &mut Vec<Finding>) {
    policy_leaks(model, s, RULE.0, WHY, out);
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let found = fires(
            "DROP POLICY tenant_isolation ON comments;\n\
             CREATE POLICY tenant_isolation ON comments TO {{app}} USING (tenant_id IS NOT NULL)\n\
             WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));",
            "policy-not-restricting",
        );
        assert!(
            found[0]
                .object
                .as_deref()
                .unwrap_or("")
                .starts_with("policy "),
            "{found:?}"
        );
    }

    #[test]
    fn passes() {
        silent("", "policy-not-restricting");
    }
}
