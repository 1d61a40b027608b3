//! Changes within one table: columns, constraints, indexes, triggers, policies, and the online
//! forms PostgreSQL offers for each on a table that already holds rows.

use std::collections::BTreeSet;

use tenet_catalog::model::*;
use tenet_catalog::quote::{ident, literal};
use tenet_catalog::render;

use crate::canon;
use crate::diff::{comment_sql, table_key, view_key, Side};
use crate::plan::{Hazard, Lock, Step};

/// Whether dependents of the table (views) must be rebuilt: a column goes away or changes type.
pub fn shape_changes(old: &Table, new: &Table) -> bool {
    recreated_whole(old, new)
        || old.columns.iter().any(|c| match new.column(&c.name) {
            None => true,
            Some(n) => {
                n.data_type != c.data_type
                    || n.collation != c.collation
                    || n.generated != c.generated
            }
        })
}

/// A change PostgreSQL cannot make in place: the table is dropped and created again.
pub(crate) fn recreated_whole(old: &Table, new: &Table) -> bool {
    old.partition_by != new.partition_by || old.partition_of.is_some() != new.partition_of.is_some()
}

/// Foreign keys of a table about to be dropped, so tables can then go in any order.
pub fn drop_foreign_keys(old: &Table) -> Vec<Step> {
    old.constraints
        .iter()
        .filter(|c| c.kind == ConstraintKind::ForeignKey)
        .map(|c| drop_constraint(old, c))
        .collect()
}

fn drop_constraint(t: &Table, c: &Constraint) -> Step {
    let sql = format!(
        "ALTER TABLE {} DROP CONSTRAINT {};",
        t.qualified_name(),
        ident(&c.name)
    );
    Step::new(table_key(t), sql).lock(Lock::AccessExclusive)
}

/// Same constraint, perhaps differing only in whether it has been validated yet.
fn same_constraint(a: &Constraint, b: &Constraint) -> bool {
    canon::same_constraint(
        strip_not_valid(&a.definition),
        strip_not_valid(&b.definition),
    ) && a.kind == b.kind
        && (a.validated == b.validated || (!a.validated && b.validated))
}

/// Same index; its comment is compared on its own.
pub(crate) fn same_index(a: &Index, b: &Index) -> bool {
    a.name == b.name && canon::same_statement(&a.definition, &b.definition)
}

fn same_trigger(a: &Trigger, b: &Trigger) -> bool {
    a.name == b.name && canon::same_statement(&a.definition, &b.definition)
}

/// Same policy, comment aside.
fn same_policy(a: &Policy, b: &Policy) -> bool {
    (&a.name, &a.command, a.permissive, &a.roles) == (&b.name, &b.command, b.permissive, &b.roles)
        && canon::same_opt_expr(&a.using, &b.using)
        && canon::same_opt_expr(&a.with_check, &b.with_check)
}

fn strip_not_valid(definition: &str) -> &str {
    definition.strip_suffix(" NOT VALID").unwrap_or(definition)
}

fn policy_alterable(a: &Policy, b: &Policy) -> bool {
    a.command == b.command
        && a.permissive == b.permissive
        && (a.using.is_none() || b.using.is_some())
        && (a.with_check.is_none() || b.with_check.is_some())
}

/// How SQL text names the functions and views that are dropped and created again: a trigger
/// or policy that mentions one must be dropped first and created again too. Also the tables
/// dropped and created whole, whose foreign keys from other tables must go and come back.
pub struct Recreated {
    mentions: Vec<String>,
    tables: BTreeSet<QualifiedName>,
}

impl Recreated {
    pub fn new(a: &Side, b: &Side, recreated: &BTreeSet<String>) -> Recreated {
        let functions = recreated
            .iter()
            .filter_map(|key| a.functions.get(key))
            .map(|f| format!("{}(", QualifiedName::new(&f.schema, &f.name)));
        let views = a
            .views
            .values()
            .filter(|v| recreated.contains(&view_key(v)))
            .map(|v| QualifiedName::new(&v.schema, &v.name).to_string());
        let tables = a
            .tables
            .iter()
            .filter(|(name, old)| {
                b.tables
                    .get(*name)
                    .is_some_and(|new| recreated_whole(old, new))
            })
            .map(|(name, _)| name.clone())
            .collect();
        Recreated {
            mentions: functions.chain(views).collect(),
            tables,
        }
    }

    /// A foreign key to a table that is dropped and created again goes with it.
    fn references_recreated(&self, c: &Constraint) -> bool {
        c.references
            .as_ref()
            .is_some_and(|r| self.tables.contains(&r.table))
    }

    pub(crate) fn mentioned_in(&self, text: &str) -> bool {
        self.mentions.iter().any(|m| text.contains(m.as_str()))
    }

    fn called_by_trigger(&self, t: &Trigger) -> bool {
        self.mentioned_in(&t.definition)
    }

    fn called_by_policy(&self, p: &Policy) -> bool {
        [&p.using, &p.with_check]
            .into_iter()
            .flatten()
            .any(|e| self.mentioned_in(e))
    }
}

/// Triggers and policies (unchanged themselves) that call a function or view about to be
/// dropped: they are dropped first and created again in [`add_parts`].
pub fn drop_callers(old: &Table, new: &Table, recreated: &Recreated) -> Vec<Step> {
    let mut steps = Vec::new();
    let name = old.qualified_name();
    for t in &old.triggers {
        if new.triggers.contains(t) && recreated.called_by_trigger(t) {
            steps.push(
                Step::new(
                    table_key(old),
                    format!("DROP TRIGGER {} ON {name};", ident(&t.name)),
                )
                .lock(Lock::AccessExclusive),
            );
        }
    }
    for p in &old.policies {
        if new.policies.contains(p) && recreated.called_by_policy(p) {
            steps.push(
                Step::new(
                    table_key(old),
                    format!("DROP POLICY {} ON {name};", ident(&p.name)),
                )
                .lock(Lock::AccessExclusive),
            );
        }
    }
    steps
}

/// Constraints, indexes, triggers and policies of `old` that change or go away, as
/// `(foreign key drops, other drops)`: every foreign key must go before the keys it references.
pub fn drop_changed_parts(
    old: &Table,
    new: &Table,
    recreated: &Recreated,
) -> (Vec<Step>, Vec<Step>) {
    let name = old.qualified_name();
    let key = table_key(old);
    let (mut fks, mut others) = (Vec::new(), Vec::new());
    if recreated_whole(old, new) {
        return (drop_foreign_keys(old), others);
    }
    let touched = touched_columns(old, new);
    for c in &old.constraints {
        let keep = !recreated.references_recreated(c)
            && new
                .constraints
                .iter()
                .any(|n| n.name == c.name && same_constraint(c, n));
        if !keep {
            let step = drop_constraint(old, c);
            if c.kind == ConstraintKind::ForeignKey {
                fks.push(step);
            } else {
                others.push(step);
            }
        }
    }
    let reused: Vec<&str> = new
        .constraints
        .iter()
        .filter_map(|c| reusable_index(old, new, c))
        .map(|i| i.name.as_str())
        .collect();
    for i in &old.indexes {
        if !new.indexes.iter().any(|n| same_index(i, n)) && !reused.contains(&i.name.as_str()) {
            let index = QualifiedName::new(&old.schema, &i.name);
            // A partitioned index cannot be dropped concurrently.
            let step = if old.partition_by.is_some() {
                Step::new(key.clone(), format!("DROP INDEX {index};")).lock(Lock::AccessExclusive)
            } else {
                Step::new(key.clone(), format!("DROP INDEX CONCURRENTLY {index};"))
                    .lock(Lock::ShareUpdateExclusive)
                    .outside_transaction()
            };
            others.push(step);
        }
    }
    for t in &old.triggers {
        let same = new.triggers.iter().any(|n| same_trigger(t, n));
        if !same || mentions_any(&t.definition, &touched) {
            others.push(
                Step::new(
                    key.clone(),
                    format!("DROP TRIGGER {} ON {name};", ident(&t.name)),
                )
                .lock(Lock::AccessExclusive),
            );
        }
    }
    for p in &old.policies {
        let alterable = new
            .policies
            .iter()
            .any(|n| n.name == p.name && policy_alterable(p, n));
        if !alterable || policy_mentions_any(p, &touched) {
            others.push(
                Step::new(
                    key.clone(),
                    format!("DROP POLICY {} ON {name};", ident(&p.name)),
                )
                .lock(Lock::AccessExclusive),
            );
        }
    }
    (fks, others)
}

/// `PRIMARY KEY (a, b)` or `UNIQUE (a, b)`: a key an index can back as it is.
fn plain_key(c: &Constraint) -> Option<&'static str> {
    let kind = match c.kind {
        ConstraintKind::PrimaryKey => "PRIMARY KEY",
        ConstraintKind::Unique => "UNIQUE",
        _ => return None,
    };
    let columns: Vec<String> = c.columns.iter().map(|x| ident(x)).collect();
    (c.definition == format!("{kind} ({})", columns.join(", ")) && !c.deferrable).then_some(kind)
}

/// An index of `old` that goes away while a new key of `new` could be made from it as it is
/// (`ADD CONSTRAINT ... USING INDEX`, which also renames it): unique, btree, the key's
/// columns in order, nothing else. Only on plain tables, the only ones USING INDEX takes.
fn reusable_index<'t>(old: &'t Table, new: &Table, c: &Constraint) -> Option<&'t Index> {
    // Cheap tests first: this runs for every key of every table.
    if old.indexes.is_empty() || old.constraints.iter().any(|o| o.name == c.name) {
        return None;
    }
    if old.partition_by.is_some() || old.partition_of.is_some() || recreated_whole(old, new) {
        return None;
    }
    plain_key(c)?;
    let columns: Vec<String> = c.columns.iter().map(|x| ident(x)).collect();
    let backs = |i: &Index| {
        i.definition
            == format!(
                "CREATE UNIQUE INDEX {} ON {} USING btree ({})",
                ident(&i.name),
                old.qualified_name(),
                columns.join(", ")
            )
            && !new.indexes.iter().any(|n| n.name == i.name)
    };
    let index = old.indexes.iter().find(|i| backs(i))?;
    // The first new key that can use it gets it.
    let first = new.constraints.iter().find(|k| {
        k.definition == c.definition
            && k.kind == c.kind
            && !old.constraints.iter().any(|o| o.name == k.name)
    });
    (first.map(|k| &k.name) == Some(&c.name)).then_some(index)
}

/// Columns of `old` that are dropped or change type: PostgreSQL refuses both while a policy or
/// trigger uses the column, so those go first and come back after.
fn touched_columns(old: &Table, new: &Table) -> Vec<String> {
    old.columns
        .iter()
        .filter(|c| match new.column(&c.name) {
            None => true,
            Some(n) => {
                n.data_type != c.data_type
                    || n.collation != c.collation
                    || n.generated != c.generated
            }
        })
        .map(|c| ident(&c.name))
        .collect()
}

/// Whether SQL text names one of `columns` (quoted as identifiers). A match inside a string
/// literal only costs a needless drop and create, never a failure.
fn mentions_any(text: &str, columns: &[String]) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    columns.iter().any(|column| {
        text.match_indices(column.as_str()).any(|(at, m)| {
            let before = text[..at].chars().next_back();
            let after = text[at + m.len()..].chars().next();
            !before.is_some_and(word) && !after.is_some_and(word)
        })
    })
}

fn policy_mentions_any(p: &Policy, columns: &[String]) -> bool {
    [&p.using, &p.with_check]
        .into_iter()
        .flatten()
        .any(|e| mentions_any(e, columns))
}

/// Column changes and table-level settings of a table that exists on both sides.
pub fn alter(
    old: &Table,
    new: &Table,
    tables: &std::collections::HashMap<QualifiedName, &Table>,
    enums: &BTreeSet<String>,
) -> Vec<Step> {
    let name = new.qualified_name();
    let key = table_key(new);
    let mut steps = Vec::new();
    let alter = |sql: String| {
        Step::new(key.clone(), format!("ALTER TABLE {name} {sql};")).lock(Lock::AccessExclusive)
    };

    if recreated_whole(old, new) {
        let mut sql = format!("DROP TABLE {name};\n");
        render::create_table(&mut sql, new, tables);
        steps.push(
            Step::new(key.clone(), sql)
                .lock(Lock::AccessExclusive)
                .hazard(Hazard::DataLoss)
                .note("partitioning cannot be changed in place: the table is dropped and created again"),
        );
        return steps;
    }

    for c in old
        .columns
        .iter()
        .filter(|c| !c.inherited && new.column(&c.name).is_none())
    {
        steps.push(alter(format!("DROP COLUMN {}", ident(&c.name))).hazard(Hazard::DataLoss));
    }
    for c in &new.columns {
        let column = ident(&c.name);
        // A column inherited before but local now, whose parent drops it, is added afresh.
        let parent_drops_it = |o: &&Column| {
            o.inherited
                && !c.inherited
                && new
                    .inherits
                    .iter()
                    .chain(new.partition_of.iter().map(|p| &p.parent))
                    .all(|p| tables.get(p).is_none_or(|p| p.column(&c.name).is_none()))
        };
        let Some(o) = old.column(&c.name).filter(|o| !parent_drops_it(o)) else {
            // An inherited column arrives with the parent's ADD COLUMN.
            if c.inherited {
                continue;
            }
            let mut step = alter(format!("ADD COLUMN {}", render::column_sql(c)));
            if c.generated.is_some()
                || c.identity.is_some()
                || c.default.as_deref().is_some_and(is_volatile)
            {
                step = step.hazard(Hazard::TableRewrite);
            }
            if c.not_null && c.default.is_none() && c.identity.is_none() && c.generated.is_none() {
                step = step.hazard(Hazard::MayFailOnExistingRows);
            }
            steps.push(step);
            continue;
        };
        if o.generated != c.generated {
            // A generation expression cannot be altered in place (before PostgreSQL 17).
            let mut step = alter(format!(
                "DROP COLUMN {column}, ADD COLUMN {}",
                render::column_sql(c)
            ))
            .hazard(Hazard::TableRewrite);
            if o.generated.is_none() {
                step = step.hazard(Hazard::DataLoss);
            }
            steps.push(step);
            continue;
        }
        // Order matters: identity off before a default goes on, NOT NULL before identity.
        if o.identity.is_some() && c.identity.is_none() {
            steps.push(alter(format!("ALTER COLUMN {column} DROP IDENTITY")));
        }
        let retyped = !c.inherited && (o.data_type != c.data_type || o.collation != c.collation);
        let default_dropped = retyped && o.default.is_some();
        if default_dropped {
            steps.push(alter(format!("ALTER COLUMN {column} DROP DEFAULT")));
        }
        if retyped {
            let collate = c
                .collation
                .as_ref()
                .map(|x| format!(" COLLATE {x}"))
                .unwrap_or_default();
            // Between enum types there is no cast but through text.
            let enum_involved = [&o.data_type, &c.data_type]
                .iter()
                .any(|t| enums.contains(t.trim_end_matches("[]")));
            let via = match (enum_involved, c.data_type.ends_with("[]")) {
                (true, true) => "::text[]",
                (true, false) => "::text",
                _ => "",
            };
            let mut step = alter(format!(
                "ALTER COLUMN {column} TYPE {}{collate} USING {column}{via}::{}",
                c.data_type, c.data_type
            ));
            match cast_kind(&o.data_type, &c.data_type) {
                Cast::Free => {}
                Cast::Widening => step = step.hazard(Hazard::TableRewrite),
                Cast::Lossy => {
                    step = step
                        .hazard(Hazard::TableRewrite)
                        .hazard(Hazard::MayFailOnExistingRows)
                        .hazard(Hazard::DataLoss)
                }
            }
            steps.push(step);
        }
        if !canon::same_opt_expr(&o.default, &c.default) || default_dropped {
            match &c.default {
                Some(d) => steps.push(alter(format!("ALTER COLUMN {column} SET DEFAULT {d}"))),
                None if !default_dropped => {
                    steps.push(alter(format!("ALTER COLUMN {column} DROP DEFAULT")))
                }
                None => {}
            }
        }
        if o.not_null && !c.not_null {
            steps.push(alter(format!("ALTER COLUMN {column} DROP NOT NULL")));
        }
        if !o.not_null && c.not_null {
            steps.extend(set_not_null(new, c));
        }
        match (&o.identity, &c.identity) {
            (None, Some(id)) => steps.push(alter(format!(
                "ALTER COLUMN {column} ADD GENERATED {} AS IDENTITY ({})",
                id.generation.to_uppercase(),
                render::sequence_options(&id.sequence)
            ))),
            (Some(a), Some(b)) if a != b => {
                let s = &b.sequence;
                let mut step = alter(format!(
                    "ALTER COLUMN {column} SET GENERATED {} SET START WITH {} SET INCREMENT BY {} SET MINVALUE {} SET MAXVALUE {} SET CACHE {} SET {}",
                    b.generation.to_uppercase(), s.start, s.increment, s.min, s.max, s.cache,
                    if s.cycle { "CYCLE" } else { "NO CYCLE" }
                ));
                let sequence = format!(
                    "pg_get_serial_sequence({}, {})",
                    literal(&name.to_string()),
                    literal(&c.name)
                );
                step.sql = crate::sequences::restart_when_out_of_range(
                    &step.sql,
                    &sequence,
                    &a.sequence,
                    s,
                );
                steps.push(step);
            }
            _ => {}
        }
    }

    if old.rls_enabled != new.rls_enabled {
        let verb = if new.rls_enabled { "ENABLE" } else { "DISABLE" };
        steps.push(alter(format!("{verb} ROW LEVEL SECURITY")));
    }
    if old.rls_forced != new.rls_forced {
        let verb = if new.rls_forced { "FORCE" } else { "NO FORCE" };
        steps.push(alter(format!("{verb} ROW LEVEL SECURITY")));
    }
    let set: Vec<&String> = new
        .options
        .iter()
        .filter(|o| !old.options.contains(o))
        .collect();
    let reset: Vec<&str> = old
        .options
        .iter()
        .filter_map(|o| o.split('=').next())
        .filter(|k| !new.options.iter().any(|n| n.split('=').next() == Some(k)))
        .collect();
    if !set.is_empty() {
        let set: Vec<&str> = set.iter().map(|s| s.as_str()).collect();
        steps.push(alter(format!("SET ({})", set.join(", "))));
    }
    if !reset.is_empty() {
        steps.push(alter(format!("RESET ({})", reset.join(", "))));
    }
    if old.unlogged != new.unlogged {
        let mode = if new.unlogged { "UNLOGGED" } else { "LOGGED" };
        steps.push(alter(format!("SET {mode}")).hazard(Hazard::TableRewrite));
    }
    for parent in new.inherits.iter().filter(|p| !old.inherits.contains(p)) {
        // INHERIT wants the parent's columns there already ("child table is missing column").
        let missing = new
            .columns
            .iter()
            .filter(|c| c.inherited && old.column(&c.name).is_none());
        for c in missing {
            steps.push(alter(format!("ADD COLUMN {}", render::column_sql(c))));
        }
        steps.push(alter(format!("INHERIT {parent}")));
    }
    let leaves: Vec<&QualifiedName> = old
        .inherits
        .iter()
        .filter(|p| !new.inherits.contains(p))
        .collect();
    for parent in &leaves {
        steps.push(alter(format!("NO INHERIT {parent}")));
    }
    if !leaves.is_empty() {
        // What the table had only from the parents it leaves stays behind as its own.
        for c in old
            .columns
            .iter()
            .filter(|c| c.inherited && new.column(&c.name).is_none())
        {
            steps.push(alter(format!("DROP COLUMN {}", ident(&c.name))).hazard(Hazard::DataLoss));
        }
    }
    if let (Some(a), Some(b)) = (&old.partition_of, &new.partition_of) {
        if a != b {
            steps.push(
                Step::new(
                    key.clone(),
                    format!("ALTER TABLE {} DETACH PARTITION {name};", a.parent),
                )
                .lock(Lock::AccessExclusive),
            );
            steps.push(
                Step::new(
                    key.clone(),
                    format!(
                        "ALTER TABLE {} ATTACH PARTITION {name} {};",
                        b.parent, b.bound
                    ),
                )
                .lock(Lock::ShareUpdateExclusive)
                .hazard(Hazard::TableScan)
                .hazard(Hazard::MayFailOnExistingRows),
            );
        }
    }
    steps
}

/// SET NOT NULL without holding ACCESS EXCLUSIVE through a full scan: a NOT VALID check,
/// validated under a weaker lock, lets SET NOT NULL skip the scan (PostgreSQL 12+).
fn set_not_null(t: &Table, c: &Column) -> Vec<Step> {
    let name = t.qualified_name();
    let key = table_key(t);
    let column = ident(&c.name);
    if t.partition_by.is_some() || !t.inherits.is_empty() || t.partition_of.is_some() || c.inherited
    {
        return vec![Step::new(
            key,
            format!("ALTER TABLE {name} ALTER COLUMN {column} SET NOT NULL;"),
        )
        .lock(Lock::AccessExclusive)
        .hazard(Hazard::TableScan)
        .hazard(Hazard::MayFailOnExistingRows)];
    }
    let check = ident(&format!("{}_{}_not_null", t.name, c.name));
    vec![
        Step::new(key.clone(), format!("ALTER TABLE {name} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID;"))
            .lock(Lock::AccessExclusive)
            .note("SET NOT NULL through a CHECK validated in a transaction of its own, so the scan runs under a weaker lock"),
        Step::new(key.clone(), format!("ALTER TABLE {name} VALIDATE CONSTRAINT {check};"))
            .lock(Lock::ShareUpdateExclusive)
            .own_transaction()
            .hazard(Hazard::TableScan)
            .hazard(Hazard::MayFailOnExistingRows),
        Step::new(
            key,
            format!("ALTER TABLE {name} ALTER COLUMN {column} SET NOT NULL;\nALTER TABLE {name} DROP CONSTRAINT {check};"),
        )
        .lock(Lock::AccessExclusive),
    ]
}

enum Cast {
    /// Binary-compatible: no rewrite, no failure.
    Free,
    /// Every value fits, but the table is rewritten.
    Widening,
    /// Values may not fit or may change.
    Lossy,
}

fn cast_kind(from: &str, to: &str) -> Cast {
    let family = |t: &str| t.split('(').next().unwrap_or(t).trim().to_string();
    let length = |t: &str| -> Option<u32> {
        t.split('(')
            .nth(1)?
            .trim_end_matches(')')
            .split(',')
            .next()?
            .trim()
            .parse()
            .ok()
    };
    let (f, t) = (family(from), family(to));
    match (f.as_str(), t.as_str()) {
        ("character varying", "text") | ("character varying", "character varying")
            if length(to).is_none() =>
        {
            Cast::Free
        }
        ("text", "character varying") if length(to).is_none() => Cast::Free,
        ("character varying", "character varying") if length(to) >= length(from) => Cast::Free,
        ("numeric", "numeric") if !to.contains('(') => Cast::Free,
        ("smallint", "integer" | "bigint" | "numeric")
        | ("integer", "bigint" | "numeric")
        | ("bigint", "numeric") => Cast::Widening,
        ("real", "double precision") => Cast::Widening,
        _ if from == to => Cast::Free,
        _ => Cast::Lossy,
    }
}

/// Defaults whose value differs per row, so adding the column fills every row (a rewrite).
fn is_volatile(default: &str) -> bool {
    [
        "nextval(",
        "random(",
        "gen_random_uuid(",
        "uuid_generate",
        "clock_timestamp(",
        "timeofday(",
    ]
    .iter()
    .any(|f| default.contains(f))
}

/// Constraints, indexes, triggers and policies to add to `new` (a new table when `old` is
/// None), as `(parts, foreign keys)`. On a table that exists, indexes are built concurrently and
/// constraints are added NOT VALID then validated, so writes are not blocked for a full scan.
pub fn add_parts(
    old: Option<&Table>,
    new: &Table,
    recreated: &Recreated,
) -> (Vec<Step>, Vec<Step>) {
    let name = new.qualified_name();
    let key = table_key(new);
    let (mut parts, mut fks) = (Vec::new(), Vec::new());
    let old = old.filter(|o| !recreated_whole(o, new));
    let existing = old.is_some();
    let touched = old.map(|o| touched_columns(o, new)).unwrap_or_default();

    for c in &new.constraints {
        let before = old
            .and_then(|o| o.constraints.iter().find(|x| x.name == c.name))
            .filter(|b| !recreated.references_recreated(b));
        let target = if c.kind == ConstraintKind::ForeignKey {
            &mut fks
        } else {
            &mut parts
        };
        match before {
            Some(b) if same_constraint(b, c) => {
                if !b.validated && c.validated {
                    target.push(
                        Step::new(
                            key.clone(),
                            format!("ALTER TABLE {name} VALIDATE CONSTRAINT {};", ident(&c.name)),
                        )
                        .lock(Lock::ShareUpdateExclusive)
                        .own_transaction()
                        .hazard(Hazard::TableScan)
                        .hazard(Hazard::MayFailOnExistingRows),
                    );
                }
            }
            _ if !existing && render::inline_constraint(new, c) => {}
            _ => match old.and_then(|o| reusable_index(o, new, c)) {
                Some(index) => target.push(
                    Step::new(
                        key.clone(),
                        format!(
                            "ALTER TABLE {name} ADD CONSTRAINT {} {} USING INDEX {};",
                            ident(&c.name),
                            plain_key(c).unwrap_or_default(),
                            ident(&index.name)
                        ),
                    )
                    .lock(Lock::AccessExclusive)
                    .note(format!(
                        "made from the existing unique index {}",
                        index.name
                    )),
                ),
                None => target.extend(add_constraint(new, c, existing)),
            },
        }
    }
    let partitioned = new.partition_by.is_some();
    for i in &new.indexes {
        if old.is_some_and(|o| o.indexes.iter().any(|x| same_index(x, i))) {
            continue;
        }
        let sql = render::create_index(i, partitioned);
        // A partitioned table has no concurrent build: its partitions would each need one.
        let step = if existing && !partitioned {
            Step::new(
                key.clone(),
                format!("{};", sql.replacen(" INDEX ", " INDEX CONCURRENTLY ", 1)),
            )
            .lock(Lock::ShareUpdateExclusive)
            .hazard(Hazard::IndexBuild)
            .outside_transaction()
            .note("built concurrently: writes go on during the build")
        } else if existing {
            Step::new(key.clone(), format!("{sql};"))
                .lock(Lock::Share)
                .hazard(Hazard::IndexBuild)
        } else {
            Step::new(key.clone(), format!("{sql};"))
        };
        parts.push(step);
    }
    for t in &new.triggers {
        let before = old.and_then(|o| o.triggers.iter().find(|x| x.name == t.name));
        let recreate = match before {
            None => true,
            Some(b) => {
                !same_trigger(b, t)
                    || recreated.called_by_trigger(b)
                    || mentions_any(&b.definition, &touched)
            }
        };
        if recreate {
            let mut sql = format!("{};", t.definition);
            if t.enabled != "origin" {
                sql.push('\n');
                sql.push_str(&render::trigger_state(new, t));
            }
            parts.push(Step::new(key.clone(), sql).lock(Lock::ShareRowExclusive));
        } else if before.is_some_and(|b| b.enabled != t.enabled) {
            parts.push(
                Step::new(key.clone(), render::trigger_state(new, t)).lock(Lock::ShareRowExclusive),
            );
        }
    }
    if old.is_none() {
        if new.rls_enabled {
            parts.push(Step::new(
                key.clone(),
                format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;"),
            ));
        }
        if new.rls_forced {
            parts.push(Step::new(
                key.clone(),
                format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY;"),
            ));
        }
    }
    for p in &new.policies {
        let before = old.and_then(|o| o.policies.iter().find(|x| x.name == p.name));
        match before {
            Some(b)
                if policy_alterable(b, p)
                    && !recreated.called_by_policy(b)
                    && !policy_mentions_any(b, &touched) =>
            {
                if !same_policy(b, p) {
                    parts.push(
                        Step::new(key.clone(), alter_policy(new, p)).lock(Lock::AccessExclusive),
                    );
                }
            }
            _ => parts.push(
                Step::new(key.clone(), format!("{};", render::create_policy(new, p)))
                    .lock(Lock::AccessExclusive),
            ),
        }
    }
    (parts, fks)
}

fn alter_policy(t: &Table, p: &Policy) -> String {
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
    let mut sql = format!(
        "ALTER POLICY {} ON {} TO {}",
        ident(&p.name),
        t.qualified_name(),
        roles.join(", ")
    );
    if let Some(using) = &p.using {
        sql.push_str(&format!(" USING ({using})"));
    }
    if let Some(check) = &p.with_check {
        sql.push_str(&format!(" WITH CHECK ({check})"));
    }
    sql.push(';');
    sql
}

/// ADD CONSTRAINT; on a table that exists, in its online form.
fn add_constraint(t: &Table, c: &Constraint, existing: bool) -> Vec<Step> {
    let name = t.qualified_name();
    let key = table_key(t);
    let constraint = ident(&c.name);
    let add =
        |definition: &str| format!("ALTER TABLE {name} ADD CONSTRAINT {constraint} {definition};");
    if !existing {
        let lock = if c.kind == ConstraintKind::ForeignKey {
            Lock::ShareRowExclusive
        } else {
            Lock::AccessExclusive
        };
        return vec![Step::new(key, add(&c.definition)).lock(lock)];
    }
    match c.kind {
        // PostgreSQL refuses NOT VALID foreign keys on partitioned tables.
        ConstraintKind::ForeignKey if t.partition_by.is_some() => {
            vec![Step::new(key, add(strip_not_valid(&c.definition)))
                .lock(Lock::ShareRowExclusive)
                .hazard(Hazard::TableScan)
                .hazard(Hazard::MayFailOnExistingRows)
                .note("a partitioned table takes no NOT VALID foreign key: checked as it is added")]
        }
        ConstraintKind::Check | ConstraintKind::ForeignKey => {
            let definition = strip_not_valid(&c.definition);
            let lock = if c.kind == ConstraintKind::ForeignKey {
                Lock::ShareRowExclusive
            } else {
                Lock::AccessExclusive
            };
            let mut steps = vec![
                Step::new(key.clone(), add(&format!("{definition} NOT VALID")))
                    .lock(lock)
                    .note("added NOT VALID, then validated in a transaction of its own, without blocking writes"),
            ];
            if c.validated {
                steps.push(
                    Step::new(
                        key,
                        format!("ALTER TABLE {name} VALIDATE CONSTRAINT {constraint};"),
                    )
                    .lock(Lock::ShareUpdateExclusive)
                    .own_transaction()
                    .hazard(Hazard::TableScan)
                    .hazard(Hazard::MayFailOnExistingRows),
                );
            }
            steps
        }
        ConstraintKind::PrimaryKey | ConstraintKind::Unique
            if t.partition_by.is_none() && t.partition_of.is_none() =>
        {
            // Build the unique index concurrently, then promote it to the constraint.
            let columns: Vec<String> = c.columns.iter().map(|x| ident(x)).collect();
            let kind = if c.kind == ConstraintKind::PrimaryKey {
                "PRIMARY KEY"
            } else {
                "UNIQUE"
            };
            let plain = format!("{kind} ({})", columns.join(", "));
            if c.definition != plain || c.deferrable {
                return vec![Step::new(key, add(&c.definition))
                    .lock(Lock::AccessExclusive)
                    .hazard(Hazard::IndexBuild)
                    .hazard(Hazard::MayFailOnExistingRows)];
            }
            vec![
                Step::new(
                    key.clone(),
                    format!(
                        "CREATE UNIQUE INDEX CONCURRENTLY {constraint} ON {name} ({});",
                        columns.join(", ")
                    ),
                )
                .lock(Lock::ShareUpdateExclusive)
                .hazard(Hazard::IndexBuild)
                .hazard(Hazard::MayFailOnExistingRows)
                .outside_transaction()
                .note("unique index built concurrently, then attached as the constraint"),
                Step::new(key, add(&format!("{kind} USING INDEX {constraint}")))
                    .lock(Lock::AccessExclusive),
            ]
        }
        _ => vec![Step::new(key, add(&c.definition))
            .lock(Lock::AccessExclusive)
            .hazard(Hazard::IndexBuild)
            .hazard(Hazard::MayFailOnExistingRows)],
    }
}

/// COMMENT statements for columns, constraints, indexes, triggers and policies whose comment
/// differs (everything, for a new table).
pub fn part_comments(old: Option<&Table>, new: &Table) -> String {
    let name = new.qualified_name();
    let old = old.filter(|o| !recreated_whole(o, new));
    let touched = old.map(|o| touched_columns(o, new)).unwrap_or_default();
    let mut sql = String::new();
    let mut compare = |target: String, before: Option<&Option<String>>, after: &Option<String>| {
        if before.cloned().unwrap_or_default() != *after {
            sql.push_str(&comment_sql(&target, after));
        }
    };
    for c in &new.columns {
        let before = old.and_then(|o| o.column(&c.name)).map(|x| &x.comment);
        compare(
            format!("COLUMN {name}.{}", ident(&c.name)),
            before,
            &c.comment,
        );
    }
    for c in &new.constraints {
        let before = old
            .and_then(|o| {
                o.constraints
                    .iter()
                    .find(|x| x.name == c.name && same_constraint(x, c))
            })
            .map(|x| &x.comment);
        compare(
            format!("CONSTRAINT {} ON {name}", ident(&c.name)),
            before,
            &c.comment,
        );
    }
    for i in &new.indexes {
        let before = old
            .and_then(|o| o.indexes.iter().find(|x| same_index(x, i)))
            .map(|x| &x.comment);
        compare(
            format!("INDEX {}", QualifiedName::new(&new.schema, &i.name)),
            before,
            &i.comment,
        );
    }
    for t in &new.triggers {
        let before = old
            .and_then(|o| {
                o.triggers
                    .iter()
                    .find(|x| same_trigger(x, t) && !mentions_any(&x.definition, &touched))
            })
            .map(|x| &x.comment);
        compare(
            format!("TRIGGER {} ON {name}", ident(&t.name)),
            before,
            &t.comment,
        );
    }
    for p in &new.policies {
        let before = old
            .and_then(|o| {
                o.policies.iter().find(|x| {
                    x.name == p.name && policy_alterable(x, p) && !policy_mentions_any(x, &touched)
                })
            })
            .map(|x| &x.comment);
        compare(
            format!("POLICY {} ON {name}", ident(&p.name)),
            before,
            &p.comment,
        );
    }
    sql
}

/// Column-level privileges that changed, after the table's own (`table_acl_changed`: a
/// table-level REVOKE also took the privilege from every column, so those are restated). Each
/// changed column is revoked from everyone who held a privilege on it, then granted exactly.
pub fn column_grants(old: Option<&Table>, new: &Table, table_acl_changed: bool) -> String {
    let name = new.qualified_name().to_string();
    let old = old.filter(|o| !recreated_whole(o, new));
    let touched = old.map(|o| touched_columns(o, new)).unwrap_or_default();
    let mut sql = String::new();
    for c in &new.columns {
        let before = old
            .and_then(|o| o.column(&c.name))
            .and_then(|x| x.grants.clone());
        let recreated = touched.contains(&ident(&c.name));
        if before == c.grants && !(c.grants.is_some() && (table_acl_changed || recreated)) {
            continue;
        }
        let grantees: BTreeSet<&str> = before
            .iter()
            .flatten()
            .map(|g| g.grantee.as_str())
            .collect();
        for grantee in grantees {
            let grantee = if grantee == "PUBLIC" {
                "PUBLIC".to_string()
            } else {
                ident(grantee)
            };
            sql.push_str(&format!(
                "REVOKE ALL ({}) ON TABLE {name} FROM {grantee};\n",
                ident(&c.name)
            ));
        }
        render::column_grant_statements(&mut sql, &name, &c.name, &c.grants);
    }
    sql
}
