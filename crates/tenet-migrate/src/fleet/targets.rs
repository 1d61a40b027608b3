//! The targets of a fleet, from `[fleet]`: listed URLs, the rows of a query on a control
//! database, or the schemas of one database whose names match a pattern.

use postgres::Client;
use tenet_config::FleetTargets;

use crate::history::Scope;
use crate::replay::TEMPLATE;
use crate::Error;

/// One database, or one tenant schema of a database, that the migrations are applied to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// May hold a password: show [`Target::label`], never this.
    pub url: String,
    pub scope: Scope,
}

impl Target {
    /// How reports name the target: the URL with its password hidden, and the schema.
    pub fn label(&self) -> String {
        let url = tenet_pg::redact(&self.url);
        match &self.scope {
            Scope::Database => url,
            Scope::Schema(s) => format!("{url} schema {}", tenet_catalog::quote::ident(s)),
        }
    }

    pub fn connect(&self) -> Result<Client, Error> {
        Ok(tenet_pg::Server::from_url(&self.url)?.connect()?)
    }
}

/// The targets `[fleet]` names, each once, in a stable order (as listed, as the query returns
/// them, by schema name). `control_url` and `url` fall back to `default_url` (`--url`).
pub fn resolve(targets: FleetTargets, default_url: Option<&str>) -> Result<Vec<Target>, Error> {
    let needs = |key: &str, url: Option<&str>| {
        url.or(default_url).map(str::to_string).ok_or_else(|| {
            Error::Invalid(format!(
                "[fleet] needs `{key}` (or --url / DATABASE_URL): the database to read the \
                 targets from"
            ))
        })
    };
    let found = match targets {
        FleetTargets::Urls(urls) => urls
            .iter()
            .map(|url| Target {
                url: url.clone(),
                scope: Scope::Database,
            })
            .collect(),
        FleetTargets::Query { control_url, query } => {
            let control = needs("control_url", control_url)?;
            query_urls(&control, query)?
                .into_iter()
                .map(|url| Target {
                    url,
                    scope: Scope::Database,
                })
                .collect()
        }
        FleetTargets::Schemas { url, pattern } => {
            let url = needs("url", url)?;
            matching_schemas(&url, pattern)?
                .into_iter()
                .map(|schema| Target {
                    url: url.clone(),
                    scope: Scope::Schema(schema),
                })
                .collect()
        }
    };
    Ok(once_each(found))
}

/// Drop repeats, keeping the first: a target listed twice is still migrated once.
fn once_each(targets: Vec<Target>) -> Vec<Target> {
    let mut seen = std::collections::HashSet::new();
    targets
        .into_iter()
        .filter(|t| seen.insert((t.url.clone(), t.scope.clone())))
        .collect()
}

/// The control query's rows, one URL each, read in a read-only transaction (the query is the
/// operator's, but nothing Tenet runs to find targets may change the control database).
fn query_urls(control_url: &str, query: &str) -> Result<Vec<String>, Error> {
    let mut client = tenet_pg::Server::from_url(control_url)?.connect()?;
    let mut tx = client.build_transaction().read_only(true).start()?;
    let rows = tx.query(query, &[]).map_err(|e| {
        Error::Invalid(format!(
            "[fleet] query failed on {}: {}",
            tenet_pg::redact(control_url),
            Error::from(e)
        ))
    })?;
    tx.rollback()?;
    let mut urls = Vec::with_capacity(rows.len());
    for (n, row) in rows.iter().enumerate() {
        if row.len() != 1 {
            return Err(Error::Invalid(format!(
                "[fleet] query must return one column (a connection string per row), not {}",
                row.len()
            )));
        }
        let url: Option<String> = row.try_get(0).map_err(|_| {
            Error::Invalid(format!(
                "[fleet] query must return text (a connection string per row); its column is {}",
                row.columns()[0].type_()
            ))
        })?;
        match url.filter(|u| !u.trim().is_empty()) {
            Some(url) => urls.push(url),
            None => {
                return Err(Error::Invalid(format!(
                    "[fleet] query: row {} has no connection string (NULL or empty)",
                    n + 1
                )))
            }
        }
    }
    Ok(urls)
}

/// The schemas of `url`'s database whose names are `LIKE pattern` (passed as a parameter,
/// never spliced into SQL), without PostgreSQL's own, Tenet's, and the template's.
fn matching_schemas(url: &str, pattern: &str) -> Result<Vec<String>, Error> {
    let mut client = tenet_pg::Server::from_url(url)?.connect()?;
    let rows = client.query(
        "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE $1 \
         AND nspname NOT IN ('tenet', 'information_schema', $2) AND nspname !~ '^pg_' \
         ORDER BY nspname COLLATE \"C\"",
        &[&pattern, &TEMPLATE],
    )?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
