//! The tenancy rules, one file per rule: each holds the rule (its id, severity, summary and
//! how it finds what it reports) and, beside it, a failing and a passing case.
//!
//! Table rules judge one tenant table at a time ([`Subject`]); catalog rules walk what they
//! are about themselves (roles, views, functions, global tables, tables without a tenant
//! column).

use tenet_catalog::{Column, QualifiedName, Role, Table};
use tenet_report::{Finding, Severity};

use super::{child_reachable, leaks, Leak};
use crate::model::Model;

pub mod app_role_bypassrls;
pub mod app_role_member;
pub mod app_role_missing;
pub mod app_role_owner;
pub mod app_role_superuser;
pub mod fk_without_tenant;
pub mod global_table_secret;
pub mod global_table_writable;
pub mod key_without_tenant;
pub mod leakproof_function;
pub mod matview_over_tenant;
pub mod membership_writable;
pub mod partition_without_policy;
pub mod policy_always_true;
pub mod policy_empty_setting;
pub mod policy_fails_open;
pub mod policy_missing;
pub mod policy_not_restricting;
pub mod policy_permissive_or;
pub mod privilege_beyond_rls;
pub mod rls_disabled;
pub mod rls_not_forced;
pub mod security_definer_function;
pub mod setting_per_row;
pub mod tenant_column_admits_empty;
pub mod tenant_column_missing;
pub mod tenant_column_nullable;
pub mod tenant_index_missing;
pub mod view_not_security_invoker;

#[cfg(test)]
pub(crate) mod testing;

/// A rule's id, severity and one-line summary.
pub type Info = (&'static str, Severity, &'static str);

/// A tenant table the table rules judge: reachable by the app role (a child only when it can
/// be queried directly) and holding its tenant, in a column or through a foreign key.
pub struct Subject<'a> {
    pub t: &'a Table,
    pub name: QualifiedName,
    /// A partition or inheritance child.
    pub child: bool,
    /// Its own tenant column (none for a table that reaches its tenant through a link).
    pub col: Option<&'a Column>,
    /// The column that holds the tenant: the tenant column, or the link's column.
    pub column: String,
    /// Its permissive policies that let other tenants' rows through (computed once).
    pub leaks: Vec<Leak<'a>>,
}

/// Whether the table rules judge `t` at all: a child reached only through its parent is
/// covered by the parent's policies.
pub fn judged(model: &Model, t: &Table) -> bool {
    !Model::is_child(t) || child_reachable(model, t)
}

fn subjects<'a>(model: &Model<'a>) -> Vec<Subject<'a>> {
    model
        .tenant_tables()
        .filter(|t| judged(model, t))
        .filter_map(|t| {
            let col = model.tenant_column(t);
            let column = match (col, model.link(t)) {
                (Some(c), _) => c.name.clone(),
                (None, Some(l)) => l.column.clone(),
                (None, None) => return None,
            };
            Some(Subject {
                t,
                name: t.qualified_name(),
                child: Model::is_child(t),
                col,
                column,
                leaks: leaks(model, t),
            })
        })
        .collect()
}

type TableRule = fn(&Model, &Subject, &mut Vec<Finding>);
type CatalogRule = fn(&Model, &mut Vec<Finding>);

const TABLE_RULES: &[TableRule] = &[
    tenant_column_nullable::check,
    partition_without_policy::check,
    rls_disabled::check,
    rls_not_forced::check,
    policy_missing::check,
    policy_always_true::check,
    policy_permissive_or::check,
    policy_fails_open::check,
    policy_empty_setting::check,
    policy_not_restricting::check,
    setting_per_row::check,
    key_without_tenant::check,
    fk_without_tenant::check,
    tenant_index_missing::check,
];

const CATALOG_RULES: &[CatalogRule] = &[
    tenant_column_missing::check,
    app_role_missing::check,
    app_role_superuser::check,
    app_role_bypassrls::check,
    app_role_owner::check,
    app_role_member::check,
    privilege_beyond_rls::check,
    membership_writable::check,
    tenant_column_admits_empty::check,
    global_table_writable::check,
    global_table_secret::check,
    leakproof_function::check,
    view_not_security_invoker::check,
    matview_over_tenant::check,
    security_definer_function::check,
];

/// Every rule, in the order `--help` and SARIF list them.
pub const ALL: &[Info] = &[
    tenant_column_missing::RULE,
    tenant_column_nullable::RULE,
    rls_disabled::RULE,
    rls_not_forced::RULE,
    policy_missing::RULE,
    policy_always_true::RULE,
    policy_permissive_or::RULE,
    policy_fails_open::RULE,
    policy_empty_setting::RULE,
    policy_not_restricting::RULE,
    setting_per_row::RULE,
    key_without_tenant::RULE,
    fk_without_tenant::RULE,
    tenant_index_missing::RULE,
    app_role_missing::RULE,
    app_role_superuser::RULE,
    app_role_bypassrls::RULE,
    app_role_owner::RULE,
    app_role_member::RULE,
    view_not_security_invoker::RULE,
    matview_over_tenant::RULE,
    security_definer_function::RULE,
    partition_without_policy::RULE,
    privilege_beyond_rls::RULE,
    membership_writable::RULE,
    global_table_writable::RULE,
    global_table_secret::RULE,
    leakproof_function::RULE,
    tenant_column_admits_empty::RULE,
];

/// Every finding of every rule for the app role, unsorted.
pub fn run(model: &Model) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in subjects(model) {
        for rule in TABLE_RULES {
            rule(model, &s, &mut out);
        }
    }
    for rule in CATALOG_RULES {
        rule(model, &mut out);
    }
    out
}

/// The app role as the catalog knows it (the role rules say nothing more when it is missing).
pub fn app_role<'a>(model: &Model<'a>) -> Option<&'a Role> {
    let app = &model.tenancy.app_role;
    model.catalog.roles.iter().find(|r| &r.name == app)
}

/// `role "app"`, the object of the role rules.
pub fn role_object(model: &Model) -> String {
    format!(
        "role {}",
        tenet_catalog::quote::ident(&model.tenancy.app_role)
    )
}

/// Tables in scope the app role can reach (a child only when it can query it directly).
pub fn reached_tables<'a>(model: &'a Model) -> impl Iterator<Item = &'a Table> + 'a {
    model
        .catalog
        .tables
        .iter()
        .filter(|t| model.in_scope(&t.schema) && judged(model, t))
}

/// The hint every fixable finding ends with.
pub const GENERATE: &str = "or run `tenet tenancy generate`";

/// The findings of one policy rule (`policy-always-true`, ...): the subject's leaks that the
/// policy analysis classed under `rule`, with the rule's reason.
pub fn policy_leaks(model: &Model, s: &Subject, rule: &str, why: &str, out: &mut Vec<Finding>) {
    let app = &model.tenancy.app_role;
    let name = &s.name;
    for leak in s.leaks.iter().filter(|l| l.rule == rule) {
        let policy = tenet_catalog::quote::ident(&leak.policy.name);
        out.push(super::finding(
            leak.rule,
            super::policy_object(s.t, leak.policy),
            format!(
                "{} (on {})",
                leak.message.replacen(
                    &format!("policy {policy} "),
                    &format!("policy {policy} on {name} "),
                    1
                ),
                leak.commands.join(", ")
            ),
            why,
            format!(
                "Compare {} with the setting and nothing else that can widen it: {}; or add a RESTRICTIVE policy for {} with that condition; {GENERATE}",
                tenet_catalog::quote::ident(&s.column),
                model.condition(s.t),
                tenet_catalog::quote::ident(app)
            ),
        ));
    }
}
