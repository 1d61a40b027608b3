//! `policy-missing`: no policy lets the app role run a command it is granted.

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::{Info, Subject, GENERATE};
use crate::check::{finding, has_app_policy, missing_commands, table_object};
use crate::model::Model;

pub const RULE: Info = (
    "policy-missing",
    Severity::Warning,
    "no policy lets the app role run a command it is granted",
);

pub fn check(model: &Model, s: &Subject, out: &mut Vec<Finding>) {
    // A child's missing policies are part of partition-without-policy.
    if s.child {
        return;
    }
    let t = s.t;
    let app = &model.tenancy.app_role;
    let name = &s.name;
    let missing = missing_commands(model, t);
    let none = !has_app_policy(model, t);
    if missing.is_empty() && !none {
        return;
    }
    out.push(finding(
        RULE.0,
        table_object(t),
        if missing.is_empty() {
            format!("no policy for {app} on {name}")
        } else {
            format!("no policy lets {app} {} rows of {name}", missing.join(", "))
        },
        "Every tenant table needs a policy for the app role: without one, once row-level security is on (and the app is granted the table), its queries silently see or change nothing, which invites someone to add a policy that admits everything.",
        format!(
            "CREATE POLICY tenant_isolation ON {name} FOR ALL TO {} USING ({cond}) WITH CHECK ({cond}); {GENERATE}",
            quote::ident(app),
            cond = model.condition(t)
        ),
    ));
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let found = fires(
            "DROP POLICY tenant_isolation ON comments;\n\
             CREATE POLICY read_own ON comments FOR SELECT TO {{app}}\n\
             USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));",
            "policy-missing",
        );
        assert!(
            found[0]
                .message
                .contains("insert, update, delete rows of public.comments"),
            "{found:?}"
        );
    }

    #[test]
    fn passes() {
        // Read-only to the app role: a SELECT policy is all it needs.
        silent(
            "DROP POLICY tenant_isolation ON comments;\n\
             CREATE POLICY read_own ON comments FOR SELECT TO {{app}}\n\
             USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));\n\
             REVOKE INSERT, UPDATE, DELETE ON comments FROM {{app}};",
            "policy-missing",
        );
    }
}
