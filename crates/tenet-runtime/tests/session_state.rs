//! Whatever a tenant's transaction leaves on its session, the next tenant on the same pooled
//! connection sees none of it. A pool of one connection, so the second transaction gets the
//! same session (checked by its backend pid); one test per kind of session state.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};
use tenet_runtime::{TenantPool, TenantTx};
use tenet_testkit::{exec, test_db, ScratchDb};

const ROLE: &str = "tenet_runtime_app";
/// A role the application role may SET ROLE to (a name no other test uses).
const OTHER_ROLE: &str = "tenet_runtime_state_other";
const A: &str = "00000000-0000-0000-0000-00000000000a";
const B: &str = "00000000-0000-0000-0000-00000000000b";

fn setup() -> ScratchDb {
    let db = test_db();
    exec(
        &db,
        &format!(
            "do $$ begin create role {ROLE} login; exception when duplicate_object or unique_violation then null; end $$;
             do $$ begin create role {OTHER_ROLE} nologin; exception when duplicate_object or unique_violation then null; end $$;
             grant {OTHER_ROLE} to {ROLE};
             create table tasks (tenant_id uuid not null, id bigint generated always as identity,
                                 title text not null, primary key (tenant_id, id));
             alter table tasks enable row level security;
             alter table tasks force row level security;
             create policy tenant_isolation on tasks for all to {ROLE}
                 using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid))
                 with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
             grant select, insert on tasks to {ROLE};
             grant usage on schema public to {ROLE};
             insert into tasks (tenant_id, title) values ('{A}', 'secret of A'), ('{B}', 'task of B');"
        ),
    );
    db
}

/// A pool of one connection as `user` (the application role unless a test needs more).
async fn pool_of_one(db: &ScratchDb, user: &str) -> PgPool {
    let config = db.config();
    let mut options = PgConnectOptions::new()
        .username(user)
        .database(config.get_dbname().unwrap())
        .port(config.get_ports().first().copied().unwrap_or(5432));
    options = match &config.get_hosts()[0] {
        postgres::config::Host::Tcp(host) => options.host(host),
        postgres::config::Host::Unix(path) => options.socket(path),
    };
    if let Some(password) = config.get_password() {
        options = options.password(std::str::from_utf8(password).unwrap());
    }
    PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap()
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

async fn pid(tx: &mut TenantTx) -> i32 {
    sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(tx.conn())
        .await
        .unwrap()
}

async fn text(tx: &mut TenantTx, sql: &str) -> Option<String> {
    sqlx::query_scalar(sql).fetch_one(tx.conn()).await.unwrap()
}

async fn count(tx: &mut TenantTx, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(tx.conn()).await.unwrap()
}

async fn run(tx: &mut TenantTx, sql: &str) {
    sqlx::raw_sql(sql)
        .execute(tx.conn())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// `sql` fails (in a savepoint, so the transaction goes on).
async fn assert_fails_in_savepoint(tx: &mut TenantTx, sql: &str) {
    run(tx, "savepoint probe").await;
    let result = sqlx::raw_sql(sql).execute(tx.conn()).await;
    assert!(result.is_err(), "{sql} worked on the next tenant's session");
    run(tx, "rollback to savepoint probe").await;
}

/// How tenant A's transaction ends.
#[derive(Clone, Copy, Debug)]
enum End {
    Commit,
    Rollback,
    Drop,
}

/// Tenant A runs `leave` and ends its transaction as `end`; tenant B then gets the same
/// session and runs `check` on it.
async fn after_a<F>(pool: &PgPool, leave: &str, end: End, check: F)
where
    F: for<'a> AsyncFnOnce(&'a mut TenantTx),
{
    let tenants = TenantPool::new(pool.clone(), "app.tenant_id").unwrap();
    let mut a = tenants.begin(A).await.unwrap();
    let first = pid(&mut a).await;
    run(&mut a, leave).await;
    match end {
        End::Commit => a.commit().await.unwrap(),
        End::Rollback => a.rollback().await.unwrap(),
        End::Drop => drop(a),
    }
    let mut b = tenants.begin(B).await.unwrap();
    assert_eq!(
        pid(&mut b).await,
        first,
        "the pool of one gave another session"
    );
    assert_eq!(
        text(&mut b, "select current_setting('app.tenant_id')")
            .await
            .as_deref(),
        Some(B)
    );
    check(&mut b).await;
    // B's own rows only, whatever A did (a superuser bypasses RLS: nothing to see there).
    if text(&mut b, "select current_setting('is_superuser')")
        .await
        .as_deref()
        == Some("on")
    {
        b.commit().await.unwrap();
        return;
    }
    let titles: Vec<String> = sqlx::query_scalar("select title from tasks")
        .fetch_all(b.conn())
        .await
        .unwrap();
    assert_eq!(titles, vec!["task of B".to_string()]);
    b.commit().await.unwrap();
}

#[test]
fn a_session_level_tenant_setting_does_not_reach_the_next_tenant() {
    let db = setup();
    block_on(async {
        let pool = pool_of_one(&db, ROLE).await;
        let leave = format!("select set_config('app.tenant_id', '{A}', false)");
        // Inside B's transaction the setting is B's (checked by after_a); under it, the
        // session's own value must be no tenant at all, not A.
        after_a(&pool, &leave, End::Commit, async |b| {
            run(b, "savepoint probe; set local app.tenant_id to default").await;
            assert_eq!(
                text(
                    b,
                    "select coalesce(current_setting('app.tenant_id', true), '')"
                )
                .await
                .as_deref(),
                Some(""),
                "A's session-level tenant stayed on the connection"
            );
            assert_eq!(count(b, "select count(*) from tasks").await, 0);
            run(b, "rollback to savepoint probe").await;
        })
        .await;
    });
}

#[test]
fn session_settings_set_by_a_tenant_are_reset() {
    let db = setup();
    block_on(async {
        let pool = pool_of_one(&db, ROLE).await;
        for end in [End::Commit, End::Rollback, End::Drop] {
            after_a(
                &pool,
                "set work_mem = '7MB'; set app.note = 'from A'; select set_config('app.other', 'from A', false); set search_path = pg_catalog",
                end,
                async |b| {
                    assert_ne!(text(b, "show work_mem").await.as_deref(), Some("7MB"));
                    assert_eq!(
                        text(b, "select nullif(current_setting('app.note', true), '')").await,
                        None
                    );
                    assert_eq!(
                        text(b, "select nullif(current_setting('app.other', true), '')").await,
                        None
                    );
                    assert_eq!(
                        text(b, "show search_path").await.as_deref(),
                        Some("\"$user\", public")
                    );
                },
            )
            .await;
        }
    });
}

#[test]
fn set_role_by_a_tenant_is_reset() {
    let db = setup();
    block_on(async {
        let pool = pool_of_one(&db, ROLE).await;
        after_a(
            &pool,
            &format!("set role {OTHER_ROLE}"),
            End::Commit,
            async |b| {
                assert_eq!(
                    text(b, "select current_user::text").await.as_deref(),
                    Some(ROLE)
                );
            },
        )
        .await;
    });
}

#[test]
fn set_session_authorization_by_a_tenant_is_reset() {
    // Only a superuser may change its session authorization.
    let db = setup();
    block_on(async {
        let superuser = db.config().get_user().unwrap_or("postgres").to_string();
        let pool = pool_of_one(&db, &superuser).await;
        after_a(
            &pool,
            &format!("set session authorization {ROLE}"),
            End::Commit,
            async |b| {
                assert_eq!(
                    text(b, "select session_user::text").await.as_deref(),
                    Some(superuser.as_str())
                );
            },
        )
        .await;
    });
}

#[test]
fn temp_tables_of_a_tenant_are_dropped() {
    let db = setup();
    exec(
        &db,
        &format!("grant temporary on database \"{}\" to {ROLE}", db.name()),
    );
    block_on(async {
        let pool = pool_of_one(&db, ROLE).await;
        after_a(
            &pool,
            "create temp table a_copy as select * from tasks",
            End::Commit,
            async |b| {
                assert_eq!(
                    text(b, "select to_regclass('pg_temp.a_copy')::text").await,
                    None
                );
            },
        )
        .await;
    });
}

#[test]
fn session_advisory_locks_of_a_tenant_are_released() {
    let db = setup();
    block_on(async {
        let pool = pool_of_one(&db, ROLE).await;
        for end in [End::Commit, End::Rollback, End::Drop] {
            after_a(&pool, "select pg_advisory_lock(42)", end, async |b| {
                assert_eq!(
                    count(b, "select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()").await,
                    0,
                    "{end:?}"
                );
            })
            .await;
        }
    });
}

#[test]
fn listen_by_a_tenant_is_undone() {
    let db = setup();
    block_on(async {
        let pool = pool_of_one(&db, ROLE).await;
        after_a(&pool, "listen tenant_a_events", End::Commit, async |b| {
            assert_eq!(
                count(b, "select count(*) from pg_listening_channels()").await,
                0
            );
        })
        .await;
    });
}

#[test]
fn a_cursor_with_hold_of_a_tenant_is_closed() {
    // A WITH HOLD cursor keeps A's rows past A's commit: B must not fetch them.
    let db = setup();
    block_on(async {
        let pool = pool_of_one(&db, ROLE).await;
        after_a(
            &pool,
            "declare a_rows cursor with hold for select title from tasks",
            End::Commit,
            async |b| {
                assert_eq!(
                    count(b, "select count(*) from pg_cursors where name = 'a_rows'").await,
                    0
                );
                assert_fails_in_savepoint(b, "fetch all from a_rows").await;
            },
        )
        .await;
    });
}

#[test]
fn statements_a_tenant_prepared_with_sql_are_deallocated_and_sqlx_keeps_its_own() {
    let db = setup();
    block_on(async {
        let pool = pool_of_one(&db, ROLE).await;
        for end in [End::Commit, End::Rollback, End::Drop] {
            after_a(
                &pool,
                // Two statements, one with a name that needs quoting.
                &format!(
                    "prepare a_titles as select title from tasks where tenant_id = '{A}'; \
                     prepare \"A \"\"odd\"\" one\" as select 1"
                ),
                end,
                async |b| {
                    assert_eq!(
                        count(
                            b,
                            "select count(*) from pg_prepared_statements where from_sql"
                        )
                        .await,
                        0,
                        "{end:?}"
                    );
                    // sqlx's cached statements (prepared by the protocol) still work.
                    assert!(
                        count(
                            b,
                            "select count(*) from pg_prepared_statements where not from_sql"
                        )
                        .await
                            > 0
                    );
                },
            )
            .await;
        }
    });
}

#[test]
fn sequence_state_of_a_tenant_is_discarded() {
    let db = setup();
    block_on(async {
        let pool = pool_of_one(&db, ROLE).await;
        after_a(
            &pool,
            &format!("insert into tasks (tenant_id, title) values ('{A}', 'new')"),
            End::Commit,
            async |b| {
                assert_fails_in_savepoint(b, "select lastval()").await;
            },
        )
        .await;
    });
}

#[test]
fn a_tenant_literal_means_the_same_whatever_a_tenant_set_for_strings() {
    // standard_conforming_strings off would make a backslash escape a quote in '...'.
    let db = setup();
    block_on(async {
        let pool = pool_of_one(&db, ROLE).await;
        let tenants = TenantPool::new(pool.clone(), "app.tenant_id").unwrap();
        let mut a = tenants.begin(A).await.unwrap();
        run(
            &mut a,
            "set standard_conforming_strings = off; set client_encoding = 'SJIS'",
        )
        .await;
        a.commit().await.unwrap();
        for hostile in [
            "x\\'; select set_config('app.tenant_id', 'y', false); --",
            "é\u{9f}\\'; --",
            "tab\tnewline\n'quote'",
        ] {
            let mut b = tenants.begin(hostile).await.unwrap();
            assert_eq!(
                text(&mut b, "select current_setting('app.tenant_id')")
                    .await
                    .as_deref(),
                Some(hostile)
            );
            b.commit().await.unwrap();
        }
        assert!(matches!(
            tenants.begin("a\0b").await,
            Err(tenet_runtime::Error::NulInTenant)
        ));
    });
}

#[test]
fn a_transaction_begun_inside_a_tenant_transaction_is_a_savepoint() {
    let db = setup();
    block_on(async {
        let pool = pool_of_one(&db, ROLE).await;
        let tenants = TenantPool::new(pool.clone(), "app.tenant_id").unwrap();
        let mut tx = tenants.begin(A).await.unwrap();
        {
            let mut inner = tx.conn().begin().await.unwrap();
            sqlx::query("insert into tasks (tenant_id, title) values ($1::uuid, 'inner')")
                .bind(A)
                .execute(&mut *inner)
                .await
                .unwrap();
            inner.commit().await.unwrap();
        }
        // Still inside the tenant's transaction: the setting is there.
        assert_eq!(
            text(&mut tx, "select current_setting('app.tenant_id')")
                .await
                .as_deref(),
            Some(A)
        );
        tx.rollback().await.unwrap();
    });
    let inner: i64 =
        tenet_testkit::query(&db, "select count(*) from tasks where title = 'inner'")[0].get(0);
    assert_eq!(inner, 0, "the inner commit ended the tenant's transaction");
}
