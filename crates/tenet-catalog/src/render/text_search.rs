//! Text search dictionaries and configurations as SQL.

use std::fmt::Write;

use crate::model::*;
use crate::quote::{ident, literal};

fn dictionary_name(d: &TextSearchDictionary) -> QualifiedName {
    QualifiedName::new(&d.schema, &d.name)
}

fn configuration_name(c: &TextSearchConfiguration) -> QualifiedName {
    QualifiedName::new(&c.schema, &c.name)
}

/// `CREATE TEXT SEARCH DICTIONARY`.
pub fn create_text_search_dictionary(d: &TextSearchDictionary) -> String {
    let options = d
        .options
        .as_ref()
        .map(|o| format!(", {o}"))
        .unwrap_or_default();
    format!(
        "CREATE TEXT SEARCH DICTIONARY {} (TEMPLATE = {}{options});",
        dictionary_name(d),
        d.template
    )
}

/// `CREATE TEXT SEARCH CONFIGURATION` with no mappings, then one `ADD MAPPING` per token type.
pub fn create_text_search_configuration(c: &TextSearchConfiguration) -> String {
    let name = configuration_name(c);
    let mut sql = format!(
        "CREATE TEXT SEARCH CONFIGURATION {name} (PARSER = {});",
        c.parser
    );
    for m in &c.mappings {
        write!(sql, "\n{}", text_search_mapping(c, "ADD", m)).unwrap();
    }
    sql
}

/// `ALTER TEXT SEARCH CONFIGURATION ... ADD|ALTER MAPPING FOR token WITH dictionaries`.
pub fn text_search_mapping(
    c: &TextSearchConfiguration,
    verb: &str,
    m: &TextSearchMapping,
) -> String {
    format!(
        "ALTER TEXT SEARCH CONFIGURATION {} {verb} MAPPING FOR {} WITH {};",
        configuration_name(c),
        ident(&m.token),
        m.dictionaries.join(", ")
    )
}

/// `COMMENT ON` and `ALTER ... OWNER TO` for a dictionary (`kind` `DICTIONARY`) or
/// configuration (`CONFIGURATION`).
fn comment_and_owner(
    out: &mut String,
    kind: &str,
    name: &QualifiedName,
    comment: &Option<String>,
    owner: &str,
) {
    if let Some(text) = comment {
        writeln!(
            out,
            "COMMENT ON TEXT SEARCH {kind} {name} IS {};",
            literal(text)
        )
        .unwrap();
    }
    writeln!(
        out,
        "ALTER TEXT SEARCH {kind} {name} OWNER TO {};",
        ident(owner)
    )
    .unwrap();
}

/// Every dictionary, then every configuration (which name dictionaries).
pub fn text_search(out: &mut String, catalog: &Catalog) {
    for d in &catalog.text_search_dictionaries {
        writeln!(out, "{}", create_text_search_dictionary(d)).unwrap();
        comment_and_owner(out, "DICTIONARY", &dictionary_name(d), &d.comment, &d.owner);
    }
    for c in &catalog.text_search_configurations {
        writeln!(out, "{}", create_text_search_configuration(c)).unwrap();
        comment_and_owner(
            out,
            "CONFIGURATION",
            &configuration_name(c),
            &c.comment,
            &c.owner,
        );
    }
}
