//! `tenant-index-missing`: no index of a tenant table is led by the tenant column.

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::{Info, Subject, GENERATE};
use crate::check::{finding, has_tenant_index, table_object};
use crate::model::Model;

pub const RULE: Info = (
    "tenant-index-missing",
    Severity::Warning,
    "no index is led by the tenant column",
);

pub fn check(model: &Model, s: &Subject, out: &mut Vec<Finding>) {
    if s.child || s.col.is_none() || has_tenant_index(model, s.t) {
        return;
    }
    let (name, column) = (&s.name, &s.column);
    out.push(finding(
        RULE.0,
        table_object(s.t),
        format!("no index of {name} is led by {column}"),
        "Every query of the app role filters by tenant through the policy; without an index led by the tenant column each one scans the whole table.",
        format!(
            "CREATE INDEX ON {name} ({}); or lead the primary key with it; {GENERATE}",
            quote::ident(column)
        ),
    ));
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    const AUDIT: &str = "CREATE TABLE audit_log (id bigint, tenant_id uuid NOT NULL, message text, PRIMARY KEY (id, tenant_id));
        ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
        ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
        CREATE POLICY tenant_isolation ON audit_log TO {{app}}
            USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
        GRANT SELECT ON audit_log TO {{app}};";

    #[test]
    fn fails() {
        let found = fires(AUDIT, "tenant-index-missing");
        assert_eq!(found[0].object.as_deref(), Some("table public.audit_log"));
    }

    #[test]
    fn passes() {
        silent(
            &format!("{AUDIT}\nCREATE INDEX ON audit_log (tenant_id);"),
            "tenant-index-missing",
        );
    }
}
