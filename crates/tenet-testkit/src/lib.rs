//! Test harness shared by all crates: finds or starts PostgreSQL and gives each test its own
//! database.
//!
//! The server is, in order: `TENET_TEST_URL` when set (a failure to reach it is a panic, not a
//! fallback; the value `embedded` forces the embedded cluster); the local server on the Unix socket in `/var/run/postgresql` as user `postgres`;
//! `postgresql://postgres@127.0.0.1:5432/postgres`; else an embedded cluster started once per
//! test process and stopped at process exit.
//!
//! ```no_run
//! let db = tenet_testkit::test_db();
//! tenet_testkit::exec(&db, "CREATE TABLE t (id int)");
//! let mut client = tenet_testkit::client(&db);
//! let n: i64 = client.query_one("SELECT count(*) FROM t", &[]).unwrap().get(0);
//! assert_eq!(n, 0);
//! ```

use std::sync::OnceLock;

pub mod tls_cluster;

pub use tenet_pg::{PgError, ScratchDb, Server};

static SERVER: OnceLock<Server> = OnceLock::new();

/// Local servers tried when `TENET_TEST_URL` is not set.
const LOCAL_URLS: &[&str] = &[
    "postgresql://postgres@/postgres?host=%2Fvar%2Frun%2Fpostgresql&connect_timeout=2",
    "postgresql://postgres@127.0.0.1:5432/postgres?connect_timeout=2",
];

/// The server all tests of this process share (see the crate docs for how it is chosen).
pub fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        extern "C" fn stop_at_exit() {
            tenet_pg::run_cleanup();
        }
        // Statics are never dropped: stop an embedded cluster when the test process exits.
        // (tenet-pg installs the same hook itself; registering it here too keeps the harness
        // correct on its own.)
        // SAFETY: registering a plain extern "C" fn with no captured state.
        unsafe {
            libc::atexit(stop_at_exit);
        }
        if let Ok(url) = std::env::var("TENET_TEST_URL") {
            if url.trim() == "embedded" {
                return Server::embedded()
                    .unwrap_or_else(|e| panic!("TENET_TEST_URL=embedded: {e}"));
            }
            if !url.trim().is_empty() {
                return Server::from_url(&url)
                    .unwrap_or_else(|e| panic!("TENET_TEST_URL is set but unusable: {e}"));
            }
        }
        for url in LOCAL_URLS {
            if let Ok(server) = Server::from_url(url) {
                if can_create_databases(&server) {
                    return server;
                }
            }
        }
        Server::embedded().unwrap_or_else(|e| {
            panic!("tests need PostgreSQL: set TENET_TEST_URL, run a local server, or {e}")
        })
    })
}

fn can_create_databases(server: &Server) -> bool {
    let Ok(mut client) = server.connect() else {
        return false;
    };
    client
        .query_one(
            "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .map(|row| row.get::<_, bool>(0))
        .unwrap_or(false)
}

/// A fresh database for one test, dropped when the handle drops (tests run in parallel).
pub fn test_db() -> ScratchDb {
    server()
        .scratch()
        .unwrap_or_else(|e| panic!("cannot create a test database on {}: {e}", server()))
}

/// A scratch database in a sandbox (untrusted SQL runs as an unprivileged role), as Tenet's
/// commands use for schema files and replays; dropped with the handle.
pub fn sandbox() -> tenet_pg::Sandbox {
    server()
        .sandbox()
        .unwrap_or_else(|e| panic!("cannot create a sandbox on {}: {e}", server()))
}

/// A connection to the test database.
pub fn client(db: &ScratchDb) -> postgres::Client {
    db.connect()
        .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", db.name()))
}

/// Run SQL (several statements allowed) in the test database; panics with the PostgreSQL error.
pub fn exec(db: &ScratchDb, sql: &str) {
    let mut client = client(db);
    if let Err(e) = client.batch_execute(sql) {
        panic!("SQL failed: {}\n--- SQL ---\n{sql}", describe(&e));
    }
}

/// Rows of a query in the test database; panics with the PostgreSQL error.
pub fn query(db: &ScratchDb, sql: &str) -> Vec<postgres::Row> {
    let mut client = client(db);
    client
        .query(sql, &[])
        .unwrap_or_else(|e| panic!("query failed: {}\n--- SQL ---\n{sql}", describe(&e)))
}

/// The PostgreSQL error with SQLSTATE, detail, hint and position when there are any.
pub fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = format!(
                "{}: {} (SQLSTATE {})",
                db.severity(),
                db.message(),
                db.code().code()
            );
            if let Some(d) = db.detail() {
                s.push_str(&format!("\nDETAIL: {d}"));
            }
            if let Some(h) = db.hint() {
                s.push_str(&format!("\nHINT: {h}"));
            }
            if let Some(p) = db.position() {
                s.push_str(&format!("\nPOSITION: {p:?}"));
            }
            s
        }
        None => e.to_string(),
    }
}

/// A part of the shared corpus (`../shared/corpus` beside the repository, or `TENET_CORPUS`),
/// e.g. `corpus("migra-fixtures")`. When it is not there, says so plainly and returns `None`,
/// so a developer without the corpus can run the rest; under `CI=true` a missing corpus fails
/// the test instead, so CI never passes by skipping.
pub fn corpus(part: &str) -> Option<std::path::PathBuf> {
    let root = std::env::var_os("TENET_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
        });
    let dir = root.join(part);
    if dir.is_dir() {
        return Some(dir);
    }
    let message = format!(
        "the corpus is not at {} (set TENET_CORPUS to the shared corpus): this test needs it",
        dir.display()
    );
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "{message}"
    );
    eprintln!("skipped: {message}");
    None
}
