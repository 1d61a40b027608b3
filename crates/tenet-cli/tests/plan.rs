//! `tenet plan` end to end: sources of every kind, up and down, JSON, refusals.

use std::path::Path;
use std::process::Command;

use tenet_testkit::{exec, server, test_db};

fn tenet() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenet"));
    command
        .env_remove("DATABASE_URL")
        .env("TENET_DEV_URL", server().url_for("postgres"));
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &Path, name: &str, sql: &str) -> String {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, sql).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn plans_from_a_live_database_to_schema_files_and_back() {
    let db = test_db();
    exec(
        &db,
        "create table tasks (id bigint primary key, user_id uuid not null, title text not null)",
    );
    let dir = tempfile::tempdir().unwrap();
    let schema = write(
        dir.path(),
        "schema/tasks.sql",
        "create table tasks (id bigint primary key, user_id uuid not null, title text not null,
                             status text not null default 'todo' check (status in ('todo', 'done')));
         create index tasks_user_id on tasks (user_id);",
    );
    let up = tenet()
        .args(["plan", "--from", &db.url(), "--to", &schema])
        .output()
        .unwrap();
    assert!(up.status.success(), "{}", text(&up.stderr));
    let sql = text(&up.stdout);
    assert!(sql.starts_with("SET lock_timeout = '5s';"), "{sql}");
    assert!(
        sql.contains(
            "ALTER TABLE public.tasks ADD COLUMN status text DEFAULT 'todo'::text NOT NULL;"
        ),
        "{sql}"
    );
    assert!(
        sql.contains(
            "CREATE INDEX CONCURRENTLY tasks_user_id ON public.tasks USING btree (user_id);"
        ),
        "{sql}"
    );
    assert!(sql.contains("-- table public.tasks: SHARE UPDATE EXCLUSIVE lock, builds an index, runs outside a transaction"), "{sql}");

    // Applying the printed plan brings the database to the schema: planning again is empty.
    let mut client = db.connect().unwrap();
    for statement in tenet_catalog::source::statement_spans(&sql) {
        client
            .batch_execute(&sql[statement.0..statement.1])
            .unwrap();
    }
    let again = tenet()
        .args(["plan", "--from", &db.url(), "--to", &schema])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(again.stdout.is_empty(), "{}", text(&again.stdout));

    // The down plan from the schema back to the database before.
    let bare = write(
        dir.path(),
        "bare.sql",
        "create table tasks (id bigint primary key, user_id uuid not null, title text not null);",
    );
    let down = tenet()
        .args([
            "plan",
            "--from",
            &bare,
            "--to",
            &schema,
            "--down",
            "--allow-destructive",
        ])
        .output()
        .unwrap();
    assert!(down.status.success(), "{}", text(&down.stderr));
    let down = text(&down.stdout);
    assert!(
        down.contains("ALTER TABLE public.tasks DROP COLUMN status;"),
        "{down}"
    );
    assert!(
        down.contains("DROP INDEX CONCURRENTLY public.tasks_user_id;"),
        "{down}"
    );
}

#[test]
fn json_output_lists_steps_with_objects_and_hazards() {
    let dir = tempfile::tempdir().unwrap();
    let from = write(dir.path(), "a.sql", "create table t (id int);");
    let to = write(dir.path(), "b.sql", "create table t (id bigint);");
    let out = tenet()
        .args([
            "plan",
            "--from",
            &from,
            "--to",
            &to,
            "--format",
            "json",
            "--allow-destructive",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let step = &json["steps"][0];
    assert_eq!(step["object"], "table public.t");
    assert_eq!(step["lock"], "ACCESS_EXCLUSIVE");
    assert_eq!(step["hazards"], serde_json::json!(["table_rewrite"]));
    assert_eq!(
        step["sql"],
        "ALTER TABLE public.t ALTER COLUMN id TYPE bigint USING id::bigint;"
    );
}

#[test]
fn destructive_plans_are_refused_without_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let from = write(dir.path(), "a.sql", "create table t (id int, notes text);");
    let to = write(dir.path(), "b.sql", "create table t (id int);");
    let out = tenet()
        .args(["plan", "--from", &from, "--to", &to])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--allow-destructive") && stderr.contains("DROP COLUMN notes"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_migrations_directory_is_replayed_up_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    write(
        &migrations,
        "20260101000000_init.up.sql",
        "create table t (id int);",
    );
    write(&migrations, "20260101000000_init.down.sql", "drop table t;");
    write(
        &migrations,
        "20260102000000_more.up.sql",
        "alter table t add column v text;",
    );
    write(
        &migrations,
        "20260102000000_more.down.sql",
        "alter table t drop column v;",
    );
    let schema = write(dir.path(), "schema.sql", "create table t (id int, v text);");
    let out = tenet()
        .args([
            "plan",
            "--from",
            migrations.to_str().unwrap(),
            "--to",
            &schema,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        out.stdout.is_empty(),
        "migrations already build the schema: {}",
        text(&out.stdout)
    );
}

#[test]
fn renamed_from_hint_in_schema_files_renames_instead_of_dropping() {
    let db = test_db();
    exec(
        &db,
        "create table tag (id bigint primary key, label text); insert into tag values (1, 'rust')",
    );
    let dir = tempfile::tempdir().unwrap();
    let schema = write(
        dir.path(),
        "schema/tags.sql",
        "-- tenet:renamed-from tag
         create table community_tag (
           id bigint primary key,
           -- tenet:renamed-from label
           name text
         );",
    );
    let up = tenet()
        .args(["plan", "--from", &db.url(), "--to", &schema])
        .output()
        .unwrap();
    assert!(up.status.success(), "{}", text(&up.stderr));
    let sql = text(&up.stdout);
    assert!(
        sql.contains("ALTER TABLE public.tag RENAME TO community_tag;"),
        "{sql}"
    );
    assert!(
        sql.contains("ALTER TABLE public.community_tag RENAME COLUMN label TO name;"),
        "{sql}"
    );
    assert!(!sql.contains("DROP TABLE"), "{sql}");

    // A hint anywhere else is bad input, pointed at.
    let bad = write(
        dir.path(),
        "bad/tags.sql",
        "create table community_tag (id bigint);\n-- tenet:renamed-from tag\ncreate index on community_tag (id);",
    );
    let out = tenet()
        .args(["plan", "--from", &db.url(), "--to", &bad])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("tags.sql:2:1: tenet:renamed-from must come right before CREATE TABLE"),
        "{err}"
    );
}

/// Issue 16: `[schema] exclude` in tenet.toml leaves tables (by pattern) and whole schemas out
/// of both sides: the plan neither drops what only the live database has nor creates what
/// only the files have, and `inspect --url` does not show them.
#[test]
fn schema_exclude_leaves_matched_objects_out_of_plan_and_inspect() {
    let db = test_db();
    exec(
        &db,
        "create table tasks (id bigint primary key);
         create table legacy_orders (id bigint primary key);
         create schema audit; create table audit.log (at timestamptz);
         create schema pgboss; create table pgboss.job (id serial primary key);",
    );
    let dir = tempfile::tempdir().unwrap();
    let schema = write(
        dir.path(),
        "schema/tasks.sql",
        "create table tasks (id bigint primary key);
         create table legacy_notes (body text);",
    );
    let plan = |project: &Path| {
        let out = tenet()
            .current_dir(project)
            .args(["plan", "--from", &db.url(), "--to", &schema])
            .args(["--allow-destructive"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    // Without the configuration the plan drops and creates them (so the check below means
    // something).
    let unconfigured = plan(dir.path());
    for object in ["legacy_orders", "audit", "pgboss", "legacy_notes"] {
        assert!(
            unconfigured.contains(object),
            "{object} not in:\n{unconfigured}"
        );
    }
    write(
        dir.path(),
        "tenet.toml",
        "[schema]\nexclude = [\"audit.*\", \"public.legacy_*\", \"pgboss\"]\n",
    );
    let sql = plan(dir.path());
    for object in ["legacy_orders", "audit", "pgboss", "legacy_notes"] {
        assert!(!sql.contains(object), "{object} in:\n{sql}");
    }
    let out = tenet()
        .current_dir(dir.path())
        .args(["inspect", "--url", &db.url()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let inspected = text(&out.stdout);
    assert!(inspected.contains("public.tasks"), "{inspected}");
    for object in ["legacy_orders", "audit.log", "pgboss"] {
        assert!(!inspected.contains(object), "{object} in:\n{inspected}");
    }
}
