//! `src/casts.txt`, the built-in types and casts the plan judges type changes by, must hold
//! every built-in cast of the server the tests run on: a missing one would refuse a type
//! change PostgreSQL can make.

use std::collections::BTreeSet;

const CASTS: &str = include_str!("../src/casts.txt");

#[test]
fn cast_list_holds_every_built_in_cast_of_the_server() {
    let db = tenet_testkit::test_db();
    let mut client = tenet_testkit::client(&db);
    let listed: BTreeSet<&str> = CASTS.lines().filter(|l| !l.starts_with('#')).collect();
    let queries = [
        "select 'type ' || format_type(oid, null) from pg_type \
         where oid < 16384 and typtype in ('b', 'r', 'm') and typcategory <> 'A'",
        "select format_type(castsource, null) || ' -> ' || format_type(casttarget, null) \
         from pg_cast where oid < 16384",
    ];
    let mut missing = Vec::new();
    for query in queries {
        for row in client.query(query, &[]).unwrap() {
            let line: String = row.get(0);
            if !listed.contains(line.as_str()) {
                missing.push(line);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "add to src/casts.txt (this server's PostgreSQL has more):\n{}",
        missing.join("\n")
    );
    assert!(listed.contains("bigint -> integer"));
    assert!(!listed.contains("bigint -> timestamp without time zone"));
}
