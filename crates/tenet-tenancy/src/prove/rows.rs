//! Row synthesis: which tables get rows for tenants A and B, in what order, with which
//! fixed values; removing and restoring them; sequences put back afterwards.

use super::*;

impl<'a> Prover<'a> {
    /// Tables to fill, parents first: tenant tables that take rows themselves (not partitions),
    /// and every table they reference.
    pub(super) fn plan(&mut self) {
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
                // The membership table's user column: the column it points at holds users.
                if self.model.is_membership(t) {
                    if let Some((_, user)) = self.model.membership() {
                        for (cc, pc) in c.columns.iter().zip(&r.columns) {
                            if cc == user {
                                self.user_keys
                                    .entry(r.table.clone())
                                    .or_default()
                                    .insert(pc.clone());
                            }
                        }
                    }
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
    pub(super) fn shape_of(&self, t: &'a Table) -> &'a Table {
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
    pub(super) fn fixed_values(
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
                    let who = match t {
                        Tenant::Nobody => Tenant::A,
                        Tenant::Admitted => Tenant::B,
                        other => other,
                    };
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
                let pt = match pt {
                    Tenant::Nobody => Tenant::A,
                    Tenant::Admitted => Tenant::B,
                    other => other,
                };
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
        if let Some(keys) = self.user_keys.get(&shape.qualified_name()) {
            for k in keys {
                if let Some(c) = shape.column(k) {
                    fixed.insert(k.clone(), self.user_literal(t, &c.data_type));
                }
            }
        }
        if self.model.is_membership(shape) {
            if let Some(c) = self.model.membership().and_then(|(_, u)| shape.column(u)) {
                fixed.insert(c.name.clone(), self.user_literal(t, &c.data_type));
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

    /// Column values that the app role's permissive policies on `t` admit rows by (when they
    /// do not restrict by tenant): `using (status = 'done')` needs a B row with status 'done'.
    pub(super) fn admitted_values(&self, t: &Table) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if !self.model.is_tenant(t) {
            return out;
        }
        for leak in crate::check::leaks(&self.model, t) {
            if let Some(e) = crate::check::clause_expr(leak.policy, leak.clause) {
                for (c, v) in crate::expr::admitting_values(e) {
                    if c != self.column && t.column(&c).is_some() {
                        out.entry(c).or_insert(v);
                    }
                }
            }
        }
        out
    }

    pub(super) fn setup(&mut self) -> Result<(), ProveError> {
        let order = self.order.clone();
        for tenant in [Tenant::A, Tenant::B, Tenant::Nobody, Tenant::Admitted] {
            for t in &order {
                let name = t.qualified_name();
                let admitted = self.admitted_values(t);
                if tenant == Tenant::Admitted && admitted.is_empty() {
                    continue;
                }
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
                    Ok(mut f) if tenant == Tenant::Admitted => {
                        for (c, v) in admitted {
                            f.entry(c).or_insert(v);
                        }
                        f
                    }
                    Ok(f) => f,
                    Err(e) => {
                        self.failed.insert(name, e);
                        continue;
                    }
                };
                match self.synth.insert(self.client, t, &name, &fixed) {
                    Ok(row) => {
                        self.planted.push((name.clone(), tenant));
                        self.rows.insert((name, tenant), row);
                    }
                    Err(e) => {
                        if tenant == Tenant::A || tenant == Tenant::B {
                            self.failed
                                .insert(name, format!("could not synthesize a row: {e}"));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Run `f` with the synthetic rows of `tenants` removed (and materialized views refreshed),
    /// then put everything back. The outer error is fatal; the inner one says the state could
    /// not be reached.
    pub(super) fn in_state<T>(
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

    pub(super) fn refresh(&mut self, matviews: &[String]) -> Result<(), ProveError> {
        for m in matviews {
            self.client
                .batch_execute(&format!("REFRESH MATERIALIZED VIEW {m}"))
                .map_err(db)?;
        }
        Ok(())
    }

    /// Delete the synthetic rows of `tenants` (children first), optionally only in `only`.
    pub(super) fn remove_rows(
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
    pub(super) fn foreign_rows(&self, t: &Table) -> Vec<&Inserted> {
        let oids = self.oids_under(t);
        self.rows
            .iter()
            .filter(|((_, tenant), row)| *tenant != Tenant::A && oids.contains(&row.tableoid))
            .map(|(_, r)| r)
            .collect()
    }

    pub(super) fn own_rows(&self, t: &Table) -> Vec<&Inserted> {
        let oids = self.oids_under(t);
        self.rows
            .iter()
            .filter(|((_, tenant), row)| *tenant == Tenant::A && oids.contains(&row.tableoid))
            .map(|(_, r)| r)
            .collect()
    }

    /// The OIDs of `t` and every partition or child below it.
    pub(super) fn oids_under(&self, t: &Table) -> BTreeSet<i64> {
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
    pub(super) fn tenant_column(&self, t: &Table) -> Option<String> {
        if !self.model.is_tenant(t) {
            return None;
        }
        self.model.tenant_column(t).map(|c| c.name.clone())
    }

    /// Tables whose rows reference `name`, directly or through others.
    pub(super) fn dependents(&self, name: &QualifiedName) -> BTreeSet<QualifiedName> {
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
    pub(super) fn fresh_row(
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
}

pub(super) fn resolve_domain(catalog: &Catalog, ty: &str) -> String {
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
pub(super) fn row_filter(rows: &[&Inserted]) -> String {
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

/// Sequences in user schemas and where they stand.
pub(super) fn sequence_states(
    client: &mut Client,
) -> Result<Vec<(String, i64, bool)>, postgres::Error> {
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
pub(super) fn restore_sequences(client: &mut Client, before: &[(String, i64, bool)]) {
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
