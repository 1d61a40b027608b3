//! `citus-fk-without-tenant`: a foreign key of a table that would be distributed that Citus
//! cannot keep: between distributed tables without the distribution column on both sides,
//! or to a table that stays local (an excluded schema).

use tenet_catalog::{quote, ConstraintKind};
use tenet_report::{Finding, Severity};

use super::Layout;
use crate::check::{constraint_object, finding};
use crate::model::Model;

pub const RULE: (&str, Severity, &str) = (
    "citus-fk-without-tenant",
    Severity::Error,
    "a foreign key between distributed tables does not include the distribution column",
);

pub fn check(model: &Model, layout: &Layout, out: &mut Vec<Finding>) {
    for (t, col) in &layout.distributed {
        let name = t.qualified_name();
        for fk in t
            .constraints
            .iter()
            .filter(|c| c.kind == ConstraintKind::ForeignKey)
        {
            let Some(r) = &fk.references else { continue };
            if layout.is_reference(&r.table) {
                continue; // Distributed to reference: supported.
            }
            let what = match layout.column_of(&r.table) {
                Some(target_col) => {
                    let paired = fk
                        .columns
                        .iter()
                        .zip(&r.columns)
                        .any(|(a, b)| *a == col.name && *b == target_col.name);
                    if paired {
                        continue;
                    }
                    format!(
                        "does not carry {} to {} ({})",
                        quote::ident(&col.name),
                        r.table,
                        quote::ident(&target_col.name)
                    )
                }
                None if model.in_scope(&r.table.schema) => continue,
                None => format!(
                    "references {}, which stays a local table (schema {} is excluded)",
                    r.table,
                    quote::ident(&r.table.schema)
                ),
            };
            out.push(finding(
                RULE.0,
                constraint_object(t, &fk.name),
                format!(
                    "foreign key {} from {name} ({}) to {} ({}) {what}",
                    quote::ident(&fk.name),
                    fk.columns.join(", "),
                    r.table,
                    r.columns.join(", ")
                ),
                "Citus enforces a foreign key between distributed tables inside one shard: both sides must be colocated and the key must pair the distribution columns. A distributed table cannot reference a local table at all.",
                format!(
                    "FOREIGN KEY ({c}, {}) REFERENCES {} ({c}, ...) (`tenet tenancy generate` writes it for tenant tables), or make the referenced table a reference table.",
                    fk.columns.join(", "),
                    r.table,
                    c = quote::ident(&col.name)
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    const RULE: &str = "citus-fk-without-tenant";

    #[test]
    fn fails() {
        let found = citus_fires(
            Base::Direct,
            "ALTER TABLE tasks ADD CONSTRAINT tasks_id_key UNIQUE (id);\n\
             ALTER TABLE comments DROP CONSTRAINT comments_tenant_id_task_id_fkey;\n\
             ALTER TABLE comments ADD CONSTRAINT comments_task_fkey FOREIGN KEY (task_id) REFERENCES tasks (id);",
            RULE,
        );
        assert_eq!(
            found[0].object.as_deref(),
            Some("constraint comments_task_fkey on table public.comments")
        );
    }

    #[test]
    fn fails_on_a_reference_to_a_managed_schema() {
        // Supabase: auth is managed (excluded), so auth.users stays local to the coordinator.
        let found = citus_fires(Base::Supabase, "", RULE);
        assert!(
            found.iter().any(|f| f
                .message
                .contains("references auth.users, which stays a local table")),
            "{found:?}"
        );
    }

    #[test]
    fn passes() {
        // (tenant_id, ...) -> (tenant_id, ...) between tenant tables, tenant_id -> tenants (a
        // reference table).
        citus_silent(Base::Direct, "", RULE);
    }
}
