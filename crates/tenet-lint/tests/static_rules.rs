//! Every static rule with a failing and a passing case, checked at the right line and column.
//! (No database: the rules as they work on the file alone. Replay-backed cases are in
//! `replay.rs`.)

use tenet_config::Tenancy;
use tenet_lint::{lint_sql, Facts, TableFacts};
use tenet_report::Finding;

fn lint(sql: &str) -> Vec<Finding> {
    lint_sql("m.sql", sql, None, None)
}

fn positions(findings: &[Finding], rule: &str) -> Vec<(usize, usize, usize, usize)> {
    findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| {
            let l = f.location.as_ref().unwrap();
            (l.line, l.column, l.end_line, l.end_column)
        })
        .collect()
}

/// The rule fires exactly once, at `line:column`; returns the finding.
#[track_caller]
fn fires(sql: &str, rule: &str, line: usize, column: usize) -> Finding {
    let findings = lint(sql);
    let at = positions(&findings, rule);
    assert_eq!(
        at.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
        vec![(line, column)],
        "{rule} in:\n{sql}\nfindings: {findings:#?}"
    );
    findings.into_iter().find(|f| f.rule == rule).unwrap()
}

#[track_caller]
fn silent(sql: &str, rule: &str) {
    let findings = lint(sql);
    assert!(
        positions(&findings, rule).is_empty(),
        "{rule} should not fire in:\n{sql}\nfindings: {findings:#?}"
    );
}

/// The underlined text of a finding.
fn underlined<'a>(sql: &'a str, f: &Finding) -> &'a str {
    let l = f.location.as_ref().unwrap();
    let (start, end) = l.span_in(sql).unwrap();
    &sql[start..end]
}

const TIMEOUT: &str = "SET lock_timeout = '2s';\n";

#[test]
fn index_not_concurrent() {
    let sql = "SET lock_timeout = '2s';\n\nCREATE INDEX users_email ON users (email);\n";
    let f = fires(sql, "index-not-concurrent", 3, 1);
    assert_eq!(underlined(sql, &f), "CREATE INDEX");
    assert!(f.fix.contains("CONCURRENTLY"), "{}", f.fix);
    let sql = "SET lock_timeout = '2s';\ncreate unique index u on users (email);";
    assert_eq!(
        underlined(sql, &fires(sql, "index-not-concurrent", 2, 1)),
        "create unique index"
    );
    let sql = "SET lock_timeout = '2s';\nDROP INDEX users_email;";
    assert_eq!(
        underlined(sql, &fires(sql, "index-not-concurrent", 2, 1)),
        "DROP INDEX"
    );
    fires("REINDEX TABLE users;", "index-not-concurrent", 1, 1);

    silent(
        "CREATE INDEX CONCURRENTLY users_email ON users (email);",
        "index-not-concurrent",
    );
    silent(
        "DROP INDEX CONCURRENTLY users_email;",
        "index-not-concurrent",
    );
    silent("REINDEX TABLE CONCURRENTLY users;", "index-not-concurrent");
    // A table created in the same migration is not in use yet: no false positive.
    silent(
        "CREATE TABLE t (id bigint PRIMARY KEY, x text);\nCREATE INDEX t_x ON t (x);\nDROP INDEX t_x;",
        "index-not-concurrent",
    );
}

#[test]
fn concurrently_in_transaction() {
    let sql = "BEGIN;\nCREATE INDEX CONCURRENTLY users_email ON users (email);\nCOMMIT;";
    let f = fires(sql, "concurrently-in-transaction", 2, 14);
    assert_eq!(underlined(sql, &f), "CONCURRENTLY");
    fires(
        "BEGIN;\nDROP INDEX CONCURRENTLY i;\nCOMMIT;",
        "concurrently-in-transaction",
        2,
        12,
    );
    fires(
        "begin;\nalter table p detach partition p1 concurrently;\ncommit;",
        "concurrently-in-transaction",
        2,
        35,
    );
    silent(
        "CREATE INDEX CONCURRENTLY users_email ON users (email);",
        "concurrently-in-transaction",
    );
    silent(
        "BEGIN;\nSELECT 1;\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON users (email);",
        "concurrently-in-transaction",
    );
}

#[test]
fn constraint_without_not_valid() {
    let sql = format!(
        "{TIMEOUT}ALTER TABLE tasks\n  ADD CONSTRAINT tasks_user_fk FOREIGN KEY (user_id) REFERENCES users (id);\n"
    );
    let f = fires(&sql, "constraint-without-not-valid", 3, 7);
    assert_eq!(
        underlined(&sql, &f),
        "CONSTRAINT tasks_user_fk FOREIGN KEY (user_id) REFERENCES users (id)"
    );
    assert!(f.fix.contains("NOT VALID") && f.fix.contains("VALIDATE CONSTRAINT tasks_user_fk"));
    fires(
        &format!("{TIMEOUT}ALTER TABLE tasks ADD CHECK (priority > 0);"),
        "constraint-without-not-valid",
        2,
        23,
    );
    fires(
        &format!("{TIMEOUT}ALTER TABLE tasks ADD COLUMN owner_id bigint REFERENCES users (id);"),
        "constraint-without-not-valid",
        2,
        46,
    );
    silent(
        &format!("{TIMEOUT}ALTER TABLE tasks ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nALTER TABLE tasks VALIDATE CONSTRAINT fk;"),
        "constraint-without-not-valid",
    );
    silent(
        "CREATE TABLE t (id bigint PRIMARY KEY, u bigint);\nALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES users (id);",
        "constraint-without-not-valid",
    );
}

#[test]
fn unique_without_index() {
    let sql = format!("{TIMEOUT}ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);");
    let f = fires(&sql, "unique-without-index", 2, 23);
    assert!(
        f.fix.contains("CREATE UNIQUE INDEX CONCURRENTLY"),
        "{}",
        f.fix
    );
    assert!(f.fix.contains("USING INDEX"), "{}", f.fix);
    fires(
        &format!("{TIMEOUT}ALTER TABLE users ADD PRIMARY KEY (id);"),
        "unique-without-index",
        2,
        23,
    );
    silent(
        &format!("{TIMEOUT}ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;"),
        "unique-without-index",
    );
    silent(
        "CREATE TABLE t (id bigint, email text);\nALTER TABLE t ADD PRIMARY KEY (id);",
        "unique-without-index",
    );
}

#[test]
fn set_not_null_without_check() {
    let sql = format!("{TIMEOUT}ALTER TABLE users ALTER COLUMN email SET NOT NULL;");
    let f = fires(&sql, "set-not-null-without-check", 2, 38);
    assert_eq!(underlined(&sql, &f), "SET NOT NULL");
    assert_eq!(f.object.as_deref(), Some("column public.users.email"));
    // The safe sequence in one file.
    silent(
        &format!(
            "{TIMEOUT}ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;\n\
             ALTER TABLE users VALIDATE CONSTRAINT email_nn;\n\
             ALTER TABLE users ALTER COLUMN email SET NOT NULL;"
        ),
        "set-not-null-without-check",
    );
    // NOT VALID but never validated: the scan still happens.
    fires(
        &format!(
            "{TIMEOUT}ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;\n\
             ALTER TABLE users ALTER COLUMN email SET NOT NULL;"
        ),
        "set-not-null-without-check",
        3,
        38,
    );
    // A validated check from an earlier migration (known from the replay).
    let facts = Facts::default().with_table(
        "public",
        "users",
        TableFacts {
            checked_not_null: ["email".to_string()].into(),
            ..TableFacts::default()
        },
    );
    let findings = lint_sql(
        "m.sql",
        &format!("{TIMEOUT}ALTER TABLE users ALTER COLUMN email SET NOT NULL;"),
        Some(&facts),
        None,
    );
    assert!(
        positions(&findings, "set-not-null-without-check").is_empty(),
        "{findings:#?}"
    );
}

#[test]
fn not_null_without_default() {
    let sql = format!("{TIMEOUT}ALTER TABLE users ADD COLUMN plan text NOT NULL;");
    let f = fires(&sql, "not-null-without-default", 2, 30);
    assert_eq!(underlined(&sql, &f), "plan text NOT NULL");
    silent(
        &format!("{TIMEOUT}ALTER TABLE users ADD COLUMN plan text NOT NULL DEFAULT 'free';"),
        "not-null-without-default",
    );
    silent(
        &format!("{TIMEOUT}ALTER TABLE users ADD COLUMN plan text;"),
        "not-null-without-default",
    );
    silent(
        "CREATE TABLE t (id bigint);\nALTER TABLE t ADD COLUMN plan text NOT NULL;",
        "not-null-without-default",
    );
}

#[test]
fn volatile_default_rewrite() {
    let sql =
        format!("{TIMEOUT}ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();");
    let f = fires(&sql, "volatile-default-rewrite", 2, 30);
    assert!(f.message.contains("gen_random_uuid()"), "{}", f.message);
    fires(
        &format!("{TIMEOUT}ALTER TABLE users ADD COLUMN n bigserial;"),
        "volatile-default-rewrite",
        2,
        30,
    );
    fires(
        &format!("{TIMEOUT}ALTER TABLE users ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY;"),
        "volatile-default-rewrite",
        2,
        30,
    );
    fires(
        &format!("{TIMEOUT}ALTER TABLE users ADD COLUMN r float8 DEFAULT (random() * 10);"),
        "volatile-default-rewrite",
        2,
        30,
    );
    // now() is STABLE: PostgreSQL 11+ stores it once, no rewrite.
    silent(
        &format!("{TIMEOUT}ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now();"),
        "volatile-default-rewrite",
    );
    silent(
        &format!("{TIMEOUT}ALTER TABLE users ADD COLUMN plan text DEFAULT 'free';"),
        "volatile-default-rewrite",
    );
    silent(
        "CREATE TABLE t (id bigint);\nALTER TABLE t ADD COLUMN token uuid DEFAULT gen_random_uuid();",
        "volatile-default-rewrite",
    );
}

#[test]
fn type_change_rewrite() {
    let sql = format!("{TIMEOUT}ALTER TABLE users ALTER COLUMN id TYPE bigint;");
    let f = fires(&sql, "type-change-rewrite", 2, 35);
    assert_eq!(underlined(&sql, &f), "TYPE bigint");
    // With the current type known, widening a varchar is binary compatible.
    let facts = Facts::default().with_table(
        "public",
        "users",
        TableFacts {
            columns: [
                ("name".to_string(), "character varying(50)".to_string()),
                ("id".to_string(), "integer".to_string()),
            ]
            .into(),
            ..TableFacts::default()
        },
    );
    let lint_with = |sql: &str| lint_sql("m.sql", sql, Some(&facts), None);
    let widen = lint_with(&format!(
        "{TIMEOUT}ALTER TABLE users ALTER COLUMN name TYPE varchar(100);"
    ));
    assert!(
        positions(&widen, "type-change-rewrite").is_empty(),
        "{widen:#?}"
    );
    let to_text = lint_with(&format!(
        "{TIMEOUT}ALTER TABLE users ALTER COLUMN name TYPE text;"
    ));
    assert!(
        positions(&to_text, "type-change-rewrite").is_empty(),
        "{to_text:#?}"
    );
    let narrow = lint_with(&format!(
        "{TIMEOUT}ALTER TABLE users ALTER COLUMN name TYPE varchar(20);"
    ));
    assert_eq!(positions(&narrow, "type-change-rewrite").len(), 1);
    let int = lint_with(&format!(
        "{TIMEOUT}ALTER TABLE users ALTER COLUMN id TYPE bigint;"
    ));
    let f = int
        .iter()
        .find(|f| f.rule == "type-change-rewrite")
        .unwrap();
    assert!(
        f.message.contains("from integer to bigint"),
        "{}",
        f.message
    );
    silent(
        "CREATE TABLE t (id int);\nALTER TABLE t ALTER COLUMN id TYPE bigint;",
        "type-change-rewrite",
    );
}

#[test]
fn data_loss() {
    let sql = format!("{TIMEOUT}DROP TABLE users;");
    assert_eq!(
        underlined(&sql, &fires(&sql, "drop-table", 2, 1)),
        "DROP TABLE users"
    );
    let sql = format!("{TIMEOUT}ALTER TABLE users DROP COLUMN a, DROP COLUMN IF EXISTS b;");
    let findings = lint(&sql);
    let drops: Vec<&str> = findings
        .iter()
        .filter(|f| f.rule == "drop-column")
        .map(|f| underlined(&sql, f))
        .collect();
    assert_eq!(drops, ["DROP COLUMN a", "DROP COLUMN IF EXISTS b"]);
    fires(&format!("{TIMEOUT}TRUNCATE users;"), "truncate-table", 2, 1);

    let created = "CREATE TABLE scratch (id bigint, a text);\nALTER TABLE scratch DROP COLUMN a;\nTRUNCATE scratch;\nDROP TABLE scratch;";
    for rule in ["drop-table", "drop-column", "truncate-table"] {
        silent(created, rule);
    }
}

#[test]
fn renames() {
    let sql = format!("{TIMEOUT}ALTER TABLE users RENAME TO accounts;");
    let f = fires(&sql, "rename-table", 2, 19);
    assert_eq!(underlined(&sql, &f), "RENAME TO accounts");
    fires(
        &format!("{TIMEOUT}ALTER TABLE users RENAME COLUMN email TO mail;"),
        "rename-column",
        2,
        19,
    );
    silent(
        "CREATE TABLE t (id bigint);\nALTER TABLE t RENAME TO u;\nALTER TABLE u RENAME COLUMN id TO uid;",
        "rename-table",
    );
    silent(
        "CREATE TABLE t (id bigint);\nALTER TABLE t RENAME TO u;\nALTER TABLE u RENAME COLUMN id TO uid;",
        "rename-column",
    );
}

#[test]
fn missing_lock_timeout() {
    let sql = "ALTER TABLE users ADD COLUMN bio text;\nALTER TABLE users ADD COLUMN age int;";
    let f = fires(sql, "missing-lock-timeout", 1, 1);
    assert_eq!(
        underlined(sql, &f),
        "ALTER TABLE users ADD COLUMN bio text;".trim_end_matches(';')
    );
    silent(
        "SET lock_timeout = '3s';\nALTER TABLE users ADD COLUMN bio text;",
        "missing-lock-timeout",
    );
    silent(
        "SELECT set_config('lock_timeout', '3s', false);\nALTER TABLE users ADD COLUMN bio text;",
        "missing-lock-timeout",
    );
    // Zero means no timeout.
    fires(
        "SET lock_timeout = 0;\nALTER TABLE users ADD COLUMN bio text;",
        "missing-lock-timeout",
        2,
        1,
    );
    silent(
        "CREATE TABLE t (id bigint);\nALTER TABLE t ADD COLUMN bio text;",
        "missing-lock-timeout",
    );
}

#[test]
fn transactions() {
    let sql = "BEGIN;\nSELECT 1;\nBEGIN;\nSELECT 2;\nCOMMIT;";
    let f = fires(sql, "nested-transaction", 3, 1);
    assert_eq!(underlined(sql, &f), "BEGIN");
    fires("SELECT 1;\nCOMMIT;", "nested-transaction", 2, 1);
    let sql = "SELECT 0;\nBEGIN;\nSELECT 1;";
    let f = fires(sql, "unclosed-transaction", 2, 1);
    assert_eq!(underlined(sql, &f), "BEGIN");
    for rule in ["nested-transaction", "unclosed-transaction"] {
        silent(
            "BEGIN;\nSAVEPOINT a;\nSELECT 1;\nROLLBACK TO a;\nCOMMIT;\nSTART TRANSACTION;\nEND;",
            rule,
        );
    }
}

#[test]
fn type_preferences() {
    let sql = "CREATE TABLE t (\n  id serial PRIMARY KEY,\n  n int,\n  created timestamp,\n  name varchar(100),\n  code char(2),\n  tag varchar,\n  at timestamptz\n);";
    let findings = lint(sql);
    let got: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f.rule.as_str(), underlined(sql, f)))
        .collect();
    assert_eq!(
        got,
        [
            ("prefer-identity", "serial"),
            ("prefer-timestamptz", "timestamp"),
            ("prefer-text", "varchar(100)"),
            ("no-char", "char(2)"),
        ]
    );
    fires(
        "CREATE TABLE t (id int PRIMARY KEY);",
        "prefer-bigint",
        1,
        20,
    );
    fires(
        "CREATE TABLE t (id integer, PRIMARY KEY (id));",
        "prefer-bigint",
        1,
        20,
    );
    fires(
        "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY);",
        "prefer-bigint",
        1,
        20,
    );
    fires(
        "CREATE TABLE t (at timestamp without time zone);",
        "prefer-timestamptz",
        1,
        20,
    );
    for rule in [
        "prefer-bigint",
        "prefer-identity",
        "prefer-timestamptz",
        "prefer-text",
        "no-char",
    ] {
        silent(
            "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, n int, at timestamptz, name text, v varchar);",
            rule,
        );
    }
}

fn tenancy() -> Tenancy {
    Tenancy {
        column: "tenant_id".into(),
        setting: "app.tenant_id".into(),
        app_role: "app_user".into(),
        global_tables: vec!["plans".into()],
    }
}

#[test]
fn new_table_without_rls() {
    let sql = "CREATE TABLE public.tasks (id bigint, tenant_id uuid NOT NULL);\n";
    let findings = lint_sql("m.sql", sql, None, Some(&tenancy()));
    let f = findings
        .iter()
        .find(|f| f.rule == "new-table-without-rls")
        .expect("reported");
    assert_eq!(underlined(sql, f), "CREATE TABLE public.tasks");
    assert_eq!(f.object.as_deref(), Some("table public.tasks"));

    let ok = "CREATE TABLE tasks (id bigint, tenant_id uuid NOT NULL);\nALTER TABLE tasks ENABLE ROW LEVEL SECURITY;\n";
    let findings = lint_sql("m.sql", ok, None, Some(&tenancy()));
    assert!(
        findings.iter().all(|f| f.rule != "new-table-without-rls"),
        "{findings:#?}"
    );
    // Global tables, temporary tables, and projects without tenancy.
    for sql in [
        "CREATE TABLE plans (id bigint);",
        "CREATE TEMP TABLE scratch (id bigint);",
    ] {
        let findings = lint_sql("m.sql", sql, None, Some(&tenancy()));
        assert!(
            findings.iter().all(|f| f.rule != "new-table-without-rls"),
            "{sql}: {findings:#?}"
        );
    }
    silent("CREATE TABLE tasks (id bigint);", "new-table-without-rls");
}

#[test]
fn syntax_errors_point_at_the_statement_and_the_rest_is_linted() {
    let sql = format!("{TIMEOUT}CREATE TABEL t (id bigint);\nCREATE INDEX i ON users (x);\n");
    let findings = lint(&sql);
    let f = findings
        .iter()
        .find(|f| f.rule == "syntax-error")
        .expect("syntax error");
    let l = f.location.as_ref().unwrap();
    assert_eq!((l.line, l.column), (2, 8), "{f:#?}");
    assert_eq!(underlined(&sql, f), "TABEL");
    assert_eq!(
        positions(&findings, "index-not-concurrent"),
        vec![(3, 1, 3, 13)]
    );
}

#[test]
fn inline_ignores() {
    let sql = "SET lock_timeout = '1s';\n-- tenet:ignore index-not-concurrent\nCREATE INDEX a ON users (x);\nCREATE INDEX b ON users (y); -- tenet:ignore index-not-concurrent, drop-table\nCREATE INDEX c ON users (z);\n/* tenet:ignore */ DROP TABLE old;\n";
    let findings = lint(sql);
    assert_eq!(
        positions(&findings, "index-not-concurrent"),
        vec![(5, 1, 5, 13)]
    );
    assert!(
        positions(&findings, "drop-table").is_empty(),
        "{findings:#?}"
    );
    // Another rule's ignore does not hide this one.
    let sql = "SET lock_timeout = '1s';\nCREATE INDEX a ON users (x); -- tenet:ignore drop-table\n";
    assert_eq!(positions(&lint(sql), "index-not-concurrent").len(), 1);
    // The directive text inside a string is not a directive.
    let sql = "SET lock_timeout = '1s';\nCREATE INDEX a ON users ((x || '-- tenet:ignore'));\n";
    assert_eq!(positions(&lint(sql), "index-not-concurrent").len(), 1);
}

#[test]
fn positions_count_characters_not_bytes() {
    let sql = "-- é à ü\nSET lock_timeout = '1s'; CREATE INDEX \"índice\" ON users (x);";
    let f = fires(sql, "index-not-concurrent", 2, 26);
    assert_eq!(underlined(sql, &f), "CREATE INDEX");
}
