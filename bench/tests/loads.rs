//! The generated schemas load into PostgreSQL: the original and a mutated copy.

#[test]
fn generated_and_mutated_schemas_load() {
    let schema = tenet_bench::Schema::generate(120, tenet_bench::DEFAULT_SEED);
    let db = tenet_testkit::test_db();
    tenet_testkit::exec(&db, &schema.to_sql());
    let rows = tenet_testkit::query(
        &db,
        "SELECT count(*) FILTER (WHERE c.relkind = 'r'), count(*) FILTER (WHERE c.relkind = 'v'), \
                count(*) FILTER (WHERE c.relrowsecurity AND c.relforcerowsecurity) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname IN ('app', 'billing', 'crm', 'ops')",
    );
    let (tables, views, rls): (i64, i64, i64) = (rows[0].get(0), rows[0].get(1), rows[0].get(2));
    assert_eq!(tables, 121); // + app.tenants
    assert_eq!(views, 6);
    assert_eq!(rls, 120);

    let (changed, changes) = schema.mutate(10.0, 5);
    assert!(!changes.is_empty());
    let db = tenet_testkit::test_db();
    tenet_testkit::exec(&db, &changed.to_sql());
}
