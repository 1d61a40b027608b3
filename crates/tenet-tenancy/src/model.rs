//! The catalog seen through the tenancy model: which tables are tenant-scoped, what the app role
//! can reach, which policies apply to it, what views and functions read.

use std::collections::{BTreeMap, BTreeSet};

use tenet_catalog::{
    quote, Catalog, Column, ConstraintKind, Function, Grant, Policy, QualifiedName, Table, View,
};
use tenet_config::{Preset, Tenancy};

use crate::expr::{self, ExprContext, Via};

/// The four commands a policy can govern, in the order they are reported.
pub const COMMANDS: [&str; 4] = ["select", "insert", "update", "delete"];

pub struct Model<'a> {
    pub catalog: &'a Catalog,
    pub tenancy: &'a Tenancy,
    /// The app role and every role it belongs to, directly or through other roles.
    pub app_roles: BTreeSet<String>,
    tables: BTreeMap<QualifiedName, &'a Table>,
    /// Tenant roots: tables the tenant column points at (`tasks.user_id -> users.id`), with the
    /// column that holds the tenant there (`id`).
    roots: BTreeMap<QualifiedName, String>,
    /// Expression helpers: zero-argument SQL functions returning an expression.
    helpers: BTreeMap<String, String>,
    /// The membership table and its user column.
    membership: Option<(&'a Table, String)>,
    /// Tenant tables without the tenant column that reach their tenant through a foreign key.
    links: BTreeMap<QualifiedName, Link>,
}

/// `tasks.project_id -> projects.id`: a table whose rows belong to the tenant of the parent
/// row they reference (NOT NULL, one column).
#[derive(Debug, Clone)]
pub struct Link {
    pub column: String,
    pub parent: QualifiedName,
    pub key: String,
}

/// `auth.uid()` and `auth.jwt()` as Supabase defines them: both read the verified token's
/// claims, which PostgREST puts in `request.jwt.claims` (older versions: `request.jwt.claim.*`).
pub const SUPABASE_HELPERS: [(&str, &str); 2] = [
    (
        "auth.uid",
        "coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''), (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'))::uuid",
    ),
    (
        "auth.jwt",
        "coalesce(nullif(current_setting('request.jwt.claim', true), ''), nullif(current_setting('request.jwt.claims', true), ''))::jsonb",
    ),
];

impl<'a> Model<'a> {
    pub fn new(catalog: &'a Catalog, tenancy: &'a Tenancy) -> Model<'a> {
        let mut app_roles = BTreeSet::new();
        let mut todo = vec![tenancy.app_role.clone()];
        while let Some(role) = todo.pop() {
            if app_roles.insert(role.clone()) {
                if let Some(r) = catalog.roles.iter().find(|r| r.name == role) {
                    todo.extend(r.member_of.iter().cloned());
                }
            }
        }
        let tables: BTreeMap<QualifiedName, &Table> = catalog
            .tables
            .iter()
            .map(|t| (t.qualified_name(), t))
            .collect();
        let shared =
            |t: &Table| tenancy.is_global(&t.schema, &t.name) || tenancy.is_excluded(&t.schema);
        let mut roots = BTreeMap::new();
        for t in &catalog.tables {
            if shared(t) || t.column(&tenancy.column).is_none() {
                continue;
            }
            for c in t
                .constraints
                .iter()
                .filter(|c| c.kind == ConstraintKind::ForeignKey)
            {
                let Some(r) = &c.references else { continue };
                let Some(target) = tables.get(&r.table) else {
                    continue;
                };
                if shared(target) || target.column(&tenancy.column).is_some() {
                    continue;
                }
                if let Some((_, key)) = c
                    .columns
                    .iter()
                    .zip(&r.columns)
                    .find(|(a, _)| **a == tenancy.column)
                {
                    roots.entry(r.table.clone()).or_insert_with(|| key.clone());
                }
            }
        }
        let mut helpers = BTreeMap::new();
        for f in &catalog.functions {
            if f.arguments.is_empty() && f.language == "sql" && f.kind == "function" {
                if let Some(body) = expr::helper_body(&f.definition) {
                    helpers.insert(format!("{}.{}", f.schema, f.name), body.clone());
                    helpers.entry(f.name.clone()).or_insert(body);
                }
            }
        }
        if tenancy.preset == Some(Preset::Supabase) {
            // Supabase's own definitions, for schemas loaded without the auth schema.
            for (name, body) in SUPABASE_HELPERS {
                helpers
                    .entry(name.to_string())
                    .or_insert_with(|| body.to_string());
            }
        }
        let membership = tenancy.membership.as_ref().and_then(|m| {
            catalog
                .tables
                .iter()
                .find(|t| tenancy.is_membership(&t.schema, &t.name))
                .map(|t| (t, m.user_column.clone()))
        });
        let mut model = Model {
            catalog,
            tenancy,
            app_roles,
            tables,
            roots,
            helpers,
            membership,
            links: BTreeMap::new(),
        };
        model.links = model.find_links();
        model
    }

    /// Links, found parents first (a chain of up to four).
    fn find_links(&self) -> BTreeMap<QualifiedName, Link> {
        let mut links: BTreeMap<QualifiedName, Link> = BTreeMap::new();
        for _ in 0..4 {
            for t in self.tenant_tables() {
                let name = t.qualified_name();
                if links.contains_key(&name)
                    || self.is_root(t)
                    || Model::is_child(t)
                    || t.column(&self.tenancy.column).is_some()
                {
                    continue;
                }
                let found = t.constraints.iter().find_map(|c| {
                    let r = c.references.as_ref()?;
                    let ([col], [key]) = (c.columns.as_slice(), r.columns.as_slice()) else {
                        return None;
                    };
                    let parent = self.table(&r.table)?;
                    let reaches = self.is_tenant(parent)
                        && (self.tenant_column(parent).is_some() || links.contains_key(&r.table));
                    (c.kind == ConstraintKind::ForeignKey
                        && r.table != name
                        && reaches
                        && t.column(col).is_some_and(|x| x.not_null))
                    .then(|| Link {
                        column: col.clone(),
                        parent: r.table.clone(),
                        key: key.clone(),
                    })
                });
                if let Some(l) = found {
                    links.insert(name, l);
                }
            }
        }
        links
    }

    /// How `t` reaches its tenant when it has no tenant column.
    pub fn link(&self, t: &Table) -> Option<&Link> {
        self.links.get(&t.qualified_name())
    }

    /// A table that reaches its tenant through `columns` of `t`.
    pub fn linked_through(&self, t: &Table, columns: &[String]) -> Option<&QualifiedName> {
        self.links
            .iter()
            .find(|(_, l)| l.parent == t.qualified_name() && columns == [l.key.clone()])
            .map(|(n, _)| n)
    }

    /// The membership table and its user column, when the model has one and it exists.
    pub fn membership(&self) -> Option<(&'a Table, &str)> {
        self.membership.as_ref().map(|(t, c)| (*t, c.as_str()))
    }

    pub fn is_membership(&self, t: &Table) -> bool {
        self.membership()
            .is_some_and(|(m, _)| m.qualified_name() == t.qualified_name())
    }

    /// Whether objects of this schema are judged at all (not excluded).
    pub fn in_scope(&self, schema: &str) -> bool {
        !self.tenancy.is_excluded(schema)
    }

    /// The SQL for "the current user (or tenant)" as a value of type `ty`, read once per query
    /// and NULL when missing or empty; never a JSON setting cast straight to a scalar.
    pub fn identity_sql(&self, ty: &str) -> String {
        let setting = quote::literal(&self.tenancy.setting);
        if self.tenancy.preset == Some(Preset::Supabase) {
            if ty == "uuid" {
                return "(SELECT auth.uid())".into();
            }
            return format!("(SELECT (auth.jwt() ->> 'sub')::{ty})");
        }
        if self.tenancy.json_setting() {
            return format!(
                "(SELECT (NULLIF(current_setting({setting}, true), '')::jsonb ->> 'sub')::{ty})"
            );
        }
        format!("(SELECT NULLIF(current_setting({setting}, true), '')::{ty})")
    }

    /// The condition Tenet writes for `t`: its tenant column against the setting, or (with a
    /// membership table) against the tenants the setting's user is a member of.
    pub fn condition(&self, t: &Table) -> String {
        if let Some(l) = self.link(t) {
            let parent = self
                .table(&l.parent)
                .map_or_else(|| "false".into(), |p| self.condition(p));
            return format!(
                "{} IN (SELECT {} FROM {} WHERE {parent})",
                quote::ident(&l.column),
                quote::ident(&l.key),
                l.parent
            );
        }
        let Some(col) = self.tenant_column(t) else {
            return "false".into();
        };
        match self.membership() {
            Some((m, user)) if m.qualified_name() == t.qualified_name() => {
                let ty = m.column(user).map_or("text", |c| c.data_type.as_str());
                format!("{} = {}", quote::ident(user), self.identity_sql(ty))
            }
            Some((m, user)) => {
                let ty = m.column(user).map_or("text", |c| c.data_type.as_str());
                format!(
                    "{} IN (SELECT {} FROM {} WHERE {} = {})",
                    quote::ident(&col.name),
                    quote::ident(&self.tenancy.column),
                    m.qualified_name(),
                    quote::ident(user),
                    self.identity_sql(ty)
                )
            }
            None => format!(
                "{} = {}",
                quote::ident(&col.name),
                self.identity_sql(&col.data_type)
            ),
        }
    }

    pub fn table(&self, name: &QualifiedName) -> Option<&'a Table> {
        self.tables.get(name).copied()
    }

    /// A tenant root: the table whose rows are the tenants themselves (the tenant column of
    /// other tables references it), e.g. `users` in a per-user app.
    pub fn is_root(&self, t: &Table) -> bool {
        self.roots.contains_key(&t.qualified_name())
    }

    /// The column that says which tenant a row of `t` belongs to: the tenant column, or a
    /// root's key.
    pub fn tenant_column<'t>(&self, t: &'t Table) -> Option<&'t Column> {
        match self.roots.get(&t.qualified_name()) {
            Some(key) => t.column(key),
            None => t.column(&self.tenancy.column),
        }
    }

    /// Every table not listed as global (nor in an excluded schema) is tenant-scoped.
    pub fn is_tenant(&self, t: &Table) -> bool {
        self.is_tenant_name(&t.qualified_name())
    }

    pub fn is_tenant_name(&self, name: &QualifiedName) -> bool {
        !self.tenancy.is_global(&name.schema, &name.name) && self.in_scope(&name.schema)
    }

    /// A partition or an inheritance child: reached through its parent's policies, unless
    /// queried directly.
    pub fn is_child(t: &Table) -> bool {
        t.partition_of.is_some() || !t.inherits.is_empty()
    }

    pub fn tenant_tables(&self) -> impl Iterator<Item = &'a Table> + '_ {
        self.catalog.tables.iter().filter(|t| self.is_tenant(t))
    }

    /// Whether `role` is the app role or a role it belongs to.
    pub fn is_app(&self, role: &str) -> bool {
        self.app_roles.contains(role)
    }

    /// Whether the app role holds `privilege` (`SELECT`, `EXECUTE`, ...) on an object with this
    /// owner and ACL. `public_by_default` is true for functions, whose default ACL lets
    /// everyone execute them.
    pub fn app_has(
        &self,
        owner: &str,
        grants: &Option<Vec<Grant>>,
        public_by_default: bool,
        privilege: &str,
    ) -> bool {
        if self.is_app(owner) {
            return true;
        }
        match grants {
            None => public_by_default,
            Some(grants) => grants.iter().any(|g| {
                g.privilege.eq_ignore_ascii_case(privilege)
                    && (g.grantee == "PUBLIC" || self.is_app(&g.grantee))
            }),
        }
    }

    /// Whether the app role holds any privilege on a table or view.
    pub fn app_reaches(&self, owner: &str, grants: &Option<Vec<Grant>>) -> bool {
        if self.is_app(owner) {
            return true;
        }
        grants.as_ref().is_some_and(|grants| {
            grants
                .iter()
                .any(|g| g.grantee == "PUBLIC" || self.is_app(&g.grantee))
        })
    }

    /// The command privilege (`select` -> `SELECT`), on the table or on some column of it.
    pub fn app_can(&self, t: &Table, command: &str) -> bool {
        self.app_has_on_table(t, &command.to_ascii_uppercase())
    }

    /// Whether the app role holds `privilege` on `t` or on one of its columns: a column
    /// grant reads or writes rows just as a table grant does.
    pub fn app_has_on_table(&self, t: &Table, privilege: &str) -> bool {
        self.app_has(&t.owner, &t.grants, false, privilege)
            || t.columns
                .iter()
                .any(|c| self.app_has_on_column(t, c, privilege))
    }

    /// Whether the app role holds `privilege` on column `c` of `t` through a column grant.
    pub fn app_has_on_column(&self, t: &Table, c: &Column, privilege: &str) -> bool {
        c.grants.is_some() && self.app_has(&t.owner, &c.grants, false, privilege)
    }

    /// Policies of `t` that apply to the app role for `command`.
    pub fn app_policies<'t>(&self, t: &'t Table, command: &str) -> Vec<&'t Policy> {
        t.policies
            .iter()
            .filter(|p| p.command == "all" || p.command == command)
            .filter(|p| p.roles.iter().any(|r| r == "public" || self.is_app(r)))
            .collect()
    }

    /// The expression analysis context for a table's tenant column.
    pub fn expr_context(&self, t: &Table) -> ExprContext {
        let column = self.tenant_column(t);
        let text_column = column.is_some_and(|c| is_text_type(&c.data_type));
        let column_name = column.map_or_else(|| self.tenancy.column.clone(), |c| c.name.clone());
        let supabase = self.tenancy.preset == Some(Preset::Supabase);
        let json: Vec<String> = if supabase || self.tenancy.json_setting() {
            vec!["request.jwt.claims".into(), "request.jwt.claim".into()]
        } else {
            Vec::new()
        };
        let base = ExprContext {
            column: column_name.clone(),
            setting: self.tenancy.setting.clone(),
            text_column,
            helpers: self.helpers.clone(),
            direct: true,
            settings: if supabase {
                vec!["request.jwt.claim.sub".into()]
            } else {
                Vec::new()
            },
            json_settings: json,
            via: Vec::new(),
        };
        if let Some(l) = self.link(t) {
            let Some(parent) = self.table(&l.parent) else {
                return base;
            };
            return ExprContext {
                column: l.column.clone(),
                text_column: false,
                direct: false,
                via: vec![Via {
                    outer: l.column.clone(),
                    schema: parent.schema.clone(),
                    table: parent.name.clone(),
                    key: l.key.clone(),
                    inner: Box::new(self.expr_context(parent)),
                }],
                ..base
            };
        }
        let Some((m, user)) = self.membership() else {
            return base;
        };
        let user_ctx = ExprContext {
            column: user.to_string(),
            text_column: m.column(user).is_some_and(|c| is_text_type(&c.data_type)),
            ..base.clone()
        };
        let via = Via {
            outer: column_name,
            schema: m.schema.clone(),
            table: m.name.clone(),
            key: self.tenancy.column.clone(),
            inner: Box::new(user_ctx.clone()),
        };
        if self.is_membership(t) {
            // Its rows are the user's own memberships; or those of tenants the user is in.
            ExprContext {
                via: vec![via],
                ..user_ctx
            }
        } else {
            ExprContext {
                direct: false,
                via: vec![via],
                ..base
            }
        }
    }

    /// Tenant tables a view reads, through other views too.
    pub fn view_tenant_tables(&self, v: &View) -> BTreeSet<QualifiedName> {
        let mut out = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&String> = v.depends_on.iter().collect();
        while let Some(key) = todo.pop() {
            if !seen.insert(key.clone()) {
                continue;
            }
            if let Some(name) = key.strip_prefix("table ") {
                if let Some(t) = self.table_by_key(name) {
                    if self.is_tenant(t) {
                        out.insert(t.qualified_name());
                    }
                }
            } else if let Some(name) = key.strip_prefix("view ") {
                if let Some(inner) = self
                    .catalog
                    .views
                    .iter()
                    .find(|w| QualifiedName::new(&w.schema, &w.name).to_string() == name)
                {
                    todo.extend(inner.depends_on.iter());
                }
            }
        }
        out
    }

    fn table_by_key(&self, rendered: &str) -> Option<&'a Table> {
        self.catalog
            .tables
            .iter()
            .find(|t| t.qualified_name().to_string() == rendered)
    }

    /// Tenant tables a function's body reads: `Ok(tables)`, or `Err(reason)` when the body runs
    /// dynamic SQL or cannot be parsed (so what it reads cannot be known).
    pub fn function_tenant_tables(&self, f: &Function) -> Result<BTreeSet<QualifiedName>, String> {
        let mut names: BTreeSet<String> = BTreeSet::new();
        for key in &f.depends_on {
            if let Some(name) = key.strip_prefix("table ") {
                if let Some(t) = self.table_by_key(name) {
                    names.insert(format!("{}.{}", t.schema, t.name));
                }
            }
        }
        match f.language.as_str() {
            "sql" => {
                let parsed = pg_query::parse(&f.definition, pg_query::ParserOptions::DEFAULT)
                    .map_err(|e| format!("its definition does not parse: {e}"))?;
                names.extend(parsed.tables());
                if let Some(body) = sql_function_body(&parsed) {
                    let body = pg_query::parse(&body, pg_query::ParserOptions::DEFAULT)
                        .map_err(|e| format!("its body does not parse: {e}"))?;
                    names.extend(body.tables());
                }
            }
            "plpgsql" => {
                let tree = pg_query::parse_plpgsql(&f.definition)
                    .map_err(|e| format!("its body does not parse: {e}"))?;
                plpgsql_tables(&tree, &mut names)?;
            }
            "c" | "internal" => return Ok(BTreeSet::new()),
            other => return Err(format!("it is written in {other}, which Tenet cannot read")),
        }
        let search_path = function_search_path(f);
        let mut out = BTreeSet::new();
        for name in names {
            let (schema, table) = match name.split_once('.') {
                Some((s, t)) => (Some(s.to_string()), t.to_string()),
                None => (None, name.clone()),
            };
            for t in self.tenant_tables() {
                let schema_ok = match &schema {
                    Some(s) => *s == t.schema,
                    None => search_path.contains(&t.schema),
                };
                if schema_ok && t.name == table {
                    out.insert(t.qualified_name());
                }
            }
        }
        Ok(out)
    }
}

/// The `AS '...'` body of a SQL function.
fn sql_function_body(parsed: &pg_query::ParseResult) -> Option<String> {
    use pg_query::NodeEnum;
    let stmt = parsed
        .protobuf
        .stmts
        .first()?
        .stmt
        .as_ref()?
        .node
        .as_ref()?;
    let NodeEnum::CreateFunctionStmt(f) = stmt else {
        return None;
    };
    f.options.iter().find_map(|o| match o.node.as_ref()? {
        NodeEnum::DefElem(d) if d.defname == "as" => match d.arg.as_ref()?.node.as_ref()? {
            NodeEnum::List(l) => match l.items.first()?.node.as_ref()? {
                NodeEnum::String(s) => Some(s.sval.clone()),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    })
}

/// Tables read by the SQL inside a PL/pgSQL body; an error for dynamic SQL (`EXECUTE`).
fn plpgsql_tables(tree: &serde_json::Value, out: &mut BTreeSet<String>) -> Result<(), String> {
    use serde_json::Value;
    match tree {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "PLpgSQL_stmt_dynexecute" || key == "PLpgSQL_stmt_dynfors" {
                    return Err("it runs dynamic SQL (EXECUTE)".into());
                }
                if key == "PLpgSQL_expr" {
                    let query = child.get("query").and_then(Value::as_str).unwrap_or("");
                    let mode = child.get("parseMode").and_then(Value::as_i64).unwrap_or(0);
                    let text = match mode {
                        0 => query.to_string(),
                        2 => format!("SELECT {query}"),
                        _ => match query.split_once(":=").or_else(|| query.split_once('=')) {
                            Some((_, rhs)) => format!("SELECT {rhs}"),
                            None => format!("SELECT {query}"),
                        },
                    };
                    if let Ok(parsed) = pg_query::parse(&text, pg_query::ParserOptions::DEFAULT) {
                        out.extend(parsed.tables());
                    }
                    continue;
                }
                plpgsql_tables(child, out)?;
            }
        }
        Value::Array(items) => {
            for i in items {
                plpgsql_tables(i, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Schemas an unqualified name in a function resolves in: its `SET search_path`, else `public`.
fn function_search_path(f: &Function) -> Vec<String> {
    for c in &f.config {
        if let Some(path) = c.strip_prefix("search_path=") {
            return path
                .split(',')
                .map(|s| s.trim().trim_matches('"').to_string())
                .filter(|s| !s.is_empty() && s != "$user")
                .collect();
        }
    }
    vec!["public".to_string()]
}

/// Text-like types, where an empty setting is a valid (empty) tenant value.
pub fn is_text_type(data_type: &str) -> bool {
    let base = data_type.split('(').next().unwrap_or("").trim();
    matches!(
        base,
        "text" | "character varying" | "character" | "name" | "citext" | "public.citext" | "bpchar"
    )
}
