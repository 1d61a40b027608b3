//! `citus-reference-to-distributed`: a table without a tenant column (a reference table on
//! Citus) has a foreign key to a table that would be distributed. A reference table is copied
//! to every node, and a foreign key from it to one shard's rows cannot be enforced.

use tenet_catalog::{quote, ConstraintKind};
use tenet_report::{Finding, Severity};

use super::Layout;
use crate::check::{constraint_object, finding};
use crate::model::Model;

pub const RULE: (&str, Severity, &str) = (
    "citus-reference-to-distributed",
    Severity::Error,
    "a table without a tenant column (a reference table) references a distributed table",
);

pub fn check(model: &Model, layout: &Layout, out: &mut Vec<Finding>) {
    let column = &model.tenancy.column;
    for t in &layout.reference {
        let name = t.qualified_name();
        // A partition's own foreign keys count as its parent's (pg_dump declares them there).
        let partitions = model
            .catalog
            .tables
            .iter()
            .filter(|p| p.partition_of.as_ref().is_some_and(|o| o.parent == name));
        for (t, fk) in std::iter::once(*t)
            .chain(partitions)
            .flat_map(|t| t.constraints.iter().map(move |c| (t, c)))
            .filter(|(_, c)| c.kind == ConstraintKind::ForeignKey)
        {
            let name = t.qualified_name();
            let Some(r) = fk
                .references
                .as_ref()
                .filter(|r| layout.is_distributed(&r.table))
            else {
                continue;
            };
            out.push(finding(
                RULE.0,
                constraint_object(t, &fk.name),
                format!(
                    "foreign key {} from {name} ({}), which has no {column} column and would be a reference table, to {} ({}), which would be distributed",
                    quote::ident(&fk.name),
                    fk.columns.join(", "),
                    r.table,
                    r.columns.join(", ")
                ),
                "Citus supports foreign keys from distributed tables to reference tables, never the other way: a reference table is copied to every node, while the rows it points at live on one shard.",
                format!(
                    "Give {name} a {} column and distribute it with the rest (its foreign key then carries the column), or drop the foreign key.",
                    quote::ident(column)
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    const RULE: &str = "citus-reference-to-distributed";

    #[test]
    fn fails() {
        let found = citus_fires(
            Base::Direct,
            "CREATE TABLE stars (id bigint PRIMARY KEY, tenant uuid NOT NULL, project_id bigint NOT NULL,\n\
                 FOREIGN KEY (tenant, project_id) REFERENCES projects (tenant_id, id));",
            RULE,
        );
        assert!(found[0].message.contains("to public.projects"), "{found:?}");
    }

    #[test]
    fn passes() {
        // tenants references plans: reference to reference.
        citus_silent(Base::Direct, "", RULE);
    }
}
