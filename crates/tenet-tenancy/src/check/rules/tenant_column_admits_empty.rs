//! `tenant-column-admits-empty`: a text tenant column without a CHECK that keeps '' out.

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::{reached_tables, Info};
use crate::check::reach::checks_column;
use crate::check::{finding, table_object};
use crate::model::{is_text_type, Model};

pub const RULE: Info = (
    "tenant-column-admits-empty",
    Severity::Warning,
    "a text tenant column admits ''",
);

pub fn check(model: &Model, out: &mut Vec<Finding>) {
    for t in reached_tables(model).filter(|t| model.is_tenant(t) && !model.is_root(t)) {
        let Some(col) = model.tenant_column(t) else {
            continue;
        };
        if !is_text_type(&col.data_type) || checks_column(t, &col.name) {
            continue;
        }
        let name = t.qualified_name();
        out.push(finding(
            RULE.0,
            table_object(t),
            format!("{name}.{} is text and admits ''", quote::ident(&col.name)),
            "A job or connection that writes with an empty setting stores rows whose tenant is ''; every other tenant-less connection then reads them back.",
            format!(
                "ALTER TABLE {name} ADD CHECK ({} <> '');",
                quote::ident(&col.name)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    const NOTES: &str =
        "CREATE TABLE notes (tenant_id text NOT NULL, id bigint, PRIMARY KEY (tenant_id, id));";

    #[test]
    fn fails() {
        let found = fires(NOTES, "tenant-column-admits-empty");
        assert_eq!(found[0].object.as_deref(), Some("table public.notes"));
    }

    #[test]
    fn passes() {
        silent(
            &format!("{NOTES}\nALTER TABLE notes ADD CHECK (tenant_id <> '');"),
            "tenant-column-admits-empty",
        );
    }
}
