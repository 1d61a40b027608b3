//! `tenet init`, `migrate`, `check` and `decisions` end to end against a real server: the Todo
//! flow, concurrency, a killed process, a failing migration, every refusal, resuming, adoption.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use tenet_testkit::{client, exec, query, test_db};

mod support;

use support::*;

#[test]
fn todo_from_init_to_a_checked_reversible_history() {
    let project = Project::new();
    for file in [
        "tenet.toml",
        "schema/schema.sql",
        "migrations/tenet.sum",
        "docs/persistence-decisions.md",
    ] {
        assert!(project.path(file).exists(), "init did not create {file}");
    }
    let todo = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo/schema/todo.sql"),
    )
    .unwrap();
    project.write("schema/schema.sql", &todo);
    let db = test_db();
    let url = db.url();

    // Before any migration, the schema is a pending model change.
    let pending = project.fails(&["check"], 1);
    assert!(pending.contains("pending model changes"), "{pending}");
    project.ok(&[
        "migrate",
        "new",
        "create users and tasks",
        "--why",
        "Users own their tasks.",
    ]);
    project.ok(&["check"]);
    project.ok(&["migrate", "apply", "--url", &url]);
    project.ok(&["check", "--url", &url]);
    assert!(exists(&db, "public.tasks"));

    // A change: a column and an index; the index is built concurrently, outside the transaction.
    project.write(
        "schema/schema.sql",
        &format!(
            "{todo}\nALTER TABLE tasks ADD COLUMN priority integer NOT NULL DEFAULT 0;\n\
             CREATE INDEX tasks_user_id_priority_idx ON tasks (user_id, priority);\n"
        ),
    );
    project.fails(&["check"], 1);
    project.ok(&["migrate", "new", "add task priority"]);
    let pending = project.fails(&["check", "--url", &url], 1);
    assert!(pending.contains("1 pending migration"), "{pending}");
    project.ok(&["migrate", "apply", "--url", &url]);
    project.ok(&["check", "--url", &url]);
    let status = project.ok(&["migrate", "status", "--url", &url]);
    assert_eq!(status.matches(" applied ").count(), 2, "{status}");
    assert!(status.contains("create_users_and_tasks"), "{status}");
    assert_eq!(
        history(&db).iter().map(|h| h.1 == h.2).collect::<Vec<_>>(),
        vec![true, true]
    );

    // Reversible: down removes the column and index, apply brings them back.
    exec(
        &db,
        "INSERT INTO users (id, email) VALUES ('00000000-0000-0000-0000-000000000001', 'a@b.c')",
    );
    project.ok(&["migrate", "down", "--url", &url]);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM information_schema.columns WHERE column_name = 'priority'"
        ),
        0
    );
    assert!(!exists(&db, "public.tasks_user_id_priority_idx"));
    assert_eq!(
        count(&db, "SELECT count(*) FROM users"),
        1,
        "down lost unrelated data"
    );
    project.fails(&["check", "--url", &url], 1);
    project.ok(&["migrate", "apply", "--url", &url]);
    project.ok(&["check", "--url", &url]);
    assert!(exists(&db, "public.tasks_user_id_priority_idx"));

    // The decision log holds both migrations, with the tables each touched.
    let log = std::fs::read_to_string(project.path("docs/persistence-decisions.md")).unwrap();
    assert!(log.contains("tables=public.tasks,public.users"), "{log}");
    assert!(
        log.contains("- **Rationale:** Users own their tasks."),
        "{log}"
    );
    assert!(
        log.contains("add_task_priority -->") || log.contains("tables=public.tasks -->"),
        "{log}"
    );
    assert!(log.contains(tenet_migrate_placeholder()), "{log}");

    // The schema document links each table to the decisions that touched it.
    project.ok(&["docs", "--url", &url]);
    let doc = std::fs::read_to_string(project.path("specs/db/schema.md")).unwrap();
    assert!(
        doc.contains("(../../docs/persistence-decisions.md#") && doc.contains("add_task_priority)"),
        "{doc}"
    );
    project.ok(&["docs", "--url", &url, "--check"]);
    assert!(
        !doc.contains("migrations"),
        "the history table is documented:\n{doc}"
    );
    // A migrated database plans to the schema files with nothing to do.
    let plan = project.ok(&["plan", "--from", &url, "--to", "schema"]);
    assert_eq!(plan, "");

    // Nothing left to write.
    let nothing = project.fails(&["migrate", "new", "again"], 1);
    assert!(nothing.contains("nothing to do"), "{nothing}");
}

/// Issue 15: `migrate new` reads the `-- tenet:renamed-from` hints of the schema files, as
/// `plan` does: the migration renames (the rows stay), and its down renames back.
#[test]
fn migrate_new_renames_what_the_schema_files_hint_and_down_renames_back() {
    let project = Project::new();
    project.write(
        "schema/schema.sql",
        "create table tag (id bigint primary key, label text);",
    );
    project.ok(&["migrate", "new", "tags"]);
    let db = test_db();
    let url = db.url();
    project.ok(&["migrate", "apply", "--url", &url]);
    exec(&db, "insert into tag values (1, 'rust')");

    project.write(
        "schema/schema.sql",
        "-- tenet:renamed-from tag
         create table community_tag (
           id bigint primary key,
           -- tenet:renamed-from label
           name text
         );",
    );
    project.ok(&["migrate", "new", "community tags"]);
    let written = |suffix: &str| {
        let dir = project.path("migrations");
        let file = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.to_string_lossy()
                    .ends_with(&format!("community_tags.{suffix}.sql"))
            })
            .unwrap_or_else(|| panic!("no community_tags.{suffix}.sql in {}", dir.display()));
        std::fs::read_to_string(file).unwrap()
    };
    let up = written("up");
    assert!(
        up.contains("ALTER TABLE public.tag RENAME TO community_tag;"),
        "{up}"
    );
    assert!(
        up.contains("ALTER TABLE public.community_tag RENAME COLUMN label TO name;"),
        "{up}"
    );
    assert!(!up.contains("DROP TABLE"), "{up}");
    let down = written("down");
    assert!(
        down.contains("ALTER TABLE public.community_tag RENAME TO tag;"),
        "{down}"
    );
    assert!(!down.contains("DROP TABLE"), "{down}");

    project.ok(&["migrate", "apply", "--url", &url]);
    project.ok(&["check", "--url", &url]);
    let name: String = query(&db, "select name from community_tag where id = 1")[0].get(0);
    assert_eq!(name, "rust");
    project.ok(&["migrate", "down", "--url", &url]);
    let label: String = query(&db, "select label from tag where id = 1")[0].get(0);
    assert_eq!(label, "rust");
    // The hint stays in the file once the rename is history: nothing more to write.
    project.ok(&["migrate", "apply", "--url", &url]);
    let nothing = project.fails(&["migrate", "new", "again"], 1);
    assert!(nothing.contains("nothing to do"), "{nothing}");
}

fn tenet_migrate_placeholder() -> &'static str {
    "TODO(decision): say why this change was made."
}

#[test]
fn decisions_add_writes_the_entry_for_a_hand_written_migration() {
    let project = Project::new();
    project.migration(
        "1_notes",
        "CREATE TABLE notes (id bigint PRIMARY KEY, body text NOT NULL);",
        "DROP TABLE notes;",
    );
    project.migration(
        "2_notes_author",
        "ALTER TABLE notes ADD COLUMN author text;\nCREATE INDEX CONCURRENTLY notes_author ON notes (author);",
        "DROP INDEX notes_author;\nALTER TABLE notes DROP COLUMN author;",
    );
    project.ok(&["decisions", "add", "--why", "Notes are signed."]);
    let log = std::fs::read_to_string(project.path("docs/persistence-decisions.md")).unwrap();
    assert!(log.contains("## 2 notes_author"), "{log}");
    assert!(
        log.contains("<!-- tenet:decision version=2 tables=public.notes -->"),
        "{log}"
    );
    assert!(log.contains("ADD COLUMN author text"), "{log}");
    assert!(log.contains("- **Rationale:** Notes are signed."), "{log}");
    let again = project.fails(&["decisions", "add", "2"], 2);
    assert!(again.contains("already has an entry"), "{again}");
}

#[test]
fn eight_processes_apply_each_migration_exactly_once() {
    let project = Project::new();
    project.migration(
        "1_log",
        "CREATE TABLE log (n integer NOT NULL);\nINSERT INTO log VALUES (1);\nSELECT pg_sleep(0.3);",
        "DROP TABLE log;",
    );
    project.migration(
        "2_second",
        "INSERT INTO log VALUES (2);",
        "DELETE FROM log WHERE n = 2;",
    );
    project.migration(
        "3_index",
        "CREATE INDEX CONCURRENTLY log_n ON log (n);\nINSERT INTO log VALUES (3);",
        "DROP INDEX log_n;",
    );
    let db = test_db();
    let url = db.url();
    let children: Vec<_> = (0..8)
        .map(|_| {
            project
                .command(&["migrate", "apply", "--url", &url])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert!(
            out.status.success(),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
    let appliers = outputs
        .iter()
        .filter(|o| text(&o.stdout).starts_with("applied"))
        .count();
    assert!(appliers >= 1, "no process applied anything");
    let rows: Vec<(i32, i64)> = query(&db, "SELECT n, count(*) FROM log GROUP BY n ORDER BY n")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(rows, vec![(1, 1), (2, 1), (3, 1)]);
    assert_eq!(history(&db), vec![(1, 1, 1), (2, 1, 1), (3, 2, 2)]);
}

#[test]
fn a_killed_migration_leaves_nothing_and_the_next_apply_completes() {
    let project = Project::new();
    project.migration(
        "1_big",
        "CREATE TABLE big AS SELECT n FROM generate_series(1, 100000) AS n;\n\
         CREATE INDEX big_n ON big (n);\nSELECT pg_sleep(2);",
        "DROP TABLE big;",
    );
    let db = test_db();
    let url = db.url();
    let mut child = project
        .command(&["migrate", "apply", "--url", &url])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it while the migration's transaction is open.
    let started = Instant::now();
    loop {
        let sleeping = count(
            &db,
            &format!(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' AND query LIKE '%pg_sleep(2)%' AND state = 'active' AND pid <> pg_backend_pid()",
                db.name()
            ),
        );
        if sleeping > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the migration never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    child.wait().unwrap();
    assert!(
        !exists(&db, "public.big"),
        "a killed migration left its table behind"
    );
    assert!(history(&db).is_empty());
    // The next run waits for the dead run's server session to end, then applies it all.
    project.ok(&["migrate", "apply", "--url", &url]);
    assert_eq!(count(&db, "SELECT count(*) FROM big"), 100000);
    assert_eq!(history(&db), vec![(1, 1, 1)]);
}

#[test]
fn a_failing_migration_leaves_no_partial_change_and_says_where() {
    let project = Project::new();
    project.migration(
        "1_accounts",
        "CREATE TABLE accounts (id bigint PRIMARY KEY);\nINSERT INTO accounts VALUES (1);\nINSERT INTO accounts VALUES (1);\n",
        "DROP TABLE accounts;",
    );
    let db = test_db();
    let url = db.url();
    let err = project.fails(&["migrate", "apply", "--url", &url], 3);
    assert!(
        err.contains("migration 1_accounts failed and was rolled back"),
        "{err}"
    );
    assert!(
        err.contains("1_accounts.up.sql:3:1: duplicate key value violates unique constraint"),
        "{err}"
    );
    assert!(!exists(&db, "public.accounts"));
    assert!(history(&db).is_empty());
    // Not applied, so it may be fixed in place.
    project.migration(
        "1_accounts",
        "CREATE TABLE accounts (id bigint PRIMARY KEY);\nINSERT INTO accounts VALUES (1);\n",
        "DROP TABLE accounts;",
    );
    project.ok(&["migrate", "apply", "--url", &url]);
    assert_eq!(count(&db, "SELECT count(*) FROM accounts"), 1);
}

#[test]
fn an_interrupted_concurrent_index_build_resumes_where_it_stopped() {
    let project = Project::new();
    project.migration(
        "1_people",
        "CREATE TABLE people (email text NOT NULL);",
        "DROP TABLE people;",
    );
    project.migration(
        "2_unique_email",
        "ALTER TABLE people ADD COLUMN note text;\n\
         CREATE UNIQUE INDEX CONCURRENTLY people_email ON people (email);\n\
         CREATE TABLE after_index (id int);",
        "DROP TABLE after_index;\nDROP INDEX people_email;\nALTER TABLE people DROP COLUMN note;",
    );
    let db = test_db();
    let url = db.url();
    project.ok(&["migrate", "apply", "--url", &url, "--to", "1"]);
    // The application wrote duplicates the new unique index will reject.
    exec(&db, "INSERT INTO people VALUES ('a'), ('a')");
    let err = project.fails(&["migrate", "apply", "--url", &url], 3);
    assert!(err.contains("could not create unique index"), "{err}");
    assert!(err.contains("2_unique_email.up.sql:2:1"), "{err}");
    // The first segment committed; the failed build left an invalid index.
    assert_eq!(history(&db), vec![(1, 1, 1), (2, 1, 3)]);
    assert_eq!(
        count(&db, "SELECT count(*) FROM pg_index WHERE NOT indisvalid"),
        1
    );
    let status = project.ok(&["migrate", "status", "--url", &url]);
    assert!(status.contains("PARTLY APPLIED: 1 of 3"), "{status}");
    let err = project.fails(&["migrate", "down", "--url", &url], 2);
    assert!(err.contains("partly applied"), "{err}");
    // Fix the data; the rerun drops the invalid index, builds it and finishes.
    exec(
        &db,
        "DELETE FROM people WHERE ctid = (SELECT max(ctid) FROM people)",
    );
    project.ok(&["migrate", "apply", "--url", &url]);
    assert_eq!(history(&db), vec![(1, 1, 1), (2, 3, 3)]);
    assert_eq!(
        count(&db, "SELECT count(*) FROM pg_index WHERE NOT indisvalid"),
        0
    );
    assert!(exists(&db, "public.people_email"));
    assert!(exists(&db, "public.after_index"));
    project.ok(&["migrate", "down", "--url", &url]);
    assert!(!exists(&db, "public.people_email"));
    assert_eq!(history(&db), vec![(1, 1, 1)]);
}

#[test]
fn every_refusal_has_its_message_and_exit_code() {
    let project = Project::new();
    project.migration("10_t", "CREATE TABLE t (id int);", "DROP TABLE t;");
    project.migration("20_u", "CREATE TABLE u (id int);", "DROP TABLE u;");
    let db = test_db();
    let url = db.url();
    project.ok(&["migrate", "apply", "--url", &url]);
    let apply = ["migrate", "apply", "--url", url.as_str()];

    // An applied migration whose file changed (the sum file brought up to date, so only the
    // checksum in history catches it).
    project.migration("10_t", "CREATE TABLE t (id bigint);", "DROP TABLE t;");
    let err = project.fails(&apply, 4);
    assert!(
        err.contains("10_t.up.sql changed after it was applied"),
        "{err}"
    );
    project.migration("10_t", "CREATE TABLE t (id int);", "DROP TABLE t;");

    // A sum file that does not match the directory.
    project.write("migrations/30_v.up.sql", "CREATE TABLE v (id int);");
    let err = project.fails(&apply, 5);
    assert!(err.contains("30_v.up.sql is not in the sum file"), "{err}");
    let err = project.fails(&["check"], 5);
    assert!(err.contains("tenet.sum does not match"), "{err}");
    std::fs::remove_file(project.path("migrations/30_v.up.sql")).unwrap();

    // An applied version missing from the directory.
    let saved = std::fs::read_to_string(project.path("migrations/20_u.up.sql")).unwrap();
    std::fs::remove_file(project.path("migrations/20_u.up.sql")).unwrap();
    std::fs::remove_file(project.path("migrations/20_u.down.sql")).unwrap();
    project.ok(&["migrate", "hash"]);
    let err = project.fails(&apply, 6);
    assert!(
        err.contains("migration 20 (u) is applied but no file"),
        "{err}"
    );
    project.migration("20_u", &saved, "DROP TABLE u;");

    // A new migration older than the newest applied one.
    project.migration("15_w", "CREATE TABLE w (id int);", "DROP TABLE w;");
    let err = project.fails(&apply, 7);
    assert!(err.contains("15_w"), "{err}");
    assert!(!exists(&db, "public.w"));
    project.ok(&["migrate", "apply", "--url", &url, "--allow-out-of-order"]);
    assert!(exists(&db, "public.w"));

    // A live schema that drifted from its history: the plan back is shown, nothing runs.
    exec(&db, "ALTER TABLE t ADD COLUMN added_by_hand text");
    project.migration("40_x", "CREATE TABLE x (id int);", "DROP TABLE x;");
    let err = project.fails(&apply, 8);
    assert!(err.contains("drifted"), "{err}");
    assert!(
        err.contains("ALTER TABLE public.t DROP COLUMN added_by_hand;"),
        "{err}"
    );
    assert!(!exists(&db, "public.x"));
    let err = project.fails(&["check", "--url", &url], 8);
    assert!(err.contains("drifted"), "{err}");

    // Transaction control in a migration.
    exec(&db, "ALTER TABLE t DROP COLUMN added_by_hand");
    project.migration(
        "50_y",
        "BEGIN;\nCREATE TABLE y (id int);\nCOMMIT;",
        "DROP TABLE y;",
    );
    let err = project.fails(&apply, 2);
    assert!(
        err.contains("50_y.up.sql:1:1: transaction control"),
        "{err}"
    );
}

#[test]
fn baseline_adopts_sqlx_and_golang_migrate_history_without_running_anything() {
    let project = Project::new();
    project.migration(
        "1_t",
        "CREATE TABLE t (id int PRIMARY KEY);",
        "DROP TABLE t;",
    );
    project.migration(
        "2_u",
        "CREATE TABLE u (id int PRIMARY KEY);",
        "DROP TABLE u;",
    );
    project.migration(
        "3_v",
        "CREATE TABLE v (id int PRIMARY KEY);",
        "DROP TABLE v;",
    );

    // sqlx applied 1 and 2.
    let db = test_db();
    exec(
        &db,
        "CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE u (id int PRIMARY KEY);
         CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY, description text NOT NULL,
           installed_on timestamptz NOT NULL DEFAULT now(), success boolean NOT NULL,
           checksum bytea NOT NULL, execution_time bigint NOT NULL);
         INSERT INTO _sqlx_migrations VALUES (1, 't', now(), true, '\\x00', 1), (2, 'u', now(), true, '\\x00', 1);",
    );
    let url = db.url();
    let out = project.ok(&["migrate", "baseline", "--url", &url, "--from", "sqlx"]);
    assert!(out.contains("recorded 2 migration(s)"), "{out}");
    let status = project.ok(&["migrate", "status", "--url", &url]);
    assert_eq!(status.matches("applied (baseline)").count(), 2, "{status}");
    project.ok(&["migrate", "apply", "--url", &url]);
    assert!(exists(&db, "public.v"));
    let status = project.ok(&["migrate", "status", "--url", &url]);
    assert!(!status.contains("pending"), "{status}");

    // golang-migrate at version 1, clean; then dirty.
    let db = test_db();
    exec(
        &db,
        "CREATE TABLE t (id int PRIMARY KEY);
         CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (1, true);",
    );
    let url = db.url();
    let err = project.fails(
        &[
            "migrate",
            "baseline",
            "--url",
            &url,
            "--from",
            "golang-migrate",
        ],
        2,
    );
    assert!(err.contains("dirty at version 1"), "{err}");
    exec(&db, "UPDATE schema_migrations SET dirty = false");
    project.ok(&[
        "migrate",
        "baseline",
        "--url",
        &url,
        "--from",
        "golang-migrate",
    ]);
    project.ok(&["migrate", "apply", "--url", &url]);
    assert!(exists(&db, "public.u") && exists(&db, "public.v"));

    // A baseline the schema does not match is refused as drift.
    let db = test_db();
    exec(&db, "CREATE TABLE t (id bigint PRIMARY KEY)");
    let err = project.fails(&["migrate", "baseline", "--url", &db.url(), "1"], 8);
    assert!(err.contains("drifted"), "{err}");
    let _ = client(&db);
}
