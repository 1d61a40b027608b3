//! `tenet demo` on the bundled Todo example: its migrations capture its schema, apply cleanly,
//! pass the tenancy rules, prove isolation, and its committed schema document is current.

use std::process::Command;

use tenet_testkit::server;

#[test]
fn the_todo_example_passes_the_whole_flow() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO_BIN_EXE_tenet"))
        .current_dir(&root)
        .env_remove("DATABASE_URL")
        .env("TENET_DEV_URL", server().url_for("postgres"))
        .args(["demo", "--config", "examples/todo/tenet.toml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "no pending model changes",
        "migrate: applied 2 migration(s)",
        "tenancy: 0 finding(s)",
        ", 0 leak(s), 0 untested",
        "examples/todo/specs/db/schema.md is current",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}
