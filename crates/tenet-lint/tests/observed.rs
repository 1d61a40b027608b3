//! Observed, not only predicted: the replay runs each statement that may lock an existing table
//! in a transaction of its own and reads its locks, rewrites and scans. Every rule's predicted
//! lock is held against the one PostgreSQL really takes, and observations correct predictions.

use std::path::PathBuf;

use tenet_lint::{lint_files, Options, SourceFile};
use tenet_report::Finding;

const SCHEMA: &str =
    "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text, n bigint, kind text);\n\
    CREATE TABLE tasks (id bigint PRIMARY KEY, user_id bigint, priority int, note text);\n\
    CREATE INDEX users_email ON users (email);\n\
    CREATE DOMAIN label AS text;\n\
    ALTER TABLE users ADD COLUMN tag label;\n";

fn file(name: &str, text: &str, lint: bool) -> SourceFile {
    SourceFile {
        name: name.to_string(),
        path: PathBuf::from(name),
        text: text.to_string(),
        lint,
    }
}

/// Findings of `migration` after SCHEMA, replayed (observed) and offline (predicted).
fn both(migration: &str) -> (Vec<Finding>, Vec<Finding>) {
    let files = [
        file("1_schema.up.sql", SCHEMA, false),
        file("2_change.up.sql", migration, true),
    ];
    let mut sandbox = tenet_testkit::sandbox();
    let observed = lint_files(&files, Some(&mut sandbox), None, Options::default())
        .unwrap()
        .findings;
    let predicted = lint_files(&files, None, None, Options::default())
        .unwrap()
        .findings;
    (observed, predicted)
}

/// `(observed in the replay: SHARE lock on public.users)` -> `SHARE`.
fn lock_in(message: &str, marker: &str) -> Option<String> {
    let rest = &message[message.find(marker)? + marker.len()..];
    Some(rest.split(" lock").next()?.to_string())
}

const TIMEOUT: &str = "SET lock_timeout = '2s';\n";

#[test]
fn every_rule_predicts_the_lock_the_replay_observes() {
    let cases: &[(&str, &str)] = &[
        ("index-not-concurrent", "CREATE INDEX users_name ON users (name);"),
        ("index-not-concurrent", "DROP INDEX users_email;"),
        ("index-not-concurrent", "REINDEX TABLE users;"),
        (
            "constraint-without-not-valid",
            "ALTER TABLE tasks ADD CONSTRAINT tasks_user_fk FOREIGN KEY (user_id) REFERENCES users (id);",
        ),
        (
            "constraint-without-not-valid",
            "ALTER TABLE tasks ADD CONSTRAINT priority_positive CHECK (priority > 0);",
        ),
        (
            "constraint-without-not-valid",
            "ALTER TABLE tasks ADD COLUMN owner_id bigint REFERENCES users (id);",
        ),
        (
            "unique-without-index",
            "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
        ),
        (
            "set-not-null-without-check",
            "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
        ),
        (
            "not-null-without-default",
            "ALTER TABLE users ADD COLUMN plan text NOT NULL;",
        ),
        (
            "volatile-default-rewrite",
            "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
        ),
        (
            "type-change-rewrite",
            "ALTER TABLE tasks ALTER COLUMN priority TYPE bigint;",
        ),
        ("drop-table", "DROP TABLE tasks;"),
        ("drop-column", "ALTER TABLE users DROP COLUMN name;"),
        ("truncate-table", "TRUNCATE tasks;"),
        ("rename-table", "ALTER TABLE tasks RENAME TO todos;"),
        (
            "rename-column",
            "ALTER TABLE users RENAME COLUMN name TO full_name;",
        ),
        (
            "validate-in-same-transaction",
            "BEGIN;\nALTER TABLE tasks ADD CONSTRAINT p CHECK (priority > 0) NOT VALID;\nALTER TABLE tasks VALIDATE CONSTRAINT p;\nCOMMIT;",
        ),
    ];
    for (rule, statement) in cases {
        let (observed, predicted) = both(&format!("{TIMEOUT}{statement}\n"));
        let find = |findings: &[Finding]| {
            findings
                .iter()
                .find(|f| f.rule == *rule)
                .unwrap_or_else(|| panic!("{rule} on {statement}: {findings:#?}"))
                .clone()
        };
        let (o, p) = (find(&observed), find(&predicted));
        let seen = lock_in(&o.message, "(observed in the replay: ")
            .unwrap_or_else(|| panic!("{rule}: not observed: {}", o.message));
        let expected = lock_in(&p.message, "(predicted: ")
            .unwrap_or_else(|| panic!("{rule}: no prediction: {}", p.message));
        assert_eq!(
            seen, expected,
            "{rule} on {statement}:\n{}\n{}",
            o.message, p.message
        );
        assert!(!o.message.contains("as predicted"), "{}", o.message);
    }

    // missing-lock-timeout predicts the lock of the statement it points at.
    for statement in [
        "ALTER TABLE users ADD COLUMN bio text;",
        "CREATE INDEX users_name ON users (name);",
        "ALTER TABLE tasks ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;",
        "CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();",
    ] {
        let (observed, predicted) = both(&format!("{statement}\n"));
        let o = observed.iter().find(|f| f.rule == "missing-lock-timeout").unwrap();
        let p = predicted.iter().find(|f| f.rule == "missing-lock-timeout").unwrap();
        assert_eq!(
            lock_in(&o.message, "(observed in the replay: "),
            lock_in(&p.message, "(predicted: "),
            "{statement}:\n{}\n{}",
            o.message,
            p.message
        );
    }
}

#[test]
fn an_observation_drops_a_prediction_it_contradicts() {
    // Statically a type change with USING, or to the base type of a domain, rewrites; the
    // replay sees the data file stay.
    for statement in [
        "ALTER TABLE users ALTER COLUMN n TYPE bigint USING n;",
        "ALTER TABLE users ALTER COLUMN tag TYPE text;",
    ] {
        let (observed, predicted) = both(&format!("{TIMEOUT}{statement}\n"));
        assert!(
            predicted.iter().any(|f| f.rule == "type-change-rewrite"),
            "{predicted:#?}"
        );
        assert!(
            !observed.iter().any(|f| f.rule == "type-change-rewrite"),
            "{statement}: {observed:#?}"
        );
    }
}

#[test]
fn a_rewrite_nothing_predicted_is_observed() {
    let (observed, predicted) = both(&format!("{TIMEOUT}ALTER TABLE tasks SET UNLOGGED;\n"));
    let f = observed
        .iter()
        .find(|f| f.rule == "table-rewrite")
        .unwrap_or_else(|| panic!("{observed:#?}"));
    assert_eq!(f.object.as_deref(), Some("table public.tasks"));
    assert!(
        f.message.contains(
            "observed in the replay: ACCESS EXCLUSIVE lock on public.tasks, table rewritten"
        ),
        "{}",
        f.message
    );
    assert!(predicted.iter().all(|f| f.rule != "table-rewrite"));
    // A table created in the same migration, and a change that keeps the data file.
    let (observed, _) = both(&format!(
        "{TIMEOUT}CREATE TABLE fresh (id bigint);\nALTER TABLE fresh SET UNLOGGED;\nALTER TABLE tasks SET (fillfactor = 70);\n"
    ));
    assert!(
        observed.iter().all(|f| f.rule != "table-rewrite"),
        "{observed:#?}"
    );
}

#[test]
fn do_blocks_are_observed_as_a_whole() {
    let m = format!(
        "{TIMEOUT}DO $$\nBEGIN\n  ALTER TABLE users ALTER COLUMN email SET NOT NULL;\nEND $$;\n"
    );
    let (observed, _) = both(&m);
    let f = observed
        .iter()
        .find(|f| f.rule == "set-not-null-without-check")
        .unwrap_or_else(|| panic!("{observed:#?}"));
    let l = f.location.as_ref().unwrap();
    assert_eq!((l.line, l.column), (4, 40));
    assert!(
        f.message.contains(
            "(observed in the replay: ACCESS EXCLUSIVE lock on public.users, table scanned)"
        ),
        "{}",
        f.message
    );
}
