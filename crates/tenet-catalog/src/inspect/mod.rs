//! Reading a live database into a [`Catalog`]: one bulk query per object kind.

mod queries;

use std::collections::{BTreeSet, HashMap};

use serde::de::DeserializeOwned;

use crate::model::*;
use crate::Error;

/// What a bulk query returns: `(oid, text)` rows.
type Rows = Vec<(u32, String)>;

/// The bulk queries, in the order their rows are assembled.
const QUERIES: [&str; 15] = [
    queries::SCHEMAS,
    queries::EXTENSIONS,
    queries::ROLES,
    queries::COLLATIONS,
    queries::TYPES,
    queries::SEQUENCES,
    queries::TABLES,
    queries::VIEWS,
    queries::FUNCTIONS,
    queries::COLUMNS,
    queries::CONSTRAINTS,
    queries::INDEXES,
    queries::TRIGGERS,
    queries::POLICIES,
    queries::DEPENDENCIES,
];

/// What a second connection runs in [`inspect_parallel`]: about half the server's work.
const ON_SECOND_CONNECTION: [usize; 10] = [2, 3, 4, 6, 7, 8, 11, 12, 13, 14];

/// Inspect the database `client` is connected to.
///
/// Runs in one read-only, repeatable-read transaction so every query sees the same snapshot, with
/// an empty `search_path` so PostgreSQL qualifies every name it prints.
pub fn inspect(client: &mut postgres::Client) -> Result<Catalog, Error> {
    let mut tx = begin(client, None)?;
    let rows = QUERIES
        .iter()
        .map(|sql| run(&mut tx, sql))
        .collect::<Result<Vec<_>, _>>()?;
    tx.commit()?;
    assemble(rows)
}

/// [`inspect`] with the queries shared between two connections to the same database, both
/// reading one exported snapshot: the server works on two cores at once.
pub fn inspect_parallel(
    client: &mut postgres::Client,
    second: &mut postgres::Client,
) -> Result<Catalog, Error> {
    let mut tx = begin(client, None)?;
    let snapshot: String = tx.query_one("select pg_export_snapshot()", &[])?.get(0);
    let mut rows: Vec<Rows> = vec![Vec::new(); QUERIES.len()];
    std::thread::scope(|scope| -> Result<(), Error> {
        let helper = scope.spawn(|| -> Result<Vec<(usize, Rows)>, Error> {
            let mut tx = begin(second, Some(&snapshot))?;
            let rows = ON_SECOND_CONNECTION
                .iter()
                .map(|&i| Ok((i, run(&mut tx, QUERIES[i])?)))
                .collect::<Result<Vec<_>, Error>>()?;
            tx.commit()?;
            Ok(rows)
        });
        for (i, sql) in QUERIES.iter().enumerate() {
            if !ON_SECOND_CONNECTION.contains(&i) {
                rows[i] = run(&mut tx, sql)?;
            }
        }
        let helped = helper
            .join()
            .map_err(|_| Error::Internal("the second inspect connection panicked".into()))??;
        for (i, r) in helped {
            rows[i] = r;
        }
        Ok(())
    })?;
    tx.commit()?;
    assemble(rows)
}

/// A read-only repeatable-read transaction set up for catalog queries, optionally on a
/// snapshot exported by another transaction.
fn begin<'c>(
    client: &'c mut postgres::Client,
    snapshot: Option<&str>,
) -> Result<postgres::Transaction<'c>, Error> {
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    if let Some(snapshot) = snapshot {
        // Must come before any query of the transaction.
        tx.batch_execute(&format!(
            "set transaction snapshot {}",
            crate::quote::literal(snapshot)
        ))?;
    }
    // JIT compilation costs far more than it saves on catalog queries (half a second on
    // a 2,000-table schema, for a query that runs in milliseconds).
    tx.batch_execute("set local search_path = ''; set local jit = off")?;
    Ok(tx)
}

/// Run one bulk query; every query returns `(oid, text)` rows.
fn run(tx: &mut postgres::Transaction<'_>, sql: &str) -> Result<Rows, Error> {
    let started = std::time::Instant::now();
    let rows = tx.query(sql, &[])?;
    tracing::debug!(
        "{} rows in {:?}: {}",
        rows.len(),
        started.elapsed(),
        &sql[..sql.len().min(60)]
    );
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Build the catalog from the rows of [`QUERIES`], in that order.
fn assemble(rows: Vec<Rows>) -> Result<Catalog, Error> {
    let mut rows = rows.into_iter();
    let mut next = || rows.next().unwrap_or_default();
    let schemas: Vec<(u32, Schema)> = parse_all(next())?;
    let extensions: Vec<(u32, Extension)> = parse_all(next())?;
    let roles: Vec<(u32, Role)> = parse_all(next())?;
    let collations: Vec<(u32, Collation)> = parse_all(next())?;
    let types: Vec<(u32, Type)> = parse_all(next())?;
    let sequences: Vec<(u32, Sequence)> = parse_all(next())?;
    let mut tables: Vec<(u32, Table)> = parse_all(next())?;
    let mut views: Vec<(u32, View)> = parse_all(next())?;
    let functions: Vec<(u32, Function)> = parse_all(next())?;
    let (columns, constraints, indexes, triggers, policies, dependencies) =
        (next(), next(), next(), next(), next(), next());

    let table_at: HashMap<u32, usize> = index_by_oid(&tables);
    let view_at: HashMap<u32, usize> = index_by_oid(&views);

    // Columns come for tables and views alike; each row parses into the shape of its owner.
    for (oid, json) in &columns {
        if let Some(&i) = table_at.get(oid) {
            tables[i].1.columns.push(parse(json)?);
        } else if let Some(&i) = view_at.get(oid) {
            views[i].1.columns.push(parse(json)?);
        }
    }
    for (oid, constraint) in parse_all::<Constraint>(constraints)? {
        if let Some(&i) = table_at.get(&oid) {
            tables[i].1.constraints.push(constraint);
        }
    }
    for (oid, index) in parse_all::<Index>(indexes)? {
        if let Some(&i) = table_at.get(&oid) {
            tables[i].1.indexes.push(index);
        } else if let Some(&i) = view_at.get(&oid) {
            views[i].1.indexes.push(index);
        }
    }
    for (oid, trigger) in parse_all::<Trigger>(triggers)? {
        if let Some(&i) = table_at.get(&oid) {
            tables[i].1.triggers.push(trigger);
        }
    }
    for (oid, policy) in parse_all::<Policy>(policies)? {
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
    for (oid, edge) in &dependencies {
        // `<kind>:<referenced kind>:<referenced oid>`
        let mut parts = edge.splitn(3, ':');
        let (kind, ref_kind, ref_oid) = (parts.next(), parts.next(), parts.next());
        let from = (kind_char(kind.unwrap_or_default()), *oid);
        let to = (
            kind_char(ref_kind.unwrap_or_default()),
            ref_oid.and_then(|o| o.parse().ok()).unwrap_or_default(),
        );
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

fn parse_all<T: DeserializeOwned>(rows: Rows) -> Result<Vec<(u32, T)>, Error> {
    rows.into_iter()
        .map(|(oid, json)| Ok((oid, parse(&json)?)))
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
