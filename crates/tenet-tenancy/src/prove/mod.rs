//! `tenet prove`: demonstrate isolation on a live server, inside one transaction that is always
//! rolled back.
//!
//! 1. Two synthetic tenants, A and B, get one valid row in every tenant table (and in the global
//!    tables those reference), in foreign key order. A nullable tenant column also gets a row
//!    with no tenant.
//! 2. As the app role (`SET LOCAL ROLE`), each probe runs in its own savepoint so a failing write
//!    does not abort the rest:
//!    - `read`: rows not belonging to A visible with A's setting;
//!    - `update` / `delete`: a blind `UPDATE`/`DELETE` (no WHERE: a WHERE clause would pull the
//!      SELECT policies in and hide a leaky write policy), then B's rows are looked up by
//!      `(tableoid, ctid)` as the connecting role;
//!    - `insert`: a valid row for B; `insert-ref`: an A row pointing at B's row through each
//!      foreign key; `unique`: an A row reusing B's key values (a unique violation tells A what
//!      B holds);
//!    - `push`: A's own row moved into tenant B by UPDATE; `truncate`: TRUNCATE, which no
//!      policy governs;
//!    - `no-setting` / `empty-setting`: with the setting missing, then empty: nothing visible;
//!      `empty-write`: a row written with an empty setting (tenant '') is refused;
//!    - `escalate`: what the app role can switch off (RLS as owner) or become (`SET ROLE`);
//!    - `owner`: the table owner with A's setting (row-level security not forced);
//!    - views and materialized views: their content with and without B's rows;
//!    - `call`: SECURITY DEFINER functions the app role can execute, called with B's values,
//!      with and without B's rows, and whether they change B's rows.
//!    - `secret`: secret-looking columns of global tables (tenant B's registry row) readable.
//!
//!    B's rows include one shaped by each leaky permissive policy's own predicate
//!    (`using (status = 'done')` gets a B row with status 'done').
//! 3. ROLLBACK; sequences advanced by the synthetic rows are set back when nobody else moved them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use postgres::Client;
use serde::Serialize;
use tenet_catalog::{quote, Catalog, ConstraintKind, QualifiedName, Table};
use tenet_config::Tenancy;

use crate::model::Model;
use crate::synth::{insert_sql, Inserted, Synth};

mod differential;
mod pgtap;
mod reads;
mod report;
mod rows;
mod writes;

use differential::*;
pub use report::to_human;
use report::*;
use rows::*;

/// The probes, in matrix order.
pub const PROBES: [&str; 15] = [
    "read",
    "update",
    "delete",
    "insert",
    "push",
    "truncate",
    "insert-ref",
    "unique",
    "no-setting",
    "empty-setting",
    "empty-write",
    "escalate",
    "owner",
    "call",
    "secret",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Leak,
    Untested,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub status: Status,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// `table public.tasks`, `view public.v`, `materialized view public.mv`, `function public.f(uuid)`.
    pub object: String,
    /// Probe name -> outcome; probes that do not apply to the object are absent.
    pub probes: BTreeMap<String, Cell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub app_role: String,
    pub tenant_a: String,
    pub tenant_b: String,
    pub leaks: usize,
    pub untested: usize,
    pub passed: usize,
    pub elapsed_ms: u128,
    pub objects: Vec<Row>,
    /// The probes as a pgTAP file (`tenet prove --emit pgtap`).
    #[serde(skip)]
    pub pgtap: String,
}

impl Report {
    pub fn exit_code(&self) -> i32 {
        i32::from(self.leaks > 0)
    }
}

#[derive(Debug)]
pub enum ProveError {
    /// The server or the configuration does not allow a proof (exit 2).
    Usage(String),
    /// A database error outside any probe (exit 3).
    Db(String),
}

impl std::fmt::Display for ProveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProveError::Usage(m) | ProveError::Db(m) => f.write_str(m),
        }
    }
}

impl ProveError {
    pub fn exit_code(&self) -> i32 {
        match self {
            ProveError::Usage(_) => 2,
            ProveError::Db(_) => 3,
        }
    }
}

fn db(e: postgres::Error) -> ProveError {
    ProveError::Db(describe(&e))
}

fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} (SQLSTATE {})", d.message(), d.code().code()),
        None => e.to_string(),
    }
}

/// Run the proof on the database `client` is connected to. The connecting role must bypass
/// row-level security (superuser or BYPASSRLS) to plant and check rows.
pub fn prove(client: &mut Client, tenancy: &Tenancy) -> Result<Report, ProveError> {
    let started = Instant::now();
    let row = client
        .query_one(
            "select r.rolsuper or r.rolbypassrls, current_user::text from pg_roles r where r.rolname = current_user",
            &[],
        )
        .map_err(db)?;
    let (bypass, me): (bool, String) = (row.get(0), row.get(1));
    if !bypass {
        return Err(ProveError::Usage(format!(
            "prove connects as {me}, which is subject to row-level security: connect as a superuser or a role with BYPASSRLS (on a scratch copy of the database if you prefer) so it can plant rows for two tenants and check what the app role sees"
        )));
    }
    let app = tenancy.app_role.clone();
    let exists = client
        .query_opt("select 1 from pg_roles where rolname = $1", &[&app])
        .map_err(db)?;
    if exists.is_none() {
        return Err(ProveError::Usage(format!(
            "app role {app} ([tenancy] app_role) does not exist on this server"
        )));
    }
    let mut catalog = tenet_catalog::inspect(client).map_err(|e| ProveError::Db(e.to_string()))?;
    crate::merge_role(client, &mut catalog, &app).map_err(db)?;
    let sequences = sequence_states(client).map_err(db)?;
    client
        .batch_execute("BEGIN; SET LOCAL lock_timeout = '5s'; SET LOCAL idle_in_transaction_session_timeout = '10min'")
        .map_err(db)?;
    let mut tenants = (String::new(), String::new());
    let mut pgtap = String::new();
    let result = Prover::new(client, &catalog, tenancy).and_then(|mut p| {
        tenants = (p.a.clone(), p.b.clone());
        let rows = p.run()?;
        pgtap = std::mem::take(&mut p.pgtap);
        Ok(rows)
    });
    let rollback = client.batch_execute("ROLLBACK");
    restore_sequences(client, &sequences);
    rollback.map_err(db)?;
    let mut objects = result?;
    objects.sort_by_key(|r| object_rank(&r.object));
    let count = |s: Status| {
        objects
            .iter()
            .flat_map(|r| r.probes.values())
            .filter(|c| c.status == s)
            .count()
    };
    let (tenant_a, tenant_b) = tenants;
    Ok(Report {
        app_role: app,
        tenant_a,
        tenant_b,
        leaks: count(Status::Leak),
        untested: count(Status::Untested),
        passed: count(Status::Pass),
        elapsed_ms: started.elapsed().as_millis(),
        objects,
        pgtap,
    })
}

fn object_rank(object: &str) -> (u8, String) {
    let rank = if object.starts_with("table ") {
        0
    } else if object.starts_with("view ") {
        1
    } else if object.starts_with("materialized view ") {
        2
    } else {
        3
    };
    (rank, object.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tenant {
    A,
    B,
    /// A row whose nullable tenant column is NULL.
    Nobody,
    /// A second row of tenant B, with the values a policy admits rows by (`status = 'done'`).
    Admitted,
}

/// Every tenant but A.
const OTHERS: [Tenant; 3] = [Tenant::B, Tenant::Nobody, Tenant::Admitted];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setting {
    Missing,
    Empty,
    A,
}

struct Prover<'a> {
    client: &'a mut Client,
    catalog: &'a Catalog,
    model: Model<'a>,
    app: String,
    column: String,
    setting: String,
    /// Tenant values as text (C: a third tenant, for rows that create a tenant), and the tenant
    /// column's type.
    a: String,
    b: String,
    c: String,
    tenant_type: String,
    /// With a membership table: the users of tenants A and B.
    /// Without one the tenant values stand for the users.
    ua: String,
    ub: String,
    synth: Synth<'a>,
    /// Tables that get rows, parents first.
    order: Vec<&'a Table>,
    /// Columns of global tables that must hold the tenant value (a tenant column points at them).
    tenant_keys: BTreeMap<QualifiedName, BTreeSet<String>>,
    /// Columns that must hold the user value (the membership table's user column points at them).
    user_keys: BTreeMap<QualifiedName, BTreeSet<String>>,
    rows: BTreeMap<(QualifiedName, Tenant), Inserted>,
    /// The rows of `rows` in the order they were inserted.
    planted: Vec<(QualifiedName, Tenant)>,
    /// The pgTAP file, written at the end of `run`.
    pgtap: String,
    failed: BTreeMap<QualifiedName, String>,
    oids: BTreeMap<QualifiedName, i64>,
    /// The setting had a value before the proof set any (role or database default).
    preset: Option<String>,
}

impl<'a> Prover<'a> {
    fn new(
        client: &'a mut Client,
        catalog: &'a Catalog,
        tenancy: &'a Tenancy,
    ) -> Result<Prover<'a>, ProveError> {
        let model = Model::new(catalog, tenancy);
        let column = tenancy.column.clone();
        let tenant_type = model
            .tenant_tables()
            .find_map(|t| t.column(&column).map(|c| c.data_type.clone()))
            .unwrap_or_else(|| "text".to_string());
        let (a, b, c) = make_values(client, &resolve_domain(catalog, &tenant_type), &column)?;
        let (ua, ub) = match model.membership() {
            Some((m, user)) => {
                let ty = m
                    .column(user)
                    .map_or_else(|| "text".to_string(), |c| c.data_type.clone());
                let (ua, ub, _) = make_values(client, &resolve_domain(catalog, &ty), user)?;
                (ua, ub)
            }
            None => (a.clone(), b.clone()),
        };
        let preset: Option<String> = client
            .query_one("select current_setting($1, true)", &[&tenancy.setting])
            .map_err(db)?
            .get(0);
        let oids = client
            .query(
                "select c.oid::bigint, n.nspname::text, c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p', 'v', 'm')",
                &[],
            )
            .map_err(db)?
            .iter()
            .map(|r| (QualifiedName::new(r.get::<_, String>(1), r.get::<_, String>(2)), r.get(0)))
            .collect();
        let mut p = Prover {
            client,
            catalog,
            model,
            app: tenancy.app_role.clone(),
            column,
            setting: tenancy.setting.clone(),
            a,
            b,
            c,
            tenant_type,
            ua,
            ub,
            synth: Synth::new(catalog),
            order: Vec::new(),
            tenant_keys: BTreeMap::new(),
            user_keys: BTreeMap::new(),
            rows: BTreeMap::new(),
            planted: Vec::new(),
            pgtap: String::new(),
            failed: BTreeMap::new(),
            oids,
            preset: preset.filter(|v| !v.is_empty()),
        };
        p.plan();
        Ok(p)
    }

    fn user_literal(&self, t: Tenant, ty: &str) -> String {
        match t {
            Tenant::B | Tenant::Admitted => format!("{}::{ty}", quote::literal(&self.ub)),
            _ => format!("{}::{ty}", quote::literal(&self.ua)),
        }
    }

    /// What the setting holds for tenant A: its value, its user's, or (JSON claims) a token
    /// payload naming the user.
    fn a_setting(&self) -> String {
        if self.model.tenancy.json_setting() {
            serde_json::json!({"sub": self.ua, "role": self.app}).to_string()
        } else {
            self.ua.clone()
        }
    }

    /// A column's type, the tenant column's by default (tables may differ: uuid and text).
    fn column_type(&self, t: &Table, column: &str) -> String {
        t.column(column)
            .map_or_else(|| self.tenant_type.clone(), |c| c.data_type.clone())
    }

    fn tenant_literal(&self, t: Tenant, ty: &str) -> String {
        match t {
            Tenant::A => format!("{}::{ty}", quote::literal(&self.a)),
            Tenant::B | Tenant::Admitted => format!("{}::{ty}", quote::literal(&self.b)),
            Tenant::Nobody => format!("NULL::{ty}"),
        }
    }

    fn run(&mut self) -> Result<Vec<Row>, ProveError> {
        self.setup()?;
        let mut rows: BTreeMap<String, Row> = BTreeMap::new();

        // Objects: tenant tables (children only when the app role can reach them), views and
        // materialized views over tenant tables the app role can read, and functions.
        let mut tables: Vec<&'a Table> = Vec::new();
        for t in self.model.tenant_tables() {
            if Model::is_child(t) {
                let oid = self.oids.get(&t.qualified_name()).copied().unwrap_or(0);
                let reach: bool = self
                    .client
                    .query_one(
                        "select has_table_privilege($1, $2::bigint::oid, 'SELECT, INSERT, UPDATE, DELETE')",
                        &[&self.app, &oid],
                    )
                    .map_err(db)?
                    .get(0);
                if !reach {
                    continue;
                }
            }
            tables.push(t);
        }
        let mut views = Vec::new();
        for v in &self.catalog.views {
            if self.model.view_tenant_tables(v).is_empty() {
                continue;
            }
            let name = QualifiedName::new(&v.schema, &v.name);
            let oid = self.oids.get(&name).copied().unwrap_or(0);
            let can: bool = self
                .client
                .query_one(
                    "select has_table_privilege($1, $2::bigint::oid, 'SELECT')",
                    &[&self.app, &oid],
                )
                .map_err(db)?
                .get(0);
            if can {
                views.push(v);
            }
        }
        let view_object = |v: &tenet_catalog::View| {
            format!(
                "{} {}",
                if v.materialized {
                    "materialized view"
                } else {
                    "view"
                },
                QualifiedName::new(&v.schema, &v.name)
            )
        };

        // Materialized views hold what they held at their last refresh: refresh them now so
        // they contain the synthetic rows.
        let matviews: Vec<String> = views
            .iter()
            .filter(|v| v.materialized)
            .map(|v| QualifiedName::new(&v.schema, &v.name).to_string())
            .collect();
        self.refresh(&matviews)?;

        // 1. Without a setting, before this session ever sets it.
        for phase in [Setting::Missing, Setting::Empty] {
            let probe = if phase == Setting::Missing {
                "no-setting"
            } else {
                "empty-setting"
            };
            for t in &tables {
                let cell = if phase == Setting::Missing && self.preset.is_some() {
                    untested(format!(
                        "{} already holds '{}' before anything sets it (a role or database default)",
                        self.setting,
                        self.preset.clone().unwrap_or_default()
                    ))
                } else {
                    self.visible_without_tenant(t, phase)?
                };
                set(
                    &mut rows,
                    &format!("table {}", t.qualified_name()),
                    probe,
                    cell,
                );
            }
            // Views: content with the synthetic rows, and without any of them.
            let with = self.view_contents(&views, phase)?;
            let without = self.in_state(
                &[Tenant::A, Tenant::B, Tenant::Nobody, Tenant::Admitted],
                &matviews,
                |p| p.view_contents(&views, phase),
            )?;
            for (i, v) in views.iter().enumerate() {
                let cell = match &without {
                    Err(e) => untested(format!("could not remove the synthetic rows: {e}")),
                    Ok(without) => compare_contents(
                        &with[i],
                        &without[i],
                        "rows of the tenant tables show through it",
                        false,
                    ),
                };
                set(&mut rows, &view_object(v), probe, cell);
            }
        }

        // 2. With tenant A's setting: reads.
        for t in &tables {
            let cell = self.read_as(t, &self.app.clone())?;
            set(
                &mut rows,
                &format!("table {}", t.qualified_name()),
                "read",
                cell,
            );
        }
        let with = self.view_contents(&views, Setting::A)?;
        let without = self.in_state(&OTHERS, &matviews, |p| p.view_contents(&views, Setting::A))?;
        for (i, v) in views.iter().enumerate() {
            let cell = match &without {
                Err(e) => untested(format!("could not remove tenant B's rows: {e}")),
                Ok(without) => compare_contents(
                    &with[i],
                    &without[i],
                    "tenant B's rows show through it",
                    true,
                ),
            };
            set(&mut rows, &view_object(v), "read", cell);
        }

        // 3. Writes and the rest, per table.
        let roles: Vec<String> = self
            .client
            .query(
                // Granted memberships only: pg_has_role() says a superuser belongs to every role.
                "with recursive m(oid) as (select oid from pg_roles where rolname = $1 \
                 union select a.roleid from pg_auth_members a join m on a.member = m.oid) \
                 select r.rolname::text from pg_roles r join m on m.oid = r.oid where r.rolname <> $1 order by 1",
                &[&self.app],
            )
            .map_err(db)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        for t in &tables {
            let object = format!("table {}", t.qualified_name());
            let cells = [
                ("update", self.update_probe(t)?),
                ("delete", self.delete_probe(t)?),
                ("insert", self.insert_probe(t)?),
                ("escalate", self.escalate_probe(t, &roles)?),
            ];
            for (probe, cell) in cells {
                set(&mut rows, &object, probe, cell);
            }
            if let Some(cell) = self.owner_probe(t)? {
                set(&mut rows, &object, "owner", cell);
            }
            if let Some(cell) = self.insert_ref_probe(t)? {
                set(&mut rows, &object, "insert-ref", cell);
            }
            if let Some(cell) = self.unique_probe(t)? {
                set(&mut rows, &object, "unique", cell);
            }
            if let Some(cell) = self.push_probe(t)? {
                set(&mut rows, &object, "push", cell);
            }
            if let Some(cell) = self.truncate_probe(t)? {
                set(&mut rows, &object, "truncate", cell);
            }
            if let Some(cell) = self.empty_write_probe(t)? {
                set(&mut rows, &object, "empty-write", cell);
            }
        }

        // Global tables whose secret-looking columns the app role may read.
        let secrets = self.readable_secrets()?;
        for (name, columns) in secrets {
            let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
            if let Some(cell) = self.secret_probe(&name, &columns)? {
                set(&mut rows, &format!("table {name}"), "secret", cell);
            }
        }

        // 4. SECURITY DEFINER functions.
        for (object, cell) in self.call_probes()? {
            set(&mut rows, &object, "call", cell);
        }
        self.pgtap = self.pgtap(&tables, &rows);
        Ok(rows.into_values().collect())
    }
}

fn set(rows: &mut BTreeMap<String, Row>, object: &str, probe: &str, cell: Cell) {
    rows.entry(object.to_string())
        .or_insert_with(|| Row {
            object: object.to_string(),
            probes: BTreeMap::new(),
        })
        .probes
        .insert(probe.to_string(), cell);
}

/// Three distinct values of a type (tenants A, B and C, or users), made up so they collide with
/// nothing real.
fn make_values(
    client: &mut Client,
    base: &str,
    column: &str,
) -> Result<(String, String, String), ProveError> {
    Ok(match base.split('(').next().unwrap_or("").trim() {
        "uuid" => {
            let row = client
                .query_one(
                    "select gen_random_uuid()::text, gen_random_uuid()::text, gen_random_uuid()::text",
                    &[],
                )
                .map_err(db)?;
            (row.get(0), row.get(1), row.get(2))
        }
        "smallint" => ("32701".into(), "32702".into(), "32703".into()),
        "integer" => (
            "2147480001".into(),
            "2147480002".into(),
            "2147480003".into(),
        ),
        "bigint" | "numeric" => (
            "9223372036854000001".into(),
            "9223372036854000002".into(),
            "9223372036854000003".into(),
        ),
        "text" | "character varying" | "citext" | "public.citext" | "character" => {
            let salt = std::process::id();
            (
                format!("tenet-a-{salt}"),
                format!("tenet-b-{salt}"),
                format!("tenet-c-{salt}"),
            )
        }
        other => {
            return Err(ProveError::Usage(format!(
                "cannot make up values of type {other} (column {column})"
            )))
        }
    })
}
