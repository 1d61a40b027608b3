//! `tenet mcp` driven by a real MCP client: the official Python SDK (`pip install mcp`, into a
//! virtualenv under the target directory, made on first use) over stdio.

use std::path::{Path, PathBuf};
use std::process::Command;

use tenet_testkit::{exec, test_db};

/// A Python with the `mcp` package, made on first use.
fn mcp_python() -> PathBuf {
    // Tests of this file run in parallel; one of them makes the virtualenv.
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(make_mcp_python).clone()
}

fn make_mcp_python() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mcp-venv");
    let python = venv.join("bin/python");
    let ready = Command::new(&python)
        .args(["-c", "import mcp"])
        .status()
        .is_ok_and(|s| s.success());
    if !ready {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 is needed for the MCP client test (.ci/run installs it)");
        assert!(made.success(), "python3 -m venv failed");
        let installed = Command::new(&python)
            .args(["-m", "pip", "install", "-q", "mcp"])
            .status()
            .unwrap();
        assert!(installed.success(), "pip install mcp failed");
    }
    python
}

const SCHEMA: &str = include_str!("../../tenet-catalog/tests/schemas/tenancy.sql");

#[test]
fn an_mcp_client_lists_plans_lints_and_proves_through_tenet_mcp() {
    let db = test_db();
    exec(&db, SCHEMA);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tenet.toml");
    std::fs::write(
        &config,
        "[tenancy]\ncolumn = \"tenant_id\"\nsetting = \"app.tenant_id\"\napp_role = \"tenet_rt_app\"\nglobal_tables = [\"tenants\"]\n",
    )
    .unwrap();
    let calls = serde_json::json!([
        ["list_schemas", {}],
        ["list_tables", {"schema": "public"}],
        ["list_extensions", {}],
        ["plan", {"desired_sql": format!("{SCHEMA}\nalter table public.tasks add column due date;")}],
        ["lint", {"sql": "create index tasks_title on public.tasks (title);"}],
        ["get_advisors", {}],
        ["check_tenancy", {}],
        ["prove_isolation", {}],
        ["execute_sql", {"sql": "select count(*) as n from public.tasks"}],
        ["execute_sql", {"sql": "delete from public.tasks"}],
    ]);
    let result = drive(&db.url(), &config, calls, &[]);
    let tools: Vec<&str> = result["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for tool in [
        "list_schemas",
        "list_tables",
        "list_extensions",
        "plan",
        "lint",
        "get_advisors",
        "check_tenancy",
        "prove_isolation",
        "execute_sql",
    ] {
        assert!(tools.contains(&tool), "{tool} missing from {tools:?}");
    }
    let calls = result["calls"].as_array().unwrap();
    let text = |i: usize| calls[i]["text"].as_str().unwrap().to_string();
    let ok = |i: usize| {
        assert!(
            !calls[i]["error"].as_bool().unwrap(),
            "{}: {}",
            calls[i]["tool"],
            text(i)
        )
    };
    for i in 0..9 {
        ok(i);
    }
    assert!(text(0).contains("public"));
    let tables: serde_json::Value = serde_json::from_str(&text(1)).unwrap();
    let tasks = tables
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "tasks")
        .unwrap();
    assert_eq!(tasks["rls_forced"], true);
    assert!(
        text(3).contains("ALTER TABLE public.tasks ADD COLUMN due date;"),
        "{}",
        text(3)
    );
    assert!(text(4).contains("index-not-concurrent"), "{}", text(4));
    // The clean tenancy schema has no isolation findings, and the proof finds no leak.
    assert!(!text(6).contains("\"severity\": \"error\""), "{}", text(6));
    assert!(text(7).contains(" 0 LEAK,"), "{}", text(7));
    assert!(text(8).contains("\"n\": 0"), "{}", text(8));
    // Read-only by default: the delete is refused.
    assert!(
        calls[9]["error"].as_bool().unwrap(),
        "a write went through: {}",
        text(9)
    );
    assert!(text(9).contains("read-only"), "{}", text(9));
}

/// Run the Python MCP client against `tenet mcp` on `url`; the parsed result.
fn drive(
    url: &str,
    config: &Path,
    calls: serde_json::Value,
    server_args: &[&str],
) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tenet-mcp/tests/mcp_client.py");
    let out = Command::new(mcp_python())
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_tenet"))
        .arg(url)
        .arg(config)
        .arg(calls.to_string())
        .arg(serde_json::json!(server_args).to_string())
        .env_remove("DATABASE_URL")
        .env("TENET_DEV_URL", tenet_testkit::server().url_for("postgres"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn an_mcp_client_migrates_generates_types_and_reads_docs_of_the_todo_example() {
    let db = test_db();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo/tenet.toml");
    let calls = serde_json::json!([["list_migrations", {}], ["apply_migration", {}],]);
    // Read-only by default: the migration is refused.
    let result = drive(&db.url(), &config, calls.clone(), &[]);
    let tools: Vec<&str> = result["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for tool in [
        "list_migrations",
        "apply_migration",
        "generate_types",
        "docs",
    ] {
        assert!(tools.contains(&tool), "{tool} missing from {tools:?}");
    }
    let calls_out = result["calls"].as_array().unwrap();
    assert!(
        !calls_out[0]["error"].as_bool().unwrap(),
        "{}",
        calls_out[0]["text"]
    );
    assert_eq!(
        calls_out[0]["text"]
            .as_str()
            .unwrap()
            .matches("\"pending\"")
            .count(),
        2
    );
    assert!(calls_out[1]["error"].as_bool().unwrap());
    assert!(calls_out[1]["text"]
        .as_str()
        .unwrap()
        .contains("--allow-write"));

    let calls = serde_json::json!([
        ["apply_migration", {}],
        ["list_migrations", {}],
        ["plan", {}],
        ["generate_types", {"language": "typescript"}],
        ["docs", {}],
        ["prove_isolation", {}],
        ["generate_types", {"language": "sqlmodel"}],
    ]);
    let result = drive(&db.url(), &config, calls, &["--allow-write"]);
    let calls = result["calls"].as_array().unwrap();
    let text = |i: usize| calls[i]["text"].as_str().unwrap().to_string();
    for (i, call) in calls.iter().enumerate() {
        assert!(
            !call["error"].as_bool().unwrap(),
            "{}: {}",
            call["tool"],
            text(i)
        );
    }
    assert!(
        text(0).contains("20261130063449_tenant_isolation"),
        "{}",
        text(0)
    );
    assert_eq!(text(1).matches("\"applied\"").count(), 2, "{}", text(1));
    assert!(text(2).contains("nothing to do"), "{}", text(2));
    assert!(text(3).contains("user_id"), "{}", text(3));
    assert!(
        text(4).contains("```mermaid") && !text(4).contains("tenet.migrations"),
        "{}",
        text(4)
    );
    assert!(text(5).contains(" 0 LEAK,"), "{}", text(5));
    assert!(text(6).contains("SQLModel, table=True)"), "{}", text(6));
}
