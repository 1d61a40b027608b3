//! Key analysis shared by the key rules, `generate` and `prove`: primary and unique keys and
//! foreign keys that do not carry the tenant column, and the keys that must stay global.

use std::collections::BTreeSet;

use tenet_catalog::{quote, Constraint, ConstraintKind, Index, Table};

use super::reach;
use crate::model::Model;

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
    all_keys_without_tenant(model, t)
        .into_iter()
        .filter(|k| must_stay_global(model, t, k).is_none())
        .collect()
}

/// Every primary or unique key of `t` without the tenant column, global ones included.
fn all_keys_without_tenant<'t>(model: &Model, t: &'t Table) -> Vec<Key<'t>> {
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

/// Keys of a tenant table that must span tenants, with the reason: listed in `global_keys`,
/// or over a credential (a token, an OAuth provider id, a passkey's credential id), which must
/// identify one user system-wide or one credential attaches to two accounts.
pub fn must_stay_global(model: &Model, t: &Table, key: &Key) -> Option<String> {
    if model.tenancy.is_global_key(&t.schema, &t.name, key.name()) {
        return Some("listed in [tenancy] global_keys".into());
    }
    let columns: &[String] = match key {
        Key::Constraint(c) => &c.columns,
        Key::Index(i) => &i.columns,
    };
    if let Some(child) = model.linked_through(t, columns) {
        return Some(format!(
            "{child} reaches its tenant through it (a foreign key to ({}))",
            columns.join(", ")
        ));
    }
    columns
        .iter()
        .find(|c| is_credential(c))
        .map(|c| format!("{c} identifies a credential, which must be unique across tenants"))
}

/// A key over a credential or listed in `global_keys`: its unique violations tell nothing
/// worth knowing (values cannot be guessed, or the team decided), unlike a key a link needs.
pub fn oracle_is_moot(model: &Model, t: &Table, key: &Key) -> bool {
    let columns: &[String] = match key {
        Key::Constraint(c) => &c.columns,
        Key::Index(i) => &i.columns,
    };
    model.tenancy.is_global_key(&t.schema, &t.name, key.name())
        || columns.iter().any(|c| is_credential(c))
}

/// A column that names a credential: secret-looking, or an external identity's id.
fn is_credential(column: &str) -> bool {
    let lower = column.to_ascii_lowercase();
    reach::looks_secret(&lower)
        || matches!(
            lower.as_str(),
            "provider_id" | "credential_id" | "authorization_code" | "auth_code" | "code_challenge"
        )
}

/// Whether the key of `target` over `columns` must stay global.
pub fn referenced_key_is_global(model: &Model, target: &Table, columns: &[String]) -> bool {
    let wanted: BTreeSet<&String> = columns.iter().collect();
    global_keys(model, target).iter().any(|(k, _)| {
        let cols: BTreeSet<&String> = match k {
            Key::Constraint(c) => c.columns.iter().collect(),
            Key::Index(i) => i.columns.iter().collect(),
        };
        cols == wanted
    })
}

/// Keys that stay global, with why, for `generate` to say so.
pub fn global_keys<'t>(model: &Model, t: &'t Table) -> Vec<(Key<'t>, String)> {
    all_keys_without_tenant(model, t)
        .into_iter()
        .filter_map(|k| must_stay_global(model, t, &k).map(|why| (k, why)))
        .collect()
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
            // The key it references must stay global (a link rests on it, a credential): the
            // tenant cannot be carried across.
            if referenced_key_is_global(model, target, &r.columns) {
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
