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
    assert_eq!(check(dir.path()).status.code(), Some(1), "no document yet");

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
