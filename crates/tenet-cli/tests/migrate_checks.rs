//! What `tenet migrate` checks before it changes anything, and how it reports: every pending
//! file before the first runs, one version order for every reader of a migrations directory,
//! `--format json`, no project, and who decides lock_timeout.

use std::time::{Duration, Instant};

use tenet_testkit::{client, exec, test_db};

mod support;

use support::*;

#[test]
fn a_bad_sixth_file_stops_the_run_before_the_first_is_applied() {
    let project = Project::new();
    for n in 1..=5 {
        project.migration(
            &format!("{n}_t{n}"),
            &format!("CREATE TABLE t{n} (id int);"),
            &format!("DROP TABLE t{n};"),
        );
    }
    project.migration(
        "6_t6",
        "CREATE TABLE t6 (id int);\nBEGIN;\nINSERT INTO t6 VALUES (1);\nCOMMIT;",
        "DROP TABLE t6;",
    );
    let db = test_db();
    let url = db.url();
    let err = project.fails(&["migrate", "apply", "--url", &url], 2);
    assert!(
        err.contains("6_t6.up.sql:2:1: transaction control"),
        "{err}"
    );
    assert!(history(&db).is_empty());
    assert!(!exists(&db, "public.t1"));
    // Text the grammar rejects is refused the same way, with where it stops.
    project.migration(
        "6_t6",
        "CREATE TABLE t6 (id int);\n\nCREATE TABEL t7 (id int);",
        "DROP TABLE t6;",
    );
    let err = project.fails(&["migrate", "apply", "--url", &url], 2);
    assert!(err.contains("6_t6.up.sql:3:1: syntax error"), "{err}");
    assert!(history(&db).is_empty());
    assert!(!exists(&db, "public.t1"));
    project.migration("6_t6", "CREATE TABLE t6 (id int);", "DROP TABLE t6;");
    project.ok(&["migrate", "apply", "--url", &url]);
    assert_eq!(history(&db).len(), 6);
}

#[test]
fn the_files_source_replays_a_migrations_directory_in_version_order() {
    let project = Project::new();
    // Alphabetically 00010_x sorts before 0001_y; by version it comes after.
    project.migration("0001_y", "CREATE TABLE y (id int);", "DROP TABLE y;");
    project.migration(
        "00010_x",
        "ALTER TABLE y ADD COLUMN x int;",
        "ALTER TABLE y DROP COLUMN x;",
    );
    let sql = project.ok(&["inspect", "migrations"]);
    assert!(sql.contains("x integer"), "{sql}");
    let plan = project.ok(&["plan", "--from", "migrations", "--to", "migrations"]);
    assert_eq!(plan, "");
    let db = test_db();
    project.ok(&["migrate", "apply", "--url", &db.url()]);
    assert_eq!(history(&db), vec![(1, 1, 1), (10, 1, 1)]);
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"))
}

#[test]
fn status_apply_down_and_check_speak_json_and_refuse_outside_a_project() {
    let project = Project::new();
    project.migration("1_t", "CREATE TABLE t (id int);", "DROP TABLE t;");
    let db = test_db();
    let url = db.url();
    let status = json(&project.ok(&["migrate", "status", "--url", &url, "--format", "json"]));
    assert_eq!(status["migrations"][0]["state"], "pending");
    let applied = json(&project.ok(&["migrate", "apply", "--url", &url, "--format", "json"]));
    assert_eq!(applied["applied"][0], "1_t");
    let status = json(&project.ok(&["migrate", "status", "--url", &url, "--format", "json"]));
    assert_eq!(status["migrations"][0]["state"], "applied");
    assert_eq!(status["migrations"][0]["segments_total"], 1);
    project.write("schema/schema.sql", "CREATE TABLE t (id int);");
    let check = json(&project.ok(&["check", "--url", &url, "--format", "json"]));
    assert_eq!(check["ok"], true);
    assert_eq!(check["migrations"], 1);
    let reverted = json(&project.ok(&["migrate", "down", "--url", &url, "--format", "json"]));
    assert_eq!(reverted["reverted"][0], "1_t");
    let out = project.run(&["check", "--url", &url, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let check = json(&text(&out.stdout));
    assert_eq!(check["ok"], false);
    assert!(
        check["problems"][0]
            .as_str()
            .unwrap()
            .contains("1 pending migration"),
        "{check}"
    );

    // Outside a project: no migrations directory is said as such, exit 2.
    let elsewhere = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        project
            .command(args)
            .current_dir(elsewhere.path())
            .output()
            .unwrap()
    };
    for args in [
        vec!["migrate", "status", "--url", &url],
        vec!["migrate", "apply", "--url", &url],
        vec!["migrate", "down", "--url", &url],
        vec!["check", "--url", &url],
    ] {
        let out = run(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains("no migrations directory at ./migrations"),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let mut with_json = args.clone();
        with_json.extend(["--format", "json"]);
        let out = run(&with_json);
        assert_eq!(out.status.code(), Some(2));
        let error = json(&text(&out.stdout));
        assert_eq!(error["error"]["code"], 2, "{error}");
    }
}

#[test]
fn lock_timeout_comes_from_the_flag_or_config_and_a_file_setting_wins() {
    let project = Project::new();
    project.migration("1_t", "CREATE TABLE t (id int);", "DROP TABLE t;");
    let db = test_db();
    let url = db.url();
    project.ok(&["migrate", "apply", "--url", &url]);
    project.migration(
        "2_c",
        "ALTER TABLE t ADD COLUMN c int;",
        "ALTER TABLE t DROP COLUMN c;",
    );
    // A long transaction holds t.
    let mut holder = client(&db);
    holder
        .batch_execute("BEGIN; LOCK TABLE t IN ACCESS SHARE MODE")
        .unwrap();
    let timed = |args: &[&str]| {
        let started = Instant::now();
        let err = project.fails(args, 3);
        assert!(
            err.contains("could not get its locks after 1 tries"),
            "{err}"
        );
        (started.elapsed(), err)
    };
    let (took, _) = timed(&[
        "migrate",
        "apply",
        "--url",
        &url,
        "--retries",
        "0",
        "--lock-timeout",
        "200ms",
    ]);
    assert!(
        took < Duration::from_secs(4),
        "--lock-timeout 200ms took {took:?}"
    );
    // [migrations] lock_timeout when no flag is given.
    let config = std::fs::read_to_string(project.path("tenet.toml")).unwrap();
    project.write(
        "tenet.toml",
        &config.replace("# lock_timeout = \"5s\"", "lock_timeout = \"200ms\""),
    );
    let (took, _) = timed(&["migrate", "apply", "--url", &url, "--retries", "0"]);
    assert!(
        took < Duration::from_secs(4),
        "lock_timeout = 200ms took {took:?}"
    );
    // A file's own SET lock_timeout wins over the flag, and apply says so.
    project.migration(
        "2_c",
        "SET lock_timeout = '100ms';\nALTER TABLE t ADD COLUMN c int;",
        "ALTER TABLE t DROP COLUMN c;",
    );
    let (took, err) = timed(&[
        "migrate",
        "apply",
        "--url",
        &url,
        "--retries",
        "0",
        "--lock-timeout",
        "60s",
    ]);
    assert!(
        took < Duration::from_secs(4),
        "the file's 100ms took {took:?}"
    );
    assert!(
        err.contains("2_c.up.sql:1:1: the file sets lock_timeout itself; its value wins over --lock-timeout 60s"),
        "{err}"
    );
    holder.batch_execute("COMMIT").unwrap();
    project.ok(&["migrate", "apply", "--url", &url]);
    exec(&db, "SELECT c FROM t");
}

#[test]
fn a_no_op_apply_compares_the_recorded_fingerprint_instead_of_replaying() {
    let project = Project::new();
    project.migration("1_t", "CREATE TABLE t (id int);", "DROP TABLE t;");
    project.migration(
        "2_i",
        "CREATE INDEX CONCURRENTLY t_id ON t (id);",
        "DROP INDEX t_id;",
    );
    let db = test_db();
    let url = db.url();
    project.ok(&["migrate", "apply", "--url", &url]);
    let recorded = count(
        &db,
        "SELECT count(*) FROM tenet.migrations WHERE fingerprint IS NOT NULL",
    );
    assert_eq!(recorded, 1);
    // With no server to replay on, a run with nothing to do still succeeds: it only compares.
    let no_scratch = |args: &[&str]| {
        project
            .command(args)
            .env(
                "TENET_DEV_URL",
                "postgresql://postgres@127.0.0.1:1/postgres",
            )
            .output()
            .unwrap()
    };
    let out = no_scratch(&["migrate", "apply", "--url", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("nothing to apply"));
    // A change by hand: the fingerprint disagrees, so the replay decides (and finds drift).
    exec(&db, "ALTER TABLE t ADD COLUMN by_hand text");
    let out = no_scratch(&["migrate", "apply", "--url", &url]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = project.fails(&["migrate", "apply", "--url", &url], 8);
    assert!(err.contains("DROP COLUMN by_hand"), "{err}");
    exec(&db, "ALTER TABLE t DROP COLUMN by_hand");
    // After a replay agreed, the fingerprint is recorded again.
    project.ok(&["migrate", "apply", "--url", &url]);
    let out = no_scratch(&["migrate", "apply", "--url", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_history_table_from_before_down_progress_and_fingerprints_is_upgraded_in_place() {
    let project = Project::new();
    project.migration("1_t", "CREATE TABLE t (id int);", "DROP TABLE t;");
    let db = test_db();
    let url = db.url();
    project.ok(&["migrate", "apply", "--url", &url]);
    // The table as an older Tenet created it.
    exec(
        &db,
        "ALTER TABLE tenet.migrations DROP COLUMN down_done, DROP COLUMN fingerprint",
    );
    let status = project.ok(&["migrate", "status", "--url", &url]);
    assert!(status.contains(" applied "), "{status}");
    project.migration("2_u", "CREATE TABLE u (id int);", "DROP TABLE u;");
    project.ok(&["migrate", "apply", "--url", &url]);
    assert_eq!(history(&db), vec![(1, 1, 1), (2, 1, 1)]);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM tenet.migrations WHERE version = 2 AND fingerprint IS NOT NULL"
        ),
        1
    );
    project.ok(&["migrate", "down", "--url", &url]);
    assert_eq!(history(&db), vec![(1, 1, 1)]);
}
