//! Desired-state SQL in any order, in the sandbox: statements retried after the rest leave the
//! session as the SQL itself left it.

use std::path::Path;

use tenet_catalog::source;

#[test]
fn retried_statements_leave_the_search_path_the_sql_set_last() {
    let mut sandbox = tenet_testkit::sandbox();
    let sql = "set search_path = later;\n\
               create view v as select id from t;\n\
               create schema later;\n\
               create table later.t (id int);\n\
               set search_path = public;\n";
    source::apply_schema_script(&mut sandbox, Path::new("desired.sql"), sql).unwrap();
    let path: String = sandbox
        .client()
        .query_one("select current_setting('search_path')", &[])
        .unwrap()
        .get(0);
    assert_eq!(path, "public");
    // The view went where its search_path said.
    let schema: String = sandbox
        .client()
        .query_one(
            "select schemaname::text from pg_views where viewname = 'v'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(schema, "later");
}
