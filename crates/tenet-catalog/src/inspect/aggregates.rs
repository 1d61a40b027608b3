//! Aggregates (`pg_aggregate`), read as functions of kind `aggregate` so dependencies,
//! comments, owners, privileges and drops work as for any function. The definition is a
//! `CREATE OR REPLACE AGGREGATE` written from the catalog row (PostgreSQL has no
//! `pg_get_aggregatedef`).

use crate::model::Function;
use crate::Error;

use super::{parse_all, Rows};

/// `name = value` of an aggregate option when `$cond`, else null (skipped by `concat_ws`).
macro_rules! option {
    ($cond:literal, $name:literal, $value:literal) => {
        concat!(
            "case when ",
            $cond,
            " then '",
            $name,
            " = ' || ",
            $value,
            " end"
        )
    };
}

/// How PostgreSQL spells a final function's modify mode.
macro_rules! modify {
    ($column:literal) => {
        concat!(
            "case ",
            $column,
            " when 'r' then 'READ_ONLY' when 's' then 'SHAREABLE' else 'READ_WRITE' end"
        )
    };
}

/// One row per user aggregate, `(oid, json)` shaped like [`Function`].
pub const AGGREGATES: &str = concat!(
    "select p.oid, json_build_object('schema', n.nspname, 'name', p.proname, ",
    // `*` names an aggregate of no arguments in DROP, COMMENT and ALTER AGGREGATE.
    "'arguments', case when p.pronargs = 0 then '*' else pg_get_function_identity_arguments(p.oid) end, ",
    "'owner', pg_get_userbyid(p.proowner), 'kind', 'aggregate', ",
    "'returns', pg_get_function_result(p.oid), 'language', 'internal', ",
    "'volatility', case p.provolatile when 'i' then 'immutable' when 's' then 'stable' else 'volatile' end, ",
    "'definition', 'CREATE OR REPLACE AGGREGATE ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname) ",
    "|| '(' || case when p.pronargs = 0 then '*' else pg_get_function_arguments(p.oid) end || ') (' || concat_ws(', ', ",
    "'SFUNC = ' || a.aggtransfn::regproc::text, ",
    "'STYPE = ' || format_type(a.aggtranstype, null), ",
    option!("a.aggtransspace <> 0", "SSPACE", "a.aggtransspace"), ", ",
    option!("a.aggfinalfn <> 0", "FINALFUNC", "a.aggfinalfn::regproc::text"), ", ",
    "case when a.aggfinalextra then 'FINALFUNC_EXTRA' end, ",
    "case when a.aggfinalfn <> 0 then 'FINALFUNC_MODIFY = ' || ", modify!("a.aggfinalmodify"), " end, ",
    option!("a.aggcombinefn <> 0", "COMBINEFUNC", "a.aggcombinefn::regproc::text"), ", ",
    option!("a.aggserialfn <> 0", "SERIALFUNC", "a.aggserialfn::regproc::text"), ", ",
    option!("a.aggdeserialfn <> 0", "DESERIALFUNC", "a.aggdeserialfn::regproc::text"), ", ",
    option!("a.agginitval is not null", "INITCOND", "quote_literal(a.agginitval)"), ", ",
    option!("a.aggmtransfn <> 0", "MSFUNC", "a.aggmtransfn::regproc::text"), ", ",
    option!("a.aggminvtransfn <> 0", "MINVFUNC", "a.aggminvtransfn::regproc::text"), ", ",
    option!("a.aggmtransfn <> 0", "MSTYPE", "format_type(a.aggmtranstype, null)"), ", ",
    option!("a.aggmtransspace <> 0", "MSSPACE", "a.aggmtransspace"), ", ",
    option!("a.aggmfinalfn <> 0", "MFINALFUNC", "a.aggmfinalfn::regproc::text"), ", ",
    "case when a.aggmfinalextra then 'MFINALFUNC_EXTRA' end, ",
    "case when a.aggmfinalfn <> 0 then 'MFINALFUNC_MODIFY = ' || ", modify!("a.aggmfinalmodify"), " end, ",
    option!("a.aggminitval is not null", "MINITCOND", "quote_literal(a.aggminitval)"), ", ",
    "(select 'SORTOP = OPERATOR(' || quote_ident(opn.nspname) || '.' || o.oprname || ')' ",
    "from pg_operator o join pg_namespace opn on opn.oid = o.oprnamespace where o.oid = a.aggsortop), ",
    "case when a.aggkind = 'h' then 'HYPOTHETICAL' end, ",
    option!("p.proparallel <> 'u'", "PARALLEL", "case p.proparallel when 's' then 'SAFE' else 'RESTRICTED' end"),
    ") || ')', ",
    "'comment', ",
    description!("pg_proc", "p.oid"),
    ", 'grants', ",
    grants!("p.proacl", "'f'", "p.proowner"),
    ")::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace ",
    "join pg_aggregate a on a.aggfnoid = p.oid where p.prokind = 'a' and ",
    user_schema!(),
    " and ",
    not_extension_member!("pg_proc", "p.oid")
);

pub fn read(rows: Rows) -> Result<Vec<(u32, Function)>, Error> {
    parse_all(rows)
}
