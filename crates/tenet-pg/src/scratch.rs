//! Scratch databases: created with a unique name, always dropped.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use postgres::error::SqlState;
use postgres::Config;

use crate::cleanup;
use crate::error::{db_message, PgError};
use crate::server::{connect_with, Server};
use crate::settings::ConnectOptions;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A database that lives as long as this handle.
pub struct ScratchDb {
    name: String,
    config: Config,
    options: ConnectOptions,
    url: String,
    target: String,
    cleanup_id: u64,
}

impl ScratchDb {
    pub(crate) fn create(server: &Server) -> Result<ScratchDb, PgError> {
        let name = unique_name();
        let mut client = server.connect()?;
        // Registered before CREATE DATABASE, so that a signal arriving in between still drops it
        // (the drop is IF EXISTS).
        let cleanup_id = {
            let admin = server.config.clone();
            let options = server.options.clone();
            let target = server.target.clone();
            let name = name.clone();
            let cluster = server.embedded_dir().map(|d| d.to_path_buf());
            cleanup::register(move || {
                // On an embedded cluster that is already gone there is nothing left to drop.
                if cluster.as_deref().is_none_or(|dir| dir.exists()) {
                    drop_database(&admin, &options, &target, &name);
                }
            })
        };
        let sql = format!("CREATE DATABASE {}", quote_ident(&name));
        let mut attempt = 0;
        loop {
            match client.batch_execute(&sql) {
                Ok(()) => break,
                // "source database "template1" is being accessed by other users": someone is
                // connected to template1 for a moment; try again.
                Err(e) if e.code() == Some(&SqlState::OBJECT_IN_USE) && attempt < 50 => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(20 * attempt.min(10)));
                }
                Err(e) => {
                    drop(client);
                    cleanup::run(cleanup_id);
                    return Err(match PgError::from_postgres(e, &server.target) {
                        PgError::Db(msg) => PgError::Db(format!(
                            "cannot create a scratch database on {}: {msg}",
                            server.target
                        )),
                        other => other,
                    });
                }
            }
        }
        let mut config = server.config.clone();
        config.dbname(&name);
        Ok(ScratchDb {
            url: server.url_for(&name),
            target: server.target.clone(),
            name,
            config,
            options: server.options.clone(),
            cleanup_id,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn connect(&self) -> Result<postgres::Client, PgError> {
        connect_with(&self.config, &self.options, &self.target)
    }

    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// URL with password (for child processes such as `tenet` or `psql` in tests; never print it).
    pub fn url(&self) -> String {
        self.url.clone()
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        cleanup::run(self.cleanup_id);
    }
}

impl fmt::Debug for ScratchDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScratchDb")
            .field("name", &self.name)
            .field("server", &self.target)
            .finish_non_exhaustive()
    }
}

/// `tenet_scratch_<pid>_<nanos>_<counter>`: unique within the process (counter) and across
/// processes (pid, time).
fn unique_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("tenet_scratch_{}_{}_{}", std::process::id(), nanos, n)
}

pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Drop the database, closing any connection still open to it.
fn drop_database(admin: &Config, options: &ConnectOptions, target: &str, name: &str) {
    let result = (|| -> Result<(), PgError> {
        let mut client = connect_with(admin, options, target)?;
        let ident = quote_ident(name);
        match client.batch_execute(&format!("DROP DATABASE IF EXISTS {ident} WITH (FORCE)")) {
            Ok(()) => Ok(()),
            // Before PostgreSQL 13 there is no FORCE: end the sessions, then drop.
            Err(e) if e.code() == Some(&SqlState::SYNTAX_ERROR) => {
                client
                    .execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = $1 AND pid <> pg_backend_pid()",
                        &[&name],
                    )
                    .map_err(|e| PgError::from_postgres(e, target))?;
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {ident}"))
                    .map_err(|e| PgError::from_postgres(e, target))
            }
            Err(e) => Err(match e.as_db_error() {
                Some(db) => PgError::Db(db_message(db)),
                None => PgError::from_postgres(e, target),
            }),
        }
    })();
    if let Err(e) = result {
        tracing::warn!("could not drop scratch database {name}: {e}");
    }
}
