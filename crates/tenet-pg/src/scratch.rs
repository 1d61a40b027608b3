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
        ScratchDb::create_named(server, &format!("tenet_scratch_{}", unique_suffix()), None)
    }

    /// Create the database `name`, owned by `owner` (else by the connecting user).
    pub(crate) fn create_named(
        server: &Server,
        name: &str,
        owner: Option<&str>,
    ) -> Result<ScratchDb, PgError> {
        let name = name.to_string();
        let mut client = server.connect()?;
        server
            .swept
            .call_once(|| crate::sandbox::sweep(&mut client, server));
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
        let mut sql = format!("CREATE DATABASE {}", quote_ident(&name));
        if let Some(owner) = owner {
            sql.push_str(&format!(" OWNER {}", quote_ident(owner)));
        }
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
        // A scratch database is thrown away, so its commits need not wait for the WAL to reach
        // the disk: a replay commits once per observed statement, and on a server with real
        // fsync that wait was most of its time. Best effort: the database works without it.
        let _ = client.batch_execute(&format!(
            "ALTER DATABASE {} SET synchronous_commit = off",
            quote_ident(&name)
        ));
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

/// `<host>_<pid>_<nanos>x<counter>`: unique within the process (counter) and across processes
/// (host, pid, time). The host and pid say whose it is, for [`crate::sandbox::sweep`].
pub(crate) fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}_{}_{}x{}", host_tag(), std::process::id(), nanos, n)
}

/// Eight hex digits standing for this host's name, so that a sweep only judges
/// processes it can see.
pub(crate) fn host_tag() -> String {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let text = read("/proc/sys/kernel/hostname");
    let text = text.trim();
    let hash = text.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("{hash:08x}")
}

pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Drop the database, closing any connection still open to it.
pub(crate) fn drop_database(admin: &Config, options: &ConnectOptions, target: &str, name: &str) {
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
