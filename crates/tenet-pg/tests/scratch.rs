//! Scratch databases on the test server: unique, usable, and always gone after drop.

use tenet_testkit::{exec, query, server, test_db};

fn database_exists(name: &str) -> bool {
    let mut client = server().connect().unwrap();
    client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .unwrap()
        .get::<_, i64>(0)
        == 1
}

#[test]
fn scratch_databases_are_created_unique_and_dropped() {
    let a = test_db();
    let b = test_db();
    assert_ne!(a.name(), b.name());
    assert!(a.name().starts_with("tenet_scratch_"));
    assert!(database_exists(a.name()) && database_exists(b.name()));

    exec(&a, "CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2)");
    let rows = query(&a, "SELECT count(*) FROM t");
    assert_eq!(rows[0].get::<_, i64>(0), 2);
    // b is a different database.
    assert!(b
        .connect()
        .unwrap()
        .batch_execute("SELECT * FROM t")
        .is_err());

    // Its URL reaches it.
    let config: postgres::Config = a.url().parse().unwrap();
    let mut c = config.connect(postgres::NoTls).unwrap();
    let name: String = c
        .query_one("SELECT current_database()", &[])
        .unwrap()
        .get(0);
    assert_eq!(name, a.name());

    // Dropped even while a connection is still open to it.
    let (na, nb) = (a.name().to_owned(), b.name().to_owned());
    drop(a);
    drop(b);
    assert!(!database_exists(&na), "{na} left behind");
    assert!(!database_exists(&nb), "{nb} left behind");
    drop(c);
}

#[test]
fn many_scratch_databases_in_parallel() {
    let handles: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| test_db().name().to_owned()))
        .collect();
    let mut names: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 4);
    for name in &names {
        assert!(!database_exists(name));
    }
}

#[test]
#[should_panic(expected = "42601")]
fn exec_panics_with_the_postgres_error() {
    let db = test_db();
    exec(&db, "SELEKT 1");
}

#[test]
fn debug_and_display_hide_secrets() {
    let db = test_db();
    let shown = format!("{db:?}");
    assert!(shown.contains(db.name()));
    let server_shown = server().to_string();
    assert!(!server_shown.is_empty());
}

/// `Server::from_url` checks the URL with a connection, and the first `connect` takes that
/// connection instead of opening another: one connection fewer for every command.
#[test]
fn the_connection_that_checked_the_url_serves_the_first_connect() {
    let db = test_db();
    let name = format!("probe_{}", std::process::id());
    let separator = if db.url().contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}application_name={name}", db.url());
    let sessions = || -> i64 {
        let mut c = db.connect().unwrap();
        c.query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            &[&name],
        )
        .unwrap()
        .get(0)
    };
    let checked = tenet_pg::Server::from_url(&url).unwrap();
    assert_eq!(sessions(), 1, "the URL check's connection");
    let first = checked.connect().unwrap();
    assert_eq!(sessions(), 1, "the first connect takes it");
    let second = checked.connect().unwrap();
    assert_eq!(sessions(), 2, "later ones are new");
    drop((first, second));
}
