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
                let mut client = server.connect()?;
                let mut catalog =
                    tenet_catalog::inspect_parallel(&mut client, || Ok(server.connect()?))?;
                // Tenet's migration history is bookkeeping, not part of the schema.
                tenet_migrate::replay::without_history(&mut catalog);
                scratch.exclude(&mut catalog);
                Ok(catalog)
            }
            Source::Files(path) => {
                // Read the files first: a missing path should not cost a server start.
                let files = tenet_catalog::source::sql_files(path)?;
                // From the project's cache when these files were loaded before.
                let mut catalog = tenet_catalog::cache::load_files(scratch.lazy(), &files)?.catalog;
                scratch.exclude(&mut catalog);
                Ok(catalog)
            }
        }
    }
}

impl Source {
    /// Add the renames hinted in the files (`-- tenet:renamed-from`) to their catalog: they
    /// are in the files, not in any database, and only a plan needs them.
    pub fn read_renames(&self, catalog: &mut Catalog) -> Result<(), Failure> {
        if let Source::Files(path) = self {
            let files = tenet_catalog::source::sql_files(path)?;
            tenet_catalog::hints::read_renames(catalog, &files)?;
        }
        Ok(())
    }
}

/// The server scratch databases go on (`--dev-url` / `TENET_DEV_URL`, else `dev_url` in
/// ./tenet.toml, else the embedded cluster; never `--url`, which is often production and
/// would run a pull request's SQL there), reached or started only when first needed and
/// shared by every source of one command. This is the one place that decides.
///
/// It also carries the command's `[schema] exclude`, which every catalog read through it
/// (live or from files) leaves out.
pub struct ScratchServer(LazyServer, tenet_config::SchemaConfig);

impl ScratchServer {
    /// With `dev_url` from ./tenet.toml, when there is one.
    pub fn new(args: &ServerArgs) -> Self {
        let config = tenet_config::Config::load(None).unwrap_or_default();
        ScratchServer::with_config(args, &config)
    }

    /// With `dev_url` from the given configuration.
    pub fn with_config(args: &ServerArgs, config: &tenet_config::Config) -> Self {
        let configured = config.dev_url.clone();
        ScratchServer(
            LazyServer::new(vec![args.dev_url.clone(), configured]).with_statement_timeout(
                args.statement_timeout
                    .unwrap_or(tenet_pg::DEFAULT_STATEMENT_TIMEOUT),
            ),
            config.schema.clone(),
        )
    }

    /// Leave out of `catalog` what `[schema] exclude` names.
    pub fn exclude(&self, catalog: &mut Catalog) {
        let schema = &self.1;
        tenet_catalog::exclude::exclude(
            catalog,
            |s, n| schema.excludes(s, n),
            |s| schema.excludes_schema(s),
        );
    }

    pub fn get(&self) -> Result<&Server, Failure> {
        Ok(self.0.get()?)
    }

    pub fn lazy(&self) -> &LazyServer {
        &self.0
    }
}
