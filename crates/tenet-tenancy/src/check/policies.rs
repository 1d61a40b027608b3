//! Policy analysis shared by the policy rules, `generate` and `prove`: which permissive
//! policies let other tenants' rows through (and why), which read the setting per row, which
//! commands no policy admits.

use tenet_catalog::{quote, Policy, Table};

use crate::expr::{self, Analysis, Reason, Verdict};
use crate::model::{Model, COMMANDS};

/// Which clause of a policy an analysis is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Clause {
    Using,
    WithCheck,
}

impl Clause {
    pub fn sql(self) -> &'static str {
        match self {
            Clause::Using => "USING",
            Clause::WithCheck => "WITH CHECK",
        }
    }
}

/// A permissive policy for the app role that lets rows of other tenants through one clause, on
/// the listed commands (no restrictive policy closes the gap).
#[derive(Debug, Clone)]
pub struct Leak<'a> {
    pub policy: &'a Policy,
    pub clause: Clause,
    pub commands: Vec<&'static str>,
    pub rule: &'static str,
    pub message: String,
}

/// The expression PostgreSQL applies for a clause of a policy: `WITH CHECK` falls back to
/// `USING` when absent.
pub fn clause_expr(p: &Policy, clause: Clause) -> Option<&str> {
    match clause {
        Clause::Using => p.using.as_deref(),
        Clause::WithCheck => p.with_check.as_deref().or(p.using.as_deref()),
    }
}

fn clauses_of(command: &str) -> &'static [Clause] {
    match command {
        "select" | "delete" => &[Clause::Using],
        "insert" => &[Clause::WithCheck],
        _ => &[Clause::Using, Clause::WithCheck],
    }
}

/// Permissive policies that do not isolate tenants, per clause, with the commands affected.
pub fn leaks<'t>(model: &Model, t: &'t Table) -> Vec<Leak<'t>> {
    let ctx = model.expr_context(t);
    let mut out: Vec<Leak<'t>> = Vec::new();
    for command in COMMANDS {
        let policies = model.app_policies(t, command);
        for &clause in clauses_of(command) {
            let analyses: Vec<(&Policy, Analysis)> = policies
                .iter()
                .map(|p| (*p, expr::analyze(clause_expr(p, clause), &ctx)))
                .collect();
            // A restrictive policy that restricts closes every permissive gap (AND).
            let guard = analyses
                .iter()
                .filter(|(p, _)| !p.permissive)
                .find_map(|(p, a)| match (clause_expr(p, clause), &a.verdict) {
                    (Some(_), Verdict::Restricts { empty_guarded }) => Some(*empty_guarded),
                    _ => None,
                });
            if guard == Some(true) {
                continue;
            }
            let permissive: Vec<&(&Policy, Analysis)> =
                analyses.iter().filter(|(p, _)| p.permissive).collect();
            let restricting: Vec<&str> = permissive
                .iter()
                .filter(|(_, a)| a.verdict.restricts())
                .map(|(p, _)| p.name.as_str())
                .collect();
            for (p, a) in &permissive {
                let or_note = {
                    let others: Vec<String> = restricting
                        .iter()
                        .filter(|n| **n != p.name)
                        .map(|n| quote::ident(n))
                        .collect();
                    if others.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; PostgreSQL ORs it with {} {}, so this policy alone decides",
                            if others.len() == 1 {
                                "policy"
                            } else {
                                "policies"
                            },
                            others.join(", ")
                        )
                    }
                };
                let column = &ctx.column;
                let setting = &model.tenancy.setting;
                let (rule, message) = match &a.verdict {
                    Verdict::Restricts { empty_guarded: true } => continue,
                    Verdict::Restricts { empty_guarded: false } => (
                        "policy-empty-setting",
                        format!(
                            "{} of policy {} matches rows whose {column} is '' when {setting} is set to an empty string",
                            clause.sql(),
                            quote::ident(&p.name)
                        ),
                    ),
                    Verdict::NotRestricting(_) if guard.is_some() => (
                        // A restrictive policy guards the command, but lets '' match ''.
                        "policy-empty-setting",
                        format!(
                            "{} of policy {} does not restrict, and the restrictive policy that does matches rows whose {column} is '' when {setting} is empty",
                            clause.sql(),
                            quote::ident(&p.name)
                        ),
                    ),
                    Verdict::NotRestricting(Reason::AlwaysTrue) => (
                        "policy-always-true",
                        format!(
                            "{} of policy {} is always true: the app role reaches every tenant's rows{or_note}",
                            clause.sql(),
                            quote::ident(&p.name)
                        ),
                    ),
                    Verdict::NotRestricting(Reason::FailsOpen) => (
                        "policy-fails-open",
                        format!(
                            "{} of policy {} opens up when {setting} is missing or empty{or_note}",
                            clause.sql(),
                            quote::ident(&p.name)
                        ),
                    ),
                    Verdict::NotRestricting(reason) => {
                        let detail = match reason {
                            Reason::Unreadable(e) => format!(" (cannot parse it: {e})"),
                            _ => String::new(),
                        };
                        if or_note.is_empty() {
                            (
                                "policy-not-restricting",
                                format!(
                                    "{} of policy {} does not restrict {column} to {setting} on every path{detail}",
                                    clause.sql(),
                                    quote::ident(&p.name)
                                ),
                            )
                        } else {
                            (
                                "policy-permissive-or",
                                format!(
                                    "{} of permissive policy {} does not restrict {column} to {setting}{or_note}{detail}",
                                    clause.sql(),
                                    quote::ident(&p.name)
                                ),
                            )
                        }
                    }
                };
                match out
                    .iter_mut()
                    .find(|l| l.policy.name == p.name && l.clause == clause && l.rule == rule)
                {
                    Some(l) => {
                        if !l.commands.contains(&command) {
                            l.commands.push(command)
                        }
                    }
                    None => out.push(Leak {
                        policy: p,
                        clause,
                        commands: vec![command],
                        rule,
                        message,
                    }),
                }
            }
        }
    }
    out
}

/// Policies for the app role that read the setting outside a sub-select.
pub fn per_row_policies<'t>(model: &Model, t: &'t Table) -> Vec<&'t Policy> {
    let ctx = model.expr_context(t);
    t.policies
        .iter()
        .filter(|p| p.roles.iter().any(|r| r == "public" || model.is_app(r)))
        .filter(|p| {
            [p.using.as_deref(), p.with_check.as_deref()]
                .into_iter()
                .flatten()
                .any(|e| expr::analyze(Some(e), &ctx).per_row)
        })
        .collect()
}

/// Whether some permissive policy of `t` applies to the app role.
pub fn has_app_policy(model: &Model, t: &Table) -> bool {
    t.policies
        .iter()
        .any(|p| p.permissive && p.roles.iter().any(|r| r == "public" || model.is_app(r)))
}

/// Commands the app role is granted on `t` but no permissive policy allows.
pub fn missing_commands(model: &Model, t: &Table) -> Vec<&'static str> {
    COMMANDS
        .into_iter()
        .filter(|c| model.app_can(t, c))
        .filter(|c| !model.app_policies(t, c).iter().any(|p| p.permissive))
        .collect()
}
