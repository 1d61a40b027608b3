//! Schema sources: a live database, or SQL files applied to a scratch database. Either way the
//! result is a catalog read from PostgreSQL itself.

use std::path::PathBuf;

use tenet_catalog::Catalog;
use tenet_pg::{LazyServer, Server};

use crate::failure::Failure;
use crate::ServerArgs;

pub enum Source {
    Url(String),
    /// A `.sql` file, a directory of them (desired state), or a migrations directory (its
    /// `.up.sql` files replayed in version order).
    Files(PathBuf),
}

impl Source {
    /// A connection string when it looks like one, else a path.
    ///
    /// Connection strings are libpq's: `postgres://` / `postgresql://` URLs and `key=value`
    /// lists (`host=h dbname=d password=S`), told apart from paths by an `=`, as libpq does,
    /// unless a file of that name exists. Anything with a scheme (`mysql://...`, or a mistyped
    /// `postgres:/...`) is taken as a URL too, so that its error is a URL's, password hidden,
    /// and not "no such file" with the whole text in it.
    pub fn parse(text: &str) -> Source {
        let t = text.trim_start();
        let has_scheme =
            t.contains("://") || t.starts_with("postgres:") || t.starts_with("postgresql:");
        let key_values =
            tenet_pg::is_connection_string(text) && !std::path::Path::new(text).exists();
        if has_scheme || key_values {
            Source::Url(text.to_string())
        } else {
            Source::Files(PathBuf::from(text))
        }
    }

    /// Read the catalog this source stands for.
    pub fn catalog(&self, scratch: &ScratchServer) -> Result<Catalog, Failure> {
        match self {
            Source::Url(url) => {
                let server = Server::from_url(url)?;
                let (mut client, mut second) = (server.connect()?, server.connect()?);
                let mut catalog = tenet_catalog::inspect_parallel(&mut client, &mut second)?;
                // Tenet's migration history is bookkeeping, not part of the schema.
                tenet_migrate::replay::without_history(&mut catalog);
                Ok(catalog)
            }
            Source::Files(path) => {
                // Read the files first: a missing path should not cost a server start.
                let files = tenet_catalog::source::sql_files(path)?;
                let database = scratch.get()?.scratch()?;
                let mut client = database.connect()?;
                tenet_catalog::source::apply_files(&mut client, &files)?;
                Ok(tenet_catalog::inspect(&mut client)?)
            }
        }
    }
}

/// The server scratch databases go on (`--dev-url`, else `--url`, else the embedded cluster),
/// reached or started only when first needed and shared by every source of one command.
pub struct ScratchServer(LazyServer);

impl ScratchServer {
    pub fn new(args: &ServerArgs) -> Self {
        ScratchServer(LazyServer::new(vec![
            args.dev_url.clone(),
            args.url.clone(),
        ]))
    }

    pub fn get(&self) -> Result<&Server, Failure> {
        Ok(self.0.get()?)
    }

    pub fn lazy(&self) -> &LazyServer {
        &self.0
    }
}
