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
//!   trips, as many as the same query through sqlx's pool without a transaction.
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

use tokio::sync::Notify;

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
/// rest). `DISCARD ALL` would also deallocate sqlx's prepared statements; only those made
/// with SQL `PREPARE` (`from_sql`) go.
pub const RESET: &str = "SET SESSION AUTHORIZATION DEFAULT; RESET ROLE; RESET ALL; CLOSE ALL; \
UNLISTEN *; SELECT pg_catalog.pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES; \
DO $tenet$ DECLARE s text; BEGIN \
FOR s IN SELECT name FROM pg_catalog.pg_prepared_statements WHERE from_sql LOOP \
EXECUTE 'DEALLOCATE ' || pg_catalog.quote_ident(s); END LOOP; END $tenet$";

/// A pool whose connections are only handed out inside tenant-scoped transactions.
///
/// A connection whose transaction ended cleanly (committed or rolled back, and reset) is kept
/// here for the next transaction instead of going back to sqlx's pool: sqlx would check it
/// with a round trip on release and another on acquire, which a connection that has just
/// answered does not need. So a `TenantPool` keeps the connections it has used until it is
/// dropped (then they are closed): give it a pool of its own. A kept connection found dead
/// (the server restarted) is closed and the transaction begun on another.
#[derive(Clone)]
pub struct TenantPool {
    shared: Arc<Shared>,
}

struct Shared {
    pool: PgPool,
    setting: String,
    /// Reset connections, not in a transaction, which sqlx counts as in one (depth 1).
    kept: Mutex<Vec<PoolConnection<Postgres>>>,
    /// Signalled when a connection is kept, for a `begin` waiting on the pool.
    returned: Notify,
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
        Ok(TenantPool {
            shared: Arc::new(Shared {
                pool,
                setting,
                kept: Mutex::new(Vec::new()),
                returned: Notify::new(),
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
        loop {
            let (mut conn, kept) = self.connection().await?;
            let begun = if kept {
                // Counted in a transaction already; one message, no sqlx bookkeeping.
                sqlx::Executor::execute(&mut *conn, begin.as_str())
                    .await
                    .map(drop)
            } else {
                Manager::begin(&mut conn, Some(begin.clone().into())).await
            };
            match begun {
                Ok(()) => {
                    return Ok(TenantTx {
                        conn: Some(conn),
                        shared: self.shared.clone(),
                        tenant: tenant.to_string(),
                    })
                }
                Err(e) => {
                    // Whatever state the failure left, this session is not reused.
                    conn.close_on_drop();
                    // A kept connection may have died while kept: try another.
                    if !kept || matches!(e, sqlx::Error::Database(_)) {
                        return Err(e.into());
                    }
                }
            }
        }
    }

    /// A kept connection (true), else one from the pool, whichever comes first.
    async fn connection(&self) -> Result<(PoolConnection<Postgres>, bool), Error> {
        loop {
            let returned = self.shared.returned.notified();
            tokio::pin!(returned);
            returned.as_mut().enable();
            if let Some(conn) = self.shared.kept.lock().expect("kept connections").pop() {
                return Ok((conn, true));
            }
            tokio::select! {
                conn = self.shared.pool.acquire() => return Ok((conn?, false)),
                () = &mut returned => continue,
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
        // The reset runs in a transaction block of its own: in one message, statements
        // before a BEGIN would join its block.
        let sql = format!("{end}; BEGIN; {RESET}; COMMIT");
        // A &str with no arguments goes as a simple query: all statements in one message.
        let done: Result<_, sqlx::Error> = sqlx::Executor::execute(&mut *conn, sql.as_str()).await;
        match done {
            Ok(_) if Manager::get_transaction_depth(&conn) == 1 => {
                self.shared
                    .kept
                    .lock()
                    .expect("kept connections")
                    .push(conn);
                self.shared.returned.notify_one();
                Ok(())
            }
            Ok(_) => {
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
    }
}

impl Drop for TenantTx {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        // Roll back now (queued, sent before anything else on this connection), then reset
        // before the connection goes back to the pool; without a runtime, close it.
        Manager::start_rollback(&mut conn);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(reset_and_release(conn));
            }
            Err(_) => conn.close_on_drop(),
        }
    }
}

/// Reset a connection whose transaction was dropped, then let it go back to the pool (or
/// close, when the reset fails).
async fn reset_and_release(mut conn: PoolConnection<Postgres>) {
    // A &str with no arguments goes as a simple query: all statements in one message.
    let reset: Result<_, sqlx::Error> = sqlx::Executor::execute(&mut *conn, RESET).await;
    if reset.is_err() {
        conn.close_on_drop();
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
