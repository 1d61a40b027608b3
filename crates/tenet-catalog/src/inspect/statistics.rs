//! Extended statistics (`pg_statistic_ext`).

use crate::model::Statistics;
use crate::Error;

use super::{parse_all, Rows};

/// One row per statistics object in a user schema not created by an extension, `(oid, json)`
/// shaped like [`Statistics`]. Its columns come from `pg_depend`, which records those its
/// expressions use too. `stxstattarget` is -1 for the default up to PostgreSQL 16, null
/// from 17 on.
pub const STATISTICS: &str = concat!(
    "select s.oid, json_build_object('schema', n.nspname, 'name', s.stxname, ",
    "'owner', pg_get_userbyid(s.stxowner), ",
    "'table', json_build_object('schema', tn.nspname, 'name', t.relname), ",
    "'definition', pg_get_statisticsobjdef(s.oid), ",
    "'columns', coalesce((select json_agg(distinct a.attname::text order by a.attname::text) from pg_depend d ",
    "join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid ",
    "where d.classid = 'pg_statistic_ext'::regclass and d.objid = s.oid ",
    "and d.refclassid = 'pg_class'::regclass and d.refobjsubid > 0), '[]'), ",
    "'target', nullif(s.stxstattarget, -1), 'comment', ",
    description!("pg_statistic_ext", "s.oid"),
    ")::text from pg_statistic_ext s join pg_namespace n on n.oid = s.stxnamespace ",
    "join pg_class t on t.oid = s.stxrelid join pg_namespace tn on tn.oid = t.relnamespace ",
    "where ",
    user_schema!(),
    " and ",
    not_extension_member!("pg_statistic_ext", "s.oid")
);

/// The statistics objects sorted by schema and name.
pub fn read(rows: Rows) -> Result<Vec<Statistics>, Error> {
    let mut statistics: Vec<Statistics> = parse_all::<Statistics>(rows)?
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    statistics.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    Ok(statistics)
}
