//! `citus-tenant-type-mismatch`: the distribution column does not have one type across the
//! tables that would be distributed. Colocated tables must share the distribution column's
//! type (rows of one tenant hash to one shard only if the values hash alike).

use std::collections::BTreeMap;

use tenet_catalog::quote;
use tenet_report::{Finding, Severity};

use super::Layout;
use crate::check::{finding, table_object};
use crate::model::Model;

pub const RULE: (&str, Severity, &str) = (
    "citus-tenant-type-mismatch",
    Severity::Error,
    "the distribution column has another type than on the colocation anchor",
);

pub fn check(_model: &Model, layout: &Layout, out: &mut Vec<Finding>) {
    let Some((anchor, anchor_col)) = layout.distributed.first() else {
        return;
    };
    // The type most tables use is the one to keep (ties: the anchor's).
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, c) in &layout.distributed {
        *counts.entry(c.data_type.as_str()).or_default() += 1;
    }
    let anchor_count = counts[anchor_col.data_type.as_str()];
    let (expected, _) = counts
        .iter()
        .map(|(ty, n)| (*ty, *n))
        .filter(|(ty, n)| *n > anchor_count || *ty == anchor_col.data_type)
        .max_by_key(|(_, n)| *n)
        .expect("the anchor's type is counted");
    let anchor_name = anchor.qualified_name();
    for (t, c) in layout
        .distributed
        .iter()
        .filter(|(_, c)| c.data_type != expected)
    {
        let name = t.qualified_name();
        out.push(finding(
            RULE.0,
            table_object(t),
            format!(
                "{name}.{} is {}, but the distribution column is {expected} on most tables (the colocation anchor is {anchor_name})",
                quote::ident(&c.name),
                c.data_type
            ),
            "Citus colocates tables only when their distribution columns have the same type: a tenant's rows in tables of another type land on other shards, and joins and foreign keys between them fail.",
            format!(
                "ALTER TABLE {name} ALTER COLUMN {} TYPE {expected}; (and the columns that reference it)",
                quote::ident(&c.name)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::testing::*;

    const RULE: &str = "citus-tenant-type-mismatch";

    #[test]
    fn fails() {
        let found = citus_fires(
            Base::Direct,
            "CREATE TABLE notes (tenant_id text NOT NULL CHECK (tenant_id <> ''), id bigint, PRIMARY KEY (tenant_id, id));",
            RULE,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].object.as_deref(), Some("table public.notes"));
        assert!(found[0].message.contains("is text"), "{found:?}");
    }

    #[test]
    fn passes() {
        // uuid everywhere (a domain over uuid would count as another type).
        citus_silent(Base::Direct, "", RULE);
    }
}
