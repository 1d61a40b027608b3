//! `ALTER DEFAULT PRIVILEGES` as SQL.

use std::fmt::Write;

use crate::model::*;
use crate::quote::ident;

fn grantee(name: &str) -> String {
    if name == "PUBLIC" {
        "PUBLIC".into()
    } else {
        ident(name)
    }
}

/// `ALTER DEFAULT PRIVILEGES FOR ROLE r [IN SCHEMA s]`.
fn prefix(d: &DefaultPrivilege) -> String {
    let mut sql = format!("ALTER DEFAULT PRIVILEGES FOR ROLE {}", ident(&d.role));
    if let Some(schema) = &d.schema {
        write!(sql, " IN SCHEMA {}", ident(schema)).unwrap();
    }
    sql
}

/// Statements that take the entry of `key` (its role, schema and objects) from `old` to `new`
/// grants; None is no entry: PostgreSQL's built-in defaults for the entry of every schema,
/// nothing for a schema's. Everything `old` grants is revoked, then `new` granted.
pub fn change_default_privileges(
    key: &DefaultPrivilege,
    old: Option<&[Grant]>,
    new: Option<&[Grant]>,
) -> String {
    let (prefix, objects) = (prefix(key), key.objects.to_uppercase());
    let mut sql = String::new();
    let mut revoked: Vec<&str> = Vec::new();
    if key.schema.is_none() {
        // The built-in defaults: all to the owner, and EXECUTE or USAGE to PUBLIC.
        revoked.extend(["PUBLIC", key.role.as_str()]);
    }
    for g in old.into_iter().flatten() {
        if !revoked.contains(&g.grantee.as_str()) {
            revoked.push(&g.grantee);
        }
    }
    for g in &revoked {
        writeln!(sql, "{prefix} REVOKE ALL ON {objects} FROM {};", grantee(g)).unwrap();
    }
    match new {
        Some(grants) => {
            // One GRANT per grantee and grant option, privileges in catalog order.
            let mut grouped: Vec<((&str, bool), Vec<&str>)> = Vec::new();
            for g in grants {
                let k = (g.grantee.as_str(), g.grantable);
                match grouped.iter_mut().find(|(x, _)| *x == k) {
                    Some((_, privileges)) => privileges.push(&g.privilege),
                    None => grouped.push((k, vec![&g.privilege])),
                }
            }
            for ((to, grantable), privileges) in grouped {
                let option = if grantable { " WITH GRANT OPTION" } else { "" };
                writeln!(
                    sql,
                    "{prefix} GRANT {} ON {objects} TO {}{option};",
                    privileges.join(", "),
                    grantee(to)
                )
                .unwrap();
            }
        }
        None if key.schema.is_none() => {
            writeln!(
                sql,
                "{prefix} GRANT ALL ON {objects} TO {};",
                ident(&key.role)
            )
            .unwrap();
            let public = match key.objects.as_str() {
                "functions" => Some("EXECUTE"),
                "types" => Some("USAGE"),
                _ => None,
            };
            if let Some(privilege) = public {
                writeln!(sql, "{prefix} GRANT {privilege} ON {objects} TO PUBLIC;").unwrap();
            }
        }
        None => {}
    }
    sql
}

/// Every entry, from PostgreSQL's built-in defaults.
pub fn default_privileges(out: &mut String, catalog: &Catalog) {
    for d in &catalog.default_privileges {
        out.push_str(&change_default_privileges(d, None, Some(&d.grants)));
    }
}
