//! `policy-permissive-or`: a permissive policy that does not restrict by tenant is OR-ed with one that does, so it alone decides.

use tenet_report::{Finding, Severity};

use super::{policy_leaks, Info, Subject};
use crate::model::Model;

pub const RULE: Info = (
    "policy-permissive-or",
    Severity::Error,
    "a permissive policy that does not restrict is OR-ed with one that does",
);

const WHY: &str = "Permissive policies are combined with OR: one that does not restrict by tenant lets every row through, however strict the others are.";

pub fn check(model: &Model, s: &Subject, out: &mut Vec<Finding>) {
    policy_leaks(model, s, RULE.0, WHY, out);
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let found = fires(
            "CREATE POLICY urgent_for_all ON tasks FOR SELECT TO {{app}} USING (priority >= 1);",
            "policy-permissive-or",
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
        silent("CREATE POLICY urgent_only ON tasks AS RESTRICTIVE FOR SELECT TO {{app}} USING (priority >= 1);", "policy-permissive-or");
    }
}
