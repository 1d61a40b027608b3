//! Range types as SQL.

use crate::model::*;

/// `CREATE TYPE ... AS RANGE (...)`, naming the multirange type too so it keeps its name.
pub fn create_range(t: &Type) -> String {
    let TypeKind::Range {
        subtype,
        subtype_opclass,
        collation,
        canonical,
        subtype_diff,
        multirange,
    } = &t.kind
    else {
        return String::new();
    };
    let mut options = vec![format!("subtype = {subtype}")];
    let optional = [
        ("subtype_opclass", subtype_opclass),
        ("collation", collation),
        ("canonical", canonical),
        ("subtype_diff", subtype_diff),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            options.push(format!("{key} = {value}"));
        }
    }
    options.push(format!("multirange_type_name = {multirange}"));
    format!(
        "CREATE TYPE {} AS RANGE ({})",
        QualifiedName::new(&t.schema, &t.name),
        options.join(", ")
    )
}
