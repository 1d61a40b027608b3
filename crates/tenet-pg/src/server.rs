//! [`Server`]: a server given by URL, or the embedded throwaway cluster.

use std::fmt;
use std::path::Path;
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use postgres::config::SslMode as PgSslMode;
use postgres::{Config, NoTls};

use crate::conninfo::LibpqEnv;
use crate::embedded::Embedded;
use crate::error::{classify, is_hba_refusal, PgError};
use crate::redact::redact;
use crate::sandbox::{Sandbox, DEFAULT_STATEMENT_TIMEOUT};
use crate::scratch::ScratchDb;
use crate::settings::{resolve, ConnectOptions};
use crate::tls::SslMode;
use crate::urls::to_url;

pub use crate::settings::DEFAULT_CONNECT_TIMEOUT;

/// A server Tenet may use: one given by URL, or a throwaway cluster it started itself.
pub struct Server {
    pub(crate) config: Config,
    /// TLS and what else connecting needs beyond `config`.
    pub(crate) options: ConnectOptions,
    /// Redacted description, used by `Display` and in error messages.
    pub(crate) target: String,
    /// Set for the embedded cluster; dropping it stops the cluster and removes its directory.
    pub(crate) embedded: Option<Embedded>,
    /// The limit on one round trip of untrusted SQL in a [`Sandbox`].
    pub(crate) statement_timeout: Duration,
    /// Leftovers of dead processes are dropped once per process and server.
    pub(crate) swept: Once,
    /// The connection [`Server::from_url`] opened to check the URL, and when: the first
    /// [`Server::connect`] soon after takes it instead of opening another (a TLS connection
    /// costs several milliseconds, a good part of inspecting a small schema).
    probe: Mutex<Option<(postgres::Client, Instant)>>,
}

/// How long the URL check's connection waits for [`Server::connect`]: past this it may have
/// been closed by the server (`idle_session_timeout`, a serverless compute suspending), so a
/// new one is opened.
const PROBE_KEPT_FOR: Duration = Duration::from_secs(5);

impl Server {
    /// A server given by a libpq connection string: a `postgres://` / `postgresql://` URI or
    /// `key=value` pairs, with the libpq environment (`PGHOST`, `PGPASSWORD`, `PGSSLMODE`, ...,
    /// `~/.pgpass`) filling what it leaves unset. Checks it answers.
    ///
    /// Without a host, the libpq defaults apply: the Unix socket in `/var/run/postgresql` or
    /// `/tmp` when one is there, else `localhost`. Without a user, the operating-system user.
    /// Without `connect_timeout`, 5 seconds. Without `sslmode`, `prefer`, as libpq.
    pub fn from_url(url: &str) -> Result<Server, PgError> {
        Server::from_url_with_env(url, &LibpqEnv::from_process())
    }

    /// [`Server::from_url`] with the given environment instead of the process's.
    pub fn from_url_with_env(url: &str, env: &LibpqEnv) -> Result<Server, PgError> {
        let target = redact(url.trim());
        if url.trim().is_empty() {
            return Err(PgError::BadUrl {
                url: target,
                reason: "the URL is empty".to_owned(),
            });
        }
        let (config, options) = resolve(url, env).map_err(|reason| PgError::BadUrl {
            url: target.clone(),
            reason,
        })?;
        let server = Server {
            config,
            options,
            target,
            embedded: None,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
            swept: Once::new(),
            probe: Mutex::new(None),
        };
        // Fail early, with the specific error; the connection serves the first connect().
        let probe = server.connect()?;
        *server.probe.lock().unwrap_or_else(|e| e.into_inner()) = Some((probe, Instant::now()));
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
            options: ConnectOptions::plain(),
            target: format!("embedded PostgreSQL (socket in {})", embedded.dir.display()),
            embedded: Some(embedded),
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
            swept: Once::new(),
            probe: Mutex::new(None),
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
        let probe = self.probe.lock().unwrap_or_else(|e| e.into_inner()).take();
        match probe {
            Some((client, opened)) if opened.elapsed() < PROBE_KEPT_FOR && !client.is_closed() => {
                Ok(client)
            }
            _ => connect_with(&self.config, &self.options, &self.target),
        }
    }

    /// The connection settings of this server's database.
    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// A URL for this server with the given database, password included (for child processes only; never print it).
    pub fn url_for(&self, database: &str) -> String {
        to_url(&self.config, &self.options.pass_on, database)
    }

    /// Create a scratch database with a unique name; it is dropped when the handle is dropped,
    /// and on Ctrl-C/SIGTERM.
    pub fn scratch(&self) -> Result<ScratchDb, PgError> {
        ScratchDb::create(self)
    }

    /// A scratch database for untrusted SQL, with a session as a fresh unprivileged role (see
    /// [`Sandbox`]); everything is dropped with the handle.
    pub fn sandbox(&self) -> Result<Sandbox, PgError> {
        Sandbox::create(self, self.statement_timeout)
    }

    /// The limit on one round trip of untrusted SQL (default 60 s).
    pub fn set_statement_timeout(&mut self, limit: Duration) {
        self.statement_timeout = limit;
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

/// Connect with libpq's sslmode semantics, classifying errors with what we asked for.
///
/// `allow` tries without TLS first and again with TLS when the server rejects that; `prefer`
/// goes without TLS when the server declines TLS or rejects the connection over TLS (libpq's
/// retry), never after a failed certificate check.
pub(crate) fn connect_with(
    config: &Config,
    options: &ConnectOptions,
    target: &str,
) -> Result<postgres::Client, PgError> {
    let tls = &options.tls;
    let plain = || with_ssl_mode(config, PgSslMode::Disable).connect(NoTls);
    let encrypted = |mode: PgSslMode| -> (Result<postgres::Client, postgres::Error>, bool) {
        match tls.connector() {
            Some(connector) => {
                let result = with_ssl_mode(config, mode).connect(connector.clone());
                (result, connector.handshake_started())
            }
            None => (plain(), false),
        }
    };
    let rejected = |e: &postgres::Error| e.as_db_error().is_some();
    let result = match tls.mode() {
        SslMode::Disable => plain(),
        SslMode::Allow => match plain() {
            Err(first) if rejected(&first) => more_telling(first, encrypted(PgSslMode::Require).0),
            other => other,
        },
        SslMode::Prefer => match encrypted(PgSslMode::Prefer) {
            (Err(first), true) if rejected(&first) => more_telling(first, plain()),
            (other, _) => other,
        },
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            encrypted(PgSslMode::Require).0
        }
    };
    result.map_err(|e| {
        let user = config.get_user();
        let database = config.get_dbname().or(user);
        let mut err = classify(&e, target, user, database, true);
        if let (PgError::BadPassword { hint, .. }, Some(note)) = (&mut err, &options.pgpass_note) {
            hint.push_str(&format!("; {note}, so it was not read"));
        }
        err
    })
}

fn with_ssl_mode(config: &Config, mode: PgSslMode) -> Config {
    let mut config = config.clone();
    config.ssl_mode(mode);
    config
}

/// Of two failed attempts (with and without TLS), the error that says more: the second when
/// the first was only pg_hba.conf turning that kind of connection away.
fn more_telling(
    first: postgres::Error,
    second: Result<postgres::Client, postgres::Error>,
) -> Result<postgres::Client, postgres::Error> {
    let first_is_hba = first
        .as_db_error()
        .is_some_and(|db| is_hba_refusal(db.message()));
    match second {
        Ok(client) => Ok(client),
        Err(second) if first_is_hba => Err(second),
        Err(_) => Err(first),
    }
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
