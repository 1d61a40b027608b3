//! [`Server`]: a server given by URL, or the embedded throwaway cluster.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use postgres::{Config, NoTls};

use crate::embedded::Embedded;
use crate::error::{classify, error_chain, one_line, PgError};
use crate::redact::redact;
use crate::scratch::ScratchDb;
use crate::urls::to_url;

/// The connect timeout used when a URL gives none.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A server Tenet may use: one given by URL, or a throwaway cluster it started itself.
pub struct Server {
    pub(crate) config: Config,
    /// Redacted description, used by `Display` and in error messages.
    pub(crate) target: String,
    /// Set for the embedded cluster; dropping it stops the cluster and removes its directory.
    pub(crate) embedded: Option<Embedded>,
}

impl Server {
    /// A server given by a URL (postgres:// or postgresql://, key=value strings too). Checks it answers.
    ///
    /// Without a host, the libpq defaults apply: the Unix socket in `/var/run/postgresql` or
    /// `/tmp` when one is there, else `localhost`. Without a user, the operating-system user.
    /// Without `connect_timeout`, 5 seconds.
    pub fn from_url(url: &str) -> Result<Server, PgError> {
        let target = redact(url.trim());
        if url.trim().is_empty() {
            return Err(PgError::BadUrl {
                url: target,
                reason: "the URL is empty".to_owned(),
            });
        }
        if let Some((scheme, _)) = url.trim().split_once("://") {
            if scheme != "postgres" && scheme != "postgresql" {
                return Err(PgError::BadUrl {
                    url: target,
                    reason: format!(
                        "unsupported scheme \"{scheme}\" (use postgres:// or postgresql://)"
                    ),
                });
            }
        }
        let mut config = Config::from_str(url.trim()).map_err(|e| PgError::BadUrl {
            url: target.clone(),
            reason: one_line(
                error_chain(&e)
                    .trim_start_matches("invalid connection string: ")
                    .trim(),
            ),
        })?;
        apply_libpq_defaults(&mut config);
        let server = Server {
            config,
            target,
            embedded: None,
        };
        // Fail early, with the specific error.
        drop(server.connect()?);
        Ok(server)
    }

    /// Start a throwaway cluster from local binaries (removed when the Server is dropped, at
    /// process exit, and on Ctrl-C/SIGTERM).
    pub fn embedded() -> Result<Server, PgError> {
        let embedded = Embedded::start()?;
        let mut config = Config::new();
        config
            .host_path(&embedded.dir)
            .port(crate::embedded::PORT)
            .user(crate::embedded::SUPERUSER)
            .dbname("postgres")
            .connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        Ok(Server {
            config,
            target: format!("embedded PostgreSQL (socket in {})", embedded.dir.display()),
            embedded: Some(embedded),
        })
    }

    /// The first URL that is Some, else the embedded cluster.
    ///
    /// Empty (or all-blank) strings count as absent, so an empty `DATABASE_URL` means "not set".
    pub fn resolve(urls: &[Option<&str>]) -> Result<Server, PgError> {
        match urls.iter().flatten().find(|u| !u.trim().is_empty()) {
            Some(url) => Server::from_url(url),
            None => Server::embedded(),
        }
    }

    /// A connection to the server's database (the URL's database, or `postgres` when embedded).
    pub fn connect(&self) -> Result<postgres::Client, PgError> {
        connect_with(&self.config, &self.target)
    }

    /// The connection settings of this server's database.
    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// A URL for this server with the given database, password included (for child processes only; never print it).
    pub fn url_for(&self, database: &str) -> String {
        to_url(&self.config, database)
    }

    /// Create a scratch database with a unique name; it is dropped when the handle is dropped,
    /// and on Ctrl-C/SIGTERM.
    pub fn scratch(&self) -> Result<ScratchDb, PgError> {
        ScratchDb::create(self)
    }

    /// Whether this is the embedded throwaway cluster.
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// The embedded cluster's private directory: it holds the Unix socket, the data directory
    /// (`data/`) and the server log (`postgres.log`). `None` for a server given by URL.
    pub fn embedded_dir(&self) -> Option<&Path> {
        self.embedded.as_ref().map(|e| e.dir.as_path())
    }

    /// The redacted description used in messages (same as `Display`).
    pub fn target(&self) -> &str {
        &self.target
    }
}

/// Connect, classifying errors with what we asked for.
pub(crate) fn connect_with(config: &Config, target: &str) -> Result<postgres::Client, PgError> {
    config.connect(NoTls).map_err(|e| {
        let user = config.get_user();
        let database = config.get_dbname().or(user);
        classify(&e, target, user, database, true)
    })
}

/// What libpq would assume where the `postgres` crate has no default.
fn apply_libpq_defaults(config: &mut Config) {
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let socket_dir = ["/var/run/postgresql", "/tmp"]
            .into_iter()
            .map(PathBuf::from)
            .find(|dir| dir.join(format!(".s.PGSQL.{port}")).exists());
        match socket_dir {
            Some(dir) => {
                config.host_path(dir);
            }
            None => {
                config.host("localhost");
            }
        }
    }
    if config.get_user().is_none() {
        if let Some(user) = os_user() {
            config.user(&user);
        }
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
    }
}

fn os_user() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .or_else(|| std::env::var("USER").ok())
}

impl fmt::Display for Server {
    /// A redacted description: the URL without password, or "embedded PostgreSQL (socket in /tmp/...)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.target)
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}
