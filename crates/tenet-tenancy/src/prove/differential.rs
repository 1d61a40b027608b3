//! View and function differentials: content with and without tenant B's rows.

use super::*;

impl<'a> Prover<'a> {
    /// Contents (hash) of each view as the app role, or the error text.
    pub(super) fn view_contents(
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
    pub(super) fn b_state(&mut self) -> Result<String, ProveError> {
        let mut parts = Vec::new();
        for t in self.order.iter().filter(|t| self.model.is_tenant(t)) {
            let name = t.qualified_name();
            let filter = if let Some(tc) = self.tenant_column(t) {
                format!(
                    "{} = {}",
                    quote::ident(&tc),
                    self.tenant_literal(Tenant::B, &self.column_type(t, &tc))
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

    pub(super) fn call_probes(&mut self) -> Result<Vec<(String, Cell)>, ProveError> {
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
        let without = self.in_state(&OTHERS, &[], |p| {
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

/// `SELECT f(args)` out of a probe query, for messages.
pub(super) fn call_text(sql: &str) -> String {
    sql.split("FROM (SELECT ")
        .nth(1)
        .and_then(|s| s.rsplit_once(" AS x)"))
        .map(|(c, _)| c.to_string())
        .unwrap_or_else(|| sql.to_string())
}

pub(super) fn generic_args(ty: &str) -> Vec<String> {
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

/// The view's content with the synthetic rows and without them. An error is not a leak: with
/// no tenant set, a policy that casts the empty setting errors as soon as there are rows to
/// filter (fails closed); with a tenant set, it means the view could not be read.
pub(super) fn compare_contents(
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
