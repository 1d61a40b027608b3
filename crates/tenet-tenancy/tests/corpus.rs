//! Real histories from `../shared/corpus` with a tenant column: Supabase auth (`user_id`
//! columns pointing at `auth.users`). Generate's output must load, leave no finding it fixes,
//! keep the keys that must stay global (identities, tokens), and then prove clean.

use std::path::Path;

use tenet_config::Tenancy;
use tenet_tenancy::{check, generate, prove, Model};
use tenet_testkit::{server, test_db};

const ROLE: &str = "tenet_corpus_auth_app";

struct DropRole;
impl Drop for DropRole {
    fn drop(&mut self) {
        if let Ok(mut c) = server().connect() {
            let _ = c.batch_execute(&format!("DROP OWNED BY {ROLE}; DROP ROLE IF EXISTS {ROLE}"));
        }
    }
}

fn migrations(dir: &Path) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[test]
fn supabase_auth_generate_loads_keeps_global_keys_and_proves_clean() {
    let Some(dir) = tenet_testkit::corpus("supabase_auth/migrations") else {
        return;
    };
    let _drop = DropRole;
    let db = test_db();
    let mut client = db.connect().unwrap();
    client
        .batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE {ROLE} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        ))
        .unwrap();
    for sql in migrations(&dir) {
        client.batch_execute(&sql).unwrap();
    }
    client
        .batch_execute(&format!(
            "GRANT USAGE ON SCHEMA auth TO {ROLE}; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA auth TO {ROLE}; \
             REVOKE ALL ON auth.oauth_clients FROM {ROLE}"
        ))
        .unwrap();
    let tenancy = Tenancy {
        column: "user_id".into(),
        setting: "app.user_id".into(),
        app_role: ROLE.into(),
        // Shared by every user: the instance, OAuth clients and SSO/SAML configuration, the
        // audit log (written by the server, not by users).
        global_tables: [
            "instances",
            "schema_migrations",
            "audit_log_entries",
            "oauth_clients",
            "oauth_client_states",
            "custom_oauth_providers",
            "sso_providers",
            "sso_domains",
            "saml_providers",
            "saml_relay_states",
        ]
        .iter()
        .map(|t| format!("auth.{t}"))
        .collect(),
        ..Default::default()
    };
    let inspect = |client: &mut postgres::Client| {
        let mut catalog = tenet_catalog::inspect(client).unwrap();
        tenet_tenancy::merge_role(client, &mut catalog, ROLE).unwrap();
        catalog
    };
    let catalog = inspect(&mut client);
    let generated = generate::generate(&Model::new(&catalog, &tenancy));
    client
        .batch_execute(&generated.sql)
        .unwrap_or_else(|e| panic!("{}\n{}", tenet_testkit::describe(&e), generated.sql));
    // The keys that identify credentials stay as they were.
    for kept in ["identities", "refresh_tokens"] {
        assert!(
            generated
                .sql
                .contains(&format!("on auth.{kept} stays global")),
            "{kept}:\n{}",
            generated.sql
        );
    }
    let catalog = inspect(&mut client);
    let left: Vec<_> = check(&Model::new(&catalog, &tenancy))
        .into_iter()
        .filter(|f| generate::FIXES.contains(&f.rule.as_str()))
        .collect();
    // What generate leaves (a key other tables' foreign keys need as it is) it says so.
    let notes = &generated.sql[generated.sql.find("-- Not fixed here").unwrap_or(0)..];
    for f in &left {
        let name = f
            .object
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .nth(1)
            .unwrap_or("");
        assert!(
            f.rule == "key-without-tenant"
                && notes.contains(&format!("{name} is referenced by foreign key")),
            "{}\n{}",
            tenet_report::to_human(&left),
            generated.sql
        );
    }
    // (OAuth clients hold their secrets' hashes: the app role is granted none of them.)
    let report = prove::prove(&mut client, &tenancy).unwrap();
    assert_eq!(
        report.leaks,
        0,
        "{}\n{}",
        prove::to_human(&report),
        generated.sql
    );
}
