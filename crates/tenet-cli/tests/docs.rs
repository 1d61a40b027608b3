//! `tenet docs` end to end: writes the document, and --check tells when it is out of date.

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

#[test]
fn writes_the_document_and_checks_it() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("schema")).unwrap();
    std::fs::copy(
        example.join("schema/todo.sql"),
        dir.path().join("schema/todo.sql"),
    )
    .unwrap();
    std::fs::copy(example.join("tenet.toml"), dir.path().join("tenet.toml")).unwrap();

    let check = |dir: &Path| tenet(dir).args(["docs", "--check"]).output().unwrap();
    let missing = check(dir.path());
    assert_eq!(missing.status.code(), Some(1), "no document yet");
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("does not exist"),
        "a missing document is not reported as stale: {}",
        String::from_utf8_lossy(&missing.stderr)
    );

    let out = tenet(dir.path()).arg("docs").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = std::fs::read_to_string(dir.path().join("specs/db/schema.md")).unwrap();
    assert!(
        doc.contains("## Ownership and Isolation Rules") && doc.contains("```mermaid\nerDiagram")
    );
    assert_eq!(check(dir.path()).status.code(), Some(0), "just written");

    // A schema change makes the document stale.
    let mut schema = std::fs::read_to_string(dir.path().join("schema/todo.sql")).unwrap();
    schema.push_str("\nALTER TABLE tasks ADD COLUMN due date;\n");
    std::fs::write(dir.path().join("schema/todo.sql"), schema).unwrap();
    let stale = check(dir.path());
    assert_eq!(stale.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&stale.stderr).contains("out of date"));
}

/// `tenet docs --check --config examples/todo/tenet.toml` from the repository root said "out of
/// date" while `demo` said current: the default document path is the project's, not the
/// current directory's.
#[test]
fn docs_check_with_config_from_another_directory() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = tenet(&root)
        .args(["docs", "--check", "--config", "examples/todo/tenet.toml"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn gen_typescript_prints_the_types_of_the_schema() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo");
    let dir = tempfile::tempdir().unwrap();
    let out = tenet(&example)
        .args(["gen", "typescript", "schema", "--out"])
        .arg(dir.path().join("db.ts"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = std::fs::read_to_string(dir.path().join("db.ts")).unwrap();
    assert!(
        code.contains("export interface UsersRow {") && code.contains("export type TasksUpdate")
    );
}

/// Issue 16: `docs --format json` (and with --check) prints `{"path", "status"}`: written, then
/// missing / current / stale told apart.
#[test]
fn docs_format_json_tells_missing_current_and_stale() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("schema")).unwrap();
    let schema = dir.path().join("schema/todo.sql");
    std::fs::copy(example.join("schema/todo.sql"), &schema).unwrap();
    std::fs::copy(example.join("tenet.toml"), dir.path().join("tenet.toml")).unwrap();
    let report = |args: &[&str], code: i32| {
        let out = tenet(dir.path())
            .args(["docs", "--format", "json"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(json["path"]
            .as_str()
            .unwrap()
            .ends_with("specs/db/schema.md"));
        json["status"].as_str().unwrap().to_string()
    };
    assert_eq!(report(&["--check"], 1), "missing");
    assert_eq!(report(&[], 0), "written");
    assert_eq!(report(&["--check"], 0), "current");
    let mut sql = std::fs::read_to_string(&schema).unwrap();
    sql.push_str("\nALTER TABLE tasks ADD COLUMN due date;\n");
    std::fs::write(&schema, sql).unwrap();
    assert_eq!(report(&["--check"], 1), "stale");
}

/// Issue 16: `gen --format json` names the files written (the code itself when there is no
/// --out).
#[test]
fn gen_format_json_lists_the_files_written() {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo/schema");
    let dir = tempfile::tempdir().unwrap();
    let gen = |extra: &[&str]| {
        let out = tenet(dir.path())
            .args(["gen", "sqlmodel", "--format", "json"])
            .arg(&schema)
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let report = gen(&["--out", "models.py"]);
    assert_eq!(report["language"], "sqlmodel");
    assert_eq!(report["written"], serde_json::json!(["models.py"]));
    let written = std::fs::read_to_string(dir.path().join("models.py")).unwrap();
    assert!(written.contains("class Users(sqlmodel.SQLModel, table=True):"));
    let report = gen(&[]);
    assert_eq!(report["written"], serde_json::json!([]));
    assert_eq!(report["code"], written);
}
