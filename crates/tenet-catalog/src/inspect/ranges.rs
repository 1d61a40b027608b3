//! Range types (`pg_range`), read apart from the other types.

use crate::model::Type;
use crate::Error;

use super::{parse_all, Rows};

/// One row per user range type, `(type oid, json)` shaped like [`Type`] with a `range` kind.
/// Names of functions, operator classes and collations are printed by PostgreSQL, qualified
/// where the empty `search_path` needs it.
pub const RANGES: &str = concat!(
    "select t.oid, json_build_object('schema', n.nspname, 'name', t.typname, ",
    "'owner', pg_get_userbyid(t.typowner), 'comment', ",
    description!("pg_type", "t.oid"),
    ", 'kind', 'range', 'subtype', format_type(r.rngsubtype, null), ",
    "'subtype_opclass', (select quote_ident(ocn.nspname) || '.' || quote_ident(oc.opcname) ",
    "from pg_opclass oc join pg_namespace ocn on ocn.oid = oc.opcnamespace ",
    "where oc.oid = r.rngsubopc and not oc.opcdefault), ",
    "'collation', case when r.rngcollation <> 0 and r.rngcollation <> st.typcollation then ",
    collation_name!("r.rngcollation"),
    " end, ",
    "'canonical', case when r.rngcanonical <> 0 then r.rngcanonical::regproc::text end, ",
    "'subtype_diff', case when r.rngsubdiff <> 0 then r.rngsubdiff::regproc::text end, ",
    "'multirange', (select quote_ident(mn.nspname) || '.' || quote_ident(m.typname) ",
    "from pg_type m join pg_namespace mn on mn.oid = m.typnamespace where m.oid = r.rngmultitypid)",
    ")::text from pg_range r join pg_type t on t.oid = r.rngtypid ",
    "join pg_namespace n on n.oid = t.typnamespace join pg_type st on st.oid = r.rngsubtype where ",
    user_schema!(),
    " and ",
    not_extension_member!("pg_type", "t.oid")
);

pub fn read(rows: Rows) -> Result<Vec<(u32, Type)>, Error> {
    parse_all(rows)
}
