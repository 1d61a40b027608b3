//! Supabase storage's real history (`../shared/corpus/supabase_storage`) under the Supabase
//! preset, with an application table beside it: `storage` is one of the managed schemas, so
//! check judges only the application's tables, generate writes nothing into `storage`, and
//! after its SQL is applied check has nothing it fixes left and prove finds no leak.
//!
//! Storage's migrations create `anon`, `authenticated` and `service_role` unless the runner
//! sets `storage.install_roles` to false, and name them through `storage.anon_role`, ...:
//! roles are cluster-wide, so the test sets both and uses roles of its own.

use std::path::PathBuf;

use tenet_tenancy::{check, generate, prove, Model};
use tenet_testkit::{server, test_db};

const PREFIX: &str = "tenet_storage_corpus";

struct DropRoles;
impl Drop for DropRoles {
    fn drop(&mut self) {
        if let Ok(mut c) = server().connect() {
            for r in ["anon", "authenticated", "service"] {
                let _ = c.batch_execute(&format!("DROP ROLE IF EXISTS {PREFIX}_{r}"));
            }
        }
    }
}

fn migrations() -> Option<Vec<PathBuf>> {
    let dir = tenet_testkit::corpus("supabase_storage/migrations")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    // In version order: `00010_...` is version 10.
    files.sort_by_key(|p| {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        name.split('_').next().unwrap().parse::<u64>().unwrap()
    });
    Some(files)
}

/// The application's side: per-user notes, without isolation yet, and what Supabase's
/// platform provides that the application uses (`auth.users`, `auth.uid()`).
const APP: &str = "
CREATE SCHEMA IF NOT EXISTS auth;
CREATE TABLE IF NOT EXISTS auth.users (id uuid PRIMARY KEY, email text);
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''),
                  (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'))::uuid
$$;
CREATE TABLE public.notes (
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    body text NOT NULL CHECK (body <> ''),
    PRIMARY KEY (user_id, id)
);
GRANT USAGE ON SCHEMA public TO {authenticated};
GRANT SELECT, INSERT, UPDATE, DELETE ON public.notes TO {authenticated};
";

#[test]
fn storage_history_with_the_supabase_preset_generates_then_proves_clean() {
    let Some(files) = migrations() else { return };
    let _drop = DropRoles;
    let role = |r: &str| format!("{PREFIX}_{r}");
    let db = test_db();
    let mut client = db.connect().unwrap();
    for (r, attrs) in [
        ("anon", "NOLOGIN NOINHERIT"),
        ("authenticated", "NOLOGIN NOINHERIT"),
        ("service", "NOLOGIN NOINHERIT BYPASSRLS"),
    ] {
        client
            .batch_execute(&format!(
                "DO $$ BEGIN CREATE ROLE {} {attrs}; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
                role(r)
            ))
            .unwrap();
    }
    // What Supabase's runner sets per session.
    client
        .batch_execute(&format!(
            "SET storage.install_roles = 'false'; SET storage.anon_role = '{}'; \
             SET storage.authenticated_role = '{}'; SET storage.service_role = '{}'",
            role("anon"),
            role("authenticated"),
            role("service")
        ))
        .unwrap();
    for file in &files {
        let sql = std::fs::read_to_string(file).unwrap();
        // Statement by statement: some files create indexes CONCURRENTLY.
        for statement in pg_query::split_with_parser(&sql).unwrap() {
            client.batch_execute(statement).unwrap_or_else(|e| {
                panic!(
                    "{}: {}\n{statement}",
                    file.display(),
                    tenet_testkit::describe(&e)
                )
            });
        }
    }
    client
        .batch_execute(&APP.replace("{authenticated}", &role("authenticated")))
        .unwrap();

    let mut tenancy =
        tenet_config::Config::parse("[tenancy]\npreset = \"supabase\"\ncolumn = \"user_id\"\n")
            .unwrap()
            .tenancy
            .unwrap();
    tenancy.app_role = role("authenticated");
    tenancy.anon_role = role("anon");
    let inspect = |client: &mut postgres::Client| {
        let mut catalog = tenet_catalog::inspect(client).unwrap();
        for r in [&tenancy.app_role, &tenancy.anon_role] {
            tenet_tenancy::merge_role(client, &mut catalog, r).unwrap();
        }
        catalog
    };

    // Before: findings on the application's table, none on storage's.
    let catalog = inspect(&mut client);
    let storage_tables = catalog
        .tables
        .iter()
        .filter(|t| t.schema == "storage")
        .count();
    assert!(
        storage_tables >= 8,
        "the history made {storage_tables} storage tables"
    );
    let before = check(&Model::new(&catalog, &tenancy));
    assert!(
        before
            .iter()
            .any(|f| f.rule == "rls-disabled" && f.object.as_deref() == Some("table public.notes")),
        "{}",
        tenet_report::to_human(&before)
    );
    assert!(
        !before
            .iter()
            .any(|f| f.object.as_deref().is_some_and(|o| o.contains("storage."))),
        "{}",
        tenet_report::to_human(&before)
    );

    let generated = generate::generate(&Model::new(&catalog, &tenancy));
    assert!(!generated.sql.contains("storage."), "{}", generated.sql);
    client
        .batch_execute(&generated.sql)
        .unwrap_or_else(|e| panic!("{}\n{}", tenet_testkit::describe(&e), generated.sql));

    let catalog = inspect(&mut client);
    let after = check(&Model::new(&catalog, &tenancy));
    assert!(
        after.is_empty(),
        "{}\n{}",
        tenet_report::to_human(&after),
        generated.sql
    );
    let report = prove::prove(&mut client, &tenancy).unwrap();
    eprintln!("{}", prove::to_human(&report));
    assert_eq!(
        report.leaks,
        0,
        "{}\n{}",
        prove::to_human(&report),
        generated.sql
    );
    assert!(
        report
            .objects
            .iter()
            .any(|o| o.object == "table public.notes"),
        "{}",
        prove::to_human(&report)
    );
}
