//! `tenet tenancy check`, `tenet tenancy generate` and `tenet prove` end to end: the binary on
//! the Todo example, against a real server.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tenet_testkit::{server, test_db};

fn tenet() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenet"));
    command
        .env_remove("DATABASE_URL")
        .env_remove("TENET_DEV_URL");
    command
}

fn todo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn dev_url() -> String {
    server().url_for("postgres")
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// A role of the test's own (roles are cluster-wide and tests run in parallel), dropped on exit.
struct Role(String);

impl Role {
    fn new(name: &str) -> Role {
        let mut c = server().connect().unwrap();
        c.batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE {name} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        ))
        .unwrap();
        Role(name.to_string())
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        if let Ok(mut c) = server().connect() {
            let _ = c.batch_execute(&format!("DROP ROLE IF EXISTS {}", self.0));
        }
    }
}

/// A copy of the Todo example whose tenet.toml names `role` as the app role.
fn todo_copy(role: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("schema")).unwrap();
    std::fs::copy(
        todo_dir().join("schema/todo.sql"),
        dir.path().join("schema/todo.sql"),
    )
    .unwrap();
    let toml = std::fs::read_to_string(todo_dir().join("tenet.toml"))
        .unwrap()
        .replace("app_role = \"todo_app\"", &format!("app_role = \"{role}\""));
    assert!(
        toml.contains(role),
        "the Todo tenet.toml changed shape:\n{toml}"
    );
    std::fs::write(dir.path().join("tenet.toml"), toml).unwrap();
    dir
}

#[test]
fn check_on_the_todo_example_names_every_offending_object() {
    // The Todo tables alone, without the isolation Tenet generated for them.
    let dir = todo_copy("todo_app");
    let out = tenet()
        .args([
            "tenancy",
            "check",
            "--format",
            "json",
            "--dev-url",
            &dev_url(),
            "--config",
        ])
        .arg(dir.path().join("tenet.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pairs: Vec<(String, String)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["object"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (rule, object) in [
        ("rls-disabled", "table public.tasks"),
        ("rls-disabled", "table public.users"),
        ("policy-missing", "table public.tasks"),
        (
            "key-without-tenant",
            "constraint tasks_pkey on table public.tasks",
        ),
    ] {
        assert!(
            pairs.contains(&(rule.to_string(), object.to_string())),
            "{rule} on {object} missing: {pairs:?}"
        );
    }
    for f in findings.as_array().unwrap() {
        for field in ["rule", "severity", "object", "message", "why", "fix"] {
            assert!(f[field].is_string(), "{field} missing in {f}");
        }
    }
    // Human output by default, with a summary line.
    let out = tenet()
        .args(["tenancy", "check", "--dev-url", &dev_url(), "--config"])
        .arg(dir.path().join("tenet.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let human = text(&out.stdout);
    assert!(human.contains("rls-disabled"), "{human}");
    assert!(human.contains("table public.users"), "{human}");
    assert!(human.contains("tenet tenancy check:"), "{human}");
}

#[test]
fn generate_then_check_is_clean_and_prove_finds_no_leak() {
    let role = Role::new("tenet_cli_todo_gen_app");
    let dir = todo_copy(&role.0);
    let config = dir.path().join("tenet.toml");

    // To a file first: nothing in the schema changes.
    let out_file = dir.path().join("tenancy.sql");
    let out = tenet()
        .args(["tenancy", "generate", "--dev-url", &dev_url(), "--out"])
        .arg(&out_file)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let sql = std::fs::read_to_string(&out_file).unwrap();
    assert!(sql.contains("ENABLE ROW LEVEL SECURITY"), "{sql}");
    assert!(
        sql.contains("(SELECT NULLIF(current_setting('app.user_id', true), '')::uuid)"),
        "{sql}"
    );
    // Standard output by default, the same SQL.
    let out = tenet()
        .args(["tenancy", "generate", "--dev-url", &dev_url(), "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), sql, "{}", show(&out));

    // Appended to the schema files: check is clean afterwards, and generate has nothing left.
    let out = tenet()
        .args([
            "tenancy",
            "generate",
            "--write",
            "--dev-url",
            &dev_url(),
            "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let schema = std::fs::read_to_string(dir.path().join("schema/todo.sql")).unwrap();
    assert!(schema.ends_with(&sql), "not appended:\n{schema}");
    let out = tenet()
        .args(["tenancy", "check", "--dev-url", &dev_url(), "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let out = tenet()
        .args(["tenancy", "generate", "--dev-url", &dev_url(), "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(out.stdout.is_empty(), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("nothing to generate"),
        "{}",
        show(&out)
    );

    // Prove it on a scratch database loaded from the files, with the app role granted access.
    std::fs::write(
        dir.path().join("schema/zz_grants.sql"),
        format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON users, tasks TO {};\n",
            role.0
        ),
    )
    .unwrap();
    let out = tenet()
        .args([
            "prove",
            "--format",
            "json",
            "--dev-url",
            &dev_url(),
            "--config",
        ])
        .arg(&config)
        .arg(dir.path().join("schema"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["leaks"], 0, "{report}");
    assert!(report["passed"].as_u64().unwrap() >= 14, "{report}");
}

#[test]
fn prove_on_a_live_todo_database_without_rls_prints_the_leaks() {
    let role = Role::new("tenet_cli_todo_leak_app");
    let dir = todo_copy(&role.0);
    let db = test_db();
    tenet_testkit::exec(
        &db,
        &std::fs::read_to_string(dir.path().join("schema/todo.sql")).unwrap(),
    );
    tenet_testkit::exec(
        &db,
        &format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON users, tasks TO {}",
            role.0
        ),
    );
    let count = |db: &tenet_testkit::ScratchDb| -> i64 {
        tenet_testkit::query(
            db,
            "select (select count(*) from users) + (select count(*) from tasks)",
        )[0]
        .get(0)
    };
    let before = count(&db);
    let out = tenet()
        .args(["prove", "--url", &db.url(), "--config"])
        .arg(dir.path().join("tenet.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let human = text(&out.stdout);
    assert!(human.contains("object"), "{human}");
    assert!(human.contains("table public.tasks"), "{human}");
    assert!(human.contains("LEAK table public.tasks [read]"), "{human}");
    assert!(
        human.contains("LEAK table public.users [no-setting]"),
        "{human}"
    );
    assert_eq!(count(&db), before, "prove left rows behind");
}

#[test]
fn no_tenancy_section_is_a_usage_error_that_shows_the_section() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tenet.toml"),
        "[schema]\npath = \"schema\"\n",
    )
    .unwrap();
    for args in [
        &["tenancy", "check"][..],
        &["tenancy", "generate"],
        &["prove", "--url", "postgresql://x@127.0.0.1:1/x"],
    ] {
        let out = tenet().args(args).current_dir(dir.path()).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", show(&out));
        let err = text(&out.stderr);
        assert!(err.contains("no [tenancy] section"), "{err}");
        assert!(err.contains("app_role = "), "{err}");
    }
}

#[test]
fn database_errors_exit_3_and_a_role_under_rls_exits_2() {
    let out = tenet()
        .args([
            "prove",
            "--url",
            "postgresql://postgres:secret@127.0.0.1:1/postgres?connect_timeout=2",
            "--config",
        ])
        .arg(todo_dir().join("tenet.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    assert!(!text(&out.stderr).contains("secret"), "{}", show(&out));

    let out = tenet()
        .args([
            "tenancy",
            "check",
            "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=2",
            "--config",
        ])
        .arg(todo_dir().join("tenet.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));

    // prove needs a role that bypasses row-level security to plant and check rows.
    let role = Role::new("tenet_cli_todo_plain");
    let dir = todo_copy(&role.0);
    let db = test_db();
    let mut c = server().connect().unwrap();
    c.batch_execute(&format!("ALTER ROLE {} LOGIN", role.0))
        .unwrap();
    let url = db.url();
    let as_plain = match url.split_once("://") {
        Some((scheme, rest)) => {
            let after_user = rest.split_once('@').map(|(_, h)| h).unwrap_or(rest);
            format!("{scheme}://{}@{after_user}", role.0)
        }
        None => unreachable!(),
    };
    let out = tenet()
        .args(["prove", "--url", &as_plain, "--config"])
        .arg(dir.path().join("tenet.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stderr).contains("BYPASSRLS"), "{}", show(&out));
    drop(db);
}

/// `prove --emit pgtap FILE` on the Todo example: after `generate`, `pg_prove` runs the file
/// and every test passes (twice: the file leaves nothing behind); without row-level security
/// the same file's tests fail.
#[test]
fn prove_emits_pgtap_that_pg_prove_runs_on_the_todo_example() {
    let role = Role::new("tenet_cli_todo_tap_app");
    let dir = todo_copy(&role.0);
    let config = dir.path().join("tenet.toml");
    let grants = format!(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON users, tasks TO {}",
        role.0
    );
    let schema = std::fs::read_to_string(dir.path().join("schema/todo.sql")).unwrap();
    let pg_prove = |db: &tenet_testkit::ScratchDb, file: &Path| -> Output {
        let config = db.config();
        let mut command = Command::new("pg_prove");
        match config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => command.env("PGHOST", h),
            Some(postgres::config::Host::Unix(p)) => command.env("PGHOST", p),
            None => &mut command,
        };
        if let Some(port) = config.get_ports().first() {
            command.env("PGPORT", port.to_string());
        }
        if let Some(user) = config.get_user() {
            command.env("PGUSER", user);
        }
        command
            .args(["--verbose", "-d", db.name()])
            .arg(file)
            .output()
            .expect("pg_prove (Debian: libtap-parser-sourcehandler-pgtap-perl)")
    };

    // Without row-level security: prove finds leaks, and the file's tests fail.
    let leaky = test_db();
    tenet_testkit::exec(&leaky, &schema);
    tenet_testkit::exec(&leaky, &grants);
    let leaky_file = dir.path().join("leaky.sql");
    let out = tenet()
        .args(["prove", "--url", &leaky.url(), "--emit", "pgtap"])
        .arg(&leaky_file)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let tap = pg_prove(&leaky, &leaky_file);
    assert_ne!(tap.status.code(), Some(0), "{}", show(&tap));
    assert!(text(&tap.stdout).contains("\nnot ok "), "{}", show(&tap));

    // With what generate writes: prove is clean and so is pg_prove, run after run.
    let out = tenet()
        .args(["tenancy", "generate", "--dev-url", &dev_url(), "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let clean = test_db();
    tenet_testkit::exec(&clean, &schema);
    tenet_testkit::exec(&clean, &text(&out.stdout));
    tenet_testkit::exec(&clean, &grants);
    let file = dir.path().join("isolation.sql");
    let out = tenet()
        .args(["prove", "--url", &clean.url(), "--emit", "pgtap"])
        .arg(&file)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let sql = std::fs::read_to_string(&file).unwrap();
    assert!(sql.contains("SELECT plan("), "{sql}");
    for _ in 0..2 {
        let tap = pg_prove(&clean, &file);
        assert_eq!(tap.status.code(), Some(0), "{}\n{sql}", show(&tap));
        assert!(text(&tap.stdout).contains("Result: PASS"), "{}", show(&tap));
        assert!(!text(&tap.stdout).contains("not ok"), "{}", show(&tap));
    }

    // A bad kind is a usage error.
    let out = tenet()
        .args([
            "prove",
            "--url",
            &clean.url(),
            "--emit",
            "junit",
            "x.xml",
            "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("the only kind is pgtap"),
        "{}",
        show(&out)
    );
}

/// Issue 16: `tenancy generate --format json` prints one object with the fixes (SQL and count),
/// the file written and what it could not fix; nothing else on standard output.
#[test]
fn generate_format_json_reports_the_fixes() {
    let role = Role::new("tenet_cli_todo_gen_json_app");
    let dir = todo_copy(&role.0);
    let out_file = dir.path().join("tenancy.sql");
    let out = tenet()
        .args([
            "tenancy",
            "generate",
            "--format",
            "json",
            "--dev-url",
            &dev_url(),
        ])
        .arg("--out")
        .arg(&out_file)
        .arg("--config")
        .arg(dir.path().join("tenet.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sql = report["sql"].as_str().unwrap();
    assert!(sql.contains("ENABLE ROW LEVEL SECURITY"), "{report}");
    assert_eq!(sql, std::fs::read_to_string(&out_file).unwrap());
    assert!(report["statements"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(report["written"], out_file.display().to_string());
    assert!(report["not_fixed"].is_array(), "{report}");
}

fn sarif_validator() -> jsonschema::Validator {
    let schema = include_str!("../../tenet-report/tests/schema/sarif-2.1.0-rtm.5.json")
        .replace("[a-zA-Z]{2}]?$", "[a-zA-Z]{2}\\\\]?$");
    let schema: serde_json::Value = serde_json::from_str(&schema).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .unwrap()
}

fn citus_check(dir: &Path, format: &str) -> Output {
    tenet()
        .args([
            "tenancy",
            "check",
            "--citus",
            "--format",
            format,
            "--dev-url",
            &dev_url(),
            "--config",
        ])
        .arg(dir.join("tenet.toml"))
        .output()
        .unwrap()
}

#[test]
fn check_citus_on_the_todo_example_reports_the_keys_citus_refuses() {
    let dir = todo_copy("todo_app");
    let out = citus_check(dir.path(), "json");
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pairs: Vec<(&str, &str)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["object"].as_str().unwrap()))
        .collect();
    assert_eq!(
        pairs,
        [
            (
                "citus-key-without-tenant",
                "constraint tasks_pkey on table public.tasks"
            ),
            (
                "citus-key-without-tenant",
                "constraint users_email_key on table public.users"
            ),
        ],
        "{}",
        show(&out)
    );
    // Human, with the summary line.
    let out = citus_check(dir.path(), "human");
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let human = text(&out.stdout);
    assert!(human.contains("error[citus-key-without-tenant]"), "{human}");
    // SARIF: valid, named after the Citus check, with the Citus rules in its table.
    let out = citus_check(dir.path(), "sarif");
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&log)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"citus-reference-to-distributed"), "{ids:?}");
    assert!(!ids.contains(&"rls-disabled"), "{ids:?}");
}

#[test]
fn check_citus_passes_on_a_ready_schema_and_lists_reference_tables() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("schema")).unwrap();
    std::fs::write(
        dir.path().join("schema/app.sql"),
        "CREATE TABLE plans (id int PRIMARY KEY, name text NOT NULL UNIQUE);\n\
         CREATE TABLE tenants (id uuid PRIMARY KEY, plan_id int NOT NULL REFERENCES plans);\n\
         CREATE TABLE projects (tenant_id uuid NOT NULL REFERENCES tenants, id bigint, PRIMARY KEY (tenant_id, id));\n\
         CREATE TABLE \"Tasks\" (tenant_id uuid NOT NULL, id bigint, project_id bigint NOT NULL,\n\
             PRIMARY KEY (tenant_id, id), FOREIGN KEY (tenant_id, project_id) REFERENCES projects);\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("tenet.toml"),
        "[schema]\npath = \"schema\"\n[tenancy]\ncolumn = \"tenant_id\"\nsetting = \"app.tenant_id\"\napp_role = \"tenet_cli_citus_ready_app\"\nglobal_tables = [\"plans\", \"tenants\"]\n",
    )
    .unwrap();
    let out = citus_check(dir.path(), "human");
    // Reference-table candidates are information: the check passes.
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let human = text(&out.stdout);
    assert!(
        human.contains("info[citus-reference-candidate]") && human.contains("public.plans"),
        "{human}"
    );
    // The calls, in order: plans before tenants (it references plans), projects the anchor.
    let out = tenet()
        .args([
            "tenancy",
            "generate",
            "--citus",
            "--dev-url",
            &dev_url(),
            "--config",
        ])
        .arg(dir.path().join("tenet.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let sql = text(&out.stdout);
    let calls: Vec<&str> = sql.lines().filter(|l| l.starts_with("SELECT")).collect();
    assert_eq!(
        calls,
        [
            "SELECT create_reference_table('public.plans');",
            "SELECT create_reference_table('public.tenants');",
            "SELECT create_distributed_table('public.projects', 'tenant_id', colocate_with => 'none');",
            "SELECT create_distributed_table('public.\"Tasks\"', 'tenant_id', colocate_with => 'public.projects');",
        ],
        "{sql}"
    );
}

#[test]
fn generate_citus_on_the_todo_example_writes_the_calls_and_notes_the_blockers() {
    let dir = todo_copy("todo_app");
    let out = tenet()
        .args([
            "tenancy",
            "generate",
            "--citus",
            "--format",
            "json",
            "--dev-url",
            &dev_url(),
            "--config",
        ])
        .arg(dir.path().join("tenet.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sql = report["sql"].as_str().unwrap();
    assert!(
        sql.contains("SELECT create_distributed_table('public.users', 'id', colocate_with => 'none');\nSELECT create_distributed_table('public.tasks', 'user_id', colocate_with => 'public.users');"),
        "{sql}"
    );
    assert_eq!(report["statements"], 2, "{report}");
    assert_eq!(report["not_fixed"].as_array().unwrap().len(), 2, "{report}");
    // Text mode: the SQL on stdout, the blockers as notes on stderr.
    let out = tenet()
        .args([
            "tenancy",
            "generate",
            "--citus",
            "--dev-url",
            &dev_url(),
            "--config",
        ])
        .arg(dir.path().join("tenet.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("create_distributed_table"),
        "{}",
        show(&out)
    );
    assert!(
        text(&out.stderr).contains("note: blocks distribution (see `tenet tenancy check --citus`): [citus-key-without-tenant] constraint users_email_key on table public.users"),
        "{}",
        show(&out)
    );
    // The calls do not belong in schema files.
    let out = tenet()
        .args(["tenancy", "generate", "--citus", "--write", "--config"])
        .arg(dir.path().join("tenet.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
}
