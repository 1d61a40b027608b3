//! Renames hinted in the target's SQL ([`Catalog::renames`]): the plan renames first, then
//! diffs as if `from` already had the new names. Hints of the source (a plan back down from
//! the schema files) are renames the other way. A hint whose old name is gone (the rename was
//! applied before) does nothing.

use std::borrow::Cow;

use tenet_catalog::model::*;
use tenet_catalog::quote::ident;

use crate::diff::table_key;
use crate::plan::{Lock, Step};

/// `from` with the hinted renames made (borrowed as it is when there are none), and the steps
/// that make them.
pub fn apply<'a>(from: &'a Catalog, to: &Catalog) -> (Cow<'a, Catalog>, Vec<Step>) {
    if to.renames.is_empty() && from.renames.is_empty() {
        return (Cow::Borrowed(from), Vec::new());
    }
    let renames: Vec<Rename> = to
        .renames
        .iter()
        .cloned()
        .chain(reversed(&from.renames))
        .collect();
    let mut renamed = from.clone();
    let mut steps = Vec::new();
    let tables_first = renames
        .iter()
        .filter(|r| r.column.is_none())
        .chain(renames.iter().filter(|r| r.column.is_some()));
    for r in tables_first {
        let step = match &r.column {
            None => rename_table(&mut renamed, to, r),
            Some(column) => rename_column(&mut renamed, to, r, column),
        };
        steps.extend(step);
    }
    let touched: Vec<&QualifiedName> = renames.iter().map(|r| &r.table).collect();
    steps.extend(rename_owned_sequences(&mut renamed, to, &touched));
    for table in touched {
        steps.extend(rename_parts(&mut renamed, to, table));
    }
    (Cow::Owned(renamed), steps)
}

/// Keys, checks and indexes of a renamed table keep their old names (`tag_pkey`); where the
/// target has the same definition under another name (`community_tag_pkey`), rename them.
fn rename_parts(c: &mut Catalog, to: &Catalog, name: &QualifiedName) -> Vec<Step> {
    let mut steps = Vec::new();
    let (Some(old), Some(new)) = (
        c.tables.iter_mut().find(|t| &t.qualified_name() == name),
        to.tables.iter().find(|t| &t.qualified_name() == name),
    ) else {
        return steps;
    };
    let step = |sql: String| {
        Step::new(format!("table {name}"), sql)
            .lock(Lock::AccessExclusive)
            .note("named after the table's new name")
    };
    let renamed_constraints: Vec<(String, String)> = old
        .constraints
        .iter()
        .filter(|k| !new.constraints.iter().any(|n| n.name == k.name))
        .filter_map(|k| {
            let twin = new.constraints.iter().find(|n| {
                n.kind == k.kind
                    && n.definition == k.definition
                    && !old.constraints.iter().any(|o| o.name == n.name)
            })?;
            Some((k.name.clone(), twin.name.clone()))
        })
        .collect();
    for (from, into) in renamed_constraints {
        steps.push(step(format!(
            "ALTER TABLE {name} RENAME CONSTRAINT {} TO {};",
            ident(&from),
            ident(&into)
        )));
        rename_identity_index(old, &from, &into);
        if let Some(k) = old.constraints.iter_mut().find(|k| k.name == from) {
            k.name = into;
        }
    }
    let index_as = |definition: &str, from: &str, into: &str| {
        definition.replacen(
            &format!(" {} ON ", ident(from)),
            &format!(" {} ON ", ident(into)),
            1,
        )
    };
    let renamed_indexes: Vec<(String, String)> = old
        .indexes
        .iter()
        .filter(|i| !new.indexes.iter().any(|n| n.name == i.name))
        .filter_map(|i| {
            let twin = new.indexes.iter().find(|n| {
                index_as(&i.definition, &i.name, &n.name) == n.definition
                    && !old.indexes.iter().any(|o| o.name == n.name)
            })?;
            Some((i.name.clone(), twin.name.clone()))
        })
        .collect();
    for (from, into) in renamed_indexes {
        steps.push(step(format!(
            "ALTER INDEX {} RENAME TO {};",
            QualifiedName::new(&name.schema, &from),
            ident(&into)
        )));
        rename_identity_index(old, &from, &into);
        if let Some(i) = old.indexes.iter_mut().find(|i| i.name == from) {
            i.definition = index_as(&i.definition, &from, &into);
            i.name = into;
        }
    }
    steps
}

/// A renamed index or key that is the table's replica identity stays it.
fn rename_identity_index(t: &mut Table, from: &str, into: &str) {
    if let Some(ReplicaIdentity::Index(index)) = t.replica_identity.as_mut() {
        if index == from {
            *index = into.to_string();
        }
    }
}

/// A serial column's sequence keeps its old name through a rename (`tag_id_seq` of what is
/// now `community_tag.id`); when the target owns that column by another sequence
/// (`community_tag_id_seq`) the old one is renamed to it, so the counter carries on.
fn rename_owned_sequences(c: &mut Catalog, to: &Catalog, touched: &[&QualifiedName]) -> Vec<Step> {
    let mut steps = Vec::new();
    let named = |list: &[Sequence], n: &QualifiedName| {
        list.iter()
            .any(|s| s.schema == n.schema && s.name == n.name)
    };
    for i in 0..c.sequences.len() {
        let Some(owner) = c.sequences[i].owned_by.clone() else {
            continue;
        };
        if !touched.contains(&&owner.table) {
            continue;
        }
        let old = QualifiedName::new(&c.sequences[i].schema, &c.sequences[i].name);
        let Some(target) = to
            .sequences
            .iter()
            .find(|s| s.owned_by.as_ref() == Some(&owner))
        else {
            continue;
        };
        let new = QualifiedName::new(&target.schema, &target.name);
        if new == old
            || new.schema != old.schema
            || named(&to.sequences, &old)
            || named(&c.sequences, &new)
        {
            continue;
        }
        c.sequences[i].name = new.name.clone();
        let (old_text, new_text) = (format!("'{old}'"), format!("'{new}'"));
        for t in &mut c.tables {
            for col in &mut t.columns {
                if let Some(d) = col.default.as_mut() {
                    *d = d.replace(&old_text, &new_text);
                }
            }
        }
        steps.push(
            Step::new(
                format!("sequence {new}"),
                format!("ALTER SEQUENCE {old} RENAME TO {};", ident(&new.name)),
            )
            .lock(Lock::AccessExclusive)
            .note(format!(
                "the sequence of {}.{}, renamed with it",
                owner.table,
                ident(&owner.column)
            )),
        );
    }
    steps
}

/// The same renames, undone: the tables and columns go back to their old names.
fn reversed(renames: &[Rename]) -> Vec<Rename> {
    let old_table = |t: &QualifiedName| {
        renames
            .iter()
            .find(|r| r.column.is_none() && &r.table == t)
            .map(|r| QualifiedName::new(&t.schema, &r.from))
            .unwrap_or_else(|| t.clone())
    };
    renames
        .iter()
        .map(|r| match &r.column {
            None => Rename {
                table: old_table(&r.table),
                column: None,
                from: r.table.name.clone(),
            },
            Some(column) => Rename {
                table: old_table(&r.table),
                column: Some(r.from.clone()),
                from: column.clone(),
            },
        })
        .collect()
}

fn rename_table(c: &mut Catalog, to: &Catalog, r: &Rename) -> Option<Step> {
    let old = QualifiedName::new(&r.table.schema, &r.from);
    let new = &r.table;
    let exists = |n: &QualifiedName| c.tables.iter().any(|t| &t.qualified_name() == n);
    let wanted = to.tables.iter().any(|t| &t.qualified_name() == new);
    if !exists(&old) || exists(new) || !wanted {
        return None;
    }
    let (old_text, new_text) = (old.to_string(), new.to_string());
    let (old_key, new_key) = (format!("table {old}"), format!("table {new}"));
    let swap = |text: &mut String| *text = replace_word(text, &old_text, &new_text);
    for t in &mut c.tables {
        if t.qualified_name() == old {
            t.name = new.name.clone();
            t.indexes.iter_mut().for_each(|i| swap(&mut i.definition));
            t.triggers.iter_mut().for_each(|x| swap(&mut x.definition));
        }
        for k in &mut t.constraints {
            if let Some(fk) = k.references.as_mut().filter(|fk| fk.table == old) {
                fk.table = new.clone();
                swap(&mut k.definition);
            }
        }
        if let Some(p) = t.partition_of.as_mut().filter(|p| p.parent == old) {
            p.parent = new.clone();
        }
        t.inherits
            .iter_mut()
            .filter(|p| **p == old)
            .for_each(|p| *p = new.clone());
        rekey(&mut t.depends_on, &old_key, &new_key);
    }
    for s in &mut c.sequences {
        if let Some(o) = s.owned_by.as_mut().filter(|o| o.table == old) {
            o.table = new.clone();
        }
    }
    for v in &mut c.views {
        swap(&mut v.definition);
        rekey(&mut v.depends_on, &old_key, &new_key);
    }
    // A publication keeps publishing a renamed table.
    for p in &mut c.publications {
        for t in p.tables.iter_mut().filter(|t| t.table == old) {
            t.table = new.clone();
        }
        p.tables.sort_by(|a, b| a.table.cmp(&b.table));
    }
    for f in &mut c.functions {
        rekey(&mut f.depends_on, &old_key, &new_key);
    }
    for t in &mut c.types {
        rekey(&mut t.depends_on, &old_key, &new_key);
    }
    Some(
        Step::new(
            format!("table {new}"),
            format!("ALTER TABLE {old} RENAME TO {};", ident(&new.name)),
        )
        .lock(Lock::AccessExclusive)
        .note(format!("renamed from {} (tenet:renamed-from)", r.from)),
    )
}

fn rename_column(c: &mut Catalog, to: &Catalog, r: &Rename, column: &str) -> Option<Step> {
    let old = r.from.as_str();
    let wanted = to
        .tables
        .iter()
        .any(|t| t.qualified_name() == r.table && t.column(column).is_some());
    if !wanted {
        return None;
    }
    let table = c
        .tables
        .iter_mut()
        .find(|t| t.qualified_name() == r.table)?;
    if table.column(old).is_none() || table.column(column).is_some() {
        return None;
    }
    let (old_word, new_word) = (ident(old), ident(column));
    let swap = |text: &mut String| *text = replace_identifier(text, &old_word, &new_word);
    let rename = |names: &mut Vec<String>| {
        names
            .iter_mut()
            .filter(|n| *n == old || **n == old_word)
            .for_each(|n| {
                *n = if *n == old {
                    column.to_string()
                } else {
                    new_word.clone()
                }
            });
    };
    for col in &mut table.columns {
        if col.name == old {
            col.name = column.to_string();
        }
        col.default.iter_mut().for_each(swap);
        col.generated.iter_mut().for_each(swap);
    }
    for k in &mut table.constraints {
        rename(&mut k.columns);
        swap(&mut k.definition);
    }
    for i in &mut table.indexes {
        rename(&mut i.columns);
        rename(&mut i.include);
        swap(&mut i.definition);
        i.predicate.iter_mut().for_each(swap);
    }
    table
        .triggers
        .iter_mut()
        .for_each(|t| swap(&mut t.definition));
    for p in &mut table.policies {
        p.using.iter_mut().for_each(swap);
        p.with_check.iter_mut().for_each(swap);
    }
    let step = Step::new(
        table_key(table),
        format!(
            "ALTER TABLE {} RENAME COLUMN {old_word} TO {new_word};",
            r.table
        ),
    )
    .lock(Lock::AccessExclusive)
    .note(format!("renamed from {old} (tenet:renamed-from)"));
    // Foreign keys that point at the column, from any table.
    for t in &mut c.tables {
        for k in &mut t.constraints {
            let Some(fk) = k.references.as_mut().filter(|fk| fk.table == r.table) else {
                continue;
            };
            rename(&mut fk.columns);
            if let Some(at) = k.definition.find(" REFERENCES ") {
                let (local, target) = k.definition.split_at(at);
                k.definition = format!(
                    "{local}{}",
                    replace_identifier(target, &old_word, &new_word)
                );
            }
        }
    }
    for s in &mut c.sequences {
        if let Some(o) = s.owned_by.as_mut() {
            if o.table == r.table && o.column == old {
                o.column = column.to_string();
            }
        }
    }
    for p in &mut c.publications {
        for t in p.tables.iter_mut().filter(|t| t.table == r.table) {
            rename(&mut t.columns);
            t.row_filter.iter_mut().for_each(swap);
        }
    }
    Some(step)
}

fn rekey(keys: &mut [String], old: &str, new: &str) {
    keys.iter_mut()
        .filter(|k| *k == old)
        .for_each(|k| *k = new.to_string());
}

/// `text` with whole-word occurrences of `old` (a qualified name) replaced. A match inside a
/// string literal makes the prediction differ from the target, which only costs a recreate.
fn replace_word(text: &str, old: &str, new: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$' || c == '"';
    let mut out = String::new();
    let mut rest = 0;
    for (at, m) in text.match_indices(old) {
        let before = text[..at].chars().next_back();
        let after = text[at + m.len()..].chars().next();
        if at >= rest && !before.is_some_and(word) && !after.is_some_and(word) {
            out.push_str(&text[rest..at]);
            out.push_str(new);
            rest = at + m.len();
        }
    }
    out.push_str(&text[rest..]);
    out
}

/// `text` with every identifier token spelled `old` replaced by `new`; string literals and
/// comments are left alone (the PostgreSQL scanner tells them apart).
fn replace_identifier(text: &str, old: &str, new: &str) -> String {
    let Ok(scanned) = pg_query::scan(text) else {
        return text.to_string();
    };
    let mut out = String::new();
    let mut rest = 0;
    for t in &scanned.tokens {
        let (start, end) = (t.start as usize, t.end as usize);
        let literal = t.token == pg_query::protobuf::Token::Sconst as i32
            || t.token == pg_query::protobuf::Token::Usconst as i32;
        if !literal && text.get(start..end) == Some(old) {
            out.push_str(&text[rest..start]);
            out.push_str(new);
            rest = end;
        }
    }
    out.push_str(&text[rest..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_replaced_but_not_literals() {
        assert_eq!(
            replace_identifier("CHECK ((val > 0) AND (name <> 'val'))", "val", "amount"),
            "CHECK ((amount > 0) AND (name <> 'val'))"
        );
        assert_eq!(
            replace_word(
                "CREATE INDEX i ON public.tag USING btree (public.tagx)",
                "public.tag",
                "public.community_tag"
            ),
            "CREATE INDEX i ON public.community_tag USING btree (public.tagx)"
        );
    }
}
