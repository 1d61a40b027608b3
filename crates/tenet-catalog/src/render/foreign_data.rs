//! Foreign servers, user mappings and foreign tables as SQL. A user mapping is rendered
//! without options: the catalog never holds them (they hold passwords).

use std::fmt::Write;

use crate::model::*;
use crate::quote::{ident, literal};

/// `name 'value', ...` of options kept as `name=value`.
pub fn options_list(options: &[String]) -> String {
    options
        .iter()
        .map(|o| {
            let (name, value) = split_option(o);
            format!("{} {}", ident(name), literal(value))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// ` OPTIONS (...)`, or nothing when there are none.
fn options_clause(options: &[String]) -> String {
    if options.is_empty() {
        String::new()
    } else {
        format!(" OPTIONS ({})", options_list(options))
    }
}

/// `name=value` as its name and value (PostgreSQL splits at the first `=` too).
pub fn split_option(option: &str) -> (&str, &str) {
    option.split_once('=').unwrap_or((option, ""))
}

pub fn server_target(s: &ForeignServer) -> String {
    format!("SERVER {}", ident(&s.name))
}

/// What `GRANT ... ON` names a server by.
pub fn server_grant_target(s: &ForeignServer) -> String {
    format!("FOREIGN SERVER {}", ident(&s.name))
}

/// `CREATE SERVER ... FOREIGN DATA WRAPPER ... OPTIONS (...)`.
pub fn create_server(s: &ForeignServer) -> String {
    let mut sql = format!("CREATE SERVER {}", ident(&s.name));
    if let Some(t) = &s.server_type {
        write!(sql, " TYPE {}", literal(t)).unwrap();
    }
    if let Some(v) = &s.version {
        write!(sql, " VERSION {}", literal(v)).unwrap();
    }
    write!(
        sql,
        " FOREIGN DATA WRAPPER {}{};",
        ident(&s.wrapper),
        options_clause(&s.options)
    )
    .unwrap();
    sql
}

/// `FOR role SERVER server`, as `CREATE` and `DROP USER MAPPING` name a mapping.
pub fn user_mapping_name(m: &UserMapping) -> String {
    let role = if m.role == "PUBLIC" {
        "PUBLIC".to_string()
    } else {
        ident(&m.role)
    };
    format!("FOR {role} SERVER {}", ident(&m.server))
}

/// `CREATE USER MAPPING`, never with options.
pub fn create_user_mapping(m: &UserMapping) -> String {
    format!("CREATE USER MAPPING {};", user_mapping_name(m))
}

/// A foreign table's column as `CREATE FOREIGN TABLE` and `ADD COLUMN` write it.
pub fn foreign_column_sql(c: &ForeignColumn) -> String {
    let mut sql = format!(
        "{} {}{}",
        ident(&c.name),
        c.data_type,
        options_clause(&c.options)
    );
    if let Some(collation) = &c.collation {
        write!(sql, " COLLATE {collation}").unwrap();
    }
    if c.not_null {
        sql.push_str(" NOT NULL");
    }
    if let Some(default) = &c.default {
        write!(sql, " DEFAULT {default}").unwrap();
    }
    if let Some(expr) = &c.generated {
        write!(sql, " GENERATED ALWAYS AS ({expr}) STORED").unwrap();
    }
    sql
}

/// `CREATE FOREIGN TABLE ... SERVER ... OPTIONS (...)`.
pub fn create_foreign_table(t: &ForeignTable) -> String {
    let checks = t
        .checks
        .iter()
        .map(|k| format!("CONSTRAINT {} {}", ident(&k.name), k.definition));
    let columns: Vec<String> = t
        .columns
        .iter()
        .map(foreign_column_sql)
        .chain(checks)
        .collect();
    let body = if columns.is_empty() {
        String::new()
    } else {
        format!("\n    {}\n", columns.join(",\n    "))
    };
    format!(
        "CREATE FOREIGN TABLE {} ({body}) SERVER {}{};",
        t.qualified_name(),
        ident(&t.server),
        options_clause(&t.options)
    )
}

/// Servers, their comments, owners and privileges, then the user mappings.
pub fn servers_and_user_mappings(out: &mut String, catalog: &Catalog) {
    for s in &catalog.foreign_servers {
        writeln!(out, "{}", create_server(s)).unwrap();
        super::comment(out, &server_target(s), &s.comment);
        writeln!(
            out,
            "ALTER {} OWNER TO {};",
            server_target(s),
            ident(&s.owner)
        )
        .unwrap();
        super::grant_statements(out, &server_grant_target(s), &s.owner, &s.grants);
    }
    for m in &catalog.user_mappings {
        writeln!(out, "{}", create_user_mapping(m)).unwrap();
    }
}

/// Foreign tables' comments, owners and privileges (they are created among the other
/// relations, in dependency order).
pub fn foreign_table_details(out: &mut String, catalog: &Catalog) {
    for t in &catalog.foreign_tables {
        let name = t.qualified_name();
        super::comment(out, &format!("FOREIGN TABLE {name}"), &t.comment);
        for c in &t.columns {
            let target = format!("COLUMN {name}.{}", ident(&c.name));
            super::comment(out, &target, &c.comment);
        }
        writeln!(
            out,
            "ALTER FOREIGN TABLE {name} OWNER TO {};",
            ident(&t.owner)
        )
        .unwrap();
        super::grant_statements(out, &format!("TABLE {name}"), &t.owner, &t.grants);
        for c in &t.columns {
            super::column_grant_statements(out, &name.to_string(), &c.name, &c.grants);
        }
    }
}
