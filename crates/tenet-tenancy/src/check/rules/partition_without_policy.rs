//! `partition-without-policy`: a partition or inheritance child the app role can query
//! directly has no policies of its own (policies are not inherited).

use tenet_report::{Finding, Severity};

use super::{Info, Subject, GENERATE};
use crate::check::{finding, has_app_policy, missing_commands, table_object};
use crate::model::Model;

pub const RULE: Info = (
    "partition-without-policy",
    Severity::Error,
    "a partition or child table the app role can query directly has no policies of its own",
);

pub fn check(model: &Model, s: &Subject, out: &mut Vec<Finding>) {
    if !s.child {
        return;
    }
    let t = s.t;
    let app = &model.tenancy.app_role;
    let missing = missing_commands(model, t);
    if t.rls_enabled && missing.is_empty() && has_app_policy(model, t) {
        return;
    }
    let parent = t
        .partition_of
        .as_ref()
        .map(|p| p.parent.clone())
        .or_else(|| t.inherits.first().cloned())
        .expect("a child has a parent");
    let what = if !t.rls_enabled {
        "has row-level security disabled".to_string()
    } else if missing.is_empty() {
        format!("has no policy for {app}")
    } else {
        format!("has no policy for {app} on {}", missing.join(", "))
    };
    let name = &s.name;
    out.push(finding(
        RULE.0,
        table_object(t),
        format!("{name}, a child of {parent} that {app} can query directly, {what}"),
        "Policies are not inherited: querying a partition or child table directly applies only its own row-level security, so the parent's policies are bypassed.",
        format!(
            "ALTER TABLE {name} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY, and give it the parent's tenant policy, or REVOKE the app role's privileges on it; {GENERATE}"
        ),
    ));
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    #[test]
    fn fails() {
        let found = fires(
            "GRANT SELECT ON events_current TO {{app}};",
            "partition-without-policy",
        );
        assert_eq!(
            found[0].object.as_deref(),
            Some("table public.events_current")
        );
    }

    #[test]
    fn passes() {
        // Reached only through events, whose policy applies.
        silent("", "partition-without-policy");
    }
}
