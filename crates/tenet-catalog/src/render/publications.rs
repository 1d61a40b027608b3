//! Publications and `REPLICA IDENTITY` as SQL.

use std::fmt::Write;

use crate::model::*;
use crate::quote::{ident, literal};

/// `CREATE PUBLICATION` with its tables, schemas and options.
pub fn create_publication(p: &Publication) -> String {
    let mut sql = format!("CREATE PUBLICATION {}", ident(&p.name));
    if p.all_tables {
        sql.push_str(" FOR ALL TABLES");
    } else if let Some(objects) = publication_objects(p) {
        write!(sql, " FOR {objects}").unwrap();
    }
    write!(sql, " WITH ({});", publish_options(p)).unwrap();
    sql
}

/// The `FOR` list of a publication that is not `FOR ALL TABLES`: its tables, then its
/// schemas; None when it has neither.
pub fn publication_objects(p: &Publication) -> Option<String> {
    let tables = p.tables.iter().map(published_table);
    let schemas = p
        .schemas
        .iter()
        .map(|s| format!("TABLES IN SCHEMA {}", ident(s)));
    let objects: Vec<String> = tables.chain(schemas).collect();
    (!objects.is_empty()).then(|| objects.join(", "))
}

/// `TABLE ONLY s.t (a, b) WHERE (...)`. `ONLY`, because an inheritance child published too
/// has an entry of its own (a partitioned table's partitions are published either way).
pub fn published_table(t: &PublishedTable) -> String {
    let mut sql = format!("TABLE ONLY {}", t.table);
    if !t.columns.is_empty() {
        let columns: Vec<String> = t.columns.iter().map(|c| ident(c)).collect();
        write!(sql, " ({})", columns.join(", ")).unwrap();
    }
    if let Some(filter) = &t.row_filter {
        write!(sql, " WHERE ({filter})").unwrap();
    }
    sql
}

/// `publish = '...', publish_via_partition_root = ...`.
pub fn publish_options(p: &Publication) -> String {
    format!(
        "publish = {}, publish_via_partition_root = {}",
        literal(&p.publish.join(", ")),
        p.via_root
    )
}

/// `ALTER TABLE ... REPLICA IDENTITY ...`; None (the default) is the primary key.
pub fn replica_identity(table: &QualifiedName, identity: Option<&ReplicaIdentity>) -> String {
    let clause = match identity {
        None => "DEFAULT".to_string(),
        Some(ReplicaIdentity::Full) => "FULL".to_string(),
        Some(ReplicaIdentity::Nothing) => "NOTHING".to_string(),
        Some(ReplicaIdentity::Index(index)) => format!("USING INDEX {}", ident(index)),
    };
    format!("ALTER TABLE {table} REPLICA IDENTITY {clause};")
}

/// Every publication with its comment and owner.
pub fn publications(out: &mut String, catalog: &Catalog) {
    for p in &catalog.publications {
        writeln!(out, "{}", create_publication(p)).unwrap();
        let target = format!("PUBLICATION {}", ident(&p.name));
        super::comment(out, &target, &p.comment);
        writeln!(out, "ALTER {target} OWNER TO {};", ident(&p.owner)).unwrap();
    }
}

/// Every table's replica identity that is not the default.
pub fn replica_identities(out: &mut String, catalog: &Catalog) {
    for t in &catalog.tables {
        if let Some(identity) = &t.replica_identity {
            writeln!(
                out,
                "{}",
                replica_identity(&t.qualified_name(), Some(identity))
            )
            .unwrap();
        }
    }
}
