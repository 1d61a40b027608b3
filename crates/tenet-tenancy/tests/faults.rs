//! The fault suite: a clean multi-tenant schema (`faults/clean.sql`) on which `check` reports
//! nothing and `prove` finds no leak, and variants (`faults/variants/*.sql`) that each break
//! isolation one way. Every variant names, in its header, the rules `check` must report
//! (exactly) and the leaks `prove` must find (`prove: none` for hygiene variants, which must
//! not leak). Each variant also goes through `generate`: applying the generated SQL leaves no
//! finding of a rule generate fixes.

use std::collections::BTreeSet;

use tenet_config::Tenancy;
use tenet_tenancy::{check, generate, prove, Model};
use tenet_testkit::{server, test_db, ScratchDb};

/// A clean schema of one tenancy model, and the model: tests/faults/clean.sql (a tenant
/// column compared with the setting), faults/membership/clean.sql (users reach orgs through a
/// membership table), faults/supabase/clean.sql (per-user rows, the real `auth.uid()`).
#[derive(Clone, Copy)]
enum Base {
    Direct,
    Membership,
    Supabase,
}

impl Base {
    fn clean(self) -> &'static str {
        match self {
            Base::Direct => include_str!("faults/clean.sql"),
            Base::Membership => include_str!("faults/membership/clean.sql"),
            Base::Supabase => include_str!("faults/supabase/clean.sql"),
        }
    }

    fn tenancy(self, app: &str) -> Tenancy {
        match self {
            Base::Direct => Tenancy {
                column: "tenant_id".into(),
                setting: "app.tenant_id".into(),
                app_role: app.into(),
                global_tables: vec!["plans".into(), "tenants".into()],
                ..Default::default()
            },
            Base::Membership => Tenancy {
                column: "org_id".into(),
                setting: "app.user_id".into(),
                app_role: app.into(),
                global_tables: vec!["users".into()],
                membership: Some(tenet_config::Membership {
                    table: "memberships".into(),
                    user_column: "user_id".into(),
                }),
                ..Default::default()
            },
            // As tenet.toml's `preset = "supabase"` fills it in, with a per-test role name
            // standing for `authenticated` (roles are cluster-wide; tests run in parallel).
            Base::Supabase => {
                let mut t = tenet_config::Config::parse(&format!(
                    "[tenancy]\npreset = \"supabase\"\ncolumn = \"user_id\"\napp_role = \"{app}\"\n"
                ))
                .unwrap()
                .tenancy
                .unwrap();
                t.app_role = app.into();
                t.anon_role = app.replace("_app", "_other");
                t
            }
        }
    }
}

/// A test database holding a clean schema plus a variant, and its own roles (dropped after).
struct Fixture {
    db: Option<ScratchDb>,
    roles: Vec<String>,
    tenancy: Tenancy,
}

impl Fixture {
    fn new(name: &str, variant: &str) -> Fixture {
        Fixture::on(Base::Direct, name, variant)
    }

    fn on(base: Base, name: &str, variant: &str) -> Fixture {
        let base_name = format!("tenet_ft_{name}");
        let roles = vec![
            format!("{base_name}_app"),
            format!("{base_name}_owner"),
            format!("{base_name}_other"),
        ];
        let fill = |sql: &str| {
            sql.replace("{{app}}", &roles[0])
                .replace("{{owner}}", &roles[1])
                .replace("{{other}}", &roles[2])
        };
        let db = test_db();
        // A previous run killed midway may have left the roles with attributes a variant set.
        let mut client = db.connect().unwrap();
        for r in &roles {
            client
                .batch_execute(&format!(
                    "DO $$ BEGIN ALTER ROLE {r} NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN undefined_object THEN NULL; END $$"
                ))
                .unwrap();
        }
        drop(client);
        tenet_testkit::exec(&db, &fill(base.clean()));
        tenet_testkit::exec(&db, &fill(variant));
        let tenancy = base.tenancy(&roles[0]);
        Fixture {
            db: Some(db),
            roles,
            tenancy,
        }
    }

    fn db(&self) -> &ScratchDb {
        self.db.as_ref().unwrap()
    }

    fn catalog(&self) -> tenet_catalog::Catalog {
        let mut client = self.db().connect().unwrap();
        let mut catalog = tenet_catalog::inspect(&mut client).unwrap();
        tenet_tenancy::merge_role(&mut client, &mut catalog, &self.tenancy.app_role).unwrap();
        if !self.tenancy.anon_role.is_empty() {
            tenet_tenancy::merge_role(&mut client, &mut catalog, &self.tenancy.anon_role).unwrap();
        }
        catalog
    }

    fn findings(&self) -> Vec<tenet_report::Finding> {
        let catalog = self.catalog();
        check(&Model::new(&catalog, &self.tenancy))
    }

    fn prove(&self) -> prove::Report {
        let mut client = self.db().connect().unwrap();
        prove::prove(&mut client, &self.tenancy).unwrap_or_else(|e| panic!("prove failed: {e}"))
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        drop(self.db.take());
        if let Ok(mut client) = server().connect() {
            for r in self.roles.iter().rev() {
                let _ = client.batch_execute(&format!("DROP ROLE IF EXISTS {r}"));
            }
        }
    }
}

fn leaks(report: &prove::Report) -> BTreeSet<String> {
    report
        .objects
        .iter()
        .flat_map(|row| {
            row.probes
                .iter()
                .filter(|(_, c)| c.status == prove::Status::Leak)
                .map(move |(p, _)| format!("{} {p}", row.object))
        })
        .collect()
}

/// Header lines `-- check: a, b` and `-- prove: x; y`.
fn expectations(variant: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut rules = BTreeSet::new();
    let mut leaks = BTreeSet::new();
    for line in variant.lines() {
        if let Some(r) = line.strip_prefix("-- check:") {
            rules.extend(
                r.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            );
        }
        if let Some(p) = line.strip_prefix("-- prove:") {
            if p.trim() != "none" {
                leaks.extend(
                    p.split(';')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty()),
                );
            }
        }
    }
    (rules, leaks)
}

fn run_variant(base: Base, name: &str, variant: &str) {
    let (rules, expected_leaks) = expectations(variant);
    let fixture = Fixture::on(base, name, variant);

    // check: exactly the expected rules.
    let findings = fixture.findings();
    let found: BTreeSet<String> = findings.iter().map(|f| f.rule.clone()).collect();
    assert_eq!(
        found,
        rules,
        "check on variant {name}:\n{}",
        tenet_report::to_human(&findings)
    );
    for f in &findings {
        assert!(f.object.is_some(), "finding without an object: {f:?}");
    }

    // prove: at least the expected leaks; none at all for hygiene variants.
    let report = fixture.prove();
    let got = leaks(&report);
    if expected_leaks.is_empty() {
        assert!(
            got.is_empty(),
            "prove on hygiene variant {name} leaked:\n{}",
            prove::to_human(&report)
        );
    } else {
        let missing: Vec<&String> = expected_leaks.difference(&got).collect();
        assert!(
            missing.is_empty(),
            "prove on variant {name} missed {missing:?}:\n{}",
            prove::to_human(&report)
        );
    }
    assert_eq!(report.exit_code(), i32::from(!expected_leaks.is_empty()));

    // generate: applying its SQL leaves no finding of a rule it fixes.
    let catalog = fixture.catalog();
    let generated = generate::generate(&Model::new(&catalog, &fixture.tenancy));
    let mut client = fixture.db().connect().unwrap();
    client.batch_execute(&generated.sql).unwrap_or_else(|e| {
        panic!(
            "generated SQL for {name} fails: {}\n{}",
            tenet_testkit::describe(&e),
            generated.sql
        )
    });
    drop(client);
    let after: BTreeSet<String> = fixture.findings().into_iter().map(|f| f.rule).collect();
    // Generate fixes the app role's findings; the anonymous role's it reports as not fixed.
    let left: Vec<&String> = after
        .iter()
        .filter(|r| generate::FIXES.contains(&r.as_str()))
        .filter(|r| !generated.not_fixed.iter().any(|f| &f.rule == *r))
        .collect();
    assert!(
        left.is_empty(),
        "after generate on {name}, still: {left:?}\n{}",
        generated.sql
    );
    // Whatever generate could not fix is reported, not silently dropped.
    let unfixed: BTreeSet<String> = generated.not_fixed.iter().map(|f| f.rule.clone()).collect();
    assert_eq!(
        after, unfixed,
        "{name}: findings left after generate vs reported as not fixed"
    );
}

#[test]
fn the_clean_schema_has_no_findings_and_no_leaks() {
    let fixture = Fixture::new("clean", "");
    let findings = fixture.findings();
    assert!(findings.is_empty(), "{}", tenet_report::to_human(&findings));
    let report = fixture.prove();
    assert_eq!(report.leaks, 0, "{}", prove::to_human(&report));
    assert_eq!(report.untested, 0, "{}", prove::to_human(&report));
    // Every tenant table, the view and the SECURITY DEFINER function were probed.
    let objects: BTreeSet<&str> = report.objects.iter().map(|r| r.object.as_str()).collect();
    for o in [
        "table public.projects",
        "table public.tasks",
        "table public.comments",
        "table public.events",
        "view public.open_tasks",
        "function public.plan_name(p_plan integer)",
    ] {
        assert!(
            objects.contains(o),
            "{o} not probed:\n{}",
            prove::to_human(&report)
        );
    }
    let generated = generate::generate(&Model::new(&fixture.catalog(), &fixture.tenancy));
    assert_eq!(generated.statements, 0, "{}", generated.sql);
}

#[test]
fn prove_leaves_no_trace() {
    let fixture = Fixture::new("trace", include_str!("faults/variants/rls_disabled.sql"));
    let snapshot = |db: &ScratchDb| {
        let mut client = db.connect().unwrap();
        let counts: Vec<String> = [
            "plans", "tenants", "projects", "tasks", "comments", "events",
        ]
        .iter()
        .map(|t| {
            let n: i64 = client
                .query_one(&format!("select count(*) from {t}"), &[])
                .unwrap()
                .get(0);
            format!("{t}={n}")
        })
        .collect();
        let seqs: Vec<String> = client
            .query(
                "select sequencename::text, coalesce(last_value, 0) from pg_sequences order by 1",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| format!("{}={}", r.get::<_, String>(0), r.get::<_, i64>(1)))
            .collect();
        let roles: i64 = client
            .query_one("select count(*) from pg_roles", &[])
            .unwrap()
            .get(0);
        let dbs: i64 = client
            .query_one("select count(*) from pg_database", &[])
            .unwrap()
            .get(0);
        (counts, seqs, roles, dbs)
    };
    let before = snapshot(fixture.db());
    let report = fixture.prove();
    assert!(report.leaks > 0);
    let after = snapshot(fixture.db());
    assert_eq!(before.0, after.0, "rows left behind");
    assert_eq!(before.1, after.1, "sequences moved");
    // Roles and databases are cluster-wide and other tests create them concurrently; prove
    // itself creates neither (it runs in one transaction it rolls back).
    let _ = (before.2, before.3, after.2, after.3);
}

#[test]
fn prove_refuses_a_role_subject_to_rls() {
    let fixture = Fixture::new("refuse", "");
    let mut client = fixture.db().connect().unwrap();
    client
        .batch_execute(&format!("SET ROLE {}", fixture.roles[1]))
        .unwrap();
    match prove::prove(&mut client, &fixture.tenancy) {
        Err(e) => {
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains("BYPASSRLS"), "{e}");
        }
        Ok(_) => panic!("prove ran as a role subject to row-level security"),
    }
}

macro_rules! variants {
    ($base:expr, $dir:literal, $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run_variant(
                    $base,
                    stringify!($name),
                    include_str!(concat!("faults/", $dir, "/", stringify!($name), ".sql")),
                );
            }
        )*

        /// Every file in the variants directory has a test.
        #[test]
        fn every_variant_file_is_listed() {
            let listed: BTreeSet<&str> = [$(stringify!($name)),*].into_iter().collect();
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/faults").join($dir);
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
                assert!(listed.contains(stem.as_str()), "variant {stem} has no test");
            }
        }
    };
}

variants!(
    Base::Direct,
    "variants",
    rls_disabled,
    rls_not_forced,
    policy_always_true,
    policy_permissive_or,
    policy_fails_open_missing,
    policy_fails_open_empty,
    policy_fails_open_coalesce,
    policy_not_restricting,
    check_always_true,
    update_open,
    delete_open,
    fk_without_tenant,
    key_without_tenant,
    unique_index_without_tenant,
    column_missing,
    app_superuser,
    app_bypassrls,
    app_owner,
    app_member_of_owner,
    app_member_of_bypassrls,
    view_definer,
    matview,
    security_definer_sql,
    security_definer_plpgsql,
    partition_without_policy,
    hygiene_nullable,
    hygiene_no_tenant_index,
    hygiene_setting_per_row,
    hygiene_policy_missing,
    truncate_granted,
    trigger_granted,
    global_secret,
    global_writable,
    leakproof_function,
    text_tenant_empty,
    update_push,
    key_global_credential,
    global_secret_column_grant,
    column_update_grant,
);

/// Keys that must stay global: a credential's (found by its column) and one listed in
/// `global_keys`. Check leaves them alone, generate keeps them and says why.
#[test]
fn generate_keeps_keys_that_must_stay_global() {
    let mut fixture = Fixture::new(
        "global_keys",
        include_str!("faults/variants/key_global_credential.sql"),
    );
    fixture.tenancy.global_keys = vec!["api_tokens.api_tokens_label_key".into()];
    let findings = fixture.findings();
    assert!(findings.is_empty(), "{}", tenet_report::to_human(&findings));
    let generated = generate::generate(&Model::new(&fixture.catalog(), &fixture.tenancy));
    assert_eq!(generated.statements, 0, "{}", generated.sql);
    assert!(
        generated.sql.contains("key api_tokens_token_key on public.api_tokens stays global: token identifies a credential"),
        "{}",
        generated.sql
    );
    assert!(
        generated.sql.contains("key api_tokens_label_key on public.api_tokens stays global: listed in [tenancy] global_keys"),
        "{}",
        generated.sql
    );
}

/// Users reach organisations through `memberships`.
mod membership {
    use super::*;

    #[test]
    fn the_clean_membership_schema_has_no_findings_and_no_leaks() {
        clean_base(
            Base::Membership,
            "membership_clean",
            &[
                "table public.orgs",
                "table public.memberships",
                "table public.projects",
                "table public.tasks",
            ],
        );
    }

    variants!(
        Base::Membership,
        "membership/variants",
        membership_ignored,
        membership_writable,
        membership_chain,
    );
}

/// Supabase: per-user rows, `auth.uid()`, JSON claims, managed schemas excluded.
mod supabase {
    use super::*;

    #[test]
    fn the_clean_supabase_schema_has_no_findings_and_no_leaks() {
        clean_base(
            Base::Supabase,
            "supabase_clean",
            &["table public.profiles", "table public.notes"],
        );
    }

    variants!(
        Base::Supabase,
        "supabase/variants",
        supabase_no_policy,
        supabase_user_metadata,
        supabase_policy_open,
        supabase_anon_reads,
        supabase_service_role,
    );
}

/// With JSON claims, what check suggests and generate writes reads the user through
/// auth.uid(); it never casts the claims setting to a uuid.
#[test]
fn supabase_fixes_read_auth_uid_and_never_cast_the_claims() {
    let fixture = Fixture::on(
        Base::Supabase,
        "supabase_fixes",
        include_str!("faults/supabase/variants/supabase_no_policy.sql"),
    );
    let findings = fixture.findings();
    let generated = generate::generate(&Model::new(&fixture.catalog(), &fixture.tenancy));
    let texts: Vec<&str> = findings
        .iter()
        .map(|f| f.fix.as_str())
        .chain([generated.sql.as_str()])
        .collect();
    for t in texts {
        assert!(
            !t.contains("current_setting('request.jwt.claims', true), '')::uuid"),
            "{t}"
        );
    }
    assert!(
        generated.sql.contains("user_id = (SELECT auth.uid())"),
        "{}",
        generated.sql
    );
}

/// A clean schema: no finding, no leak, nothing untested, the listed objects probed, nothing
/// for generate to do.
fn clean_base(base: Base, name: &str, objects: &[&str]) {
    let fixture = Fixture::on(base, name, "");
    let findings = fixture.findings();
    assert!(findings.is_empty(), "{}", tenet_report::to_human(&findings));
    let report = fixture.prove();
    assert_eq!(report.leaks, 0, "{}", prove::to_human(&report));
    assert_eq!(report.untested, 0, "{}", prove::to_human(&report));
    let probed: BTreeSet<&str> = report.objects.iter().map(|r| r.object.as_str()).collect();
    for o in objects {
        assert!(
            probed.contains(o),
            "{o} not probed:\n{}",
            prove::to_human(&report)
        );
    }
    let generated = generate::generate(&Model::new(&fixture.catalog(), &fixture.tenancy));
    assert_eq!(generated.statements, 0, "{}", generated.sql);
}

/// A real history's generated SQL once failed to load: its policies named an app role that
/// did not exist. Generate now creates it (NOLOGIN) first.
#[test]
fn generate_creates_a_missing_app_role() {
    const MISSING: &str = "tenet_ft_norole_missing_app";
    struct DropMissing;
    impl Drop for DropMissing {
        fn drop(&mut self) {
            if let Ok(mut c) = server().connect() {
                let _ = c.batch_execute(&format!("DROP ROLE IF EXISTS {MISSING}"));
            }
        }
    }
    let mut fixture = Fixture::new("norole", "");
    fixture.tenancy.app_role = MISSING.into();
    let catalog = fixture.catalog();
    let generated = generate::generate(&Model::new(&catalog, &fixture.tenancy));
    assert!(
        generated
            .sql
            .contains(&format!("CREATE ROLE {MISSING} NOLOGIN")),
        "{}",
        generated.sql
    );
    let _drop = DropMissing;
    let mut client = fixture.db().connect().unwrap();
    client
        .batch_execute(&generated.sql)
        .unwrap_or_else(|e| panic!("{}\n{}", tenet_testkit::describe(&e), generated.sql));
    drop(client);
    let left: Vec<String> = fixture.findings().into_iter().map(|f| f.rule).collect();
    assert!(!left.contains(&"app-role-missing".to_string()), "{left:?}");
    // The database (and the policies naming the role) go before the role does.
    drop(fixture);
}
