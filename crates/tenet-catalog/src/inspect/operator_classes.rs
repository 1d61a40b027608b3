//! Operator families and classes (`pg_opfamily`, `pg_opclass`, with their `pg_amop` and
//! `pg_amproc` members).

use std::collections::HashMap;

use crate::model::{OperatorClass, OperatorFamily};
use crate::Error;

use super::{parse_all, Rows};

/// The members of family `f.oid` whose dependency of `$deptype` is on `$class` `$oid`: those
/// a class holds (`i`, on the class) or the family's own (`a`, on the family), as JSON text
/// items; and the objects they use, as `<kind>:<oid>` references.
macro_rules! members {
    ($class:literal, $oid:literal, $deptype:literal) => {
        concat!(
            "'members', coalesce((select json_agg(m.item order by m.item) from (",
            "select 'OPERATOR ' || o.amopstrategy || ' ' || o.amopopr::regoperator::text || ",
            "case when o.amoppurpose = 'o' then ' FOR ORDER BY ' || (select quote_ident(sn.nspname) ",
            "|| '.' || quote_ident(sf.opfname) from pg_opfamily sf join pg_namespace sn ",
            "on sn.oid = sf.opfnamespace where sf.oid = o.amopsortfamily) else '' end as item ",
            "from pg_amop o join pg_depend d on d.classid = 'pg_amop'::regclass and d.objid = o.oid ",
            "where d.refclassid = '", $class, "'::regclass and d.refobjid = ", $oid,
            " and d.deptype = '", $deptype, "' ",
            "union all select 'FUNCTION ' || p.amprocnum || ' (' || format_type(p.amproclefttype, null) ",
            "|| ', ' || format_type(p.amprocrighttype, null) || ') ' || p.amproc::regprocedure::text ",
            "from pg_amproc p join pg_depend d on d.classid = 'pg_amproc'::regclass and d.objid = p.oid ",
            "where d.refclassid = '", $class, "'::regclass and d.refobjid = ", $oid,
            " and d.deptype = '", $deptype, "') m), '[]'), ",
            "'refs', coalesce((select json_agg(distinct r.ref) from (",
            "select 'o:' || o.amopopr as ref from pg_amop o join pg_depend d ",
            "on d.classid = 'pg_amop'::regclass and d.objid = o.oid ",
            "where d.refclassid = '", $class, "'::regclass and d.refobjid = ", $oid,
            " and d.deptype = '", $deptype, "' ",
            "union all select 'f:' || p.amproc::oid from pg_amproc p join pg_depend d ",
            "on d.classid = 'pg_amproc'::regclass and d.objid = p.oid ",
            "where d.refclassid = '", $class, "'::regclass and d.refobjid = ", $oid,
            " and d.deptype = '", $deptype, "') r), '[]')"
        )
    };
}

/// One row per operator family not of an extension, shaped like [`FamilyRow`].
pub const OPERATOR_FAMILIES: &str = concat!(
    "select f.oid, json_build_object('schema', n.nspname, 'name', f.opfname, ",
    "'method', am.amname, 'owner', pg_get_userbyid(f.opfowner), 'comment', ",
    description!("pg_opfamily", "f.oid"),
    ", ",
    members!("pg_opfamily", "f.oid", "a"),
    ")::text from pg_opfamily f join pg_namespace n on n.oid = f.opfnamespace ",
    "join pg_am am on am.oid = f.opfmethod where ",
    user_schema!(),
    " and ",
    not_extension_member!("pg_opfamily", "f.oid")
);

/// One row per operator class not of an extension, shaped like [`ClassRow`].
pub const OPERATOR_CLASSES: &str = concat!(
    "select c.oid, json_build_object('schema', n.nspname, 'name', c.opcname, ",
    "'method', am.amname, 'type', format_type(c.opcintype, null), ",
    "'family', quote_ident(fn.nspname) || '.' || quote_ident(f.opfname), ",
    "'default', c.opcdefault, ",
    "'storage', case when c.opckeytype <> 0 then format_type(c.opckeytype, null) end, ",
    "'owner', pg_get_userbyid(c.opcowner), 'comment', ",
    description!("pg_opclass", "c.oid"),
    ", ",
    members!("pg_opclass", "c.oid", "i"),
    ", 'type_oid', c.opcintype::bigint",
    ")::text from pg_opclass c join pg_namespace n on n.oid = c.opcnamespace ",
    "join pg_am am on am.oid = c.opcmethod join pg_opfamily f on f.oid = c.opcfamily ",
    "join pg_namespace fn on fn.oid = f.opfnamespace where ",
    user_schema!(),
    " and ",
    not_extension_member!("pg_opclass", "c.oid")
);

/// A family row: the family, and `<kind>:<oid>` of the operators and functions its members
/// use.
#[derive(serde::Deserialize)]
pub struct FamilyRow {
    #[serde(flatten)]
    family: OperatorFamily,
    refs: Vec<String>,
}

/// A class row: the class, what its members use, and its type.
#[derive(serde::Deserialize)]
pub struct ClassRow {
    #[serde(flatten)]
    class: OperatorClass,
    refs: Vec<String>,
    type_oid: u32,
}

pub fn read_families(rows: Rows) -> Result<Vec<FamilyRow>, Error> {
    Ok(parse_all(rows)?.into_iter().map(|(_, f)| f).collect())
}

pub fn read_classes(rows: Rows) -> Result<Vec<(u32, ClassRow)>, Error> {
    parse_all(rows)
}

impl ClassRow {
    /// The class's key in `depends_on`.
    pub fn key(&self) -> String {
        crate::model::ObjectKey::operator_class(&self.class)
    }
}

/// `(kind, oid)` of a `<kind>:<oid>` reference.
fn reference(r: &str) -> Option<(char, u32)> {
    let (kind, oid) = r.split_once(':')?;
    Some((kind.chars().next()?, oid.parse().ok()?))
}

/// The families and classes with what they depend on (the operators, functions and types of
/// `keys`; a class also on its family), sorted.
pub fn assemble(
    families: Vec<FamilyRow>,
    classes: Vec<(u32, ClassRow)>,
    keys: &HashMap<(char, u32), String>,
) -> (Vec<OperatorFamily>, Vec<OperatorClass>) {
    let resolve = |refs: &[String]| -> Vec<String> {
        let mut keys: Vec<String> = refs
            .iter()
            .filter_map(|r| keys.get(&reference(r)?).cloned())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    };
    let mut families: Vec<OperatorFamily> = families
        .into_iter()
        .map(|row| OperatorFamily {
            depends_on: resolve(&row.refs),
            ..row.family
        })
        .collect();
    let family_keys: HashMap<String, String> = families
        .iter()
        .map(|f| {
            let name = crate::model::QualifiedName::new(&f.schema, &f.name);
            (
                format!("{name} {}", f.method),
                crate::model::ObjectKey::operator_family(f),
            )
        })
        .collect();
    let mut classes: Vec<OperatorClass> = classes
        .into_iter()
        .map(|(_, row)| {
            let mut refs = row.refs;
            refs.push(format!("t:{}", row.type_oid));
            let mut depends_on = resolve(&refs);
            let family = format!("{} {}", row.class.family, row.class.method);
            depends_on.extend(family_keys.get(&family).cloned());
            depends_on.sort();
            OperatorClass {
                depends_on,
                ..row.class
            }
        })
        .collect();
    families.sort_by(|a, b| (&a.schema, &a.name, &a.method).cmp(&(&b.schema, &b.name, &b.method)));
    classes.sort_by(|a, b| (&a.schema, &a.name, &a.method).cmp(&(&b.schema, &b.name, &b.method)));
    (families, classes)
}
