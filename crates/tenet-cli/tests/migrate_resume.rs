//! Apply and down resume from the points a crash or a failure leaves: a killed concurrent
//! index build whose backend finished it, a down whose DROP INDEX CONCURRENTLY ran before a
//! later statement failed, and a `-- tenet:no-transaction` file that failed in statement 3 of 5.

use std::time::{Duration, Instant};

use tenet_testkit::{exec, query, test_db, ScratchDb};

mod support;

use support::*;

fn active(db: &ScratchDb, like: &str) -> i64 {
    count(
        db,
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' AND state = 'active' \
             AND query LIKE '{like}' AND pid <> pg_backend_pid()",
            db.name()
        ),
    )
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(60), "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn down_done(db: &ScratchDb, version: i64) -> Option<i32> {
    query(
        db,
        &format!("SELECT down_done FROM tenet.migrations WHERE version = {version}"),
    )[0]
    .get(0)
}

#[test]
fn sigkill_during_a_concurrent_index_build_then_rerun_applies_cleanly() {
    let project = Project::new();
    project.migration(
        "1_big",
        "CREATE TABLE big AS SELECT n, md5(n::text) AS h FROM generate_series(1, 1500000) AS n;",
        "DROP TABLE big;",
    );
    project.migration(
        "2_index",
        "ALTER TABLE big ADD COLUMN note text;\n\
         CREATE INDEX CONCURRENTLY big_h ON big (md5(h || n::text));",
        "DROP INDEX CONCURRENTLY big_h;\nALTER TABLE big DROP COLUMN note;",
    );
    let db = test_db();
    let url = db.url();
    project.ok(&["migrate", "apply", "--url", &url, "--to", "1"]);
    let mut child = project
        .command(&["migrate", "apply", "--url", &url])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the index build never started", || {
        active(&db, "%CREATE INDEX CONCURRENTLY big_h%") > 0
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    child.wait().unwrap();
    assert_eq!(history(&db), vec![(1, 1, 1), (2, 1, 2)]);
    // The orphaned backend goes on and finishes the index.
    wait_for("the orphaned index build never finished", || {
        active(&db, "%CREATE INDEX CONCURRENTLY big_h%") == 0
    });
    let valid: bool = query(
        &db,
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_h'::regclass",
    )[0]
    .get(0);
    assert!(valid, "the orphaned build did not finish the index");
    let out = project.run(&["migrate", "apply", "--url", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("segment 2 of 2 had already taken effect"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(history(&db), vec![(1, 1, 1), (2, 2, 2)]);
    // No drift, nothing left.
    let again = project.ok(&["migrate", "apply", "--url", &url]);
    assert!(again.contains("nothing to apply"), "{again}");
    let status = project.ok(&["migrate", "status", "--url", &url]);
    assert_eq!(status.matches(" applied ").count(), 2, "{status}");
}

#[test]
fn a_down_whose_drop_index_concurrently_ran_before_a_later_statement_failed_reruns_cleanly() {
    let project = Project::new();
    project.migration("1_t", "CREATE TABLE t (id int, x int);", "DROP TABLE t;");
    project.migration(
        "2_x_index",
        "CREATE INDEX CONCURRENTLY t_x ON t (x);\nALTER TABLE t ADD COLUMN y int;",
        "DROP INDEX CONCURRENTLY t_x;\nALTER TABLE t DROP COLUMN y;\nALTER TABLE t DROP COLUMN z;",
    );
    let db = test_db();
    let url = db.url();
    project.ok(&["migrate", "apply", "--url", &url]);
    let err = project.fails(&["migrate", "down", "--url", &url], 3);
    assert!(err.contains("2_x_index.down.sql:3:"), "{err}");
    assert!(err.contains("segment 2 of 2 failed"), "{err}");
    // The index is gone and history says so; the failing transaction left y in place.
    assert!(!exists(&db, "public.t_x"));
    assert_eq!(down_done(&db, 2), Some(1));
    let status = project.ok(&["migrate", "status", "--url", &url]);
    assert!(status.contains("PARTLY REVERTED"), "{status}");
    let err = project.fails(&["migrate", "apply", "--url", &url], 2);
    assert!(err.contains("partly reverted"), "{err}");
    // A crash between the drop and its history row looks like this: the drop is recognised.
    exec(
        &db,
        "UPDATE tenet.migrations SET down_done = 0 WHERE version = 2",
    );
    project.migration(
        "2_x_index",
        "CREATE INDEX CONCURRENTLY t_x ON t (x);\nALTER TABLE t ADD COLUMN y int;",
        "DROP INDEX CONCURRENTLY t_x;\nALTER TABLE t DROP COLUMN y;",
    );
    let out = project.run(&["migrate", "down", "--url", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("segment 1 of 2 of its down file had already taken effect"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(history(&db), vec![(1, 1, 1)]);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM information_schema.columns WHERE column_name = 'y'"
        ),
        0
    );
    project.ok(&["migrate", "apply", "--url", &url]);
    assert!(exists(&db, "public.t_x"));
    let again = project.ok(&["migrate", "apply", "--url", &url]);
    assert!(again.contains("nothing to apply"), "{again}");
}

/// Statement 2 is a DO block that commits as it goes (as Supabase storage's backfills do);
/// statement 3 fails on the data until it is fixed.
const NO_TRANSACTION: &str = "-- tenet:no-transaction\n\
CREATE TABLE items (n integer NOT NULL);\n\
DO $$\n\
DECLARE i integer;\n\
BEGIN\n\
  FOR i IN 1..3 LOOP\n\
    INSERT INTO items VALUES (i);\n\
    COMMIT;\n\
  END LOOP;\n\
END $$;\n\
INSERT INTO items SELECT n FROM staging;\n\
CREATE INDEX CONCURRENTLY items_n ON items (n);\n\
CREATE TABLE after_items (id integer);\n";

#[test]
fn a_no_transaction_file_runs_each_statement_alone_and_resumes_after_statement_3_of_5_failed() {
    let project = Project::new();
    project.migration(
        "1_staging",
        "CREATE TABLE staging (n integer);",
        "DROP TABLE staging;",
    );
    project.migration(
        "2_items",
        NO_TRANSACTION,
        "DROP TABLE after_items;\nDROP TABLE items;",
    );
    let db = test_db();
    let url = db.url();
    project.ok(&["migrate", "apply", "--url", &url, "--to", "1"]);
    exec(&db, "INSERT INTO staging VALUES (10), (NULL)");
    let err = project.fails(&["migrate", "apply", "--url", &url], 3);
    assert!(err.contains("2_items.up.sql:11:1"), "{err}");
    assert!(err.contains("segment 3 of 5 failed"), "{err}");
    assert_eq!(history(&db), vec![(1, 1, 1), (2, 2, 5)]);
    assert_eq!(count(&db, "SELECT count(*) FROM items"), 3);
    let status = project.ok(&["migrate", "status", "--url", &url]);
    assert!(status.contains("PARTLY APPLIED: 2 of 5"), "{status}");
    // Fix the data; the rerun starts at statement 3 (the DO block does not run twice).
    exec(&db, "DELETE FROM staging WHERE n IS NULL");
    project.ok(&["migrate", "apply", "--url", &url]);
    assert_eq!(history(&db), vec![(1, 1, 1), (2, 5, 5)]);
    assert_eq!(count(&db, "SELECT count(*) FROM items"), 4);
    assert!(exists(&db, "public.items_n") && exists(&db, "public.after_items"));
    let again = project.ok(&["migrate", "apply", "--url", &url]);
    assert!(again.contains("nothing to apply"), "{again}");
    // Lint reads the same directive: the COMMIT in the DO block is no finding there.
    let lint = project.run(&["lint", "migrations/2_items.up.sql"]);
    assert!(
        !text(&lint.stdout).contains("commit-in-do-block"),
        "{}",
        text(&lint.stdout)
    );
}
