//! A server reached (or started) only when first needed, then shared.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::error::PgError;
use crate::server::Server;

/// The server scratch databases go on: the first of `urls` that is set, else the embedded
/// cluster. Callers pass only dev servers here (never the database a command works on):
/// untrusted SQL runs on it, in a [`crate::Sandbox`]. Nothing is reached or started until [`LazyServer::get`] is first called, so a
/// command that needs no scratch database never pays for one; every thread shares the result.
pub struct LazyServer {
    urls: Vec<Option<String>>,
    server: OnceLock<Server>,
    starting: Mutex<()>,
    statement_timeout: Duration,
}

impl LazyServer {
    pub fn new(urls: Vec<Option<String>>) -> Self {
        LazyServer {
            urls,
            server: OnceLock::new(),
            starting: Mutex::new(()),
            statement_timeout: crate::DEFAULT_STATEMENT_TIMEOUT,
        }
    }

    /// The limit on one round trip of untrusted SQL on this server.
    pub fn with_statement_timeout(mut self, limit: Duration) -> Self {
        self.statement_timeout = limit;
        self
    }

    pub fn get(&self) -> Result<&Server, PgError> {
        // One thread starts the server; the others wait and share it.
        let _starting = self.starting.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(server) = self.server.get() {
            return Ok(server);
        }
        let urls: Vec<Option<&str>> = self.urls.iter().map(|u| u.as_deref()).collect();
        let mut server = Server::resolve(&urls)?;
        server.set_statement_timeout(self.statement_timeout);
        Ok(self.server.get_or_init(|| server))
    }

    /// Which server and PostgreSQL version scratch databases would run on, for keying what is
    /// computed on it (the schema-file cache): the redacted target and `server_version_num`
    /// of a configured server (a connection, no scratch database), or the embedded cluster's
    /// binaries and their `postgres --version`, without starting it.
    pub fn fingerprint(&self) -> Result<String, PgError> {
        if self.urls.iter().flatten().any(|u| !u.trim().is_empty()) || self.server.get().is_some() {
            let server = self.get()?;
            if !server.is_embedded() {
                let version: String = server
                    .connect()?
                    .query_one("select current_setting('server_version_num')", &[])
                    .map_err(|e| PgError::from_postgres(e, server.target()))?
                    .get(0);
                return Ok(format!("{} version {version}", server.target()));
            }
        }
        let Some(bindir) = crate::embedded::find_bindir() else {
            // Starting fails with the install hint.
            return self.get().map(|server| server.target().to_string());
        };
        let version = std::process::Command::new(bindir.join("postgres"))
            .arg("--version")
            .output()
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
            .unwrap_or_default();
        Ok(format!("embedded {} {version}", bindir.display()))
    }
}
