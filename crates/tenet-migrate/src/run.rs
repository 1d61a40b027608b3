//! Changing a live database: apply, down, status and baseline, each under the migration lock
//! and after checking that the directory, its sum file, the history and the schema agree.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::Client;
use tenet_pg::LazyServer;

use crate::history::{self, Applied, Scope};
use crate::replay::{check_drift, Extent};
use crate::segments::{self, Effect, Segment};
use crate::{dir, sum, Error, Migration};

pub use crate::baseline::baseline;

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
    /// Its down was interrupted between segments; down resumes it.
    Reverting(Applied),
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
    let applied = history::read(client, &Scope::Database)?;
    Ok(classify(&migrations, &applied))
}

/// Where each migration of the directory (already loaded) stands, given a history.
pub fn classify(migrations: &[Migration], applied: &[Applied]) -> Vec<StatusLine> {
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
            Some(_) if a.down_done.is_some() => State::Reverting(a.clone()),
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
        let extent = match a.down_done {
            Some(done) => Extent::Reverting(done as usize),
            None if a.is_complete() => Extent::All,
            None => Extent::Segments(a.segments_done as usize),
        };
        expected.push((m, extent));
    }
    Ok(expected)
}

/// Progress messages (one line each) for the user.
pub type Progress<'a> = &'a mut dyn FnMut(String);

/// Take the lock, create the history table if needed, and check directory, sum, history and
/// schema agree. Returns the history.
///
/// A crash can cut a run off between a non-transactional statement and its history row; when
/// that statement's effect is there (the index built, the index gone), the drift check counts
/// it as done, and when the database agrees, history records it: a rerun resumes after it
/// instead of reporting drift.
fn prepare(
    client: &mut Client,
    scratch: &LazyServer,
    dir: &Path,
    migrations: &[Migration],
    scope: &Scope,
    progress: Progress,
) -> Result<Vec<Applied>, Error> {
    history::lock(client, scope, || {
        progress("waiting for another migration run on this database to finish".into())
    })?;
    history::ensure(client, scope)?;
    let applied = history::read(client, scope)?;
    let mut expected = verify_history(migrations, &applied, dir)?;
    let settled = settle(client, &mut expected)?;
    let reference = history::reference(&applied).filter(|_| settled.is_empty());
    let recorded = reference.and_then(|a| a.fingerprint.as_deref());
    let fingerprint = check_drift(client, scratch, &expected, recorded, scope)?;
    if let Some(reference) = reference.filter(|a| a.fingerprint.as_ref() != Some(&fingerprint)) {
        // Verified by a replay: the next run with nothing to do only compares.
        history::record_fingerprint(client, scope, reference.version, &fingerprint)?;
    }
    if settled.is_empty() {
        return Ok(applied);
    }
    for settle in &settled {
        settle.record(client, scope, progress)?;
    }
    history::read(client, scope)
}

/// A segment found done (its effect present) though history does not say so.
struct Settled<'a> {
    migration: &'a Migration,
    /// Segments done now, of `total`, in the up file, or (`down`) in the down file.
    done: usize,
    total: usize,
    down: bool,
}

impl Settled<'_> {
    fn record(&self, client: &mut Client, scope: &Scope, progress: Progress) -> Result<(), Error> {
        let m = self.migration;
        let (done, total) = (self.done as i32, self.total as i32);
        progress(format!(
            "{}: segment {done} of {total}{} had already taken effect (the run that started it \
             stopped before recording it); recorded it as done",
            m.id(),
            if self.down { " of its down file" } else { "" }
        ));
        match (self.down, done == total) {
            (true, true) => history::forget(client, scope, m.version),
            (true, false) => history::record_down(client, scope, m.version, done),
            (false, _) => history::record(
                client,
                scope,
                m.version,
                &m.name,
                &m.checksum,
                0,
                "", // the row exists (it is partly applied), so this is not used
                done,
                total,
                false,
            ),
        }
    }
}

/// What the database should hold, for a read-only check: history, with the segments whose
/// effect is already there (see [`prepare`]) counted as done.
pub fn expected_with_effects(
    client: &mut Client,
    expected: &mut [(&Migration, Extent)],
) -> Result<(), Error> {
    settle(client, expected).map(drop)
}

/// Move each partly applied (or partly reverted) migration's extent past the segments whose
/// effect is already in the database.
fn settle<'a>(
    client: &mut Client,
    expected: &mut [(&'a Migration, Extent)],
) -> Result<Vec<Settled<'a>>, Error> {
    let mut settled = Vec::new();
    for (m, extent) in expected.iter_mut() {
        let (done, down) = match *extent {
            Extent::All => continue,
            Extent::Segments(done) => (done, false),
            Extent::Reverting(done) => (done, true),
        };
        let segments = if down {
            let path = m.down_path.as_ref().map(|p| p.display().to_string());
            segments::split(&path.unwrap_or_default(), &m.down_sql()?)?
        } else {
            segments::split(&m.up_path.display().to_string(), &m.up_sql)?
        };
        let mut now = done;
        while let Some(effect) = segments.get(now).and_then(|s| s.effect.as_ref()) {
            if !effect_present(client, effect)? {
                break;
            }
            now += 1;
        }
        if now == done {
            continue;
        }
        *extent = match (down, now == segments.len()) {
            (true, _) => Extent::Reverting(now),
            (false, true) => Extent::All,
            (false, false) => Extent::Segments(now),
        };
        settled.push(Settled {
            migration: m,
            done: now,
            total: segments.len(),
            down,
        });
    }
    Ok(settled)
}

/// Whether a non-transactional index statement's effect is in the database: a valid index of
/// that name on that table, or the dropped index gone.
fn effect_present(client: &mut Client, effect: &Effect) -> Result<bool, Error> {
    Ok(match effect {
        Effect::IndexBuilt { table, index } => client
            .query_one(
                "SELECT EXISTS (SELECT FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                 WHERE i.indrelid = to_regclass($1) AND c.relname = $2 AND i.indisvalid)",
                &[table, index],
            )?
            .get(0),
        Effect::IndexDropped { index } => client
            .query_one("SELECT to_regclass($1) IS NULL", &[index])?
            .get(0),
    })
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
    apply_in(client, scratch, dir, options, &Scope::Database, progress)
}

/// [`apply`] to one scope: the whole database, or one tenant schema (with `search_path` set
/// to it for the rest of the session, which the caller owns).
pub fn apply_in(
    client: &mut Client,
    scratch: &LazyServer,
    dir: &Path,
    options: &ApplyOptions,
    scope: &Scope,
    progress: Progress,
) -> Result<Vec<String>, Error> {
    let migrations = load_checked(dir)?;
    enter(client, scope)?;
    if let Some(to) = options.to {
        if !migrations.iter().any(|m| m.version == to) {
            return Err(Error::Invalid(format!(
                "--to {to}: no migration in {} has that version",
                dir.display()
            )));
        }
    }
    let applied = prepare(client, scratch, dir, &migrations, scope, progress)?;
    if let Some(reverting) = applied.iter().find(|a| a.down_done.is_some()) {
        return Err(Error::Invalid(format!(
            "migration {} ({}) is partly reverted; run `tenet migrate down` to finish reverting \
             it first",
            reverting.version, reverting.name
        )));
    }
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
    // Every pending file is checked (parse, transaction control) before any of them runs.
    let mut checked = Vec::new();
    for (migration, from_segment) in pending {
        let segments =
            segments::split(&migration.up_path.display().to_string(), &migration.up_sql)?;
        checked.push((migration, segments, from_segment));
    }
    let applied_by = history::applied_by(client)?;
    let mut done = Vec::new();
    let mut last = None;
    for (migration, segments, from_segment) in checked {
        let started = Instant::now();
        run_up(
            client,
            migration,
            segments,
            from_segment,
            options,
            (scope, &applied_by),
            progress,
        )?;
        progress(format!(
            "applied {} in {} ms",
            migration.id(),
            started.elapsed().as_millis()
        ));
        done.push(migration.id());
        last = Some(migration.version);
    }
    // What the run left, so the next run with nothing to do compares instead of replaying.
    if let Some(version) = last {
        let fingerprint = crate::replay::live_fingerprint(client, scope)?;
        history::record_fingerprint(client, scope, version, &fingerprint)?;
    }
    Ok(done)
}

/// Check a tenant schema exists and point the session's `search_path` at it (quoted: the name
/// comes from a control query or a catalog, not from Tenet).
pub fn enter(client: &mut Client, scope: &Scope) -> Result<(), Error> {
    let Some(schema) = scope.schema() else {
        return Ok(());
    };
    let exists: bool = client
        .query_one(
            "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)",
            &[&schema],
        )?
        .get(0);
    if !exists {
        return Err(Error::Invalid(format!(
            "schema {} does not exist",
            tenet_catalog::quote::ident(schema)
        )));
    }
    client.batch_execute(&format!(
        "SET search_path = {}",
        tenet_catalog::quote::ident(schema)
    ))?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn run_up(
    client: &mut Client,
    m: &Migration,
    mut segments: Vec<Segment>,
    from_segment: usize,
    options: &ApplyOptions,
    (scope, applied_by): (&Scope, &str),
    progress: Progress,
) -> Result<(), Error> {
    if segments.is_empty() {
        // Comments only: nothing runs, but the migration is still recorded.
        segments.push(Segment {
            statements: Vec::new(),
            transactional: true,
            effect: None,
        });
    }
    let total = segments.len() as i32;
    set_lock_timeout(client, &options.lock_timeout)?;
    if let Some(offset) = segments::sets_lock_timeout(&m.up_sql, &segments) {
        let (line, column) = segments::line_column(&m.up_sql, offset);
        progress(format!(
            "{}:{line}:{column}: the file sets lock_timeout itself; its value wins over \
             --lock-timeout {} for this migration",
            m.up_path.display(),
            options.lock_timeout
        ));
    }
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
    if from_segment == 0 && !segments[0].transactional {
        // A row before the first statement that commits by itself, so a crash right after it
        // leaves history that knows the migration started.
        Progressed {
            migration: m,
            scope,
            applied_by,
            started: Instant::now(),
            done: 0,
            total,
        }
        .record(client)?;
    }
    for (index, segment) in segments.iter().enumerate().skip(from_segment) {
        let at = Failing {
            index,
            total: total as usize,
            transactional: segment.transactional,
        };
        with_retries(options.retries, progress, &m.id(), || {
            let started = Instant::now();
            let done = Progressed {
                migration: m,
                scope,
                applied_by,
                started,
                done: index as i32 + 1,
                total,
            };
            if segment.transactional {
                let mut tx = client.transaction().map_err(Attempt::Other)?;
                run_statements(&mut tx, m, &segment.statements, &at)?;
                done.record(&mut tx)?;
                return tx.commit().map_err(Attempt::Other);
            }
            let done_already = match &segment.effect {
                Some(effect) => prepare_effect(client, effect).map_err(Attempt::Failed)?,
                None => false,
            };
            if !done_already {
                run_statements(client, m, &segment.statements, &at)?;
            }
            done.record(client)
        })?;
    }
    Ok(())
}

/// A segment just finished: what its history row records.
struct Progressed<'a> {
    migration: &'a Migration,
    scope: &'a Scope,
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
            self.scope,
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

/// Before (re)running a non-transactional index statement: true when its effect is already
/// there. An invalid index left by an interrupted `CREATE INDEX CONCURRENTLY` is dropped so the
/// build can start over.
fn prepare_effect(client: &mut Client, effect: &Effect) -> Result<bool, Error> {
    if effect_present(client, effect)? {
        return Ok(true);
    }
    let Effect::IndexBuilt { table, index } = effect else {
        return Ok(false);
    };
    let invalid = client.query_opt(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE i.indrelid = to_regclass($1) AND c.relname = $2 AND NOT i.indisvalid",
        &[table, index],
    )?;
    if let Some(row) = invalid {
        let name: String = row.get(0);
        client.batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {name}"))?;
    }
    Ok(false)
}

fn set_lock_timeout(client: &mut Client, lock_timeout: &str) -> Result<(), Error> {
    client.batch_execute(&format!(
        "SET lock_timeout = {}",
        tenet_catalog::quote::literal(lock_timeout)
    ))?;
    Ok(())
}

/// Why one try of a segment failed.
enum Attempt {
    /// A statement of the migration failed (with its file position).
    Failed(Error),
    /// The connection or transaction itself failed.
    Other(postgres::Error),
}

impl From<Error> for Attempt {
    fn from(e: Error) -> Self {
        Attempt::Failed(e)
    }
}

impl From<Attempt> for Error {
    fn from(attempt: Attempt) -> Self {
        match attempt {
            Attempt::Failed(e) => e,
            Attempt::Other(e) => e.into(),
        }
    }
}

/// Where a failing statement was: its segment, and whether that ran in a transaction.
struct Failing {
    index: usize,
    total: usize,
    transactional: bool,
}

impl Failing {
    /// What stayed of the migration, for the failure message.
    fn describe(&self, id: &str) -> String {
        let what = if self.transactional {
            format!("migration {id} failed and was rolled back (nothing of the failing transaction stayed)")
        } else {
            format!(
                "migration {id} failed in a statement that runs outside a transaction (what it \
                 committed before failing stays)"
            )
        };
        if self.index == 0 && self.total == 1 {
            return what;
        }
        format!(
            "{what}; segment {} of {} failed, the {} before it stay applied and recorded, and \
             the next run resumes at the failing one",
            self.index + 1,
            self.total,
            self.index
        )
    }
}

fn run_statements(
    client: &mut impl postgres::GenericClient,
    m: &Migration,
    statements: &[(usize, usize)],
    at: &Failing,
) -> Result<(), Attempt> {
    for &(start, end) in statements {
        client
            .batch_execute(&m.up_sql[start..end])
            .map_err(|e| statement_failure(m, (start, end), e, at))?;
    }
    Ok(())
}

fn statement_failure(
    m: &Migration,
    span: (usize, usize),
    e: postgres::Error,
    at: &Failing,
) -> Attempt {
    let Some(db) = e.as_db_error() else {
        return Attempt::Other(e);
    };
    if db.code() == &SqlState::LOCK_NOT_AVAILABLE {
        return Attempt::Other(e);
    }
    let located = tenet_catalog::source::statement_error(&m.up_path, &m.up_sql, span, db);
    Attempt::Failed(Error::Failed(format!(
        "{}:\n{located}",
        at.describe(&m.id())
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

/// Revert the `count` newest applied migrations with their down files, newest first. Each
/// down segment is recorded as it commits (`down_done`), so a rerun after a failure or a crash
/// resumes where it stopped.
pub fn down(
    client: &mut Client,
    scratch: &LazyServer,
    dir: &Path,
    count: usize,
    lock_timeout: &str,
    progress: Progress,
) -> Result<Vec<String>, Error> {
    let migrations = load_checked(dir)?;
    let scope = &Scope::Database;
    let applied = prepare(client, scratch, dir, &migrations, scope, progress)?;
    if let Some(partial) = applied.iter().find(|a| !a.is_complete()) {
        return Err(Error::Invalid(format!(
            "migration {} ({}) is partly applied; run `tenet migrate apply` to finish it first",
            partial.version, partial.name
        )));
    }
    // Every down file is checked before any of them runs.
    let mut checked = Vec::new();
    for a in applied.iter().rev().take(count) {
        let m = migrations
            .iter()
            .find(|m| m.version == a.version)
            .expect("verify_history found every applied file");
        let sql = m.down_sql()?;
        let path = m.down_path.clone().expect("down_sql checked it exists");
        let segments = segments::split(&path.display().to_string(), &sql)?;
        let down = Migration {
            up_sql: sql,
            up_path: path,
            ..m.clone()
        };
        checked.push((down, segments, a.down_done.unwrap_or(0) as usize));
    }
    set_lock_timeout(client, lock_timeout)?;
    let mut done = Vec::new();
    for (down, segments, from) in checked {
        let version = down.version;
        if segments.is_empty() {
            history::forget(client, scope, version)?;
        }
        if from > 0 {
            progress(format!(
                "resuming the down of {} at segment {} of {}",
                down.id(),
                from + 1,
                segments.len()
            ));
            for setting in segments::session_settings(&down.up_sql, &segments[..from]) {
                client.batch_execute(&setting)?;
            }
        }
        let total = segments.len();
        if from == 0 && segments.first().is_some_and(|s| !s.transactional) {
            // As apply does: a crash after a statement that commits by itself must find the
            // down already started in history.
            history::record_down(client, scope, version, 0)?;
        }
        for (index, segment) in segments.iter().enumerate().skip(from) {
            let at = Failing {
                index,
                total,
                transactional: segment.transactional,
            };
            with_retries(3, progress, &down.id(), || {
                if segment.transactional {
                    let mut tx = client.transaction().map_err(Attempt::Other)?;
                    run_statements(&mut tx, &down, &segment.statements, &at)?;
                    record_down(&mut tx, scope, version, index + 1, total)?;
                    return tx.commit().map_err(Attempt::Other);
                }
                let done_already = match &segment.effect {
                    Some(effect) => prepare_effect(client, effect).map_err(Attempt::Failed)?,
                    None => false,
                };
                if !done_already {
                    run_statements(client, &down, &segment.statements, &at)?;
                }
                record_down(client, scope, version, index + 1, total)
            })?;
        }
        progress(format!("reverted {}", down.id()));
        done.push(down.id());
    }
    Ok(done)
}

/// After down segment `done` of `total`: the row goes with the last, else records progress.
fn record_down(
    client: &mut impl postgres::GenericClient,
    scope: &Scope,
    version: i64,
    done: usize,
    total: usize,
) -> Result<(), Attempt> {
    if done == total {
        history::forget(client, scope, version)
    } else {
        history::record_down(client, scope, version, done as i32)
    }
    .map_err(Attempt::Failed)
}
