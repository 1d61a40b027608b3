//! `tenet prove --emit pgtap`: the proof as a pgTAP file a team keeps and runs with `pg_prove`
//! in its own CI. The file plants the same rows (every column spelled out, so it runs the same
//! way twice), runs the read and write probes as the app role, and asserts as the connecting
//! role; all in one transaction it rolls back. Only probes that ran here (passed or leaked) are
//! written; a leak is a failing test.
//!
//! The probes run through two helpers created (and rolled back) in schema `tenet_pgtap`:
//! `count(query)` and `run(statement)` return the result or `error <SQLSTATE>`, so a policy
//! that fails closed with an error does not abort the file. psql's `\gset` carries the result
//! from the app role back to the connecting role, which records it with pgTAP's `ok()`.

use super::*;

impl<'a> Prover<'a> {
    /// The pgTAP file for the tables probed (`rows` holds their outcomes).
    pub(super) fn pgtap(&self, tables: &[&'a Table], rows: &BTreeMap<String, Row>) -> String {
        let app = quote::ident(&self.app);
        let mut body = String::new();
        let mut tests = 0usize;
        let ran = |object: &str, probe: &str| {
            rows.get(object)
                .and_then(|r| r.probes.get(probe))
                .is_some_and(|c| c.status != Status::Untested)
        };
        let probed: Vec<(&Table, String, String)> = tables
            .iter()
            .filter_map(|t| {
                let col = self.tenant_column(t)?;
                Some((*t, col.clone(), self.column_type(t, &col)))
            })
            .collect();

        // Tenant B's rows per table, counted once planted.
        for (i, (t, col, ty)) in probed.iter().enumerate() {
            body.push_str(&format!(
                "SELECT count(*) AS tenet_b{i} FROM {} WHERE {} = {} \\gset\n",
                t.qualified_name(),
                quote::ident(col),
                self.tenant_literal(Tenant::B, ty)
            ));
        }

        let as_app = |setting: Option<&str>, query: String, helper: &str| -> String {
            let mut s = format!("SET ROLE {app};\n");
            if let Some(v) = setting {
                s.push_str(&format!(
                    "SELECT set_config({}, {}, true) AS tenet_unused \\gset\n",
                    quote::literal(&self.setting),
                    quote::literal(v)
                ));
            }
            s.push_str(&format!(
                "SELECT tenet_pgtap.{helper}({}) AS tenet_r \\gset\nRESET ROLE;\n",
                quote::literal(&query)
            ));
            s
        };
        let mut test = |body: &mut String, prelude: String, condition: &str, what: String| {
            tests += 1;
            body.push_str(&prelude);
            body.push_str(&format!(
                "SELECT ok({condition}, {});\n",
                quote::literal(&what)
            ));
        };

        // With no setting at all, then an empty one: nothing visible (or an error).
        for (probe, setting, label) in [
            ("no-setting", None, "no tenant set"),
            ("empty-setting", Some(""), "an empty tenant setting"),
        ] {
            for (t, ..) in &probed {
                let name = t.qualified_name();
                if !ran(&format!("table {name}"), probe) {
                    continue;
                }
                test(
                    &mut body,
                    as_app(setting, format!("SELECT count(*) FROM {name}"), "count"),
                    ":'tenet_r' !~ '^[1-9]'",
                    format!("{probe} {name}: no rows visible with {label}"),
                );
            }
        }

        let a = self.a_setting();
        for (t, col, ty) in &probed {
            let name = t.qualified_name();
            let object = format!("table {name}");
            if ran(&object, "read") {
                test(
                    &mut body,
                    as_app(
                        Some(&a),
                        format!(
                            "SELECT count(*) FROM {name} WHERE {} IS DISTINCT FROM {}",
                            quote::ident(col),
                            self.tenant_literal(Tenant::A, ty)
                        ),
                        "count",
                    ),
                    ":'tenet_r' IN ('0', 'error 42501')",
                    format!("read {name}: no rows of other tenants with tenant A's setting"),
                );
            }
            // A copy of B's row: the policy must refuse it before any key does.
            if let Some(b) = self.rows.get(&(t.qualified_name(), Tenant::B)) {
                if ran(&object, "insert") && !self.model.is_root(t) {
                    test(
                        &mut body,
                        as_app(Some(&a), self.planted_insert(t, b), "run"),
                        ":'tenet_r' = 'error 42501'",
                        format!(
                            "insert {name}: a row of tenant B is refused with tenant A's setting"
                        ),
                    );
                }
            }
        }
        for (i, (t, col, ty)) in probed.iter().enumerate() {
            let name = t.qualified_name();
            if !ran(&format!("table {name}"), "update") {
                continue;
            }
            test(
                &mut body,
                as_app(
                    Some(&a),
                    format!(
                        "UPDATE {name} SET {} = {}",
                        quote::ident(col),
                        self.tenant_literal(Tenant::A, ty)
                    ),
                    "run",
                ),
                &format!(
                    ":'tenet_r' IN ('ok', 'error 42501') AND (SELECT count(*) FROM {name} WHERE {} = {}) = :'tenet_b{i}'::bigint",
                    quote::ident(col),
                    self.tenant_literal(Tenant::B, ty)
                ),
                format!("update {name}: a blind UPDATE with tenant A's setting leaves tenant B's rows"),
            );
        }
        // Children first, so A's own rows go without foreign keys in the way.
        let order: Vec<usize> = {
            let rank = |t: &Table| {
                self.order
                    .iter()
                    .position(|o| o.qualified_name() == self.shape_of(t).qualified_name())
                    .unwrap_or(0)
            };
            let mut idx: Vec<usize> = (0..probed.len()).collect();
            idx.sort_by_key(|i| std::cmp::Reverse(rank(probed[*i].0)));
            idx
        };
        for i in order {
            let (t, col, ty) = &probed[i];
            let name = t.qualified_name();
            if !ran(&format!("table {name}"), "delete") {
                continue;
            }
            test(
                &mut body,
                as_app(Some(&a), format!("DELETE FROM {name}"), "run"),
                &format!(
                    ":'tenet_r' IN ('ok', 'error 42501') AND (SELECT count(*) FROM {name} WHERE {} = {}) = :'tenet_b{i}'::bigint",
                    quote::ident(col),
                    self.tenant_literal(Tenant::B, ty)
                ),
                format!("delete {name}: a blind DELETE with tenant A's setting leaves tenant B's rows"),
            );
        }

        let mut out = format!(
            "-- Tenant isolation tests written by `tenet prove --emit pgtap` (app role {}, setting {}).\n\
             -- Run with: pg_prove -d <database> <this file>. Everything is rolled back.\n\
             \\set ON_ERROR_STOP 1\n\
             BEGIN;\n\
             CREATE EXTENSION IF NOT EXISTS pgtap;\n\
             CREATE SCHEMA tenet_pgtap;\n\
             CREATE FUNCTION tenet_pgtap.count(q text) RETURNS text LANGUAGE plpgsql AS $f$\n\
             DECLARE n bigint;\n\
             BEGIN EXECUTE q INTO n; RETURN n::text;\n\
             EXCEPTION WHEN OTHERS THEN RETURN 'error ' || SQLSTATE; END $f$;\n\
             CREATE FUNCTION tenet_pgtap.run(q text) RETURNS text LANGUAGE plpgsql AS $f$\n\
             BEGIN EXECUTE q; RETURN 'ok';\n\
             EXCEPTION WHEN OTHERS THEN RETURN 'error ' || SQLSTATE; END $f$;\n\
             GRANT USAGE ON SCHEMA tenet_pgtap TO {app};\n\
             SELECT plan({tests});\n\n-- Tenants A ({}) and B ({}).\n",
            self.app, self.setting, self.a, self.b
        );
        for key in &self.planted {
            if let Some(row) = self.rows.get(key) {
                if let Some(t) = self.model.table(&key.0) {
                    out.push_str(&self.planted_insert(t, row));
                    out.push_str(";\n");
                }
            }
        }
        out.push('\n');
        out.push_str(&body);
        out.push_str("\nSELECT * FROM finish();\nROLLBACK;\n");
        out
    }

    /// The INSERT of a planted row with every column's value spelled out.
    fn planted_insert(&self, t: &Table, row: &Inserted) -> String {
        let shape = self.shape_of(t);
        let mut supplied = Vec::new();
        let mut overriding = false;
        for c in shape.columns.iter().filter(|c| c.generated.is_none()) {
            let v = match row.values.get(&c.name).cloned().flatten() {
                Some(v) => format!("{}::{}", quote::literal(&v), c.data_type),
                None => format!("NULL::{}", c.data_type),
            };
            overriding |= c.identity.is_some();
            supplied.push((c.name.clone(), v));
        }
        insert_sql(&t.qualified_name(), &supplied, overriding, None)
    }
}
