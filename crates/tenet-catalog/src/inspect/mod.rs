//! Reading a live database into a [`Catalog`]: one bulk query per object kind.

mod queries;

use std::collections::{BTreeSet, HashMap};

use serde::de::DeserializeOwned;

use crate::model::*;
use crate::Error;

/// Inspect the database `client` is connected to.
///
/// Runs in one read-only, repeatable-read transaction so every query sees the same snapshot, with
/// an empty `search_path` so PostgreSQL qualifies every name it prints.
pub fn inspect(client: &mut postgres::Client) -> Result<Catalog, Error> {
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    tx.batch_execute("set local search_path = ''")?;

    let schemas: Vec<(u32, Schema)> = fetch(&mut tx, queries::SCHEMAS)?;
    let extensions: Vec<(u32, Extension)> = fetch(&mut tx, queries::EXTENSIONS)?;
    let roles: Vec<(u32, Role)> = fetch(&mut tx, queries::ROLES)?;
    let collations: Vec<(u32, Collation)> = fetch(&mut tx, queries::COLLATIONS)?;
    let types: Vec<(u32, Type)> = fetch(&mut tx, queries::TYPES)?;
    let sequences: Vec<(u32, Sequence)> = fetch(&mut tx, queries::SEQUENCES)?;
    let mut tables: Vec<(u32, Table)> = fetch(&mut tx, queries::TABLES)?;
    let mut views: Vec<(u32, View)> = fetch(&mut tx, queries::VIEWS)?;
    let functions: Vec<(u32, Function)> = fetch(&mut tx, queries::FUNCTIONS)?;

    let table_at: HashMap<u32, usize> = index_by_oid(&tables);
    let view_at: HashMap<u32, usize> = index_by_oid(&views);

    // Columns come for tables and views alike; each row parses into the shape of its owner.
    for row in tx.query(queries::COLUMNS, &[])? {
        let (oid, json): (u32, &str) = (row.get(0), row.get(1));
        if let Some(&i) = table_at.get(&oid) {
            tables[i].1.columns.push(parse(json)?);
        } else if let Some(&i) = view_at.get(&oid) {
            views[i].1.columns.push(parse(json)?);
        }
    }
    for (oid, constraint) in fetch::<Constraint>(&mut tx, queries::CONSTRAINTS)? {
        if let Some(&i) = table_at.get(&oid) {
            tables[i].1.constraints.push(constraint);
        }
    }
    for (oid, index) in fetch::<Index>(&mut tx, queries::INDEXES)? {
        if let Some(&i) = table_at.get(&oid) {
            tables[i].1.indexes.push(index);
        } else if let Some(&i) = view_at.get(&oid) {
            views[i].1.indexes.push(index);
        }
    }
    for (oid, trigger) in fetch::<Trigger>(&mut tx, queries::TRIGGERS)? {
        if let Some(&i) = table_at.get(&oid) {
            tables[i].1.triggers.push(trigger);
        }
    }
    for (oid, policy) in fetch::<Policy>(&mut tx, queries::POLICIES)? {
        if let Some(&i) = table_at.get(&oid) {
            tables[i].1.policies.push(policy);
        }
    }

    // Dependencies: resolve both ends to object keys; ends that are not user objects drop out.
    let mut keys: HashMap<(char, u32), String> = HashMap::new();
    for (oid, t) in &tables {
        keys.insert(
            ('r', *oid),
            ObjectKey::relation("table", &t.schema, &t.name),
        );
    }
    for (oid, v) in &views {
        let kind = if v.materialized {
            "materialized view"
        } else {
            "view"
        };
        keys.insert(('r', *oid), ObjectKey::relation(kind, &v.schema, &v.name));
    }
    for (oid, s) in &sequences {
        keys.insert(
            ('r', *oid),
            ObjectKey::relation("sequence", &s.schema, &s.name),
        );
    }
    for (oid, t) in &types {
        keys.insert(('t', *oid), ObjectKey::relation("type", &t.schema, &t.name));
    }
    for (oid, f) in &functions {
        keys.insert(('f', *oid), ObjectKey::function(f));
    }
    let mut depends: HashMap<(char, u32), BTreeSet<String>> = HashMap::new();
    for row in tx.query(queries::DEPENDENCIES, &[])? {
        let from = (kind_char(row.get(0)), row.get::<_, u32>(1));
        let to = (kind_char(row.get(2)), row.get::<_, u32>(3));
        if let (true, Some(target)) = (keys.contains_key(&from), keys.get(&to)) {
            depends.entry(from).or_default().insert(target.clone());
        }
    }
    let mut depends_of = |key: (char, u32)| -> Vec<String> {
        depends
            .remove(&key)
            .map(|set| set.into_iter().collect())
            .unwrap_or_default()
    };
    let mut tables: Vec<Table> = tables
        .into_iter()
        .map(|(oid, mut t)| {
            t.depends_on = depends_of(('r', oid));
            t
        })
        .collect();
    let mut views: Vec<View> = views
        .into_iter()
        .map(|(oid, mut v)| {
            v.depends_on = depends_of(('r', oid));
            v
        })
        .collect();
    let mut types: Vec<Type> = types
        .into_iter()
        .map(|(oid, mut t)| {
            t.depends_on = depends_of(('t', oid));
            t
        })
        .collect();
    let mut functions: Vec<Function> = functions
        .into_iter()
        .map(|(oid, mut f)| {
            f.depends_on = depends_of(('f', oid));
            f
        })
        .collect();
    tx.commit()?;

    let mut schemas: Vec<Schema> = drop_oids(schemas);
    let mut extensions: Vec<Extension> = drop_oids(extensions);
    let mut roles: Vec<Role> = drop_oids(roles);
    let mut collations: Vec<Collation> = drop_oids(collations);
    let mut sequences: Vec<Sequence> = drop_oids(sequences);

    // Deterministic order everywhere: by name, with grants sorted and deduplicated.
    schemas.sort_by(|a, b| a.name.cmp(&b.name));
    schemas
        .iter_mut()
        .for_each(|s| normalize_grants(&mut s.grants));
    extensions.sort_by(|a, b| a.name.cmp(&b.name));
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    collations.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    types.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    sequences.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    sequences
        .iter_mut()
        .for_each(|s| normalize_grants(&mut s.grants));
    tables.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    for t in &mut tables {
        t.constraints.sort_by(|a, b| a.name.cmp(&b.name));
        t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        t.triggers.sort_by(|a, b| a.name.cmp(&b.name));
        t.policies.sort_by(|a, b| a.name.cmp(&b.name));
        t.policies.iter_mut().for_each(|p| p.roles.sort());
        normalize_grants(&mut t.grants);
    }
    views.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    for v in &mut views {
        v.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        normalize_grants(&mut v.grants);
    }
    functions.sort_by(|a, b| {
        (&a.schema, &a.name, &a.arguments).cmp(&(&b.schema, &b.name, &b.arguments))
    });
    functions
        .iter_mut()
        .for_each(|f| normalize_grants(&mut f.grants));

    Ok(Catalog {
        schemas,
        extensions,
        roles,
        collations,
        types,
        sequences,
        tables,
        views,
        functions,
    })
}

/// Run one bulk query returning `(oid, json)` rows and parse each row.
fn fetch<T: DeserializeOwned>(
    tx: &mut postgres::Transaction<'_>,
    sql: &str,
) -> Result<Vec<(u32, T)>, Error> {
    tx.query(sql, &[])?
        .iter()
        .map(|row| Ok((row.get::<_, u32>(0), parse(row.get(1))?)))
        .collect()
}

fn parse<T: DeserializeOwned>(json: &str) -> Result<T, Error> {
    serde_json::from_str(json).map_err(|e| Error::Internal(format!("catalog row {json}: {e}")))
}

fn index_by_oid<T>(rows: &[(u32, T)]) -> HashMap<u32, usize> {
    rows.iter()
        .enumerate()
        .map(|(i, (oid, _))| (*oid, i))
        .collect()
}

fn drop_oids<T>(rows: Vec<(u32, T)>) -> Vec<T> {
    rows.into_iter().map(|(_, t)| t).collect()
}

fn kind_char(s: &str) -> char {
    s.chars().next().unwrap_or('?')
}

fn normalize_grants(grants: &mut Option<Vec<Grant>>) {
    if let Some(list) = grants {
        list.sort();
        list.dedup();
    }
}
