//! Default privileges (`pg_default_acl`).

use crate::model::DefaultPrivilege;
use crate::Error;

use super::{parse_all, Rows};

/// One row per entry, `(oid, json)` shaped like [`DefaultPrivilege`]; entries for schemas
/// that are not the user's are left out.
pub const DEFAULT_PRIVILEGES: &str = concat!(
    "select d.oid, json_build_object('role', pg_get_userbyid(d.defaclrole), ",
    "'schema', n.nspname, ",
    "'objects', case d.defaclobjtype when 'r' then 'tables' when 'S' then 'sequences' ",
    "when 'f' then 'functions' when 'T' then 'types' else 'schemas' end, ",
    "'grants', coalesce((select json_agg(json_build_object(",
    "'grantee', case when a.grantee = 0 then 'PUBLIC' else pg_get_userbyid(a.grantee) end, ",
    "'privilege', a.privilege_type, 'grantable', a.is_grantable)) from aclexplode(d.defaclacl) a), '[]')",
    ")::text from pg_default_acl d left join pg_namespace n on n.oid = d.defaclnamespace ",
    "where (d.defaclnamespace = 0 or (",
    user_schema!(),
    ")) and ",
    not_extension_member!("pg_default_acl", "d.oid")
);

/// The entries sorted by role, schema and objects, their grants sorted.
pub fn read(rows: Rows) -> Result<Vec<DefaultPrivilege>, Error> {
    let mut entries: Vec<DefaultPrivilege> = parse_all::<DefaultPrivilege>(rows)?
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    for d in &mut entries {
        d.grants.sort();
        d.grants.dedup();
    }
    entries.sort_by(|a, b| (&a.role, &a.schema, &a.objects).cmp(&(&b.role, &b.schema, &b.objects)));
    Ok(entries)
}
