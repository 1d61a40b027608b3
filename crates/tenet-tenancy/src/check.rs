//! `tenet tenancy check`: the catalog rules of tenant isolation.
//!
//! Every rule names the object it is about (table, policy, constraint, view, function, role),
//! says why it matters and how to fix it. The analysis functions here are shared with
//! [`crate::generate`], which writes the SQL that makes the fixable findings go away.

use tenet_catalog::{quote, Constraint, ConstraintKind, Index, Policy, QualifiedName, Table};
use tenet_report::{Finding, Severity};

use crate::expr::{self, Analysis, Reason, Verdict};
use crate::model::{Model, COMMANDS};

/// Every rule, with its severity and a one-line summary (for documentation and `--help`).
pub const RULES: &[(&str, Severity, &str)] = &[
    (
        "tenant-column-missing",
        Severity::Error,
        "a tenant-scoped table has no tenant column",
    ),
    (
        "tenant-column-nullable",
        Severity::Error,
        "the tenant column allows NULL",
    ),
    (
        "rls-disabled",
        Severity::Error,
        "row-level security is not enabled on a tenant table",
    ),
    (
        "rls-not-forced",
        Severity::Warning,
        "row-level security does not apply to the table owner",
    ),
    (
        "policy-missing",
        Severity::Warning,
        "no policy lets the app role run a command it is granted",
    ),
    (
        "policy-always-true",
        Severity::Error,
        "a policy for the app role admits every row",
    ),
    (
        "policy-permissive-or",
        Severity::Error,
        "a permissive policy that does not restrict is OR-ed with one that does",
    ),
    (
        "policy-fails-open",
        Severity::Error,
        "a policy opens up when the setting is missing or empty",
    ),
    (
        "policy-empty-setting",
        Severity::Warning,
        "an empty setting matches rows whose (text) tenant column is empty",
    ),
    (
        "policy-not-restricting",
        Severity::Error,
        "a policy does not compare the tenant column with the setting",
    ),
    (
        "setting-per-row",
        Severity::Warning,
        "a policy reads the setting for every row instead of once",
    ),
    (
        "key-without-tenant",
        Severity::Warning,
        "a primary or unique key does not include the tenant column",
    ),
    (
        "fk-without-tenant",
        Severity::Error,
        "a foreign key between tenant tables does not include the tenant column",
    ),
    (
        "tenant-index-missing",
        Severity::Warning,
        "no index is led by the tenant column",
    ),
    (
        "app-role-missing",
        Severity::Warning,
        "the app role does not exist",
    ),
    (
        "app-role-superuser",
        Severity::Error,
        "the app role is a superuser",
    ),
    (
        "app-role-bypassrls",
        Severity::Error,
        "the app role bypasses row-level security",
    ),
    (
        "app-role-owner",
        Severity::Error,
        "the app role owns tenant tables",
    ),
    (
        "app-role-member",
        Severity::Error,
        "the app role belongs to a superuser, BYPASSRLS or owning role",
    ),
    (
        "view-not-security-invoker",
        Severity::Error,
        "a view over tenant tables runs with its owner's rights",
    ),
    (
        "matview-over-tenant",
        Severity::Error,
        "a materialized view holds tenant rows without row-level security",
    ),
    (
        "security-definer-function",
        Severity::Error,
        "a SECURITY DEFINER function reads tenant tables",
    ),
    (
        "partition-without-policy",
        Severity::Error,
        "a partition or child table the app role can query directly has no policies of its own",
    ),
];

fn severity(rule: &str) -> Severity {
    RULES
        .iter()
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

/// A primary key, unique constraint or unique index.
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    Constraint(&'a Constraint),
    Index(&'a Index),
}

impl Key<'_> {
    pub fn name(&self) -> &str {
        match self {
            Key::Constraint(c) => &c.name,
            Key::Index(i) => &i.name,
        }
    }
}

fn mentions_column(columns: &[String], column: &str) -> bool {
    columns
        .iter()
        .any(|c| c == column || *c == quote::ident(column))
}

/// Keys of a tenant table that do not include the tenant column.
pub fn keys_without_tenant<'t>(model: &Model, t: &'t Table) -> Vec<Key<'t>> {
    // A tenant root's keys identify tenants (a user's email): they span tenants by design.
    if model.is_root(t) {
        return Vec::new();
    }
    let column = &model.tenancy.column;
    let mut out: Vec<Key<'t>> = t
        .constraints
        .iter()
        .filter(|c| matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique))
        .filter(|c| !mentions_column(&c.columns, column))
        .map(Key::Constraint)
        .collect();
    out.extend(
        t.indexes
            .iter()
            .filter(|i| i.unique && !mentions_column(&i.columns, column))
            .map(Key::Index),
    );
    out
}

/// Foreign keys from `t` to another tenant table that do not carry the tenant column across.
pub fn fks_without_tenant<'t>(model: &Model, t: &'t Table) -> Vec<&'t Constraint> {
    if model.is_root(t) {
        return Vec::new();
    }
    let column = &model.tenancy.column;
    t.constraints
        .iter()
        .filter(|c| c.kind == ConstraintKind::ForeignKey)
        .filter(|c| {
            let Some(r) = &c.references else { return false };
            let Some(target) = model.table(&r.table) else {
                return false;
            };
            if !model.is_tenant(target) || target.column(column).is_none() {
                return false;
            }
            !c.columns
                .iter()
                .zip(&r.columns)
                .any(|(a, b)| a == column && b == column)
        })
        .collect()
}

/// Whether some index (or key) of `t` has the tenant column as its first column.
pub fn has_tenant_index(model: &Model, t: &Table) -> bool {
    let Some(column) = model.tenant_column(t).map(|c| &c.name) else {
        return false;
    };
    let led = |cols: &[String]| {
        cols.first()
            .is_some_and(|c| c == column || *c == quote::ident(column))
    };
    t.constraints
        .iter()
        .filter(|c| {
            matches!(
                c.kind,
                ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion
            )
        })
        .any(|c| led(&c.columns))
        || t.indexes
            .iter()
            .any(|i| led(&i.columns) && i.predicate.is_none())
}

/// Whether a partition or child table can be queried directly by the app role.
pub fn child_reachable(model: &Model, t: &Table) -> bool {
    Model::is_child(t) && model.app_reaches(&t.owner, &t.grants)
}

/// Every finding for this catalog, most severe first, then by object.
pub fn check(model: &Model) -> Vec<Finding> {
    let mut out = Vec::new();
    let setting = &model.tenancy.setting;
    let app = &model.tenancy.app_role;
    let generate = "or run `tenet tenancy generate`";

    for t in model.tenant_tables() {
        let name = t.qualified_name();
        let child = Model::is_child(t);
        if child && !child_reachable(model, t) {
            // Reached only through its parent, whose policies apply.
            continue;
        }
        let Some(col) = model.tenant_column(t) else {
            let column = &model.tenancy.column;
            out.push(finding(
                "tenant-column-missing",
                table_object(t),
                format!("tenant-scoped table {name} has no {column} column"),
                "Without the tenant column no policy can tell whose row it is; every tenant shares the table.",
                format!(
                    "Add the column (ALTER TABLE {name} ADD COLUMN {} <type> NOT NULL REFERENCES ...), backfill it, or list the table in [tenancy] global_tables if it is shared reference data.",
                    quote::ident(column)
                ),
            ));
            continue;
        };
        let column = &col.name;
        if !col.not_null && !col.inherited {
            out.push(finding(
                "tenant-column-nullable",
                table_object(t),
                format!("{name}.{} allows NULL", quote::ident(column)),
                "A row with no tenant belongs to nobody: policies comparing the column never match it, and writes can create rows no tenant can see or delete.",
                format!("ALTER TABLE {name} ALTER COLUMN {} SET NOT NULL; {generate}", quote::ident(column)),
            ));
        }
        if child {
            let missing = missing_commands(model, t);
            if !t.rls_enabled || !missing.is_empty() || !has_app_policy(model, t) {
                let parent = t
                    .partition_of
                    .as_ref()
                    .map(|p| p.parent.clone())
                    .or_else(|| t.inherits.first().cloned())
                    .expect("a child has a parent");
                let what = if !t.rls_enabled {
                    "has row-level security disabled".to_string()
                } else if missing.is_empty() {
                    format!("has no policy for {app}")
                } else {
                    format!("has no policy for {app} on {}", missing.join(", "))
                };
                out.push(finding(
                    "partition-without-policy",
                    table_object(t),
                    format!("{name}, a child of {parent} that {app} can query directly, {what}"),
                    "Policies are not inherited: querying a partition or child table directly applies only its own row-level security, so the parent's policies are bypassed.",
                    format!(
                        "ALTER TABLE {name} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY, and give it the parent's tenant policy, or REVOKE the app role's privileges on it; {generate}"
                    ),
                ));
            }
        } else if !t.rls_enabled {
            out.push(finding(
                "rls-disabled",
                table_object(t),
                format!("row-level security is disabled on {name}"),
                "Without row-level security policies are ignored: any query from the app role sees and changes every tenant's rows.",
                format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY; {generate}"),
            ));
        }
        if t.rls_enabled && !t.rls_forced {
            out.push(finding(
                "rls-not-forced",
                table_object(t),
                format!("row-level security on {name} is not forced"),
                "The table owner bypasses policies unless they are forced; an app, job or view running as the owner sees every tenant.",
                format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY; {generate}"),
            ));
        }
        if !child {
            let missing = missing_commands(model, t);
            let none = !has_app_policy(model, t);
            if !missing.is_empty() || none {
                out.push(finding(
                    "policy-missing",
                    table_object(t),
                    if missing.is_empty() {
                        format!("no policy for {app} on {name}")
                    } else {
                        format!("no policy lets {app} {} rows of {name}", missing.join(", "))
                    },
                    "Every tenant table needs a policy for the app role: without one, once row-level security is on (and the app is granted the table), its queries silently see or change nothing, which invites someone to add a policy that admits everything.",
                    format!(
                        "CREATE POLICY tenant_isolation ON {name} FOR ALL TO {} USING ({cond}) WITH CHECK ({cond}); {generate}",
                        quote::ident(app),
                        cond = tenant_condition(column, setting, &col.data_type)
                    ),
                ));
            }
        }
        for leak in leaks(model, t) {
            out.push(finding(
                leak.rule,
                policy_object(t, leak.policy),
                format!(
                    "{} (on {})",
                    leak.message.replacen(
                        &format!("policy {} ", quote::ident(&leak.policy.name)),
                        &format!("policy {} on {name} ", quote::ident(&leak.policy.name)),
                        1
                    ),
                    leak.commands.join(", ")
                ),
                match leak.rule {
                    "policy-always-true" => "A policy that is always true admits every tenant's rows; permissive policies are OR-ed, so it overrides any policy that does restrict.",
                    "policy-permissive-or" => "Permissive policies are combined with OR: one that does not restrict by tenant lets every row through, however strict the others are.",
                    "policy-fails-open" => "A connection that has not set the tenant (a pooled connection, a background job, a bug) must see nothing; this policy shows it more.",
                    "policy-empty-setting" => "Pools and frameworks often reset the setting to an empty string rather than unset it; rows whose tenant is '' then become visible to tenant-less connections.",
                    _ => "A policy that does not compare the tenant column with the current tenant lets the app role reach other tenants' rows.",
                },
                format!(
                    "Compare {} with the setting and nothing else that can widen it: {}; or add a RESTRICTIVE policy for {} with that condition; {generate}",
                    quote::ident(column),
                    tenant_condition(column, setting, &col.data_type),
                    quote::ident(app)
                ),
            ));
        }
        for p in per_row_policies(model, t) {
            out.push(finding(
                "setting-per-row",
                policy_object(t, p),
                format!(
                    "policy {} on {name} calls current_setting('{setting}') outside a sub-select",
                    quote::ident(&p.name)
                ),
                "Outside a sub-select the setting is read and cast for every row scanned; wrapped in (SELECT ...) it becomes an init plan evaluated once, and the comparison can use the tenant index.",
                format!(
                    "Wrap the read in a sub-select: {} ; {generate}",
                    tenant_condition(column, setting, &col.data_type)
                ),
            ));
        }
        if child {
            continue;
        }
        for key in keys_without_tenant(model, t) {
            let (object, what) = match key {
                Key::Constraint(c) => (
                    constraint_object(t, &c.name),
                    format!(
                        "{} {} on {name} ({}) does not include {column}",
                        if c.kind == ConstraintKind::PrimaryKey {
                            "primary key"
                        } else {
                            "unique constraint"
                        },
                        quote::ident(&c.name),
                        c.columns.join(", ")
                    ),
                ),
                Key::Index(i) => (
                    format!("index {}", QualifiedName::new(&t.schema, &i.name)),
                    format!(
                        "unique index {} on {name} ({}) does not include {column}",
                        quote::ident(&i.name),
                        i.columns.join(", ")
                    ),
                ),
            };
            out.push(finding(
                "key-without-tenant",
                object,
                what,
                "A key that spans tenants tells one tenant, through a unique violation, that another holds a value; and foreign keys can only carry the tenant column across to keys that include it.",
                format!(
                    "Put {} first in the key, e.g. PRIMARY KEY ({}, id); {generate}",
                    quote::ident(column),
                    quote::ident(column)
                ),
            ));
        }
        for fk in fks_without_tenant(model, t) {
            let r = fk.references.as_ref().expect("a foreign key");
            out.push(finding(
                "fk-without-tenant",
                constraint_object(t, &fk.name),
                format!(
                    "foreign key {} from {name} ({}) to {} ({}) does not include {column}",
                    quote::ident(&fk.name),
                    fk.columns.join(", "),
                    r.table,
                    r.columns.join(", ")
                ),
                "The foreign key check runs without row-level security: a tenant can point its rows at another tenant's rows (and learn they exist), and cascades cross tenants.",
                format!(
                    "FOREIGN KEY ({c}, {}) REFERENCES {} ({c}, {}); {generate}",
                    fk.columns.join(", "),
                    r.table,
                    r.columns.join(", "),
                    c = quote::ident(column)
                ),
            ));
        }
        if !has_tenant_index(model, t) {
            out.push(finding(
                "tenant-index-missing",
                table_object(t),
                format!("no index of {name} is led by {column}"),
                "Every query of the app role filters by tenant through the policy; without an index led by the tenant column each one scans the whole table.",
                format!(
                    "CREATE INDEX ON {name} ({}); or lead the primary key with it; {generate}",
                    quote::ident(column)
                ),
            ));
        }
    }

    role_findings(model, &mut out);
    view_findings(model, &mut out);
    function_findings(model, &mut out);

    out.sort_by_key(|f| f.severity);
    out
}

/// The condition Tenet generates: the tenant column against the setting, read once per query
/// in a sub-select, NULL (no rows) when the setting is missing or empty.
pub fn tenant_condition(column: &str, setting: &str, data_type: &str) -> String {
    format!(
        "{} = (SELECT NULLIF(current_setting({}, true), '')::{data_type})",
        quote::ident(column),
        quote::literal(setting)
    )
}

fn role_findings(model: &Model, out: &mut Vec<Finding>) {
    let app = &model.tenancy.app_role;
    let role_obj = format!("role {}", quote::ident(app));
    let Some(role) = model.catalog.roles.iter().find(|r| &r.name == app) else {
        out.push(finding(
            "app-role-missing",
            role_obj,
            format!("role {app} (the [tenancy] app_role) does not exist, or nothing in the schema names it"),
            "Policies and grants for a role that is not there protect nothing, and the app may be connecting as some other, more powerful role.",
            format!("CREATE ROLE {} LOGIN; grant it what the app needs, or fix app_role in tenet.toml", quote::ident(app)),
        ));
        return;
    };
    if role.superuser {
        out.push(finding(
            "app-role-superuser",
            role_obj.clone(),
            format!("app role {app} is a superuser"),
            "Superusers bypass row-level security entirely: every tenant's rows are visible to the app.",
            format!("ALTER ROLE {} NOSUPERUSER;", quote::ident(app)),
        ));
    }
    if role.bypassrls {
        out.push(finding(
            "app-role-bypassrls",
            role_obj.clone(),
            format!("app role {app} has BYPASSRLS"),
            "A role with BYPASSRLS ignores every policy: every tenant's rows are visible to the app.",
            format!("ALTER ROLE {} NOBYPASSRLS;", quote::ident(app)),
        ));
    }
    let owned = |who: &str| -> Vec<String> {
        model
            .tenant_tables()
            .filter(|t| t.owner == who)
            .map(|t| t.qualified_name().to_string())
            .collect()
    };
    let mine = owned(app);
    if !mine.is_empty() {
        out.push(finding(
            "app-role-owner",
            role_obj.clone(),
            format!("app role {app} owns tenant tables: {}", mine.join(", ")),
            "An owner bypasses row-level security unless it is forced, and can disable it or drop the policies at will.",
            format!(
                "Create the schema as a separate owner role and ALTER TABLE ... OWNER TO it; grant {} only SELECT, INSERT, UPDATE, DELETE.",
                quote::ident(app)
            ),
        ));
    }
    for other in model.app_roles.iter().filter(|r| *r != app) {
        let Some(r) = model.catalog.roles.iter().find(|x| &x.name == other) else {
            continue;
        };
        let mut powers = Vec::new();
        if r.superuser {
            powers.push("is a superuser".to_string());
        }
        if r.bypassrls {
            powers.push("has BYPASSRLS".to_string());
        }
        let theirs = owned(other);
        if !theirs.is_empty() {
            powers.push(format!("owns {}", theirs.join(", ")));
        }
        if powers.is_empty() {
            continue;
        }
        out.push(finding(
            "app-role-member",
            role_obj.clone(),
            format!("app role {app} is a member of {other}, which {}", powers.join(" and ")),
            "A member can SET ROLE to the roles it belongs to (and inherits their ownership): the app can step around row-level security.",
            format!("REVOKE {} FROM {};", quote::ident(other), quote::ident(app)),
        ));
    }
}

fn view_findings(model: &Model, out: &mut Vec<Finding>) {
    let app = &model.tenancy.app_role;
    for v in &model.catalog.views {
        let name = QualifiedName::new(&v.schema, &v.name);
        let tables = model.view_tenant_tables(v);
        if tables.is_empty() || !model.app_has(&v.owner, &v.grants, false, "SELECT") {
            continue;
        }
        let list = tables
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        if v.materialized {
            out.push(finding(
                "matview-over-tenant",
                format!("materialized view {name}"),
                format!("materialized view {name} holds rows of tenant tables ({list}) and {app} can read it"),
                "A materialized view is a copy without row-level security: whoever can select from it sees every tenant's rows in it.",
                format!(
                    "REVOKE SELECT ON {name} FROM {}; serve it through a security_invoker view or function that filters by tenant, or make it a plain view.",
                    quote::ident(app)
                ),
            ));
        } else if !v.security_invoker() {
            out.push(finding(
                "view-not-security-invoker",
                format!("view {name}"),
                format!("view {name} reads tenant tables ({list}) with its owner's rights, and {app} can read it"),
                "A view runs its query as the view owner unless security_invoker is set: the owner's row-level security (often none) applies instead of the app role's, so the view shows every tenant.",
                format!("ALTER VIEW {name} SET (security_invoker = true); or run `tenet tenancy generate`"),
            ));
        }
    }
}

fn function_findings(model: &Model, out: &mut Vec<Finding>) {
    let app = &model.tenancy.app_role;
    for f in &model.catalog.functions {
        if !f.security_definer
            || f.kind != "function" && f.kind != "procedure"
            || matches!(
                f.returns.as_deref(),
                Some("trigger") | Some("event_trigger")
            )
            || !model.app_has(&f.owner, &f.grants, true, "EXECUTE")
        {
            continue;
        }
        let what = match model.function_tenant_tables(f) {
            Ok(tables) if tables.is_empty() => continue,
            Ok(tables) => format!(
                "reads tenant tables ({})",
                tables
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(reason) => format!("may read tenant tables: {reason}"),
        };
        out.push(finding(
            "security-definer-function",
            format!("function {}", f.signature()),
            format!("SECURITY DEFINER function {} {what}, and {app} can execute it", f.signature()),
            "A SECURITY DEFINER function runs as its owner: row-level security applies to the owner (often not at all), so whatever it reads or writes is not limited to the caller's tenant.",
            format!(
                "Make it SECURITY INVOKER (ALTER FUNCTION {} SECURITY INVOKER), or filter by the tenant setting inside it and REVOKE EXECUTE ... FROM PUBLIC, {}.",
                f.signature(),
                quote::ident(app)
            ),
        ));
    }
}
