//! `new-table-without-rls`: with `[tenancy]`, a tenant-scoped table created without ENABLE ROW
//! LEVEL SECURITY in the same migration.

use pg_query::protobuf;

use crate::lexer;
use crate::lint::names::TableRef;
use crate::lint::Ctx;

pub(in crate::lint) fn created(ctx: &mut Ctx, rel: &protobuf::RangeVar, t: &TableRef) {
    let Some(tenancy) = ctx.options.tenancy else {
        return;
    };
    let schema = t.schema.as_deref().unwrap_or("public");
    if ctx.in_function || rel.relpersistence == "t" || tenancy.is_global(schema, &t.name) {
        return;
    }
    let name_end = ctx.token_at(ctx.at(rel.location)).1;
    let mut end = name_end;
    // Qualified name: extend over `.name`.
    if let Some(i) = lexer::at_offset(&ctx.view.tokens, name_end) {
        if ctx.view.tokens[i].text == "." && i + 1 < ctx.view.tokens.len() {
            end = ctx.view.tokens[i + 1].end;
        }
    }
    let span = (ctx.view.code.0, end);
    ctx.state.tenant_tables.push((ctx.stmt, t.clone(), span));
}

pub(in crate::lint) fn at_end(ctx: &mut Ctx) {
    for (stmt, t, span) in std::mem::take(&mut ctx.state.tenant_tables) {
        if ctx.state.rls_enabled.iter().any(|r| r.matches(&t)) {
            continue;
        }
        // A table created and dropped in the same migration does not stay.
        if !ctx.state.created.iter().any(|c| c.matches(&t)) {
            continue;
        }
        ctx.stmt = stmt;
        let name = ctx.qualified(&t);
        ctx.report(
            "new-table-without-rls",
            span,
            ctx.object(&t),
            format!("tenant-scoped table {name} is created without ENABLE ROW LEVEL SECURITY in the same migration"),
            Some(format!(
                "ALTER TABLE {name} ENABLE ROW LEVEL SECURITY; ALTER TABLE {name} FORCE ROW LEVEL SECURITY; and CREATE POLICY ... for the tenant column (or list {} in [tenancy] global_tables).",
                t.name
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use tenet_config::Tenancy;

    use crate::lint::lint_sql;
    use crate::lint::testing::*;

    fn tenancy() -> Tenancy {
        Tenancy {
            column: "tenant_id".into(),
            setting: "app.tenant_id".into(),
            app_role: "app_user".into(),
            global_tables: vec!["plans".into()],
            ..Default::default()
        }
    }

    #[test]
    fn fails() {
        let sql = "CREATE TABLE public.tasks (id bigint, tenant_id uuid NOT NULL);\n";
        let findings = lint_sql("m.sql", sql, None, Some(&tenancy()));
        let f = findings
            .iter()
            .find(|f| f.rule == "new-table-without-rls")
            .expect("reported");
        assert_eq!(underlined(sql, f), "CREATE TABLE public.tasks");
        assert_eq!(f.object.as_deref(), Some("table public.tasks"));
    }

    #[test]
    fn passes() {
        for sql in [
            "CREATE TABLE tasks (id bigint, tenant_id uuid NOT NULL);\nALTER TABLE tasks ENABLE ROW LEVEL SECURITY;\n",
            // Global tables, temporary tables.
            "CREATE TABLE plans (id bigint);",
            "CREATE TEMP TABLE scratch (id bigint);",
        ] {
            let findings = lint_sql("m.sql", sql, None, Some(&tenancy()));
            assert!(
                findings.iter().all(|f| f.rule != "new-table-without-rls"),
                "{sql}: {findings:#?}"
            );
        }
        // Projects without tenancy.
        silent("CREATE TABLE tasks (id bigint);", "new-table-without-rls");
    }
}
