//! `tenet tenancy check`: the catalog rules of tenant isolation.
//!
//! Every rule, one file each under [`rules`], names the object it is about (table, policy,
//! constraint, view, function, role), says why it matters and how to fix it. The analyses the
//! rules share ([`policies`], [`keys`], [`reach`]) are shared with [`crate::generate`], which
//! writes the SQL that makes the fixable findings go away, and with [`crate::prove`].

use tenet_catalog::{quote, Policy, Table};
use tenet_report::{Finding, Severity};

use crate::model::Model;

pub mod citus;
mod keys;
mod policies;
pub mod reach;
pub mod rules;

pub use keys::*;
pub use policies::*;

/// Every rule, with its severity and a one-line summary (for documentation and `--help`).
pub const RULES: &[(&str, Severity, &str)] = rules::ALL;

fn severity(rule: &str) -> Severity {
    RULES
        .iter()
        .chain(citus::RULES)
        .find(|(id, ..)| *id == rule)
        .map(|(_, s, _)| *s)
        .unwrap_or(Severity::Error)
}

fn finding(rule: &str, object: String, message: String, why: &str, fix: String) -> Finding {
    Finding {
        rule: rule.to_string(),
        severity: severity(rule),
        object: Some(object),
        message,
        why: why.to_string(),
        fix,
        location: None,
    }
}

pub fn table_object(t: &Table) -> String {
    format!("table {}", t.qualified_name())
}

fn policy_object(t: &Table, p: &Policy) -> String {
    format!(
        "policy {} on table {}",
        quote::ident(&p.name),
        t.qualified_name()
    )
}

fn constraint_object(t: &Table, c: &str) -> String {
    format!(
        "constraint {} on table {}",
        quote::ident(c),
        t.qualified_name()
    )
}

/// Whether a partition or child table can be queried directly by the app role.
pub fn child_reachable(model: &Model, t: &Table) -> bool {
    Model::is_child(t) && model.app_reaches(&t.owner, &t.grants)
}

/// Every finding for this catalog, most severe first, then by object: for the app role, and
/// for the anonymous role when there is one.
pub fn check(model: &Model) -> Vec<Finding> {
    let mut out = check_app(model);
    out.extend(anon_findings(model, &out));
    out.sort_by_key(|f| f.severity);
    out
}

/// Rules that do not apply to the anonymous role: it needs no policy, since it must see no
/// tenant rows (a table it has no policy on fails closed).
const NOT_FOR_ANON: [&str; 3] = [
    "policy-missing",
    "partition-without-policy",
    "app-role-missing",
];

/// What the anonymous role (Supabase's `anon`) reaches, judged like the app role, leaving out
/// what `app_findings` already says.
pub fn anon_findings(model: &Model, app_findings: &[Finding]) -> Vec<Finding> {
    let Some(anon) = model.tenancy.judged_anon_role() else {
        return Vec::new();
    };
    let tenancy = tenet_config::Tenancy {
        app_role: anon.to_string(),
        anon_role: String::new(),
        ..model.tenancy.clone()
    };
    check_app(&Model::new(model.catalog, &tenancy))
        .into_iter()
        .filter(|f| !NOT_FOR_ANON.contains(&f.rule.as_str()) && !app_findings.contains(f))
        .map(|mut f| {
            // Rule texts say "the app role": name the role this one is about.
            if !f.message.contains(anon) {
                f.message = format!("{} (for {anon})", f.message);
            }
            f
        })
        .collect()
}

/// Every finding for the app role, most severe first, then by object.
pub fn check_app(model: &Model) -> Vec<Finding> {
    let mut out = rules::run(model);
    tenet_report::sort(&mut out);
    out.sort_by_key(|f| f.severity);
    out
}
