//! Foreign servers, user mappings and foreign tables (`pg_foreign_server`,
//! `pg_user_mappings`, `pg_foreign_table`). Wrappers are their extensions' (`CREATE
//! EXTENSION postgres_fdw`), so they are not read.
//!
//! A user mapping's options hold passwords: only its role and server are read, from the
//! `pg_user_mappings` view (which any role may read), never `umoptions`.

use crate::model::{ForeignServer, ForeignTable, UserMapping};
use crate::Error;

use super::{drop_oids, normalize_grants, parse_all, Rows};

/// One row per server not created by an extension, shaped like [`ForeignServer`].
pub const FOREIGN_SERVERS: &str = concat!(
    "select s.oid, json_build_object('name', s.srvname, 'wrapper', w.fdwname, ",
    "'owner', pg_get_userbyid(s.srvowner), 'server_type', s.srvtype, 'version', s.srvversion, ",
    "'options', coalesce(array_to_json(s.srvoptions), '[]'), 'comment', ",
    description!("pg_foreign_server", "s.oid"),
    ", 'grants', ",
    grants!("s.srvacl", "'S'", "s.srvowner"),
    ")::text from pg_foreign_server s join pg_foreign_data_wrapper w on w.oid = s.srvfdw where ",
    not_extension_member!("pg_foreign_server", "s.oid")
);

/// One row per user mapping: its server and role, nothing else.
pub const USER_MAPPINGS: &str = concat!(
    "select m.umid, json_build_object('server', m.srvname, ",
    "'role', case when m.umuser = 0 then 'PUBLIC' else m.usename end)::text ",
    "from pg_user_mappings m"
);

/// One row per foreign table in a user schema, shaped like [`ForeignTable`], its columns in
/// attribute order.
pub const FOREIGN_TABLES: &str = concat!(
    "select c.oid, json_build_object('schema', n.nspname, 'name', c.relname, ",
    "'owner', pg_get_userbyid(c.relowner), 'server', s.srvname, ",
    "'options', coalesce(array_to_json(ft.ftoptions), '[]'), ",
    "'columns', coalesce((select json_agg(json_build_object(",
    "'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'not_null', a.attnotnull, ",
    "'default', case when a.attgenerated = '' then pg_get_expr(d.adbin, d.adrelid) end, ",
    "'generated', case when a.attgenerated <> '' then pg_get_expr(d.adbin, d.adrelid) end, ",
    "'collation', case when a.attcollation <> t.typcollation then ",
    collation_name!("a.attcollation"),
    " end, 'options', coalesce(array_to_json(a.attfdwoptions), '[]'), ",
    "'comment', (select ds.description from pg_description ds where ds.objoid = c.oid ",
    "and ds.classoid = 'pg_class'::regclass and ds.objsubid = a.attnum), ",
    "'grants', case when cardinality(a.attacl) > 0 then (select json_agg(json_build_object(",
    "'grantee', case when g.grantee = 0 then 'PUBLIC' else pg_get_userbyid(g.grantee) end, ",
    "'privilege', g.privilege_type, 'grantable', g.is_grantable)) from aclexplode(a.attacl) g) end",
    ") order by a.attnum) from pg_attribute a join pg_type t on t.oid = a.atttypid ",
    "left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum ",
    "where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]'), ",
    "'checks', coalesce((select json_agg(json_build_object('name', k.conname, ",
    "'definition', pg_get_constraintdef(k.oid)) order by k.conname) from pg_constraint k ",
    "where k.conrelid = c.oid and k.contype = 'c'), '[]'), ",
    "'comment', ",
    description!("pg_class", "c.oid"),
    ", 'grants', ",
    grants!("c.relacl", "'r'", "c.relowner"),
    ")::text from pg_class c join pg_namespace n on n.oid = c.relnamespace ",
    "join pg_foreign_table ft on ft.ftrelid = c.oid ",
    "join pg_foreign_server s on s.oid = ft.ftserver where c.relkind = 'f' and ",
    user_schema!(),
    " and ",
    not_extension_member!("pg_class", "c.oid")
);

/// The servers by name, grants sorted.
pub fn read_servers(rows: Rows) -> Result<Vec<ForeignServer>, Error> {
    let mut servers: Vec<ForeignServer> = drop_oids(parse_all(rows)?);
    servers.sort_by(|a, b| a.name.cmp(&b.name));
    servers
        .iter_mut()
        .for_each(|s| normalize_grants(&mut s.grants));
    Ok(servers)
}

/// The user mappings by server and role.
pub fn read_user_mappings(rows: Rows) -> Result<Vec<UserMapping>, Error> {
    let mut mappings: Vec<UserMapping> = drop_oids(parse_all(rows)?);
    mappings.sort();
    Ok(mappings)
}

/// The foreign tables with their oids (their `depends_on` is filled in by assembly).
pub fn read_foreign_tables(rows: Rows) -> Result<Vec<(u32, ForeignTable)>, Error> {
    parse_all(rows)
}

/// The foreign tables by schema and name, grants sorted.
pub fn sort_foreign_tables(mut tables: Vec<ForeignTable>) -> Vec<ForeignTable> {
    tables.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    for t in &mut tables {
        normalize_grants(&mut t.grants);
        t.columns
            .iter_mut()
            .for_each(|c| normalize_grants(&mut c.grants));
    }
    tables
}
