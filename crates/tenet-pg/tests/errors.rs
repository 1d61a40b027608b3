//! Errors reaching a server are specific, one line, and never show the password.

use std::time::{Duration, Instant};

use tenet_pg::{PgError, Server};

const SECRET: &str = "Sup3r-S3cret-Pw";

fn assert_clean(err: &PgError) {
    let msg = err.to_string();
    assert!(!msg.contains(SECRET), "password in message: {msg}");
    assert!(
        !format!("{err:?}").contains(SECRET),
        "password in Debug: {err:?}"
    );
    assert!(!msg.contains('\n'), "message is not one line: {msg}");
}

#[test]
fn closed_port_is_unreachable() {
    let err = Server::from_url(&format!("postgres://alice:{SECRET}@127.0.0.1:1/app")).unwrap_err();
    assert!(matches!(err, PgError::Unreachable { .. }), "{err:?}");
    assert_eq!(err.exit_code(), 3);
    assert_clean(&err);
    assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
}

#[test]
fn missing_socket_is_unreachable() {
    let err = Server::from_url(&format!(
        "postgresql://alice:{SECRET}@/app?host=%2Fnonexistent%2Fdir"
    ))
    .unwrap_err();
    assert!(matches!(err, PgError::Unreachable { .. }), "{err:?}");
    assert_clean(&err);
}

#[test]
fn unknown_host_is_unreachable() {
    let err = Server::from_url(&format!(
        "host=no-such-host.invalid user=alice password={SECRET}"
    ))
    .unwrap_err();
    assert!(matches!(err, PgError::Unreachable { .. }), "{err:?}");
    assert_clean(&err);
}

#[test]
fn silent_address_times_out_as_unreachable() {
    // A non-routable address: either the connect times out (1s) or the network says unreachable.
    let started = Instant::now();
    let err = Server::from_url(&format!(
        "postgres://alice:{SECRET}@10.255.255.1:5432/app?connect_timeout=1"
    ))
    .unwrap_err();
    assert!(matches!(err, PgError::Unreachable { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_clean(&err);
}

#[test]
fn missing_database_is_named() {
    let server = tenet_testkit::server();
    let mut url = server.url_for("tenet_no_such_database");
    url.push(if url.contains('?') { '&' } else { '?' });
    url.push_str(&format!("password={SECRET}"));
    let err = Server::from_url(&url).unwrap_err();
    match &err {
        PgError::NoDatabase { database, .. } => assert_eq!(database, "tenet_no_such_database"),
        other => panic!("expected NoDatabase, got {other:?}"),
    }
    assert_clean(&err);
}

#[test]
fn other_server_errors_are_one_line_with_sqlstate() {
    let db = tenet_testkit::test_db();
    let mut client = db.connect().unwrap();
    let err = client
        .batch_execute("SELECT * FROM no_such_table")
        .unwrap_err();
    let err = PgError::from_postgres(err, "somewhere");
    match &err {
        PgError::Db(msg) => {
            assert!(msg.contains("no_such_table"), "{msg}");
            assert!(msg.contains("42P01"), "{msg}");
        }
        other => panic!("expected Db, got {other:?}"),
    }
    // 3D000 outside connecting names the database from the server's message.
    let err = client
        .batch_execute("DROP DATABASE tenet_no_such_db_x")
        .unwrap_err();
    match PgError::from_postgres(err, "somewhere") {
        PgError::NoDatabase { database, target } => {
            assert_eq!(database, "tenet_no_such_db_x");
            assert_eq!(target, "somewhere");
        }
        other => panic!("expected NoDatabase, got {other:?}"),
    }
}
