//! The bundled Todo example (`examples/todo`): a per-user app whose `users` table is the tenant
//! root. Without row-level security `check` flags it and `prove` shows the leaks; after the SQL
//! `generate` writes, both are clean.

use std::collections::BTreeSet;
use std::path::Path;

use tenet_tenancy::{check, generate, prove, Model};
use tenet_testkit::test_db;

fn todo() -> (String, tenet_config::Tenancy) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo");
    let config = tenet_config::Config::read(&root.join("tenet.toml")).unwrap();
    let sql = std::fs::read_to_string(root.join("schema/todo.sql")).unwrap();
    (sql, config.tenancy.expect("[tenancy] in the Todo example"))
}

/// The example's app role is `todo_app`; roles are cluster-wide and tests share the cluster,
/// so this test stands in a role of its own (dropped at the end).
const ROLE_NAME: &str = "tenet_tt_todo_app";

struct DropRole;
impl Drop for DropRole {
    fn drop(&mut self) {
        if let Ok(mut c) = tenet_testkit::server().connect() {
            let _ = c.batch_execute(&format!("DROP ROLE IF EXISTS {ROLE_NAME}"));
        }
    }
}

fn findings(
    client: &mut postgres::Client,
    tenancy: &tenet_config::Tenancy,
) -> (tenet_catalog::Catalog, Vec<tenet_report::Finding>) {
    let mut catalog = tenet_catalog::inspect(client).unwrap();
    tenet_tenancy::merge_role(client, &mut catalog, &tenancy.app_role).unwrap();
    let findings = check(&Model::new(&catalog, tenancy));
    (catalog, findings)
}

#[test]
fn todo_check_generate_prove() {
    let (sql, mut tenancy) = todo();
    assert_eq!(tenancy.column, "user_id");
    assert_eq!(tenancy.app_role, "todo_app");
    tenancy.app_role = ROLE_NAME.to_string();
    let _drop_role = DropRole;
    let db = test_db();
    tenet_testkit::exec(
        &db,
        &format!("DO $$ BEGIN CREATE ROLE {ROLE_NAME} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;"),
    );
    tenet_testkit::exec(&db, &sql);
    tenet_testkit::exec(
        &db,
        &format!("GRANT SELECT, INSERT, UPDATE, DELETE ON users, tasks TO {ROLE_NAME};"),
    );
    let mut client = db.connect().unwrap();

    // As written (no row-level security): findings on both tables, leaks everywhere.
    let (catalog, before) = findings(&mut client, &tenancy);
    let rules: BTreeSet<(String, String)> = before
        .iter()
        .map(|f| (f.rule.clone(), f.object.clone().unwrap_or_default()))
        .collect();
    for expected in [
        ("rls-disabled", "table public.users"),
        ("rls-disabled", "table public.tasks"),
        ("policy-missing", "table public.users"),
        ("policy-missing", "table public.tasks"),
        (
            "key-without-tenant",
            "constraint tasks_pkey on table public.tasks",
        ),
    ] {
        assert!(
            rules.contains(&(expected.0.to_string(), expected.1.to_string())),
            "missing {expected:?} in\n{}",
            tenet_report::to_human(&before)
        );
    }
    assert_eq!(rules.len(), 5, "{}", tenet_report::to_human(&before));
    let report = prove::prove(&mut client, &tenancy).unwrap();
    for probe in [
        "read",
        "update",
        "delete",
        "insert",
        "no-setting",
        "empty-setting",
    ] {
        for table in ["table public.users", "table public.tasks"] {
            let row = report.objects.iter().find(|r| r.object == table).unwrap();
            assert_eq!(
                row.probes[probe].status,
                prove::Status::Leak,
                "{table} {probe}\n{}",
                prove::to_human(&report)
            );
        }
    }

    // After the generated SQL: no finding, no leak, every probe passes (the owner probe does not
    // apply: the tables belong to a superuser).
    let generated = generate::generate(&Model::new(&catalog, &tenancy));
    assert!(
        generated
            .sql
            .contains("CREATE POLICY tenant_isolation ON public.users"),
        "{}",
        generated.sql
    );
    assert!(
        generated.sql.contains("PRIMARY KEY (user_id, id)"),
        "{}",
        generated.sql
    );
    client.batch_execute(&generated.sql).unwrap();
    let (_, after) = findings(&mut client, &tenancy);
    assert!(after.is_empty(), "{}", tenet_report::to_human(&after));
    let report = prove::prove(&mut client, &tenancy).unwrap();
    drop(client);
    drop(db);
    assert_eq!(report.leaks, 0, "{}", prove::to_human(&report));
    for row in &report.objects {
        for (probe, cell) in &row.probes {
            {
                assert_eq!(
                    cell.status,
                    prove::Status::Pass,
                    "{} {probe}\n{}",
                    row.object,
                    prove::to_human(&report)
                );
            }
        }
    }
}
