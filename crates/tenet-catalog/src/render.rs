//! Rendering a [`Catalog`] as SQL DDL that recreates it in an empty database.
//!
//! Objects are created in dependency order (from `depends_on`, recorded from `pg_depend`);
//! everything that can only refer to objects that already exist (foreign keys, indexes, triggers,
//! policies, comments, owners, grants) follows once all objects are in place, the way pg_dump
//! orders a dump.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

use crate::model::*;
use crate::quote::{ident, literal};

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
pub use default_privileges::change_default_privileges;
pub use event_triggers::event_trigger_sql;
pub use foreign_data::{
    create_foreign_table, create_server, create_user_mapping, foreign_column_sql, options_list,
    server_grant_target, server_target, split_option, user_mapping_name,
};
pub use operator_classes::{create_operator_class, create_operator_family};
pub use operators::{create_cast, create_operator};
pub use publications::{
    create_publication, publication_objects, publish_options, published_table, replica_identity,
};
pub use rules::{rule_sql, view_trigger_sql};
pub use statistics::{create_statistics, statistics_owner, statistics_target};
pub use text_search::{
    create_text_search_configuration, create_text_search_dictionary, text_search_mapping,
};

/// The whole catalog as one SQL script.
pub fn to_sql(catalog: &Catalog) -> String {
    let mut out = String::new();
    out.push_str("-- Schema rendered by tenet from the PostgreSQL catalog.\n");
    out.push_str("SET check_function_bodies = false;\n");
    out.push_str("SET standard_conforming_strings = on;\n");

    section(&mut out, "Roles", |out| roles(out, &catalog.roles));
    section(&mut out, "Schemas", |out| {
        for s in &catalog.schemas {
            writeln!(out, "CREATE SCHEMA IF NOT EXISTS {};", ident(&s.name)).unwrap();
        }
    });
    section(&mut out, "Extensions", |out| {
        for e in &catalog.extensions {
            writeln!(
                out,
                "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {} VERSION {};",
                ident(&e.name),
                ident(&e.schema),
                literal(&e.version)
            )
            .unwrap();
        }
    });
    // After the extensions that bring their wrappers.
    section(&mut out, "Foreign servers and user mappings", |out| {
        foreign_data::servers_and_user_mappings(out, catalog)
    });
    section(&mut out, "Collations", |out| {
        for c in &catalog.collations {
            writeln!(out, "{};", create_collation(c)).unwrap();
        }
    });

    // Before the tables: a default, generated column or index may name a configuration.
    section(&mut out, "Text search", |out| {
        text_search::text_search(out, catalog)
    });

    let tables_by_name: HashMap<QualifiedName, &Table> = catalog
        .tables
        .iter()
        .map(|t| (t.qualified_name(), t))
        .collect();
    section(
        &mut out,
        "Types, sequences, tables, views, functions, operators and casts",
        |out| {
            for object in creation_order(catalog) {
                match object {
                    Object::Type(t) => create_type(out, t),
                    Object::Sequence(s) => create_sequence(out, s),
                    Object::Table(t) => create_table(out, t, &tables_by_name),
                    Object::View(v) => create_view(out, v),
                    Object::ForeignTable(t) => {
                        writeln!(out, "{}", create_foreign_table(t)).unwrap()
                    }
                    Object::Function(f) => writeln!(out, "{};", f.definition.trim_end()).unwrap(),
                    Object::Operator(o) => writeln!(out, "{}", create_operator(o)).unwrap(),
                    Object::Cast(c) => writeln!(out, "{}", create_cast(c)).unwrap(),
                    Object::OperatorFamily(f) => {
                        writeln!(out, "{}", create_operator_family(f)).unwrap()
                    }
                    Object::OperatorClass(c) => {
                        writeln!(out, "{}", create_operator_class(c)).unwrap()
                    }
                }
            }
        },
    );

    section(
        &mut out,
        "Foreign tables' comments, owners and privileges",
        |out| foreign_data::foreign_table_details(out, catalog),
    );
    section(&mut out, "Sequence ownership", |out| {
        for s in &catalog.sequences {
            if let Some(owner) = &s.owned_by {
                writeln!(
                    out,
                    "ALTER SEQUENCE {} OWNED BY {}.{};",
                    QualifiedName::new(&s.schema, &s.name),
                    owner.table,
                    ident(&owner.column)
                )
                .unwrap();
            }
        }
    });
    section(&mut out, "Constraints added after all tables", |out| {
        for t in &catalog.tables {
            for c in t.constraints.iter().filter(|c| !inline_constraint(t, c)) {
                writeln!(
                    out,
                    "ALTER TABLE {} ADD CONSTRAINT {} {};",
                    t.qualified_name(),
                    ident(&c.name),
                    c.definition
                )
                .unwrap();
            }
        }
    });
    section(&mut out, "Indexes", |out| {
        // Partitions' indexes first, deepest partitions first: each parent index then attaches
        // the one its partition has instead of building its own.
        for (t, i) in partition_indexes_deepest_first(&catalog.tables, &tables_by_name) {
            writeln!(out, "{};", create_index_of(t, i)).unwrap();
        }
        let table_indexes = catalog
            .tables
            .iter()
            .map(|t| (t.partition_by.is_some(), &t.indexes));
        let view_indexes = catalog.views.iter().map(|v| (false, &v.indexes));
        for (partitioned, indexes) in table_indexes.chain(view_indexes) {
            for i in indexes {
                writeln!(out, "{};", create_index(i, partitioned)).unwrap();
            }
        }
    });
    section(&mut out, "Extended statistics", |out| {
        statistics::statistics(out, catalog)
    });
    // After the indexes: `USING INDEX` names one.
    section(&mut out, "Replica identity", |out| {
        publications::replica_identities(out, catalog)
    });
    section(&mut out, "Triggers", |out| {
        for t in &catalog.tables {
            for trigger in &t.triggers {
                writeln!(out, "{};", trigger.definition).unwrap();
                if trigger.enabled != "origin" {
                    writeln!(out, "{}", trigger_state(t, trigger)).unwrap();
                }
            }
        }
    });
    section(&mut out, "Triggers on views and rules", |out| {
        rules::rules_and_view_triggers(out, catalog)
    });
    section(&mut out, "Row-level security", |out| {
        for t in &catalog.tables {
            if t.rls_enabled {
                writeln!(
                    out,
                    "ALTER TABLE {} ENABLE ROW LEVEL SECURITY;",
                    t.qualified_name()
                )
                .unwrap();
            }
            if t.rls_forced {
                writeln!(
                    out,
                    "ALTER TABLE {} FORCE ROW LEVEL SECURITY;",
                    t.qualified_name()
                )
                .unwrap();
            }
            for p in &t.policies {
                writeln!(out, "{};", create_policy(t, p)).unwrap();
            }
        }
    });
    // After every table and column they may name.
    section(&mut out, "Publications", |out| {
        publications::publications(out, catalog)
    });
    section(&mut out, "Comments", |out| comments(out, catalog));
    section(&mut out, "Owners", |out| owners(out, catalog));
    section(&mut out, "Privileges", |out| privileges(out, catalog));
    // Last: they would give objects created after them privileges of their own.
    section(&mut out, "Default privileges", |out| {
        default_privileges::default_privileges(out, catalog)
    });
    // Very last: they would fire on the DDL that follows them.
    section(&mut out, "Event triggers", |out| {
        event_triggers::event_triggers(out, catalog)
    });
    out
}

/// Write a titled section, or nothing when it would be empty.
fn section(out: &mut String, title: &str, body: impl FnOnce(&mut String)) {
    let mut text = String::new();
    body(&mut text);
    if !text.is_empty() {
        write!(out, "\n-- {title}\n{text}").unwrap();
    }
}

/// A top-level object that is created as a whole.
#[derive(Clone, Copy)]
enum Object<'a> {
    Type(&'a Type),
    Sequence(&'a Sequence),
    Table(&'a Table),
    View(&'a View),
    Function(&'a Function),
    Operator(&'a Operator),
    Cast(&'a Cast),
    OperatorFamily(&'a OperatorFamily),
    OperatorClass(&'a OperatorClass),
    ForeignTable(&'a ForeignTable),
}

impl Object<'_> {
    fn key(&self) -> String {
        match self {
            Object::Type(t) => ObjectKey::relation("type", &t.schema, &t.name),
            Object::Sequence(s) => ObjectKey::relation("sequence", &s.schema, &s.name),
            Object::Table(t) => ObjectKey::relation("table", &t.schema, &t.name),
            Object::View(v) if v.materialized => {
                ObjectKey::relation("materialized view", &v.schema, &v.name)
            }
            Object::View(v) => ObjectKey::relation("view", &v.schema, &v.name),
            Object::Function(f) => ObjectKey::function(f),
            Object::Operator(o) => ObjectKey::operator(o),
            Object::Cast(c) => ObjectKey::cast(c),
            Object::OperatorFamily(f) => ObjectKey::operator_family(f),
            Object::OperatorClass(c) => ObjectKey::operator_class(c),
            Object::ForeignTable(t) => ObjectKey::relation("foreign table", &t.schema, &t.name),
        }
    }

    fn depends_on(&self) -> Vec<String> {
        match self {
            Object::Type(t) => t.depends_on.clone(),
            Object::Sequence(_) => Vec::new(),
            Object::Table(t) => {
                // Partitions and inheritance children need their parents first.
                let parents = t.partition_of.iter().map(|p| &p.parent).chain(&t.inherits);
                let parents = parents.map(|p| ObjectKey::relation("table", &p.schema, &p.name));
                t.depends_on.iter().cloned().chain(parents).collect()
            }
            Object::View(v) => v.depends_on.clone(),
            Object::Function(f) => f.depends_on.clone(),
            Object::Operator(o) => o.depends_on.clone(),
            Object::Cast(c) => c.depends_on.clone(),
            Object::OperatorFamily(f) => f.depends_on.clone(),
            Object::OperatorClass(c) => c.depends_on.clone(),
            Object::ForeignTable(t) => t.depends_on.clone(),
        }
    }

    /// Tie-break among objects whose dependencies are met: types, then sequences, functions
    /// (with operators, casts and operator classes), tables and views, each by name, so the
    /// order is stable.
    fn rank(&self) -> u8 {
        match self {
            Object::Type(_) => 0,
            Object::Sequence(_) => 1,
            Object::Function(_)
            | Object::Operator(_)
            | Object::Cast(_)
            | Object::OperatorFamily(_)
            | Object::OperatorClass(_) => 2,
            Object::Table(_) | Object::ForeignTable(_) => 3,
            Object::View(_) => 4,
        }
    }
}

/// Every object, each after what it depends on.
fn creation_order(catalog: &Catalog) -> Vec<Object<'_>> {
    let objects: Vec<Object> = catalog
        .types
        .iter()
        .map(Object::Type)
        .chain(catalog.sequences.iter().map(Object::Sequence))
        .chain(catalog.functions.iter().map(Object::Function))
        .chain(catalog.operators.iter().map(Object::Operator))
        .chain(catalog.casts.iter().map(Object::Cast))
        .chain(catalog.operator_families.iter().map(Object::OperatorFamily))
        .chain(catalog.operator_classes.iter().map(Object::OperatorClass))
        .chain(catalog.tables.iter().map(Object::Table))
        .chain(catalog.views.iter().map(Object::View))
        .chain(catalog.foreign_tables.iter().map(Object::ForeignTable))
        .collect();
    let nodes: Vec<Node> = objects
        .iter()
        .map(|o| Node {
            key: o.key(),
            rank: o.rank(),
            depends_on: o.depends_on(),
        })
        .collect();
    dependency_order(&nodes)
        .into_iter()
        .map(|i| objects[i])
        .collect()
}

/// One object to order: its key, a rank to break ties, and the keys it needs first.
pub struct Node {
    pub key: String,
    pub rank: u8,
    pub depends_on: Vec<String>,
}

/// Indices of `nodes` with each node after the nodes it depends on (dependencies on keys not
/// among the nodes are ignored). Ties go by rank then key, so the order is stable. A dependency
/// cycle (rare: a function returning a table's rows used in that table's default) is broken at
/// its first node by rank and key.
pub fn dependency_order(nodes: &[Node]) -> Vec<usize> {
    let position: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.key.as_str(), i))
        .collect();
    let mut waiting_on = vec![0usize; nodes.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        let needs: BTreeSet<usize> = node
            .depends_on
            .iter()
            .filter_map(|k| position.get(k.as_str()).copied())
            .filter(|&j| j != i)
            .collect();
        waiting_on[i] = needs.len();
        for j in needs {
            dependents[j].push(i);
        }
    }

    let sort_key = |i: usize| (nodes[i].rank, nodes[i].key.as_str(), i);
    let mut ready: BTreeSet<(u8, &str, usize)> = (0..nodes.len())
        .filter(|&i| waiting_on[i] == 0)
        .map(sort_key)
        .collect();
    let mut done = vec![false; nodes.len()];
    let mut order = Vec::with_capacity(nodes.len());
    while order.len() < nodes.len() {
        let next = match ready.pop_first() {
            Some((_, _, i)) => i,
            None => (0..nodes.len())
                .filter(|&i| !done[i])
                .min_by_key(|&i| sort_key(i))
                .expect("nodes remain"),
        };
        if done[next] {
            continue;
        }
        done[next] = true;
        order.push(next);
        for &d in &dependents[next] {
            waiting_on[d] = waiting_on[d].saturating_sub(1);
            if waiting_on[d] == 0 && !done[d] {
                ready.insert(sort_key(d));
            }
        }
    }
    order
}

fn roles(out: &mut String, roles: &[Role]) {
    for r in roles {
        writeln!(out, "{}", create_role(r)).unwrap();
    }
    for r in roles {
        for group in &r.member_of {
            writeln!(out, "GRANT {} TO {};", ident(group), ident(&r.name)).unwrap();
        }
    }
}

/// Create a role unless it exists: roles are shared by every database of a cluster (and two
/// loads at once may race to create one, hence the exception rather than a look-up).
pub fn create_role(r: &Role) -> String {
    let attribute = |on: bool, name: &str| {
        if on {
            name.to_string()
        } else {
            format!("NO{name}")
        }
    };
    format!(
        "DO $tenet$ BEGIN CREATE ROLE {} {} {} {} {}; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $tenet$;",
        ident(&r.name),
        attribute(r.login, "LOGIN"),
        attribute(r.superuser, "SUPERUSER"),
        attribute(r.bypassrls, "BYPASSRLS"),
        attribute(r.inherit, "INHERIT"),
    )
}

pub fn create_collation(c: &Collation) -> String {
    let mut options = vec![format!("provider = {}", c.provider)];
    let settings = [
        ("locale", &c.locale),
        ("lc_collate", &c.lc_collate),
        ("lc_ctype", &c.lc_ctype),
    ];
    for (key, value) in settings {
        if let Some(value) = value {
            options.push(format!("{key} = {}", literal(value)));
        }
    }
    if !c.deterministic {
        options.push("deterministic = false".into());
    }
    format!(
        "CREATE COLLATION {} ({})",
        QualifiedName::new(&c.schema, &c.name),
        options.join(", ")
    )
}

pub fn create_type(out: &mut String, t: &Type) {
    let name = QualifiedName::new(&t.schema, &t.name);
    match &t.kind {
        TypeKind::Enum { labels } => {
            let labels: Vec<String> = labels.iter().map(|l| literal(l)).collect();
            writeln!(out, "CREATE TYPE {name} AS ENUM ({});", labels.join(", ")).unwrap();
        }
        TypeKind::Domain {
            base,
            not_null,
            default,
            collation,
            checks,
        } => {
            write!(out, "CREATE DOMAIN {name} AS {base}").unwrap();
            if let Some(c) = collation {
                write!(out, " COLLATE {c}").unwrap();
            }
            if let Some(d) = default {
                write!(out, " DEFAULT {d}").unwrap();
            }
            if *not_null {
                out.push_str(" NOT NULL");
            }
            out.push_str(";\n");
            for check in checks {
                writeln!(
                    out,
                    "ALTER DOMAIN {name} ADD CONSTRAINT {} {};",
                    ident(&check.name),
                    check.definition
                )
                .unwrap();
            }
        }
        TypeKind::Composite { attributes } => {
            let attributes: Vec<String> = attributes
                .iter()
                .map(|a| {
                    let collate = a
                        .collation
                        .as_ref()
                        .map(|c| format!(" COLLATE {c}"))
                        .unwrap_or_default();
                    format!("{} {}{collate}", ident(&a.name), a.data_type)
                })
                .collect();
            writeln!(out, "CREATE TYPE {name} AS ({});", attributes.join(", ")).unwrap();
        }
        TypeKind::Range { .. } => writeln!(out, "{};", ranges::create_range(t)).unwrap(),
    }
}

pub fn sequence_options(o: &SequenceOptions) -> String {
    format!(
        "START WITH {} INCREMENT BY {} MINVALUE {} MAXVALUE {} CACHE {}{}",
        o.start,
        o.increment,
        o.min,
        o.max,
        o.cache,
        if o.cycle { " CYCLE" } else { " NO CYCLE" }
    )
}

pub fn create_sequence(out: &mut String, s: &Sequence) {
    writeln!(
        out,
        "CREATE SEQUENCE {} AS {} {};",
        QualifiedName::new(&s.schema, &s.name),
        s.options.data_type,
        sequence_options(&s.options)
    )
    .unwrap();
}

/// Constraints written inside `CREATE TABLE`: those that need nothing but the table itself.
/// Foreign keys wait for every table; constraints of partitions and NOT VALID ones are added by
/// `ALTER TABLE`, the only place PostgreSQL accepts them.
/// `CREATE INDEX` for an index; on a partitioned table without `ON ONLY`, which would leave
/// the partitions without their index.
pub fn create_index(i: &Index, partitioned: bool) -> String {
    if partitioned {
        i.definition.replacen(" ON ONLY ", " ON ", 1)
    } else {
        i.definition.clone()
    }
}

/// `CREATE INDEX` for a partition's attached index.
pub fn create_index_of(t: &Table, i: &PartitionIndex) -> String {
    if t.partition_by.is_some() {
        i.definition.replacen(" ON ONLY ", " ON ", 1)
    } else {
        i.definition.clone()
    }
}

/// How many parents a table has above it.
pub fn partition_depth(t: &Table, tables: &HashMap<QualifiedName, &Table>) -> usize {
    let mut depth = 0;
    let mut at = t;
    while let Some(parent) = at.partition_of.as_ref().and_then(|p| tables.get(&p.parent)) {
        depth += 1;
        at = parent;
        if depth > 64 {
            break;
        }
    }
    depth
}

/// Every partition index with its table, deepest partitions first.
pub fn partition_indexes_deepest_first<'t>(
    tables: &'t [Table],
    by_name: &HashMap<QualifiedName, &Table>,
) -> Vec<(&'t Table, &'t PartitionIndex)> {
    let mut out: Vec<(usize, &Table, &PartitionIndex)> = tables
        .iter()
        .flat_map(|t| t.partition_indexes.iter().map(move |i| (t, i)))
        .map(|(t, i)| (partition_depth(t, by_name), t, i))
        .collect();
    out.sort_by_key(|x| std::cmp::Reverse(x.0));
    out.into_iter().map(|(_, t, i)| (t, i)).collect()
}

pub fn inline_constraint(table: &Table, c: &Constraint) -> bool {
    if c.kind == ConstraintKind::ForeignKey || !c.validated || table.partition_of.is_some() {
        return false;
    }
    // CREATE TABLE keeps one of the primary key and unique constraints on the same key (the
    // primary key, else the first) and silently drops the others: those are added after it.
    let Some(key) = index_key(c) else {
        return true;
    };
    let same_key = |o: &&Constraint| o.validated && index_key(o) == Some(key);
    let kept = table
        .constraints
        .iter()
        .filter(same_key)
        .find(|o| o.kind == ConstraintKind::PrimaryKey)
        .or_else(|| table.constraints.iter().find(same_key));
    kept.is_some_and(|kept| kept.name == c.name)
}

/// What a primary key or unique constraint's index is made of: its definition after the
/// keyword (`(id, at)`, `(a) INCLUDE (b) DEFERRABLE`).
fn index_key(c: &Constraint) -> Option<&str> {
    let keyword = match c.kind {
        ConstraintKind::PrimaryKey => "PRIMARY KEY",
        ConstraintKind::Unique => "UNIQUE",
        _ => return None,
    };
    c.definition.strip_prefix(keyword).map(str::trim_start)
}

pub fn column_sql(c: &Column) -> String {
    let mut sql = format!("{} {}", ident(&c.name), c.data_type);
    if let Some(collation) = &c.collation {
        write!(sql, " COLLATE {collation}").unwrap();
    }
    if let Some(expr) = &c.generated {
        write!(sql, " GENERATED ALWAYS AS ({expr}) STORED").unwrap();
    }
    if let Some(default) = &c.default {
        write!(sql, " DEFAULT {default}").unwrap();
    }
    if c.not_null {
        sql.push_str(" NOT NULL");
    }
    if let Some(identity) = &c.identity {
        write!(
            sql,
            " GENERATED {} AS IDENTITY ({})",
            identity.generation.to_uppercase(),
            sequence_options(&identity.sequence)
        )
        .unwrap();
    }
    sql
}

pub fn create_table(out: &mut String, t: &Table, tables: &HashMap<QualifiedName, &Table>) {
    let name = t.qualified_name();
    let unlogged = if t.unlogged { "UNLOGGED " } else { "" };
    if let Some(partition) = &t.partition_of {
        write!(
            out,
            "CREATE {unlogged}TABLE {name} PARTITION OF {} {}",
            partition.parent, partition.bound
        )
        .unwrap();
    } else {
        let mut items: Vec<String> = t
            .columns
            .iter()
            .filter(|c| !c.inherited)
            .map(column_sql)
            .collect();
        items.extend(
            t.constraints
                .iter()
                .filter(|c| inline_constraint(t, c))
                .map(|c| format!("CONSTRAINT {} {}", ident(&c.name), c.definition)),
        );
        write!(out, "CREATE {unlogged}TABLE {name} (").unwrap();
        if !items.is_empty() {
            write!(out, "\n    {}\n", items.join(",\n    ")).unwrap();
        }
        out.push(')');
        if !t.inherits.is_empty() {
            let parents: Vec<String> = t.inherits.iter().map(ToString::to_string).collect();
            write!(out, " INHERITS ({})", parents.join(", ")).unwrap();
        }
    }
    if let Some(key) = &t.partition_by {
        write!(out, " PARTITION BY {key}").unwrap();
    }
    if !t.options.is_empty() {
        write!(out, " WITH ({})", t.options.join(", ")).unwrap();
    }
    out.push_str(";\n");

    // Inherited columns may carry their own default or NOT NULL beyond the parent's.
    let parent = t
        .partition_of
        .as_ref()
        .map(|p| &p.parent)
        .or(t.inherits.first())
        .and_then(|p| tables.get(p));
    for c in t.columns.iter().filter(|c| c.inherited) {
        let from_parent = parent.and_then(|p| p.column(&c.name));
        if c.default.is_some() && c.default != from_parent.and_then(|p| p.default.clone()) {
            writeln!(
                out,
                "ALTER TABLE ONLY {name} ALTER COLUMN {} SET DEFAULT {};",
                ident(&c.name),
                c.default.as_deref().unwrap_or_default()
            )
            .unwrap();
        }
        if c.not_null && !from_parent.is_some_and(|p| p.not_null) {
            writeln!(
                out,
                "ALTER TABLE ONLY {name} ALTER COLUMN {} SET NOT NULL;",
                ident(&c.name)
            )
            .unwrap();
        }
    }
}

/// `ALTER TABLE ... ENABLE|DISABLE ... TRIGGER` for the trigger's firing state.
pub fn trigger_state(t: &Table, trigger: &Trigger) -> String {
    let state = match trigger.enabled.as_str() {
        "disabled" => "DISABLE TRIGGER",
        "replica" => "ENABLE REPLICA TRIGGER",
        "always" => "ENABLE ALWAYS TRIGGER",
        _ => "ENABLE TRIGGER",
    };
    format!(
        "ALTER TABLE {} {state} {};",
        t.qualified_name(),
        ident(&trigger.name)
    )
}

pub fn create_view(out: &mut String, v: &View) {
    let name = QualifiedName::new(&v.schema, &v.name);
    let kind = if v.materialized {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    };
    let options = if v.options.is_empty() {
        String::new()
    } else {
        format!(" WITH ({})", v.options.join(", "))
    };
    let query = v.definition.trim().trim_end_matches(';');
    writeln!(out, "CREATE {kind} {name}{options} AS\n{query};").unwrap();
}

pub fn create_policy(t: &Table, p: &Policy) -> String {
    let mut sql = format!("CREATE POLICY {} ON {}", ident(&p.name), t.qualified_name());
    if !p.permissive {
        sql.push_str(" AS RESTRICTIVE");
    }
    write!(sql, " FOR {}", p.command.to_uppercase()).unwrap();
    let roles: Vec<String> = p
        .roles
        .iter()
        .map(|r| {
            if r == "public" {
                "PUBLIC".into()
            } else {
                ident(r)
            }
        })
        .collect();
    write!(sql, " TO {}", roles.join(", ")).unwrap();
    if let Some(using) = &p.using {
        write!(sql, " USING ({using})").unwrap();
    }
    if let Some(check) = &p.with_check {
        write!(sql, " WITH CHECK ({check})").unwrap();
    }
    sql
}

pub fn comment(out: &mut String, target: &str, text: &Option<String>) {
    if let Some(text) = text {
        writeln!(out, "COMMENT ON {target} IS {};", literal(text)).unwrap();
    }
}

fn comments(out: &mut String, catalog: &Catalog) {
    for s in &catalog.schemas {
        comment(out, &format!("SCHEMA {}", ident(&s.name)), &s.comment);
    }
    for c in &catalog.collations {
        let name = QualifiedName::new(&c.schema, &c.name);
        comment(out, &format!("COLLATION {name}"), &c.comment);
    }
    for t in &catalog.types {
        let kind = match t.kind {
            TypeKind::Domain { .. } => "DOMAIN",
            _ => "TYPE",
        };
        let name = QualifiedName::new(&t.schema, &t.name);
        comment(out, &format!("{kind} {name}"), &t.comment);
    }
    for s in &catalog.sequences {
        let name = QualifiedName::new(&s.schema, &s.name);
        comment(out, &format!("SEQUENCE {name}"), &s.comment);
    }
    for t in &catalog.tables {
        let name = t.qualified_name();
        comment(out, &format!("TABLE {name}"), &t.comment);
        for c in &t.columns {
            comment(
                out,
                &format!("COLUMN {name}.{}", ident(&c.name)),
                &c.comment,
            );
        }
        for c in &t.constraints {
            comment(
                out,
                &format!("CONSTRAINT {} ON {name}", ident(&c.name)),
                &c.comment,
            );
        }
        for i in &t.indexes {
            let index = QualifiedName::new(&t.schema, &i.name);
            comment(out, &format!("INDEX {index}"), &i.comment);
        }
        for tr in &t.triggers {
            comment(
                out,
                &format!("TRIGGER {} ON {name}", ident(&tr.name)),
                &tr.comment,
            );
        }
        for p in &t.policies {
            comment(
                out,
                &format!("POLICY {} ON {name}", ident(&p.name)),
                &p.comment,
            );
        }
    }
    for v in &catalog.views {
        let name = QualifiedName::new(&v.schema, &v.name);
        let kind = if v.materialized {
            "MATERIALIZED VIEW"
        } else {
            "VIEW"
        };
        comment(out, &format!("{kind} {name}"), &v.comment);
        for c in &v.columns {
            comment(
                out,
                &format!("COLUMN {name}.{}", ident(&c.name)),
                &c.comment,
            );
        }
        for i in &v.indexes {
            let index = QualifiedName::new(&v.schema, &i.name);
            comment(out, &format!("INDEX {index}"), &i.comment);
        }
    }
    for f in &catalog.functions {
        let kind = f.kind.to_uppercase();
        comment(out, &format!("{kind} {}", f.signature()), &f.comment);
    }
    operators::comments(out, catalog);
    operator_classes::comments(out, catalog);
}

fn owners(out: &mut String, catalog: &Catalog) {
    let mut owner = |target: String, owner: &str| {
        writeln!(out, "ALTER {target} OWNER TO {};", ident(owner)).unwrap();
    };
    for s in &catalog.schemas {
        owner(format!("SCHEMA {}", ident(&s.name)), &s.owner);
    }
    for c in &catalog.collations {
        owner(
            format!("COLLATION {}", QualifiedName::new(&c.schema, &c.name)),
            &c.owner,
        );
    }
    for t in &catalog.types {
        owner(
            format!("TYPE {}", QualifiedName::new(&t.schema, &t.name)),
            &t.owner,
        );
    }
    for s in &catalog.sequences {
        owner(
            format!("SEQUENCE {}", QualifiedName::new(&s.schema, &s.name)),
            &s.owner,
        );
    }
    for t in &catalog.tables {
        owner(format!("TABLE {}", t.qualified_name()), &t.owner);
    }
    for v in &catalog.views {
        let kind = if v.materialized {
            "MATERIALIZED VIEW"
        } else {
            "VIEW"
        };
        owner(
            format!("{kind} {}", QualifiedName::new(&v.schema, &v.name)),
            &v.owner,
        );
    }
    for f in &catalog.functions {
        owner(
            format!("{} {}", f.kind.to_uppercase(), f.signature()),
            &f.owner,
        );
    }
    operators::owners(out, catalog);
    operator_classes::owners(out, catalog);
}

/// Explicit privileges: revoke the defaults, then grant exactly what the catalog lists.
fn privileges(out: &mut String, catalog: &Catalog) {
    let mut acl = |target: String, owner: &str, grants: &Option<Vec<Grant>>| {
        grant_statements(out, &target, owner, grants)
    };
    for s in &catalog.schemas {
        acl(format!("SCHEMA {}", ident(&s.name)), &s.owner, &s.grants);
    }
    for s in &catalog.sequences {
        let name = QualifiedName::new(&s.schema, &s.name);
        acl(format!("SEQUENCE {name}"), &s.owner, &s.grants);
    }
    for t in &catalog.tables {
        acl(format!("TABLE {}", t.qualified_name()), &t.owner, &t.grants);
    }
    for v in &catalog.views {
        let name = QualifiedName::new(&v.schema, &v.name);
        acl(format!("TABLE {name}"), &v.owner, &v.grants);
    }
    for f in &catalog.functions {
        acl(f.privilege_target(), &f.owner, &f.grants);
    }
    // After the tables' own: revoking a table privilege revokes it from every column too.
    for t in &catalog.tables {
        for c in &t.columns {
            column_grant_statements(out, &t.qualified_name().to_string(), &c.name, &c.grants);
        }
    }
}

/// `GRANT priv (column) ON TABLE table TO grantee` for each of a column's own privileges.
pub fn column_grant_statements(
    out: &mut String,
    table: &str,
    column: &str,
    grants: &Option<Vec<Grant>>,
) {
    for g in grants.iter().flatten() {
        let grantee = if g.grantee == "PUBLIC" {
            "PUBLIC".to_string()
        } else {
            ident(&g.grantee)
        };
        let option = if g.grantable {
            " WITH GRANT OPTION"
        } else {
            ""
        };
        writeln!(
            out,
            "GRANT {} ({}) ON TABLE {table} TO {grantee}{option};",
            g.privilege,
            ident(column)
        )
        .unwrap();
    }
}

/// Revoke the defaults on `target`, then grant exactly `grants`; nothing when the object keeps
/// its default privileges (`None`).
pub fn grant_statements(out: &mut String, target: &str, owner: &str, grants: &Option<Vec<Grant>>) {
    let Some(grants) = grants else { return };
    writeln!(out, "REVOKE ALL ON {target} FROM PUBLIC;").unwrap();
    writeln!(out, "REVOKE ALL ON {target} FROM {};", ident(owner)).unwrap();
    // One GRANT per grantee and grant option, privileges in catalog order.
    let mut grouped: Vec<((&str, bool), Vec<&str>)> = Vec::new();
    for g in grants {
        let key = (g.grantee.as_str(), g.grantable);
        match grouped.iter_mut().find(|(k, _)| *k == key) {
            Some((_, privileges)) => privileges.push(&g.privilege),
            None => grouped.push((key, vec![&g.privilege])),
        }
    }
    for ((grantee, grantable), privileges) in grouped {
        let grantee = if grantee == "PUBLIC" {
            "PUBLIC".to_string()
        } else {
            ident(grantee)
        };
        let option = if grantable { " WITH GRANT OPTION" } else { "" };
        writeln!(
            out,
            "GRANT {} ON {target} TO {grantee}{option};",
            privileges.join(", ")
        )
        .unwrap();
    }
}
