//! Lint with replay: earlier migrations applied to a real scratch database, so each migration is
//! linted against the schema it will run on.

use std::path::PathBuf;

use tenet_lint::{lint_files, Facts, Options, SourceFile};
use tenet_report::Finding;
use tenet_testkit::test_db;

fn file(name: &str, text: &str, lint: bool) -> SourceFile {
    SourceFile {
        name: name.to_string(),
        path: PathBuf::from(name),
        text: text.to_string(),
        lint,
    }
}

fn replayed(files: &[SourceFile]) -> Vec<Finding> {
    let mut sandbox = tenet_testkit::sandbox();
    lint_files(files, Some(&mut sandbox), None, Options::default())
        .unwrap()
        .findings
}

fn rules(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            let l = f.location.as_ref().unwrap();
            format!("{}@{}:{}:{}", f.rule, l.file, l.line, l.column)
        })
        .collect()
}

#[test]
fn facts_come_from_the_database() {
    let db = test_db();
    tenet_testkit::exec(
        &db,
        "create schema app; create table app.t (id int not null, name varchar(20), note text,
         constraint note_nn check (note is not null)); create table p (k int) partition by range (k);",
    );
    let mut client = db.connect().unwrap();
    let facts = Facts::load(&mut client).unwrap();
    let t = facts.table(Some("app"), "t").unwrap();
    assert_eq!(t.columns["name"], "character varying(20)");
    assert!(t.not_null.contains("id"));
    assert!(t.checked_not_null.contains("note"));
    assert_eq!(facts.table(None, "t"), Some(t), "unique name in any schema");
    assert_eq!(facts.schema_of("t"), Some("app"));
    assert!(facts.table(None, "p").unwrap().partitioned);
    assert!(facts.is_volatile("random") && facts.is_volatile("gen_random_uuid"));
    assert!(!facts.is_volatile("now"));
}

#[test]
fn a_table_created_by_the_same_migration_is_never_flagged_for_locks() {
    // squawk flags the index and the constraints here; nobody can be using `events` yet,
    // even when it is created in a way the static pass cannot follow (dynamic SQL).
    let m = "DO $$ BEGIN EXECUTE format('CREATE TABLE %I (id bigint PRIMARY KEY, user_id bigint, kind text)', 'events'); END $$;\n\
             CREATE INDEX events_kind ON events (kind);\n\
             ALTER TABLE events ADD COLUMN at timestamptz NOT NULL;\n\
             ALTER TABLE events ALTER COLUMN kind SET NOT NULL;\n\
             ALTER TABLE events ADD CONSTRAINT events_kind_check CHECK (kind <> '');\n";
    let findings = replayed(&[file("1_events.up.sql", m, true)]);
    assert!(findings.is_empty(), "{:#?}", rules(&findings));

    // Statically (no replay) the dynamic SQL is opaque: the table is assumed to exist.
    let offline = lint_files(
        &[file("1_events.up.sql", m, true)],
        None,
        None,
        Options::default(),
    )
    .unwrap()
    .findings;
    assert!(
        rules(&offline).contains(&"index-not-concurrent@1_events.up.sql:2:1".to_string()),
        "{:#?}",
        rules(&offline)
    );
}

#[test]
fn a_table_from_an_earlier_migration_is_flagged() {
    let findings = replayed(&[
        file(
            "1_init.up.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY, email text);\nCREATE INDEX users_email ON users (email);\n",
            true,
        ),
        file(
            "2_next.up.sql",
            "SET lock_timeout = '2s';\nCREATE INDEX users_id_email ON users (id, email);\n",
            true,
        ),
    ]);
    assert_eq!(rules(&findings), ["index-not-concurrent@2_next.up.sql:2:1"]);
}

#[test]
fn validated_checks_and_types_from_earlier_migrations_are_known() {
    let findings = replayed(&[
        file(
            "1_init.up.sql",
            "CREATE TABLE users (id int PRIMARY KEY, email text, name varchar(50));\n\
             ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;\n\
             ALTER TABLE users VALIDATE CONSTRAINT email_nn;\n",
            false,
        ),
        file(
            "2_next.up.sql",
            "SET lock_timeout = '2s';\n\
             ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n\
             ALTER TABLE users ALTER COLUMN name TYPE text;\n\
             ALTER TABLE users ALTER COLUMN id TYPE bigint;\n",
            true,
        ),
    ]);
    assert_eq!(rules(&findings), ["type-change-rewrite@2_next.up.sql:4:35"]);
    assert!(
        findings[0].message.contains("from integer to bigint"),
        "{}",
        findings[0].message
    );
}

#[test]
fn user_defined_volatile_functions_are_known_from_the_replay() {
    let findings = replayed(&[
        file(
            "1_init.up.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY);\n\
             CREATE FUNCTION new_token() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT md5(random()::text) $$;\n\
             CREATE FUNCTION fixed() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'x' $$;\n",
            false,
        ),
        file(
            "2_next.up.sql",
            "SET lock_timeout = '2s';\n\
             ALTER TABLE users ADD COLUMN token text DEFAULT new_token();\n\
             ALTER TABLE users ADD COLUMN flag text DEFAULT fixed();\n",
            true,
        ),
    ]);
    assert_eq!(
        rules(&findings),
        ["volatile-default-rewrite@2_next.up.sql:2:30"]
    );
}

#[test]
fn a_failing_migration_is_reported_and_ends_the_replay() {
    let findings = replayed(&[
        file("1_init.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n", true),
        file(
            "2_bad.up.sql",
            "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN x int;\nALTER TABLE nope ADD COLUMN y int;\n",
            true,
        ),
        file(
            "3_after.up.sql",
            "SET lock_timeout = '2s';\nCREATE INDEX users_x ON users (x);\n",
            true,
        ),
    ]);
    assert_eq!(
        rules(&findings),
        [
            // ALTER TABLE errors carry no position: the failing statement is named.
            "migration-fails@2_bad.up.sql:3:1",
            "index-not-concurrent@3_after.up.sql:2:1"
        ]
    );
    assert!(
        findings[0].message.contains("\"nope\" does not exist"),
        "{}",
        findings[0].message
    );
}

/// The replay runs as the sandbox's unprivileged role: what a migration needs privilege for
/// (an extension, a role it creates, ownership for the migrating user) still replays; what
/// no migration should do is refused, and reported where it is.
#[test]
fn privileged_statements_replay_through_the_sandbox_gate() {
    let findings = replayed(&[
        file(
            "1_a.up.sql",
            "create extension if not exists pgcrypto;\n\
             create table t (id uuid default gen_random_uuid() primary key);\n",
            true,
        ),
        file(
            "2_b.up.sql",
            "create role lint_replay_reader nologin;\n\
             grant select on t to lint_replay_reader;\n\
             alter table t owner to postgres;\n\
             alter system set work_mem = '1GB';\n",
            true,
        ),
    ]);
    let fails: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule == "migration-fails")
        .collect();
    assert_eq!(fails.len(), 1, "{:?}", rules(&findings));
    let l = fails[0].location.as_ref().unwrap();
    assert_eq!((l.file.as_str(), l.line), ("2_b.up.sql", 4));
    assert!(
        fails[0].message.contains("refused: ALTER SYSTEM"),
        "{}",
        fails[0].message
    );
}
