//! `tenet tenancy check --citus`: what stops the schema from being distributed by tenant
//! with Citus, one rule per file.
//!
//! The layout Tenet proposes ([`Layout`]): every table that holds its tenant in a column is
//! distributed by that column (a tenant root, the table the tenant column points at, by the
//! key it points at), all colocated with one anchor; every other table in scope (global
//! tables, tables without a tenant column) is a reference table, copied to every node.
//! Tables in excluded schemas (Supabase's managed schemas) stay local to the coordinator.
//! Partitions follow their parent; inheritance children are left out (Citus has none).

use std::collections::{BTreeMap, BTreeSet};

use tenet_catalog::{Column, ConstraintKind, QualifiedName, Table};
use tenet_report::{Finding, Severity};

use crate::model::Model;

pub mod fk_without_tenant;
pub mod key_without_tenant;
pub mod partitioned_reference;
pub mod reference_candidate;
pub mod reference_to_distributed;
pub mod tenant_type_mismatch;

/// Every Citus rule: id, severity, summary.
pub const RULES: &[(&str, Severity, &str)] = &[
    key_without_tenant::RULE,
    fk_without_tenant::RULE,
    reference_to_distributed::RULE,
    partitioned_reference::RULE,
    tenant_type_mismatch::RULE,
    reference_candidate::RULE,
];

/// How the tables would be laid out on a Citus cluster, in an order the calls can run in:
/// a table comes after every table its foreign keys reference.
pub struct Layout<'a> {
    /// Reference tables.
    pub reference: Vec<&'a Table>,
    /// Distributed tables with their distribution column; the first is the colocation anchor.
    pub distributed: Vec<(&'a Table, &'a Column)>,
}

impl<'a> Layout<'a> {
    pub fn new(model: &Model<'a>) -> Layout<'a> {
        let tables: Vec<&'a Table> = model
            .catalog
            .tables
            .iter()
            .filter(|t| model.in_scope(&t.schema) && !Model::is_child(t))
            .collect();
        let (mut distributed, mut reference): (Vec<&Table>, Vec<&Table>) = tables
            .into_iter()
            .partition(|t| distribution_column(model, t).is_some());
        // Tenant roots first: the anchor is the table whose rows are the tenants.
        distributed.sort_by_key(|t| (!model.is_root(t), t.qualified_name()));
        reference.sort_by_key(|t| t.qualified_name());
        Layout {
            reference: dependency_order(reference),
            distributed: dependency_order(distributed)
                .into_iter()
                .map(|t| (t, distribution_column(model, t).expect("partitioned on it")))
                .collect(),
        }
    }

    pub fn is_distributed(&self, name: &QualifiedName) -> bool {
        self.distributed
            .iter()
            .any(|(t, _)| &t.qualified_name() == name)
    }

    pub fn is_reference(&self, name: &QualifiedName) -> bool {
        self.reference.iter().any(|t| &t.qualified_name() == name)
    }

    /// The distribution column of a distributed table.
    pub fn column_of(&self, name: &QualifiedName) -> Option<&'a Column> {
        self.distributed
            .iter()
            .find(|(t, _)| &t.qualified_name() == name)
            .map(|(_, c)| *c)
    }
}

/// The column a tenant table is distributed by: its tenant column, or a root's key.
pub fn distribution_column<'t>(model: &Model, t: &'t Table) -> Option<&'t Column> {
    if !model.is_tenant(t) {
        return None;
    }
    model.tenant_column(t)
}

/// `tables` reordered so that every table follows those its foreign keys reference (within
/// the list), keeping the given order otherwise; tables on a cycle keep their order.
fn dependency_order(tables: Vec<&Table>) -> Vec<&Table> {
    let names: BTreeSet<QualifiedName> = tables.iter().map(|t| t.qualified_name()).collect();
    let deps: BTreeMap<QualifiedName, BTreeSet<QualifiedName>> = tables
        .iter()
        .map(|t| {
            let own = t.qualified_name();
            let refs = t
                .constraints
                .iter()
                .filter(|c| c.kind == ConstraintKind::ForeignKey)
                .filter_map(|c| c.references.as_ref().map(|r| r.table.clone()))
                .filter(|r| *r != own && names.contains(r))
                .collect();
            (own, refs)
        })
        .collect();
    let mut placed: BTreeSet<QualifiedName> = BTreeSet::new();
    let mut out = Vec::with_capacity(tables.len());
    let mut left = tables;
    while !left.is_empty() {
        let ready = left
            .iter()
            .position(|t| deps[&t.qualified_name()].is_subset(&placed))
            .unwrap_or(0);
        let t = left.remove(ready);
        placed.insert(t.qualified_name());
        out.push(t);
    }
    out
}

/// Every Citus finding, most severe first, then by object.
pub fn check(model: &Model) -> Vec<Finding> {
    let layout = Layout::new(model);
    let mut out = Vec::new();
    key_without_tenant::check(model, &layout, &mut out);
    fk_without_tenant::check(model, &layout, &mut out);
    reference_to_distributed::check(model, &layout, &mut out);
    partitioned_reference::check(model, &layout, &mut out);
    tenant_type_mismatch::check(model, &layout, &mut out);
    reference_candidate::check(model, &layout, &mut out);
    tenet_report::sort(&mut out);
    out.sort_by_key(|f| f.severity);
    out
}
