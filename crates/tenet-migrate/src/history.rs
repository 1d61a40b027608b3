//! What a database says was applied: the `tenet.migrations` table, and the advisory lock that
//! lets one process at a time change it.

use postgres::Client;

use crate::Error;

/// The schema Tenet keeps its history in; inspection for drift leaves it out.
pub const SCHEMA: &str = "tenet";

/// Any fixed number works; all Tenet processes must agree on it ("tenet" in ASCII).
const LOCK_KEY: i64 = 0x74_65_6e_65_74;

const CREATE: &str = "
CREATE SCHEMA IF NOT EXISTS tenet;
CREATE TABLE IF NOT EXISTS tenet.migrations (
    version        bigint      PRIMARY KEY,
    name           text        NOT NULL,
    checksum       text        NOT NULL,
    applied_at     timestamptz NOT NULL DEFAULT now(),
    duration_ms    bigint      NOT NULL DEFAULT 0,
    applied_by     text        NOT NULL,
    segments_done  integer     NOT NULL,
    segments_total integer     NOT NULL,
    baseline       boolean     NOT NULL DEFAULT false
);
COMMENT ON TABLE tenet.migrations IS 'Migrations applied by Tenet; a row with segments_done < segments_total is partly applied.';";

/// One row of history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub version: i64,
    pub name: String,
    pub checksum: String,
    pub applied_at: String,
    pub duration_ms: i64,
    pub applied_by: String,
    pub segments_done: i32,
    pub segments_total: i32,
    pub baseline: bool,
}

impl Applied {
    pub fn is_complete(&self) -> bool {
        self.segments_done >= self.segments_total
    }
}

/// Wait for the migration lock (session level: it holds across the transactions of a run and
/// goes when the connection does, also when the process is killed). Waiting is not an error.
///
/// The wait polls instead of blocking in `pg_advisory_lock`: a session blocked there holds a
/// snapshot, and `CREATE INDEX CONCURRENTLY` in the run holding the lock waits for every such
/// snapshot to go, which would deadlock the two.
pub fn lock(client: &mut Client, on_wait: impl FnOnce()) -> Result<(), Error> {
    let mut on_wait = Some(on_wait);
    loop {
        let got: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])?
            .get(0);
        if got {
            return Ok(());
        }
        if let Some(on_wait) = on_wait.take() {
            on_wait();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Create the history table when missing. Call with the lock held, so two first runs do not
/// race to create it.
pub fn ensure(client: &mut Client) -> Result<(), Error> {
    let exists: bool = client
        .query_one("SELECT to_regclass('tenet.migrations') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        client.batch_execute(CREATE)?;
    }
    Ok(())
}

/// The history, oldest version first; empty when Tenet never ran here.
pub fn read(client: &mut Client) -> Result<Vec<Applied>, Error> {
    let exists: bool = client
        .query_one("SELECT to_regclass('tenet.migrations') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(Vec::new());
    }
    let rows = client.query(
        "SELECT version, name, checksum, to_char(applied_at AT TIME ZONE 'UTC', \
         'YYYY-MM-DD HH24:MI:SS\"Z\"'), duration_ms, applied_by, segments_done, segments_total, \
         baseline FROM tenet.migrations ORDER BY version",
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|r| Applied {
            version: r.get(0),
            name: r.get(1),
            checksum: r.get(2),
            applied_at: r.get(3),
            duration_ms: r.get(4),
            applied_by: r.get(5),
            segments_done: r.get(6),
            segments_total: r.get(7),
            baseline: r.get(8),
        })
        .collect())
}

/// Record progress on a migration: insert its row at the first segment, update it after.
#[allow(clippy::too_many_arguments)]
pub fn record(
    client: &mut impl postgres::GenericClient,
    version: i64,
    name: &str,
    checksum: &str,
    duration_ms: i64,
    applied_by: &str,
    segments_done: i32,
    segments_total: i32,
    baseline: bool,
) -> Result<(), Error> {
    client.execute(
        "INSERT INTO tenet.migrations AS m (version, name, checksum, duration_ms, applied_by, \
         segments_done, segments_total, baseline) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (version) DO UPDATE SET segments_done = EXCLUDED.segments_done, \
         duration_ms = m.duration_ms + EXCLUDED.duration_ms, applied_at = now()",
        &[
            &version,
            &name,
            &checksum,
            &duration_ms,
            &applied_by,
            &segments_done,
            &segments_total,
            &baseline,
        ],
    )?;
    Ok(())
}

pub fn forget(client: &mut impl postgres::GenericClient, version: i64) -> Result<(), Error> {
    client.execute(
        "DELETE FROM tenet.migrations WHERE version = $1",
        &[&version],
    )?;
    Ok(())
}

/// Who is applying: the database user, and the operating-system user and host running Tenet.
pub fn applied_by(client: &mut Client) -> Result<String, Error> {
    let db_user: String = client.query_one("SELECT session_user::text", &[])?.get(0);
    let os_user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    Ok(format!(
        "{db_user} (tenet {} by {os_user}@{host})",
        env!("CARGO_PKG_VERSION")
    ))
}
