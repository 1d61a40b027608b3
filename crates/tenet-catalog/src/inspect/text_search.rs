//! Text search dictionaries and configurations (`pg_ts_dict`, `pg_ts_config`). Their
//! templates and parsers are C-level and stay out: they come with their extension.

use crate::model::{TextSearchConfiguration, TextSearchDictionary};
use crate::Error;

use super::{parse_all, Rows};

/// A qualified name of a row `$alias` of catalog `$table` whose name column is `$name` and
/// namespace column `$namespace`, found by `$oid`: `pg_catalog.simple`.
macro_rules! ts_name {
    ($table:literal, $alias:literal, $name:literal, $namespace:literal, $oid:literal) => {
        concat!(
            "(select quote_ident(xn.nspname) || '.' || quote_ident(",
            $alias,
            ".",
            $name,
            ") from ",
            $table,
            " ",
            $alias,
            " join pg_namespace xn on xn.oid = ",
            $alias,
            ".",
            $namespace,
            " where ",
            $alias,
            ".oid = ",
            $oid,
            ")"
        )
    };
}

/// One row per dictionary in a user schema not created by an extension, `(oid, json)` shaped
/// like [`TextSearchDictionary`].
pub const DICTIONARIES: &str = concat!(
    "select dt.oid, json_build_object('schema', n.nspname, 'name', dt.dictname, ",
    "'owner', pg_get_userbyid(dt.dictowner), 'template', ",
    ts_name!(
        "pg_ts_template",
        "tt",
        "tmplname",
        "tmplnamespace",
        "dt.dicttemplate"
    ),
    ", 'options', dt.dictinitoption, 'comment', ",
    description!("pg_ts_dict", "dt.oid"),
    ")::text from pg_ts_dict dt join pg_namespace n on n.oid = dt.dictnamespace where ",
    user_schema!(),
    " and ",
    not_extension_member!("pg_ts_dict", "dt.oid")
);

/// One row per configuration in a user schema not created by an extension, `(oid, json)`
/// shaped like [`TextSearchConfiguration`]: its mappings in token type order, each with its
/// dictionaries in the order they are tried.
pub const CONFIGURATIONS: &str =
    concat!(
    "select c.oid, json_build_object('schema', n.nspname, 'name', c.cfgname, ",
    "'owner', pg_get_userbyid(c.cfgowner), 'parser', ",
    ts_name!("pg_ts_parser", "tp", "prsname", "prsnamespace", "c.cfgparser"),
    ", 'mappings', coalesce((select json_agg(json_build_object('token', t.alias, 'dictionaries', ",
    "(select json_agg(",
    ts_name!("pg_ts_dict", "md", "dictname", "dictnamespace", "m.mapdict"),
    " order by m.mapseqno) from pg_ts_config_map m where m.mapcfg = c.oid ",
    "and m.maptokentype = t.tokid)) order by t.tokid) from ts_token_type(c.cfgparser) t ",
    "where exists (select 1 from pg_ts_config_map m where m.mapcfg = c.oid ",
    "and m.maptokentype = t.tokid)), '[]'), 'comment', ",
    description!("pg_ts_config", "c.oid"),
    ")::text from pg_ts_config c join pg_namespace n on n.oid = c.cfgnamespace where ",
    user_schema!(),
    " and ",
    not_extension_member!("pg_ts_config", "c.oid")
);

fn sorted<T>(rows: Vec<(u32, T)>, key: impl Fn(&T) -> (&str, &str)) -> Vec<T> {
    let mut items: Vec<T> = rows.into_iter().map(|(_, x)| x).collect();
    items.sort_by(|a, b| key(a).cmp(&key(b)));
    items
}

/// The dictionaries sorted by schema and name.
pub fn read_dictionaries(rows: Rows) -> Result<Vec<TextSearchDictionary>, Error> {
    let rows = parse_all::<TextSearchDictionary>(rows)?;
    Ok(sorted(rows, |d| (&d.schema, &d.name)))
}

/// The configurations sorted by schema and name.
pub fn read_configurations(rows: Rows) -> Result<Vec<TextSearchConfiguration>, Error> {
    let rows = parse_all::<TextSearchConfiguration>(rows)?;
    Ok(sorted(rows, |c| (&c.schema, &c.name)))
}
