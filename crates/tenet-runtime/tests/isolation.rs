//! Tenant-scoped transactions on a real server, as a non-superuser application role under RLS.

use std::collections::HashMap;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use tenet_runtime::{Error, TenantPool};
use tenet_testkit::{exec, test_db, ScratchDb};

const ROLE: &str = "tenet_runtime_app";
const TENANTS: usize = 20;

/// A database with one tenant table under a Tenet-style policy, seeded with 5 rows a tenant.
fn setup() -> ScratchDb {
    let db = test_db();
    exec(
        &db,
        &format!(
            "do $$ begin create role {ROLE} login; exception when duplicate_object or unique_violation then null; end $$;
             create table tasks (tenant_id uuid not null, id bigint generated always as identity,
                                 title text not null, primary key (tenant_id, id));
             alter table tasks enable row level security;
             alter table tasks force row level security;
             create policy tenant_isolation on tasks for all to {ROLE}
                 using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid))
                 with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
             grant select, insert on tasks to {ROLE};
             insert into tasks (tenant_id, title)
                 select t.id, 'seed ' || n
                 from (select gen_random_uuid() as id from generate_series(1, {TENANTS})) t,
                      generate_series(1, 5) n;"
        ),
    );
    db
}

/// A small pool connecting as the application role (not a superuser: RLS applies).
async fn app_pool(db: &ScratchDb, size: u32) -> PgPool {
    let config = db.config();
    let mut options = PgConnectOptions::new()
        .username(ROLE)
        .database(config.get_dbname().unwrap())
        .port(config.get_ports().first().copied().unwrap_or(5432));
    options = match &config.get_hosts()[0] {
        postgres::config::Host::Tcp(host) => options.host(host),
        postgres::config::Host::Unix(path) => options.socket(path),
    };
    PgPoolOptions::new()
        .max_connections(size)
        .connect_with(options)
        .await
        .unwrap()
}

fn tenant_ids(db: &ScratchDb) -> Vec<String> {
    tenet_testkit::query(db, "select distinct tenant_id::text from tasks order by 1")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Run async test code on a runtime of its own: the harness's client is synchronous and must
/// stay outside any runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn a_thousand_concurrent_transactions_each_see_only_their_tenant() {
    let db = setup();
    let tenants = tenant_ids(&db);
    assert_eq!(tenants.len(), TENANTS);
    let written = block_on(concurrent_transactions(&db, tenants));

    // Every committed write landed under its own tenant, and nothing else was written.
    for row in tenet_testkit::query(
        &db,
        "select tenant_id::text, count(*) from tasks where title = 'written' group by 1",
    ) {
        let (tenant, count): (String, i64) = (row.get(0), row.get(1));
        assert_eq!(
            written.get(&tenant).copied().unwrap_or(0) as i64,
            count,
            "{tenant}"
        );
    }
    assert_eq!(written.values().sum::<usize>(), 1000);
    let stolen = tenet_testkit::query(&db, "select count(*) from tasks where title = 'stolen'");
    assert_eq!(stolen[0].get::<_, i64>(0), 0);
}

/// 1,000 transactions with random tenants over a pool of 5; returns the writes per tenant.
async fn concurrent_transactions(db: &ScratchDb, tenants: Vec<String>) -> HashMap<String, usize> {
    let pool = app_pool(db, 5).await;
    let scoped = TenantPool::new(pool.clone(), "app.tenant_id").unwrap();

    let mut handles = Vec::new();
    for i in 0..1000u64 {
        // A fixed pseudo-random tenant per transaction.
        let tenant = tenants[(i.wrapping_mul(2654435761) % TENANTS as u64) as usize].clone();
        let scoped = scoped.clone();
        handles.push(tokio::spawn(async move {
            let mut tx = scoped.begin(&tenant).await.unwrap();
            let seen: Vec<(String,)> = sqlx::query_as("select tenant_id::text from tasks")
                .fetch_all(tx.conn())
                .await
                .unwrap();
            assert!(seen.len() >= 5, "a tenant sees its own rows");
            assert!(
                seen.iter().all(|(t,)| *t == tenant),
                "a tenant saw another's row"
            );
            sqlx::query("insert into tasks (tenant_id, title) values ($1::uuid, 'written')")
                .bind(&tenant)
                .execute(tx.conn())
                .await
                .unwrap();
            // Writing for another tenant is refused by the policy (in a savepoint, so the
            // transaction goes on).
            let other = if tenant.starts_with('0') {
                "11111111-1111-1111-1111-111111111111"
            } else {
                "00000000-0000-0000-0000-000000000000"
            };
            sqlx::query("savepoint probe")
                .execute(tx.conn())
                .await
                .unwrap();
            let refused =
                sqlx::query("insert into tasks (tenant_id, title) values ($1::uuid, 'stolen')")
                    .bind(other)
                    .execute(tx.conn())
                    .await;
            assert!(refused.is_err(), "a write for another tenant went through");
            sqlx::query("rollback to savepoint probe")
                .execute(tx.conn())
                .await
                .unwrap();
            tx.commit().await.unwrap();
            tenant
        }));
    }
    let mut written: HashMap<String, usize> = HashMap::new();
    for handle in handles {
        *written.entry(handle.await.unwrap()).or_default() += 1;
    }

    // Every connection holds no tenant outside a transaction: five transactions at once take
    // all five, and reverting the local setting shows the session's own value.
    let mut open = Vec::new();
    for _ in 0..5 {
        open.push(
            scoped
                .begin("11111111-1111-1111-1111-111111111111")
                .await
                .unwrap(),
        );
    }
    for tx in &mut open {
        sqlx::query("set local app.tenant_id to default")
            .execute(tx.conn())
            .await
            .unwrap();
        let (setting,): (String,) =
            sqlx::query_as("select coalesce(current_setting('app.tenant_id', true), '')")
                .fetch_one(tx.conn())
                .await
                .unwrap();
        assert_eq!(setting, "", "a pooled connection kept a tenant");
        let (visible,): (i64,) = sqlx::query_as("select count(*) from tasks")
            .fetch_one(tx.conn())
            .await
            .unwrap();
        assert_eq!(visible, 0, "without a tenant, nothing is visible");
    }
    written
}

#[test]
fn the_tenant_is_a_bound_value_and_ends_with_the_transaction() {
    let db = setup();
    block_on(bound_value(&db));
}

async fn bound_value(db: &ScratchDb) {
    let pool = app_pool(db, 1).await;
    let scoped = TenantPool::new(pool.clone(), "app.tenant_id").unwrap();
    let hostile = "x'); select set_config('app.tenant_id', 'y', false); --";
    let mut tx = scoped.begin(hostile).await.unwrap();
    let (value,): (String,) = sqlx::query_as("select current_setting('app.tenant_id')")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    assert_eq!(value, hostile);
    drop(tx); // rolled back
    let mut conn = pool.acquire().await.unwrap();
    let (after,): (String,) =
        sqlx::query_as("select coalesce(current_setting('app.tenant_id', true), '')")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!(after, "");
}

#[test]
fn bad_settings_and_empty_tenants_are_refused() {
    let db = setup();
    block_on(refusals(&db));
}

async fn refusals(db: &ScratchDb) {
    let pool = app_pool(db, 1).await;
    for bad in [
        "tenant_id",
        "app.",
        ".x",
        "app.tenant id",
        "app.x;drop",
        "app.1x",
        "9.x",
    ] {
        assert!(
            matches!(TenantPool::new(pool.clone(), bad), Err(Error::Setting(_))),
            "{bad}"
        );
    }
    let scoped = TenantPool::new(pool, "app.tenant_id").unwrap();
    assert!(matches!(scoped.begin("").await, Err(Error::EmptyTenant)));
}

/// Many more transactions than connections, ending every way there is (commit, rollback,
/// dropped, failed): each waits its turn and gets one, none waits forever, and the pool never
/// opens more connections than it may.
#[test]
fn transactions_beyond_the_pool_size_all_get_a_turn_however_others_end() {
    let db = setup();
    let tenants = tenant_ids(&db);
    block_on(async {
        let pool = app_pool(&db, 2).await;
        let scoped = TenantPool::new(pool.clone(), "app.tenant_id").unwrap();
        let mut handles = Vec::new();
        for i in 0..400usize {
            let tenant = tenants[i % TENANTS].clone();
            let scoped = scoped.clone();
            handles.push(tokio::spawn(async move {
                let mut tx = scoped.begin(&tenant).await.unwrap();
                let sessions: i64 = sqlx::query_scalar(
                    // This database's only: the other tests connect as the same role.
                    "select count(*) from pg_stat_activity \
                     where usename = current_user and datname = current_database()",
                )
                .fetch_one(tx.conn())
                .await
                .unwrap();
                match i % 4 {
                    0 => tx.commit().await.unwrap(),
                    1 => tx.rollback().await.unwrap(),
                    2 => drop(tx),
                    _ => {
                        // A failed statement: the transaction is aborted, then dropped.
                        assert!(sqlx::query("select 1/0").execute(tx.conn()).await.is_err());
                        drop(tx);
                    }
                }
                sessions
            }));
        }
        let all = async {
            let mut most = 0;
            for h in handles {
                most = most.max(h.await.unwrap());
            }
            most
        };
        let most = tokio::time::timeout(std::time::Duration::from_secs(120), all)
            .await
            .expect("a transaction waited for a connection forever");
        assert!(most <= 2, "{most} sessions for a pool of 2");
    });
}
