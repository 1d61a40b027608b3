//! The differ: compares two catalogs object by object and emits steps phase by phase.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use tenet_catalog::model::*;
use tenet_catalog::quote::{ident, literal};
use tenet_catalog::render::{self, Node};

use crate::canon;
use crate::casts;
use crate::default_privileges;
use crate::event_triggers;
use crate::foreign_data;
use crate::names;
use crate::operators;
use crate::partitions;
use crate::plan::{Hazard, Lock, Plan, Step};
use crate::publications;
use crate::renames;
use crate::rules;
use crate::sequences;
use crate::statistics;
use crate::table;
use crate::text_search;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Accept steps that lose data (drop table or column, narrowing type changes, ...).
    pub allow_destructive: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("the plan loses data; rerun with --allow-destructive to accept it:\n{}", describe(.0))]
    Destructive(Vec<Step>),
    /// Columns whose type changes where PostgreSQL has no cast: no statement the plan could
    /// emit would run.
    #[error("{}", casts::describe_retypes(.0))]
    NoCast(Vec<casts::Retype>),
}

fn describe(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| {
            format!(
                "  {}: {}",
                s.object,
                s.sql.lines().next().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The plan from `from` to `to`. Renames are never guessed: a renamed object is dropped and
/// created, and so needs `allow_destructive` when it holds data, unless `to` says it was
/// renamed (`Catalog::renames`, from `-- tenet:renamed-from` hints).
pub fn plan(from: &Catalog, to: &Catalog, options: &Options) -> Result<Plan, PlanError> {
    let (renamed, mut steps) = renames::apply(from, to);
    let from: &Catalog = &renamed;
    let retypes = casts::uncastable(from, to);
    if !retypes.is_empty() {
        return Err(PlanError::NoCast(retypes));
    }
    steps.extend(Differ::new(from, to).run());
    let plan = Plan { steps };
    let destructive: Vec<Step> = plan
        .steps
        .iter()
        .filter(|s| s.is_destructive())
        .cloned()
        .collect();
    if !options.allow_destructive && !destructive.is_empty() {
        return Err(PlanError::Destructive(destructive));
    }
    Ok(plan)
}

/// Whether a partition's parent, or one of its parents, is dropped and created again.
fn parent_recreated(t: &Table, a: &Side, b: &Side) -> bool {
    let mut at = t;
    for _ in 0..64 {
        let Some(parent) = at.partition_of.as_ref().map(|p| &p.parent) else {
            return false;
        };
        let (Some(old), Some(new)) = (a.tables.get(parent), b.tables.get(parent)) else {
            return false;
        };
        if table::recreated_whole(old, new) {
            return true;
        }
        at = old;
    }
    false
}

/// One catalog, indexed by the keys the diff matches objects on.
pub(crate) struct Side<'a> {
    pub catalog: &'a Catalog,
    pub tables: BTreeMap<QualifiedName, &'a Table>,
    pub views: BTreeMap<QualifiedName, &'a View>,
    pub functions: BTreeMap<String, &'a Function>,
    pub types: BTreeMap<QualifiedName, &'a Type>,
    pub sequences: BTreeMap<QualifiedName, &'a Sequence>,
    pub collations: BTreeMap<QualifiedName, &'a Collation>,
    /// Table rows by name, for `render::create_table` (partitions look up their parent).
    pub table_map: HashMap<QualifiedName, &'a Table>,
}

impl<'a> Side<'a> {
    fn new(catalog: &'a Catalog) -> Side<'a> {
        let qn = |s: &str, n: &str| QualifiedName::new(s, n);
        Side {
            catalog,
            tables: catalog
                .tables
                .iter()
                .map(|t| (t.qualified_name(), t))
                .collect(),
            views: catalog
                .views
                .iter()
                .map(|v| (qn(&v.schema, &v.name), v))
                .collect(),
            functions: catalog
                .functions
                .iter()
                .map(|f| (ObjectKey::function(f), f))
                .collect(),
            types: catalog
                .types
                .iter()
                .map(|t| (qn(&t.schema, &t.name), t))
                .collect(),
            sequences: catalog
                .sequences
                .iter()
                .map(|s| (qn(&s.schema, &s.name), s))
                .collect(),
            collations: catalog
                .collations
                .iter()
                .map(|c| (qn(&c.schema, &c.name), c))
                .collect(),
            table_map: catalog
                .tables
                .iter()
                .map(|t| (t.qualified_name(), t))
                .collect(),
        }
    }
}

pub(crate) fn view_key(v: &View) -> String {
    let kind = if v.materialized {
        "materialized view"
    } else {
        "view"
    };
    ObjectKey::relation(kind, &v.schema, &v.name)
}

pub(crate) fn table_key(t: &Table) -> String {
    ObjectKey::relation("table", &t.schema, &t.name)
}

fn type_key(t: &Type) -> String {
    ObjectKey::relation("type", &t.schema, &t.name)
}

struct Differ<'a> {
    a: Side<'a>,
    b: Side<'a>,
    /// Keys (of `from`) of views and functions dropped up front and created again later.
    recreated: BTreeSet<String>,
    /// Functions whose drop waits until tables no longer use them.
    late_function_drops: BTreeSet<String>,
    /// Tables dropped before the creates, because something new takes their name.
    early_table_drops: BTreeSet<QualifiedName>,
    /// Sequences released from their owning column before it goes.
    detached_sequences: BTreeSet<QualifiedName>,
    /// New sequences that take a name a dropped table holds.
    sequences_after_drops: Vec<Step>,
    /// Sequences dropped right before a new table or view takes their name.
    early_sequence_drops: BTreeSet<QualifiedName>,
    /// Drops of old types parked aside, ordered among the other drops (after the tables that
    /// use them, before the functions they use).
    late_drops: Vec<(Node, Step)>,
    /// Qualified names of enum types on either side: casts between them go through text.
    enums: BTreeSet<String>,
    steps: Vec<Step>,
}

impl<'a> Differ<'a> {
    fn new(from: &'a Catalog, to: &'a Catalog) -> Differ<'a> {
        let (mut a, b) = (Side::new(from), Side::new(to));
        // Partitions of a table dropped and created again go with it (DROP TABLE takes them):
        // to the diff they are not there before, so they are created again, with their own
        // indexes, keys, grants and comments.
        let gone: Vec<QualifiedName> = a
            .tables
            .iter()
            .filter(|(_, t)| parent_recreated(t, &a, &b))
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            a.tables.remove(&name);
        }
        Differ {
            a,
            b,
            recreated: BTreeSet::new(),
            late_function_drops: BTreeSet::new(),
            early_table_drops: BTreeSet::new(),
            detached_sequences: BTreeSet::new(),
            sequences_after_drops: Vec::new(),
            early_sequence_drops: BTreeSet::new(),
            late_drops: Vec::new(),
            enums: from
                .types
                .iter()
                .chain(&to.types)
                .filter(|t| matches!(t.kind, TypeKind::Enum { .. }))
                .map(|t| QualifiedName::new(&t.schema, &t.name).to_string())
                .collect(),
            steps: Vec::new(),
        }
    }

    /// The view of the same name in `from`, unless it is dropped and created again.
    fn old_view(&self, v: &View) -> Option<&'a View> {
        let old = self.a.views.get(&QualifiedName::new(&v.schema, &v.name))?;
        (!self.recreated.contains(&view_key(old))).then_some(*old)
    }

    fn run(mut self) -> Vec<Step> {
        // Event triggers go first: they would fire on the plan's own DDL.
        self.steps
            .extend(event_triggers::early_steps(self.a.catalog, self.b.catalog));
        self.find_recreated();
        // Rules and view triggers let go of what changes under them (functions and views
        // dropped below, columns changed later) first.
        let rule_steps = {
            let cx = rules::Context::new(&self.a, &self.b, &self.recreated);
            (rules::early_steps(&cx), rules::late_steps(&cx))
        };
        self.steps.extend(rule_steps.0);
        // Statistics too (a function their expressions call may be dropped below).
        let statistics_steps = {
            let cx = statistics::Context::new(&self.a, &self.b, &self.recreated);
            let usual_owner = usual_owner(self.a.catalog);
            let early = statistics::early_steps(&cx);
            (early, statistics::late_steps(&cx, usual_owner.as_deref()))
        };
        self.steps.extend(statistics_steps.0);
        self.drop_recreated();
        // Once the views on them are gone: foreign tables, mappings and servers that go.
        self.steps
            .extend(foreign_data::early_steps(self.a.catalog, self.b.catalog));
        // Publications let go of what changes under them before anything changes.
        self.steps
            .extend(publications::early_steps(&self.a, &self.b));
        self.create_containers();
        let usual = usual_owner(self.a.catalog);
        self.steps.extend(text_search::early_steps(
            self.a.catalog,
            self.b.catalog,
            usual.as_deref(),
        ));
        self.steps.extend(foreign_data::server_steps(
            self.a.catalog,
            self.b.catalog,
            usual.as_deref(),
        ));
        self.change_types_and_sequences();
        self.detach_sequences();
        let (mut fk_drops, mut other_drops) = (Vec::new(), Vec::new());
        let recreated = table::Recreated::new(&self.a, &self.b, &self.recreated);
        for (name, old) in &self.a.tables {
            if let Some(new) = self.b.tables.get(name) {
                let (fks, others) = table::drop_changed_parts(old, new, &recreated);
                fk_drops.extend(fks);
                other_drops.extend(others);
            } else {
                fk_drops.extend(table::drop_foreign_keys(old));
            }
        }
        // Every foreign key goes before any key it may reference.
        self.steps.extend(fk_drops);
        self.steps.extend(other_drops);
        self.drop_tables_whose_names_are_reused();
        self.steps.append(&mut self.sequences_after_drops);
        self.create_and_alter();
        self.add_table_parts();
        self.steps.extend(rule_steps.1);
        self.steps.extend(statistics_steps.1);
        self.steps
            .extend(publications::replica_identity_steps(&self.a, &self.b));
        let usual_owner = usual_owner(self.a.catalog);
        self.steps.extend(publications::late_steps(
            &self.a,
            &self.b,
            usual_owner.as_deref(),
        ));
        // After every create (a new default would grant new objects more than the target
        // lists), before schemas go.
        self.steps
            .extend(default_privileges::steps(self.a.catalog, self.b.catalog));
        self.drop_removed();
        self.comments_owners_grants();
        self.steps
            .extend(event_triggers::late_steps(self.a.catalog, self.b.catalog));
        self.steps
    }

    /// Views and functions that must be dropped and created again: those changed in ways
    /// `CREATE OR REPLACE` cannot express, those that are gone, and everything that depends on
    /// them or on a table whose column types change.
    fn find_recreated(&mut self) {
        let mut changed: BTreeSet<String> = BTreeSet::new();
        for (name, v) in &self.a.views {
            if self.b.views.get(name).is_none_or(|new| !same_view(v, new)) {
                changed.insert(view_key(v));
            }
        }
        for (key, f) in &self.a.functions {
            match self.b.functions.get(key) {
                None => {
                    // Gone. Dropped at the end, when nothing uses it any more; early only when
                    // a new overload of the same name could clash with it.
                    let clash = self
                        .b
                        .catalog
                        .functions
                        .iter()
                        .any(|n| n.schema == f.schema && n.name == f.name);
                    let used_by_table = self
                        .a
                        .catalog
                        .tables
                        .iter()
                        .any(|t| t.depends_on.contains(key));
                    if clash && !used_by_table {
                        changed.insert(key.clone());
                    } else {
                        self.late_function_drops.insert(key.clone());
                    }
                }
                Some(new) if new.returns != f.returns || new.kind != f.kind => {
                    changed.insert(key.clone());
                }
                Some(_) => {}
            }
        }
        changed.extend(operators::changed(self.a.catalog, self.b.catalog));
        // Tables and types whose shape changes under their dependents.
        let mut shaken: BTreeSet<String> = BTreeSet::new();
        for (name, old) in &self.a.tables {
            match self.b.tables.get(name) {
                Some(new) if !table::shape_changes(old, new) => {}
                _ => {
                    shaken.insert(table_key(old));
                }
            }
        }
        shaken.extend(foreign_data::shaken(self.a.catalog, self.b.catalog));
        for (name, old) in &self.a.types {
            match self.b.types.get(name) {
                Some(new) if new.kind == old.kind => {}
                Some(new) if enum_additions(old, new).is_some() => {}
                _ => {
                    shaken.insert(type_key(old));
                }
            }
        }
        // Tables with a column of a replaced type change shape too.
        let replaced_types: BTreeSet<String> = self
            .a
            .types
            .values()
            .filter(|ty| shaken.contains(&type_key(ty)))
            .map(|ty| QualifiedName::new(&ty.schema, &ty.name).to_string())
            .collect();
        for t in self.a.tables.values() {
            let uses_shaken = t
                .columns
                .iter()
                .any(|c| replaced_types.contains(c.data_type.trim_end_matches("[]")));
            if uses_shaken {
                shaken.insert(table_key(t));
            }
        }
        // Spread to dependents until nothing changes.
        loop {
            let mut grew = false;
            let dirty = |deps: &Vec<String>| {
                deps.iter()
                    .any(|d| changed.contains(d) || shaken.contains(d))
            };
            let mut add = Vec::new();
            for v in self.a.views.values() {
                if !changed.contains(&view_key(v)) && dirty(&v.depends_on) {
                    add.push(view_key(v));
                }
            }
            for (key, f) in &self.a.functions {
                if !changed.contains(key)
                    && !self.late_function_drops.contains(key)
                    && dirty(&f.depends_on)
                {
                    add.push(key.clone());
                }
            }
            add.extend(
                operators::depending_on(self.a.catalog, self.b.catalog, &changed, dirty)
                    .into_iter()
                    .filter(|k| !changed.contains(k)),
            );
            for key in add {
                grew |= changed.insert(key);
            }
            if !grew {
                break;
            }
        }
        self.recreated = changed;
    }

    fn drop_recreated(&mut self) {
        let mut nodes = Vec::new();
        let mut drops = Vec::new();
        for v in self
            .a
            .views
            .values()
            .filter(|v| self.recreated.contains(&view_key(v)))
        {
            let kind = if v.materialized {
                "MATERIALIZED VIEW"
            } else {
                "VIEW"
            };
            let name = QualifiedName::new(&v.schema, &v.name);
            nodes.push(Node {
                key: view_key(v),
                rank: 4,
                depends_on: v.depends_on.clone(),
            });
            drops.push(
                Step::new(view_key(v), format!("DROP {kind} {name};")).lock(Lock::AccessExclusive),
            );
        }
        for (key, f) in self
            .a
            .functions
            .iter()
            .filter(|(k, _)| self.recreated.contains(*k))
        {
            nodes.push(Node {
                key: key.clone(),
                rank: 2,
                depends_on: f.depends_on.clone(),
            });
            drops.push(Step::new(
                key.clone(),
                format!("DROP {} {};", f.kind.to_uppercase(), f.signature()),
            ));
        }
        for (node, step) in operators::drops_of_recreated(self.a.catalog, &self.recreated) {
            nodes.push(node);
            drops.push(step);
        }
        // Triggers and policies that call a dropped function go first; they come back later.
        let recreated = table::Recreated::new(&self.a, &self.b, &self.recreated);
        for old in self.a.tables.values() {
            if let Some(new) = self.b.tables.get(&old.qualified_name()) {
                self.steps.extend(table::drop_callers(old, new, &recreated));
            }
        }
        let order = render::dependency_order(&nodes);
        for i in order.into_iter().rev() {
            self.steps.push(drops[i].clone());
        }
    }

    fn create_containers(&mut self) {
        let a = self.a.catalog;
        let b = self.b.catalog;
        for role in &b.roles {
            if !a.roles.iter().any(|r| r.name == role.name) {
                self.steps.push(Step::new(
                    format!("role {}", role.name),
                    render::create_role(role),
                ));
                for group in &role.member_of {
                    self.steps.push(Step::new(
                        format!("role {}", role.name),
                        format!("GRANT {} TO {};", ident(group), ident(&role.name)),
                    ));
                }
            }
        }
        for s in &b.schemas {
            if !a.schemas.iter().any(|x| x.name == s.name) {
                self.steps.push(Step::new(
                    format!("schema {}", s.name),
                    format!("CREATE SCHEMA {};", ident(&s.name)),
                ));
            }
        }
        for e in &b.extensions {
            let object = format!("extension {}", e.name);
            match a.extensions.iter().find(|x| x.name == e.name) {
                None => self.steps.push(Step::new(
                    object,
                    format!(
                        "CREATE EXTENSION {} WITH SCHEMA {} VERSION {};",
                        ident(&e.name),
                        ident(&e.schema),
                        literal(&e.version)
                    ),
                )),
                Some(old) => {
                    if old.version != e.version {
                        self.steps.push(Step::new(
                            object.clone(),
                            format!(
                                "ALTER EXTENSION {} UPDATE TO {};",
                                ident(&e.name),
                                literal(&e.version)
                            ),
                        ));
                    }
                    if old.schema != e.schema {
                        self.steps.push(Step::new(
                            object,
                            format!(
                                "ALTER EXTENSION {} SET SCHEMA {};",
                                ident(&e.name),
                                ident(&e.schema)
                            ),
                        ));
                    }
                }
            }
        }
        for (name, c) in &self.b.collations {
            let old = self.a.collations.get(name);
            if old.is_none_or(|old| !same_collation(old, c)) {
                let mut sql = String::new();
                if old.is_some() {
                    sql.push_str(&format!("DROP COLLATION {name};\n"));
                }
                sql.push_str(&format!("{};", render::create_collation(c)));
                self.steps.push(Step::new(format!("collation {name}"), sql));
            }
        }
    }

    /// Changes made in place before anything uses them: new enum values, domain and composite
    /// changes, sequence options.
    fn change_types_and_sequences(&mut self) {
        for (name, new) in &self.b.types {
            let Some(old) = self.a.types.get(name) else {
                continue;
            };
            let object = type_key(new);
            if let Some(additions) = enum_additions(old, new) {
                for sql in additions {
                    // A new value cannot be used in the transaction that adds it.
                    self.steps.push(
                        Step::new(object.clone(), sql)
                            .outside_transaction()
                            .note("a new enum value is usable only once committed"),
                    );
                }
                continue;
            }
            match (&old.kind, &new.kind) {
                (
                    TypeKind::Domain {
                        base: b1,
                        not_null: n1,
                        default: d1,
                        collation: c1,
                        checks: k1,
                    },
                    TypeKind::Domain {
                        base: b2,
                        not_null: n2,
                        default: d2,
                        collation: c2,
                        checks: k2,
                    },
                ) if b1 == b2 && c1 == c2 => {
                    let domain = format!("ALTER DOMAIN {name}");
                    if !canon::same_opt_expr(d1, d2) {
                        let sql = match d2 {
                            Some(d) => format!("{domain} SET DEFAULT {d};"),
                            None => format!("{domain} DROP DEFAULT;"),
                        };
                        self.steps.push(Step::new(object.clone(), sql));
                    }
                    if n1 != n2 {
                        let sql = if *n2 {
                            format!("{domain} SET NOT NULL;")
                        } else {
                            format!("{domain} DROP NOT NULL;")
                        };
                        let step = Step::new(object.clone(), sql);
                        self.steps.push(if *n2 {
                            step.hazard(Hazard::MayFailOnExistingRows)
                        } else {
                            step
                        });
                    }
                    let same_check = |x: &DomainCheck, y: &DomainCheck| {
                        x.name == y.name && canon::same_constraint(&x.definition, &y.definition)
                    };
                    for check in k1.iter().filter(|c| !k2.iter().any(|d| same_check(c, d))) {
                        self.steps.push(Step::new(
                            object.clone(),
                            format!("{domain} DROP CONSTRAINT {};", ident(&check.name)),
                        ));
                    }
                    for check in k2.iter().filter(|c| !k1.iter().any(|d| same_check(c, d))) {
                        let sql = format!(
                            "{domain} ADD CONSTRAINT {} {};",
                            ident(&check.name),
                            check.definition
                        );
                        self.steps.push(
                            Step::new(object.clone(), sql).hazard(Hazard::MayFailOnExistingRows),
                        );
                    }
                }
                (
                    TypeKind::Composite { attributes: a1 },
                    TypeKind::Composite { attributes: a2 },
                ) => {
                    let ty = format!("ALTER TYPE {name}");
                    for attr in a1.iter().filter(|x| !a2.iter().any(|y| y.name == x.name)) {
                        self.steps.push(
                            Step::new(
                                object.clone(),
                                format!("{ty} DROP ATTRIBUTE {};", ident(&attr.name)),
                            )
                            .hazard(Hazard::DataLoss),
                        );
                    }
                    for attr in a2 {
                        let collate = attr
                            .collation
                            .as_ref()
                            .map(|c| format!(" COLLATE {c}"))
                            .unwrap_or_default();
                        match a1.iter().find(|x| x.name == attr.name) {
                            None => self.steps.push(Step::new(
                                object.clone(),
                                format!(
                                    "{ty} ADD ATTRIBUTE {} {}{collate};",
                                    ident(&attr.name),
                                    attr.data_type
                                ),
                            )),
                            Some(old) if old != attr => self.steps.push(
                                Step::new(
                                    object.clone(),
                                    format!(
                                        "{ty} ALTER ATTRIBUTE {} TYPE {}{collate};",
                                        ident(&attr.name),
                                        attr.data_type
                                    ),
                                )
                                .hazard(Hazard::MayFailOnExistingRows),
                            ),
                            Some(_) => {}
                        }
                    }
                }
                _ if old.kind == new.kind => {}
                // Anything else (an enum losing values, a domain's base changing) is replaced.
                _ => {
                    // New functions the new type needs (a range's subtype_diff) come first;
                    // creating them again later is a harmless CREATE OR REPLACE.
                    for key in &new.depends_on {
                        if let (Some(f), false) = (
                            self.b.functions.get(key),
                            self.a.functions.contains_key(key),
                        ) {
                            let sql = format!("{};", f.definition.trim_end());
                            self.steps.push(Step::new(key.clone(), sql));
                        }
                    }
                    let (now, later) = replace_type(old, new, &self.a, &self.b);
                    self.steps.push(now);
                    // Ordered among the other drops: after the tables that use it, before
                    // the functions it uses (a range's subtype_diff).
                    let node = Node {
                        key: type_key(old),
                        rank: 0,
                        depends_on: old.depends_on.clone(),
                    };
                    self.late_drops.push((node, later));
                }
            }
        }
        // A new sequence whose name an old table or index still holds waits for its drop.
        let new_sequences: HashSet<names::Name> = self
            .b
            .sequences
            .keys()
            .filter(|n| !self.a.sequences.contains_key(*n))
            .map(|n| (n.schema.as_str(), n.name.as_str()))
            .collect();
        let held = names::held_of(self.a.catalog, &new_sequences);
        for (name, new) in &self.b.sequences {
            let object = ObjectKey::relation("sequence", &name.schema, &name.name);
            match self.a.sequences.get(name) {
                None => {
                    let mut sql = String::new();
                    render::create_sequence(&mut sql, new);
                    let step = Step::new(object, sql);
                    if held.contains(&(name.schema.as_str(), name.name.as_str())) {
                        self.sequences_after_drops.push(step);
                    } else {
                        self.steps.push(step);
                    }
                }
                Some(old) if old.options != new.options => {
                    let o = &new.options;
                    let sql = format!(
                        "ALTER SEQUENCE {name} AS {} {};",
                        o.data_type,
                        render::sequence_options(o)
                    );
                    let sql = sequences::restart_when_out_of_range(
                        &sql,
                        &literal(&name.to_string()),
                        &old.options,
                        o,
                    );
                    self.steps.push(Step::new(object, sql));
                }
                Some(_) => {}
            }
        }
    }

    /// Create new objects, replace functions, alter existing tables, create views: one pass in
    /// the dependency order of the target catalog.
    fn create_and_alter(&mut self) {
        enum Work<'b> {
            CreateType(&'b Type),
            Function(&'b Function),
            CreateTable(&'b Table),
            AlterTable(&'b Table, &'b Table),
            CreateView(&'b View),
            /// An operator or cast.
            Create(Step),
            ForeignTable(Step),
        }
        let mut work: Vec<Work> = Vec::new();
        let mut nodes: Vec<Node> = Vec::new();
        for (name, t) in &self.b.types {
            if !self.a.types.contains_key(name) {
                nodes.push(Node {
                    key: type_key(t),
                    rank: 0,
                    depends_on: t.depends_on.clone(),
                });
                work.push(Work::CreateType(t));
            }
        }
        for (key, f) in &self.b.functions {
            let changed = match self.a.functions.get(key) {
                None => true,
                Some(old) => self.recreated.contains(key) || old.definition != f.definition,
            };
            if changed {
                nodes.push(Node {
                    key: key.clone(),
                    rank: 2,
                    depends_on: f.depends_on.clone(),
                });
                work.push(Work::Function(f));
            }
        }
        for (node, step) in operators::creates(self.a.catalog, self.b.catalog, &self.recreated) {
            nodes.push(node);
            work.push(Work::Create(step));
        }
        for (name, t) in &self.b.tables {
            let mut depends_on = table_dependencies(t);
            if let Some(users) = self.sequence_taken_by(name) {
                depends_on.extend(users);
            }
            nodes.push(Node {
                key: table_key(t),
                rank: 3,
                depends_on,
            });
            work.push(match self.a.tables.get(name) {
                None => Work::CreateTable(t),
                Some(old) => Work::AlterTable(old, t),
            });
        }
        let usual_owner = usual_owner(self.a.catalog);
        for (node, step) in
            foreign_data::table_steps(self.a.catalog, self.b.catalog, usual_owner.as_deref())
        {
            nodes.push(node);
            work.push(Work::ForeignTable(step));
        }
        for v in self.b.views.values() {
            if self.old_view(v).is_none() {
                let name = QualifiedName::new(&v.schema, &v.name);
                let mut depends_on = v.depends_on.clone();
                if let Some(users) = self.sequence_taken_by(&name) {
                    depends_on.extend(users);
                }
                nodes.push(Node {
                    key: view_key(v),
                    rank: 4,
                    depends_on,
                });
                work.push(Work::CreateView(v));
            }
        }
        for i in render::dependency_order(&nodes) {
            match &work[i] {
                Work::Create(step) => self.steps.push(step.clone()),
                Work::CreateType(t) => {
                    let mut sql = String::new();
                    render::create_type(&mut sql, t);
                    self.steps.push(Step::new(type_key(t), sql));
                }
                Work::Function(f) => {
                    let sql = format!("{};", f.definition.trim_end());
                    self.steps.push(Step::new(ObjectKey::function(f), sql));
                }
                Work::CreateTable(t) => {
                    self.drop_sequence_early(&t.qualified_name());
                    let mut sql = String::new();
                    render::create_table(&mut sql, t, &self.b.table_map);
                    let mut step = Step::new(table_key(t), sql);
                    if let Some(p) = &t.partition_of {
                        if self.a.tables.contains_key(&p.parent) {
                            step = step
                                .lock(Lock::AccessExclusive)
                                .note(format!("attaching a partition locks {}", p.parent));
                        }
                    }
                    self.steps.push(step);
                }
                Work::AlterTable(old, new) => {
                    self.steps
                        .extend(table::alter(old, new, &self.b.table_map, &self.enums))
                }
                Work::CreateView(v) => {
                    self.drop_sequence_early(&QualifiedName::new(&v.schema, &v.name));
                    let mut sql = String::new();
                    render::create_view(&mut sql, v);
                    self.steps.push(Step::new(view_key(v), sql));
                }
                Work::ForeignTable(ref step) => self.steps.push(step.clone()),
            }
        }
    }

    /// When a new table or view takes the name of a sequence that goes, the tables whose
    /// columns use that sequence: they must let go of it (in their alteration) first.
    fn sequence_taken_by(&self, name: &QualifiedName) -> Option<Vec<String>> {
        if self.a.sequences.contains_key(name) && !self.b.sequences.contains_key(name) {
            let key = ObjectKey::relation("sequence", &name.schema, &name.name);
            let users = self
                .a
                .tables
                .values()
                .filter(|t| {
                    t.depends_on.contains(&key) && self.b.tables.contains_key(&t.qualified_name())
                })
                .map(|t| table_key(t))
                .collect();
            return Some(users);
        }
        None
    }

    /// Drop the sequence whose name a new table or view takes, right before it is created.
    fn drop_sequence_early(&mut self, name: &QualifiedName) {
        if self.sequence_taken_by(name).is_some() && self.early_sequence_drops.insert(name.clone())
        {
            self.steps.push(
                Step::new(
                    ObjectKey::relation("sequence", &name.schema, &name.name),
                    format!("DROP SEQUENCE {name};"),
                )
                .lock(Lock::AccessExclusive)
                .hazard(Hazard::DataLoss),
            );
        }
    }

    fn add_table_parts(&mut self) {
        // Partitions' own indexes before the parents' indexes that attach them.
        self.steps.extend(partitions::steps(&self.a, &self.b));
        let mut foreign_keys = Vec::new();
        let recreated = table::Recreated::new(&self.a, &self.b, &self.recreated);
        // Deepest partitions first: a parent's new index attaches the key a partition gets
        // here, as it would have when the schema was written, instead of building its own.
        let mut tables: Vec<(&QualifiedName, &&Table)> = self.b.tables.iter().collect();
        tables
            .sort_by_key(|(_, t)| std::cmp::Reverse(render::partition_depth(t, &self.b.table_map)));
        for (name, new) in tables {
            let old = self.a.tables.get(name).copied();
            let (parts, fks) = table::add_parts(old, new, &recreated);
            self.steps.extend(parts);
            foreign_keys.extend(fks);
        }
        // Foreign keys last: they need the referenced keys in place.
        self.steps.extend(foreign_keys);
        for (name, s) in &self.b.sequences {
            let old = self
                .a
                .sequences
                .get(name)
                .filter(|_| !self.detached_sequences.contains(name))
                .and_then(|o| o.owned_by.as_ref());
            if s.owned_by.as_ref() != old {
                let owner = match &s.owned_by {
                    Some(c) => format!("{}.{}", c.table, ident(&c.column)),
                    None => "NONE".into(),
                };
                let object = ObjectKey::relation("sequence", &name.schema, &name.name);
                self.steps.push(Step::new(
                    object,
                    format!("ALTER SEQUENCE {name} OWNED BY {owner};"),
                ));
            }
        }
        for v in self.b.views.values() {
            let old = self.old_view(v);
            // Drops first: a new index may take the name of one that goes.
            if let Some(old) = old {
                for index in old
                    .indexes
                    .iter()
                    .filter(|i| !v.indexes.iter().any(|x| table::same_index(x, i)))
                {
                    let sql = format!("DROP INDEX {};", QualifiedName::new(&v.schema, &index.name));
                    self.steps
                        .push(Step::new(view_key(v), sql).lock(Lock::AccessExclusive));
                }
            }
            for index in &v.indexes {
                if old.is_none_or(|o| !o.indexes.iter().any(|x| table::same_index(x, index))) {
                    self.steps.push(
                        Step::new(view_key(v), format!("{};", index.definition))
                            .lock(Lock::Share)
                            .hazard(Hazard::IndexBuild),
                    );
                }
            }
        }
    }

    /// A table that goes away while something new takes its name, or the name of one of its
    /// indexes or keys (`tag` becoming `community_tag` with its key still called `tag_pkey`),
    /// must go before anything is created. Partitions go with their parent.
    fn drop_tables_whose_names_are_reused(&mut self) {
        let dropped = |name: &QualifiedName| !self.b.tables.contains_key(name);
        // The names dropped tables hold that the target holds too.
        let going: HashSet<names::Name> = self
            .a
            .tables
            .iter()
            .filter(|(name, _)| dropped(name))
            .flat_map(|(_, t)| names::held_by_table(t))
            .collect();
        let wanted = names::held_of(self.b.catalog, &going);
        // The table whose drop takes `t` with it: its highest dropped ancestor.
        let root = |mut t: &'a Table| {
            while let Some(parent) = t.partition_of.as_ref().map(|p| &p.parent) {
                match self.a.tables.get(parent) {
                    Some(p) if dropped(parent) => t = p,
                    _ => break,
                }
            }
            t.qualified_name()
        };
        let mut early: BTreeSet<QualifiedName> = BTreeSet::new();
        for (name, t) in &self.a.tables {
            let clash = || names::held_by_table(t).any(|n| wanted.contains(&n));
            if dropped(name) && clash() {
                early.insert(root(t));
            }
        }
        for name in &early {
            self.steps.push(
                Step::new(
                    table_key(self.a.tables[name]),
                    format!("DROP TABLE {name};"),
                )
                .lock(Lock::AccessExclusive)
                .hazard(Hazard::DataLoss),
            );
        }
        // With their partitions.
        for (name, t) in &self.a.tables {
            if early.contains(&root(t)) {
                self.early_table_drops.insert(name.clone());
            }
        }
    }

    /// Sequences that stay while the column owning them goes (its table dropped or created
    /// again, or the column dropped): PostgreSQL would drop the sequence with its owner, so it is
    /// released first and owned again once the new owner exists.
    fn detach_sequences(&mut self) {
        for (name, s) in &self.a.sequences {
            let Some(owner) = &s.owned_by else { continue };
            if !self.b.sequences.contains_key(name) {
                continue;
            }
            let owner_goes = match (
                self.a.tables.get(&owner.table),
                self.b.tables.get(&owner.table),
            ) {
                (Some(old), Some(new)) => {
                    table::recreated_whole(old, new)
                        || match (old.column(&owner.column), new.column(&owner.column)) {
                            (Some(o), Some(n)) => o.generated != n.generated,
                            _ => true,
                        }
                }
                _ => true,
            };
            if owner_goes {
                self.detached_sequences.insert(name.clone());
                self.steps.push(
                    Step::new(
                        ObjectKey::relation("sequence", &name.schema, &name.name),
                        format!("ALTER SEQUENCE {name} OWNED BY NONE;"),
                    )
                    .note("released from the column it belonged to, which goes away"),
                );
            }
        }
    }

    fn drop_removed(&mut self) {
        let b = &self.b;
        let mut nodes = Vec::new();
        let mut drops: Vec<Step> = Vec::new();
        let dropped_tables: BTreeSet<&QualifiedName> = self
            .a
            .tables
            .keys()
            .filter(|n| !b.tables.contains_key(*n))
            .collect();
        // Partitions go with their parent. (Those of a parent dropped and created again are
        // not in `a.tables`: see `Differ::new`.)
        let parent_dropped = |parent: &QualifiedName| dropped_tables.contains(parent);
        for (name, t) in &self.a.tables {
            if b.tables.contains_key(name) || self.early_table_drops.contains(name) {
                continue;
            }
            if t.partition_of
                .as_ref()
                .is_some_and(|p| parent_dropped(&p.parent))
            {
                continue;
            }
            nodes.push(Node {
                key: table_key(t),
                rank: 3,
                depends_on: table_dependencies(t),
            });
            drops.push(
                Step::new(table_key(t), format!("DROP TABLE {name};"))
                    .lock(Lock::AccessExclusive)
                    .hazard(Hazard::DataLoss),
            );
        }
        for (name, s) in &self.a.sequences {
            let owner_dropped = s.owned_by.as_ref().is_some_and(|o| {
                dropped_tables.contains(&o.table)
                    || b.tables
                        .get(&o.table)
                        .is_some_and(|t| t.column(&o.column).is_none())
            });
            if !b.sequences.contains_key(name)
                && !owner_dropped
                && !self.early_sequence_drops.contains(name)
            {
                let key = ObjectKey::relation("sequence", &name.schema, &name.name);
                nodes.push(Node {
                    key: key.clone(),
                    rank: 1,
                    depends_on: Vec::new(),
                });
                // Its value is data: the next id it would have given.
                drops.push(
                    Step::new(key, format!("DROP SEQUENCE {name};"))
                        .lock(Lock::AccessExclusive)
                        .hazard(Hazard::DataLoss),
                );
            }
        }
        for key in &self.late_function_drops {
            let f = self.a.functions[key];
            nodes.push(Node {
                key: key.clone(),
                rank: 2,
                depends_on: f.depends_on.clone(),
            });
            drops.push(Step::new(
                key.clone(),
                format!("DROP {} {};", f.kind.to_uppercase(), f.signature()),
            ));
        }
        for (name, t) in &self.a.types {
            if !b.types.contains_key(name) {
                let kind = if matches!(t.kind, TypeKind::Domain { .. }) {
                    "DOMAIN"
                } else {
                    "TYPE"
                };
                nodes.push(Node {
                    key: type_key(t),
                    rank: 0,
                    depends_on: t.depends_on.clone(),
                });
                drops.push(Step::new(type_key(t), format!("DROP {kind} {name};")));
            }
        }
        for (node, step) in operators::drops_of_removed(self.a.catalog, b.catalog, &self.recreated)
        {
            nodes.push(node);
            drops.push(step);
        }
        for (node, step) in std::mem::take(&mut self.late_drops) {
            nodes.push(node);
            drops.push(step);
        }
        for i in render::dependency_order(&nodes).into_iter().rev() {
            self.steps.push(drops[i].clone());
        }
        let a = self.a.catalog;
        self.steps.extend(text_search::drops(a, b.catalog));
        for name in self
            .a
            .collations
            .keys()
            .filter(|n| !b.collations.contains_key(*n))
        {
            self.steps.push(Step::new(
                format!("collation {name}"),
                format!("DROP COLLATION {name};"),
            ));
        }
        for e in a
            .extensions
            .iter()
            .filter(|e| !b.catalog.extensions.iter().any(|x| x.name == e.name))
        {
            self.steps.push(Step::new(
                format!("extension {}", e.name),
                format!("DROP EXTENSION {};", ident(&e.name)),
            ));
        }
        for s in a
            .schemas
            .iter()
            .filter(|s| !b.catalog.schemas.iter().any(|x| x.name == s.name))
        {
            self.steps.push(Step::new(
                format!("schema {}", s.name),
                format!("DROP SCHEMA {};", ident(&s.name)),
            ));
        }
    }

    fn comments_owners_grants(&mut self) {
        let a = self.a.catalog;
        let b = self.b.catalog;
        let mut out = Vec::new();
        // The owner that creates objects is whoever runs the plan; say so only when it differs
        // from the usual owner of the source schema.
        let usual_owner = usual_owner(a);
        let usual_owner = usual_owner.as_deref();
        for s in &b.schemas {
            let old = a.schemas.iter().find(|x| x.name == s.name);
            let target = format!("SCHEMA {}", ident(&s.name));
            let meta = |o: &'a Schema| Meta::new(&o.comment, &o.owner, &o.grants);
            let sql = meta(s).changes_from(old.map(meta), &target, &target, usual_owner);
            out.extend(step(format!("schema {}", s.name), sql));
        }
        for (name, c) in &self.b.collations {
            let old = self.a.collations.get(name).filter(|o| same_collation(o, c));
            let target = format!("COLLATION {name}");
            let meta = |o: &'a Collation| Meta::new(&o.comment, &o.owner, &None);
            let sql = meta(c).changes_from(old.map(|o| meta(o)), &target, &target, usual_owner);
            out.extend(step(format!("collation {name}"), sql));
        }
        for (name, t) in &self.b.types {
            let kind = if matches!(t.kind, TypeKind::Domain { .. }) {
                "DOMAIN"
            } else {
                "TYPE"
            };
            // A type replaced through a new one starts afresh.
            let old =
                self.a.types.get(name).filter(|o| {
                    o.kind == t.kind || enum_additions(o, t).is_some() || same_shape(o, t)
                });
            let target = format!("{kind} {name}");
            let meta = |o: &'a Type| Meta::new(&o.comment, &o.owner, &None);
            let sql = meta(t).changes_from(old.map(|o| meta(o)), &target, &target, usual_owner);
            out.extend(step(type_key(t), sql));
        }
        for (name, s) in &self.b.sequences {
            let old = self.a.sequences.get(name);
            let target = format!("SEQUENCE {name}");
            let meta = |o: &'a Sequence| Meta::new(&o.comment, &o.owner, &o.grants);
            let sql = meta(s).changes_from(old.map(|o| meta(o)), &target, &target, usual_owner);
            out.extend(step(
                ObjectKey::relation("sequence", &name.schema, &name.name),
                sql,
            ));
        }
        for (name, t) in &self.b.tables {
            let old = self.a.tables.get(name).copied();
            // A table created again has only what its creation gave it.
            let old = old.filter(|o| !table::recreated_whole(o, t));
            let target = format!("TABLE {name}");
            let meta = |o: &'a Table| Meta::new(&o.comment, &o.owner, &o.grants);
            let mut sql = meta(t).changes_from(old.map(meta), &target, &target, usual_owner);
            sql.push_str(&table::part_comments(old, t));
            let table_acl_changed = old.is_some_and(|o| o.grants != t.grants);
            sql.push_str(&table::column_grants(old, t, table_acl_changed));
            out.extend(step(table_key(t), sql));
        }
        for v in self.b.views.values() {
            let name = QualifiedName::new(&v.schema, &v.name);
            let old = self.old_view(v);
            let kind = if v.materialized {
                "MATERIALIZED VIEW"
            } else {
                "VIEW"
            };
            let meta = |o: &'a View| Meta::new(&o.comment, &o.owner, &o.grants);
            // Privileges on views are granted ON TABLE.
            let mut sql = meta(v).changes_from(
                old.map(meta),
                &format!("{kind} {name}"),
                &format!("TABLE {name}"),
                usual_owner,
            );
            for c in &v.columns {
                let before = old
                    .and_then(|o| o.columns.iter().find(|x| x.name == c.name))
                    .and_then(|x| x.comment.clone());
                if before != c.comment {
                    let target = format!("COLUMN {name}.{}", ident(&c.name));
                    sql.push_str(&comment_sql(&target, &c.comment));
                }
            }
            for i in &v.indexes {
                let before = old
                    .and_then(|o| o.indexes.iter().find(|x| x.name == i.name))
                    .and_then(|x| x.comment.clone());
                if before != i.comment {
                    let target = format!("INDEX {}", QualifiedName::new(&v.schema, &i.name));
                    sql.push_str(&comment_sql(&target, &i.comment));
                }
            }
            out.extend(step(view_key(v), sql));
        }
        for (key, f) in &self.b.functions {
            let old = self
                .a
                .functions
                .get(key)
                .filter(|_| !self.recreated.contains(key));
            let target = format!("{} {}", f.kind.to_uppercase(), f.signature());
            let meta = |o: &'a Function| Meta::new(&o.comment, &o.owner, &o.grants);
            let grant_target = f.privilege_target();
            let sql =
                meta(f).changes_from(old.map(|o| meta(o)), &target, &grant_target, usual_owner);
            out.extend(step(key.clone(), sql));
        }
        out.extend(operators::comments_and_owners(
            a,
            b,
            &self.recreated,
            usual_owner,
        ));
        self.steps.extend(out);
    }
}

/// A step for `sql`, unless there is nothing to do.
fn step(object: String, sql: String) -> Option<Step> {
    (!sql.is_empty()).then(|| Step::new(object, sql))
}

/// The comment, owner and privileges of an object.
pub(crate) struct Meta<'m> {
    comment: &'m Option<String>,
    owner: &'m str,
    grants: &'m Option<Vec<Grant>>,
}

impl<'m> Meta<'m> {
    pub(crate) fn new(
        comment: &'m Option<String>,
        owner: &'m str,
        grants: &'m Option<Vec<Grant>>,
    ) -> Self {
        Meta {
            comment,
            owner,
            grants,
        }
    }

    /// SQL that brings `old` (None for an object created by the plan) to `self`. A new object
    /// gets an owner only when it is not the usual one: it belongs to whoever runs the plan.
    pub(crate) fn changes_from(
        &self,
        old: Option<Meta>,
        target: &str,
        grant_target: &str,
        usual_owner: Option<&str>,
    ) -> String {
        let mut sql = String::new();
        let old_comment = old.as_ref().and_then(|o| o.comment.clone());
        if old_comment != *self.comment {
            sql.push_str(&comment_sql(target, self.comment));
        }
        let owner_changed = match &old {
            Some(o) => o.owner != self.owner,
            None => usual_owner.is_some_and(|u| u != self.owner),
        };
        if owner_changed {
            sql.push_str(&format!("ALTER {target} OWNER TO {};\n", ident(self.owner)));
        }
        let old_grants = old.as_ref().and_then(|o| o.grants.clone());
        if old_grants != *self.grants {
            sql.push_str(&regrant(grant_target, self.owner, &old_grants, self.grants));
        }
        sql
    }
}

pub(crate) fn comment_sql(target: &str, comment: &Option<String>) -> String {
    match comment {
        Some(text) => format!("COMMENT ON {target} IS {};\n", literal(text)),
        None => format!("COMMENT ON {target} IS NULL;\n"),
    }
}

/// Replace the privileges on `target`: revoke from everyone who held any, then grant exactly
/// `new` (or the defaults: everything to the owner, and EXECUTE to PUBLIC on functions).
/// The statements that change `old` privileges (None: the default for the kind and owner) into
/// `new`. Tables change grantee by grantee, so a plan never names the owner when only an app
/// role's grants changed (the owner differs from server to server); other kinds, and tables
/// whose owner gave up some of its own privileges, are revoked and granted whole.
fn regrant(
    target: &str,
    owner: &str,
    old: &Option<Vec<Grant>>,
    new: &Option<Vec<Grant>>,
) -> String {
    if target.starts_with("TABLE ") {
        if let (Some(old), Some(new)) = (table_acl(owner, old), table_acl(owner, new)) {
            return grantee_changes(target, &old, &new);
        }
    }
    let old = old.as_deref().unwrap_or_default();
    let mut sql = String::new();
    let grantees: BTreeSet<&str> = old.iter().map(|g| g.grantee.as_str()).collect();
    for grantee in grantees {
        let grantee = if grantee == "PUBLIC" {
            "PUBLIC".to_string()
        } else {
            ident(grantee)
        };
        sql.push_str(&format!("REVOKE ALL ON {target} FROM {grantee};\n"));
    }
    match new {
        Some(_) => render::grant_statements(&mut sql, target, owner, new),
        None => {
            sql.push_str(&format!("GRANT ALL ON {target} TO {};\n", ident(owner)));
            if target.starts_with("FUNCTION ") || target.starts_with("PROCEDURE ") {
                sql.push_str(&format!("GRANT EXECUTE ON {target} TO PUBLIC;\n"));
            }
        }
    }
    sql
}

/// The privileges a table's owner holds by default (PostgreSQL 15 and 16; 17 adds MAINTAIN,
/// which only makes the owner's grants be restated).
const TABLE_OWNER_DEFAULT: &[&str] = &[
    "INSERT",
    "SELECT",
    "UPDATE",
    "DELETE",
    "TRUNCATE",
    "REFERENCES",
    "TRIGGER",
];

/// A table's ACL with the default spelled out; None when the owner lacks some default
/// privilege (then grantee-by-grantee changes could not restore it).
fn table_acl(owner: &str, acl: &Option<Vec<Grant>>) -> Option<Vec<Grant>> {
    match acl {
        None => Some(
            TABLE_OWNER_DEFAULT
                .iter()
                .map(|p| Grant {
                    grantee: owner.to_string(),
                    privilege: p.to_string(),
                    grantable: false,
                })
                .collect(),
        ),
        Some(grants) => TABLE_OWNER_DEFAULT
            .iter()
            .all(|p| {
                grants
                    .iter()
                    .any(|g| g.grantee == owner && g.privilege == *p && !g.grantable)
            })
            .then(|| grants.clone()),
    }
}

/// REVOKE and GRANT for each grantee whose privileges differ between two ACLs.
fn grantee_changes(target: &str, old: &[Grant], new: &[Grant]) -> String {
    let mut sql = String::new();
    let grantees: BTreeSet<&str> = old.iter().chain(new).map(|g| g.grantee.as_str()).collect();
    for grantee in grantees {
        let of = |acl: &[Grant]| -> Vec<Grant> {
            let mut grants: Vec<Grant> = acl
                .iter()
                .filter(|g| g.grantee == grantee)
                .cloned()
                .collect();
            grants.sort_by(|a, b| (a.grantable, &a.privilege).cmp(&(b.grantable, &b.privilege)));
            grants
        };
        let (before, after) = (of(old), of(new));
        if before == after {
            continue;
        }
        let quoted = if grantee == "PUBLIC" {
            "PUBLIC".to_string()
        } else {
            ident(grantee)
        };
        if !before.is_empty() {
            sql.push_str(&format!("REVOKE ALL ON {target} FROM {quoted};\n"));
        }
        for grantable in [false, true] {
            let privileges: Vec<&str> = after
                .iter()
                .filter(|g| g.grantable == grantable)
                .map(|g| g.privilege.as_str())
                .collect();
            if !privileges.is_empty() {
                let option = if grantable { " WITH GRANT OPTION" } else { "" };
                sql.push_str(&format!(
                    "GRANT {} ON {target} TO {quoted}{option};\n",
                    privileges.join(", ")
                ));
            }
        }
    }
    sql
}

fn usual_owner(c: &Catalog) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &c.tables {
        *counts.entry(&t.owner).or_default() += 1;
    }
    for f in &c.functions {
        *counts.entry(&f.owner).or_default() += 1;
    }
    for v in &c.views {
        *counts.entry(&v.owner).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(o, _)| o.to_string())
}

/// A table needs its parents (partition, inheritance) and whatever its columns use.
fn table_dependencies(t: &Table) -> Vec<String> {
    let parents = t.partition_of.iter().map(|p| &p.parent).chain(&t.inherits);
    t.depends_on
        .iter()
        .cloned()
        .chain(parents.map(|p| ObjectKey::relation("table", &p.schema, &p.name)))
        .collect()
}

/// The definitions last: comparing two that differ as text means parsing both.
fn same_view(a: &View, b: &View) -> bool {
    a.materialized == b.materialized
        && a.options == b.options
        && a.columns.len() == b.columns.len()
        && a.columns
            .iter()
            .zip(&b.columns)
            .all(|(x, y)| x.name == y.name && x.data_type == y.data_type)
        && canon::same_statement(&a.definition, &b.definition)
}

fn same_collation(a: &Collation, b: &Collation) -> bool {
    (
        &a.provider,
        &a.locale,
        &a.lc_collate,
        &a.lc_ctype,
        a.deterministic,
    ) == (
        &b.provider,
        &b.locale,
        &b.lc_collate,
        &b.lc_ctype,
        b.deterministic,
    )
}

/// Types changed in place keep their identity (comments and owner carry over).
fn same_shape(a: &Type, b: &Type) -> bool {
    matches!(
        (&a.kind, &b.kind),
        (TypeKind::Composite { .. }, TypeKind::Composite { .. })
    ) || matches!(
        (&a.kind, &b.kind),
        (TypeKind::Domain { base: x, collation: c1, .. }, TypeKind::Domain { base: y, collation: c2, .. }) if x == y && c1 == c2
    )
}

/// `ALTER TYPE ... ADD VALUE` statements when `new` only adds labels to `old`, keeping its
/// order; `None` when labels were removed or reordered.
fn enum_additions(old: &Type, new: &Type) -> Option<Vec<String>> {
    let (TypeKind::Enum { labels: before }, TypeKind::Enum { labels: after }) =
        (&old.kind, &new.kind)
    else {
        return None;
    };
    let kept: Vec<&String> = after.iter().filter(|l| before.contains(l)).collect();
    if kept.len() != before.len() || kept.iter().zip(before).any(|(x, y)| *x != y) {
        return None;
    }
    let name = QualifiedName::new(&new.schema, &new.name);
    let mut sql = Vec::new();
    for (i, label) in after.iter().enumerate() {
        if before.contains(label) {
            continue;
        }
        // Place it before the next existing label, or after the previous one.
        let next = after[i + 1..].iter().find(|l| before.contains(l));
        let position = match (next, i.checked_sub(1).map(|p| &after[p])) {
            (Some(next), _) => format!(" BEFORE {}", literal(next)),
            (None, Some(prev)) => format!(" AFTER {}", literal(prev)),
            (None, None) => String::new(),
        };
        sql.push(format!(
            "ALTER TYPE {name} ADD VALUE {}{position};",
            literal(label)
        ));
    }
    Some(sql)
}

/// Replace a type whose change cannot be made in place: rename the old one away, create the new
/// one, move every column over through text, drop the old one.
fn replace_type(old: &Type, new: &Type, a: &Side, b: &Side) -> (Step, Step) {
    let name = QualifiedName::new(&new.schema, &new.name);
    let parked = QualifiedName::new(&old.schema, format!("{}__tenet_old", old.name));
    let kind = if matches!(old.kind, TypeKind::Domain { .. }) {
        "DOMAIN"
    } else {
        "TYPE"
    };
    let mut sql = format!("ALTER {kind} {name} RENAME TO {};\n", ident(&parked.name));
    // A range's multirange and the constructors named after both go aside with it, so the
    // new range can take their names.
    let old_multirange = match &old.kind {
        TypeKind::Range {
            multirange,
            subtype,
            ..
        } => {
            let parked_multirange = ident(&format!("{}__tenet_old_multirange", old.name));
            let old_name = QualifiedName::new(&old.schema, &old.name);
            for args in [
                format!("{subtype}, {subtype}"),
                format!("{subtype}, {subtype}, text"),
            ] {
                sql.push_str(&format!(
                    "ALTER FUNCTION {old_name}({args}) RENAME TO {};\n",
                    ident(&parked.name)
                ));
            }
            for args in [
                String::new(),
                format!("{parked}"),
                format!("VARIADIC {parked}[]"),
            ] {
                sql.push_str(&format!(
                    "ALTER FUNCTION {multirange}({args}) RENAME TO {parked_multirange};\n"
                ));
            }
            sql.push_str(&format!(
                "ALTER TYPE {multirange} RENAME TO {parked_multirange};\n"
            ));
            Some(multirange.as_str())
        }
        _ => None,
    };
    render::create_type(&mut sql, new);
    let array = format!("{name}[]");
    // Columns that exist now and keep the type; new columns are added with the new type later.
    for t in a.tables.values() {
        for c in &t.columns {
            let of_type = c.data_type == name.to_string()
                || c.data_type == array
                || Some(c.data_type.as_str()) == old_multirange;
            if c.inherited || !of_type {
                continue;
            }
            let kept = b
                .tables
                .get(&t.qualified_name())
                .and_then(|n| n.column(&c.name));
            if kept.is_none_or(|k| k.data_type != c.data_type) {
                continue;
            }
            let c = kept.unwrap_or(c);
            let table = t.qualified_name();
            let column = ident(&c.name);
            let via = if c.data_type == array {
                "text[]"
            } else {
                "text"
            };
            if c.default.is_some() {
                sql.push_str(&format!(
                    "ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT;\n"
                ));
            }
            sql.push_str(&format!(
                "ALTER TABLE {table} ALTER COLUMN {column} TYPE {} USING {column}::{via}::{};\n",
                c.data_type, c.data_type
            ));
            if let Some(d) = &c.default {
                sql.push_str(&format!(
                    "ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {d};\n"
                ));
            }
        }
    }
    let drop_parked = Step::new(type_key(new), format!("DROP {kind} {parked};"));
    let step = Step::new(type_key(new), sql)
        .lock(Lock::AccessExclusive)
        .hazard(Hazard::TableRewrite)
        .hazard(Hazard::MayFailOnExistingRows)
        .hazard(Hazard::DataLoss)
        .note("the type changes in a way ALTER TYPE cannot express: columns move to a new type through text");
    (step, drop_parked)
}
