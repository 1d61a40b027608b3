//! `citus-partitioned-reference`: a partitioned table without a tenant column. It would be a
//! reference table, and Citus distributes partitioned tables by hash only: it has no
//! partitioned reference tables.

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::Layout;
use crate::check::{finding, table_object};
use crate::model::Model;

pub const RULE: (&str, Severity, &str) = (
    "citus-partitioned-reference",
    Severity::Error,
    "a partitioned table without a tenant column cannot be a reference table",
);

pub fn check(model: &Model, layout: &Layout, out: &mut Vec<Finding>) {
    let column = &model.tenancy.column;
    for t in layout.reference.iter().filter(|t| t.partition_by.is_some()) {
        let name = t.qualified_name();
        out.push(finding(
            RULE.0,
            table_object(t),
            format!("{name} is partitioned and has no {column} column: Citus cannot make it a reference table"),
            "Citus distributes partitioned tables by hash, never as reference tables: a partitioned table needs the distribution column to go onto the cluster.",
            format!(
                "Add {} to {name} (and its partition key's unique keys) to distribute it, or keep it unpartitioned.",
                quote::ident(column)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    const RULE: &str = "citus-partitioned-reference";

    #[test]
    fn fails() {
        let found = citus_fires(
            Base::Direct,
            "CREATE TABLE audit (at timestamptz NOT NULL, what text) PARTITION BY RANGE (at);",
            RULE,
        );
        assert_eq!(found[0].object.as_deref(), Some("table public.audit"));
    }

    #[test]
    fn passes() {
        // events is partitioned and holds tenant_id: distributed.
        citus_silent(Base::Direct, "", RULE);
    }
}
