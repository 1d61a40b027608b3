//! Write probes: blind UPDATE and DELETE, INSERT for tenant B, references to B's rows, and
//! unique keys as an oracle.

use super::*;

impl<'a> Prover<'a> {
    /// Blind `UPDATE` as the app role: afterwards, are B's rows still as they were?
    pub(super) fn update_probe(&mut self, t: &'a Table) -> Result<Cell, ProveError> {
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
    pub(super) fn succeeds(&mut self, sql: &str) -> Result<bool, ProveError> {
        self.client
            .batch_execute("SAVEPOINT tenet_probe")
            .map_err(db)?;
        let ok = self.client.execute(sql, &[]).is_ok();
        self.end_probe()?;
        Ok(ok)
    }

    /// Blind `DELETE` as the app role, after removing the synthetic rows that reference this
    /// table (so foreign keys do not get in the way).
    pub(super) fn delete_probe(&mut self, t: &'a Table) -> Result<Cell, ProveError> {
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
        let prepared = self.remove_rows(
            &[Tenant::A, Tenant::B, Tenant::Nobody, Tenant::Admitted],
            Some(&dependents),
        );
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

    /// Replay a row's INSERT as the app role with A's setting.
    pub(super) fn insert_as_app(
        &mut self,
        t: &Table,
        row: &Inserted,
    ) -> Result<Result<(), postgres::Error>, ProveError> {
        self.insert_as(t, row, Setting::A)
    }

    fn insert_as(
        &mut self,
        t: &Table,
        row: &Inserted,
        setting: Setting,
    ) -> Result<Result<(), postgres::Error>, ProveError> {
        let sql = insert_sql(&t.qualified_name(), &row.supplied, row.overriding, None);
        self.begin_probe(&self.app.clone(), setting)?;
        let r = self.client.execute(sql.as_str(), &[]).map(|_| ());
        self.end_probe()?;
        Ok(r)
    }

    pub(super) fn insert_probe(&mut self, t: &'a Table) -> Result<Cell, ProveError> {
        if self.tenant_column(t).is_none() && self.model.link(t).is_some() {
            // B's row points at B's parent row.
            return self.insert_for_b(t, &BTreeMap::new(), false);
        }
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
            overrides.insert(tc.clone(), format!("{}::{ty}", quote::literal(&self.c)));
        }
        // In the membership table, B's row for A's user: A joining tenant B.
        let joining = self.model.is_membership(t);
        if joining {
            if let Some(c) = self.model.membership().and_then(|(_, u)| t.column(u)) {
                overrides.insert(c.name.clone(), self.user_literal(Tenant::A, &c.data_type));
            }
        }
        // A table keyed by the tenant alone (a profile per user) holds B's one row already:
        // make room for the new one first.
        let keyed_by_tenant = self.shape_of(t).constraints.iter().any(|c| {
            matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique)
                && c.columns == [tc.clone()]
        }) && !self.model.is_root(t);
        self.client
            .batch_execute("SAVEPOINT tenet_room")
            .map_err(db)?;
        if keyed_by_tenant {
            let mut only = self.dependents(&self.shape_of(t).qualified_name());
            only.insert(t.qualified_name());
            if let Err(e) = self.remove_rows(&OTHERS, Some(&only)) {
                self.client
                    .batch_execute("ROLLBACK TO SAVEPOINT tenet_room; RELEASE SAVEPOINT tenet_room")
                    .map_err(db)?;
                return Ok(untested(format!(
                    "could not make room for tenant B's row: {e}"
                )));
            }
        }
        let result = self.insert_for_b(t, &overrides, joining);
        self.client
            .batch_execute("ROLLBACK TO SAVEPOINT tenet_room; RELEASE SAVEPOINT tenet_room")
            .map_err(db)?;
        result
    }

    fn insert_for_b(
        &mut self,
        t: &'a Table,
        overrides: &BTreeMap<String, String>,
        joining: bool,
    ) -> Result<Cell, ProveError> {
        let row = match self.fresh_row(t, Tenant::B, &|_| Tenant::B, overrides)? {
            Ok(r) => r,
            Err(e) => {
                return Ok(untested(format!(
                    "could not synthesize a row for tenant B: {e}"
                )))
            }
        };
        Ok(match self.insert_as_app(t, &row)? {
            Ok(()) if joining => leak("tenant A's user added itself to tenant B"),
            Ok(()) => leak("inserted a row for tenant B with tenant A's setting"),
            Err(e) if is_rls_violation(&e) => pass(""),
            Err(e) => denied_or(e, |e| untested(format!("the insert failed: {e}"))),
        })
    }

    /// For each foreign key to a tenant table: an A row pointing at B's row.
    pub(super) fn insert_ref_probe(&mut self, t: &'a Table) -> Result<Option<Cell>, ProveError> {
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
    pub(super) fn unique_probe(&mut self, t: &'a Table) -> Result<Option<Cell>, ProveError> {
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
        // A key with the tenant column in it can only collide with A's own rows.
        keys.retain(|(_, cols)| !cols.contains(&self.column));
        // Keys that must span tenants (a token, a credential id) say nothing about B's data.
        let global: BTreeSet<String> = crate::check::global_keys(&self.model, shape)
            .into_iter()
            .filter(|(k, _)| crate::check::oracle_is_moot(&self.model, shape, k))
            .map(|(k, _)| k.name().to_string())
            .collect();
        keys.retain(|(name, _)| !global.contains(name));
        if keys.is_empty() {
            return Ok(None);
        }
        let Some(b_row) = self.rows.get(&(shape.qualified_name(), Tenant::B)).cloned() else {
            return Ok(Some(untested(self.failed_reason(t))));
        };
        let mut leaks = Vec::new();
        let mut notes = Vec::new();
        for (key, cols) in &keys {
            // A uuid cannot be guessed: a violation tells A only what it already knew.
            let unguessable = cols.iter().filter(|c| **c != self.column).all(|c| {
                shape
                    .column(c)
                    .is_some_and(|x| resolve_domain(self.catalog, &x.data_type) == "uuid")
            });
            if unguessable {
                notes.push(format!("{key}: uuid values cannot be guessed"));
                continue;
            }
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

    /// Push: tenant A moves its own rows into tenant B with a blind UPDATE (`WITH CHECK
    /// (true)`; a WHERE clause would pull the SELECT policies in on the new row).
    pub(super) fn push_probe(&mut self, t: &'a Table) -> Result<Option<Cell>, ProveError> {
        let Some(tc) = self.tenant_column(t) else {
            return Ok(None);
        };
        if self.model.is_root(t) {
            return Ok(None);
        }
        if self.own_rows(t).is_empty() {
            return Ok(Some(untested(self.failed_reason(t))));
        }
        let name = t.qualified_name();
        let b = self.tenant_literal(Tenant::B, &self.column_type(t, &tc));
        let count = format!(
            "SELECT count(*) FROM {name} WHERE {} = {b}",
            quote::ident(&tc)
        );
        let update = format!("UPDATE {name} SET {} = {b}", quote::ident(&tc));
        // Rows that reference A's would hold the move back (a foreign key): clear them first.
        let dependents = self.dependents(&self.shape_of(t).qualified_name());
        self.client
            .batch_execute("SAVEPOINT tenet_state")
            .map_err(db)?;
        let all = [Tenant::A, Tenant::B, Tenant::Nobody, Tenant::Admitted];
        let outcome = match self.remove_rows(&all, Some(&dependents)) {
            Err(e) => Err(format!("could not clear the rows that reference it: {e}")),
            Ok(()) => {
                let before: i64 = self
                    .client
                    .query_one(count.as_str(), &[])
                    .map_err(db)?
                    .get(0);
                self.begin_probe(&self.app.clone(), Setting::A)?;
                let r = self.client.execute(update.as_str(), &[]);
                let moved = match r {
                    Ok(_) => {
                        self.client.batch_execute("RESET ROLE").map_err(db)?;
                        let after: i64 = self
                            .client
                            .query_one(count.as_str(), &[])
                            .map_err(db)?
                            .get(0);
                        Ok(after - before)
                    }
                    Err(e) => Err(e),
                };
                self.end_probe()?;
                Ok(moved)
            }
        };
        self.client
            .batch_execute("ROLLBACK TO SAVEPOINT tenet_state; RELEASE SAVEPOINT tenet_state")
            .map_err(db)?;
        Ok(Some(match outcome {
            Err(e) => untested(e),
            Ok(Ok(n)) if n > 0 => leak(format!(
                "tenant A moved {n} of its rows into tenant B with an UPDATE"
            )),
            Ok(Ok(_)) => pass(""),
            Ok(Err(e)) if is_rls_violation(&e) => pass(""),
            Ok(Err(e)) => denied_or(e, |e| pass(format!("refused: {e}"))),
        }))
    }

    /// TRUNCATE as the app role: no policy applies to it.
    pub(super) fn truncate_probe(&mut self, t: &'a Table) -> Result<Option<Cell>, ProveError> {
        let foreign = self.foreign_rows(t).len();
        if foreign == 0 {
            return Ok(None);
        }
        self.begin_probe(&self.app.clone(), Setting::A)?;
        let r = self
            .client
            .batch_execute(&format!("TRUNCATE {}", t.qualified_name()));
        self.end_probe()?;
        Ok(Some(match r {
            Ok(()) => leak(format!(
                "TRUNCATE with tenant A's setting removed every tenant's rows ({foreign} of others)"
            )),
            Err(e) => denied_or(e, |e| pass(format!("refused: {e}"))),
        }))
    }

    /// A row written with an empty setting: a text tenant column takes '' and every
    /// tenant-less connection reads it back.
    pub(super) fn empty_write_probe(&mut self, t: &'a Table) -> Result<Option<Cell>, ProveError> {
        let Some(tc) = self.tenant_column(t) else {
            return Ok(None);
        };
        let Some(col) = t.column(&tc) else {
            return Ok(None);
        };
        if !crate::model::is_text_type(&col.data_type) || self.model.is_root(t) {
            return Ok(None);
        }
        let overrides = BTreeMap::from([(tc.clone(), format!("''::{}", col.data_type))]);
        let row = match self.fresh_row(t, Tenant::A, &|_| Tenant::A, &overrides)? {
            Ok(r) => r,
            // The table itself refuses '' (a CHECK): nothing to write.
            Err(_) => return Ok(Some(pass("the table refuses an empty tenant"))),
        };
        let sql = insert_sql(&t.qualified_name(), &row.supplied, row.overriding, None);
        self.begin_probe(&self.app.clone(), Setting::Empty)?;
        let written = self.client.execute(sql.as_str(), &[]);
        let seen = match &written {
            Ok(_) => self
                .client
                .query_one(
                    format!(
                        "SELECT count(*) FROM {} WHERE {} = ''",
                        t.qualified_name(),
                        quote::ident(&tc)
                    )
                    .as_str(),
                    &[],
                )
                .map(|r| r.get::<_, i64>(0))
                .unwrap_or(0),
            Err(_) => 0,
        };
        self.end_probe()?;
        Ok(Some(match written {
            Ok(_) => leak(format!(
                "with an empty setting the app role wrote a row whose {tc} is '', and a connection with an empty setting reads {seen} such row(s) back"
            )),
            Err(e) if is_rls_violation(&e) => pass(""),
            Err(e) => denied_or(e, |e| pass(format!("refused: {e}"))),
        }))
    }
}
