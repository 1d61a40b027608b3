//! User-defined casts (`pg_cast` rows made after initdb, not by an extension nor with a
//! range type).

use crate::model::{Cast, ObjectKey, Table, View};
use crate::Error;

use super::{parse_all, Rows};

/// One row per user cast, `(oid, json)` shaped like [`Cast`]. A cast has no schema: when one
/// schema is inspected, the casts from or to its types are.
pub const CASTS: &str = concat!(
    "select c.oid, json_build_object('source', format_type(c.castsource, null), ",
    "'target', format_type(c.casttarget, null), ",
    "'method', case c.castmethod when 'f' then 'function' when 'i' then 'inout' else 'binary' end, ",
    "'function', case when c.castfunc <> 0 then c.castfunc::regprocedure::text end, ",
    "'context', case c.castcontext when 'a' then 'assignment' when 'i' then 'implicit' ",
    "else 'explicit' end, 'comment', ",
    description!("pg_cast", "c.oid"),
    ")::text from pg_cast c join pg_type st on st.oid = c.castsource ",
    "join pg_type tt on tt.oid = c.casttarget where c.oid >= 16384 and (",
    in_scope!("st.typnamespace"),
    " or ",
    in_scope!("tt.typnamespace"),
    ") and ",
    not_extension_member!("pg_cast", "c.oid"),
    // A range type's cast to its multirange comes and goes with the type.
    " and not exists (select 1 from pg_depend x where x.classid = 'pg_cast'::regclass ",
    "and x.objid = c.oid and x.deptype = 'i')"
);

pub fn read(rows: Rows) -> Result<Vec<(u32, Cast)>, Error> {
    parse_all(rows)
}

/// The casts sorted by source and target type.
pub fn sort(casts: &mut [Cast]) {
    casts.sort_by(|a, b| (&a.source, &a.target).cmp(&(&b.source, &b.target)));
}

/// An expression that uses a cast records in `pg_depend` only the cast's function (or, for an
/// I/O conversion, the types), yet its text needs the cast to load. So tables and views that
/// depend on a cast's function or target type depend on the cast too, unless the cast needs
/// them.
pub fn order_before_users(casts: &[Cast], tables: &mut [Table], views: &mut [View]) {
    for cast in casts {
        let key = ObjectKey::cast(cast);
        let target = format!("type {}", cast.target);
        let uses = |depends_on: &[String], own_key: &str| {
            !cast.depends_on.iter().any(|d| d == own_key)
                && depends_on.iter().any(|d| {
                    *d == target
                        || cast
                            .function
                            .as_ref()
                            .is_some_and(|f| *d == format!("function {f}"))
                })
        };
        for t in tables.iter_mut() {
            let own = ObjectKey::relation("table", &t.schema, &t.name);
            if uses(&t.depends_on, &own) && !t.depends_on.contains(&key) {
                t.depends_on.push(key.clone());
                t.depends_on.sort();
            }
        }
        for v in views.iter_mut() {
            let kind = if v.materialized {
                "materialized view"
            } else {
                "view"
            };
            let own = ObjectKey::relation(kind, &v.schema, &v.name);
            if uses(&v.depends_on, &own) && !v.depends_on.contains(&key) {
                v.depends_on.push(key.clone());
                v.depends_on.sort();
            }
        }
    }
}
