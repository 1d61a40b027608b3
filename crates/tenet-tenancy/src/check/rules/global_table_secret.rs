//! `global-table-secret`: the app role can read a global table with a column that looks like
//! a secret (every tenant reads every row of a global table).

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::{reached_tables, Info};
use crate::check::reach::readable_secrets;
use crate::check::{finding, table_object};
use crate::model::Model;

pub const RULE: Info = (
    "global-table-secret",
    Severity::Error,
    "the app role can read a global table with a column that looks like a secret",
);

pub fn check(model: &Model, out: &mut Vec<Finding>) {
    let app = &model.tenancy.app_role;
    for t in reached_tables(model).filter(|t| !model.is_tenant(t)) {
        let secrets = readable_secrets(model, t);
        if secrets.is_empty() {
            continue;
        }
        let name = t.qualified_name();
        out.push(finding(
            RULE.0,
            table_object(t),
            format!(
                "{app} can read global table {name}, whose {} looks like a secret",
                secrets.join(", ")
            ),
            "Every tenant reads every row of a global table: a column of keys, tokens or password hashes there is readable by all of them.",
            if model.app_has(&t.owner, &t.grants, false, "SELECT") {
                format!(
                    "REVOKE SELECT ON {name} FROM {app}; GRANT SELECT (<the other columns>) ON {name} TO {app}; or move the secret to a table the app role cannot read.",
                    app = quote::ident(app)
                )
            } else {
                let columns: Vec<String> = secrets.iter().map(|c| quote::ident(c)).collect();
                format!(
                    "REVOKE SELECT ({}) ON {name} FROM {};",
                    columns.join(", "),
                    quote::ident(app)
                )
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    const API_KEY: &str = "ALTER TABLE tenants ADD COLUMN api_key text;";

    #[test]
    fn fails() {
        let found = fires(API_KEY, "global-table-secret");
        assert!(found[0].message.contains("api_key"), "{found:?}");
    }

    #[test]
    fn passes() {
        // The app role reads the other columns only.
        silent(
            &format!(
                "{API_KEY}\nREVOKE SELECT ON tenants FROM {{{{app}}}};\nGRANT SELECT (id, name, plan_id) ON tenants TO {{{{app}}}};"
            ),
            "global-table-secret",
        );
    }
}
