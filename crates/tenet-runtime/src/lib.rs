//! Tenant-scoped transactions for applications using sqlx.
//!
//! Row-level security policies read the tenant from a setting (for example `app.tenant_id`,
//! the `[tenancy] setting` of `tenet.toml`). This crate is the application's side of that
//! contract: the only way to reach the database through a [`TenantPool`] is a transaction that
//! has set the tenant first, with `set_config(setting, $1, true)`:
//!
//! - the tenant is a bound parameter, never formatted into SQL;
//! - `true` makes the setting local to the transaction, so the connection goes back to the pool
//!   with no tenant on it, whatever happens (commit, rollback, drop, error);
//! - everything happens inside one transaction, so it works unchanged behind PgBouncer in
//!   transaction mode, where consecutive transactions may use different server connections.
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

use sqlx::postgres::{PgConnection, PgPool};
use sqlx::{Postgres, Transaction};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The setting name cannot hold a tenant: custom settings are `prefix.name`.
    #[error("invalid tenant setting name {0:?}: use a custom setting such as app.tenant_id")]
    Setting(String),
    /// An empty tenant would read as "no tenant"; policies must never see one by accident.
    #[error("empty tenant id")]
    EmptyTenant,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A pool whose connections are only handed out inside tenant-scoped transactions.
#[derive(Clone)]
pub struct TenantPool {
    pool: PgPool,
    setting: String,
}

impl TenantPool {
    /// Wrap a pool. `setting` is the custom setting the policies read (`app.tenant_id`).
    pub fn new(pool: PgPool, setting: impl Into<String>) -> Result<TenantPool, Error> {
        let setting = setting.into();
        let valid = setting.split_once('.').is_some_and(|(prefix, name)| {
            let part =
                |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            part(prefix) && part(name)
        });
        if !valid {
            return Err(Error::Setting(setting));
        }
        Ok(TenantPool { pool, setting })
    }

    /// The setting this pool scopes transactions with.
    pub fn setting(&self) -> &str {
        &self.setting
    }

    /// Begin a transaction in which `tenant` is the current tenant.
    pub async fn begin(&self, tenant: impl AsRef<str>) -> Result<TenantTx, Error> {
        let tenant = tenant.as_ref();
        if tenant.is_empty() {
            return Err(Error::EmptyTenant);
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("select set_config($1, $2, true)")
            .bind(&self.setting)
            .bind(tenant)
            .execute(&mut *tx)
            .await?;
        Ok(TenantTx {
            tx,
            tenant: tenant.to_string(),
        })
    }
}

/// A transaction scoped to one tenant. Dropped without [`commit`](TenantTx::commit), it rolls
/// back; either way the tenant setting ends with it.
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    tenant: String,
}

impl TenantTx {
    /// The tenant this transaction runs as.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The connection, for running queries (`.fetch_all(tx.conn())`).
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<(), Error> {
        Ok(self.tx.commit().await?)
    }

    pub async fn rollback(self) -> Result<(), Error> {
        Ok(self.tx.rollback().await?)
    }
}
