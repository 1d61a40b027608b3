//! `tenet gen --schema` and `tenet gen drizzle` end to end, from a schema directory.

use std::path::Path;
use std::process::Command;

fn tenet(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenet"));
    command
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("TENET_DEV_URL", tenet_testkit::server().url_for("postgres"));
    command
}

fn schema_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.sql"),
        "CREATE TABLE notes (id integer PRIMARY KEY, body text NOT NULL);
         CREATE SCHEMA auth;
         CREATE TABLE auth.users (id uuid PRIMARY KEY);",
    )
    .unwrap();
    dir
}

#[test]
fn gen_typescript_schema_leaves_other_schemas_out() {
    let dir = schema_dir();
    let out = tenet(dir.path())
        .args(["gen", "typescript", "app.sql", "--schema", "public"])
        .output()
        .unwrap();
    let code = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        code.contains("export type Database = {\n  public: {"),
        "{code}"
    );
    assert!(code.contains("      notes: {"), "{code}");
    assert!(
        !code.contains("auth") && !code.contains("AuthUsers"),
        "{code}"
    );
    // Without --schema, every schema.
    let out = tenet(dir.path())
        .args(["gen", "typescript", "app.sql"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("  auth: {\n    Tables: {\n      users: {")
    );
}

#[test]
fn gen_schema_unknown_is_a_usage_error_naming_it() {
    let dir = schema_dir();
    let out = tenet(dir.path())
        .args(["gen", "drizzle", "app.sql", "--schema", "pubic"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no schema named \"pubic\"") && err.contains("auth, public"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn gen_drizzle_writes_tables_of_the_schema() {
    let dir = schema_dir();
    let out = tenet(dir.path())
        .args([
            "gen", "drizzle", "app.sql", "--schema", "auth", "--out", "db.ts",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = std::fs::read_to_string(dir.path().join("db.ts")).unwrap();
    assert!(
        code.contains("export const AuthUsers = pgSchema(\"auth\").table(\"users\", {"),
        "{code}"
    );
    assert!(!code.contains("notes"), "{code}");
}
