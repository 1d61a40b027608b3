//! Publications (`pg_publication`, its tables and schemas) and tables' `REPLICA IDENTITY`.
//!
//! Column lists and row filters (`prattrs`, `prqual`) are PostgreSQL 15's (stood in for on older
//! servers: see `SINCE_15` in mod.rs).

use std::collections::HashMap;

use crate::model::{Publication, ReplicaIdentity, Table};
use crate::Error;

use super::{parse, parse_all, Rows};

/// One row per publication not created by an extension: `(oid, json)` shaped like
/// [`Publication`]. Tables and schemas outside the user's schemas are left out.
pub const PUBLICATIONS: &str = concat!(
    "select p.oid, json_build_object('name', p.pubname, 'owner', pg_get_userbyid(p.pubowner), ",
    "'all_tables', p.puballtables, ",
    "'tables', coalesce((select json_agg(json_build_object(",
    "'table', json_build_object('schema', n.nspname, 'name', c.relname), ",
    "'columns', coalesce((select json_agg(a.attname order by a.attnum) from pg_attribute a ",
    "where a.attrelid = pr.prrelid and a.attnum = any(pr.prattrs::int2[])), '[]'), ",
    "'row_filter', pg_get_expr(pr.prqual, pr.prrelid))) ",
    "from pg_publication_rel pr join pg_class c on c.oid = pr.prrelid ",
    "join pg_namespace n on n.oid = c.relnamespace where pr.prpubid = p.oid and ",
    user_schema!(),
    "), '[]'), ",
    "'schemas', coalesce((select json_agg(n.nspname) from pg_publication_namespace pn ",
    "join pg_namespace n on n.oid = pn.pnnspid where pn.pnpubid = p.oid and ",
    user_schema!(),
    "), '[]'), ",
    "'publish', coalesce((select json_agg(x.action order by x.position) from (values ",
    "(1, 'insert', p.pubinsert), (2, 'update', p.pubupdate), (3, 'delete', p.pubdelete), ",
    "(4, 'truncate', p.pubtruncate)) x(position, action, published) where x.published), '[]'), ",
    "'via_root', p.pubviaroot, ",
    "'comment', ",
    description!("pg_publication", "p.oid"),
    ")::text from pg_publication p where ",
    not_extension_member!("pg_publication", "p.oid")
);

/// One row per user table whose replica identity is not the default: `(table oid, json)`
/// shaped like [`ReplicaIdentity`]. An identity index that was dropped leaves `USING INDEX`
/// with no index, which PostgreSQL treats as `NOTHING`: so does the catalog.
pub const REPLICA_IDENTITIES: &str = concat!(
    "select c.oid, case when c.relreplident = 'f' then '\"full\"' ",
    "when c.relreplident = 'n' or ic.oid is null then '\"nothing\"' ",
    "else json_build_object('index', ic.relname)::text end ",
    "from pg_class c join pg_namespace n on n.oid = c.relnamespace ",
    "left join pg_index i on i.indrelid = c.oid and i.indisreplident ",
    "left join pg_class ic on ic.oid = i.indexrelid ",
    "where c.relkind in ('r', 'p') and c.relreplident <> 'd' and ",
    user_schema!()
);

/// The publications, sorted by name, their tables and schemas sorted too.
pub fn read(rows: Rows) -> Result<Vec<Publication>, Error> {
    let mut publications: Vec<Publication> = parse_all::<Publication>(rows)?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    for p in &mut publications {
        p.tables.sort_by(|a, b| a.table.cmp(&b.table));
        p.schemas.sort();
    }
    publications.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(publications)
}

/// Set each table's replica identity from [`REPLICA_IDENTITIES`] rows.
pub fn attach_replica_identities(
    rows: Rows,
    tables: &mut [(u32, Table)],
    table_at: &HashMap<u32, usize>,
) -> Result<(), Error> {
    for (oid, json) in &rows {
        if let Some(&i) = table_at.get(oid) {
            tables[i].1.replica_identity = Some(parse::<ReplicaIdentity>(json)?);
        }
    }
    Ok(())
}
