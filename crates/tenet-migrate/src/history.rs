//! What a database says was applied: the `tenet.migrations` table, and the advisory lock that
//! lets one process at a time change it.

use postgres::Client;

use crate::Error;

/// The schema Tenet keeps its history in; inspection for drift leaves it out.
pub const SCHEMA: &str = "tenet";

/// Any fixed number works; all Tenet processes must agree on it ("tenet" in ASCII).
const LOCK_KEY: i64 = 0x74_65_6e_65_74;

/// The class of the two-key advisory locks of tenant schemas ("tene"): PostgreSQL keeps
/// two-key locks apart from one-key ones, so they never meet [`LOCK_KEY`].
const SCHEMA_LOCK_CLASS: i32 = 0x74_65_6e_65;

/// The history table's name inside a tenant schema (see [`Scope::Schema`]).
pub const SCHEMA_TABLE: &str = "tenet_migrations";

const COLUMNS: &str = "
    version        bigint      PRIMARY KEY,
    name           text        NOT NULL,
    checksum       text        NOT NULL,
    applied_at     timestamptz NOT NULL DEFAULT now(),
    duration_ms    bigint      NOT NULL DEFAULT 0,
    applied_by     text        NOT NULL,
    segments_done  integer     NOT NULL,
    segments_total integer     NOT NULL,
    baseline       boolean     NOT NULL DEFAULT false,
    down_done      integer,
    fingerprint    text";

const COMMENT: &str = "Migrations applied by Tenet; a row with segments_done < segments_total \
is partly applied, one with down_done set partly reverted. fingerprint: SHA-256 of the catalog \
this migration left (or last verified).";

/// What one run of migrations applies to, with its own history and lock.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The whole database: history in `tenet.migrations`, one lock per database.
    Database,
    /// One tenant schema of a schema-per-tenant database, migrated with `search_path` set to
    /// it. Its history is a table in the schema itself, `<schema>.tenet_migrations`: it cannot
    /// collide with another tenant's, it goes when the tenant's schema is dropped and follows a
    /// rename, and drift inspection of the schema leaves it out. Its lock is the two-key
    /// advisory lock (class, `hashtext(schema)`): two tenants whose names hash alike only wait
    /// for each other, never run at once on one schema.
    Schema(String),
}

impl Scope {
    /// The history table, as SQL.
    pub fn table(&self) -> String {
        match self {
            Scope::Database => format!("{SCHEMA}.migrations"),
            Scope::Schema(s) => format!("{}.{SCHEMA_TABLE}", tenet_catalog::quote::ident(s)),
        }
    }

    /// The tenant schema, when there is one.
    pub fn schema(&self) -> Option<&str> {
        match self {
            Scope::Database => None,
            Scope::Schema(s) => Some(s),
        }
    }

    fn try_lock(&self, client: &mut Client) -> Result<bool, Error> {
        let row = match self {
            Scope::Database => client.query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])?,
            Scope::Schema(s) => client.query_one(
                "SELECT pg_try_advisory_lock($1, hashtext($2))",
                &[&SCHEMA_LOCK_CLASS, s],
            )?,
        };
        Ok(row.get(0))
    }

    fn exists(&self, client: &mut Client) -> Result<bool, Error> {
        Ok(client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&self.table()])?
            .get(0))
    }
}

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
    /// Segments of the down file already run, while a `down` of this migration is unfinished.
    pub down_done: Option<i32>,
    /// The fingerprint of the catalog as this migration left it (or as a later drift check
    /// verified it), so a run with nothing to do compares instead of replaying.
    pub fingerprint: Option<String>,
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
pub fn lock(client: &mut Client, scope: &Scope, on_wait: impl FnOnce()) -> Result<(), Error> {
    let mut on_wait = Some(on_wait);
    loop {
        if scope.try_lock(client)? {
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
pub fn ensure(client: &mut Client, scope: &Scope) -> Result<(), Error> {
    let table = scope.table();
    if !scope.exists(client)? {
        let schema = match scope {
            Scope::Database => format!("CREATE SCHEMA IF NOT EXISTS {SCHEMA};"),
            Scope::Schema(_) => String::new(),
        };
        client.batch_execute(&format!(
            "{schema} CREATE TABLE IF NOT EXISTS {table} ({COLUMNS}); COMMENT ON TABLE {table} \
             IS {}",
            tenet_catalog::quote::literal(COMMENT)
        ))?;
        return Ok(());
    }
    // A history table from an older Tenet: the columns added since.
    for (column, kind) in [("down_done", "integer"), ("fingerprint", "text")] {
        let has: bool = client
            .query_one(
                "SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = \
                 to_regclass($2) AND attname = $1 AND NOT attisdropped)",
                &[&column, &table],
            )?
            .get(0);
        if !has {
            client.batch_execute(&format!("ALTER TABLE {table} ADD COLUMN {column} {kind}"))?;
        }
    }
    Ok(())
}

/// The history, oldest version first; empty when Tenet never ran here.
pub fn read(client: &mut Client, scope: &Scope) -> Result<Vec<Applied>, Error> {
    if !scope.exists(client)? {
        return Ok(Vec::new());
    }
    let rows = client.query(
        &format!(
            "SELECT version, name, checksum, to_char(applied_at AT TIME ZONE 'UTC', \
         'YYYY-MM-DD HH24:MI:SS\"Z\"'), duration_ms, applied_by, segments_done, segments_total, \
         baseline, (to_jsonb(m) ->> 'down_done')::integer, to_jsonb(m) ->> 'fingerprint' \
         FROM {} m ORDER BY version",
            scope.table()
        ),
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
            down_done: r.get(9),
            fingerprint: r.get(10),
        })
        .collect())
}

/// Record progress on a migration: insert its row at the first segment, update it after.
#[allow(clippy::too_many_arguments)]
pub fn record(
    client: &mut impl postgres::GenericClient,
    scope: &Scope,
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
        &format!(
            "INSERT INTO {} AS m (version, name, checksum, duration_ms, applied_by, \
             segments_done, segments_total, baseline) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (version) DO UPDATE SET segments_done = EXCLUDED.segments_done, \
             duration_ms = m.duration_ms + EXCLUDED.duration_ms, applied_at = now()",
            scope.table()
        ),
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

/// Record that the first `done` segments of a migration's down file ran.
pub fn record_down(
    client: &mut impl postgres::GenericClient,
    scope: &Scope,
    version: i64,
    done: i32,
) -> Result<(), Error> {
    client.execute(
        &format!(
            "UPDATE {} SET down_done = $2 WHERE version = $1",
            scope.table()
        ),
        &[&version, &done],
    )?;
    Ok(())
}

pub fn record_fingerprint(
    client: &mut impl postgres::GenericClient,
    scope: &Scope,
    version: i64,
    fingerprint: &str,
) -> Result<(), Error> {
    client.execute(
        &format!(
            "UPDATE {} SET fingerprint = $2 WHERE version = $1",
            scope.table()
        ),
        &[&version, &fingerprint],
    )?;
    Ok(())
}

/// The row whose fingerprint stands for the database now: the migration applied last, when
/// every migration is complete (a partly applied or reverted one has no such record).
pub fn reference(applied: &[Applied]) -> Option<&Applied> {
    if applied
        .iter()
        .any(|a| !a.is_complete() || a.down_done.is_some())
    {
        return None;
    }
    applied
        .iter()
        .max_by(|a, b| (&a.applied_at, a.version).cmp(&(&b.applied_at, b.version)))
}

pub fn forget(
    client: &mut impl postgres::GenericClient,
    scope: &Scope,
    version: i64,
) -> Result<(), Error> {
    client.execute(
        &format!("DELETE FROM {} WHERE version = $1", scope.table()),
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
