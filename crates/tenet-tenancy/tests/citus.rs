//! `tenet tenancy generate --citus` against stand-ins for Citus's functions: no Citus cluster
//! runs here (Citus is not installable on these machines), so a scratch database defines
//! `create_reference_table(regclass)` and `create_distributed_table(regclass, text, text,
//! colocate_with text, int)` with Citus's own signatures. PostgreSQL checks the argument types
//! and the named argument; the stand-ins check what Citus checks on a call (the column exists;
//! the colocation target is already distributed, by a column of the same type) and record it.
//! The test then checks the order: every foreign key Citus can keep (those `check --citus` does
//! not report) points at a table called before.
//!
//! Schemas: the fault suite's clean schemas (direct column, membership), the Todo example, and
//! from the corpus pagila (by `store_id`) and Supabase auth (by `user_id`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use tenet_catalog::{Catalog, ConstraintKind, QualifiedName};
use tenet_config::Tenancy;
use tenet_report::Finding;
use tenet_tenancy::{check, generate, Model};
use tenet_testkit::{server, test_db, ScratchDb};

/// Citus's functions as stand-ins that check a call and record it in `citus_calls`.
const STAND_INS: &str = r#"
CREATE SCHEMA citus_stand_in;
CREATE TABLE citus_stand_in.calls (
    n serial PRIMARY KEY,
    kind text NOT NULL,
    rel regclass NOT NULL UNIQUE,
    col text,
    col_type regtype,
    colocate_with text
);
CREATE FUNCTION public.create_reference_table(table_name regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO citus_stand_in.calls (kind, rel) VALUES ('reference', table_name);
END $$;
CREATE FUNCTION public.create_distributed_table(
    table_name regclass,
    distribution_column text,
    distribution_type text DEFAULT 'hash',
    colocate_with text DEFAULT 'default',
    shard_count int DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    ty regtype;
    anchor_type regtype;
BEGIN
    -- Citus looks the column up by its name as given (no case folding, no quotes).
    SELECT atttypid::regtype INTO ty FROM pg_attribute
        WHERE attrelid = table_name AND attname = distribution_column AND NOT attisdropped;
    IF ty IS NULL THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', distribution_column, table_name;
    END IF;
    IF create_distributed_table.colocate_with NOT IN ('none', 'default') THEN
        SELECT c.col_type INTO anchor_type FROM citus_stand_in.calls c
            WHERE c.kind = 'distributed' AND c.rel = create_distributed_table.colocate_with::regclass;
        IF anchor_type IS NULL THEN
            RAISE EXCEPTION 'cannot colocate with %: it is not distributed yet', colocate_with;
        END IF;
        IF anchor_type <> ty THEN
            RAISE EXCEPTION 'cannot colocate tables % and %: distribution column types do not match', table_name, colocate_with;
        END IF;
    END IF;
    INSERT INTO citus_stand_in.calls (kind, rel, col, col_type, colocate_with)
        VALUES ('distributed', table_name, distribution_column, ty, create_distributed_table.colocate_with);
END $$;
"#;

/// A scratch database with a schema loaded, and its roles (cluster-wide: dropped after).
struct Loaded {
    db: Option<ScratchDb>,
    roles: Vec<String>,
}

impl Loaded {
    fn new(name: &str, sql: &str) -> (Loaded, [String; 3]) {
        let prefix = format!("tenet_citus_{name}_{}", std::process::id());
        let roles = [
            format!("{prefix}_app"),
            format!("{prefix}_owner"),
            format!("{prefix}_other"),
        ];
        let sql = sql
            .replace("{{app}}", &roles[0])
            .replace("{{owner}}", &roles[1])
            .replace("{{other}}", &roles[2]);
        let loaded = Loaded {
            db: Some(test_db()),
            roles: roles.to_vec(),
        };
        let mut client = loaded.client();
        for r in &roles {
            client
                .batch_execute(&format!(
                    "DO $$ BEGIN CREATE ROLE {r} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
                ))
                .unwrap();
        }
        client
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{name}: {}", tenet_testkit::describe(&e)));
        (loaded, roles)
    }

    fn client(&self) -> postgres::Client {
        tenet_testkit::client(self.db.as_ref().unwrap())
    }

    fn catalog(&self) -> Catalog {
        tenet_catalog::inspect(&mut self.client()).unwrap()
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        drop(self.db.take());
        if let Ok(mut client) = server().connect() {
            for r in &self.roles {
                let _ = client.batch_execute(&format!("DROP ROLE IF EXISTS {r}"));
            }
        }
    }
}

/// One recorded call: kind, table, distribution column, colocate_with.
type Call = (String, String, Option<String>, Option<String>);

/// Generates the Citus script, runs it against the stand-ins, checks the order, and returns
/// the calls and what `check --citus` reports (the blockers among it are in the script).
fn run(loaded: &Loaded, tenancy: &Tenancy) -> (Vec<Call>, Vec<Finding>, String) {
    let catalog = loaded.catalog();
    let model = Model::new(&catalog, tenancy);
    let generated = generate::citus::generate(&model);
    let findings = check::citus::check(&model);
    let mut client = loaded.client();
    client.batch_execute(STAND_INS).unwrap();
    // Call by call: a call may fail only on a table `check --citus` reports as blocked.
    let blocked: Vec<&str> = findings
        .iter()
        .filter(|f| f.severity != tenet_report::Severity::Info)
        .filter_map(|f| f.object.as_deref())
        .collect();
    let mut failed = 0;
    for call in generated
        .sql
        .lines()
        .filter(|l| l.starts_with("SELECT create_"))
    {
        if let Err(e) = client.batch_execute(call) {
            let table = call.split('\'').nth(1).unwrap_or("");
            assert!(
                blocked
                    .iter()
                    .any(|o| o.ends_with(&format!("table {table}"))),
                "{call}: {}, on a table check --citus does not report\n{}",
                tenet_testkit::describe(&e),
                generated.sql
            );
            failed += 1;
        }
    }
    let calls: Vec<Call> = client
        .query(
            "SELECT kind, rel::text, col, colocate_with FROM citus_stand_in.calls ORDER BY n",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(
        calls.len() + failed,
        generated.statements,
        "{}",
        generated.sql
    );
    assert_order(&catalog, &calls, &findings, &generated.sql);
    // Every blocker is written into the script for whoever runs it.
    for f in findings
        .iter()
        .filter(|f| f.severity != tenet_report::Severity::Info)
    {
        assert!(
            generated
                .sql
                .contains(&format!("[{}] {}", f.rule, f.message)),
            "{f:?}\n{}",
            generated.sql
        );
    }
    (calls, findings, generated.sql)
}

/// Every foreign key between called tables that `check --citus` does not report points at a
/// table called before it (self-references aside); a distributed table is colocated with the
/// first one.
fn assert_order(catalog: &Catalog, calls: &[Call], findings: &[Finding], sql: &str) {
    let position: BTreeMap<String, usize> = calls
        .iter()
        .enumerate()
        .map(|(i, c)| (c.1.clone(), i))
        .collect();
    let reported: BTreeSet<&str> = findings
        .iter()
        .filter_map(|f| f.object.as_deref())
        .collect();
    // regclass::text leaves out `public.` on the default search_path.
    let text = |n: &QualifiedName| {
        if n.schema == "public" {
            tenet_catalog::quote::ident(&n.name)
        } else {
            n.to_string()
        }
    };
    for t in &catalog.tables {
        let name = text(&t.qualified_name());
        let Some(&at) = position.get(&name) else {
            continue;
        };
        for fk in t
            .constraints
            .iter()
            .filter(|c| c.kind == ConstraintKind::ForeignKey)
        {
            let target = text(&fk.references.as_ref().unwrap().table);
            let object = format!(
                "constraint {} on table {}",
                tenet_catalog::quote::ident(&fk.name),
                t.qualified_name()
            );
            if target == name || reported.contains(object.as_str()) {
                continue;
            }
            if let Some(&before) = position.get(&target) {
                assert!(
                    before < at,
                    "{name} is called before {target}, which {} references:\n{sql}",
                    fk.name
                );
            }
        }
    }
    let distributed: Vec<&Call> = calls.iter().filter(|c| c.0 == "distributed").collect();
    if let Some((anchor, rest)) = distributed.split_first() {
        assert_eq!(anchor.3.as_deref(), Some("none"), "{sql}");
        for c in rest {
            assert!(
                c.3.as_deref()
                    .is_some_and(|w| w.trim_start_matches("public.") == anchor.1),
                "{c:?} is not colocated with {}:\n{sql}",
                anchor.1
            );
        }
    }
}

fn rules_on(findings: &[Finding]) -> BTreeSet<(String, String)> {
    findings
        .iter()
        .filter(|f| f.severity != tenet_report::Severity::Info)
        .map(|f| (f.rule.clone(), f.object.clone().unwrap_or_default()))
        .collect()
}

fn faults(path: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/faults")
            .join(path),
    )
    .unwrap()
}

fn corpus(part: &str) -> Option<PathBuf> {
    tenet_testkit::corpus(part)
}

#[test]
fn clean_direct_schema_distributes_with_no_blocker() {
    let (loaded, roles) = Loaded::new("direct", &faults("clean.sql"));
    let tenancy = Tenancy {
        column: "tenant_id".into(),
        setting: "app.tenant_id".into(),
        app_role: roles[0].clone(),
        global_tables: vec!["plans".into(), "tenants".into()],
        ..Default::default()
    };
    let (calls, findings, sql) = run(&loaded, &tenancy);
    assert_eq!(rules_on(&findings), BTreeSet::new(), "{sql}");
    let order: Vec<(&str, &str)> = calls.iter().map(|c| (c.0.as_str(), c.1.as_str())).collect();
    assert_eq!(
        order,
        [
            ("reference", "plans"),
            ("reference", "tenants"),
            ("distributed", "events"),
            ("distributed", "projects"),
            ("distributed", "tasks"),
            ("distributed", "comments"),
        ],
        "{sql}"
    );
    assert!(calls
        .iter()
        .filter(|c| c.0 == "distributed")
        .all(|c| c.2.as_deref() == Some("tenant_id")));
}

#[test]
fn membership_schema_is_distributed_by_the_org_column_anchored_on_orgs() {
    let (loaded, roles) = Loaded::new("membership", &faults("membership/clean.sql"));
    let tenancy = Tenancy {
        column: "org_id".into(),
        setting: "app.user_id".into(),
        app_role: roles[0].clone(),
        global_tables: vec!["users".into()],
        membership: Some(tenet_config::Membership {
            table: "memberships".into(),
            user_column: "user_id".into(),
        }),
        ..Default::default()
    };
    let (calls, findings, sql) = run(&loaded, &tenancy);
    // orgs holds the tenants: distributed by its key, the anchor.
    let first = calls.iter().find(|c| c.0 == "distributed").unwrap();
    assert_eq!(
        (first.1.as_str(), first.2.as_deref()),
        ("orgs", Some("id")),
        "{sql}"
    );
    assert!(
        calls.iter().any(|c| c.0 == "reference" && c.1 == "users"),
        "{sql}"
    );
    assert!(
        calls
            .iter()
            .any(|c| c.1 == "memberships" && c.2.as_deref() == Some("org_id")),
        "{sql}"
    );
    assert_eq!(
        rules_on(&findings),
        BTreeSet::new(),
        "{}",
        tenet_report::to_human(&findings)
    );
}

#[test]
fn todo_example_reports_its_keys_and_generates_a_runnable_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo");
    let config = tenet_config::Config::read(&root.join("tenet.toml")).unwrap();
    let sql = std::fs::read_to_string(root.join("schema/todo.sql")).unwrap();
    let (loaded, roles) = Loaded::new("todo", &sql);
    let mut tenancy = config.tenancy.unwrap();
    tenancy.app_role = roles[0].clone();
    let (calls, findings, script) = run(&loaded, &tenancy);
    // users holds the tenants (distributed by id): its email key spans users; tasks' key
    // does not lead with user_id.
    assert_eq!(
        rules_on(&findings),
        [
            (
                "citus-key-without-tenant",
                "constraint tasks_pkey on table public.tasks"
            ),
            (
                "citus-key-without-tenant",
                "constraint users_email_key on table public.users"
            ),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect(),
        "{}",
        tenet_report::to_human(&findings)
    );
    let order: Vec<(&str, &str, Option<&str>)> = calls
        .iter()
        .map(|c| (c.0.as_str(), c.1.as_str(), c.2.as_deref()))
        .collect();
    assert_eq!(
        order,
        [
            ("distributed", "users", Some("id")),
            ("distributed", "tasks", Some("user_id"))
        ],
        "{script}"
    );
}

#[test]
fn pagila_by_store_reports_what_blocks_it() {
    let Some(dir) = corpus("pagila") else { return };
    let sql = std::fs::read_to_string(dir.join("schema.sql")).unwrap();
    let (loaded, roles) = Loaded::new("pagila", &sql);
    let tenancy = Tenancy {
        column: "store_id".into(),
        setting: "app.store_id".into(),
        app_role: roles[0].clone(),
        ..Default::default()
    };
    let (calls, findings, script) = run(&loaded, &tenancy);
    let found = rules_on(&findings);
    for expected in [
        // rental has no store_id: a reference table cannot point at inventory's shards.
        (
            "citus-reference-to-distributed",
            "constraint rental_inventory_id_fkey on table public.rental",
        ),
        // payment is partitioned with no store_id: no partitioned reference tables on Citus,
        // and its partitions point at customers on the shards.
        ("citus-partitioned-reference", "table public.payment"),
        (
            "citus-reference-to-distributed",
            "constraint payment_p2022_01_customer_id_fkey on table public.payment_p2022_01",
        ),
        // One manager per store, across stores: a key Citus cannot keep per shard.
        (
            "citus-key-without-tenant",
            "index public.idx_unq_manager_staff_id",
        ),
        // staff's key is staff_id alone.
        (
            "citus-key-without-tenant",
            "constraint staff_pkey on table public.staff",
        ),
    ] {
        assert!(
            found.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} not in\n{}",
            tenet_report::to_human(&findings)
        );
    }
    let distributed: BTreeSet<&str> = calls
        .iter()
        .filter(|c| c.0 == "distributed")
        .map(|c| c.1.as_str())
        .collect();
    assert_eq!(
        distributed,
        ["customer", "inventory", "staff", "store"]
            .into_iter()
            .collect(),
        "{script}"
    );
    assert!(
        calls.iter().any(|c| c.0 == "reference" && c.1 == "film"),
        "{script}"
    );
}

#[test]
fn supabase_auth_by_user_generates_a_runnable_order() {
    let Some(dir) = corpus("supabase_auth/migrations") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let sql: String = files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap() + "\n;\n")
        .collect();
    let (loaded, roles) = Loaded::new("auth", &sql);
    let tenancy = Tenancy {
        column: "user_id".into(),
        setting: "app.user_id".into(),
        app_role: roles[0].clone(),
        global_tables: vec!["auth.instances".into(), "auth.schema_migrations".into()],
        ..Default::default()
    };
    let (calls, findings, script) = run(&loaded, &tenancy);
    // refresh_tokens.user_id is varchar(255) against users.id's uuid: Citus cannot colocate
    // them (the stand-in refuses the call, as Citus would).
    assert!(
        findings
            .iter()
            .any(|f| f.rule == "citus-tenant-type-mismatch"
                && f.object.as_deref() == Some("table auth.refresh_tokens")),
        "{}",
        tenet_report::to_human(&findings)
    );
    assert!(
        !calls.iter().any(|c| c.1 == "auth.refresh_tokens"),
        "{script}"
    );
    // auth.users holds the users: the anchor, distributed by id.
    let first = calls.iter().find(|c| c.0 == "distributed").unwrap();
    assert_eq!(
        (first.1.as_str(), first.2.as_deref()),
        ("auth.users", Some("id")),
        "{script}"
    );
    // Identities are unique per provider across users: Citus cannot keep that key.
    assert!(
        findings.iter().any(|f| f.rule == "citus-key-without-tenant"
            && f.object
                .as_deref()
                .is_some_and(|o| o.contains("auth.identities"))),
        "{}",
        tenet_report::to_human(&findings)
    );
}
