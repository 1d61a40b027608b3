//! `tenet tenancy generate`: the SQL that makes a schema satisfy every rule it can fix.
//!
//! In dependency order: foreign keys that must change are dropped first (keys they rest on are
//! rebuilt), tenant columns become NOT NULL, primary and unique keys lead with the tenant
//! column, foreign keys are re-added carrying it, tables without a tenant index get one,
//! row-level security is enabled and forced, policies are added (a permissive one where the app
//! role has none, a restrictive guard where a permissive one leaks) or rewritten to read the
//! setting once, and views over tenant tables become `security_invoker`.
//!
//! What it cannot decide for you (a missing tenant column and its backfill, role attributes and
//! memberships, materialized views, SECURITY DEFINER functions) is listed, not guessed.

use std::collections::{BTreeMap, BTreeSet};

use tenet_catalog::{quote, Constraint, ConstraintKind, QualifiedName, Table};
use tenet_report::Finding;

use crate::check::{self, Key};
use crate::expr;
use crate::model::Model;

pub mod citus;

/// Rules `generate` fixes; findings of other rules are left for a person.
pub const FIXES: &[&str] = &[
    "tenant-column-nullable",
    "rls-disabled",
    "rls-not-forced",
    "policy-missing",
    "policy-always-true",
    "policy-permissive-or",
    "policy-fails-open",
    "policy-empty-setting",
    "policy-not-restricting",
    "setting-per-row",
    "key-without-tenant",
    "fk-without-tenant",
    "tenant-index-missing",
    "view-not-security-invoker",
    "partition-without-policy",
    "app-role-missing",
];

pub struct Generated {
    /// The script (empty when there is nothing to do).
    pub sql: String,
    pub statements: usize,
    /// Findings the script does not address.
    pub not_fixed: Vec<Finding>,
}

#[derive(Default)]
struct Script {
    roles: Vec<String>,
    drop_fks: Vec<String>,
    not_null: Vec<String>,
    keys: Vec<String>,
    add_fks: Vec<String>,
    indexes: Vec<String>,
    rls: Vec<String>,
    policies: Vec<String>,
    views: Vec<String>,
    notes: Vec<String>,
}

pub fn generate(model: &Model) -> Generated {
    let tenant_column = &model.tenancy.column;
    let setting = &model.tenancy.setting;
    let app = &model.tenancy.app_role;
    let mut s = Script::default();
    let mut used_names: BTreeSet<(String, String)> = BTreeSet::new();
    for t in &model.catalog.tables {
        for c in &t.constraints {
            used_names.insert((t.schema.clone(), c.name.clone()));
        }
        for i in &t.indexes {
            used_names.insert((t.schema.clone(), i.name.clone()));
        }
    }

    // Keys to rebuild, and every foreign key that rests on one of them.
    let mut rebuilt_keys: BTreeMap<QualifiedName, Vec<Key>> = BTreeMap::new();
    let mut fk_changes: BTreeMap<(QualifiedName, String), (&Table, &Constraint, bool)> =
        BTreeMap::new();
    for t in model.tenant_tables().filter(|t| !Model::is_child(t)) {
        if t.column(tenant_column).is_none() {
            continue;
        }
        for fk in check::fks_without_tenant(model, t) {
            fk_changes.insert((t.qualified_name(), fk.name.clone()), (t, fk, true));
        }
        for (key, why) in check::global_keys(model, t) {
            s.notes.push(format!(
                "key {} on {} stays global: {why}",
                quote::ident(key.name()),
                t.qualified_name()
            ));
        }
        let mut keep = Vec::new();
        'keys: for key in check::keys_without_tenant(model, t) {
            let cols: BTreeSet<&String> = match key {
                Key::Constraint(c) => c.columns.iter().collect(),
                Key::Index(i) => i.columns.iter().collect(),
            };
            // Foreign keys that reference exactly these columns use this key's index.
            let mut users = Vec::new();
            for other in &model.catalog.tables {
                for fk in other
                    .constraints
                    .iter()
                    .filter(|c| c.kind == ConstraintKind::ForeignKey)
                {
                    let r = fk.references.as_ref().expect("fk");
                    if r.table == t.qualified_name()
                        && r.columns.iter().collect::<BTreeSet<_>>() == cols
                    {
                        let carried = model.is_tenant(other)
                            && other.column(tenant_column).is_some()
                            && !Model::is_child(other);
                        if !carried {
                            s.notes.push(format!(
                                "{} {} is referenced by foreign key {} of {}, which is not a tenant table: left as it is",
                                if matches!(key, Key::Constraint(_)) { "key" } else { "unique index" },
                                quote::ident(key.name()),
                                quote::ident(&fk.name),
                                other.qualified_name()
                            ));
                            continue 'keys;
                        }
                        users.push((other, fk));
                    }
                }
            }
            for (other, fk) in users {
                fk_changes
                    .entry((other.qualified_name(), fk.name.clone()))
                    .or_insert((other, fk, true));
            }
            keep.push(key);
        }
        if !keep.is_empty() {
            rebuilt_keys.insert(t.qualified_name(), keep);
        }
    }

    for (other, fk, _) in fk_changes.values() {
        s.drop_fks.push(format!(
            "ALTER TABLE {} DROP CONSTRAINT {};",
            other.qualified_name(),
            quote::ident(&fk.name)
        ));
        match with_tenant_fk(model, other, fk) {
            Some(def) => s.add_fks.push(format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {def};",
                other.qualified_name(),
                quote::ident(&fk.name)
            )),
            None => s.add_fks.push(format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {};",
                other.qualified_name(),
                quote::ident(&fk.name),
                fk.definition
            )),
        }
    }

    for t in model.tenant_tables() {
        let name = t.qualified_name();
        let child = Model::is_child(t);
        if child && !check::child_reachable(model, t) {
            continue;
        }
        let col = model.tenant_column(t);
        if col.is_none() && model.link(t).is_none() {
            continue;
        }
        // A table linked to its tenant through a foreign key gets policies only.
        if let Some(col) = col {
            let column = &col.name;
            if !col.not_null && !col.inherited {
                s.not_null.push(format!(
                    "ALTER TABLE {name} ALTER COLUMN {} SET NOT NULL;",
                    quote::ident(column)
                ));
            }
            if let Some(keys) = rebuilt_keys.get(&name) {
                for key in keys {
                    // With the tenant column added, an existing key may already cover it: then the
                    // global key just goes (foreign keys re-point to the tenant-led one).
                    let key_columns: &[String] = match key {
                        Key::Constraint(c) => &c.columns,
                        Key::Index(i) => &i.columns,
                    };
                    let widened: BTreeSet<&str> = key_columns
                        .iter()
                        .map(String::as_str)
                        .chain([column.as_str()])
                        .collect();
                    let covered = t
                        .constraints
                        .iter()
                        .filter(|c| {
                            matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique)
                        })
                        .map(|c| {
                            c.columns
                                .iter()
                                .map(String::as_str)
                                .collect::<BTreeSet<_>>()
                        })
                        .chain(
                            t.indexes
                                .iter()
                                .filter(|i| i.unique && i.predicate.is_none())
                                .map(|i| i.columns.iter().map(String::as_str).collect()),
                        )
                        .any(|cols| cols == widened);
                    if covered {
                        s.keys.push(match key {
                            Key::Constraint(c) => format!(
                                "ALTER TABLE {name} DROP CONSTRAINT {};",
                                quote::ident(&c.name)
                            ),
                            Key::Index(i) => {
                                format!("DROP INDEX {};", QualifiedName::new(&t.schema, &i.name))
                            }
                        });
                        continue;
                    }
                    match key {
                        Key::Constraint(c) => match insert_first_column(&c.definition, column) {
                            Some(def) => s.keys.push(format!(
                                "ALTER TABLE {name} DROP CONSTRAINT {n}, ADD CONSTRAINT {n} {def};",
                                n = quote::ident(&c.name)
                            )),
                            None => s
                                .notes
                                .push(format!("cannot rewrite key {}: {}", c.name, c.definition)),
                        },
                        Key::Index(i) => {
                            let marker = format!(" USING {} (", i.method);
                            match i.definition.find(&marker) {
                                Some(pos) => {
                                    let at = pos + marker.len();
                                    let def = format!(
                                        "{}{}, {}",
                                        &i.definition[..at],
                                        quote::ident(column),
                                        &i.definition[at..]
                                    );
                                    s.keys.push(format!(
                                        "DROP INDEX {};\n{def};",
                                        QualifiedName::new(&t.schema, &i.name)
                                    ));
                                }
                                None => s.notes.push(format!(
                                    "cannot rewrite unique index {}: {}",
                                    i.name, i.definition
                                )),
                            }
                        }
                    }
                }
            }
            if !child && !check::has_tenant_index(model, t) && !rebuilt_keys.contains_key(&name) {
                let index = unique_name(
                    &mut used_names,
                    &t.schema,
                    &format!("{}_{}_idx", t.name, column),
                );
                s.indexes.push(format!(
                    "CREATE INDEX {} ON {name} ({});",
                    quote::ident(&index),
                    quote::ident(column)
                ));
            }
        }
        if !t.rls_enabled {
            s.rls
                .push(format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;"));
        }
        if !t.rls_forced {
            s.rls
                .push(format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY;"));
        }
        let cond = model.condition(t);
        let policy_names: BTreeSet<&str> = t.policies.iter().map(|p| p.name.as_str()).collect();
        let fresh = |base: &str| {
            let mut n = base.to_string();
            let mut i = 2;
            while policy_names.contains(n.as_str()) {
                n = format!("{base}_{i}");
                i += 1;
            }
            n
        };
        if !check::missing_commands(model, t).is_empty() || !check::has_app_policy(model, t) {
            s.policies.push(format!(
                "CREATE POLICY {} ON {name} AS PERMISSIVE FOR ALL TO {} USING ({cond}) WITH CHECK ({cond});",
                quote::ident(&fresh("tenant_isolation")),
                quote::ident(app)
            ));
        }
        if !check::leaks(model, t).is_empty() {
            s.policies.push(format!(
                "CREATE POLICY {} ON {name} AS RESTRICTIVE FOR ALL TO {} USING ({cond}) WITH CHECK ({cond});",
                quote::ident(&fresh("tenant_isolation_guard")),
                quote::ident(app)
            ));
        }
        let ctx = model.expr_context(t);
        for p in check::per_row_policies(model, t) {
            let mut clauses = Vec::new();
            if let Some(u) = p.using.as_deref() {
                if let Some(w) = expr::wrap_per_row_reads(u, &ctx) {
                    clauses.push(format!("USING ({w})"));
                }
            }
            if let Some(c) = p.with_check.as_deref() {
                if let Some(w) = expr::wrap_per_row_reads(c, &ctx) {
                    clauses.push(format!("WITH CHECK ({w})"));
                }
            }
            if !clauses.is_empty() {
                s.policies.push(format!(
                    "ALTER POLICY {} ON {name} {};",
                    quote::ident(&p.name),
                    clauses.join(" ")
                ));
            }
        }
    }

    for v in &model.catalog.views {
        if v.materialized || v.security_invoker() || model.view_tenant_tables(v).is_empty() {
            continue;
        }
        if !model.app_has(&v.owner, &v.grants, false, "SELECT") {
            continue;
        }
        s.views.push(format!(
            "ALTER VIEW {} SET (security_invoker = true);",
            QualifiedName::new(&v.schema, &v.name)
        ));
    }

    // Generate writes policies for the app role only: the anonymous role's findings stay.
    let app_findings = check::check_app(model);
    let anon = check::anon_findings(model, &app_findings);
    let not_fixed: Vec<Finding> = app_findings
        .into_iter()
        .filter(|f| !FIXES.contains(&f.rule.as_str()))
        .chain(anon)
        .collect();

    // Policies name the app role: the script must load where it does not exist yet.
    if !model.catalog.roles.iter().any(|r| &r.name == app) {
        s.roles.push(format!(
            "DO $$ BEGIN CREATE ROLE {} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;",
            quote::ident(app)
        ));
    }
    let sections: [(&str, &Vec<String>); 9] = [
        ("The app role the policies name (NOLOGIN: give it LOGIN and a password where the app connects)", &s.roles),
        ("Foreign keys that must carry the tenant column, dropped while their keys change", &s.drop_fks),
        ("The tenant column is required", &s.not_null),
        ("Keys lead with the tenant column", &s.keys),
        ("Foreign keys carry the tenant column", &s.add_fks),
        ("Every tenant table has an index led by the tenant column", &s.indexes),
        ("Row-level security, enabled and forced", &s.rls),
        (
            "Policies: the tenant column equals the setting, read once per query, no rows when it is missing or empty",
            &s.policies,
        ),
        ("Views run with the caller's row-level security", &s.views),
    ];
    let statements: usize = sections.iter().map(|(_, v)| v.len()).sum();
    let mut sql = String::new();
    if statements > 0 || !not_fixed.is_empty() || !s.notes.is_empty() {
        sql.push_str(&format!(
            "-- Tenant isolation, generated by `tenet tenancy generate` (column {tenant_column}, setting {setting}, app role {app}).\n"
        ));
    }
    for (title, stmts) in sections {
        if stmts.is_empty() {
            continue;
        }
        sql.push_str(&format!("\n-- {title}.\n"));
        for st in stmts {
            sql.push_str(st);
            sql.push('\n');
        }
    }
    if !s.notes.is_empty() || !not_fixed.is_empty() {
        sql.push_str("\n-- Not fixed here (needs a decision):\n");
        for n in &s.notes {
            sql.push_str(&format!("--   {n}\n"));
        }
        for f in &not_fixed {
            sql.push_str(&format!(
                "--   [{}] {}\n",
                f.rule,
                f.message.replace('\n', " ")
            ));
        }
    }
    Generated {
        sql,
        statements,
        not_fixed,
    }
}

/// `PRIMARY KEY (id)` -> `PRIMARY KEY (tenant_id, id)`: the tenant column first in the first
/// column list of a constraint definition as PostgreSQL renders it.
fn insert_first_column(definition: &str, column: &str) -> Option<String> {
    let at = definition.find('(')? + 1;
    Some(format!(
        "{}{}, {}",
        &definition[..at],
        quote::ident(column),
        &definition[at..]
    ))
}

/// The foreign key with the tenant column on both sides; `ON DELETE SET NULL` / `SET DEFAULT`
/// name their columns so the tenant column is left alone.
fn with_tenant_fk(model: &Model, t: &Table, fk: &Constraint) -> Option<String> {
    let column = &model.tenancy.column;
    let r = fk.references.as_ref()?;
    let target = model.table(&r.table)?;
    let carries = model.is_tenant(t)
        && t.column(column).is_some()
        && model.is_tenant(target)
        && target.column(column).is_some();
    let def = &fk.definition;
    if !carries
        || fk
            .columns
            .iter()
            .zip(&r.columns)
            .any(|(a, b)| a == column && b == column)
    {
        return None;
    }
    if fk.columns.contains(column) || r.columns.contains(column) {
        // The tenant column already maps to another column: do not guess.
        return None;
    }
    let with_local = insert_first_column(def, column)?;
    let refs = with_local.find(" REFERENCES ")?;
    let open = refs + with_local[refs..].find('(')? + 1;
    let mut out = format!(
        "{}{}, {}",
        &with_local[..open],
        quote::ident(column),
        &with_local[open..]
    );
    let cols = fk
        .columns
        .iter()
        .map(|c| quote::ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    for action in ["ON DELETE SET NULL", "ON DELETE SET DEFAULT"] {
        if let Some(pos) = out.find(action) {
            let end = pos + action.len();
            if !out[end..].starts_with(" (") {
                out.insert_str(end, &format!(" ({cols})"));
            }
        }
    }
    Some(out)
}

fn unique_name(used: &mut BTreeSet<(String, String)>, schema: &str, base: &str) -> String {
    // Identifiers are at most 63 bytes; names are ASCII here (table and column names may not
    // be, so cut at a character boundary).
    let cut = |s: String| -> String {
        let mut end = s.len().min(63);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s[..end].to_string()
    };
    let mut name = cut(base.to_string());
    let mut i = 1;
    while used.contains(&(schema.to_string(), name.clone())) {
        name = cut(format!("{base}{i}"));
        i += 1;
    }
    used.insert((schema.to_string(), name.clone()));
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_column_goes_first() {
        assert_eq!(
            insert_first_column("PRIMARY KEY (id)", "tenant_id").unwrap(),
            "PRIMARY KEY (tenant_id, id)"
        );
        assert_eq!(
            insert_first_column(
                "UNIQUE NULLS NOT DISTINCT (email) INCLUDE (name)",
                "tenant_id"
            )
            .unwrap(),
            "UNIQUE NULLS NOT DISTINCT (tenant_id, email) INCLUDE (name)"
        );
    }
}
