//! `tenet fleet` end to end on real servers: 200 tenant schemas in one database, 50 databases
//! over the local server and an embedded cluster (found by a control query), a broken tenant
//! with and without --continue-on-error and --canary, SIGTERM and SIGKILL in the middle of a
//! run, and drift planted in one tenant found by `fleet check`.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tenet_testkit::{exec, query, test_db, ScratchDb};

mod support;

use support::*;

/// What a URL carries as its password in these tests: it must never reach the output.
const PASSWORD: &str = "fleet-secret-pw";

/// The test database's URL with a password in it (trust authentication ignores it).
fn url_with_password(db: &ScratchDb) -> String {
    let url = db.url();
    let with = url.replacen("://postgres@", &format!("://postgres:{PASSWORD}@"), 1);
    assert!(with.contains(PASSWORD), "cannot put a password in {url}");
    with
}

/// A project whose [fleet] is `fleet` (TOML lines), with two tiny migrations.
fn fleet_project(fleet: &str) -> Project {
    let project = Project::new();
    let toml = std::fs::read_to_string(project.path("tenet.toml")).unwrap();
    project.write("tenet.toml", &format!("{toml}\n[fleet]\n{fleet}\n"));
    project.migration(
        "0001_tasks",
        "CREATE TABLE tasks (id bigint PRIMARY KEY, title text NOT NULL);",
        "DROP TABLE tasks;",
    );
    project.migration(
        "0002_notes",
        "CREATE TABLE notes (id bigint PRIMARY KEY, task_id bigint REFERENCES tasks);\n\
         CREATE INDEX notes_task ON notes (task_id);",
        "DROP TABLE notes;",
    );
    project
}

fn schemas_fleet(db: &ScratchDb, pattern: &str) -> Project {
    fleet_project(&format!(
        "url = {:?}\nschemas = {pattern:?}",
        url_with_password(db)
    ))
}

fn create_schemas(db: &ScratchDb, names: &[String]) {
    let sql: String = names
        .iter()
        .map(|n| format!("CREATE SCHEMA {};", tenet_catalog::quote::ident(n)))
        .collect();
    exec(db, &sql);
}

fn tenants(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("tenant_{i:03}")).collect()
}

/// Run the binary with `--format json`: its exit code and the JSON report; nothing it prints
/// may hold the password.
fn fleet_json(project: &Project, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["fleet"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = project.run(&all);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        !stdout.contains(PASSWORD) && !stderr.contains(PASSWORD),
        "the password reached the output:\n{stdout}{stderr}"
    );
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\n{stderr}"));
    (out.status.code().unwrap_or(-1), json)
}

fn statuses(report: &Value) -> Vec<String> {
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap().to_string())
        .collect()
}

fn target_named<'a>(report: &'a Value, schema: &str) -> &'a Value {
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| {
            t["target"]
                .as_str()
                .unwrap()
                .ends_with(&format!("schema {schema}"))
        })
        .unwrap_or_else(|| panic!("no target {schema} in {report:#}"))
}

/// A tenant's history in its own schema: (version, segments done, of total).
fn tenant_history(db: &ScratchDb, schema: &str) -> Vec<(i64, i32, i32)> {
    query(
        db,
        &format!(
            "SELECT version, segments_done, segments_total FROM {}.tenet_migrations ORDER BY version",
            tenet_catalog::quote::ident(schema)
        ),
    )
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

#[test]
fn two_hundred_tenant_schemas_migrate_once_each_and_a_rerun_only_compares() {
    let db = test_db();
    let names = tenants(200);
    create_schemas(&db, &names);
    exec(
        &db,
        "CREATE SCHEMA other; CREATE TABLE other.keep (id int);",
    );
    let project = schemas_fleet(&db, "tenant_%");

    let started = Instant::now();
    let (code, report) = fleet_json(&project, &["apply", "--parallel", "4"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["applied"], 200, "{report:#}");
    let first = target_named(&report, "tenant_000");
    assert_eq!(first["version_before"], Value::Null);
    assert_eq!(first["version_after"], "0002_notes");
    assert_eq!(
        first["applied"],
        serde_json::json!(["0001_tasks", "0002_notes"])
    );
    assert!(
        first["target"].as_str().unwrap().contains(":***@"),
        "{first}"
    );
    eprintln!("200 schemas applied in {:?}", started.elapsed());

    // Each tenant got its own tables and history, and nothing landed anywhere else.
    for name in [&names[0], &names[137], &names[199]] {
        assert!(exists(&db, &format!("{name}.tasks")) && exists(&db, &format!("{name}.notes")));
        assert_eq!(tenant_history(&db, name), vec![(1, 1, 1), (2, 1, 1)]);
    }
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'tasks'"
        ),
        200
    );
    assert!(!exists(&db, "public.tasks") && !exists(&db, "other.tasks"));
    assert!(
        !exists(&db, "tenet.migrations"),
        "tenant history stays in each tenant"
    );

    // A rerun applies nothing and replays nothing (the fingerprints agree).
    let started = Instant::now();
    let (code, report) = fleet_json(&project, &["apply", "--parallel", "4"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["up_to_date"], 200, "{report:#}");
    eprintln!(
        "200 schemas at the latest, rerun in {:?}",
        started.elapsed()
    );

    let (code, status) = fleet_json(&project, &["status"]);
    assert_eq!(code, 0);
    assert_eq!(
        status["groups"],
        serde_json::json!([{ "version": "0002_notes", "targets": 200 }])
    );

    // A new migration: 200 pending in status, then only it is applied.
    project.migration(
        "0003_done",
        "ALTER TABLE tasks ADD COLUMN done boolean NOT NULL DEFAULT false;",
        "ALTER TABLE tasks DROP COLUMN done;",
    );
    let (_, status) = fleet_json(&project, &["status"]);
    assert_eq!(
        status["targets"][5]["pending"],
        serde_json::json!(["0003_done"])
    );
    let human = project.ok(&["fleet", "status"]);
    assert!(
        human.contains("200 target(s): 200 at 0002_notes"),
        "{human}"
    );
    let (code, report) = fleet_json(&project, &["apply", "--parallel", "4"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["applied"], 200);
    assert_eq!(
        target_named(&report, "tenant_042")["applied"],
        serde_json::json!(["0003_done"])
    );
    assert_eq!(tenant_history(&db, "tenant_042").len(), 3);
    let (code, check) = fleet_json(&project, &["check"]);
    assert_eq!(code, 0, "{check:#}");
    assert_eq!(check["summary"]["clean"], 200);
}

/// Databases on a server: scratch databases, dropped with the handles.
fn databases(server: &tenet_pg::Server, n: usize) -> Vec<ScratchDb> {
    (0..n).map(|_| server.scratch().unwrap()).collect()
}

#[test]
fn fifty_databases_on_two_servers_found_by_a_control_query() {
    let embedded = tenet_pg::Server::embedded().expect("a second, embedded cluster");
    let local = databases(tenet_testkit::server(), 25);
    let second = databases(&embedded, 25);
    let control = test_db();
    exec(
        &control,
        "CREATE TABLE tenants (id serial, url text NOT NULL, active boolean NOT NULL DEFAULT true)",
    );
    let mut client = tenet_testkit::client(&control);
    for db in local.iter().zip(&second).flat_map(|(a, b)| [a, b]) {
        client
            .execute("INSERT INTO tenants (url) VALUES ($1)", &[&db.url()])
            .unwrap();
    }
    client
        .execute(
            "INSERT INTO tenants (url, active) VALUES ('postgres://nowhere.invalid/x', false)",
            &[],
        )
        .unwrap();
    let project = fleet_project(&format!(
        "control_url = {:?}\nquery = \"SELECT url FROM tenants WHERE active ORDER BY id\"",
        url_with_password(&control)
    ));

    let (code, report) = fleet_json(&project, &["apply", "--parallel", "6"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["summary"]["total"], 50,
        "the inactive row is not a target"
    );
    assert_eq!(report["summary"]["applied"], 50, "{report:#}");
    for db in [&local[0], &local[24], &second[0], &second[24]] {
        assert!(exists(db, "public.notes"), "{}", db.name());
        assert_eq!(history(db), vec![(1, 1, 1), (2, 1, 1)]);
    }
    let (code, status) = fleet_json(&project, &["status"]);
    assert_eq!(code, 0);
    assert_eq!(
        status["groups"],
        serde_json::json!([{ "version": "0002_notes", "targets": 50 }])
    );
    let (code, report) = fleet_json(&project, &["apply", "--parallel", "6"]);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["up_to_date"], 50, "{report:#}");
    let (code, check) = fleet_json(&project, &["check"]);
    assert_eq!(code, 0, "{check:#}");
    assert_eq!(check["summary"]["clean"], 50);

    // A control query that does not return one URL per row is bad input, before any target.
    let bad = fleet_project(&format!(
        "control_url = {:?}\nquery = \"SELECT id, url FROM tenants\"",
        url_with_password(&control)
    ));
    let (code, error) = fleet_json(&bad, &["apply"]);
    assert_eq!(code, 2, "{error:#}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("one column"),
        "{error:#}"
    );
}

/// A fleet at 0002 where `broken` holds rows that 0003 (a unique key on tasks.title) cannot
/// take. Rows, not an object: an object planted in a tenant is drift, which apply refuses
/// before running anything (see the check test); rows in the way fail in the migration itself.
fn fleet_with_a_broken_tenant(db: &ScratchDb, tenants_n: usize, broken: &str) -> Project {
    create_schemas(db, &tenants(tenants_n));
    let project = schemas_fleet(db, "tenant_%");
    let (code, report) = fleet_json(&project, &["apply", "--parallel", "4"]);
    assert_eq!(code, 0, "{report:#}");
    exec(
        db,
        &format!("INSERT INTO {broken}.tasks VALUES (1, 'same'), (2, 'same')"),
    );
    project.migration(
        "0003_unique_titles",
        "-- Titles are unique per tenant.\nALTER TABLE tasks ADD CONSTRAINT tasks_title_key UNIQUE (title);",
        "ALTER TABLE tasks DROP CONSTRAINT tasks_title_key;",
    );
    project
}

#[test]
fn a_broken_tenant_stops_the_run_or_not_and_a_failed_canary_stops_everything() {
    let db = test_db();
    let project = fleet_with_a_broken_tenant(&db, 20, "tenant_007");

    // Without --continue-on-error (one at a time, so the order is known): 0..6 applied, 7
    // failed with the file and line, the rest not attempted.
    let (code, report) = fleet_json(&project, &["apply", "--parallel", "1"]);
    assert_eq!(code, 1, "{report:#}");
    let s = statuses(&report);
    assert!(s[..7].iter().all(|s| s == "applied"), "{s:?}");
    assert_eq!(s[7], "failed");
    assert!(s[8..].iter().all(|s| s == "not_attempted"), "{s:?}");
    let broken = target_named(&report, "tenant_007");
    let error = broken["error"].as_str().unwrap();
    assert!(error.contains("0003_unique_titles.up.sql:2:"), "{error}");
    assert!(error.contains("rolled back"), "{error}");
    assert_eq!(broken["version_before"], "0002_notes");
    assert_eq!(broken["version_after"], "0002_notes");
    assert_eq!(tenant_history(&db, "tenant_007").len(), 2);
    assert!(target_named(&report, "tenant_012")["error"]
        .as_str()
        .unwrap()
        .contains("an earlier target failed"));
    assert_eq!(tenant_history(&db, "tenant_012").len(), 2, "not attempted");
    let human = project.fails(&["fleet", "apply", "--parallel", "1"], 1);
    assert!(!human.contains(PASSWORD));

    // With it: every other tenant gets there; the broken one is still reported.
    let (code, report) = fleet_json(
        &project,
        &["apply", "--parallel", "4", "--continue-on-error"],
    );
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["summary"]["failed"], 1);
    assert_eq!(report["summary"]["not_attempted"], 0);
    assert_eq!(report["summary"]["applied"], 12, "{report:#}");
    assert_eq!(report["summary"]["up_to_date"], 7);
    assert_eq!(tenant_history(&db, "tenant_019").len(), 3);

    // Canary: a fleet whose broken tenant is among the first three.
    let fresh = test_db();
    let canary = fleet_with_a_broken_tenant(&fresh, 12, "tenant_001");
    let (code, report) = fleet_json(
        &canary,
        &[
            "apply",
            "--canary",
            "3",
            "--parallel",
            "4",
            "--continue-on-error",
        ],
    );
    assert_eq!(code, 1, "{report:#}");
    let s = statuses(&report);
    assert_eq!(s[1], "failed");
    assert!(s[3..].iter().all(|s| s == "not_attempted"), "{s:?}");
    assert!(target_named(&report, "tenant_005")["error"]
        .as_str()
        .unwrap()
        .contains("canary"));
    assert_eq!(tenant_history(&fresh, "tenant_005").len(), 2);
}

/// Wait until `done`, for at most a minute.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(60), "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn interrupted_then_killed_then_rerun_nothing_applied_twice() {
    let db = test_db();
    let names = tenants(60);
    create_schemas(&db, &names);
    let project = schemas_fleet(&db, "tenant_%");
    // Every apply of 0003 leaves a row in the tenant's tasks: one per tenant is exactly once.
    project.migration(
        "0003_slow",
        "INSERT INTO tasks VALUES ((SELECT count(*) + 1 FROM tasks), current_schema());\n\
         SELECT pg_sleep(0.1);",
        "DELETE FROM tasks;",
    );
    let rows_in_every_tenant = names
        .iter()
        .map(|n| format!("SELECT title FROM {n}.tasks"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    // Rows in the tenants' tasks tables that exist so far (query_to_xml runs a query per schema).
    let applied = |db: &ScratchDb| {
        count(
            db,
            "SELECT coalesce(sum((xpath('/row/c/text()', query_to_xml(format(\
             'SELECT count(*) AS c FROM %I.tasks', nspname), false, true, '')))[1]::text::int), 0) \
             FROM pg_namespace WHERE nspname LIKE 'tenant_%' \
             AND to_regclass(format('%I.tasks', nspname)) IS NOT NULL",
        )
    };

    // SIGTERM: no new target starts, the ones in flight finish, the report says where each is.
    let child = project
        .command(&["fleet", "apply", "--parallel", "2", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("a few tenants migrated", || applied(&db) >= 4);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = statuses(&report);
    let done = s.iter().filter(|s| *s == "applied").count();
    assert!((4..60).contains(&done), "{s:?}");
    assert!(
        s.iter().all(|s| s == "applied" || s == "not_attempted"),
        "{s:?}"
    );
    assert!(text(&out.stderr).contains("interrupted"));
    assert!(report["targets"][59]["error"]
        .as_str()
        .unwrap()
        .contains("interrupted"));
    assert_eq!(
        applied(&db) as usize,
        done,
        "every started tenant finished, none twice"
    );

    // SIGKILL: whatever was in flight rolls back on the server.
    let mut child = project
        .command(&["fleet", "apply", "--parallel", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let before = applied(&db);
    wait_for("more tenants migrated", || applied(&db) >= before + 4);
    child.kill().unwrap();
    child.wait().unwrap();

    // The rerun finishes the rest: all at the latest, each migration applied once.
    let (code, report) = fleet_json(&project, &["apply", "--parallel", "4"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(applied(&db), 60);
    let distinct = format!("SELECT count(DISTINCT title) FROM ({rows_in_every_tenant}) AS rows");
    assert_eq!(count(&db, &distinct), 60, "one row in each tenant");
    for name in &names {
        assert_eq!(tenant_history(&db, name).len(), 3, "{name}");
    }
}

#[test]
fn fleet_check_finds_drift_planted_in_one_tenant_and_pending_migrations() {
    let db = test_db();
    let mut names = tenants(10);
    names.push("tenant_Odd\"name".to_string());
    create_schemas(&db, &names);
    let project = schemas_fleet(&db, "tenant_%");
    let (code, report) = fleet_json(&project, &["apply"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["applied"], 11);
    assert!(exists(&db, "\"tenant_Odd\"\"name\".notes"));
    let (code, check) = fleet_json(&project, &["check"]);
    assert_eq!(code, 0, "{check:#}");

    exec(&db, "ALTER TABLE tenant_004.tasks ADD COLUMN secret text");
    let (code, check) = fleet_json(&project, &["check"]);
    assert_eq!(code, 1, "{check:#}");
    assert_eq!(check["summary"]["drift"], 1);
    let drifted = target_named(&check, "tenant_004");
    let drift = drifted["drift"].as_str().unwrap();
    assert!(
        drift.contains("ALTER TABLE tenant_004.tasks DROP COLUMN secret"),
        "{drift}"
    );
    assert_eq!(target_named(&check, "tenant_003")["drift"], Value::Null);
    let human = project.fails(&["fleet", "check"], 1);
    assert!(human.is_empty() || !human.contains(PASSWORD));

    // apply refuses the drifted tenant (its fingerprint disagrees, the replay shows why) and
    // brings the others along.
    project.migration(
        "0003_done",
        "ALTER TABLE tasks ADD COLUMN done boolean NOT NULL DEFAULT false;",
        "ALTER TABLE tasks DROP COLUMN done;",
    );
    let (_, check) = fleet_json(&project, &["check"]);
    assert_eq!(check["summary"]["pending"], 11, "{check:#}");
    let (code, report) = fleet_json(&project, &["apply", "--continue-on-error"]);
    assert_eq!(code, 1, "{report:#}");
    let failed = target_named(&report, "tenant_004");
    assert_eq!(failed["status"], "failed");
    assert!(failed["error"].as_str().unwrap().contains("drifted"));
    assert_eq!(report["summary"]["applied"], 10);
}

#[test]
fn bad_input_is_exit_2_before_any_target() {
    let db = test_db();
    create_schemas(&db, &tenants(2));
    let project = Project::new();
    let err = project.fails(&["fleet", "status", "--url", &db.url()], 2);
    assert!(err.contains("no [fleet]"), "{err}");
    let project = schemas_fleet(&db, "tenant_%");
    project.write("migrations/0003_bad.up.sql", "CREATE TABLE (;");
    project.write("migrations/0003_bad.down.sql", "");
    project.ok(&["migrate", "hash"]);
    let err = project.fails(&["fleet", "apply"], 2);
    assert!(err.contains("0003_bad.up.sql:1:"), "{err}");
    assert!(!exists(&db, "tenant_000.tasks"), "nothing ran");
}
