//! Round-trip fidelity: inspect -> render SQL -> load into a fresh database -> inspect again must
//! give an identical catalog, for hand-written schemas covering every object kind and for every
//! loadable schema of the real-world corpus.

use std::path::{Path, PathBuf};

use tenet_catalog::{inspect, render, source, Catalog};
use tenet_pg::ScratchDb;
use tenet_testkit::test_db;

/// Apply `files` to a fresh database and return it with its catalog.
fn load(files: &[PathBuf]) -> Result<(ScratchDb, Catalog), tenet_catalog::Error> {
    let db = test_db();
    let mut client = db.connect().unwrap();
    source::apply_files(&mut client, files)?;
    let catalog = inspect(&mut client)?;
    Ok((db, catalog))
}

/// The round trip for one schema; panics with the first difference.
fn assert_round_trip(name: &str, original: &Catalog) {
    let sql = render::to_sql(original);
    let db = test_db();
    let mut client = db.connect().unwrap();
    if let Err(e) = source::apply_script(&mut client, Path::new(name), &sql) {
        panic!("{name}: rendered SQL does not load: {e}\n--- rendered ---\n{sql}");
    }
    let copy = inspect(&mut client).expect("inspect the copy");
    assert_same(name, original, &copy);
}

fn assert_same(name: &str, expected: &Catalog, actual: &Catalog) {
    if expected == actual {
        return;
    }
    let expected = serde_json::to_string_pretty(expected).unwrap();
    let actual = serde_json::to_string_pretty(actual).unwrap();
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let first = e
        .iter()
        .zip(&a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    let from = first.saturating_sub(8);
    panic!(
        "{name}: catalogs differ at JSON line {}\n--- expected ---\n{}\n--- actual ---\n{}",
        first + 1,
        e[from..(first + 8).min(e.len())].join("\n"),
        a[from..(first + 8).min(a.len())].join("\n"),
    );
}

fn schema_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas")
        .join(name)
}

fn hand_written(name: &str) {
    let (db, catalog) = load(&[schema_file(name)]).unwrap_or_else(|e| panic!("{name}: {e}"));
    // Inspection is deterministic: the same database reads back the same.
    let again = inspect(&mut db.connect().unwrap()).unwrap();
    assert_same(name, &catalog, &again);
    assert_round_trip(name, &catalog);
}

#[test]
fn every_object_kind_round_trips() {
    hand_written("every_kind.sql");
}

#[test]
fn every_object_kind_is_in_the_catalog() {
    let (_db, c) = load(&[schema_file("every_kind.sql")]).unwrap();
    let names = |v: Vec<&str>| v.join(",");
    assert_eq!(
        names(c.schemas.iter().map(|s| s.name.as_str()).collect()),
        "app,public"
    );
    assert_eq!(
        names(c.extensions.iter().map(|e| e.name.as_str()).collect()),
        "btree_gist,pg_trgm"
    );
    assert_eq!(c.collations.len(), 2);
    assert_eq!(c.types.len(), 4, "enum, composite and two domains");
    assert_eq!(
        c.sequences.len(),
        1,
        "identity sequences belong to their columns"
    );
    let accounts = c.tables.iter().find(|t| t.name == "accounts").unwrap();
    assert!(accounts.rls_enabled && accounts.rls_forced);
    assert_eq!(accounts.policies.len(), 3);
    assert!(
        !accounts
            .policies
            .iter()
            .find(|p| p.name == "accounts_write")
            .unwrap()
            .permissive
    );
    assert_eq!(
        accounts
            .column("id")
            .unwrap()
            .identity
            .as_ref()
            .unwrap()
            .generation,
        "by default"
    );
    assert_eq!(
        accounts.column("name_upper").unwrap().generated.as_deref(),
        Some("upper(name)")
    );
    assert_eq!(accounts.triggers.len(), 2);
    let bookings = c.tables.iter().find(|t| t.name == "bookings").unwrap();
    let fk = bookings
        .constraints
        .iter()
        .find(|k| k.name == "bookings_account_fk")
        .unwrap();
    let reference = fk.references.as_ref().unwrap();
    assert_eq!(
        (reference.on_delete.as_str(), reference.on_update.as_str()),
        ("cascade", "restrict")
    );
    assert!(fk.deferrable);
    assert!(
        !bookings
            .constraints
            .iter()
            .find(|k| k.name == "price_set")
            .unwrap()
            .validated
    );
    assert_eq!(bookings.indexes.len(), 3);
    let partial = bookings
        .indexes
        .iter()
        .find(|i| i.name == "bookings_lower_note")
        .unwrap();
    assert_eq!(partial.include, vec!["room"]);
    assert!(partial.predicate.is_some());
    let events = c.tables.iter().find(|t| t.name == "events_2024").unwrap();
    assert!(events.partition_of.is_some() && events.partition_by.is_some());
    let views: Vec<&str> = c.views.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        views,
        ["account_names", "booking_rooms", "happy_accounts", "totals"]
    );
    assert!(c
        .views
        .iter()
        .find(|v| v.name == "happy_accounts")
        .unwrap()
        .security_invoker());
    let definer = c
        .functions
        .iter()
        .find(|f| f.name == "safe_lookup")
        .unwrap();
    assert!(definer.security_definer);
    assert_eq!(definer.config, vec!["search_path=pg_catalog, pg_temp"]);
    assert_eq!(
        c.functions
            .iter()
            .filter(|f| f.name == "overloaded")
            .count(),
        2
    );
    assert!(c.functions.iter().any(|f| f.kind == "procedure"));
    let writer = c
        .roles
        .iter()
        .find(|r| r.name == "tenet_rt_writer")
        .unwrap();
    assert_eq!(writer.member_of, vec!["tenet_rt_reader"]);
}

#[test]
fn dependency_chains_round_trip() {
    hand_written("dependencies.sql");
}

#[test]
fn tenancy_schema_round_trips() {
    hand_written("tenancy.sql");
}

#[test]
fn catalog_json_round_trips_through_serde() {
    let (_db, catalog) = load(&[schema_file("every_kind.sql")]).unwrap();
    let json = serde_json::to_string(&catalog).unwrap();
    let back: Catalog = serde_json::from_str(&json).unwrap();
    assert_eq!(catalog, back);
}

fn corpus_dir() -> PathBuf {
    std::env::var_os("TENET_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"))
}

/// Roles some corpus schemas grant to or write policies for; roles are cluster-wide.
fn create_corpus_roles() {
    let db = test_db();
    db.connect()
        .unwrap()
        .batch_execute(
            "do $$ begin create role schemainspect_test_role; \
             exception when duplicate_object or unique_violation then null; end $$",
        )
        .unwrap();
}

#[test]
fn real_world_corpus_round_trips() {
    let fixtures = corpus_dir().join("migra-fixtures");
    let Ok(entries) = std::fs::read_dir(&fixtures) else {
        eprintln!("corpus not present at {}: skipped", fixtures.display());
        return;
    };
    create_corpus_roles();
    let mut cases: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    cases.sort();
    let (mut passed, mut skipped) = (0, Vec::new());
    for case in &cases {
        for side in ["a.sql", "b.sql"] {
            let file = case.join(side);
            if !file.exists() {
                continue;
            }
            let name = file.strip_prefix(&fixtures).unwrap().display().to_string();
            match load(std::slice::from_ref(&file)) {
                Ok((_db, catalog)) => {
                    assert_round_trip(&name, &catalog);
                    passed += 1;
                }
                // Only a missing extension excuses a schema that does not load.
                Err(e) if e.to_string().contains("extension") => {
                    skipped.push(format!("{name}: {e}"))
                }
                Err(e) => panic!("{name} does not load: {e}"),
            }
        }
    }
    eprintln!(
        "corpus: {passed} schemas round-trip, {} skipped",
        skipped.len()
    );
    for s in &skipped {
        eprintln!("  skipped {s}");
    }
    assert!(passed > 0, "no corpus schema was tested");
}
