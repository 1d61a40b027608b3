//! The Mermaid `erDiagram`s. One diagram while it fits in what Mermaid renders by default
//! (`maxTextSize`, 50,000 characters; GitHub shows an error above it); beyond that, one diagram
//! per schema, and a schema still too large is cut into groups of tables connected by foreign
//! keys, packed into diagrams that fit. Partitions are drawn as their parent only.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use tenet_catalog::model::*;

use crate::{foreign_keys, optional, short, unique_on};

/// Mermaid's default `maxTextSize`.
pub const MAX_DIAGRAM: usize = 50_000;

/// A Mermaid-safe name: letters, digits and underscores.
pub fn mermaid_name(text: &str) -> String {
    let name: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    }
}

fn entity(schema: &str, name: &str) -> String {
    mermaid_name(&short(schema, name).replace('.', "__"))
}

/// The `erDiagram` body of the whole schema (without the code fence), however large.
pub fn mermaid(c: &Catalog) -> String {
    let tables: Vec<&Table> = drawn(c).collect();
    diagram(c, &tables)
}

/// The section's body: one fenced diagram, or an overview and one diagram per group.
pub(crate) fn section(c: &Catalog) -> String {
    let all: Vec<&Table> = drawn(c).collect();
    let whole = diagram(c, &all);
    if whole.len() <= MAX_DIAGRAM {
        return format!("```mermaid\n{whole}```\n");
    }
    let groups = groups(c, &all);
    let mut out = format!(
        "The schema's diagram would be {} characters, more than Mermaid renders ({}), so it \
         is drawn in {} parts: one per schema, a large schema cut into groups of tables \
         connected by foreign keys. Relationships between parts are listed under \
         Relationships.\n\n",
        whole.len(),
        MAX_DIAGRAM,
        groups.len()
    );
    for (title, tables) in &groups {
        writeln!(out, "- {title}: {} tables", tables.len()).unwrap();
    }
    for (title, tables) in &groups {
        write!(
            out,
            "\n### {title}\n\n```mermaid\n{}```\n",
            diagram(c, tables)
        )
        .unwrap();
    }
    out
}

/// Tables that get an entity: all but partitions (their parent stands for them).
fn drawn(c: &Catalog) -> impl Iterator<Item = &Table> {
    c.tables.iter().filter(|t| t.partition_of.is_none())
}

/// One diagram of `tables` and the foreign keys between them.
fn diagram(c: &Catalog, tables: &[&Table]) -> String {
    let mut out = String::from("erDiagram\n");
    for t in tables {
        out.push_str(&entity_block(t));
    }
    let inside: BTreeSet<(&str, &str)> = tables
        .iter()
        .map(|t| (t.schema.as_str(), t.name.as_str()))
        .collect();
    for (t, k, r) in foreign_keys(c) {
        if inside.contains(&(t.schema.as_str(), t.name.as_str()))
            && inside.contains(&(r.table.schema.as_str(), r.table.name.as_str()))
        {
            out.push_str(&relationship(t, k, r));
        }
    }
    out
}

fn entity_block(t: &Table) -> String {
    let mut out = String::new();
    writeln!(out, "    {} {{", entity(&t.schema, &t.name)).unwrap();
    for col in &t.columns {
        let mut keys = Vec::new();
        if t.constraints
            .iter()
            .any(|k| k.kind == ConstraintKind::PrimaryKey && k.columns.contains(&col.name))
        {
            keys.push("PK");
        }
        if t.constraints
            .iter()
            .any(|k| k.kind == ConstraintKind::ForeignKey && k.columns.contains(&col.name))
        {
            keys.push("FK");
        }
        if !keys.is_empty()
            && t.constraints
                .iter()
                .any(|k| k.kind == ConstraintKind::Unique && k.columns == [col.name.clone()])
        {
            keys.push("UK");
        }
        let keys = if keys.is_empty() {
            String::new()
        } else {
            format!(" {}", keys.join(", "))
        };
        writeln!(
            out,
            "        {} {}{keys}",
            mermaid_name(&col.data_type),
            mermaid_name(&col.name)
        )
        .unwrap();
    }
    out.push_str("    }\n");
    out
}

fn relationship(t: &Table, k: &Constraint, r: &ForeignKey) -> String {
    let parent_side = if optional(t, &k.columns) { "|o" } else { "||" };
    let child_side = if unique_on(t, &k.columns) { "o|" } else { "o{" };
    format!(
        "    {} {parent_side}--{child_side} {} : \"{}\"\n",
        entity(&r.table.schema, &r.table.name),
        entity(&t.schema, &t.name),
        k.columns.join(", ")
    )
}

/// Titled groups of tables whose diagrams each fit.
fn groups<'c>(c: &'c Catalog, tables: &[&'c Table]) -> Vec<(String, Vec<&'c Table>)> {
    let mut by_schema: BTreeMap<&str, Vec<&Table>> = BTreeMap::new();
    for t in tables {
        by_schema.entry(t.schema.as_str()).or_default().push(t);
    }
    let mut out = Vec::new();
    for (schema, tables) in by_schema {
        if diagram(c, &tables).len() <= MAX_DIAGRAM {
            out.push((format!("Schema {schema}"), tables));
            continue;
        }
        let parts = pack(c, components(c, &tables));
        let count = parts.len();
        for (i, part) in parts.into_iter().enumerate() {
            out.push((format!("Schema {schema}, part {} of {count}", i + 1), part));
        }
    }
    out
}

/// The tables split into groups connected by foreign keys (union-find over the edges), each in
/// catalog order, the groups in order of their first table.
fn components<'c>(c: &Catalog, tables: &[&'c Table]) -> Vec<Vec<&'c Table>> {
    let index: BTreeMap<(&str, &str), usize> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| ((t.schema.as_str(), t.name.as_str()), i))
        .collect();
    let mut parent: Vec<usize> = (0..tables.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (t, _, r) in foreign_keys(c) {
        let (Some(&a), Some(&b)) = (
            index.get(&(t.schema.as_str(), t.name.as_str())),
            index.get(&(r.table.schema.as_str(), r.table.name.as_str())),
        ) else {
            continue;
        };
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        parent[ra.max(rb)] = ra.min(rb);
    }
    let mut groups: BTreeMap<usize, Vec<&Table>> = BTreeMap::new();
    for (i, t) in tables.iter().enumerate() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(t);
    }
    groups.into_values().collect()
}

/// Components packed in order into diagrams that fit; a component too large alone is cut in
/// catalog order (its cut foreign keys are still listed under Relationships).
fn pack<'c>(c: &Catalog, components: Vec<Vec<&'c Table>>) -> Vec<Vec<&'c Table>> {
    let mut parts: Vec<Vec<&Table>> = Vec::new();
    let mut current: Vec<&Table> = Vec::new();
    for component in components {
        let mut with = current.clone();
        with.extend(component.iter().copied());
        if diagram(c, &with).len() <= MAX_DIAGRAM {
            current = with;
            continue;
        }
        if !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        if diagram(c, &component).len() <= MAX_DIAGRAM {
            current = component;
            continue;
        }
        for t in component {
            current.push(t);
            if diagram(c, &current).len() > MAX_DIAGRAM && current.len() > 1 {
                let last = current.pop().expect("just pushed");
                parts.push(std::mem::replace(&mut current, vec![last]));
            }
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}
