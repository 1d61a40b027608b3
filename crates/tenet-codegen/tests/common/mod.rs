//! Schemas the generated code is tested on, each loaded into its own database with a few rows.

#![allow(dead_code)] // each test file uses part of this

use std::path::{Path, PathBuf};
use std::process::Command;

use tenet_catalog::{inspect, source, Catalog};
use tenet_testkit::ScratchDb;

/// A schema loaded into a scratch database (kept while the case lives), with rows.
pub struct Case {
    pub name: String,
    pub db: ScratchDb,
    pub catalog: Catalog,
}

impl Case {
    /// Loads `files`, inspects, then inserts `rows` (so that reading exercises decoding).
    pub fn load(name: &str, files: &[PathBuf], rows: &str) -> Case {
        let db = tenet_testkit::test_db();
        let mut client = db.connect().unwrap();
        source::apply_files_trusted(&mut client, files).unwrap();
        let catalog = inspect(&mut client).unwrap();
        if let Err(e) = client.batch_execute(rows) {
            panic!("{name}: rows: {}", tenet_testkit::describe(&e));
        }
        Case {
            name: name.to_string(),
            db,
            catalog,
        }
    }

    /// Rows of every table, as `SELECT count(*)` sees them (partitioned tables count their
    /// partitions' rows, parents their children's).
    pub fn row_counts(&self) -> Vec<(String, i64)> {
        let mut client = self.db.connect().unwrap();
        self.catalog
            .tables
            .iter()
            .map(|t| {
                let table = t.qualified_name().to_string();
                let sql = format!("SELECT count(*) FROM {table}");
                (table, client.query_one(&sql, &[]).unwrap().get(0))
            })
            .collect()
    }
}

pub fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas")
}

/// The schema with every mapped type and naming case.
pub fn all_types() -> Case {
    let dir = schemas_dir();
    let rows = std::fs::read_to_string(dir.join("all_types_rows.sql")).unwrap();
    Case::load("all_types", &[dir.join("all_types.sql")], &rows)
}

/// The bundled Todo example.
pub fn todo() -> Case {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo/schema");
    let rows = "INSERT INTO users (email, display_name) VALUES ('a@example.com', NULL);
        INSERT INTO tasks (user_id, title, status, completed_at)
            SELECT id, 'write tests', 'done', now() FROM users;";
    Case::load("todo", &source::sql_files(&root).unwrap(), rows)
}

/// Fixtures of migra from the shared corpus (the `b.sql` of each), with rows for them. They
/// load on PostgreSQL 15 with contrib (hstore, citext).
const CORPUS: &[(&str, &str)] = &[
    (
        "everything",
        "INSERT INTO products (name, price, x, newcolumn, newcolumn2) VALUES ('p', 20, 1, 'n', '1 day');
         INSERT INTO orders VALUES (1, 'street', 'shipped', 's', 'a=>1');
         INSERT INTO order_items VALUES (1, 1, 3);
         INSERT INTO bug (description, status) VALUES ('d', 'open');",
    ),
    (
        "enumdefaults",
        "INSERT INTO orders (status, othercolumn) VALUES ('processing', 'b'), (DEFAULT, NULL);",
    ),
    (
        "constraints",
        "INSERT INTO b VALUES (1); INSERT INTO t2 VALUES (1, 1); INSERT INTO t1 VALUES (1, 9.5);
         INSERT INTO c VALUES (1); INSERT INTO circles VALUES ('<(0,0),1>');
         INSERT INTO circles_dropexclude VALUES ('<(5,5),1>');",
    ),
    (
        "identitycols",
        "INSERT INTO t2 (a) VALUES (1); INSERT INTO gen (removing) VALUES (2);
         INSERT INTO identchanges (f) VALUES (3);",
    ),
    (
        "partitioning",
        "INSERT INTO measurement VALUES (1, '2005-02-15', 20, 3, 'x'), (2, '2006-02-15', 21, 4, NULL);
         INSERT INTO measurement_y2006m03 VALUES (3, '2006-03-01', 22, 5);",
    ),
    (
        "inherit",
        "INSERT INTO entity_bindings_a (entity_type, entity_id) VALUES ('A', 1);
         INSERT INTO entity_bindings (entity_type, entity_id) VALUES ('Z', 2);",
    ),
];

/// The corpus fixtures, or none (with the reason printed) when the corpus is not present.
pub fn corpus() -> Vec<Case> {
    let Some(fixtures) = tenet_testkit::corpus("migra-fixtures") else {
        return Vec::new();
    };
    CORPUS
        .iter()
        .map(|(name, rows)| Case::load(name, &[fixtures.join(name).join("b.sql")], rows))
        .collect()
}

/// Every case: the all-types schema, Todo and the corpus fixtures.
pub fn all_cases() -> Vec<Case> {
    let mut cases = vec![all_types(), todo()];
    cases.extend(corpus());
    cases
}

/// Is this program on the PATH? Tests that need it skip, saying why, only when it is not,
/// and never in CI (`CI=true`), where `scripts/bootstrap` installed it.
pub fn have(program: &str) -> bool {
    match Command::new(program).arg("--version").output() {
        Ok(_) => true,
        Err(e) => {
            let message = format!("{program} is not available ({e})");
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "{message}: run scripts/bootstrap"
            );
            eprintln!("{message}: skipped");
            false
        }
    }
}

/// Runs a command, panicking with its output when it fails.
pub fn run(what: &str, command: &mut Command) -> String {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
