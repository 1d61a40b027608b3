//! User-defined operators (`pg_operator`).

use crate::model::Operator;
use crate::Error;

use super::{parse_all, Rows};

/// `OPERATOR(schema.name)` of the operator whose oid is `$oid`, null when there is none.
macro_rules! operator_ref {
    ($oid:literal) => {
        concat!(
            "(select 'OPERATOR(' || quote_ident(rn.nspname) || '.' || r.oprname || ')' ",
            "from pg_operator r join pg_namespace rn on rn.oid = r.oprnamespace where r.oid = ",
            $oid,
            ")"
        )
    };
}

/// One row per user operator that is not a shell (`oprcode` 0) nor an extension's,
/// `(oid, json)` shaped like [`Operator`]. Function names are printed by PostgreSQL,
/// qualified where the empty `search_path` needs it.
pub const OPERATORS: &str = concat!(
    "select o.oid, json_build_object('schema', n.nspname, 'name', o.oprname, ",
    "'left', case when o.oprleft <> 0 then format_type(o.oprleft, null) end, ",
    "'right', format_type(o.oprright, null), 'owner', pg_get_userbyid(o.oprowner), ",
    "'function', o.oprcode::regproc::text, ",
    "'commutator', ",
    operator_ref!("o.oprcom"),
    ", 'negator', ",
    operator_ref!("o.oprnegate"),
    ", 'restrict', case when o.oprrest <> 0 then o.oprrest::regproc::text end, ",
    "'join', case when o.oprjoin <> 0 then o.oprjoin::regproc::text end, ",
    "'hashes', o.oprcanhash, 'merges', o.oprcanmerge, 'comment', ",
    description!("pg_operator", "o.oid"),
    ")::text from pg_operator o join pg_namespace n on n.oid = o.oprnamespace ",
    "where o.oprcode <> 0 and ",
    user_schema!(),
    " and ",
    not_extension_member!("pg_operator", "o.oid")
);

pub fn read(rows: Rows) -> Result<Vec<(u32, Operator)>, Error> {
    parse_all(rows)
}

/// The operators sorted by schema, name and operand types.
pub fn sort(operators: &mut [Operator]) {
    operators.sort_by(|a, b| {
        (&a.schema, &a.name, &a.left, &a.right).cmp(&(&b.schema, &b.name, &b.left, &b.right))
    });
}
