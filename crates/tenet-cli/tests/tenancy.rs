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
