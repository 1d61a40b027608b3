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
//!    - `no-setting` / `empty-setting`: with the setting missing, then empty: nothing visible;
//!    - `escalate`: what the app role can switch off (RLS as owner) or become (`SET ROLE`);
//!    - `owner`: the table owner with A's setting (row-level security not forced);
//!    - views and materialized views: their content with and without B's rows;
//!    - `call`: SECURITY DEFINER functions the app role can execute, called with B's values,
//!      with and without B's rows, and whether they change B's rows.
//! 3. ROLLBACK; sequences advanced by the synthetic rows are set back when nobody else moved them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use postgres::Client;
use serde::Serialize;
use tenet_catalog::{quote, Catalog, ConstraintKind, QualifiedName, Table};
use tenet_config::Tenancy;

use crate::model::Model;
use crate::synth::{insert_sql, Inserted, Synth};

/// The probes, in matrix order.
pub const PROBES: [&str; 11] = [
    "read",
    "update",
    "delete",
    "insert",
    "insert-ref",
    "unique",
    "no-setting",
    "empty-setting",
    "escalate",
    "owner",
    "call",
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
    let result = Prover::new(client, &catalog, tenancy).and_then(|mut p| {
        tenants = (p.a.clone(), p.b.clone());
        p.run()
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
}

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
    synth: Synth<'a>,
    /// Tables that get rows, parents first.
    order: Vec<&'a Table>,
    /// Columns of global tables that must hold the tenant value (a tenant column points at them).
    tenant_keys: BTreeMap<QualifiedName, BTreeSet<String>>,
    rows: BTreeMap<(QualifiedName, Tenant), Inserted>,
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
        let base = resolve_domain(catalog, &tenant_type);
        let (a, b, c) = match base.split('(').next().unwrap_or("").trim() {
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
                    "cannot make up tenant values of type {other} (tenant column {column})"
                )))
            }
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
            synth: Synth::new(catalog),
            order: Vec::new(),
            tenant_keys: BTreeMap::new(),
            rows: BTreeMap::new(),
            failed: BTreeMap::new(),
            oids,
            preset: preset.filter(|v| !v.is_empty()),
        };
        p.plan();
        Ok(p)
    }

    fn tenant_literal(&self, t: Tenant, ty: &str) -> String {
        match t {
            Tenant::A => format!("{}::{ty}", quote::literal(&self.a)),
            Tenant::B => format!("{}::{ty}", quote::literal(&self.b)),
            Tenant::Nobody => format!("NULL::{ty}"),
        }
    }

    /// Tables to fill, parents first: tenant tables that take rows themselves (not partitions),
    /// and every table they reference.
    fn plan(&mut self) {
        let mut need: BTreeSet<QualifiedName> = self
            .model
            .tenant_tables()
            .filter(|t| t.partition_of.is_none())
            .map(|t| t.qualified_name())
            .collect();
        let mut todo: Vec<QualifiedName> = need.iter().cloned().collect();
        while let Some(name) = todo.pop() {
            let Some(t) = self.model.table(&name) else {
                continue;
            };
            for c in t
                .constraints
                .iter()
                .filter(|c| c.kind == ConstraintKind::ForeignKey)
            {
                let r = c.references.as_ref().expect("fk");
                if self.model.table(&r.table).is_some() && need.insert(r.table.clone()) {
                    todo.push(r.table.clone());
                }
                // A tenant column pointing at a global table or a tenant root: that column
                // holds tenant values.
                if self.model.is_tenant(t) {
                    if let Some(target) = self.model.table(&r.table) {
                        if !self.model.is_tenant(target) || self.model.is_root(target) {
                            for (cc, pc) in c.columns.iter().zip(&r.columns) {
                                if *cc == self.column {
                                    self.tenant_keys
                                        .entry(r.table.clone())
                                        .or_default()
                                        .insert(pc.clone());
                                }
                            }
                        }
                    }
                }
            }
        }
        // Topological order; a cycle is broken where it meets a table already being visited.
        let mut order = Vec::new();
        let mut state: BTreeMap<QualifiedName, u8> = BTreeMap::new();
        fn visit<'t>(
            name: &QualifiedName,
            model: &Model<'t>,
            need: &BTreeSet<QualifiedName>,
            state: &mut BTreeMap<QualifiedName, u8>,
            order: &mut Vec<&'t Table>,
        ) {
            if state.get(name).is_some() {
                return;
            }
            state.insert(name.clone(), 1);
            if let Some(t) = model.table(name) {
                for c in t
                    .constraints
                    .iter()
                    .filter(|c| c.kind == ConstraintKind::ForeignKey)
                {
                    let r = &c.references.as_ref().expect("fk").table;
                    if r != name && need.contains(r) {
                        visit(r, model, need, state, order);
                    }
                }
                order.push(t);
            }
            state.insert(name.clone(), 2);
        }
        for name in &need {
            visit(name, &self.model, &need, &mut state, &mut order);
        }
        self.order = order;
    }

    /// The shape a table's rows take: a partition's root parent (which carries its keys).
    fn shape_of(&self, t: &'a Table) -> &'a Table {
        let mut cur = t;
        for _ in 0..16 {
            match &cur.partition_of {
                Some(p) => match self.model.table(&p.parent) {
                    Some(parent) => cur = parent,
                    None => break,
                },
                None => break,
            }
        }
        cur
    }

    /// SQL expressions for the columns a row of `shape` for tenant `t` must take: the tenant
    /// column, tenant keys of global tables, and foreign keys (to the parents in `parents`,
    /// by default the same tenant's rows).
    fn fixed_values(
        &self,
        shape: &Table,
        t: Tenant,
        parent_tenant: &dyn Fn(&str) -> Tenant,
    ) -> Result<BTreeMap<String, String>, String> {
        let mut fixed = BTreeMap::new();
        let tenant_scoped = self.model.is_tenant(shape);
        if let Some(keys) = self.tenant_keys.get(&shape.qualified_name()) {
            for k in keys {
                if let Some(c) = shape.column(k) {
                    let who = if t == Tenant::Nobody { Tenant::A } else { t };
                    fixed.insert(k.clone(), self.tenant_literal(who, &c.data_type));
                }
            }
        }
        for c in shape
            .constraints
            .iter()
            .filter(|c| c.kind == ConstraintKind::ForeignKey)
        {
            let r = c.references.as_ref().expect("fk");
            let self_ref = r.table == shape.qualified_name();
            let pt = parent_tenant(&c.name);
            let parent = if self_ref && pt == t {
                None
            } else {
                let pt = if pt == Tenant::Nobody { Tenant::A } else { pt };
                self.rows.get(&(r.table.clone(), pt))
            };
            let nullable = c
                .columns
                .iter()
                .all(|col| shape.column(col).is_some_and(|x| !x.not_null));
            match parent {
                Some(row) => {
                    for (cc, pc) in c.columns.iter().zip(&r.columns) {
                        let Some(col) = shape.column(cc) else {
                            continue;
                        };
                        let v = row.values.get(pc).cloned().flatten();
                        let lit = match v {
                            Some(v) => format!("{}::{}", quote::literal(&v), col.data_type),
                            None => format!("NULL::{}", col.data_type),
                        };
                        fixed.entry(cc.clone()).or_insert(lit);
                    }
                }
                None if nullable || self_ref => {
                    for cc in &c.columns {
                        if let Some(col) = shape.column(cc) {
                            if *cc != self.column || !tenant_scoped {
                                fixed
                                    .entry(cc.clone())
                                    .or_insert(format!("NULL::{}", col.data_type));
                            }
                        }
                    }
                }
                None => {
                    return Err(format!(
                        "its parent {} has no synthetic row ({})",
                        r.table,
                        self.failed
                            .get(&r.table)
                            .cloned()
                            .unwrap_or_else(|| "a cycle of required foreign keys".into())
                    ))
                }
            }
        }
        // The tenant column wins over anything a foreign key brought.
        if tenant_scoped {
            if let Some(col) = shape.column(&self.column) {
                fixed.insert(self.column.clone(), self.tenant_literal(t, &col.data_type));
            }
        }
        Ok(fixed)
    }

    fn setup(&mut self) -> Result<(), ProveError> {
        let order = self.order.clone();
        for tenant in [Tenant::A, Tenant::B, Tenant::Nobody] {
            for t in &order {
                let name = t.qualified_name();
                if tenant == Tenant::Nobody {
                    // Only tenant tables whose tenant column allows NULL.
                    let nullable = self.model.is_tenant(t)
                        && t.column(&self.column).is_some_and(|c| !c.not_null);
                    if !nullable {
                        continue;
                    }
                }
                if self.failed.contains_key(&name) {
                    continue;
                }
                let fixed = match self.fixed_values(t, tenant, &|_| tenant) {
                    Ok(f) => f,
                    Err(e) => {
                        self.failed.insert(name, e);
                        continue;
                    }
                };
                match self.synth.insert(self.client, t, &name, &fixed) {
                    Ok(row) => {
                        self.rows.insert((name, tenant), row);
                    }
                    Err(e) => {
                        if tenant != Tenant::Nobody {
                            self.failed
                                .insert(name, format!("could not synthesize a row: {e}"));
                        }
                    }
                }
            }
        }
        Ok(())
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
            let without =
                self.in_state(&[Tenant::A, Tenant::B, Tenant::Nobody], &matviews, |p| {
                    p.view_contents(&views, phase)
                })?;
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
        let without = self.in_state(&[Tenant::B, Tenant::Nobody], &matviews, |p| {
            p.view_contents(&views, Setting::A)
        })?;
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
        }

        // 4. SECURITY DEFINER functions.
        for (object, cell) in self.call_probes()? {
            set(&mut rows, &object, "call", cell);
        }
        Ok(rows.into_values().collect())
    }

    // --- plumbing -------------------------------------------------------------------------

    fn begin_probe(&mut self, role: &str, setting: Setting) -> Result<(), ProveError> {
        let mut sql = format!(
            "SAVEPOINT tenet_probe; SET LOCAL ROLE {};",
            quote::ident(role)
        );
        match setting {
            Setting::Missing => {}
            Setting::Empty => sql.push_str(&format!(
                " SELECT set_config({}, '', true);",
                quote::literal(&self.setting)
            )),
            Setting::A => sql.push_str(&format!(
                " SELECT set_config({}, {}, true);",
                quote::literal(&self.setting),
                quote::literal(&self.a)
            )),
        }
        self.client.batch_execute(&sql).map_err(db)
    }

    fn end_probe(&mut self) -> Result<(), ProveError> {
        self.client
            .batch_execute("ROLLBACK TO SAVEPOINT tenet_probe; RELEASE SAVEPOINT tenet_probe")
            .map_err(db)
    }

    /// Run `f` with the synthetic rows of `tenants` removed (and materialized views refreshed),
    /// then put everything back. The outer error is fatal; the inner one says the state could
    /// not be reached.
    fn in_state<T>(
        &mut self,
        tenants: &[Tenant],
        matviews: &[String],
        f: impl FnOnce(&mut Self) -> Result<T, ProveError>,
    ) -> Result<Result<T, String>, ProveError> {
        self.client
            .batch_execute("SAVEPOINT tenet_state")
            .map_err(db)?;
        // Only tenant data goes: rows planted in global tables are shared, not B's.
        let tenant_tables: BTreeSet<QualifiedName> = self
            .order
            .iter()
            .filter(|t| self.model.is_tenant(t))
            .map(|t| t.qualified_name())
            .collect();
        let removed = self.remove_rows(tenants, Some(&tenant_tables));
        let result = match removed {
            Err(e) => Ok(Err(e)),
            Ok(()) => match self.refresh(matviews) {
                Ok(()) => f(self).map(Ok),
                Err(e) => Ok(Err(e.to_string())),
            },
        };
        self.client
            .batch_execute("ROLLBACK TO SAVEPOINT tenet_state; RELEASE SAVEPOINT tenet_state")
            .map_err(db)?;
        result
    }

    fn refresh(&mut self, matviews: &[String]) -> Result<(), ProveError> {
        for m in matviews {
            self.client
                .batch_execute(&format!("REFRESH MATERIALIZED VIEW {m}"))
                .map_err(db)?;
        }
        Ok(())
    }

    /// Delete the synthetic rows of `tenants` (children first), optionally only in `only`.
    fn remove_rows(
        &mut self,
        tenants: &[Tenant],
        only: Option<&BTreeSet<QualifiedName>>,
    ) -> Result<(), String> {
        let mut sql = String::new();
        for t in self.order.iter().rev() {
            let name = t.qualified_name();
            if only.is_some_and(|o| !o.contains(&name)) {
                continue;
            }
            let rows: Vec<&Inserted> = tenants
                .iter()
                .filter_map(|x| self.rows.get(&(name.clone(), *x)))
                .collect();
            if rows.is_empty() {
                continue;
            }
            sql.push_str(&format!(
                "DELETE FROM {name} WHERE {};\n",
                row_filter(&rows)
            ));
        }
        if sql.is_empty() {
            return Ok(());
        }
        self.client.batch_execute(&sql).map_err(|e| describe(&e))
    }

    /// Synthetic rows of other tenants (B, and no tenant) stored in `t` or its children.
    fn foreign_rows(&self, t: &Table) -> Vec<&Inserted> {
        let oids = self.oids_under(t);
        self.rows
            .iter()
            .filter(|((_, tenant), row)| *tenant != Tenant::A && oids.contains(&row.tableoid))
            .map(|(_, r)| r)
            .collect()
    }

    fn own_rows(&self, t: &Table) -> Vec<&Inserted> {
        let oids = self.oids_under(t);
        self.rows
            .iter()
            .filter(|((_, tenant), row)| *tenant == Tenant::A && oids.contains(&row.tableoid))
            .map(|(_, r)| r)
            .collect()
    }

    /// The OIDs of `t` and every partition or child below it.
    fn oids_under(&self, t: &Table) -> BTreeSet<i64> {
        let mut names = BTreeSet::from([t.qualified_name()]);
        loop {
            let before = names.len();
            for c in &self.catalog.tables {
                let parents: Vec<&QualifiedName> = c
                    .partition_of
                    .iter()
                    .map(|p| &p.parent)
                    .chain(c.inherits.iter())
                    .collect();
                if parents.iter().any(|p| names.contains(*p)) {
                    names.insert(c.qualified_name());
                }
            }
            if names.len() == before {
                break;
            }
        }
        names
            .iter()
            .filter_map(|n| self.oids.get(n).copied())
            .collect()
    }

    /// The column holding the tenant of `t`'s rows (the tenant column, or a root's key).
    fn tenant_column(&self, t: &Table) -> Option<String> {
        if !self.model.is_tenant(t) {
            return None;
        }
        self.model.tenant_column(t).map(|c| c.name.clone())
    }

    /// Count, in the current role, rows of `t` that do not belong to A.
    fn count_foreign(&mut self, t: &Table) -> Result<i64, postgres::Error> {
        let name = t.qualified_name();
        let sql = if let Some(col) = self.tenant_column(t) {
            format!(
                "SELECT count(*) FROM {name} WHERE {} IS DISTINCT FROM {}",
                quote::ident(&col),
                self.tenant_literal(Tenant::A, &self.tenant_type)
            )
        } else {
            let rows = self.foreign_rows(t);
            if rows.is_empty() {
                return Ok(0);
            }
            format!("SELECT count(*) FROM {name} WHERE {}", row_filter(&rows))
        };
        Ok(self.client.query_one(sql.as_str(), &[])?.get(0))
    }

    // --- probes ---------------------------------------------------------------------------

    fn visible_without_tenant(&mut self, t: &Table, setting: Setting) -> Result<Cell, ProveError> {
        let name = t.qualified_name();
        self.begin_probe(&self.app.clone(), setting)?;
        let r = self
            .client
            .query_one(format!("SELECT count(*) FROM {name}").as_str(), &[]);
        self.end_probe()?;
        Ok(match r {
            Ok(row) => {
                let n: i64 = row.get(0);
                if n > 0 {
                    leak(format!("{n} row(s) visible with no tenant set"))
                } else {
                    pass("")
                }
            }
            Err(e) => denied_or(e, |e| pass(format!("fails closed with an error: {e}"))),
        })
    }

    fn read_as(&mut self, t: &Table, role: &str) -> Result<Cell, ProveError> {
        if self.failed.contains_key(&self.shape_of(t).qualified_name())
            && self.foreign_rows(t).is_empty()
        {
            return Ok(untested(self.failed_reason(t)));
        }
        self.begin_probe(role, Setting::A)?;
        let r = self.count_foreign(t);
        self.end_probe()?;
        Ok(match r {
            Ok(0) => pass(""),
            Ok(n) => leak(format!(
                "{n} row(s) of other tenants visible with tenant A's setting"
            )),
            Err(e) => denied_or(e, |e| untested(format!("the query failed: {e}"))),
        })
    }

    fn failed_reason(&self, t: &Table) -> String {
        self.failed
            .get(&self.shape_of(t).qualified_name())
            .cloned()
            .unwrap_or_else(|| "no synthetic rows of tenant B here".into())
    }

    /// Blind `UPDATE` as the app role: afterwards, are B's rows still as they were?
    fn update_probe(&mut self, t: &'a Table) -> Result<Cell, ProveError> {
        let foreign: Vec<Inserted> = self.foreign_rows(t).into_iter().cloned().collect();
        let own: Vec<Inserted> = self.own_rows(t).into_iter().cloned().collect();
        if foreign.is_empty() {
            return Ok(untested(self.failed_reason(t)));
        }
        let name = t.qualified_name();
        // Set the tenant column to A (a steal), or, without one, some column to A's value.
        let assignment = if let Some(tc) = self.tenant_column(t) {
            let ty = t
                .column(&tc)
                .map(|c| c.data_type.clone())
                .unwrap_or_default();
            format!(
                "{} = {}",
                quote::ident(&tc),
                self.tenant_literal(Tenant::A, &ty)
            )
        } else {
            let Some(col) = t
                .columns
                .iter()
                .find(|c| c.generated.is_none() && c.identity.is_none())
            else {
                return Ok(untested("no updatable column"));
            };
            let v = own
                .first()
                .or(foreign.first())
                .and_then(|r| r.values.get(&col.name).cloned().flatten());
            let lit = v.map_or("NULL".to_string(), |v| quote::literal(&v));
            format!("{} = {lit}::{}", quote::ident(&col.name), col.data_type)
        };
        let refs: Vec<&Inserted> = foreign.iter().collect();
        let check = format!("SELECT count(*) FROM {name} WHERE {}", row_filter(&refs));
        self.begin_probe(&self.app.clone(), Setting::A)?;
        let r = self
            .client
            .execute(format!("UPDATE {name} SET {assignment}").as_str(), &[]);
        let outcome = match r {
            Ok(_) => {
                self.client.batch_execute("RESET ROLE").map_err(db)?;
                let still: i64 = self
                    .client
                    .query_one(check.as_str(), &[])
                    .map_err(db)?
                    .get(0);
                Ok(refs.len() as i64 - still)
            }
            Err(e) => Err(e),
        };
        self.end_probe()?;
        Ok(match outcome {
            Ok(0) => pass(""),
            Ok(changed) => leak(format!(
                "a blind UPDATE with tenant A's setting changed {changed} row(s) of other tenants"
            )),
            Err(e) if is_denied(&e) => pass("denied: the app role may not update it"),
            Err(e) => {
                // Does the same update fail on A's own rows? Then it says nothing about B.
                let msg = describe(&e);
                let own_refs: Vec<&Inserted> = own.iter().collect();
                let sql = format!(
                    "UPDATE {name} SET {assignment} WHERE {}",
                    row_filter(&own_refs)
                );
                if !own_refs.is_empty() && self.succeeds(&sql)? {
                    leak(format!(
                        "a blind UPDATE with tenant A's setting reached rows of other tenants and failed on them: {msg}"
                    ))
                } else {
                    untested(format!(
                        "the update fails on tenant A's own rows too: {msg}"
                    ))
                }
            }
        })
    }

    /// Whether `sql` succeeds as the connecting role (in a savepoint, rolled back).
    fn succeeds(&mut self, sql: &str) -> Result<bool, ProveError> {
        self.client
            .batch_execute("SAVEPOINT tenet_probe")
            .map_err(db)?;
        let ok = self.client.execute(sql, &[]).is_ok();
        self.end_probe()?;
        Ok(ok)
    }

    /// Blind `DELETE` as the app role, after removing the synthetic rows that reference this
    /// table (so foreign keys do not get in the way).
    fn delete_probe(&mut self, t: &'a Table) -> Result<Cell, ProveError> {
        let foreign: Vec<Inserted> = self.foreign_rows(t).into_iter().cloned().collect();
        let own: Vec<Inserted> = self.own_rows(t).into_iter().cloned().collect();
        if foreign.is_empty() {
            return Ok(untested(self.failed_reason(t)));
        }
        let name = t.qualified_name();
        let dependents = self.dependents(&self.shape_of(t).qualified_name());
        let refs: Vec<&Inserted> = foreign.iter().collect();
        let check = format!("SELECT count(*) FROM {name} WHERE {}", row_filter(&refs));
        self.client
            .batch_execute("SAVEPOINT tenet_state")
            .map_err(db)?;
        let prepared = self.remove_rows(&[Tenant::A, Tenant::B, Tenant::Nobody], Some(&dependents));
        let cell = match prepared {
            Err(e) => untested(format!("could not clear the rows that reference it: {e}")),
            Ok(()) => {
                self.begin_probe(&self.app.clone(), Setting::A)?;
                let r = self
                    .client
                    .execute(format!("DELETE FROM {name}").as_str(), &[]);
                match r {
                    Ok(_) => {
                        self.client.batch_execute("RESET ROLE").map_err(db)?;
                        let still: i64 = self
                            .client
                            .query_one(check.as_str(), &[])
                            .map_err(db)?
                            .get(0);
                        self.end_probe()?;
                        let gone = refs.len() as i64 - still;
                        if gone > 0 {
                            leak(format!("a blind DELETE with tenant A's setting removed {gone} row(s) of other tenants"))
                        } else {
                            pass("")
                        }
                    }
                    Err(e) if is_denied(&e) => {
                        self.end_probe()?;
                        pass("denied: the app role may not delete from it")
                    }
                    Err(e) => {
                        let msg = describe(&e);
                        self.end_probe()?;
                        let own_refs: Vec<&Inserted> = own.iter().collect();
                        let sql = format!("DELETE FROM {name} WHERE {}", row_filter(&own_refs));
                        if !own_refs.is_empty() && self.succeeds(&sql)? {
                            leak(format!(
                                "a blind DELETE with tenant A's setting reached rows of other tenants and failed on them: {msg}"
                            ))
                        } else {
                            untested(format!(
                                "the delete fails on tenant A's own rows too: {msg}"
                            ))
                        }
                    }
                }
            }
        };
        self.client
            .batch_execute("ROLLBACK TO SAVEPOINT tenet_state; RELEASE SAVEPOINT tenet_state")
            .map_err(db)?;
        Ok(cell)
    }

    /// Tables whose rows reference `name`, directly or through others.
    fn dependents(&self, name: &QualifiedName) -> BTreeSet<QualifiedName> {
        let mut out = BTreeSet::new();
        let mut todo = vec![name.clone()];
        while let Some(n) = todo.pop() {
            for t in &self.order {
                let refers = t.constraints.iter().any(|c| {
                    c.kind == ConstraintKind::ForeignKey
                        && c.references.as_ref().is_some_and(|r| r.table == n)
                });
                if refers && out.insert(t.qualified_name()) {
                    todo.push(t.qualified_name());
                }
            }
        }
        out.remove(name);
        out
    }

    /// Make a fresh valid row (as the connecting role, then rolled back) to replay as the app.
    fn fresh_row(
        &mut self,
        t: &'a Table,
        tenant: Tenant,
        parent_tenant: &dyn Fn(&str) -> Tenant,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Result<Inserted, String>, ProveError> {
        let shape = self.shape_of(t);
        let mut fixed = match self.fixed_values(shape, tenant, parent_tenant) {
            Ok(f) => f,
            Err(e) => return Ok(Err(e)),
        };
        fixed.extend(overrides.clone());
        self.client
            .batch_execute("SAVEPOINT tenet_fresh")
            .map_err(db)?;
        let r = self
            .synth
            .insert(self.client, shape, &t.qualified_name(), &fixed);
        self.client
            .batch_execute("ROLLBACK TO SAVEPOINT tenet_fresh; RELEASE SAVEPOINT tenet_fresh")
            .map_err(db)?;
        Ok(r)
    }

    /// Replay a row's INSERT as the app role with A's setting.
    fn insert_as_app(
        &mut self,
        t: &Table,
        row: &Inserted,
    ) -> Result<Result<(), postgres::Error>, ProveError> {
        let sql = insert_sql(&t.qualified_name(), &row.supplied, row.overriding, None);
        self.begin_probe(&self.app.clone(), Setting::A)?;
        let r = self.client.execute(sql.as_str(), &[]).map(|_| ());
        self.end_probe()?;
        Ok(r)
    }

    fn insert_probe(&mut self, t: &'a Table) -> Result<Cell, ProveError> {
        let Some(tc) = self.tenant_column(t) else {
            return Ok(untested(format!(
                "no {} column: a row cannot belong to tenant B",
                self.column
            )));
        };
        // A tenant root already holds B's row: a new row there is a new tenant, C.
        let mut overrides = BTreeMap::new();
        if self.model.is_root(t) {
            let ty = t
                .column(&tc)
                .map(|c| c.data_type.clone())
                .unwrap_or_default();
            overrides.insert(tc, format!("{}::{ty}", quote::literal(&self.c)));
        }
        let row = match self.fresh_row(t, Tenant::B, &|_| Tenant::B, &overrides)? {
            Ok(r) => r,
            Err(e) => {
                return Ok(untested(format!(
                    "could not synthesize a row for tenant B: {e}"
                )))
            }
        };
        Ok(match self.insert_as_app(t, &row)? {
            Ok(()) => leak("inserted a row for tenant B with tenant A's setting"),
            Err(e) if is_rls_violation(&e) => pass(""),
            Err(e) => denied_or(e, |e| untested(format!("the insert failed: {e}"))),
        })
    }

    /// For each foreign key to a tenant table: an A row pointing at B's row.
    fn insert_ref_probe(&mut self, t: &'a Table) -> Result<Option<Cell>, ProveError> {
        let shape = self.shape_of(t);
        let fks: Vec<(String, QualifiedName)> = shape
            .constraints
            .iter()
            .filter(|c| c.kind == ConstraintKind::ForeignKey)
            .filter_map(|c| {
                let r = c.references.as_ref()?;
                let target = self.model.table(&r.table)?;
                // Only keys that carry something besides the tenant column.
                let other = c.columns.iter().any(|x| *x != self.column);
                (self.model.is_tenant(target) && other).then(|| (c.name.clone(), r.table.clone()))
            })
            .collect();
        if fks.is_empty() {
            return Ok(None);
        }
        let mut notes = Vec::new();
        let mut leaks = Vec::new();
        let mut tested = 0;
        for (fk, parent) in &fks {
            if !self.rows.contains_key(&(parent.clone(), Tenant::B)) {
                notes.push(format!("{fk}: tenant B has no row in {parent}"));
                continue;
            }
            let fk_name = fk.clone();
            let pick = move |name: &str| {
                if name == fk_name {
                    Tenant::B
                } else {
                    Tenant::A
                }
            };
            // Keep the tenant column A's; the key's other columns come from B's row.
            let row = match self.fresh_row(t, Tenant::A, &pick, &BTreeMap::new())? {
                Ok(r) => r,
                Err(e) if e.contains("violates foreign key constraint") => {
                    tested += 1;
                    notes.push(format!("{fk}: the foreign key refuses it"));
                    continue;
                }
                Err(e) => {
                    notes.push(format!("{fk}: could not synthesize: {e}"));
                    continue;
                }
            };
            tested += 1;
            match self.insert_as_app(t, &row)? {
                Ok(()) => leaks.push(format!(
                    "{fk}: an A row referencing tenant B's row in {parent} was accepted"
                )),
                Err(e) if is_rls_violation(&e) || is_fk_violation(&e) || is_denied(&e) => {}
                Err(e) => notes.push(format!("{fk}: {}", describe(&e))),
            }
        }
        Ok(Some(if !leaks.is_empty() {
            leak(leaks.join("; "))
        } else if tested == 0 {
            untested(notes.join("; "))
        } else {
            pass(notes.join("; "))
        }))
    }

    /// For each unique key: an A row with B's key values. A unique violation is an oracle.
    fn unique_probe(&mut self, t: &'a Table) -> Result<Option<Cell>, ProveError> {
        let shape = self.shape_of(t);
        // A tenant root's keys identify tenants across the system (a sign-in email).
        if self.model.is_root(shape) {
            return Ok(None);
        }
        let mut keys: Vec<(String, Vec<String>)> = shape
            .constraints
            .iter()
            .filter(|c| matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique))
            .map(|c| (c.name.clone(), c.columns.clone()))
            .collect();
        keys.extend(
            shape
                .indexes
                .iter()
                .filter(|i| i.unique && i.predicate.is_none())
                .filter(|i| i.columns.iter().all(|c| shape.column(c).is_some()))
                .map(|i| (i.name.clone(), i.columns.clone())),
        );
        keys.retain(|(_, cols)| cols.iter().any(|c| *c != self.column));
        if keys.is_empty() {
            return Ok(None);
        }
        let Some(b_row) = self.rows.get(&(shape.qualified_name(), Tenant::B)).cloned() else {
            return Ok(Some(untested(self.failed_reason(t))));
        };
        let mut leaks = Vec::new();
        let mut notes = Vec::new();
        for (key, cols) in &keys {
            let mut overrides = BTreeMap::new();
            for c in cols.iter().filter(|c| **c != self.column) {
                let Some(col) = shape.column(c) else { continue };
                let v = b_row.values.get(c).cloned().flatten();
                overrides.insert(
                    c.clone(),
                    match v {
                        Some(v) => format!("{}::{}", quote::literal(&v), col.data_type),
                        None => format!("NULL::{}", col.data_type),
                    },
                );
            }
            // Build a valid A row first, then put B's key values in.
            let mut row = match self.fresh_row(t, Tenant::A, &|_| Tenant::A, &BTreeMap::new())? {
                Ok(r) => r,
                Err(e) => {
                    notes.push(format!("{key}: could not synthesize: {e}"));
                    continue;
                }
            };
            for (c, v) in &overrides {
                match row.supplied.iter_mut().find(|(n, _)| n == c) {
                    Some(slot) => slot.1 = v.clone(),
                    None => row.supplied.push((c.clone(), v.clone())),
                }
                if shape
                    .column(c)
                    .and_then(|x| x.identity.as_ref())
                    .is_some_and(|i| i.generation == "always")
                {
                    row.overriding = true;
                }
            }
            match self.insert_as_app(t, &row)? {
                Err(e) if e.as_db_error().is_some_and(|d| d.code().code() == "23505") => leaks.push(format!(
                    "{key} ({}): inserting tenant B's values as tenant A fails with a unique violation, telling A that B holds them",
                    cols.join(", ")
                )),
                Ok(()) => {}
                Err(e) if is_rls_violation(&e) || is_denied(&e) => {}
                Err(e) => notes.push(format!("{key}: {}", describe(&e))),
            }
        }
        Ok(Some(if !leaks.is_empty() {
            leak(leaks.join("; "))
        } else {
            pass(notes.join("; "))
        }))
    }

    /// Can the app role switch row-level security off (as owner) or become a role that sees
    /// other tenants?
    fn escalate_probe(&mut self, t: &'a Table, roles: &[String]) -> Result<Cell, ProveError> {
        let name = t.qualified_name();
        let mut leaks = Vec::new();
        for role in std::iter::once(self.app.clone()).chain(roles.iter().cloned()) {
            // Becoming the role is itself the escalation for roles other than the app.
            if role != self.app {
                self.begin_probe(&role, Setting::A)?;
                let r = self.count_foreign(t);
                self.end_probe()?;
                if let Ok(n) = r {
                    if n > 0 {
                        leaks.push(format!("the app role can SET ROLE {role}, which sees {n} row(s) of other tenants"));
                        continue;
                    }
                }
            }
            self.begin_probe(&role, Setting::A)?;
            let off = self
                .client
                .batch_execute(&format!("ALTER TABLE {name} DISABLE ROW LEVEL SECURITY"));
            let seen = match off {
                Ok(()) => Some(self.count_foreign(t)),
                Err(_) => None,
            };
            self.end_probe()?;
            if let Some(seen) = seen {
                let via = if role == self.app {
                    "the app role".to_string()
                } else {
                    format!("role {role}, which the app role can become,")
                };
                let n = seen.map(|n| n.to_string()).unwrap_or_else(|e| describe(&e));
                leaks.push(format!(
                    "{via} can disable row-level security on it (it owns the table) and then sees {n} row(s) of other tenants"
                ));
            }
        }
        Ok(if leaks.is_empty() {
            pass("")
        } else {
            leak(leaks.join("; "))
        })
    }

    /// The table owner with A's setting: it must not see other tenants (forced RLS).
    /// (Not applicable to an owner that bypasses row-level security anyway.)
    fn owner_probe(&mut self, t: &'a Table) -> Result<Option<Cell>, ProveError> {
        let owner = t.owner.clone();
        let r = self
            .client
            .query_one(
                "select rolsuper or rolbypassrls from pg_roles where rolname = $1",
                &[&owner],
            )
            .map_err(db)?;
        if r.get::<_, bool>(0) {
            return Ok(None);
        }
        if self.foreign_rows(t).is_empty() && self.tenant_column(t).is_none() {
            return Ok(Some(untested(self.failed_reason(t))));
        }
        self.begin_probe(&owner, Setting::A)?;
        let r = self.count_foreign(t);
        self.end_probe()?;
        Ok(Some(match r {
            Ok(0) => pass(""),
            Ok(n) => leak(format!(
                "owner {owner} sees {n} row(s) of other tenants with tenant A's setting (row-level security is not forced)"
            )),
            Err(e) => untested(format!("the query failed: {}", describe(&e))),
        }))
    }

    /// Contents (hash) of each view as the app role, or the error text.
    fn view_contents(
        &mut self,
        views: &[&tenet_catalog::View],
        setting: Setting,
    ) -> Result<Vec<Result<String, String>>, ProveError> {
        let mut out = Vec::new();
        for v in views {
            let name = QualifiedName::new(&v.schema, &v.name);
            self.begin_probe(&self.app.clone(), setting)?;
            let r = self
                .client
                .query_one(
                    format!(
                        "SELECT md5(coalesce(string_agg(r::text, ',' ORDER BY r::text), '')) || '/' || count(*) FROM {name} r"
                    )
                    .as_str(),
                    &[],
                )
                .map(|r| r.get::<_, String>(0))
                .map_err(|e| {
                    if is_denied(&e) {
                        "denied".to_string()
                    } else {
                        describe(&e)
                    }
                });
            self.end_probe()?;
            out.push(r);
        }
        Ok(out)
    }

    /// A hash of every synthetic row of B (as the connecting role).
    fn b_state(&mut self) -> Result<String, ProveError> {
        let mut parts = Vec::new();
        for t in self.order.iter().filter(|t| self.model.is_tenant(t)) {
            let name = t.qualified_name();
            let filter = if let Some(tc) = self.tenant_column(t) {
                format!(
                    "{} = {}",
                    quote::ident(&tc),
                    self.tenant_literal(Tenant::B, &self.tenant_type)
                )
            } else {
                match self.rows.get(&(name.clone(), Tenant::B)) {
                    Some(r) => row_filter(&[r]),
                    None => continue,
                }
            };
            parts.push(format!(
                "(SELECT string_agg(r::text, ',' ORDER BY r::text) FROM {name} r WHERE {filter})"
            ));
        }
        if parts.is_empty() {
            return Ok(String::new());
        }
        let sql = format!("SELECT md5(concat_ws('|', {}))", parts.join(", "));
        Ok(self.client.query_one(sql.as_str(), &[]).map_err(db)?.get(0))
    }

    fn call_probes(&mut self) -> Result<Vec<(String, Cell)>, ProveError> {
        let functions = self
            .client
            .query(
                "select quote_ident(n.nspname) || '.' || quote_ident(p.proname), \
                 quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')', p.prokind::text, \
                 array(select format_type(a, null) from unnest(p.proargtypes::oid[]) a)::text[] \
                 from pg_proc p join pg_namespace n on n.oid = p.pronamespace \
                 where p.prosecdef and has_function_privilege($1, p.oid, 'EXECUTE') \
                 and n.nspname not in ('pg_catalog', 'information_schema', 'tenet') and n.nspname !~ '^pg_' \
                 and p.prorettype not in ('trigger'::regtype, 'event_trigger'::regtype) \
                 and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e') \
                 order by 2",
                &[&self.app],
            )
            .map_err(db)?;
        let mut out = Vec::new();
        if functions.is_empty() {
            return Ok(out);
        }
        // Values of tenant B by type, to pass as arguments.
        let mut b_values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        b_values
            .entry(self.tenant_type.clone())
            .or_default()
            .push(self.b.clone());
        for ((name, tenant), row) in &self.rows {
            if *tenant != Tenant::B {
                continue;
            }
            let Some(t) = self.model.table(name) else {
                continue;
            };
            for c in &t.columns {
                if let Some(Some(v)) = row.values.get(&c.name) {
                    let list = b_values.entry(c.data_type.clone()).or_default();
                    if !list.contains(v) && list.len() < 4 {
                        list.push(v.clone());
                    }
                }
            }
        }
        let before = self.b_state()?;
        struct Call {
            object: String,
            sql: Vec<String>,
            skip: Option<String>,
        }
        let mut calls = Vec::new();
        for f in &functions {
            let (name, signature, kind, args): (String, String, String, Vec<String>) =
                (f.get(0), f.get(1), f.get(2), f.get(3));
            let object = format!("function {signature}");
            if kind == "p" {
                calls.push(Call {
                    object,
                    sql: vec![],
                    skip: Some("a procedure: not called".to_string()),
                });
                continue;
            }
            let mut per_arg: Vec<Vec<String>> = Vec::new();
            let mut unknown = None;
            for ty in &args {
                let mut cands: Vec<String> = b_values
                    .get(ty)
                    .map(|vs| {
                        vs.iter()
                            .map(|v| format!("{}::{ty}", quote::literal(v)))
                            .collect()
                    })
                    .unwrap_or_default();
                cands.extend(generic_args(ty));
                if cands.is_empty() {
                    unknown = Some(ty.clone());
                    break;
                }
                per_arg.push(cands);
            }
            if let Some(ty) = unknown {
                calls.push(Call {
                    object,
                    sql: vec![],
                    skip: Some(format!("cannot make up an argument of type {ty}")),
                });
                continue;
            }
            // The first candidate of every argument, then each argument through its others.
            let mut combos: Vec<Vec<String>> = vec![per_arg.iter().map(|c| c[0].clone()).collect()];
            for (i, cands) in per_arg.iter().enumerate() {
                for c in cands.iter().skip(1) {
                    let mut combo: Vec<String> = per_arg.iter().map(|c| c[0].clone()).collect();
                    combo[i] = c.clone();
                    combos.push(combo);
                }
            }
            combos.truncate(12);
            let sql = combos
                .iter()
                .map(|combo| {
                    format!(
                        "SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) || '/' || count(*) FROM (SELECT {name}({}) AS x) s",
                        combo.join(", ")
                    )
                })
                .collect();
            calls.push(Call {
                object,
                sql,
                skip: None,
            });
        }
        // With B's rows: results, and whether B's rows changed.
        let mut with: Vec<Vec<Result<String, String>>> = Vec::new();
        let mut writes: Vec<Option<String>> = Vec::new();
        for c in &calls {
            let mut results = Vec::new();
            let mut wrote = None;
            for sql in &c.sql {
                self.begin_probe(&self.app.clone(), Setting::A)?;
                let r = self
                    .client
                    .query_one(sql.as_str(), &[])
                    .map(|r| r.get::<_, String>(0))
                    .map_err(|e| describe(&e));
                if r.is_ok() {
                    self.client.batch_execute("RESET ROLE").map_err(db)?;
                    if self.b_state()? != before && wrote.is_none() {
                        wrote = Some(sql.clone());
                    }
                }
                self.end_probe()?;
                results.push(r);
            }
            with.push(results);
            writes.push(wrote);
        }
        let without = self.in_state(&[Tenant::B, Tenant::Nobody], &[], |p| {
            let mut all = Vec::new();
            for c in &calls {
                let mut results = Vec::new();
                for sql in &c.sql {
                    p.begin_probe(&p.app.clone(), Setting::A)?;
                    let r = p
                        .client
                        .query_one(sql.as_str(), &[])
                        .map(|r| r.get::<_, String>(0))
                        .map_err(|e| describe(&e));
                    p.end_probe()?;
                    results.push(r);
                }
                all.push(results);
            }
            Ok(all)
        })?;
        for (i, c) in calls.iter().enumerate() {
            if let Some(reason) = &c.skip {
                out.push((c.object.clone(), untested(reason.clone())));
                continue;
            }
            let cell = if let Some(sql) = &writes[i] {
                leak(format!(
                    "changes tenant B's rows when tenant A calls it: {}",
                    call_text(sql)
                ))
            } else {
                match &without {
                    Err(e) => untested(format!("could not remove tenant B's rows: {e}")),
                    Ok(without) => {
                        let mut cell = None;
                        let mut ok = 0;
                        for (j, sql) in c.sql.iter().enumerate() {
                            match (&with[i][j], &without[i][j]) {
                                (Ok(x), Ok(y)) if x == y => ok += 1,
                                // Failing only while B's rows exist tells nothing certain.
                                (Err(_), _) => {}
                                _ => {
                                    cell = Some(leak(format!(
                                        "returns tenant B's data to tenant A: the result of {} changes when B's rows are removed",
                                        call_text(sql)
                                    )));
                                    break;
                                }
                            }
                        }
                        cell.unwrap_or_else(|| {
                            if ok > 0 {
                                pass("")
                            } else {
                                let e = with[i]
                                    .iter()
                                    .find_map(|r| r.as_ref().err())
                                    .cloned()
                                    .unwrap_or_default();
                                untested(format!("every call failed: {e}"))
                            }
                        })
                    }
                }
            };
            out.push((c.object.clone(), cell));
        }
        Ok(out)
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

/// `SELECT f(args)` out of a probe query, for messages.
fn call_text(sql: &str) -> String {
    sql.split("FROM (SELECT ")
        .nth(1)
        .and_then(|s| s.rsplit_once(" AS x)"))
        .map(|(c, _)| c.to_string())
        .unwrap_or_else(|| sql.to_string())
}

fn generic_args(ty: &str) -> Vec<String> {
    let v: &[&str] = match ty.split('(').next().unwrap_or("").trim() {
        "smallint" | "integer" | "bigint" | "numeric" | "real" | "double precision" => &["1", "0"],
        "text" | "character varying" | "character" | "citext" => &["'a'"],
        "boolean" => &["true", "false"],
        "uuid" => &["gen_random_uuid()"],
        "date" => &["CURRENT_DATE"],
        "timestamp with time zone" | "timestamp without time zone" => &["now()"],
        "json" | "jsonb" => &["'{}'"],
        _ => &[],
    };
    v.iter().map(|s| format!("{s}::{ty}")).collect()
}

fn resolve_domain(catalog: &Catalog, ty: &str) -> String {
    let mut ty = ty.to_string();
    for _ in 0..4 {
        match catalog
            .types
            .iter()
            .find(|t| QualifiedName::new(&t.schema, &t.name).to_string() == ty)
            .map(|t| &t.kind)
        {
            Some(tenet_catalog::TypeKind::Domain { base, .. }) => ty = base.clone(),
            _ => break,
        }
    }
    ty
}

/// `(tableoid = .. AND ctid = ..) OR ...` for a set of rows.
fn row_filter(rows: &[&Inserted]) -> String {
    if rows.is_empty() {
        return "false".into();
    }
    rows.iter()
        .map(|r| {
            format!(
                "(tableoid = {}::oid AND ctid = {}::tid)",
                r.tableoid,
                quote::literal(&r.ctid)
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// The view's content with the synthetic rows and without them. An error is not a leak: with
/// no tenant set, a policy that casts the empty setting errors as soon as there are rows to
/// filter (fails closed); with a tenant set, it means the view could not be read.
fn compare_contents(
    with: &Result<String, String>,
    without: &Result<String, String>,
    what: &str,
    tenant_set: bool,
) -> Cell {
    match (with, without) {
        (Err(e), _) if e == "denied" => pass("denied: the app role may not read it"),
        (Ok(a), Ok(b)) if a == b => pass(""),
        (Ok(_), Ok(_)) => leak(format!(
            "its content changes when the synthetic rows are removed: {what}"
        )),
        (Err(e), _) if !tenant_set => pass(format!("fails closed with an error: {e}")),
        (Err(e), _) => untested(format!("reading it fails: {e}")),
        (Ok(_), Err(e)) => untested(format!("reading it fails without the synthetic rows: {e}")),
    }
}

fn pass(detail: impl Into<String>) -> Cell {
    Cell {
        status: Status::Pass,
        detail: detail.into(),
    }
}

fn leak(detail: impl Into<String>) -> Cell {
    Cell {
        status: Status::Leak,
        detail: detail.into(),
    }
}

fn untested(detail: impl Into<String>) -> Cell {
    Cell {
        status: Status::Untested,
        detail: detail.into(),
    }
}

fn is_denied(e: &postgres::Error) -> bool {
    e.as_db_error()
        .is_some_and(|d| d.code().code() == "42501" && d.message().starts_with("permission denied"))
}

fn is_rls_violation(e: &postgres::Error) -> bool {
    e.as_db_error()
        .is_some_and(|d| d.code().code() == "42501" && d.message().contains("row-level security"))
}

fn is_fk_violation(e: &postgres::Error) -> bool {
    e.as_db_error().is_some_and(|d| d.code().code() == "23503")
}

/// A permission error is a pass (the app cannot do it at all); anything else goes to `other`.
fn denied_or(e: postgres::Error, other: impl FnOnce(String) -> Cell) -> Cell {
    if is_denied(&e) {
        pass("denied: the app role has no privilege for it")
    } else {
        other(describe(&e))
    }
}

/// Sequences in user schemas and where they stand.
fn sequence_states(client: &mut Client) -> Result<Vec<(String, i64, bool)>, postgres::Error> {
    let names: Vec<String> = client
        .query(
            "select quote_ident(n.nspname) || '.' || quote_ident(c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace \
             where c.relkind = 'S' and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_' order by 1",
            &[],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let sql = names
        .iter()
        .map(|n| {
            format!(
                "select {}::text, last_value, is_called from {n}",
                quote::literal(n)
            )
        })
        .collect::<Vec<_>>()
        .join(" union all ");
    Ok(client
        .query(sql.as_str(), &[])?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// Put sequences back where they were, unless someone else used them meanwhile (then their
/// value is theirs: never rewind past a value another session may hold).
fn restore_sequences(client: &mut Client, before: &[(String, i64, bool)]) {
    let Ok(after) = sequence_states(client) else {
        return;
    };
    for (name, last, called) in before {
        let Some((_, now, _)) = after.iter().find(|(n, ..)| n == name) else {
            continue;
        };
        if now == last {
            continue;
        }
        // Compare-and-set: only when the sequence still stands where the proof left it.
        let _ = client.execute(
            format!(
                "select setval({}, $1, $2) from {name} where last_value = $3",
                quote::literal(name)
            )
            .as_str(),
            &[last, called, now],
        );
    }
}

/// The matrix for a person: one line per object, one column per probe (`-` where a probe does
/// not apply), then what leaked and what could not be tested, and why.
pub fn to_human(report: &Report) -> String {
    let mut out = format!(
        "tenet prove: app role {}, tenant A = {}, tenant B = {}\n\n",
        report.app_role, report.tenant_a, report.tenant_b
    );
    let width = report
        .objects
        .iter()
        .map(|r| r.object.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    out.push_str(&format!("{:width$}", "object"));
    for p in PROBES {
        out.push_str(&format!("  {p:<w$}", w = p.len().max(8)));
    }
    out.push('\n');
    for row in &report.objects {
        out.push_str(&format!("{:width$}", row.object));
        for p in PROBES {
            let mark = match row.probes.get(p) {
                None => "-",
                Some(c) if c.status == Status::Pass && c.detail.starts_with("denied") => "denied",
                Some(c) => match c.status {
                    Status::Pass => "pass",
                    Status::Leak => "LEAK",
                    Status::Untested => "untested",
                },
            };
            out.push_str(&format!("  {mark:<w$}", w = p.len().max(8)));
        }
        out.push('\n');
    }
    let mut notes = String::new();
    for status in [Status::Leak, Status::Untested] {
        for row in &report.objects {
            for p in PROBES {
                if let Some(c) = row.probes.get(p).filter(|c| c.status == status) {
                    let label = if status == Status::Leak {
                        "LEAK"
                    } else {
                        "untested"
                    };
                    notes.push_str(&format!("{label} {} [{p}]: {}\n", row.object, c.detail));
                }
            }
        }
    }
    if !notes.is_empty() {
        out.push('\n');
        out.push_str(&notes);
    }
    out.push_str(&format!(
        "\n{} objects: {} pass, {} LEAK, {} untested ({} ms, rolled back)\n",
        report.objects.len(),
        report.passed,
        report.leaks,
        report.untested,
        report.elapsed_ms
    ));
    out
}
