//! `citus-reference-candidate` (info): a table in scope without a tenant column, which Citus
//! would hold as a reference table (a full copy on every node).

use tenet_report::{Finding, Severity};

use super::Layout;
use crate::check::{finding, table_object};
use crate::model::Model;

pub const RULE: (&str, Severity, &str) = (
    "citus-reference-candidate",
    Severity::Info,
    "a table without a tenant column: a reference-table candidate",
);

pub fn check(model: &Model, layout: &Layout, out: &mut Vec<Finding>) {
    let column = &model.tenancy.column;
    for t in &layout.reference {
        let name = t.qualified_name();
        let why = if model.is_tenant(t) {
            format!("{name} has no {column} column")
        } else {
            format!("{name} is shared by every tenant ([tenancy] global_tables)")
        };
        out.push(finding(
            RULE.0,
            table_object(t),
            format!("{why}: on Citus it would be a reference table, copied to every node"),
            "Reference tables suit small, shared data that distributed tables join with or reference; a large or tenant-owned table among them is worth a tenant column instead.",
            format!("SELECT create_reference_table('{name}'); (`tenet tenancy generate --citus` writes it)"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    const RULE: &str = "citus-reference-candidate";

    #[test]
    fn fails() {
        let found = citus_fires(Base::Direct, "", RULE);
        let objects: Vec<_> = found.iter().filter_map(|f| f.object.as_deref()).collect();
        assert_eq!(objects, ["table public.plans", "table public.tenants"]);
    }

    #[test]
    fn passes() {
        // Supabase: every public table holds user_id; auth.* is managed and stays local.
        citus_silent(Base::Supabase, "", RULE);
    }
}
