//! A server reached (or started) only when first needed, then shared.

use std::sync::{Mutex, OnceLock};

use crate::error::PgError;
use crate::server::Server;

/// The server scratch databases go on: the first of `urls` that is set, else the embedded
/// cluster. Nothing is reached or started until [`LazyServer::get`] is first called, so a
/// command that needs no scratch database never pays for one; every thread shares the result.
pub struct LazyServer {
    urls: Vec<Option<String>>,
    server: OnceLock<Server>,
    starting: Mutex<()>,
}

impl LazyServer {
    pub fn new(urls: Vec<Option<String>>) -> Self {
        LazyServer {
            urls,
            server: OnceLock::new(),
            starting: Mutex::new(()),
        }
    }

    pub fn get(&self) -> Result<&Server, PgError> {
        // One thread starts the server; the others wait and share it.
        let _starting = self.starting.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(server) = self.server.get() {
            return Ok(server);
        }
        let urls: Vec<Option<&str>> = self.urls.iter().map(|u| u.as_deref()).collect();
        let server = Server::resolve(&urls)?;
        Ok(self.server.get_or_init(|| server))
    }
}
