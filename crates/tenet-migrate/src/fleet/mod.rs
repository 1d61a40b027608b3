//! Fleets: one migrations directory brought to many targets (databases, or tenant schemas of
//! one database), each exactly once under its own lock.
//!
//! - [`targets`]: `[fleet]` of tenet.toml into a list of targets (URLs, a control query, a
//!   schema pattern); connection strings are only ever shown redacted.
//! - [`pool`]: a bounded set of worker threads that stops starting work when told to.
//! - [`apply`]: `tenet fleet apply` (canary wave, then the rest; stop or continue on error).
//! - [`status`]: where each target stands, grouped by version.
//! - [`check`]: pending migrations and drift per target, against one replay per distinct
//!   history rather than one per target.
//! - [`report`]: the three as text for a person and as JSON.

pub mod apply;
pub mod check;
pub mod pool;
pub mod report;
pub mod status;
pub mod targets;

pub use targets::{resolve, Target};

use postgres::Client;

use crate::history::{self, Scope};
use crate::{Error, Migration};

/// The newest migration a target has completely applied (its id, as files name it), if any.
pub(crate) fn newest_applied(
    client: &mut Client,
    scope: &Scope,
    migrations: &[Migration],
) -> Result<Option<String>, Error> {
    let applied = history::read(client, scope)?;
    Ok(applied
        .iter()
        .filter(|a| a.is_complete() && a.down_done.is_none())
        .max_by_key(|a| a.version)
        .map(|a| {
            migrations
                .iter()
                .find(|m| m.version == a.version)
                .map_or_else(|| format!("{}_{}", a.version, a.name), Migration::id)
        }))
}
