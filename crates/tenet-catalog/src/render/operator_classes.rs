//! Operator families and classes as SQL (only a superuser may run it).

use std::fmt::Write;

use crate::model::*;
use crate::quote::ident;

/// `CREATE OPERATOR FAMILY`, then the members no class holds.
pub fn create_operator_family(f: &OperatorFamily) -> String {
    let mut sql = format!("CREATE OPERATOR FAMILY {};", f.signature());
    if !f.members.is_empty() {
        write!(
            sql,
            "\nALTER OPERATOR FAMILY {} ADD {};",
            f.signature(),
            f.members.join(", ")
        )
        .unwrap();
    }
    sql
}

/// `CREATE OPERATOR CLASS`, always naming its family: the family is created on its own first,
/// also the one PostgreSQL would have made of the class's name.
pub fn create_operator_class(c: &OperatorClass) -> String {
    let mut items = c.members.clone();
    if let Some(storage) = &c.storage {
        items.push(format!("STORAGE {storage}"));
    }
    if items.is_empty() {
        // A class holds at least one item; its members may all belong to the family.
        items.push(format!("STORAGE {}", c.data_type));
    }
    format!(
        "CREATE OPERATOR CLASS {}{} FOR TYPE {} USING {} FAMILY {} AS {};",
        QualifiedName::new(&c.schema, &c.name),
        if c.default { " DEFAULT" } else { "" },
        c.data_type,
        ident(&c.method),
        c.family,
        items.join(", ")
    )
}

/// Comments on operator families and classes.
pub fn comments(out: &mut String, catalog: &Catalog) {
    for f in &catalog.operator_families {
        let target = format!("OPERATOR FAMILY {}", f.signature());
        super::comment(out, &target, &f.comment);
    }
    for c in &catalog.operator_classes {
        let target = format!("OPERATOR CLASS {}", c.signature());
        super::comment(out, &target, &c.comment);
    }
}

/// Owners of operator families and classes.
pub fn owners(out: &mut String, catalog: &Catalog) {
    let families = catalog
        .operator_families
        .iter()
        .map(|f| (format!("FAMILY {}", f.signature()), &f.owner));
    let classes = catalog
        .operator_classes
        .iter()
        .map(|c| (format!("CLASS {}", c.signature()), &c.owner));
    for (target, owner) in families.chain(classes) {
        writeln!(out, "ALTER OPERATOR {target} OWNER TO {};", ident(owner)).unwrap();
    }
}
