//! Inspect prints index and key definitions on the client (`inspect/definitions.rs`); they
//! must be byte for byte what `pg_get_indexdef` and `pg_get_constraintdef` print, for every
//! index and constraint of a hand-written schema of every shape and of the real-world corpus.

use std::path::{Path, PathBuf};

use tenet_catalog::{compare_definitions, source, DefinitionCheck};
use tenet_testkit::test_db;

/// Load `files` (in order) into a fresh database and compare its definitions.
fn check(files: &[PathBuf]) -> Result<DefinitionCheck, tenet_catalog::Error> {
    let db = test_db();
    let mut client = db.connect().unwrap();
    source::apply_files_trusted(&mut client, files)?;
    compare_definitions(&mut client)
}

fn assert_equal(name: &str, check: &DefinitionCheck) {
    for (object, server, client) in &check.differ {
        eprintln!("{name}: {object}\n  server: {server}\n  client: {client}");
    }
    assert!(
        check.differ.is_empty(),
        "{name}: {} definitions differ",
        check.differ.len()
    );
}

#[test]
fn every_shape_prints_as_the_server_does() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/definitions.sql");
    let check = check(&[file]).unwrap();
    assert_equal("definitions.sql", &check);
    // 27 plain indexes, 3 primary, 3 unique and 3 foreign keys printed on the client; the two
    // expression indexes, the check and the exclusion by the server.
    assert_eq!((check.equal, check.by_server), (33, 4), "{check:?}");
}

#[test]
fn every_corpus_schema_prints_as_the_server_does() {
    let (Some(fixtures), Some(pagila), Some(auth)) = (
        tenet_testkit::corpus("migra-fixtures"),
        tenet_testkit::corpus("pagila"),
        tenet_testkit::corpus("supabase_auth"),
    ) else {
        return;
    };
    tenet_testkit::exec(
        &test_db(),
        "do $$ begin create role schemainspect_test_role; \
         exception when duplicate_object or unique_violation then null; end $$",
    );
    let mut schemas: Vec<Vec<PathBuf>> = Vec::new();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    for case in cases {
        for side in ["a.sql", "b.sql"] {
            if case.join(side).exists() {
                schemas.push(vec![case.join(side)]);
            }
        }
    }
    schemas.push(vec![pagila.join("schema.sql")]);
    // supabase_storage creates cluster-wide roles, which tests on a shared server leave alone.
    schemas.push(source::sql_files(&auth.join("migrations")).unwrap());
    let (mut total, mut skipped) = (DefinitionCheck::default(), 0);
    for files in &schemas {
        let name = files[0].display().to_string();
        match check(files) {
            Ok(check) => {
                assert_equal(&name, &check);
                total.equal += check.equal;
                total.by_server += check.by_server;
            }
            // Only a missing extension excuses a schema that does not load.
            Err(e) if e.to_string().contains("extension") => skipped += 1,
            Err(e) => panic!("{name} does not load: {e}"),
        }
    }
    eprintln!(
        "corpus: {} definitions printed as the server does, {} left to it, {skipped} schemas skipped",
        total.equal, total.by_server
    );
    assert!(total.equal > 200, "{total:?}");
}
