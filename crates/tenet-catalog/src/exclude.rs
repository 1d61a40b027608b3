//! Leaving objects out of a catalog: those a project says are managed elsewhere (`[schema]
//! exclude` in tenet.toml), so that neither side of a plan or a drift check sees them.

use std::collections::BTreeSet;

use crate::model::Catalog;

/// Remove every table, view, sequence, function, type, extended statistics, text search
/// object, operator and operator class or family whose `(schema, name)` is excluded
/// (sequences owned by an excluded table, and its statistics, go with it); then every
/// schema `schema_excluded` says, and every schema left empty by the removal (`audit.*`
/// leaves out `audit` too, else a plan would drop a schema that still holds the tables it
/// does not see).
pub fn exclude(
    catalog: &mut Catalog,
    excluded: impl Fn(&str, &str) -> bool,
    schema_excluded: impl Fn(&str) -> bool,
) {
    let mut emptied = BTreeSet::new();
    let mut keep = |schema: &str, name: &str| {
        let out = excluded(schema, name);
        if out {
            emptied.insert(schema.to_string());
        }
        !out
    };
    catalog.tables.retain(|t| keep(&t.schema, &t.name));
    catalog.views.retain(|v| keep(&v.schema, &v.name));
    catalog.functions.retain(|f| keep(&f.schema, &f.name));
    catalog.types.retain(|t| keep(&t.schema, &t.name));
    catalog.operators.retain(|o| keep(&o.schema, &o.name));
    catalog
        .operator_families
        .retain(|f| keep(&f.schema, &f.name));
    catalog
        .operator_classes
        .retain(|c| keep(&c.schema, &c.name));
    catalog.sequences.retain(|s| {
        let owner = s.owned_by.as_ref();
        keep(&s.schema, &s.name) && owner.is_none_or(|o| !excluded(&o.table.schema, &o.table.name))
    });
    // Extended statistics go with their table too.
    catalog
        .statistics
        .retain(|s| keep(&s.schema, &s.name) && !excluded(&s.table.schema, &s.table.name));
    catalog
        .text_search_dictionaries
        .retain(|d| keep(&d.schema, &d.name));
    catalog
        .text_search_configurations
        .retain(|c| keep(&c.schema, &c.name));
    let gone: BTreeSet<String> = catalog
        .schemas
        .iter()
        .map(|s| s.name.clone())
        .filter(|s| schema_excluded(s) || (emptied.contains(s) && !catalog.holds_objects(s)))
        .collect();
    catalog.schemas.retain(|s| !gone.contains(&s.name));
    catalog
        .default_privileges
        .retain(|d| d.schema.as_ref().is_none_or(|s| !gone.contains(s)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_go_with_their_table_and_text_search_objects_with_their_names() {
        let mut catalog: Catalog = serde_json::from_value(serde_json::json!({
            "schemas": [{"name": "audit", "owner": "o"}, {"name": "public", "owner": "o"}],
            "tables": [{"schema": "audit", "name": "log", "owner": "o"}],
            "statistics": [{"schema": "public", "name": "log_stats", "owner": "o",
                "table": {"schema": "audit", "name": "log"},
                "definition": "CREATE STATISTICS public.log_stats ON a, b FROM audit.log"}],
            "text_search_configurations": [{"schema": "audit", "name": "words", "owner": "o",
                "parser": "pg_catalog.\"default\""}]
        }))
        .unwrap();
        exclude(&mut catalog, |schema, _| schema == "audit", |_| false);
        assert!(catalog.tables.is_empty());
        assert!(catalog.statistics.is_empty());
        assert!(catalog.text_search_configurations.is_empty());
        let schemas: Vec<&str> = catalog.schemas.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(schemas, ["public"]);
    }
}
