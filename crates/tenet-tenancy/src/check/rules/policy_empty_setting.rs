//! `policy-empty-setting`: an empty setting matches rows whose (text) tenant column is empty.

use tenet_report::{Finding, Severity};

use super::{policy_leaks, Info, Subject};
use crate::model::Model;

pub const RULE: Info = (
    "policy-empty-setting",
    Severity::Warning,
    "an empty setting matches rows whose (text) tenant column is empty",
);

const WHY: &str = "Pools and frameworks often reset the setting to an empty string rather than unset it; rows whose tenant is '' then become visible to tenant-less connections.";

pub fn check(model: &Model, s: &Subject, out: &mut Vec<Finding>) {
    policy_leaks(model, s, RULE.0, WHY, out);
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    /// A text tenant column compared with the setting as it is: '' matches ''.
    const NOTES: &str = "CREATE TABLE notes (tenant_id text NOT NULL CHECK (tenant_id <> ''), id bigint, PRIMARY KEY (tenant_id, id));
        ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
        ALTER TABLE notes FORCE ROW LEVEL SECURITY;
        CREATE POLICY tenant_isolation ON notes TO {{app}}
            USING (tenant_id = (SELECT current_setting('app.tenant_id', true)))
            WITH CHECK (tenant_id = (SELECT current_setting('app.tenant_id', true)));
        GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO {{app}};";

    #[test]
    fn fails() {
        let found = fires(NOTES, "policy-empty-setting");
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
        // NULLIF turns the empty setting into NULL, which matches no row.
        silent(
            &NOTES.replace(
                "(SELECT current_setting('app.tenant_id', true))",
                "(SELECT nullif(current_setting('app.tenant_id', true), ''))",
            ),
            "policy-empty-setting",
        );
    }
}
