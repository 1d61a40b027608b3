//! The Todo API under load on loopback, on a real server: many users at once, and no user ever
//! sees or changes another user's task, with isolation done by the RLS Tenet generates (through
//! tenet-runtime) or by an explicit owner filter.

use todo_app::load::{self, Report};
use todo_app::{prepare_database, Db, Isolation};
use uuid::Uuid;

const USERS: usize = 40;
const REQUESTS: usize = 2000;
const CONCURRENCY: usize = 16;

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Seeded tasks with their last change: owners never touch them during the run, so any change
/// is another user's doing.
fn seeded(db: &tenet_testkit::ScratchDb) -> Vec<(String, String, String)> {
    tenet_testkit::query(
        db,
        "select id::text, user_id::text, updated_at::text || status from tasks where title like 'seeded%' order by 1",
    )
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

fn no_cross_user_access(isolation: Isolation) -> Report {
    let db = tenet_testkit::test_db();
    let mut client = db.connect().unwrap();
    prepare_database(&mut client, isolation).unwrap();
    let users = load::seed(&mut client, USERS, 5).unwrap();
    let before = seeded(&db);
    let victims: Vec<(Uuid, Uuid)> = before
        .iter()
        .map(|(t, u, _)| (t.parse().unwrap(), u.parse().unwrap()))
        .collect();

    let report = block_on(async {
        let pool = load::app_pool(db.config(), 8).await.unwrap();
        let (addr, server) = load::serve(Db::new(pool, isolation)).await;
        let report = load::run(addr, &users, &victims, REQUESTS, CONCURRENCY).await;
        server.abort();
        report
    });
    assert!(
        report.violations.is_empty(),
        "{:?}",
        &report.violations[..report.violations.len().min(5)]
    );
    assert!(
        report.errors.is_empty(),
        "{:?}",
        &report.errors[..report.errors.len().min(5)]
    );
    assert_eq!(report.requests, REQUESTS);
    assert!(report.refused > 0, "the run tried no cross-user change");
    assert_eq!(seeded(&db), before, "a seeded task was changed by someone");
    report
}

#[test]
fn rls_through_tenet_runtime_keeps_users_apart() {
    let report = no_cross_user_access(Isolation::Rls);
    eprintln!(
        "rls: {} requests, {:.0}/s, {} cross-user attempts refused",
        report.requests,
        report.requests_per_second(),
        report.refused
    );
}

#[test]
fn an_owner_filter_keeps_users_apart_too() {
    no_cross_user_access(Isolation::OwnerFilter);
}

#[test]
fn a_request_without_a_user_is_refused() {
    let db = tenet_testkit::test_db();
    prepare_database(&mut db.connect().unwrap(), Isolation::Rls).unwrap();
    let status = block_on(async {
        let pool = load::app_pool(db.config(), 1).await.unwrap();
        let (addr, server) = load::serve(Db::new(pool, Isolation::Rls)).await;
        let status = reqwest::get(format!("http://{addr}/tasks"))
            .await
            .unwrap()
            .status();
        server.abort();
        status
    });
    assert_eq!(status.as_u16(), 401);
}

/// The check is not vacuous: with neither RLS nor an owner filter, the same run catches users
/// seeing and changing each other's tasks.
#[test]
fn without_isolation_the_load_test_finds_the_leaks() {
    let db = tenet_testkit::test_db();
    let mut client = db.connect().unwrap();
    prepare_database(&mut client, Isolation::OwnerFilter).unwrap(); // no RLS in the database
    let users = load::seed(&mut client, 10, 3).unwrap();
    let victims: Vec<(Uuid, Uuid)> = seeded(&db)
        .iter()
        .map(|(t, u, _)| (t.parse().unwrap(), u.parse().unwrap()))
        .collect();
    let report = block_on(async {
        let pool = load::app_pool(db.config(), 4).await.unwrap();
        // Queries without an owner filter, and no policy behind them.
        let (addr, server) = load::serve(Db::new(pool, Isolation::Rls)).await;
        let report = load::run(addr, &users, &victims, 200, 4).await;
        server.abort();
        report
    });
    assert!(!report.violations.is_empty());
}

/// The app's pool takes TLS URLs: `sslmode=require`, and `verify-full` against the server's
/// certificate (self-signed for `localhost` on the test server) given as `sslrootcert`.
#[test]
fn the_app_pool_connects_over_tls() {
    let db = tenet_testkit::test_db();
    prepare_database(&mut db.connect().unwrap(), Isolation::Rls).unwrap();
    let rows = tenet_testkit::query(
        &db,
        "select current_setting('ssl'), current_setting('ssl_cert_file')",
    );
    let (ssl, cert): (String, String) = (rows[0].get(0), rows[0].get(1));
    assert_eq!(ssl, "on", "the test server must accept TLS connections");
    let port = db.config().get_ports().first().copied().unwrap_or(5432);
    let name = db.name().to_string();
    let urls = [
        format!("postgresql://localhost:{port}/{name}?sslmode=require"),
        format!("postgresql://localhost:{port}/{name}?sslmode=verify-full&sslrootcert={cert}"),
    ];
    block_on(async {
        for url in &urls {
            let pool = load::app_pool_at(url, 1)
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            let encrypted: bool =
                sqlx::query_scalar("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            assert!(encrypted, "{url}");
        }
        // A certificate for another name is refused under verify-full.
        let wrong =
            format!("postgresql://127.0.0.1:{port}/{name}?sslmode=verify-full&sslrootcert={cert}");
        assert!(load::app_pool_at(&wrong, 1).await.is_err());
    });
}
