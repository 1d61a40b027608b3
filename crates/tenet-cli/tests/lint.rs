//! `tenet lint` and `tenet advise` end to end: the binary on migration directories and live
//! databases, its three output formats, configuration and exit codes.

use std::path::Path;
use std::process::{Command, Output};

use tenet_testkit::{exec, server, test_db};

fn tenet(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenet"));
    command
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("TENET_DEV_URL")
        .env("NO_COLOR", "1");
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn dev_url() -> String {
    server().url_for("postgres")
}

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

const INIT: &str = "CREATE TABLE users (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  email text\n);\nCREATE INDEX users_email ON users (email);\n";
const NEXT: &str = "-- add a name\nSET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN name text;\nCREATE INDEX users_name ON users (name);\n";

fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap();
    (status.code().unwrap_or(-1), text(&stdout), text(&stderr))
}

#[test]
fn human_diagnostics_point_at_the_line_and_column() {
    let dir = project(&[
        ("migrations/20240101000000_init.up.sql", INIT),
        (
            "migrations/20240101000000_init.down.sql",
            "DROP TABLE users;\n",
        ),
        ("migrations/20240102000000_name.up.sql", NEXT),
    ]);
    let (code, stdout, stderr) = run(tenet(dir.path()).args(["lint", "--dev-url", &dev_url()]));
    let expected = "\
error[index-not-concurrent]: CREATE INDEX on public.users without CONCURRENTLY blocks writes to it while the index builds (observed in the replay: SHARE lock on public.users)
 --> migrations/20240102000000_name.up.sql:4:1
  |
4 | CREATE INDEX users_name ON users (name);
  | ^^^^^^^^^^^^
  |
  = note: object: table public.users
  = note: why: CREATE INDEX takes a SHARE lock and DROP INDEX or REINDEX an ACCESS EXCLUSIVE lock on the table: every write (and for DROP/REINDEX every read) waits until the index is built or dropped, which on a large table means minutes of downtime.
  = help: CREATE INDEX CONCURRENTLY ... ON public.users, in a migration of its own that does not run in a transaction.

tenet lint: 2 files, facts from the replay: 1 error, 0 warnings, 0 infos
";
    assert_eq!(stdout, expected, "stderr: {stderr}");
    assert_eq!(code, 1);
}

#[test]
fn replay_needs_no_configuration_file_and_is_clean_on_safe_migrations() {
    let dir = project(&[
        ("migrations/20240101000000_init.up.sql", INIT),
        (
            "migrations/20240102000000_name.up.sql",
            "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY users_email2 ON users (email);\n",
        ),
    ]);
    let (code, stdout, stderr) = run(tenet(dir.path()).args(["lint", "--dev-url", &dev_url()]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "tenet lint: 2 files, facts from the replay: no findings\n"
    );
}

#[test]
fn a_single_migration_is_linted_after_replaying_the_earlier_ones() {
    let dir = project(&[
        ("migrations/20240101000000_init.up.sql", INIT),
        ("migrations/20240102000000_name.up.sql", NEXT),
    ]);
    let (code, stdout, _) = run(tenet(dir.path()).args([
        "lint",
        "migrations/20240102000000_name.up.sql",
        "--format",
        "json",
        "--dev-url",
        &dev_url(),
    ]));
    assert_eq!(code, 1);
    let findings: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let findings = findings.as_array().unwrap();
    // The first migration is replayed, not linted (its CREATE INDEX is on a new table anyway).
    assert_eq!(findings.len(), 1, "{stdout}");
    assert_eq!(findings[0]["rule"], "index-not-concurrent");
    assert_eq!(findings[0]["severity"], "error");
    assert_eq!(
        findings[0]["location"],
        serde_json::json!({
            "file": "migrations/20240102000000_name.up.sql",
            "line": 4, "column": 1, "end_line": 4, "end_column": 13
        })
    );
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

#[track_caller]
fn assert_valid_sarif(stdout: &str) -> serde_json::Value {
    let log: serde_json::Value = serde_json::from_str(stdout).unwrap();
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{stdout}");
    log
}

#[test]
fn sarif_output_validates_and_names_the_rules() {
    let dir = project(&[("migrations/20240102000000_name.up.sql", NEXT)]);
    let (code, stdout, stderr) =
        run(tenet(dir.path()).args(["lint", "--offline", "--format", "sarif"]));
    assert_eq!(code, 1, "{stderr}");
    let log = assert_valid_sarif(&stdout);
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["id"] == "missing-lock-timeout"
        && r["shortDescription"]["text"]
            == "Lock taken on an existing table without lock_timeout"));
    let results = run["results"].as_array().unwrap();
    // Offline, `users` is assumed to exist: ALTER TABLE and CREATE INDEX are flagged.
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["index-not-concurrent"], "{stdout}");
    let region = &results[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(4), Some(1))
    );
}

#[test]
fn tenet_toml_disables_and_relevels_rules_and_inline_ignores_work() {
    let migration = "ALTER TABLE users ADD COLUMN bio text;\n\
                     CREATE INDEX users_bio ON users (bio); -- tenet:ignore index-not-concurrent\n\
                     ALTER TABLE users RENAME COLUMN bio TO about;\n";
    let dir = project(&[
        ("migrations/20240102000000_bio.up.sql", migration),
        (
            "tenet.toml",
            "[lint]\ndisable = [\"missing-lock-timeout\"]\nseverity = { \"rename-column\" = \"error\" }\n",
        ),
    ]);
    let (code, stdout, stderr) =
        run(tenet(dir.path()).args(["lint", "--offline", "--format", "json"]));
    let findings: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let got: Vec<(String, String)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("rename-column".to_string(), "error".to_string())],
        "{stderr}"
    );
    assert_eq!(code, 1);

    // Re-levelled to a warning: exit 0.
    std::fs::write(
        dir.path().join("tenet.toml"),
        "[lint]\ndisable = [\"missing-lock-timeout\"]\nseverity = { \"rename-column\" = \"info\" }\n",
    )
    .unwrap();
    let (code, _, _) = run(tenet(dir.path()).args(["lint", "--offline"]));
    assert_eq!(code, 0);

    // A bad level is a configuration error.
    std::fs::write(
        dir.path().join("tenet.toml"),
        "[lint]\nseverity = { \"rename-column\" = \"fatal\" }\n",
    )
    .unwrap();
    let (code, _, stderr) = run(tenet(dir.path()).args(["lint", "--offline"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("\"fatal\""), "{stderr}");
}

#[test]
fn tenancy_config_flags_new_tables_without_rls() {
    let dir = project(&[
        (
            "migrations/20240101000000_tasks.up.sql",
            "CREATE TABLE tasks (id bigint PRIMARY KEY, tenant_id uuid NOT NULL);\nCREATE TABLE plans (id bigint PRIMARY KEY);\n",
        ),
        (
            "tenet.toml",
            "[tenancy]\ncolumn = \"tenant_id\"\nsetting = \"app.tenant_id\"\napp_role = \"app_user\"\nglobal_tables = [\"plans\"]\n",
        ),
    ]);
    let (code, stdout, _) = run(tenet(dir.path()).args(["lint", "--offline", "--format", "json"]));
    assert_eq!(code, 1);
    let findings: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let findings = findings.as_array().unwrap();
    assert_eq!(findings.len(), 1, "{stdout}");
    assert_eq!(findings[0]["rule"], "new-table-without-rls");
    assert_eq!(findings[0]["object"], "table public.tasks");
}

#[test]
fn missing_migrations_directory_is_a_usage_error() {
    let dir = project(&[]);
    let (code, _, stderr) = run(tenet(dir.path()).args(["lint", "--offline"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("nothing to lint"), "{stderr}");
}

#[test]
fn advise_reports_live_rules_and_tenancy_rules() {
    let db = test_db();
    exec(
        &db,
        "create table users (id bigint primary key);
         create table tasks (id bigint primary key, user_id bigint references users, tenant_id uuid);
         create table log (line text);",
    );
    let dir = project(&[]);
    let (code, stdout, stderr) =
        run(tenet(dir.path()).args(["advise", "--url", &db.url(), "--format", "json"]));
    let findings: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("{e}: {stdout}{stderr}");
    });
    let rules: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"unindexed-foreign-key"), "{rules:?}");
    assert!(rules.contains(&"missing-primary-key"), "{rules:?}");
    assert!(!rules.iter().any(|r| r.starts_with("rls")), "{rules:?}");
    assert_eq!(code, 0, "warnings only: {stderr}");

    // With a tenancy section, every tenancy rule runs too.
    std::fs::write(
        dir.path().join("tenet.toml"),
        "[tenancy]\ncolumn = \"tenant_id\"\nsetting = \"app.tenant_id\"\napp_role = \"app_user\"\nglobal_tables = [\"users\", \"log\"]\n",
    )
    .unwrap();
    let (code, stdout, stderr) =
        run(tenet(dir.path()).args(["advise", "--url", &db.url(), "--format", "sarif"]));
    let log = assert_valid_sarif(&stdout);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"rls-disabled"), "{ids:?} {stderr}");
    assert!(ids.contains(&"tenant-column-nullable"), "{ids:?}");
    assert!(ids.contains(&"unindexed-foreign-key"), "{ids:?}");
    assert_eq!(code, 1);
    // Database findings point at the project's configuration for code scanning.
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "tenet.toml"
    );

    // Human output names the object and the summary.
    let (_, stdout, _) = run(tenet(dir.path()).args(["advise", "--url", &db.url()]));
    assert!(stdout.contains("warning[unindexed-foreign-key]: foreign key tasks_user_id_fkey on public.tasks (user_id) referencing public.users has no index on its columns"), "{stdout}");
    assert!(stdout.contains("tenet advise: "), "{stdout}");
}

/// `[schema] exclude` (managed elsewhere) leaves tables out of advise, as out of plans.
#[test]
fn advise_leaves_out_what_schema_exclude_names() {
    let db = test_db();
    exec(
        &db,
        "create table log (line text); create table legacy_events (line text);
         create table kept (line text);",
    );
    let dir = project(&[]);
    std::fs::write(
        dir.path().join("tenet.toml"),
        "[schema]\nexclude = [\"public.log\", \"public.legacy_*\"]\n",
    )
    .unwrap();
    let (_, stdout, stderr) =
        run(tenet(dir.path()).args(["advise", "--url", &db.url(), "--format", "json"]));
    let findings: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("{e}: {stdout}{stderr}");
    });
    let objects: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "missing-primary-key")
        .map(|f| f["object"].as_str().unwrap())
        .collect();
    assert_eq!(objects, ["table public.kept"], "{stdout}");
}

#[test]
fn advise_without_a_database_is_a_usage_error() {
    let dir = project(&[]);
    let (code, _, stderr) = run(tenet(dir.path()).args(["advise"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("--url"), "{stderr}");
}

/// The pull-request check: one migration whose table comes from outside its
/// directory. Five real problems in it, whatever the replay can or cannot do.
const INVOICES: &str = "SET lock_timeout = '2s';\n\
CREATE INDEX invoices_customer ON invoices (customer_id);\n\
ALTER TABLE invoices ADD CONSTRAINT amount_positive CHECK (amount > 0);\n\
ALTER TABLE invoices ALTER COLUMN amount TYPE numeric(14, 2);\n\
ALTER TABLE invoices ADD COLUMN currency text NOT NULL;\n\
ALTER TABLE invoices DROP COLUMN legacy_ref;\n";
const INVOICES_TABLE: &str = "CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint, amount integer, legacy_ref text);\n";
const FIVE: [&str; 5] = [
    "index-not-concurrent@2",
    "constraint-without-not-valid@3",
    "type-change-rewrite@4",
    "not-null-without-default@5",
    "drop-column@6",
];

fn rules_at(stdout: &str) -> Vec<String> {
    let findings: serde_json::Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}@{}", f["rule"].as_str().unwrap(), f["location"]["line"]))
        .collect()
}

#[test]
fn one_migration_whose_tables_come_from_elsewhere_still_gets_its_findings() {
    // Alone in its directory: the replay fails on the missing table, which is reported, and
    // static analysis still finds the five problems.
    let dir = project(&[("migrations/20260727143313_invoices.up.sql", INVOICES)]);
    let (code, stdout, stderr) = run(tenet(dir.path()).args([
        "lint",
        "migrations/20260727143313_invoices.up.sql",
        "--format",
        "json",
        "--dev-url",
        &dev_url(),
    ]));
    assert_eq!(code, 1);
    let mut expected = vec!["migration-fails@2".to_string()];
    expected.extend(FIVE.iter().map(|s| s.to_string()));
    let mut got = rules_at(&stdout);
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "{stderr}");
    assert!(
        stderr.contains("note: the replay stopped at migrations/20260727143313_invoices.up.sql:2:")
            && stderr.contains("relation \"invoices\" does not exist")
            && stderr.contains("facts from the SQL alone"),
        "{stderr}"
    );
    assert!(stdout.contains("(predicted: "), "{stdout}");

    // With the history that creates the table: the same five, observed in the replay.
    let dir = project(&[
        ("migrations/20260701000000_init.up.sql", INVOICES_TABLE),
        ("migrations/20260727143313_invoices.up.sql", INVOICES),
    ]);
    let (code, stdout, stderr) = run(tenet(dir.path()).args([
        "lint",
        "migrations/20260727143313_invoices.up.sql",
        "--format",
        "json",
        "--dev-url",
        &dev_url(),
    ]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(rules_at(&stdout), FIVE, "{stderr}");
    assert_eq!(
        stdout.matches("(observed in the replay: ").count(),
        5,
        "{stdout}"
    );

    // Run from inside the migrations folder, a bare file name keeps its directory.
    let (code, stdout, stderr) = run(tenet(&dir.path().join("migrations")).args([
        "lint",
        "20260727143313_invoices.up.sql",
        "--format",
        "json",
        "--dev-url",
        &dev_url(),
    ]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(rules_at(&stdout), FIVE, "{stderr}");
}

#[test]
fn url_gives_facts_and_sizes_when_the_replay_cannot() {
    let db = test_db();
    exec(
        &db,
        &format!(
            "{INVOICES_TABLE}insert into invoices select g, g, g, 'x' from generate_series(1, 20000) g;
             create table lookup (id bigint primary key, code integer);
             insert into lookup select g, g from generate_series(1, 10) g;
             analyze invoices; analyze lookup;"
        ),
    );
    let dir = project(&[
        ("migrations/20260727143313_invoices.up.sql", INVOICES),
        (
            "migrations/20260727150000_lookup.up.sql",
            "SET lock_timeout = '2s';\nALTER TABLE lookup ALTER COLUMN code TYPE bigint;\n",
        ),
        (
            "tenet.toml",
            "[lint]\nwarning_rows = 100\nerror_rows = 10000\n",
        ),
    ]);
    let (code, stdout, stderr) = run(tenet(dir.path()).args([
        "lint",
        "--format",
        "json",
        "--dev-url",
        &dev_url(),
        "--url",
        &db.url(),
    ]));
    assert_eq!(code, 1, "{stderr}");
    // The table exists where the migration will run: no migration-fails, the target's facts.
    let got = rules_at(&stdout);
    assert!(
        !got.iter().any(|r| r.starts_with("migration-fails")),
        "{got:?}"
    );
    assert!(
        stderr.contains("facts from the target database (--url)"),
        "{stderr}"
    );
    let findings: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let find = |rule: &str, file: &str| {
        findings
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule && f["location"]["file"].as_str().unwrap().contains(file))
            .unwrap_or_else(|| panic!("{rule} in {file}: {stdout}"))
            .clone()
    };
    let big = find("type-change-rewrite", "invoices");
    assert_eq!(big["severity"], "error");
    let message = big["message"].as_str().unwrap();
    assert!(
        message.contains("from integer to numeric(14, 2)"),
        "{message}"
    );
    assert!(
        message.contains("public.invoices has 20,000 rows, "),
        "{message}"
    );
    let small = find("type-change-rewrite", "lookup");
    assert_eq!(small["severity"], "info");
    assert!(
        small["message"]
            .as_str()
            .unwrap()
            .contains("public.lookup has 10 rows"),
        "{small}"
    );
    // Data loss does not shrink with the table.
    assert_eq!(find("drop-column", "invoices")["severity"], "error");
}

#[test]
fn the_no_transaction_directive_is_understood() {
    let backfill = "DO $$\nBEGIN\n  LOOP\n    UPDATE users SET email = lower(email) WHERE id IN (SELECT id FROM users WHERE email <> lower(email) LIMIT 1000);\n    EXIT WHEN NOT FOUND;\n    COMMIT;\n  END LOOP;\nEND $$;\n";
    let dir = project(&[
        ("migrations/20240101000000_init.up.sql", INIT),
        ("migrations/20240102000000_backfill.up.sql", backfill),
    ]);
    let (code, stdout, stderr) =
        run(tenet(dir.path()).args(["lint", "--format", "json", "--dev-url", &dev_url()]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(rules_at(&stdout), ["commit-in-do-block@6"], "{stderr}");
    std::fs::write(
        dir.path().join("migrations/20240102000000_backfill.up.sql"),
        format!("-- tenet:no-transaction\n{backfill}"),
    )
    .unwrap();
    let (code, stdout, stderr) =
        run(tenet(dir.path()).args(["lint", "--format", "json", "--dev-url", &dev_url()]));
    assert_eq!((code, stdout.trim()), (0, "[]"), "{stderr}");
}
