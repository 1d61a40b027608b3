//! A database planned against its own inspect output (rendered, loaded into a fresh database,
//! inspected again) needs no step, in both directions, for every loadable schema of the
//! real-world corpus (the migra fixtures and the Supabase auth history): PostgreSQL's
//! re-printing of a definition is not a change.

mod common;

use std::path::{Path, PathBuf};

use tenet_catalog::{inspect, render, source, Catalog};
use tenet_diff::{plan, Options};
use tenet_testkit::test_db;

fn corpus_dir() -> PathBuf {
    std::env::var_os("TENET_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"))
}

fn load(files: &[PathBuf]) -> Result<Catalog, String> {
    let db = test_db();
    let mut client = db.connect().unwrap();
    source::apply_files_trusted(&mut client, files).map_err(|e| e.to_string())?;
    inspect(&mut client).map_err(|e| e.to_string())
}

/// Empty plans both ways between a catalog and its own rendering, loaded again.
fn assert_plans_empty(name: &str, live: &Catalog) {
    let sql = render::to_sql(live);
    let (_db, again) = common::catalog_of(name, &sql)
        .unwrap_or_else(|e| panic!("{name}: rendered SQL does not load: {e}"));
    for (a, b, direction) in [
        (live, &again, "live -> rendered"),
        (&again, live, "rendered -> live"),
    ] {
        let p =
            plan(a, b, &Options::default()).unwrap_or_else(|e| panic!("{name} {direction}: {e}"));
        assert!(p.is_empty(), "{name} {direction}:\n{}", p.to_sql());
    }
}

#[test]
fn corpus_plans_empty_against_its_own_inspect_output() {
    let corpus = corpus_dir();
    let fixtures = corpus.join("migra-fixtures");
    let entries = std::fs::read_dir(&fixtures)
        .unwrap_or_else(|e| panic!("corpus not present at {}: {e}", fixtures.display()));
    common::catalog_of(
        "roles",
        "do $$ begin create role schemainspect_test_role; \
         exception when duplicate_object or unique_violation then null; end $$",
    )
    .unwrap();
    let mut files: Vec<(String, Vec<PathBuf>)> = Vec::new();
    let mut cases: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    cases.sort();
    for case in &cases {
        for side in ["a.sql", "b.sql"] {
            let file = case.join(side);
            if file.exists() {
                let name = file.strip_prefix(&fixtures).unwrap().display().to_string();
                files.push((name, vec![file]));
            }
        }
    }
    // pagila needs aggregates modelled first (its views call one); supabase_storage creates
    // cluster-wide roles, which tests on a shared server leave alone.
    let history = "supabase_auth/migrations";
    files.push((
        history.to_string(),
        source::sql_files(&corpus.join(history)).unwrap(),
    ));
    let (mut passed, mut skipped) = (0, Vec::new());
    for (name, files) in &files {
        match load(files) {
            Ok(live) => {
                assert_plans_empty(name, &live);
                passed += 1;
            }
            // Only a missing extension excuses a schema that does not load.
            Err(e) if e.contains("extension") => skipped.push(format!("{name}: {e}")),
            Err(e) => panic!("{name} does not load: {e}"),
        }
    }
    eprintln!(
        "corpus: {passed} schemas plan empty against themselves, {} skipped",
        skipped.len()
    );
    for s in &skipped {
        eprintln!("  skipped {s}");
    }
    assert_eq!(passed + skipped.len(), files.len());
    assert!(passed > 50, "only {passed} corpus schemas were tested");
}
