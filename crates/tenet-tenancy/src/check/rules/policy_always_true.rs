//! `policy-always-true`: a permissive policy for the app role admits every row (USING or WITH CHECK is always true).

use tenet_report::{Finding, Severity};

use super::{policy_leaks, Info, Subject};
use crate::model::Model;

pub const RULE: Info = (
    "policy-always-true",
    Severity::Error,
    "a policy for the app role admits every row",
);

const WHY: &str = "A policy that is always true admits every tenant's rows; permissive policies are OR-ed, so it overrides any policy that does restrict.";

pub fn check(model: &Model, s: &Subject, out: &mut Vec<Finding>) {
    policy_leaks(model, s, RULE.0, WHY, out);
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let found = fires(
            "CREATE POLICY open_door ON tasks TO {{app}} USING (true);",
            "policy-always-true",
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
        silent(
            "CREATE POLICY open_door ON tasks AS RESTRICTIVE TO {{app}} USING (true);",
            "policy-always-true",
        );
    }
}
