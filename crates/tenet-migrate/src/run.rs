//! Changing a live database: apply, down, status and baseline, each under the migration lock
//! and after checking that the directory, its sum file, the history and the schema agree.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::Client;
use tenet_pg::LazyServer;

use crate::history::{self, Applied};
use crate::replay::{check_drift, Extent};
use crate::segments::{self, Segment};
use crate::{dir, sum, Error, Migration};

/// How apply runs each statement.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Apply up to and including this version; all pending when absent.
    pub to: Option<i64>,
    /// Apply pending migrations older than the newest applied one (merged from a branch).
    pub allow_out_of_order: bool,
    /// How long a statement may wait for a lock before it gives up and is retried.
    pub lock_timeout: String,
    /// How many times a segment that timed out on a lock is tried again (with backoff).
    pub retries: u32,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            to: None,
            allow_out_of_order: false,
            lock_timeout: tenet_diff::LOCK_TIMEOUT.to_string(),
            retries: 3,
        }
    }
}

/// The directory's migrations, once its sum file is known to match.
pub fn load_checked(dir: &Path) -> Result<Vec<Migration>, Error> {
    sum::verify(dir)?;
    dir::load(dir)
}

/// Where each migration of the directory stands on a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Applied(Applied),
    /// Interrupted between segments; apply resumes it.
    Partial(Applied),
    Pending,
    /// Applied, but the up file changed since.
    Changed(Applied),
    /// Applied, but no file in the directory has its version.
    Missing(Applied),
}

#[derive(Debug, Clone)]
pub struct StatusLine {
    pub version: i64,
    pub name: String,
    pub state: State,
}

/// Every migration of the directory and of the history, in version order.
pub fn status(client: &mut Client, dir: &Path) -> Result<Vec<StatusLine>, Error> {
    let migrations = dir::load(dir)?;
    let applied = history::read(client)?;
    Ok(classify(&migrations, &applied))
}

fn classify(migrations: &[Migration], applied: &[Applied]) -> Vec<StatusLine> {
    let mut lines: BTreeMap<i64, StatusLine> = BTreeMap::new();
    for m in migrations {
        lines.insert(
            m.version,
            StatusLine {
                version: m.version,
                name: m.name.clone(),
                state: State::Pending,
            },
        );
    }
    for a in applied {
        let state = match migrations.iter().find(|m| m.version == a.version) {
            None => State::Missing(a.clone()),
            Some(m) if m.checksum != a.checksum => State::Changed(a.clone()),
            Some(_) if !a.is_complete() => State::Partial(a.clone()),
            Some(_) => State::Applied(a.clone()),
        };
        lines.insert(
            a.version,
            StatusLine {
                version: a.version,
                name: a.name.clone(),
                state,
            },
        );
    }
    lines.into_values().collect()
}

/// Refuse when history and directory disagree (a changed or missing file); otherwise what the
/// database should hold now (applied migrations and how far each got).
pub fn verify_history<'a>(
    migrations: &'a [Migration],
    applied: &[Applied],
    dir: &Path,
) -> Result<Vec<(&'a Migration, Extent)>, Error> {
    let mut expected = Vec::new();
    for a in applied {
        let Some(m) = migrations.iter().find(|m| m.version == a.version) else {
            return Err(Error::MissingFile(format!(
                "migration {} ({}) is applied but no file in {} has its version; restore \
                 {}_{}.up.sql",
                a.version,
                a.name,
                dir.display(),
                a.version,
                a.name
            )));
        };
        if m.checksum != a.checksum {
            return Err(Error::ChecksumChanged(format!(
                "{} changed after it was applied ({}): an applied migration must not be edited; \
                 restore it and write a new migration for the change",
                m.up_path.display(),
                a.applied_at
            )));
        }
        let extent = if a.is_complete() {
            Extent::All
        } else {
            Extent::Segments(a.segments_done as usize)
        };
        expected.push((m, extent));
    }
    Ok(expected)
}

/// Progress messages (one line each) for the user.
pub type Progress<'a> = &'a mut dyn FnMut(String);

/// Take the lock, create the history table if needed, and check directory, sum, history and
/// schema agree. Returns the history.
fn prepare(
    client: &mut Client,
    scratch: &LazyServer,
    dir: &Path,
    migrations: &[Migration],
    progress: Progress,
) -> Result<Vec<Applied>, Error> {
    history::lock(client, || {
        progress("waiting for another migration run on this database to finish".into())
    })?;
    history::ensure(client)?;
    let applied = history::read(client)?;
    let expected = verify_history(migrations, &applied, dir)?;
    check_drift(client, scratch, &expected)?;
    Ok(applied)
}

/// Apply pending migrations in version order (resuming one that was interrupted), each in its
/// own transaction with its history row. Returns the ids of the migrations applied.
pub fn apply(
    client: &mut Client,
    scratch: &LazyServer,
    dir: &Path,
    options: &ApplyOptions,
    progress: Progress,
) -> Result<Vec<String>, Error> {
    let migrations = load_checked(dir)?;
    if let Some(to) = options.to {
        if !migrations.iter().any(|m| m.version == to) {
            return Err(Error::Invalid(format!(
                "--to {to}: no migration in {} has that version",
                dir.display()
            )));
        }
    }
    let applied = prepare(client, scratch, dir, &migrations, progress)?;
    let newest_applied = applied.iter().map(|a| a.version).max();
    let mut pending: Vec<(&Migration, usize)> = Vec::new();
    for m in &migrations {
        match applied.iter().find(|a| a.version == m.version) {
            Some(a) if a.is_complete() => {}
            Some(a) => pending.push((m, a.segments_done as usize)),
            None => pending.push((m, 0)),
        }
    }
    pending.retain(|(m, _)| options.to.is_none_or(|to| m.version <= to));
    if let Some(newest) = newest_applied {
        let older: Vec<String> = pending
            .iter()
            .filter(|(m, done)| *done == 0 && m.version < newest)
            .map(|(m, _)| m.id())
            .collect();
        if !older.is_empty() && !options.allow_out_of_order {
            return Err(Error::OutOfOrder(format!(
                "{} older than {newest}, the newest applied migration: {}; apply with \
                 --allow-out-of-order if they do not depend on what came after, or give them \
                 a newer version",
                if older.len() == 1 {
                    "a pending migration is"
                } else {
                    "pending migrations are"
                },
                older.join(", ")
            )));
        }
    }
    let applied_by = history::applied_by(client)?;
    let mut done = Vec::new();
    for (migration, from_segment) in pending {
        let started = Instant::now();
        run_up(
            client,
            migration,
            from_segment,
            options,
            &applied_by,
            progress,
        )?;
        progress(format!(
            "applied {} in {} ms",
            migration.id(),
            started.elapsed().as_millis()
        ));
        done.push(migration.id());
    }
    Ok(done)
}

fn run_up(
    client: &mut Client,
    m: &Migration,
    from_segment: usize,
    options: &ApplyOptions,
    applied_by: &str,
    progress: Progress,
) -> Result<(), Error> {
    let file = m.up_path.display().to_string();
    let mut segments = segments::split(&file, &m.up_sql)?;
    if segments.is_empty() {
        // Comments only: nothing runs, but the migration is still recorded.
        segments.push(Segment {
            statements: Vec::new(),
            transactional: true,
            concurrent_index: None,
        });
    }
    let total = segments.len() as i32;
    client.batch_execute(&format!(
        "SET lock_timeout = {}",
        tenet_catalog::quote::literal(&options.lock_timeout)
    ))?;
    if from_segment > 0 {
        progress(format!(
            "resuming {} at segment {} of {total}",
            m.id(),
            from_segment + 1
        ));
        for setting in segments::session_settings(&m.up_sql, &segments[..from_segment]) {
            client.batch_execute(&setting)?;
        }
    }
    for (index, segment) in segments.iter().enumerate().skip(from_segment) {
        with_retries(options.retries, progress, &m.id(), || {
            let started = Instant::now();
            let done = Progressed {
                migration: m,
                applied_by,
                started,
                done: index as i32 + 1,
                total,
            };
            if segment.transactional {
                let mut tx = client.transaction().map_err(Attempt::Other)?;
                run_statements(&mut tx, m, &segment.statements)?;
                done.record(&mut tx)?;
                return tx.commit().map_err(Attempt::Other);
            }
            let built = match &segment.concurrent_index {
                Some(index) => prepare_concurrent_index(client, index).map_err(Attempt::Failed)?,
                None => false,
            };
            if !built {
                run_statements(client, m, &segment.statements)?;
            }
            done.record(client)
        })?;
    }
    Ok(())
}

/// A segment just finished: what its history row records.
struct Progressed<'a> {
    migration: &'a Migration,
    applied_by: &'a str,
    started: Instant,
    done: i32,
    total: i32,
}

impl Progressed<'_> {
    /// Record it, in the segment's own transaction when it has one.
    fn record(&self, client: &mut impl postgres::GenericClient) -> Result<(), Attempt> {
        let m = self.migration;
        let elapsed = self.started.elapsed().as_millis() as i64;
        history::record(
            client,
            m.version,
            &m.name,
            &m.checksum,
            elapsed,
            self.applied_by,
            self.done,
            self.total,
            false,
        )
        .map_err(Attempt::Failed)
    }
}

/// Before (re)running `CREATE INDEX CONCURRENTLY`: true when the index is already built; an
/// invalid index left by an interrupted build is dropped so the build can start over.
fn prepare_concurrent_index(
    client: &mut Client,
    index: &segments::ConcurrentIndex,
) -> Result<bool, Error> {
    let row = client.query_opt(
        "SELECT i.indisvalid, format('%I.%I', n.nspname, c.relname) FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE i.indrelid = to_regclass($1) AND c.relname = $2",
        &[&index.table, &index.index],
    )?;
    match row {
        None => Ok(false),
        Some(row) if row.get::<_, bool>(0) => Ok(true),
        Some(row) => {
            let name: String = row.get(1);
            client.batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {name}"))?;
            Ok(false)
        }
    }
}

/// Why one try of a segment failed.
enum Attempt {
    /// A statement of the migration failed (with its file position).
    Failed(Error),
    /// The connection or transaction itself failed.
    Other(postgres::Error),
}

impl From<Attempt> for Error {
    fn from(attempt: Attempt) -> Self {
        match attempt {
            Attempt::Failed(e) => e,
            Attempt::Other(e) => e.into(),
        }
    }
}

fn run_statements(
    client: &mut impl postgres::GenericClient,
    m: &Migration,
    statements: &[(usize, usize)],
) -> Result<(), Attempt> {
    for &(start, end) in statements {
        client
            .batch_execute(&m.up_sql[start..end])
            .map_err(|e| statement_failure(m, &m.up_sql, &m.up_path, (start, end), e))?;
    }
    Ok(())
}

fn statement_failure(
    m: &Migration,
    sql: &str,
    file: &Path,
    span: (usize, usize),
    e: postgres::Error,
) -> Attempt {
    let Some(db) = e.as_db_error() else {
        return Attempt::Other(e);
    };
    if db.code() == &SqlState::LOCK_NOT_AVAILABLE {
        return Attempt::Other(e);
    }
    let located = tenet_catalog::source::statement_error(file, sql, span, db);
    Attempt::Failed(Error::Failed(format!(
        "migration {} failed and was rolled back (nothing of the failing transaction stayed):\n{located}",
        m.id()
    )))
}

/// Run `attempt`, trying again after a lock timeout, up to `retries` more times with a growing
/// pause: a lock timeout means a long transaction held the table, which is worth waiting out.
fn with_retries(
    retries: u32,
    progress: Progress,
    id: &str,
    mut attempt: impl FnMut() -> Result<(), Attempt>,
) -> Result<(), Error> {
    let mut tries = 0;
    loop {
        match attempt() {
            Ok(()) => return Ok(()),
            Err(Attempt::Other(e)) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                if tries >= retries {
                    return Err(Error::Failed(format!(
                        "migration {id} could not get its locks after {} tries (lock_timeout each \
                         time); find the long transaction holding them (pg_stat_activity) and \
                         apply again",
                        tries + 1
                    )));
                }
                tries += 1;
                let pause = Duration::from_millis(500 << tries.min(5));
                progress(format!(
                    "{id}: lock timeout, trying again in {} ms ({tries} of {retries})",
                    pause.as_millis()
                ));
                std::thread::sleep(pause);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Revert the `count` newest applied migrations with their down files, newest first.
pub fn down(
    client: &mut Client,
    scratch: &LazyServer,
    dir: &Path,
    count: usize,
    progress: Progress,
) -> Result<Vec<String>, Error> {
    let migrations = load_checked(dir)?;
    let applied = prepare(client, scratch, dir, &migrations, progress)?;
    if let Some(partial) = applied.iter().find(|a| !a.is_complete()) {
        return Err(Error::Invalid(format!(
            "migration {} ({}) is partly applied; run `tenet migrate apply` to finish it first",
            partial.version, partial.name
        )));
    }
    let mut done = Vec::new();
    for a in applied.iter().rev().take(count) {
        let m = migrations
            .iter()
            .find(|m| m.version == a.version)
            .expect("verify_history found every applied file");
        let sql = m.down_sql()?;
        let path = m.down_path.clone().expect("down_sql checked it exists");
        let file = path.display().to_string();
        let segments = segments::split(&file, &sql)?;
        let down = Migration {
            up_sql: sql,
            up_path: path,
            ..m.clone()
        };
        let last = segments.len().saturating_sub(1);
        if segments.is_empty() {
            history::forget(client, m.version)?;
        }
        for (index, segment) in segments.iter().enumerate() {
            with_retries(3, progress, &down.id(), || {
                if segment.transactional {
                    let mut tx = client.transaction().map_err(Attempt::Other)?;
                    run_statements(&mut tx, &down, &segment.statements)?;
                    if index == last {
                        history::forget(&mut tx, m.version).map_err(Attempt::Failed)?;
                    }
                    tx.commit().map_err(Attempt::Other)
                } else {
                    run_statements(client, &down, &segment.statements)?;
                    if index == last {
                        history::forget(client, m.version).map_err(Attempt::Failed)?;
                    }
                    Ok(())
                }
            })?;
        }
        progress(format!("reverted {}", m.id()));
        done.push(m.id());
    }
    Ok(done)
}

/// Where an adopted project's history comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adopt {
    /// sqlx's `_sqlx_migrations` (every successful version).
    Sqlx,
    /// golang-migrate's `schema_migrations` (one version, refused when dirty).
    GolangMigrate,
}

impl Adopt {
    fn table(self) -> &'static str {
        match self {
            Adopt::Sqlx => "public._sqlx_migrations",
            Adopt::GolangMigrate => "public.schema_migrations",
        }
    }
}

/// Record every migration up to `version` as applied without running any: for a database the
/// migrations were already applied to by other means. With `adopt`, the version comes from the
/// other tool's history table. Refused when the database is not what those migrations build.
pub fn baseline(
    client: &mut Client,
    scratch: &LazyServer,
    dir: &Path,
    version: Option<i64>,
    adopt: Option<Adopt>,
    progress: Progress,
) -> Result<Vec<String>, Error> {
    let migrations = load_checked(dir)?;
    history::lock(client, || {
        progress("waiting for another migration run on this database to finish".into())
    })?;
    let adopted = match adopt {
        Some(tool) => Some(adopted_version(client, tool, &migrations, dir)?),
        None => None,
    };
    let upto = match (version, adopted) {
        (Some(v), Some(a)) if v != a => {
            return Err(Error::Invalid(format!(
                "version {v} was given but the {} history says {a}",
                adopt.expect("adopted implies a tool").table()
            )))
        }
        (Some(v), _) | (None, Some(v)) => v,
        (None, None) => {
            return Err(Error::Invalid(
                "baseline needs a VERSION, or --from sqlx|golang-migrate".into(),
            ))
        }
    };
    if !migrations.iter().any(|m| m.version == upto) {
        return Err(Error::MissingFile(format!(
            "no migration in {} has version {upto}",
            dir.display()
        )));
    }
    history::ensure(client)?;
    if !history::read(client)?.is_empty() {
        return Err(Error::Invalid(
            "this database already has Tenet migration history; baseline is for one that has none"
                .into(),
        ));
    }
    let covered: Vec<&Migration> = migrations.iter().filter(|m| m.version <= upto).collect();
    let expected: Vec<(&Migration, Extent)> = covered.iter().map(|m| (*m, Extent::All)).collect();
    check_drift(client, scratch, &expected)?;
    let applied_by = history::applied_by(client)?;
    let mut tx = client.transaction()?;
    for m in &covered {
        let total = segments::split(&m.up_path.display().to_string(), &m.up_sql)?
            .len()
            .max(1) as i32;
        history::record(
            &mut tx,
            m.version,
            &m.name,
            &m.checksum,
            0,
            &applied_by,
            total,
            total,
            true,
        )?;
    }
    tx.commit()?;
    Ok(covered.iter().map(|m| m.id()).collect())
}

/// The newest version another tool applied, after checking its history is clean and that
/// every version it applied is in the directory.
fn adopted_version(
    client: &mut Client,
    tool: Adopt,
    migrations: &[Migration],
    dir: &Path,
) -> Result<i64, Error> {
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&tool.table()])?
        .get(0);
    if !exists {
        return Err(Error::Invalid(format!(
            "{} does not exist in this database",
            tool.table()
        )));
    }
    let versions: Vec<i64> = match tool {
        Adopt::Sqlx => {
            let failed: i64 = client
                .query_one(
                    "SELECT count(*) FROM public._sqlx_migrations WHERE NOT success",
                    &[],
                )?
                .get(0);
            if failed > 0 {
                return Err(Error::Invalid(
                    "_sqlx_migrations records a failed migration; repair it with sqlx first".into(),
                ));
            }
            client
                .query(
                    "SELECT version FROM public._sqlx_migrations ORDER BY version",
                    &[],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect()
        }
        Adopt::GolangMigrate => {
            let row =
                client.query_opt("SELECT version, dirty FROM public.schema_migrations", &[])?;
            match row {
                None => Vec::new(),
                Some(r) if r.get::<_, bool>(1) => {
                    return Err(Error::Invalid(format!(
                        "schema_migrations is dirty at version {}: a migration failed halfway; \
                         fix it and run `migrate force` with golang-migrate first",
                        r.get::<_, i64>(0)
                    )))
                }
                Some(r) => vec![r.get(0)],
            }
        }
    };
    let Some(&newest) = versions.last() else {
        return Err(Error::Invalid(format!("{} is empty", tool.table())));
    };
    for v in versions {
        if !migrations.iter().any(|m| m.version == v) {
            return Err(Error::MissingFile(format!(
                "{} records version {v}, which no migration in {} has",
                tool.table(),
                dir.display()
            )));
        }
    }
    Ok(newest)
}
