//! `policy-fails-open`: a policy that opens up (admits more rows) when the setting is missing or empty.

use tenet_report::{Finding, Severity};

use super::{policy_leaks, Info, Subject};
use crate::model::Model;

pub const RULE: Info = (
    "policy-fails-open",
    Severity::Error,
    "a policy opens up when the setting is missing or empty",
);

const WHY: &str = "A connection that has not set the tenant (a pooled connection, a background job, a bug) must see nothing; this policy shows it more.";

pub fn check(model: &Model, s: &Subject, out: &mut Vec<Finding>) {
    policy_leaks(model, s, RULE.0, WHY, out);
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let found = fires(
            "DROP POLICY tenant_isolation ON projects;\n\
             CREATE POLICY tenant_isolation ON projects TO {{app}}\n\
             USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)\n\
             OR (SELECT current_setting('app.tenant_id', true)) IS NULL);",
            "policy-fails-open",
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
        silent("", "policy-fails-open");
        // Supabase's real auth.uid() (a COALESCE of two claims) is NULL without a token.
        silent_on(Base::Supabase, "", "policy-fails-open");
    }
}
