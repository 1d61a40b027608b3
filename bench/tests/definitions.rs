//! Inspect's client-printed index and key definitions equal the server's on generated schemas
//! (partial, unique, GIN and composite indexes, keys with INCLUDE, foreign keys with
//! `ON DELETE SET NULL (col)`): the schema the benchmarks time, at two seeds.

#[test]
fn generated_schemas_print_as_the_server_does() {
    for seed in [tenet_bench::DEFAULT_SEED, 7] {
        let schema = tenet_bench::Schema::generate(300, seed);
        let db = tenet_testkit::test_db();
        tenet_testkit::exec(&db, &schema.to_sql());
        let check = tenet_catalog::compare_definitions(&mut db.connect().unwrap()).unwrap();
        for (object, server, client) in &check.differ {
            eprintln!("{object}\n  server: {server}\n  client: {client}");
        }
        assert!(check.differ.is_empty(), "seed {seed}: {check:?}");
        // Every key and every index on plain columns: more than two per table.
        assert!(check.equal > 600, "seed {seed}: {check:?}");
        eprintln!(
            "seed {seed}: {} definitions equal the server's, {} left to it",
            check.equal, check.by_server
        );
    }
}
