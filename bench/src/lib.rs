//! Benchmarks that time Tenet against the peer tools it replaces.
//!
//! This library holds what the benchmark binaries share: a generator of realistic multi-tenant
//! schemas ([`Schema::generate`]), deterministic for a given size and seed, and a way to derive a
//! second copy with a given share of its objects changed ([`Schema::mutate`]) for diff and plan
//! benchmarks.
//!
//! A generated schema looks like a large SaaS database: a global `app.tenants` table; tables
//! spread over four schemas, each with a `tenant_id` column, an identity `id`, a primary key
//! `(tenant_id, id)`, 5 to 10 columns of varied types (text, varchar, numeric, boolean,
//! timestamptz, date, jsonb, uuid, arrays, inet, interval, an enum, a domain), foreign keys to
//! earlier tables that include the tenant column, indexes led by the tenant column (some
//! partial, some GIN), check and unique constraints, comments, row-level security enabled and
//! forced with a tenant policy, `updated_at` triggers; and one view and one function per 20
//! tables.
//!
//! ```
//! let schema = tenet_bench::Schema::generate(40, tenet_bench::DEFAULT_SEED);
//! let sql = schema.to_sql();
//! assert!(sql.contains("ENABLE ROW LEVEL SECURITY"));
//! let (changed, changes) = schema.mutate(5.0, 7);
//! assert!(!changes.is_empty());
//! assert_ne!(changed.to_sql(), sql);
//! ```

pub mod measure;

use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The number of tables the benchmarks use unless told otherwise.
pub const DEFAULT_TABLES: usize = 2_000;
/// The seed the benchmarks use unless told otherwise.
pub const DEFAULT_SEED: u64 = 0x7e4e_7be4;

/// The schemas tenant tables are spread over (`app` also holds `tenants`).
pub const SCHEMAS: [&str; 4] = ["app", "billing", "crm", "ops"];

/// A small deterministic pseudo-random generator (SplitMix64): good enough to vary a schema,
/// and the same sequence on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// What a column is for; only `Plain` columns that nothing else uses may be dropped or retyped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnRole {
    Tenant,
    Id,
    ForeignKey,
    Plain,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// The type as written in DDL (`numeric(12,2)`, `app.record_status`, ...).
    pub ty: String,
    pub not_null: bool,
    /// A default expression, or `GENERATED ALWAYS AS IDENTITY` for `id`.
    pub default: Option<String>,
    pub comment: Option<String>,
    pub role: ColumnRole,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub name: String,
    /// The referencing column besides `tenant_id`.
    pub column: String,
    /// The referenced table, always created earlier; referenced through `(tenant_id, id)`.
    pub ref_schema: String,
    pub ref_table: String,
    /// `CASCADE`, `RESTRICT`, or `SET NULL (col)` (PostgreSQL 15's column list keeps
    /// `tenant_id`).
    pub on_delete: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    /// `USING gin` and the like, or empty for btree.
    pub method: Option<String>,
    /// The parenthesized key list, without the parentheses (`tenant_id, created_at DESC`).
    pub keys: String,
    pub predicate: Option<String>,
    /// Columns the index uses (besides `tenant_id`), so mutations leave them alone.
    pub uses: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub expr: String,
    pub uses: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub columns: Vec<Column>,
    /// `UNIQUE (tenant_id, col)` constraints: (constraint name, column).
    pub uniques: Vec<(String, String)>,
    pub checks: Vec<Check>,
    pub foreign_keys: Vec<ForeignKey>,
    pub indexes: Vec<Index>,
    pub comment: String,
    /// Row-level security enabled and forced, with a tenant policy.
    pub rls: bool,
    /// A `BEFORE UPDATE` trigger that keeps `updated_at`.
    pub touch_trigger: bool,
}

impl Table {
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Columns used by a constraint, an index or a trigger of this table.
    fn used_columns(&self) -> BTreeSet<String> {
        let mut used = BTreeSet::new();
        for (_, col) in &self.uniques {
            used.insert(col.clone());
        }
        for c in &self.checks {
            used.extend(c.uses.iter().cloned());
        }
        for i in &self.indexes {
            used.extend(i.uses.iter().cloned());
        }
        for fk in &self.foreign_keys {
            used.insert(fk.column.clone());
        }
        if self.touch_trigger {
            used.insert("updated_at".to_owned());
        }
        used.insert("created_at".to_owned());
        used
    }
}

/// A view over one table joined to a table it references; `security_invoker`, so the
/// tenant policies of the underlying tables apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub schema: String,
    pub name: String,
    pub body: String,
    pub comment: String,
    /// (schema, table, column) triples the view reads, so mutations leave them alone.
    pub uses: Vec<(String, String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub schema: String,
    pub name: String,
    /// Everything after the name: arguments, return type, attributes and body.
    pub definition: String,
    /// The argument types, for `COMMENT ON FUNCTION`.
    pub signature: String,
    pub comment: String,
    /// Tables the body names (schema, table).
    pub uses: Vec<(String, String)>,
}

/// A generated schema. Render it with [`Schema::to_sql`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    pub tables: Vec<Table>,
    pub views: Vec<View>,
    pub functions: Vec<Function>,
    /// Next suffix for tables added by [`Schema::mutate`].
    next_table: usize,
}

const NOUNS: &[&str] = &[
    "accounts",
    "invoices",
    "invoice_lines",
    "payments",
    "subscriptions",
    "contacts",
    "leads",
    "opportunities",
    "tickets",
    "comments",
    "attachments",
    "projects",
    "tasks",
    "milestones",
    "shipments",
    "orders",
    "order_items",
    "products",
    "warehouses",
    "stock_moves",
    "employees",
    "timesheets",
    "expenses",
    "campaigns",
    "events",
    "webhooks",
    "api_keys",
    "audit_entries",
    "documents",
    "folders",
    "notes",
    "labels",
    "assets",
    "contracts",
    "vendors",
    "purchase_orders",
    "refunds",
    "coupons",
    "notifications",
    "sessions",
];

/// Plain columns: name, type (`{s}` is the table's schema), NOT NULL, default, check.
struct ColumnKind {
    name: &'static str,
    ty: &'static str,
    not_null: bool,
    default: Option<&'static str>,
    check: Option<&'static str>,
}

const fn kind(
    name: &'static str,
    ty: &'static str,
    not_null: bool,
    default: Option<&'static str>,
    check: Option<&'static str>,
) -> ColumnKind {
    ColumnKind {
        name,
        ty,
        not_null,
        default,
        check,
    }
}

const COLUMN_KINDS: &[ColumnKind] = &[
    kind(
        "name",
        "text",
        true,
        None,
        Some("char_length(name) BETWEEN 1 AND 200"),
    ),
    kind("title", "varchar(200)", true, None, None),
    kind("code", "varchar(32)", true, None, None),
    kind("description", "text", false, None, None),
    kind(
        "amount",
        "numeric(12,2)",
        true,
        Some("0"),
        Some("amount >= 0"),
    ),
    kind("quantity", "integer", true, Some("1"), Some("quantity > 0")),
    kind("priority", "smallint", true, Some("0"), None),
    kind("score", "double precision", false, None, None),
    kind("is_active", "boolean", true, Some("true"), None),
    kind("is_archived", "boolean", true, Some("false"), None),
    kind("starts_on", "date", false, None, None),
    kind("due_at", "timestamptz", false, None, None),
    kind("metadata", "jsonb", true, Some("'{}'::jsonb"), None),
    kind(
        "external_id",
        "uuid",
        false,
        Some("gen_random_uuid()"),
        None,
    ),
    kind("labels", "text[]", true, Some("'{}'::text[]"), None),
    kind("ip_address", "inet", false, None, None),
    kind("email", "app.email_address", false, None, None),
    kind("phone", "varchar(32)", false, None, None),
    kind("status", "{s}.record_status", true, Some("'active'"), None),
    kind("sequence_no", "bigint", false, None, None),
    kind("deleted_at", "timestamptz", false, None, None),
    kind("notes", "text", false, None, None),
    kind(
        "currency",
        "char(3)",
        true,
        Some("'USD'"),
        Some("currency ~ '^[A-Z]{3}$'"),
    ),
    kind("rate", "numeric(8,4)", false, None, None),
    kind("duration", "interval", false, None, None),
    kind("retries", "integer", true, Some("0"), None),
];

/// The policy every tenant table carries: the tenant setting read once per statement (an init
/// plan), and no rows when it is missing.
const TENANT_PREDICATE: &str =
    "tenant_id = (SELECT current_setting('app.tenant_id', true))::bigint";

impl Schema {
    /// A schema of `tables` tenant tables (plus `app.tenants`), the same for the same arguments.
    pub fn generate(tables: usize, seed: u64) -> Schema {
        let mut rng = Rng::new(seed);
        let mut schema = Schema {
            tables: Vec::with_capacity(tables),
            views: Vec::new(),
            functions: Vec::new(),
            next_table: 0,
        };
        for _ in 0..tables {
            let table = schema.new_table(&mut rng);
            schema.tables.push(table);
            let n = schema.tables.len();
            // One view and one function per 20 tables.
            match n % 20 {
                10 => {
                    let view = schema.new_view(n - 1, &mut rng);
                    schema.views.push(view);
                }
                0 => {
                    let function = schema.new_function(n - 1, &mut rng);
                    schema.functions.push(function);
                }
                _ => {}
            }
        }
        schema
    }

    /// Tables, views and functions (not counting `app.tenants` and the fixed types and trigger
    /// functions).
    pub fn object_count(&self) -> usize {
        self.tables.len() + self.views.len() + self.functions.len()
    }

    fn new_table(&mut self, rng: &mut Rng) -> Table {
        let i = self.next_table;
        self.next_table += 1;
        let schema = (*rng.pick(&SCHEMAS)).to_owned();
        let noun = *rng.pick(NOUNS);
        let name = format!("{noun}_{i:04}");
        let mut table = Table {
            schema: schema.clone(),
            name: name.clone(),
            columns: vec![
                Column {
                    name: "tenant_id".into(),
                    ty: "bigint".into(),
                    not_null: true,
                    default: None,
                    comment: Some("Owning tenant; every query is scoped by it.".into()),
                    role: ColumnRole::Tenant,
                },
                Column {
                    name: "id".into(),
                    ty: "bigint".into(),
                    not_null: true,
                    default: Some("GENERATED ALWAYS AS IDENTITY".into()),
                    comment: None,
                    role: ColumnRole::Id,
                },
            ],
            uniques: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            comment: format!(
                "{} of a tenant ({}).",
                capitalize(&noun.replace('_', " ")),
                schema
            ),
            rls: true,
            touch_trigger: false,
        };

        // Foreign keys to one or two earlier tables, through (tenant_id, <parent>_id).
        let parents = match self.tables.len() {
            0 => 0,
            1 => 1,
            _ => rng.between(0, 2),
        };
        let mut chosen = BTreeSet::new();
        for _ in 0..parents {
            // Lean towards recent tables, as related tables are usually created together.
            let n = self.tables.len();
            let p = if rng.chance(60) {
                n - 1 - rng.below(n.min(40))
            } else {
                rng.below(n)
            };
            if !chosen.insert(p) {
                continue;
            }
            let parent = &self.tables[p];
            let column = format!("{}_id", parent.name);
            let nullable = rng.chance(30);
            let on_delete = if nullable {
                format!("SET NULL ({column})")
            } else if rng.chance(50) {
                "CASCADE".to_owned()
            } else {
                "RESTRICT".to_owned()
            };
            table.columns.push(Column {
                name: column.clone(),
                ty: "bigint".into(),
                not_null: !nullable,
                default: None,
                comment: None,
                role: ColumnRole::ForeignKey,
            });
            table.foreign_keys.push(ForeignKey {
                name: format!("{name}_{column}_fkey"),
                column: column.clone(),
                ref_schema: parent.schema.clone(),
                ref_table: parent.name.clone(),
                on_delete,
            });
            table.indexes.push(Index {
                name: format!("{name}_{column}_idx"),
                unique: false,
                method: None,
                keys: format!("tenant_id, {column}"),
                predicate: None,
                uses: vec![column],
            });
        }

        // 3 to 7 plain columns, plus id, tenant_id and created_at: 6 to 10 before foreign keys.
        let extra = rng.between(3, 7);
        let mut kinds: Vec<usize> = Vec::new();
        while kinds.len() < extra {
            let k = rng.below(COLUMN_KINDS.len());
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        kinds.sort_unstable();
        for k in kinds {
            let kind = &COLUMN_KINDS[k];
            let column = Column {
                name: kind.name.to_owned(),
                ty: kind.ty.replace("{s}", &schema),
                not_null: kind.not_null,
                default: kind.default.map(str::to_owned),
                comment: if rng.chance(25) {
                    Some(format!(
                        "{} of the {}.",
                        capitalize(&kind.name.replace('_', " ")),
                        singular(noun)
                    ))
                } else {
                    None
                },
                role: ColumnRole::Plain,
            };
            if let Some(expr) = kind.check {
                table.checks.push(Check {
                    name: format!("{name}_{}_check", kind.name),
                    expr: expr.to_owned(),
                    uses: vec![kind.name.to_owned()],
                });
            }
            match kind.name {
                "code" => table
                    .uniques
                    .push((format!("{name}_tenant_id_code_key"), "code".into())),
                "deleted_at" => table.indexes.push(Index {
                    name: format!("{name}_live_idx"),
                    unique: false,
                    method: None,
                    keys: "tenant_id, id".into(),
                    predicate: Some("deleted_at IS NULL".into()),
                    uses: vec!["deleted_at".into()],
                }),
                "metadata" if rng.chance(50) => table.indexes.push(Index {
                    name: format!("{name}_metadata_idx"),
                    unique: false,
                    method: Some("gin".into()),
                    keys: "metadata jsonb_path_ops".into(),
                    predicate: None,
                    uses: vec!["metadata".into()],
                }),
                "external_id" => table.indexes.push(Index {
                    name: format!("{name}_tenant_id_external_id_idx"),
                    unique: true,
                    method: None,
                    keys: "tenant_id, external_id".into(),
                    predicate: Some("external_id IS NOT NULL".into()),
                    uses: vec!["external_id".into()],
                }),
                _ => {}
            }
            table.columns.push(column);
        }

        table.columns.push(Column {
            name: "created_at".into(),
            ty: "timestamptz".into(),
            not_null: true,
            default: Some("now()".into()),
            comment: None,
            role: ColumnRole::Plain,
        });
        if rng.chance(30) {
            table.columns.push(Column {
                name: "updated_at".into(),
                ty: "timestamptz".into(),
                not_null: true,
                default: Some("now()".into()),
                comment: Some("Time of the last change, kept by a trigger.".into()),
                role: ColumnRole::Plain,
            });
            table.touch_trigger = true;
        }
        if rng.chance(50) {
            table.indexes.push(Index {
                name: format!("{name}_tenant_id_created_at_idx"),
                unique: false,
                method: None,
                keys: "tenant_id, created_at DESC".into(),
                predicate: None,
                uses: vec!["created_at".into()],
            });
        }
        table
    }

    /// A view over table `t`, joined to its first parent when it has one.
    fn new_view(&self, t: usize, rng: &mut Rng) -> View {
        let table = &self.tables[t];
        let mut uses = Vec::new();
        let pick_plain = |table: &Table, rng: &mut Rng| -> String {
            let plain: Vec<&Column> = table
                .columns
                .iter()
                .filter(|c| {
                    c.role == ColumnRole::Plain
                        && !matches!(c.name.as_str(), "created_at" | "updated_at")
                })
                .collect();
            rng.pick(&plain).name.clone()
        };
        let col = pick_plain(table, rng);
        uses.push((table.schema.clone(), table.name.clone(), col.clone()));
        let mut body = format!("SELECT t.tenant_id, t.id, t.{col}, t.created_at", col = col);
        let mut from = format!(" FROM {} t", table.qualified());
        if let Some(fk) = table.foreign_keys.first() {
            let parent = self
                .table(&fk.ref_schema, &fk.ref_table)
                .expect("parent exists");
            let pcol = pick_plain(parent, rng);
            uses.push((parent.schema.clone(), parent.name.clone(), pcol.clone()));
            uses.push((table.schema.clone(), table.name.clone(), fk.column.clone()));
            let _ = write!(body, ", p.{} AS parent_{}", pcol, pcol);
            let _ = write!(
                from,
                " LEFT JOIN {} p ON p.tenant_id = t.tenant_id AND p.id = t.{}",
                parent.qualified(),
                fk.column
            );
        }
        body.push_str(&from);
        if table.column("deleted_at").is_some() {
            uses.push((
                table.schema.clone(),
                table.name.clone(),
                "deleted_at".into(),
            ));
            body.push_str(" WHERE t.deleted_at IS NULL");
        }
        View {
            schema: table.schema.clone(),
            name: format!("{}_overview", table.name),
            body,
            comment: format!("{} with their parent, for reporting.", table.name),
            uses,
        }
    }

    /// A function over table `t`: alternately a SQL-standard body (dependencies recorded in
    /// pg_depend) and PL/pgSQL.
    fn new_function(&self, t: usize, rng: &mut Rng) -> Function {
        let table = &self.tables[t];
        if rng.chance(50) {
            Function {
                schema: table.schema.clone(),
                name: format!("count_{}", table.name),
                definition: format!(
                    "(p_tenant_id bigint) RETURNS bigint\n    LANGUAGE sql STABLE PARALLEL SAFE\n\
                     BEGIN ATOMIC\n    SELECT count(*) FROM {} WHERE tenant_id = p_tenant_id;\nEND",
                    table.qualified()
                ),
                signature: "bigint".into(),
                comment: format!("Number of {} rows of a tenant.", table.name),
                uses: vec![(table.schema.clone(), table.name.clone())],
            }
        } else {
            Function {
                schema: table.schema.clone(),
                name: format!("purge_{}", table.name),
                definition: format!(
                    "(p_tenant_id bigint, p_before timestamptz) RETURNS bigint\n    \
                     LANGUAGE plpgsql\n    SET search_path = pg_catalog, pg_temp\nAS $$\n\
                     DECLARE\n    n bigint;\nBEGIN\n    DELETE FROM {} WHERE tenant_id = p_tenant_id \
                     AND created_at < p_before;\n    GET DIAGNOSTICS n = ROW_COUNT;\n    RETURN n;\nEND;\n$$",
                    table.qualified()
                ),
                signature: "bigint, timestamptz".into(),
                comment: format!("Delete a tenant's {} rows older than a time.", table.name),
                uses: vec![(table.schema.clone(), table.name.clone())],
            }
        }
    }

    fn table(&self, schema: &str, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.schema == schema && t.name == name)
    }

    /// Columns of tables that views read: (schema, table, column).
    fn view_columns(&self) -> BTreeSet<(String, String, String)> {
        self.views
            .iter()
            .flat_map(|v| v.uses.iter().cloned())
            .collect()
    }

    /// Whether anything else (a foreign key, a view, a function) refers to the table.
    fn is_referenced(&self, t: &Table) -> bool {
        self.tables.iter().any(|o| {
            o.foreign_keys
                .iter()
                .any(|fk| fk.ref_schema == t.schema && fk.ref_table == t.name)
        }) || self.views.iter().any(|v| {
            v.uses
                .iter()
                .any(|(s, n, _)| *s == t.schema && *n == t.name)
        }) || self
            .functions
            .iter()
            .any(|f| f.uses.iter().any(|(s, n)| *s == t.schema && *n == t.name))
    }

    /// A copy with about `percent` % of the objects (tables, views, functions) changed, as a
    /// schema evolves between releases: columns added, dropped, retyped, made NOT NULL or given
    /// a default; indexes and checks added or dropped; comments changed; tables added and
    /// dropped; view and function bodies changed. Returns the copy and one line per change.
    /// Deterministic for a given schema, percent and seed; the result always loads.
    pub fn mutate(&self, percent: f64, seed: u64) -> (Schema, Vec<String>) {
        let mut rng = Rng::new(seed ^ 0x6d75_7461_7465);
        let mut out = self.clone();
        let wanted = ((self.object_count() as f64) * percent / 100.0).round() as usize;
        let mut changes = Vec::new();
        let mut touched: BTreeSet<String> = BTreeSet::new();
        let mut attempts = 0;
        while changes.len() < wanted && attempts < wanted * 50 + 100 {
            attempts += 1;
            let roll = rng.below(100);
            let change = if roll < 8 && !out.views.is_empty() {
                out.change_view(&mut rng, &mut touched)
            } else if roll < 16 && !out.functions.is_empty() {
                out.change_function(&mut rng, &mut touched)
            } else if roll < 22 {
                let table = out.new_table(&mut rng);
                let line = format!("add table {}", table.qualified());
                touched.insert(table.qualified());
                out.tables.push(table);
                Some(line)
            } else if roll < 26 {
                out.drop_table(&mut rng, &mut touched)
            } else if !out.tables.is_empty() {
                out.change_table(&mut rng, &mut touched)
            } else {
                None
            };
            if let Some(line) = change {
                changes.push(line);
            }
        }
        (out, changes)
    }

    fn change_view(&mut self, rng: &mut Rng, touched: &mut BTreeSet<String>) -> Option<String> {
        let v = rng.below(self.views.len());
        let key = format!("view {}.{}", self.views[v].schema, self.views[v].name);
        if !touched.insert(key.clone()) {
            return None;
        }
        let view = &mut self.views[v];
        // Add an output column at the end (what CREATE OR REPLACE VIEW allows, and what diff
        // tools must handle), reading a column that is never dropped.
        view.body = view.body.replacen(
            ", t.created_at",
            ", t.created_at, date_trunc('day', t.created_at) AS created_day",
            1,
        );
        Some(format!("change {key}: new column created_day"))
    }

    fn change_function(&mut self, rng: &mut Rng, touched: &mut BTreeSet<String>) -> Option<String> {
        let f = rng.below(self.functions.len());
        let key = format!(
            "function {}.{}",
            self.functions[f].schema, self.functions[f].name
        );
        if !touched.insert(key.clone()) {
            return None;
        }
        let function = &mut self.functions[f];
        if function
            .definition
            .contains("LANGUAGE sql STABLE PARALLEL SAFE")
        {
            function.definition = function.definition.replace(
                "LANGUAGE sql STABLE PARALLEL SAFE",
                "LANGUAGE sql STABLE PARALLEL RESTRICTED",
            );
            Some(format!("change {key}: PARALLEL RESTRICTED"))
        } else {
            function.definition = function
                .definition
                .replace("created_at < p_before", "created_at <= p_before");
            Some(format!("change {key}: body"))
        }
    }

    fn drop_table(&mut self, rng: &mut Rng, touched: &mut BTreeSet<String>) -> Option<String> {
        let t = rng.below(self.tables.len());
        let table = &self.tables[t];
        if touched.contains(&table.qualified()) || self.is_referenced(table) {
            return None;
        }
        let table = self.tables.remove(t);
        touched.insert(table.qualified());
        Some(format!("drop table {}", table.qualified()))
    }

    fn change_table(&mut self, rng: &mut Rng, touched: &mut BTreeSet<String>) -> Option<String> {
        let t = rng.below(self.tables.len());
        let key = self.tables[t].qualified();
        if touched.contains(&key) {
            return None;
        }
        let in_views = self.view_columns();
        let table = &self.tables[t];
        let used = table.used_columns();
        // Plain columns nothing depends on: free to drop or retype.
        let free: Vec<String> = table
            .columns
            .iter()
            .filter(|c| {
                c.role == ColumnRole::Plain
                    && !used.contains(&c.name)
                    && !in_views.contains(&(
                        table.schema.clone(),
                        table.name.clone(),
                        c.name.clone(),
                    ))
            })
            .map(|c| c.name.clone())
            .collect();
        let table = &mut self.tables[t];
        let line = match rng.below(9) {
            0 => {
                let name = format!("extra_{}", rng.below(1000));
                if table.column(&name).is_some() {
                    return None;
                }
                table.columns.push(Column {
                    name: name.clone(),
                    ty: (*rng.pick(&["text", "integer", "boolean", "timestamptz", "jsonb"]))
                        .to_owned(),
                    not_null: false,
                    default: None,
                    comment: None,
                    role: ColumnRole::Plain,
                });
                format!("add column {key}.{name}")
            }
            1 => {
                if free.is_empty() {
                    return None;
                }
                let name = rng.pick(free.as_slice()).clone();
                table.columns.retain(|c| c.name != name);
                format!("drop column {key}.{name}")
            }
            2 => {
                let col = table
                    .columns
                    .iter_mut()
                    .filter(|c| free.contains(&c.name))
                    .find(|c| matches!(c.ty.as_str(), "integer" | "smallint" | "varchar(32)"))?;
                let new = match col.ty.as_str() {
                    "integer" | "smallint" => "bigint",
                    _ => "varchar(64)",
                };
                let line = format!("retype column {key}.{}: {} -> {new}", col.name, col.ty);
                col.ty = new.to_owned();
                line
            }
            3 => {
                let col = table
                    .columns
                    .iter_mut()
                    .find(|c| c.role == ColumnRole::Plain && !c.not_null)?;
                col.not_null = true;
                format!("set not null {key}.{}", col.name)
            }
            4 => {
                let col = table.columns.iter_mut().find(|c| {
                    c.role == ColumnRole::Plain && c.default.is_none() && c.ty == "text"
                })?;
                col.default = Some("''".into());
                format!("set default {key}.{}", col.name)
            }
            5 => {
                let col = table
                    .columns
                    .iter()
                    .find(|c| {
                        free.contains(&c.name) && !matches!(c.ty.as_str(), "jsonb" | "text[]")
                    })?
                    .name
                    .clone();
                let name = format!("{}_{}_idx", table.name, col);
                if table.indexes.iter().any(|i| i.name == name) {
                    return None;
                }
                table.indexes.push(Index {
                    name: name.clone(),
                    unique: false,
                    method: None,
                    keys: format!("tenant_id, {}", col),
                    predicate: None,
                    uses: vec![col],
                });
                format!("add index {}.{name}", table.schema)
            }
            6 => {
                // Drop an index that backs no foreign key.
                let i = table.indexes.iter().position(|i| {
                    !table
                        .foreign_keys
                        .iter()
                        .any(|fk| i.uses.first() == Some(&fk.column))
                })?;
                let index = table.indexes.remove(i);
                format!("drop index {}.{}", table.schema, index.name)
            }
            7 => {
                if table.checks.is_empty() {
                    let col = table
                        .columns
                        .iter()
                        .find(|c| free.contains(&c.name) && c.ty == "text")?
                        .name
                        .clone();
                    let name = format!("{}_{}_check", table.name, col);
                    table.checks.push(Check {
                        name: name.clone(),
                        expr: format!("char_length({}) <= 10000", col),
                        uses: vec![col],
                    });
                    format!("add check {key}.{name}")
                } else {
                    let check = table.checks.remove(0);
                    format!("drop check {key}.{}", check.name)
                }
            }
            _ => {
                table.comment = format!("{} Revised.", table.comment);
                format!("comment on table {key}")
            }
        };
        touched.insert(key);
        Some(line)
    }

    /// The schema as one SQL script, in an order PostgreSQL accepts.
    pub fn to_sql(&self) -> String {
        self.to_sql_batches(usize::MAX).concat()
    }

    /// The same script cut into pieces of at most `tables_per_batch` tables each, to be run one
    /// after the other. Sent as one multi-statement query, the whole script is one transaction,
    /// and creating thousands of tables in one transaction runs out of lock slots ("out of
    /// shared memory" with the default `max_locks_per_transaction`).
    pub fn to_sql_batches(&self, tables_per_batch: usize) -> Vec<String> {
        let tables_per_batch = tables_per_batch.max(1);
        let mut batches = Vec::new();
        let mut sql = String::new();
        sql.push_str(
            "-- Generated by tenet-bench: a multi-tenant schema for benchmarks. Do not edit.\n\n",
        );
        for s in SCHEMAS {
            let _ = writeln!(sql, "CREATE SCHEMA {s};");
        }
        sql.push('\n');
        for s in SCHEMAS {
            let _ = writeln!(
                sql,
                "CREATE TYPE {s}.record_status AS ENUM ('draft', 'active', 'suspended', 'archived');"
            );
        }
        sql.push_str(
            "CREATE DOMAIN app.email_address AS text\n    CHECK (VALUE ~ '^[^@[:space:]]+@[^@[:space:]]+$');\n\
             COMMENT ON DOMAIN app.email_address IS 'An e-mail address: one @, no spaces.';\n\n",
        );
        for s in SCHEMAS {
            let _ = writeln!(
                sql,
                "CREATE FUNCTION {s}.touch_updated_at() RETURNS trigger\n    LANGUAGE plpgsql\n    \
                 SET search_path = pg_catalog, pg_temp\nAS $$\nBEGIN\n    NEW.updated_at := now();\n    \
                 RETURN NEW;\nEND;\n$$;\n"
            );
        }
        sql.push_str(
            "CREATE TABLE app.tenants (\n    id bigint GENERATED ALWAYS AS IDENTITY,\n    \
             name text NOT NULL,\n    slug varchar(63) NOT NULL,\n    \
             created_at timestamptz NOT NULL DEFAULT now(),\n    \
             CONSTRAINT tenants_pkey PRIMARY KEY (id),\n    \
             CONSTRAINT tenants_slug_key UNIQUE (slug)\n);\n\
             COMMENT ON TABLE app.tenants IS 'Customers: every other table belongs to one (global, no RLS).';\n\n",
        );
        batches.push(std::mem::take(&mut sql));
        for chunk in self.tables.chunks(tables_per_batch) {
            let mut sql = String::with_capacity(chunk.len() * 2_000);
            for table in chunk {
                render_table(&mut sql, table);
            }
            batches.push(sql);
        }
        for view in &self.views {
            let _ = writeln!(
                sql,
                "CREATE VIEW {}.{} WITH (security_invoker = true) AS\n    {};\n\
                 COMMENT ON VIEW {}.{} IS {};\n",
                view.schema,
                view.name,
                view.body,
                view.schema,
                view.name,
                literal(&view.comment)
            );
        }
        for f in &self.functions {
            let _ = writeln!(
                sql,
                "CREATE FUNCTION {}.{}{};\nCOMMENT ON FUNCTION {}.{}({}) IS {};\n",
                f.schema,
                f.name,
                f.definition,
                f.schema,
                f.name,
                f.signature,
                literal(&f.comment)
            );
        }
        batches.push(sql);
        batches
    }
}

fn render_table(sql: &mut String, t: &Table) {
    let q = t.qualified();
    let _ = writeln!(sql, "CREATE TABLE {q} (");
    let mut lines: Vec<String> = Vec::new();
    for c in &t.columns {
        let mut line = format!("    {} {}", c.name, c.ty);
        if let Some(d) = &c.default {
            if d.starts_with("GENERATED") {
                let _ = write!(line, " {d}");
            } else {
                let _ = write!(line, " DEFAULT {d}");
            }
        }
        if c.not_null {
            line.push_str(" NOT NULL");
        }
        lines.push(line);
    }
    lines.push(format!(
        "    CONSTRAINT {}_pkey PRIMARY KEY (tenant_id, id)",
        t.name
    ));
    for (name, col) in &t.uniques {
        lines.push(format!("    CONSTRAINT {name} UNIQUE (tenant_id, {col})"));
    }
    for c in &t.checks {
        lines.push(format!("    CONSTRAINT {} CHECK ({})", c.name, c.expr));
    }
    lines.push(format!(
        "    CONSTRAINT {}_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants (id)",
        t.name
    ));
    for fk in &t.foreign_keys {
        lines.push(format!(
            "    CONSTRAINT {} FOREIGN KEY (tenant_id, {}) REFERENCES {}.{} (tenant_id, id) ON DELETE {}",
            fk.name, fk.column, fk.ref_schema, fk.ref_table, fk.on_delete
        ));
    }
    sql.push_str(&lines.join(",\n"));
    sql.push_str("\n);\n");
    for i in &t.indexes {
        let _ = write!(
            sql,
            "CREATE {}INDEX {} ON {q}{} ({})",
            if i.unique { "UNIQUE " } else { "" },
            i.name,
            i.method
                .as_ref()
                .map(|m| format!(" USING {m}"))
                .unwrap_or_default(),
            i.keys
        );
        if let Some(p) = &i.predicate {
            let _ = write!(sql, " WHERE {p}");
        }
        sql.push_str(";\n");
    }
    let _ = writeln!(sql, "COMMENT ON TABLE {q} IS {};", literal(&t.comment));
    for c in &t.columns {
        if let Some(comment) = &c.comment {
            let _ = writeln!(
                sql,
                "COMMENT ON COLUMN {q}.{} IS {};",
                c.name,
                literal(comment)
            );
        }
    }
    if t.rls {
        let _ = writeln!(
            sql,
            "ALTER TABLE {q} ENABLE ROW LEVEL SECURITY;\nALTER TABLE {q} FORCE ROW LEVEL SECURITY;\n\
             CREATE POLICY tenant_isolation ON {q}\n    USING ({TENANT_PREDICATE})\n    \
             WITH CHECK ({TENANT_PREDICATE});"
        );
    }
    if t.touch_trigger {
        let _ = writeln!(
            sql,
            "CREATE TRIGGER {}_touch_updated_at BEFORE UPDATE ON {q}\n    \
             FOR EACH ROW EXECUTE FUNCTION {}.touch_updated_at();",
            t.name, t.schema
        );
    }
    sql.push('\n');
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn singular(noun: &str) -> String {
    let word = noun.replace('_', " ");
    if let Some(stem) = word.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = word.strip_suffix("sses") {
        format!("{stem}ss")
    } else if let Some(stem) = word.strip_suffix('s') {
        stem.to_owned()
    } else {
        word
    }
}

/// One migration of about `bytes` bytes: a data backfill (449k INSERTs for 50 MB) with a few
/// index builds among it, as `lint-vs-squawk` and `apply-memory` use. Returns its statements.
pub fn write_big_migration(path: &std::path::Path, bytes: usize) -> usize {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "SET lock_timeout = '5s';").unwrap();
    writeln!(out, "CREATE TABLE IF NOT EXISTS big_events (id bigint PRIMARY KEY, tenant_id uuid NOT NULL, kind text, payload jsonb, created_at timestamptz);").unwrap();
    let mut written = 0;
    let mut statements = 2;
    let mut n: u64 = 0;
    while written < bytes {
        n += 1;
        let line = if n.is_multiple_of(50_000) {
            format!("CREATE INDEX big_events_kind_{n} ON big_events (kind);\n")
        } else {
            format!(
                "INSERT INTO big_events (id, tenant_id, kind, payload, created_at) VALUES ({n}, '{:08x}-0000-4000-8000-{:012x}', 'k{}', '{{\"n\": {n}}}', now());\n",
                n % 997,
                n,
                n % 13
            )
        };
        written += line.len();
        statements += 1;
        out.write_all(line.as_bytes()).unwrap();
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic() {
        assert_eq!(
            Schema::generate(100, 1).to_sql(),
            Schema::generate(100, 1).to_sql()
        );
        assert_ne!(
            Schema::generate(100, 1).to_sql(),
            Schema::generate(100, 2).to_sql()
        );
        let s = Schema::generate(100, 1);
        assert_eq!(s.mutate(5.0, 3), s.mutate(5.0, 3));
    }

    #[test]
    fn shape() {
        let s = Schema::generate(200, DEFAULT_SEED);
        assert_eq!(s.tables.len(), 200);
        assert_eq!(s.views.len(), 10);
        assert_eq!(s.functions.len(), 10);
        let names: BTreeSet<_> = s.tables.iter().map(|t| t.qualified()).collect();
        assert_eq!(names.len(), 200);
        for t in &s.tables {
            // tenant_id, id, 3..=7 plain, created_at, maybe updated_at; then foreign keys.
            let plain = t
                .columns
                .iter()
                .filter(|c| c.role == ColumnRole::Plain)
                .count();
            assert!((4..=9).contains(&plain), "{}: {plain}", t.name);
            assert!(t.rls);
            for fk in &t.foreign_keys {
                let parent = names
                    .iter()
                    .position(|n| *n == format!("{}.{}", fk.ref_schema, fk.ref_table));
                let me = names.iter().position(|n| *n == t.qualified());
                assert!(parent.is_some() && me.is_some());
            }
        }
        assert!(
            s.tables
                .iter()
                .filter(|t| !t.foreign_keys.is_empty())
                .count()
                > 100
        );
    }

    #[test]
    fn mutate_changes_about_the_share_asked() {
        let s = Schema::generate(400, DEFAULT_SEED);
        let (m, changes) = s.mutate(5.0, 11);
        assert_eq!(
            changes.len(),
            (s.object_count() as f64 * 0.05).round() as usize
        );
        assert_ne!(m, s);
        let (same, none) = s.mutate(0.0, 11);
        assert!(none.is_empty());
        assert_eq!(same, s);
    }
}
