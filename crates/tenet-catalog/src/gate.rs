//! What may run of untrusted SQL, statement by statement, before any of it runs.
//!
//! Everything runs in a [`tenet_pg::Sandbox`] as an unprivileged role, so PostgreSQL's own
//! privilege checks are the real barrier; this gate only (a) routes the few privileged
//! statements real schemas need to the privileged session, within limits, and (b) refuses with
//! a clear reason, up front, the statements that have no business in a schema file. Function
//! bodies and DO blocks cannot be vetted here: they run as the unprivileged role.

use std::collections::BTreeSet;

use pg_query::protobuf::{AlterTableType, RoleSpec, RoleSpecType, VariableSetKind};
use pg_query::{Node, NodeEnum};
use tenet_pg::{EVENT_TRIGGER, PUBLICATION};

/// What to do with one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Run as the sandbox role (batched with its neighbours).
    Run,
    /// Never run: the reason.
    Refuse(String),
    /// `CREATE EXTENSION`: on the privileged session when the server has it available.
    Extension(String),
    /// `CREATE ROLE` with harmless attributes: on the privileged session, unless it exists.
    CreateRole(String),
    /// A DO block that only creates roles where missing (the common "create role if not
    /// exists" idiom): each (name, CREATE ROLE text) as [`Action::CreateRole`].
    CreateRoles(Vec<(String, String)>),
    /// `ALTER ROLE` with harmless attributes: only of a role this SQL created.
    AlterRole(String),
    /// `DROP ROLE`: only of roles this SQL created.
    DropRoles(Vec<String>),
    /// `ALTER ... OWNER TO` the role: skipped when that is the privileged user or a superuser
    /// (what the sandbox role owns ends with the privileged user anyway), else run.
    OwnerTo(String),
    /// `CREATE`/`ALTER PUBLICATION` `FOR ALL TABLES` or `FOR TABLES IN SCHEMA`, which need a
    /// superuser: on the privileged session. A publication names tables and runs no code
    /// (row filters may not call user functions).
    Publication(String),
    /// `CREATE EVENT TRIGGER`: on the privileged session, disabled until the catalog is read,
    /// since its function is the SQL's own code (see `Sandbox::create_event_trigger`).
    EventTrigger(String),
    /// `ALTER EVENT TRIGGER name ENABLE/DISABLE`: the state to record (`evtenabled`).
    EventTriggerState(String, String),
    /// `COMMENT ON`, `ALTER` or `DROP` of publications or event triggers (kind, name): on the
    /// privileged session when the SQL created them all there, else as the sandbox role.
    OnPrivileged(Vec<(String, String)>),
}

/// Role attributes a schema may give the roles it creates. SUPERUSER, CREATEDB, CREATEROLE
/// and REPLICATION are refused unless negated (NOSUPERUSER, ...).
const HARMLESS: &[&str] = &[
    "canlogin",
    "inherit",
    "bypassrls",
    "connectionlimit",
    "password",
    "validUntil",
];
const POWERFUL: &[(&str, &str)] = &[
    ("superuser", "SUPERUSER"),
    ("createdb", "CREATEDB"),
    ("createrole", "CREATEROLE"),
    ("isreplication", "REPLICATION"),
];

/// Classify one parsed statement; `created` holds the roles earlier statements create (and
/// gains this one's).
pub(crate) fn classify(stmt: Option<&NodeEnum>, created: &mut BTreeSet<String>) -> Action {
    use NodeEnum as N;
    let refuse = |why: &str| Action::Refuse(why.to_string());
    let Some(stmt) = stmt else {
        return Action::Run;
    };
    match stmt {
        N::CreatedbStmt(_)
        | N::AlterDatabaseStmt(_)
        | N::AlterDatabaseSetStmt(_)
        | N::AlterDatabaseRefreshCollStmt(_)
        | N::DropdbStmt(_) => refuse("CREATE/ALTER/DROP DATABASE: a schema file describes one database's contents, not databases"),
        N::AlterSystemStmt(_) => refuse("ALTER SYSTEM changes the server's configuration"),
        N::CreateTableSpaceStmt(_) | N::DropTableSpaceStmt(_) | N::AlterTableSpaceOptionsStmt(_) => {
            refuse("CREATE/ALTER/DROP TABLESPACE touches the server's file system")
        }
        N::LoadStmt(_) => refuse("LOAD loads a shared library into the server"),
        N::CreateFdwStmt(_) | N::AlterFdwStmt(_) => refuse(
            "CREATE/ALTER FOREIGN DATA WRAPPER needs a superuser (its handler runs in the server); \
             create the extension that brings the wrapper (postgres_fdw, file_fdw) instead",
        ),
        N::ImportForeignSchemaStmt(_) => refuse(
            "IMPORT FOREIGN SCHEMA reads another server's tables at load time: declare the \
             foreign tables (CREATE FOREIGN TABLE) instead",
        ),
        N::CopyStmt(copy) if copy.is_program => {
            refuse("COPY ... PROGRAM runs a program on the server")
        }
        N::CopyStmt(copy) if !copy.filename.is_empty() => {
            refuse("COPY to or from a file reads or writes the server's file system")
        }
        N::VariableSetStmt(set) if is_identity_setting(&set.name) => refuse(&format!(
            "{} {}: schema SQL runs as one role and may not change it",
            if set.kind == VariableSetKind::VarReset as i32 {
                "RESET"
            } else {
                "SET"
            },
            set.name.replace('_', " ").to_uppercase()
        )),
        N::CreateExtensionStmt(ext) => Action::Extension(ext.extname.clone()),
        N::DoStmt(block) => match role_block(block, created) {
            Some(Ok(roles)) => Action::CreateRoles(roles),
            Some(Err(why)) => Action::Refuse(why),
            None => Action::Run,
        },
        N::CreateRoleStmt(role) => {
            if let Err(why) = harmless_options(&role.options, created) {
                return Action::Refuse(format!("CREATE ROLE {}: {why}", role.role));
            }
            if let Err(why) = ordinary_role(&role.role) {
                return Action::Refuse(format!("CREATE ROLE {}: {why}", role.role));
            }
            created.insert(role.role.clone());
            Action::CreateRole(role.role.clone())
        }
        N::AlterRoleStmt(alter) => {
            let name = role_name(alter.role.as_ref());
            match alter_role(name.as_deref(), created) {
                Ok(name) => match harmless_options(&alter.options, created) {
                    Ok(()) => Action::AlterRole(name),
                    Err(why) => Action::Refuse(format!("ALTER ROLE {name}: {why}")),
                },
                Err(why) => Action::Refuse(why),
            }
        }
        N::AlterRoleSetStmt(alter) => {
            let name = role_name(alter.role.as_ref());
            match alter_role(name.as_deref(), created) {
                Ok(name) => Action::AlterRole(name),
                Err(why) => Action::Refuse(why),
            }
        }
        N::DropRoleStmt(drop) => {
            let names: Vec<String> = drop.roles.iter().filter_map(node_role).collect();
            match names.iter().find(|n| !created.contains(*n)) {
                Some(other) => Action::Refuse(format!(
                    "DROP ROLE {other}: a role this SQL did not create"
                )),
                None if names.len() < drop.roles.len() => {
                    refuse("DROP ROLE of the current or session user")
                }
                None => {
                    for n in &names {
                        created.remove(n);
                    }
                    Action::DropRoles(names)
                }
            }
        }
        N::GrantRoleStmt(grant) => {
            for granted in grant.granted_roles.iter() {
                let name = match granted.node.as_ref() {
                    Some(N::AccessPriv(p)) => p.priv_name.clone(),
                    _ => node_role(granted).unwrap_or_default(),
                };
                if !created.contains(&name) {
                    return Action::Refuse(format!(
                        "GRANT/REVOKE {name}: membership in a role this SQL did not create"
                    ));
                }
            }
            for grantee in grant.grantee_roles.iter() {
                match node_role(grantee) {
                    Some(name) if ordinary_role(&name).is_ok() => {}
                    Some(name) => {
                        return Action::Refuse(format!("GRANT/REVOKE ... TO {name}: {}", ordinary_role(&name).unwrap_err()))
                    }
                    None => return refuse("GRANT/REVOKE of a role to the current or session user"),
                }
            }
            Action::Run
        }
        N::CreatePublicationStmt(p) if p.for_all_tables || of_schemas(&p.pubobjects) => {
            Action::Publication(p.pubname.clone())
        }
        N::AlterPublicationStmt(p) if p.for_all_tables || of_schemas(&p.pubobjects) => {
            Action::Publication(p.pubname.clone())
        }
        N::AlterPublicationStmt(p) => {
            Action::OnPrivileged(vec![(PUBLICATION.into(), p.pubname.clone())])
        }
        N::CreateEventTrigStmt(t) => Action::EventTrigger(t.trigname.clone()),
        N::AlterEventTrigStmt(t) => {
            Action::EventTriggerState(t.trigname.clone(), t.tgenabled.clone())
        }
        N::CommentStmt(c) => match (privileged_kind(c.objtype), c.object.as_deref()) {
            (Some(kind), Some(object)) => match string(object) {
                Some(name) => Action::OnPrivileged(vec![(kind.into(), name)]),
                None => Action::Run,
            },
            _ => Action::Run,
        },
        N::DropStmt(d) => match privileged_kind(d.remove_type) {
            Some(kind) => Action::OnPrivileged(
                d.objects
                    .iter()
                    .filter_map(string)
                    .map(|name| (kind.into(), name))
                    .collect(),
            ),
            None => Action::Run,
        },
        N::AlterOwnerStmt(alter) => owner_to(alter.newowner.as_ref()),
        N::AlterTableStmt(alter) => {
            let owners: Vec<&RoleSpec> = alter
                .cmds
                .iter()
                .filter_map(|c| match c.node.as_ref() {
                    Some(N::AlterTableCmd(cmd))
                        if cmd.subtype == AlterTableType::AtChangeOwner as i32 =>
                    {
                        cmd.newowner.as_ref()
                    }
                    _ => None,
                })
                .collect();
            match owners.as_slice() {
                [owner] if alter.cmds.len() == 1 => owner_to(Some(owner)),
                _ => Action::Run,
            }
        }
        _ => Action::Run,
    }
}

/// Whether a publication's objects name schemas (`TABLES IN SCHEMA`), not only tables.
fn of_schemas(objects: &[Node]) -> bool {
    use pg_query::protobuf::PublicationObjSpecType as T;
    objects.iter().any(|o| match o.node.as_ref() {
        Some(NodeEnum::PublicationObjSpec(spec)) => {
            spec.pubobjtype == T::PublicationobjTablesInSchema as i32
                || spec.pubobjtype == T::PublicationobjTablesInCurSchema as i32
        }
        _ => false,
    })
}

/// The kinds of object only a superuser creates that the gate keeps track of.
fn privileged_kind(object_type: i32) -> Option<&'static str> {
    use pg_query::protobuf::ObjectType as O;
    if object_type == O::ObjectPublication as i32 {
        Some(PUBLICATION)
    } else if object_type == O::ObjectEventTrigger as i32 {
        Some(EVENT_TRIGGER)
    } else {
        None
    }
}

fn string(node: &Node) -> Option<String> {
    match node.node.as_ref() {
        Some(NodeEnum::String(s)) => Some(s.sval.clone()),
        _ => None,
    }
}

/// The roles a DO block creates, when creating roles is all it does: its statements are
/// `CREATE ROLE`s, maybe under IF or with exception handlers (which only make it "where
/// missing", as creating an existing role is skipped anyway). `None` for any other block.
fn role_block(
    block: &pg_query::protobuf::DoStmt,
    created: &mut BTreeSet<String>,
) -> Option<Result<Vec<(String, String)>, String>> {
    let mut body = None;
    for arg in &block.args {
        if let Some(NodeEnum::DefElem(d)) = &arg.node {
            let value = match d.arg.as_deref().and_then(|a| a.node.as_ref()) {
                Some(NodeEnum::String(s)) => s.sval.as_str(),
                _ => continue,
            };
            match d.defname.as_str() {
                "as" => body = Some(value.to_string()),
                "language" if !value.eq_ignore_ascii_case("plpgsql") => return None,
                _ => {}
            }
        }
    }
    let body = body?;
    if !body.to_ascii_lowercase().contains("create") {
        return None;
    }
    let source = format!(
        "CREATE FUNCTION tenet_do() RETURNS void LANGUAGE plpgsql AS {}",
        crate::quote::literal(&body)
    );
    let tree = pg_query::parse_plpgsql(&source).ok()?;
    let mut queries = Vec::new();
    if !only_sql_statements(&tree, &mut queries) || queries.is_empty() {
        return None;
    }
    let mut roles = Vec::new();
    for query in queries {
        let parsed = pg_query::parse(&query, pg_query::ParserOptions::DEFAULT).ok()?;
        let [raw] = parsed.protobuf.stmts.as_slice() else {
            return None;
        };
        let node = raw.stmt.as_ref().and_then(|n| n.node.as_ref());
        if !matches!(node, Some(NodeEnum::CreateRoleStmt(_))) {
            return None;
        }
        match classify(node, created) {
            Action::CreateRole(name) => roles.push((name, query)),
            Action::Refuse(why) => return Some(Err(why)),
            _ => return None,
        }
    }
    Some(Ok(roles))
}

/// Whether a PL/pgSQL tree holds only blocks, IFs, RAISEs, RETURNs and plain SQL statements (collected
/// in `queries`); the expressions of IF conditions are not statements.
fn only_sql_statements(value: &serde_json::Value, queries: &mut Vec<String>) -> bool {
    use serde_json::Value;
    match value {
        Value::Array(items) => items.iter().all(|v| only_sql_statements(v, queries)),
        Value::Object(map) => map.iter().all(|(key, inner)| {
            if let Some(kind) = key.strip_prefix("PLpgSQL_stmt_") {
                match kind {
                    "execsql" => match inner.pointer("/sqlstmt/PLpgSQL_expr/query") {
                        Some(Value::String(q)) => {
                            queries.push(q.clone());
                            true
                        }
                        _ => false,
                    },
                    // The block's implicit RETURN at the end is one too.
                    "block" | "if" | "raise" | "return" => only_sql_statements(inner, queries),
                    _ => false,
                }
            } else {
                only_sql_statements(inner, queries)
            }
        }),
        _ => true,
    }
}

/// `role`, `session_authorization` (and their spellings in SET/RESET).
fn is_identity_setting(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "role" | "session_authorization"
    )
}

fn owner_to(owner: Option<&RoleSpec>) -> Action {
    match role_name(owner) {
        Some(name) => Action::OwnerTo(name),
        None => Action::Run,
    }
}

/// The name in a role specification; `None` for CURRENT_USER, SESSION_USER, PUBLIC.
fn role_name(spec: Option<&RoleSpec>) -> Option<String> {
    let spec = spec?;
    (spec.roletype == RoleSpecType::RolespecCstring as i32).then(|| spec.rolename.clone())
}

fn node_role(node: &Node) -> Option<String> {
    match node.node.as_ref() {
        Some(NodeEnum::RoleSpec(spec)) => role_name(Some(spec)),
        Some(NodeEnum::String(s)) => Some(s.sval.clone()),
        _ => None,
    }
}

/// A role a schema may create or grant to: not PostgreSQL's own, not Tenet's.
fn ordinary_role(name: &str) -> Result<(), String> {
    if name.starts_with("pg_") {
        Err("roles named pg_* are PostgreSQL's own".to_string())
    } else if name.starts_with("tenet_sandbox_") {
        Err("the sandbox role is Tenet's own".to_string())
    } else {
        Ok(())
    }
}

fn alter_role(name: Option<&str>, created: &BTreeSet<String>) -> Result<String, String> {
    match name {
        Some(name) if created.contains(name) => Ok(name.to_string()),
        Some(name) => Err(format!(
            "ALTER ROLE {name}: a role this SQL did not create (existing roles are left unchanged)"
        )),
        None => Err("ALTER ROLE of the current or session user, or ALL".to_string()),
    }
}

/// Only the harmless attributes, and memberships only in roles this SQL created.
fn harmless_options(options: &[Node], created: &BTreeSet<String>) -> Result<(), String> {
    for option in options {
        let Some(NodeEnum::DefElem(def)) = option.node.as_ref() else {
            continue;
        };
        let name = def.defname.as_str();
        if HARMLESS.contains(&name) {
            continue;
        }
        if let Some((_, keyword)) = POWERFUL.iter().find(|(n, _)| *n == name) {
            let negated = matches!(
                def.arg.as_deref().and_then(|a| a.node.as_ref()),
                Some(NodeEnum::Boolean(b)) if !b.boolval
            ) || matches!(
                def.arg.as_deref().and_then(|a| a.node.as_ref()),
                Some(NodeEnum::Integer(i)) if i.ival == 0
            );
            if negated {
                continue;
            }
            return Err(format!("{keyword} is not an attribute a schema may give"));
        }
        if matches!(name, "addroleto" | "rolemembers" | "adminmembers") {
            let roles: Vec<String> = match def.arg.as_deref().and_then(|a| a.node.as_ref()) {
                Some(NodeEnum::List(list)) => list.items.iter().filter_map(node_role).collect(),
                _ => Vec::new(),
            };
            if let Some(other) = roles.iter().find(|r| !created.contains(*r)) {
                return Err(format!(
                    "membership involving {other}, a role this SQL did not create"
                ));
            }
            continue;
        }
        return Err(format!("the option {name} is not one a schema may use"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(sql: &str) -> Vec<Action> {
        let parsed = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT).unwrap();
        let mut created = BTreeSet::new();
        parsed
            .protobuf
            .stmts
            .iter()
            .map(|s| classify(s.stmt.as_ref().and_then(|n| n.node.as_ref()), &mut created))
            .collect()
    }

    #[test]
    fn roles_a_schema_creates_may_be_granted_altered_and_dropped() {
        let got = actions(
            "create role anon nologin noinherit; create user authenticator noinherit nosuperuser; \
             grant anon to authenticator; alter role anon connection limit 3; \
             alter table t owner to postgres; drop role anon",
        );
        assert_eq!(
            got,
            [
                Action::CreateRole("anon".into()),
                Action::CreateRole("authenticator".into()),
                Action::Run,
                Action::AlterRole("anon".into()),
                Action::OwnerTo("postgres".into()),
                Action::DropRoles(vec!["anon".into()]),
            ]
        );
    }

    #[test]
    fn a_do_block_that_only_creates_roles_creates_them_where_missing() {
        let got = actions(
            "DO $$ BEGIN CREATE ROLE todo_app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;\n\
             DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'b') THEN CREATE ROLE b; END IF; END $$;\n\
             DO $$ BEGIN CREATE ROLE c SUPERUSER; END $$;\n\
             DO $$ BEGIN CREATE ROLE d; PERFORM pg_sleep(1); END $$",
        );
        assert_eq!(
            got[0],
            Action::CreateRoles(vec![(
                "todo_app".into(),
                "CREATE ROLE todo_app LOGIN".into()
            )])
        );
        assert_eq!(
            got[1],
            Action::CreateRoles(vec![("b".into(), "CREATE ROLE b".into())])
        );
        assert!(matches!(got[2], Action::Refuse(_)), "{:?}", got[2]);
        assert_eq!(got[3], Action::Run);
    }

    #[test]
    fn refuses_what_a_schema_has_no_business_doing() {
        for sql in [
            "create database x",
            "drop database postgres",
            "alter system set work_mem = '1GB'",
            "create tablespace t location '/tmp'",
            "load 'plpgsql'",
            "create foreign data wrapper w handler h",
            "alter foreign data wrapper postgres_fdw options (add x 'y')",
            "import foreign schema public from server s into remote",
            "copy t to program 'id'",
            "copy t from '/etc/passwd'",
            "set role postgres",
            "reset role",
            "set session authorization postgres",
            "create role boss superuser",
            "create role r createrole",
            "alter role postgres password 'x'",
            "drop role postgres",
            "grant postgres to someone",
            "grant pg_read_server_files to someone",
            "create role r in role postgres",
        ] {
            let got = actions(sql);
            assert!(matches!(got[0], Action::Refuse(_)), "{sql}: {got:?}");
        }
    }
}
