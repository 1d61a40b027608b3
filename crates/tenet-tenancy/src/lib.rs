//! Tenant isolation for multi-tenant PostgreSQL schemas: catalog rules ([`check`]), the SQL that
//! satisfies them ([`generate`]) and a live demonstration on a server ([`prove`]).
//!
//! The tenancy model comes from `tenet.toml` ([`tenet_config::Tenancy`]): a tenant column, the
//! setting policies compare it with, the role the application connects as, and the tables that
//! are shared by all tenants. Every other table is tenant-scoped.

pub mod check;
pub mod expr;
pub mod generate;
pub mod model;
pub mod prove;
mod synth;

pub use check::check;
pub use model::Model;

use tenet_catalog::{Catalog, Role};

/// Add `role` and every role it belongs to, as `inspect` reports roles, to the catalog when
/// the schema itself does not name them (inspect lists only roles the schema refers to; an
/// app role with no grants, or a superuser one, would otherwise go unseen). A role that does
/// not exist on the server is left out.
pub fn merge_role(
    client: &mut postgres::Client,
    catalog: &mut Catalog,
    role: &str,
) -> Result<(), postgres::Error> {
    let rows = client.query(
        "with recursive closure(oid) as (select oid from pg_roles where rolname = $1 \
         union select m.roleid from pg_auth_members m join closure c on m.member = c.oid) \
         select json_build_object('name', r.rolname, 'superuser', r.rolsuper, 'bypassrls', r.rolbypassrls, \
         'login', r.rolcanlogin, 'inherit', r.rolinherit, 'member_of', coalesce((select json_agg(g.rolname order by g.rolname) \
         from pg_auth_members m join pg_roles g on g.oid = m.roleid where m.member = r.oid), '[]'))::text \
         from pg_roles r join closure c on c.oid = r.oid",
        &[&role],
    )?;
    for row in rows {
        let json: String = row.get(0);
        if let Ok(r) = serde_json::from_str::<Role>(&json) {
            if !catalog.roles.iter().any(|x| x.name == r.name) {
                catalog.roles.push(r);
            }
        }
    }
    catalog.roles.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(())
}
