//! Read probes: what the app role (and the roles it can become, and the owner) sees.

use super::*;

impl<'a> Prover<'a> {
    // --- plumbing -------------------------------------------------------------------------

    pub(super) fn begin_probe(&mut self, role: &str, setting: Setting) -> Result<(), ProveError> {
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
                quote::literal(&self.a_setting())
            )),
        }
        self.client.batch_execute(&sql).map_err(db)
    }

    pub(super) fn end_probe(&mut self) -> Result<(), ProveError> {
        self.client
            .batch_execute("ROLLBACK TO SAVEPOINT tenet_probe; RELEASE SAVEPOINT tenet_probe")
            .map_err(db)
    }

    /// Count, in the current role, rows of `t` that do not belong to A.
    pub(super) fn count_foreign(&mut self, t: &Table) -> Result<i64, postgres::Error> {
        let name = t.qualified_name();
        let sql = if let Some(col) = self.tenant_column(t) {
            format!(
                "SELECT count(*) FROM {name} WHERE {} IS DISTINCT FROM {}",
                quote::ident(&col),
                self.tenant_literal(Tenant::A, &self.column_type(t, &col))
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

    pub(super) fn visible_without_tenant(
        &mut self,
        t: &Table,
        setting: Setting,
    ) -> Result<Cell, ProveError> {
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

    pub(super) fn read_as(&mut self, t: &Table, role: &str) -> Result<Cell, ProveError> {
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

    pub(super) fn failed_reason(&self, t: &Table) -> String {
        self.failed
            .get(&self.shape_of(t).qualified_name())
            .cloned()
            .unwrap_or_else(|| "no synthetic rows of tenant B here".into())
    }

    /// Can the app role switch row-level security off (as owner) or become a role that sees
    /// other tenants?
    pub(super) fn escalate_probe(
        &mut self,
        t: &'a Table,
        roles: &[String],
    ) -> Result<Cell, ProveError> {
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
    pub(super) fn owner_probe(&mut self, t: &'a Table) -> Result<Option<Cell>, ProveError> {
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

    /// Secret-looking columns of global tables the app role may read, asked of the server
    /// (column grants count: `GRANT SELECT (api_key) ON tenants`).
    pub(super) fn readable_secrets(
        &mut self,
    ) -> Result<Vec<(QualifiedName, Vec<String>)>, ProveError> {
        let mut out = Vec::new();
        for t in &self.catalog.tables {
            if !self.model.in_scope(&t.schema) || self.model.is_tenant(t) {
                continue;
            }
            let oid = self.oids.get(&t.qualified_name()).copied().unwrap_or(0);
            let mut readable = Vec::new();
            for c in t
                .columns
                .iter()
                .filter(|c| crate::check::reach::looks_secret(&c.name))
            {
                let can: bool = self
                    .client
                    .query_one(
                        "select has_column_privilege($1, $2::bigint::oid, $3, 'SELECT')",
                        &[&self.app, &oid, &c.name],
                    )
                    .map_err(db)?
                    .get(0);
                if can {
                    readable.push(c.name.clone());
                }
            }
            if !readable.is_empty() {
                out.push((t.qualified_name(), readable));
            }
        }
        Ok(out)
    }

    /// Secret-looking columns of a global table: can tenant A read them on tenant B's row (or
    /// on any row, when B has none here)?
    pub(super) fn secret_probe(
        &mut self,
        name: &QualifiedName,
        columns: &[&str],
    ) -> Result<Option<Cell>, ProveError> {
        // B's row by its tenant key (not by ctid: a column grant does not cover system columns).
        let key = self
            .tenant_keys
            .get(name)
            .and_then(|k| k.iter().next())
            .cloned();
        let filter = match (key, self.model.table(name)) {
            (Some(k), Some(t)) if self.rows.contains_key(&(name.clone(), Tenant::B)) => format!(
                "{} = {}",
                quote::ident(&k),
                self.tenant_literal(Tenant::B, &self.column_type(t, &k))
            ),
            _ => "true".into(),
        };
        let list = columns
            .iter()
            .map(|c| quote::ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        self.begin_probe(&self.app.clone(), Setting::A)?;
        let r = self.client.query_one(
            format!("SELECT count(*) FROM (SELECT {list} FROM {name} WHERE {filter}) s").as_str(),
            &[],
        );
        self.end_probe()?;
        Ok(Some(match r {
            Ok(row) if row.get::<_, i64>(0) > 0 => leak(format!(
                "tenant A reads {} of another tenant's row",
                columns.join(", ")
            )),
            Ok(_) => pass(""),
            Err(e) => denied_or(e, |e| untested(format!("the query failed: {e}"))),
        }))
    }
}
