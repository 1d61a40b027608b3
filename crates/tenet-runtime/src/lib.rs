//! Tenant-scoped transactions for applications using sqlx.
//!
//! Row-level security policies read the tenant from a setting (for example `app.tenant_id`,
//! the `[tenancy] setting` of `tenet.toml`). This crate is the application's side of that
//! contract: the only way to reach the database through a [`TenantPool`] is a transaction that
//! has set the tenant first, local to the transaction, and a connection goes back to the pool
//! with nothing another tenant could see:
//!
//! - the tenant setting is `SET LOCAL setting = value`: local to the transaction, so
//!   it ends with it whatever happens (commit, rollback, drop, error), and it works unchanged
//!   behind PgBouncer in transaction mode;
//! - whatever the application ran inside the transaction, the session is reset when it ends:
//!   settings (`SET`, `set_config(.., false)`), `SET ROLE` and `SET SESSION AUTHORIZATION`,
//!   cursors WITH HOLD, temporary tables, LISTEN, session advisory locks, sequence state and
//!   statements made with SQL `PREPARE`. sqlx's own prepared statements are kept (`DISCARD
//!   ALL` would break its statement cache);
//! - round trips: `BEGIN` and the setting go in one message, `COMMIT` and the reset in
//!   another, and a connection that ended cleanly is kept for the next transaction without
//!   sqlx's checks on release and acquire, so a transaction of one query costs three round
//!   trips, as many as the same query through sqlx's pool without a transaction. The reset
//!   is a handful of utility statements and one small query; the rare session that made
//!   statements with SQL `PREPARE` costs one more round trip to deallocate them.
//!
//! The tenant travels as a literal inside that first message: an `E'...'` string in which
//! only printable ASCII appears as itself (quote doubled, backslash escaped) and everything
//! else as a `\u` escape, so its meaning depends on neither `standard_conforming_strings` nor
//! the client encoding. A tenant containing NUL is refused.
//!
//! ```no_run
//! # async fn example(pool: sqlx::PgPool) -> Result<(), tenet_runtime::Error> {
//! let tenants = tenet_runtime::TenantPool::new(pool, "app.tenant_id")?;
//! let mut tx = tenants.begin("8d7f8e1c-3f0a-4c55-9b39-3f8a5c6f2b10").await?;
//! let titles: Vec<(String,)> = sqlx::query_as("select title from tasks")
//!     .fetch_all(tx.conn())
//!     .await?;
//! tx.commit().await?;
//! # Ok(()) }
//! ```

use std::fmt::Write;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool};
use sqlx::{Database, Postgres, TransactionManager};

type Manager = <Postgres as Database>::TransactionManager;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The setting name cannot hold a tenant: custom settings are `prefix.name`.
    #[error("invalid tenant setting name {0:?}: use a custom setting such as app.tenant_id")]
    Setting(String),
    /// An empty tenant would read as "no tenant"; policies must never see one by accident.
    #[error("empty tenant id")]
    EmptyTenant,
    /// PostgreSQL text cannot hold NUL.
    #[error("tenant id contains a NUL character")]
    NulInTenant,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What a connection is reset with when a transaction ends, in the same message as its
/// COMMIT or ROLLBACK. Order matters: the session's authorization and settings come back
/// first (a `statement_timeout` or `search_path` the application set must not affect the
/// rest). `DISCARD ALL` would also deallocate sqlx's prepared statements; the last statement
/// instead names those made with SQL `PREPARE` (`from_sql`, almost never any), which
/// [`deallocate`] then removes, so the common case needs no procedural code (a `DO` block is
/// compiled anew every time it runs, which cost as much as the rest of the transaction).
pub const RESET: &str = "SET SESSION AUTHORIZATION DEFAULT; RESET ALL; CLOSE ALL; UNLISTEN *; \
DISCARD TEMP; DISCARD SEQUENCES; \
SELECT name::text FROM pg_catalog.pg_advisory_unlock_all(), pg_catalog.pg_prepared_statements \
WHERE from_sql";

/// Run [`RESET`] on `conn` after `end` (`COMMIT`, `ROLLBACK` or nothing) in one message, and
/// deallocate the SQL-prepared statements it names.
async fn reset(conn: &mut PgConnection, end: &str) -> Result<(), sqlx::Error> {
    // A &str with no arguments goes as a simple query: all statements in one message. The
    // only rows are those of the reset's last statement.
    let sql = format!("{end}{RESET}");
    let rows = sqlx::Executor::fetch_all(&mut *conn, sql.as_str()).await?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut deallocate = String::new();
    for row in rows {
        let name: String = sqlx::Row::try_get(&row, 0)?;
        write!(deallocate, "DEALLOCATE \"{}\";", name.replace('"', "\"\"")).unwrap();
    }
    sqlx::Executor::execute(&mut *conn, deallocate.as_str())
        .await
        .map(drop)
}

/// A pool whose connections are only handed out inside tenant-scoped transactions.
///
/// A connection whose transaction ended cleanly (committed or rolled back, and reset) is kept
/// here for the next transaction instead of going back to sqlx's pool: sqlx would check it
/// with a round trip on release and another on acquire, which a connection that has just
/// answered does not need. So a `TenantPool` keeps the connections it has used until it is
/// dropped (then they are closed): give it a pool of its own. A kept connection found dead
/// (the server restarted) is closed and the transaction begun on another.
///
/// At most the pool's `max_connections` transactions run at once; the others wait their turn
/// in order (a semaphore), so a waiting `begin` never races sqlx's pool for a connection
/// this pool is keeping.
#[derive(Clone)]
pub struct TenantPool {
    shared: Arc<Shared>,
}

struct Shared {
    pool: PgPool,
    setting: String,
    /// Reset connections, not in a transaction, which sqlx counts as in one (depth 1).
    kept: Mutex<Vec<PoolConnection<Postgres>>>,
    /// One permit per connection the pool may hand out: a transaction holds one from begin
    /// to end. With a permit, either a kept connection is there or sqlx's pool has room.
    slots: Arc<Semaphore>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // sqlx counts these as in a transaction: they must not go back to its pool. Closing
        // needs a runtime; without one the sockets are just dropped.
        let runtime = tokio::runtime::Handle::try_current().is_ok();
        for mut conn in self.kept.get_mut().map(std::mem::take).unwrap_or_default() {
            if runtime {
                conn.close_on_drop();
            } else {
                drop(conn.leak());
            }
        }
    }
}

impl TenantPool {
    /// Wrap a pool. `setting` is the custom setting the policies read (`app.tenant_id`).
    pub fn new(pool: PgPool, setting: impl Into<String>) -> Result<TenantPool, Error> {
        let setting = setting.into();
        // Two identifiers, so the name needs no quoting in `SET LOCAL`.
        let valid = setting.split_once('.').is_some_and(|(prefix, name)| {
            let part = |s: &str| {
                s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            };
            part(prefix) && part(name)
        });
        if !valid {
            return Err(Error::Setting(setting));
        }
        let slots = pool.options().get_max_connections().max(1) as usize;
        Ok(TenantPool {
            shared: Arc::new(Shared {
                pool,
                setting,
                kept: Mutex::new(Vec::new()),
                slots: Arc::new(Semaphore::new(slots)),
            }),
        })
    }

    /// The setting this pool scopes transactions with.
    pub fn setting(&self) -> &str {
        &self.shared.setting
    }

    /// Begin a transaction in which `tenant` is the current tenant.
    pub async fn begin(&self, tenant: impl AsRef<str>) -> Result<TenantTx, Error> {
        let tenant = tenant.as_ref();
        if tenant.is_empty() {
            return Err(Error::EmptyTenant);
        }
        // SET LOCAL is set_config(.., true) without a query to plan; the name was checked
        // to be two identifiers.
        let begin = format!(
            "BEGIN; SET LOCAL {} = {}",
            self.shared.setting,
            literal(tenant)?
        );
        let slot = self
            .shared
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        loop {
            let kept = self.shared.kept.lock().expect("kept connections").pop();
            let (mut conn, begun) = match kept {
                Some(mut conn) => {
                    // Counted in a transaction already; one message, no sqlx bookkeeping.
                    let begun = sqlx::Executor::execute(&mut *conn, begin.as_str())
                        .await
                        .map(drop);
                    (conn, begun)
                }
                None => {
                    let mut conn = self.shared.pool.acquire().await?;
                    let begun = Manager::begin(&mut conn, Some(begin.clone().into())).await;
                    (conn, begun)
                }
            };
            match begun {
                Ok(()) => {
                    return Ok(TenantTx {
                        conn: Some(conn),
                        shared: self.shared.clone(),
                        tenant: tenant.to_string(),
                        slot: Some(slot),
                    })
                }
                Err(e) => {
                    // Whatever state the failure left, this session is not reused.
                    let was_kept = Manager::get_transaction_depth(&conn) == 1;
                    conn.close_on_drop();
                    drop(conn);
                    // A kept connection may have died while kept: try another.
                    if !was_kept || matches!(e, sqlx::Error::Database(_)) {
                        return Err(e.into());
                    }
                }
            }
        }
    }
}

/// `value` as an `E'...'` literal made of printable ASCII only.
fn literal(value: &str) -> Result<String, Error> {
    let mut out = String::with_capacity(value.len() + 3);
    out.push_str("E'");
    for c in value.chars() {
        match c {
            '\0' => return Err(Error::NulInTenant),
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("''"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xFFFF => write!(out, "\\u{:04X}", c as u32).unwrap(),
            c => write!(out, "\\U{:08X}", c as u32).unwrap(),
        }
    }
    out.push('\'');
    Ok(out)
}

/// A transaction scoped to one tenant. Dropped without [`commit`](TenantTx::commit), it rolls
/// back; either way the tenant setting ends with it and the session is reset.
pub struct TenantTx {
    /// None once finished.
    conn: Option<PoolConnection<Postgres>>,
    shared: Arc<Shared>,
    tenant: String,
    /// The pool's permit, given back when the connection is kept or released.
    slot: Option<OwnedSemaphorePermit>,
}

impl TenantTx {
    /// The tenant this transaction runs as.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The connection, for running queries (`.fetch_all(tx.conn())`). Transactions begun on
    /// it nest as savepoints.
    pub fn conn(&mut self) -> &mut PgConnection {
        self.conn
            .as_mut()
            .expect("a TenantTx has its connection until it ends")
    }

    pub async fn commit(mut self) -> Result<(), Error> {
        self.finish("COMMIT").await
    }

    pub async fn rollback(mut self) -> Result<(), Error> {
        self.finish("ROLLBACK").await
    }

    /// End the transaction and reset the session in one round trip.
    async fn finish(&mut self, end: &str) -> Result<(), Error> {
        let mut conn = self.conn.take().expect("a TenantTx ends once");
        let done = reset(&mut conn, &format!("{end}; ")).await;
        match done {
            // Still counted in a transaction by sqlx (depth 1): no savepoint left open.
            Ok(()) if Manager::get_transaction_depth(&conn) == 1 => {
                self.shared
                    .kept
                    .lock()
                    .expect("kept connections")
                    .push(conn);
                Ok(())
            }
            Ok(()) => {
                conn.close_on_drop();
                Ok(())
            }
            Err(e) => {
                // The COMMIT failed (the transaction is rolled back) or the reset did: the
                // session may hold state, so it is closed rather than reused.
                conn.close_on_drop();
                Err(e.into())
            }
        }
        // The slot goes back when self drops, after the connection is kept or closed.
    }
}

impl Drop for TenantTx {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        // Roll back now (queued, sent before anything else on this connection), then reset
        // before the connection goes back to sqlx's pool; without a runtime, close it. The
        // slot is held until the connection is back.
        Manager::start_rollback(&mut conn);
        let slot = self.slot.take();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if reset(&mut conn, "").await.is_err() {
                        conn.close_on_drop();
                    }
                    drop(conn);
                    drop(slot);
                });
            }
            Err(_) => conn.close_on_drop(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_become_printable_ascii_literals() {
        assert_eq!(literal("abc-1").unwrap(), "E'abc-1'");
        assert_eq!(literal("o'k\\").unwrap(), "E'o''k\\\\'");
        assert_eq!(literal("é\n").unwrap(), "E'\\u00E9\\u000A'");
        assert_eq!(literal("😀").unwrap(), "E'\\U0001F600'");
        assert!(matches!(literal("a\0b"), Err(Error::NulInTenant)));
    }
}
