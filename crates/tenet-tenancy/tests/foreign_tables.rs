//! Foreign tables are relations (relkind `f`) but not tables: the catalog keeps them apart,
//! and the tenancy checker judges the tables beside them as if they were not there.

use tenet_tenancy::{check, Model};
use tenet_testkit::test_db;

#[test]
fn foreign_tables_leave_the_tenancy_check_as_it_was() {
    let tables = "create table users (id int primary key);
        create table notes (id int primary key, user_id int not null references users);";
    let foreign = "create extension postgres_fdw;
        create server archive foreign data wrapper postgres_fdw options (dbname 'archive');
        create foreign table archived_notes (id int, user_id int) server archive;
        create view recent_archive as select * from archived_notes;";
    let tenancy = tenet_config::Tenancy {
        column: "user_id".into(),
        setting: "app.user_id".into(),
        ..Default::default()
    };
    let findings = |sql: &str| {
        let db = test_db();
        tenet_testkit::exec(&db, sql);
        let catalog = tenet_catalog::inspect(&mut db.connect().unwrap()).unwrap();
        let found = check(&Model::new(&catalog, &tenancy));
        (catalog, tenet_report::to_human(&found))
    };
    let (_, without) = findings(tables);
    let (catalog, with) = findings(&format!("{tables}\n{foreign}"));
    assert_eq!(catalog.foreign_tables.len(), 1);
    assert!(catalog.tables.iter().all(|t| t.name != "archived_notes"));
    assert_eq!(without, with);
}
