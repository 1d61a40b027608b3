//! Reading a live database into a [`Catalog`]: one bulk query per object kind.

mod definitions;
#[macro_use]
mod queries;
mod aggregates;
mod casts;
mod default_privileges;
mod event_triggers;
mod foreign_data;
mod operator_classes;
mod operators;
mod publications;
mod ranges;
mod rules;
mod statistics;
mod text_search;

use std::collections::{BTreeSet, HashMap};

use serde::de::DeserializeOwned;

use crate::model::*;
use crate::Error;

/// What a bulk query returns: `(oid, text)` rows.
type Rows = Vec<(u32, String)>;

/// The bulk queries, in the order their rows are assembled.
const QUERIES: [&str; 33] = [
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
    queries::PARTITION_INDEXES,
    publications::PUBLICATIONS,
    publications::REPLICA_IDENTITIES,
    default_privileges::DEFAULT_PRIVILEGES,
    rules::RULES,
    ranges::RANGES,
    aggregates::AGGREGATES,
    event_triggers::EVENT_TRIGGERS,
    statistics::STATISTICS,
    text_search::DICTIONARIES,
    text_search::CONFIGURATIONS,
    operators::OPERATORS,
    casts::CASTS,
    operator_classes::OPERATOR_FAMILIES,
    operator_classes::OPERATOR_CLASSES,
    foreign_data::FOREIGN_SERVERS,
    foreign_data::USER_MAPPINGS,
    foreign_data::FOREIGN_TABLES,
];

/// What a second connection runs in [`inspect_parallel`]: about half the server's work.
const ON_SECOND_CONNECTION: [usize; 10] = [2, 3, 4, 6, 7, 8, 11, 12, 13, 14];

/// Kinds most databases have none of, each with the catalog and OID column its objects would
/// be in. What users and extensions create gets an OID from 16384 up (`FirstNormalObjectId`),
/// so a kind with no such row has nothing to read and its query is not run: in a new backend,
/// planning one costs about a millisecond, and twenty of them were a third of inspecting a
/// small schema. All the tests run in the query that starts the inspection.
const ONLY_IF_ANY: [(&str, &str, &str); 21] = [
    (queries::COLLATIONS, "pg_collation", "oid"),
    (queries::SEQUENCES, "pg_sequence", "seqrelid"),
    (queries::TRIGGERS, "pg_trigger", "oid"),
    (queries::POLICIES, "pg_policy", "oid"),
    (queries::PARTITION_INDEXES, "pg_inherits", "inhrelid"),
    (publications::PUBLICATIONS, "pg_publication", "oid"),
    (
        default_privileges::DEFAULT_PRIVILEGES,
        "pg_default_acl",
        "oid",
    ),
    (rules::RULES, "pg_rewrite", "oid"),
    (ranges::RANGES, "pg_range", "rngtypid"),
    (aggregates::AGGREGATES, "pg_aggregate", "aggfnoid"),
    (event_triggers::EVENT_TRIGGERS, "pg_event_trigger", "oid"),
    (statistics::STATISTICS, "pg_statistic_ext", "oid"),
    (text_search::DICTIONARIES, "pg_ts_dict", "oid"),
    (text_search::CONFIGURATIONS, "pg_ts_config", "oid"),
    (operators::OPERATORS, "pg_operator", "oid"),
    (casts::CASTS, "pg_cast", "oid"),
    (operator_classes::OPERATOR_FAMILIES, "pg_opfamily", "oid"),
    (operator_classes::OPERATOR_CLASSES, "pg_opclass", "oid"),
    (foreign_data::FOREIGN_SERVERS, "pg_foreign_server", "oid"),
    // pg_user_mapping is the superuser's (it holds the options); no server, no mapping.
    (foreign_data::USER_MAPPINGS, "pg_foreign_server", "oid"),
    (foreign_data::FOREIGN_TABLES, "pg_foreign_table", "ftrelid"),
];

/// How one inspection reads: the server's version (for [`adapt`]) and which of [`QUERIES`]
/// have nothing to read (by [`ONLY_IF_ANY`]).
struct Reading {
    version: i32,
    empty: [bool; QUERIES.len()],
}

impl Reading {
    /// Queries `which` of [`QUERIES`] (each `(index, sql)`, the sql standing in for the
    /// query), all in one message: the server runs them back to back while the client reads,
    /// instead of two round trips each (a new backend's round trips are most of inspecting a
    /// small schema). Queries with nothing to read are not sent.
    fn run_all(
        &self,
        tx: &mut postgres::Transaction<'_>,
        which: impl IntoIterator<Item = (usize, &'static str)>,
    ) -> Result<Vec<(usize, Rows)>, Error> {
        let which: Vec<(usize, &str)> =
            which.into_iter().filter(|(i, _)| !self.empty[*i]).collect();
        let mut batch = String::new();
        for (_, sql) in &which {
            batch.push_str(&adapt(sql, self.version));
            batch.push_str(";\n");
        }
        let started = std::time::Instant::now();
        let messages = match which.is_empty() {
            true => Vec::new(),
            false => tx.simple_query(&batch)?,
        };
        tracing::debug!("{} queries in {:?}", which.len(), started.elapsed());
        // Each statement's rows end with its CommandComplete.
        let mut sets = vec![Rows::new()];
        for message in messages {
            match message {
                postgres::SimpleQueryMessage::Row(row) => {
                    let (Some(oid), Some(text)) = (row.get(0), row.get(1)) else {
                        return Err(Error::Internal("a catalog query returned a null".into()));
                    };
                    let oid = oid.parse().map_err(|_| {
                        Error::Internal(format!("a catalog query returned {oid:?} for an oid"))
                    })?;
                    sets.last_mut()
                        .expect("never empty")
                        .push((oid, text.to_string()));
                }
                postgres::SimpleQueryMessage::CommandComplete(_) => sets.push(Rows::new()),
                _ => {}
            }
        }
        sets.pop();
        // A result missing here is reported by `in_order`.
        Ok(which.iter().map(|(i, _)| *i).zip(sets).collect())
    }

    /// The rows of every query of [`QUERIES`], in order, from the `(index, rows)` of those
    /// run; those with nothing to read have none.
    fn in_order(&self, parts: impl IntoIterator<Item = (usize, Rows)>) -> Result<Vec<Rows>, Error> {
        let mut rows: Vec<Option<Rows>> = vec![None; QUERIES.len()];
        for (i, r) in parts {
            rows[i] = Some(r);
        }
        rows.into_iter()
            .zip(self.empty)
            .map(|(r, empty)| match (r, empty) {
                (Some(r), _) => Ok(r),
                (None, true) => Ok(Rows::new()),
                (None, false) => Err(Error::Internal("a catalog query returned no result".into())),
            })
            .collect()
    }
}

/// Inspect the database `client` is connected to.
///
/// Runs in one read-only, repeatable-read transaction so every query sees the same snapshot, with
/// an empty `search_path` so PostgreSQL qualifies every name it prints.
pub fn inspect(client: &mut postgres::Client) -> Result<Catalog, Error> {
    let (mut tx, reading) = begin(client)?;
    let rows = reading.in_order(reading.run_all(&mut tx, QUERIES.iter().copied().enumerate())?)?;
    tx.commit()?;
    assemble(rows)
}

/// [`inspect`] of one schema only (a tenant's, in a schema-per-tenant database): the same
/// queries, restricted by the transaction-local setting `tenet.inspect_schema`, so the cost
/// follows the schema's size, not the database's. Extensions are database-wide and still all
/// listed; roles are those the schema's objects reference.
pub fn inspect_schema(client: &mut postgres::Client, schema: &str) -> Result<Catalog, Error> {
    let (mut tx, reading) = begin(client)?;
    tx.batch_execute(&format!(
        "set local tenet.inspect_schema = {}",
        crate::quote::literal(schema)
    ))?;
    let queries = QUERIES.iter().enumerate().map(|(i, &sql)| match sql {
        queries::DEPENDENCIES => (i, queries::DEPENDENCIES_IN_SCHEMA),
        sql => (i, sql),
    });
    let rows = reading.in_order(reading.run_all(&mut tx, queries)?)?;
    tx.commit()?;
    assemble(rows)
}

/// [`inspect`] with the queries shared between two connections to the same database, both
/// reading one exported snapshot: the server works on two cores at once. The second
/// connection is opened by `connect_second` on its own thread while the first one already
/// runs its queries, so its set-up (a TLS handshake, a new backend) costs no wall time.
pub fn inspect_parallel(
    client: &mut postgres::Client,
    connect_second: impl FnOnce() -> Result<postgres::Client, Error> + Send,
) -> Result<Catalog, Error> {
    let (mut tx, reading) = begin(client)?;
    let snapshot: String = tx.query_one("select pg_export_snapshot()", &[])?.get(0);
    let reading = &reading;
    let (mine, helped) = std::thread::scope(|scope| {
        let helper = scope.spawn(|| -> Result<Vec<(usize, Rows)>, Error> {
            let mut second = connect_second()?;
            let mut tx = begin_transaction(&mut second, Some(&snapshot))?;
            let rows = reading.run_all(
                &mut tx,
                ON_SECOND_CONNECTION.iter().map(|&i| (i, QUERIES[i])),
            )?;
            tx.commit()?;
            Ok(rows)
        });
        let mine = reading.run_all(
            &mut tx,
            QUERIES
                .iter()
                .copied()
                .enumerate()
                .filter(|(i, _)| !ON_SECOND_CONNECTION.contains(i)),
        );
        let helped = helper
            .join()
            .map_err(|_| Error::Internal("the second inspect connection panicked".into()));
        (mine, helped)
    });
    let (mine, helped) = (mine?, helped??);
    tx.commit()?;
    assemble(reading.in_order(mine.into_iter().chain(helped))?)
}

/// A read-only repeatable-read transaction set up for catalog queries, and how to read in it:
/// the settings, the server's version and the tests of [`ONLY_IF_ANY`] in one round trip.
fn begin(client: &mut postgres::Client) -> Result<(postgres::Transaction<'_>, Reading), Error> {
    let mut tx = begin_transaction(client, None)?;
    let tests: Vec<String> = ONLY_IF_ANY
        .iter()
        .map(|(_, catalog, oid)| {
            format!("exists (select from pg_catalog.{catalog} where {oid} >= 16384)")
        })
        .collect();
    // JIT compilation costs far more than it saves on catalog queries (half a second on a
    // 2,000-table schema, for a query that runs in milliseconds).
    let row = tx.query_one(
        &format!(
            "select set_config('search_path', '', true), set_config('jit', 'off', true), \
             current_setting('server_version_num')::int, array[{}]",
            tests.join(", ")
        ),
        &[],
    )?;
    let any: Vec<bool> = row.get(3);
    let mut empty = [false; QUERIES.len()];
    for ((sql, _, _), any) in ONLY_IF_ANY.iter().zip(any) {
        let i = QUERIES
            .iter()
            .position(|q| q == sql)
            .expect("ONLY_IF_ANY names queries of QUERIES");
        empty[i] = !any;
    }
    let version = row.get(2);
    Ok((tx, Reading { version, empty }))
}

/// A read-only repeatable-read transaction; on another transaction's exported snapshot, with
/// the settings [`begin`] makes, in one round trip.
fn begin_transaction<'c>(
    client: &'c mut postgres::Client,
    snapshot: Option<&str>,
) -> Result<postgres::Transaction<'c>, Error> {
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    if let Some(snapshot) = snapshot {
        // The snapshot must come before any query of the transaction.
        tx.batch_execute(&format!(
            "set transaction snapshot {}; set local search_path = ''; set local jit = off",
            crate::quote::literal(snapshot)
        ))?;
    }
    Ok(tx)
}

/// Catalog columns the queries read that PostgreSQL added in 15, and what stands for them on
/// older servers (where what they describe cannot exist): `NULLS NOT DISTINCT` and the column
/// list of `ON DELETE SET NULL (...)`.
const SINCE_15: [(&str, &str); 6] = [
    ("ix.indnullsnotdistinct", "false"),
    ("i.indnullsnotdistinct", "false"),
    ("c.confdelsetcols", "null::int2[]"),
    // Publications: column lists, row filters and FOR TABLES IN SCHEMA.
    ("pr.prattrs", "null::int2vector"),
    ("pr.prqual", "null::pg_node_tree"),
    (
        "pg_publication_namespace pn",
        "(select null::oid as pnpubid, null::oid as pnnspid where false) pn",
    ),
];

/// A query as a server of `server_version_num` can run it (see [`SINCE_15`]).
fn adapt(sql: &str, server_version_num: i32) -> std::borrow::Cow<'_, str> {
    if server_version_num >= 150000 {
        return sql.into();
    }
    let mut sql = sql.to_string();
    for (column, stand_in) in SINCE_15 {
        sql = sql.replace(column, stand_in);
    }
    sql.into()
}

/// Run one bulk query; every query returns `(oid, text)` rows.
fn run(tx: &mut postgres::Transaction<'_>, version: i32, sql: &str) -> Result<Rows, Error> {
    let started = std::time::Instant::now();
    let sql = &*adapt(sql, version);
    let rows = tx.query(sql, &[])?;
    tracing::debug!(
        "{} rows in {:?}: {}",
        rows.len(),
        started.elapsed(),
        &sql[..sql.len().min(60)]
    );
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// How the client's renderings of index and key definitions compare with the server's.
#[derive(Debug, Default)]
pub struct DefinitionCheck {
    /// Definitions the client printed and found equal to the server's.
    pub equal: usize,
    /// Definitions left to the server (expressions, checks, exclusions).
    pub by_server: usize,
    /// `(object, server's, client's)` for every definition printed differently.
    pub differ: Vec<(String, String, String)>,
}

/// Print every index and key definition of the database on the client and compare each with
/// what `pg_get_indexdef` / `pg_get_constraintdef` print: how [`inspect`]'s renderings are
/// held to the server's (the tests run it on the corpus).
pub fn compare_definitions(client: &mut postgres::Client) -> Result<DefinitionCheck, Error> {
    let (mut tx, reading) = begin(client)?;
    let indexes = run(&mut tx, reading.version, queries::INDEXES_SERVER_DEFINED)?;
    let constraints = run(
        &mut tx,
        reading.version,
        queries::CONSTRAINTS_SERVER_DEFINED,
    )?;
    tx.commit()?;
    let mut check = DefinitionCheck::default();
    let mut compare = |object: String, server: &str, client: Option<String>| match client {
        None => check.by_server += 1,
        Some(c) if c == server => check.equal += 1,
        Some(c) => check.differ.push((object, server.to_string(), c)),
    };
    for (_, row) in parse_all::<IndexRow>(indexes)? {
        let client = row
            .parts
            .as_ref()
            .map(|p| definitions::index_definition(&row.index, p).unwrap_or_default());
        compare(
            format!("index {}", row.index.name),
            &row.index.definition,
            client,
        );
    }
    for (_, row) in parse_all::<ConstraintRow>(constraints)? {
        let c = &row.constraint;
        let client = row
            .parts
            .as_ref()
            .map(|p| definitions::constraint_definition(c, p).unwrap_or_default());
        compare(format!("constraint {}", c.name), &c.definition, client);
    }
    Ok(check)
}

/// Build the catalog from the rows of [`QUERIES`], in that order.
fn assemble(rows: Vec<Rows>) -> Result<Catalog, Error> {
    let mut rows = rows.into_iter();
    let mut next = || rows.next().unwrap_or_default();
    let schemas: Vec<(u32, Schema)> = parse_all(next())?;
    let extensions: Vec<(u32, Extension)> = parse_all(next())?;
    let roles: Vec<(u32, Role)> = parse_all(next())?;
    let collations: Vec<(u32, Collation)> = parse_all(next())?;
    let mut types: Vec<(u32, Type)> = parse_all(next())?;
    let sequences: Vec<(u32, Sequence)> = parse_all(next())?;
    let mut tables: Vec<(u32, Table)> = parse_all(next())?;
    let mut views: Vec<(u32, View)> = parse_all(next())?;
    let mut functions: Vec<(u32, Function)> = parse_all(next())?;
    let (columns, constraints, indexes, triggers, policies, dependencies, partition_indexes) =
        (next(), next(), next(), next(), next(), next(), next());
    let publications = publications::read(next())?;

    let table_at: HashMap<u32, usize> = index_by_oid(&tables);
    let view_at: HashMap<u32, usize> = index_by_oid(&views);
    publications::attach_replica_identities(next(), &mut tables, &table_at)?;
    let default_privileges = default_privileges::read(next())?;
    rules::attach_rules(next(), &mut tables, &table_at, &mut views, &view_at)?;
    types.extend(ranges::read(next())?);
    functions.extend(aggregates::read(next())?);
    let event_triggers = event_triggers::read(next())?;
    let statistics = statistics::read(next())?;
    let text_search_dictionaries = text_search::read_dictionaries(next())?;
    let text_search_configurations = text_search::read_configurations(next())?;
    let operators = operators::read(next())?;
    let casts = casts::read(next())?;
    let families = operator_classes::read_families(next())?;
    let classes = operator_classes::read_classes(next())?;
    let foreign_servers = foreign_data::read_servers(next())?;
    let user_mappings = foreign_data::read_user_mappings(next())?;
    let foreign_tables = foreign_data::read_foreign_tables(next())?;

    // Columns come for tables and views alike; each row parses into the shape of its owner.
    for (oid, json) in &columns {
        if let Some(&i) = table_at.get(oid) {
            tables[i].1.columns.push(parse(json)?);
        } else if let Some(&i) = view_at.get(oid) {
            views[i].1.columns.push(parse(json)?);
        }
    }
    for (oid, row) in parse_all::<ConstraintRow>(constraints)? {
        if let Some(&i) = table_at.get(&oid) {
            tables[i].1.constraints.push(row.into_constraint()?);
        }
    }
    for (oid, row) in parse_all::<IndexRow>(indexes)? {
        let index = row.into_index()?;
        if let Some(&i) = table_at.get(&oid) {
            tables[i].1.indexes.push(index);
        } else if let Some(&i) = view_at.get(&oid) {
            views[i].1.indexes.push(index);
        }
    }
    for (oid, index) in parse_all::<PartitionIndex>(partition_indexes)? {
        if let Some(&i) = table_at.get(&oid) {
            tables[i].1.partition_indexes.push(index);
        }
    }
    for (oid, trigger) in parse_all::<Trigger>(triggers)? {
        if let Some(&i) = table_at.get(&oid) {
            tables[i].1.triggers.push(trigger);
        } else if let Some(&i) = view_at.get(&oid) {
            views[i].1.triggers.push(trigger);
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
    for (oid, t) in &foreign_tables {
        keys.insert(
            ('r', *oid),
            ObjectKey::relation("foreign table", &t.schema, &t.name),
        );
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
    for (oid, o) in &operators {
        keys.insert(('o', *oid), ObjectKey::operator(o));
    }
    for (oid, c) in &casts {
        keys.insert(('k', *oid), ObjectKey::cast(c));
    }
    for (oid, row) in &classes {
        keys.insert(('c', *oid), row.key());
    }
    let (operator_families, operator_classes) =
        operator_classes::assemble(families, classes, &keys);
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
    let foreign_tables: Vec<ForeignTable> = foreign_tables
        .into_iter()
        .map(|(oid, mut t)| {
            t.depends_on = depends_of(('r', oid));
            t
        })
        .collect();
    let foreign_tables = foreign_data::sort_foreign_tables(foreign_tables);
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

    let mut operators: Vec<Operator> = operators
        .into_iter()
        .map(|(oid, mut o)| {
            o.depends_on = depends_of(('o', oid));
            o
        })
        .collect();
    let mut casts: Vec<Cast> = casts
        .into_iter()
        .map(|(oid, mut c)| {
            c.depends_on = depends_of(('k', oid));
            c
        })
        .collect();
    operators::sort(&mut operators);
    casts::sort(&mut casts);
    casts::order_before_users(&casts, &mut tables, &mut views);

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
        t.partition_indexes.sort_by(|a, b| a.name.cmp(&b.name));
        t.triggers.sort_by(|a, b| a.name.cmp(&b.name));
        t.policies.sort_by(|a, b| a.name.cmp(&b.name));
        t.policies.iter_mut().for_each(|p| p.roles.sort());
        normalize_grants(&mut t.grants);
        t.columns
            .iter_mut()
            .for_each(|c| normalize_grants(&mut c.grants));
    }
    views.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    for v in &mut views {
        v.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        v.triggers.sort_by(|a, b| a.name.cmp(&b.name));
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
        publications,
        event_triggers,
        default_privileges,
        statistics,
        text_search_dictionaries,
        text_search_configurations,
        operators,
        casts,
        operator_families,
        operator_classes,
        foreign_servers,
        user_mappings,
        foreign_tables,
        renames: Vec::new(),
    })
}

/// An index row: the server's definition, or the parts to print it from.
#[derive(serde::Deserialize)]
struct IndexRow {
    #[serde(flatten)]
    index: Index,
    parts: Option<definitions::IndexParts>,
}

impl IndexRow {
    fn into_index(self) -> Result<Index, Error> {
        let mut index = self.index;
        if let Some(parts) = &self.parts {
            let printed = definitions::index_definition(&index, parts);
            index.definition = printed.ok_or_else(|| {
                Error::Internal(format!("cannot print index {}: {parts:?}", index.name))
            })?;
        }
        Ok(index)
    }
}

/// A constraint row: the server's definition, or the parts to print it from.
#[derive(serde::Deserialize)]
struct ConstraintRow {
    #[serde(flatten)]
    constraint: Constraint,
    parts: Option<definitions::ConstraintParts>,
}

impl ConstraintRow {
    fn into_constraint(self) -> Result<Constraint, Error> {
        let mut constraint = self.constraint;
        if let Some(parts) = &self.parts {
            let printed = definitions::constraint_definition(&constraint, parts);
            constraint.definition = printed.ok_or_else(|| {
                Error::Internal(format!(
                    "cannot print constraint {}: {parts:?}",
                    constraint.name
                ))
            })?;
        }
        Ok(constraint)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Only PostgreSQL 15 runs here: the queries as rewritten for 13 and 14 must still run,
    /// and on a schema without what 15 added, read the same as the originals.
    #[test]
    fn queries_rewritten_for_servers_before_15_run_and_read_the_same() {
        let db = tenet_testkit::test_db();
        let mut client = db.connect().unwrap();
        client
            .batch_execute(
                "create table p (id int primary key, code text unique);
                 create table c (id int, p int references p on delete set null, code text);
                 create index on c (code desc nulls last) include (id) where id > 0;
                 create publication everything_in_c for table c;",
            )
            .unwrap();
        let (mut tx, reading) = begin(&mut client).unwrap();
        let version = reading.version;
        for sql in [
            queries::CONSTRAINTS,
            queries::INDEXES,
            queries::PARTITION_INDEXES,
            publications::PUBLICATIONS,
        ] {
            let old = adapt(sql, 140000);
            assert!(
                SINCE_15.iter().all(|(column, _)| !old.contains(column)),
                "{old}"
            );
            assert_eq!(
                run(&mut tx, version, &old).unwrap(),
                run(&mut tx, version, sql).unwrap()
            );
        }
    }
}
