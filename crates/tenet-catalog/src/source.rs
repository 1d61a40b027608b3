//! Schema sources as SQL: finding `.sql` files and applying them to a scratch database in a
//! sandbox, with PostgreSQL's errors (and the gate's refusals) pinned to file, line and column.

use std::path::{Path, PathBuf};

use std::collections::BTreeSet;

use postgres::error::{ErrorPosition, SqlState};
use tenet_pg::Sandbox;

use crate::gate::{self, Action};
use crate::{Error, SqlError};

/// The `.sql` files a path stands for: the file itself, or every `.sql` file under a directory
/// (recursively), in path order so numbered files apply in sequence. A migrations directory
/// (one holding `*.up.sql` files) stands for its up migrations only, in numeric version order
/// (as `tenet migrate` applies them): replaying them gives the schema the migrations build.
pub fn sql_files(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let meta = std::fs::metadata(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    collect_sql_files(path, &mut files)?;
    let is_up = |f: &PathBuf| f.to_string_lossy().ends_with(".up.sql");
    if files.iter().any(is_up) {
        files.retain(is_up);
        crate::migrations::sort_up_files(&mut files);
    } else {
        files.sort();
    }
    if files.is_empty() {
        return Err(Error::Input(format!(
            "{} holds no .sql files",
            path.display()
        )));
    }
    Ok(files)
}

fn collect_sql_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect_sql_files(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "sql") {
            files.push(path);
        }
    }
    Ok(())
}

/// Apply every file in the sandbox (see [`crate::gate`] for what runs where). Every file is
/// vetted before any of them runs, so a refused statement changes nothing.
///
/// Schema files may come in any order: a statement that fails only because an object it
/// names does not exist yet is set aside and retried after the rest, to a fixed point, under
/// the search_path it was written under; one that never succeeds is reported with the error
/// of its last try. Migrations (`*.up.sql`) stay strictly in order, as `tenet migrate` runs them.
pub fn apply_files(sandbox: &mut Sandbox, files: &[PathBuf]) -> Result<(), Error> {
    let mut sources = Vec::with_capacity(files.len());
    for file in files {
        let sql = std::fs::read_to_string(file).map_err(|source| Error::Io {
            path: file.clone(),
            source,
        })?;
        sources.push((file.clone(), sql));
    }
    let migrations = files
        .iter()
        .all(|f| f.to_string_lossy().ends_with(".up.sql"));
    apply_sources(sandbox, &sources, !migrations)
}

/// [`apply_files`] for desired-state SQL that is not in a file (MCP's `desired_sql`): in any
/// order, errors placed in `name`.
pub fn apply_schema_script(sandbox: &mut Sandbox, name: &Path, sql: &str) -> Result<(), Error> {
    apply_sources(sandbox, &[(name.to_path_buf(), sql.to_string())], true)
}

/// Vet every source, then run them; with `any_order`, retry what names objects created later.
fn apply_sources(
    sandbox: &mut Sandbox,
    sources: &[(PathBuf, String)],
    any_order: bool,
) -> Result<(), Error> {
    let mut created = sandbox.created_roles();
    let mut scripts = Vec::with_capacity(sources.len());
    for (file, sql) in sources {
        let statements = vet(file, sql, &mut created)?;
        scripts.push((file, sql.as_str(), statements));
    }
    let mut deferred = Vec::new();
    for (index, (file, sql, statements)) in scripts.iter().enumerate() {
        let mut from = 0;
        while let Err(failure) = run(sandbox, file, sql, statements, from) {
            if !any_order || !failure.missing || in_failed_transaction(sandbox) {
                return Err(failure.error);
            }
            deferred.push(Deferred {
                script: index,
                statement: failure.at,
                search_path: current_search_path(sandbox)?,
                error: failure.error,
            });
            from = failure.at + 1;
        }
    }
    retry(sandbox, &scripts, deferred)
}

/// A statement set aside because something it names did not exist when it ran.
struct Deferred {
    script: usize,
    statement: usize,
    search_path: String,
    error: Error,
}

/// Retry the deferred statements, in their original order, until all have run or a whole
/// pass makes no progress; then the first of those left is the error.
fn retry(
    sandbox: &mut Sandbox,
    scripts: &[(&PathBuf, &str, Vetted)],
    mut deferred: Vec<Deferred>,
) -> Result<(), Error> {
    if deferred.is_empty() {
        return Ok(());
    }
    // The session ends with the search_path the SQL left it with, as without retries.
    let last = current_search_path(sandbox)?;
    while !deferred.is_empty() {
        let before = deferred.len();
        let mut left = Vec::new();
        for item in deferred {
            let (file, sql, statements) = &scripts[item.script];
            let one = &statements[item.statement..=item.statement];
            set_search_path(sandbox, &item.search_path)?;
            match run(sandbox, file, sql, one, 0) {
                Ok(()) => {}
                Err(failure) if failure.missing && !in_failed_transaction(sandbox) => {
                    left.push(Deferred {
                        error: failure.error,
                        ..item
                    })
                }
                Err(failure) => return Err(failure.error),
            }
        }
        if left.len() == before {
            return Err(left.swap_remove(0).error);
        }
        deferred = left;
    }
    Ok(set_search_path(sandbox, &last)?)
}

/// The sandbox session's search_path.
fn current_search_path(sandbox: &mut Sandbox) -> Result<String, postgres::Error> {
    Ok(sandbox
        .with_client(|c| c.query_one("SELECT current_setting('search_path')", &[]))?
        .get(0))
}

/// Set the sandbox session's search_path (for the session, as `SET` does).
fn set_search_path(sandbox: &mut Sandbox, path: &str) -> Result<(), postgres::Error> {
    let set = format!(
        "SELECT set_config('search_path', {}, false)",
        crate::quote::literal(path)
    );
    sandbox.execute(&set)
}

/// Whether the session is inside an explicit transaction that an error aborted: what ran in
/// it is lost, so nothing after it can be retried.
fn in_failed_transaction(sandbox: &mut Sandbox) -> bool {
    sandbox.execute("SELECT 1").is_err()
}

/// Apply the files and read back the catalog they build, owned by the privileged user.
pub fn load(sandbox: &mut Sandbox, files: &[PathBuf]) -> Result<crate::Catalog, Error> {
    apply_files(sandbox, files)?;
    sandbox.finish()?;
    crate::inspect(sandbox.admin())
}

/// Apply one script in the sandbox. Consecutive statements that run as the sandbox role go to
/// the server in one round trip; when PostgreSQL rejects such a batch without saying where (or
/// because a statement such as `CREATE INDEX CONCURRENTLY` must run alone), its statements run
/// one by one, so the error can point at the statement that failed.
pub fn apply_script(sandbox: &mut Sandbox, file: &Path, sql: &str) -> Result<(), Error> {
    let mut created = sandbox.created_roles();
    let statements = vet(file, sql, &mut created)?;
    run(sandbox, file, sql, &statements, 0).map_err(|f| f.error)
}

/// Whether the statement at `span` of `sql` is one the gate does not simply run as the
/// sandbox role (privileged, skipped or refused): callers that drive the sandbox session
/// themselves (the lint replay) hand those to [`apply_statement`].
pub fn is_gated(sandbox: &Sandbox, sql: &str, span: (usize, usize)) -> bool {
    let text = &sql[span.0..span.1];
    // Most statements cannot be (by their first word): skip the parse for them.
    let first = text[skip_blank(text)..]
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_lowercase();
    let verbs = [
        "create", "alter", "drop", "grant", "revoke", "set", "reset", "copy", "load", "do",
        "comment",
    ];
    if !verbs.contains(&first.as_str()) {
        return false;
    }
    // Of the DDL, only these objects (or OWNER TO) can be.
    let objects = [
        "extension",
        "role",
        "user",
        "group",
        "owner",
        "database",
        "system",
        "tablespace",
        "publication",
        "event",
    ];
    let lower = text.to_ascii_lowercase();
    if matches!(first.as_str(), "create" | "alter" | "drop" | "comment")
        && !objects.iter().any(|w| lower.contains(w))
    {
        return false;
    }
    let mut created = sandbox.created_roles();
    let Ok(parsed) = pg_query::parse(text, pg_query::ParserOptions::DEFAULT) else {
        return false;
    };
    parsed.protobuf.stmts.iter().any(|raw| {
        let node = raw.stmt.as_ref().and_then(|n| n.node.as_ref());
        gate::classify(node, &mut created) != Action::Run
    })
}

/// Vet and run the one statement at `span` of `sql` (the text of `file`), errors placed in
/// the whole file.
pub fn apply_statement(
    sandbox: &mut Sandbox,
    file: &Path,
    sql: &str,
    span: (usize, usize),
) -> Result<(), Error> {
    let mut created = sandbox.created_roles();
    let statements: Vetted = vet(file, &sql[span.0..span.1], &mut created)
        .map_err(|e| shift(e, sql, span.0))?
        .into_iter()
        .map(|((start, end), action)| ((span.0 + start, span.0 + end), action))
        .collect();
    run(sandbox, file, sql, &statements, 0).map_err(|f| f.error)
}

/// An error placed in a piece of `sql` starting at `base`, placed in the whole text instead.
fn shift(err: Error, sql: &str, base: usize) -> Error {
    match err {
        Error::Sql(mut e) => {
            let before = &sql[..base];
            let lines = before.matches('\n').count();
            if e.line == 1 {
                let line_start = before.rfind('\n').map_or(0, |i| i + 1);
                e.column += sql[line_start..base].chars().count();
            }
            e.line += lines;
            Error::Sql(e)
        }
        other => other,
    }
}

type Vetted = Vec<((usize, usize), Action)>;

/// The statements of a script with what the gate says of each; the first refusal is an error.
/// A script that does not parse is one statement, for PostgreSQL to reject with its position.
fn vet(file: &Path, sql: &str, created: &mut BTreeSet<String>) -> Result<Vetted, Error> {
    let Ok(parsed) = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT) else {
        return Ok(vec![((0, sql.len()), Action::Run)]);
    };
    let mut out = Vec::with_capacity(parsed.protobuf.stmts.len());
    for (raw, span) in parsed.protobuf.stmts.iter().zip(spans(&parsed, sql)) {
        let node = raw.stmt.as_ref().and_then(|n| n.node.as_ref());
        match gate::classify(node, created) {
            Action::Refuse(why) => {
                let offset = span.0 + skip_blank(&sql[span.0..span.1]);
                return Err(located(file, sql, offset, format!("refused: {why}"), None));
            }
            action => out.push((span, action)),
        }
    }
    Ok(out)
}

/// Why a script stopped: the error of its statement `at`, and whether the statement failed
/// only because an object it names does not exist (yet).
struct Failure {
    at: usize,
    error: Error,
    missing: bool,
}

impl Failure {
    fn new(at: usize, error: Error) -> Self {
        Failure {
            at,
            error,
            missing: false,
        }
    }

    fn from_db(at: usize, error: Error, err: &postgres::Error) -> Self {
        let missing = err.code().is_some_and(names_missing_object);
        Failure { at, error, missing }
    }
}

/// The SQLSTATEs of a statement that names a relation, type, function, schema or column that
/// does not exist, or a foreign key whose referenced key does not exist yet.
fn names_missing_object(code: &SqlState) -> bool {
    [
        SqlState::UNDEFINED_TABLE,
        SqlState::UNDEFINED_OBJECT,
        SqlState::UNDEFINED_FUNCTION,
        SqlState::INVALID_SCHEMA_NAME,
        SqlState::UNDEFINED_COLUMN,
        SqlState::INVALID_FOREIGN_KEY,
    ]
    .contains(code)
}

/// Run the statements of one script from the one at `from` on.
fn run(
    sandbox: &mut Sandbox,
    file: &Path,
    sql: &str,
    statements: &[((usize, usize), Action)],
    from: usize,
) -> Result<(), Failure> {
    let mut batch: Vec<usize> = Vec::new();
    for (index, (span, action)) in statements.iter().enumerate().skip(from) {
        if *action == Action::Run {
            batch.push(index);
            continue;
        }
        flush(sandbox, file, sql, statements, std::mem::take(&mut batch))?;
        let text = &sql[span.0..span.1];
        let fail = |e: postgres::Error, sandbox: &Sandbox| {
            let error = failed(sandbox, file, sql, *span, &e);
            Failure::from_db(index, error, &e)
        };
        let refuse = |why: String| {
            let offset = span.0 + skip_blank(text);
            Failure::new(
                index,
                located(file, sql, offset, format!("refused: {why}"), None),
            )
        };
        match action {
            Action::Run | Action::Refuse(_) => unreachable!("handled above"),
            Action::Extension(name) => {
                let available =
                    extension_available(sandbox, name).map_err(|e| Failure::new(index, e))?;
                if available {
                    // The extension goes where the SQL's search_path says, as it would have.
                    let sql = with_search_path(sandbox, text).map_err(|e| fail(e, sandbox))?;
                    sandbox
                        .execute_privileged(&sql)
                        .map_err(|e| fail(e, sandbox))?;
                    allow_wrappers(sandbox, name).map_err(|e| fail(e, sandbox))?;
                } else {
                    // PostgreSQL says why it cannot.
                    sandbox.execute(text).map_err(|e| fail(e, sandbox))?;
                }
            }
            Action::CreateRole(name) => {
                sandbox
                    .create_role(name, text)
                    .map_err(|e| fail(e, sandbox))?;
            }
            Action::CreateRoles(roles) => {
                for (name, create) in roles {
                    sandbox
                        .create_role(name, create)
                        .map_err(|e| fail(e, sandbox))?;
                }
            }
            Action::AlterRole(name) => {
                if !sandbox.created_role(name) {
                    return Err(refuse(format!(
                        "ALTER ROLE {name}: the role existed before this SQL ran; left unchanged"
                    )));
                }
                sandbox
                    .execute_privileged(text)
                    .map_err(|e| fail(e, sandbox))?;
            }
            Action::DropRoles(names) => {
                if let Some(other) = names.iter().find(|n| !sandbox.created_role(n)) {
                    return Err(refuse(format!(
                        "DROP ROLE {other}: the role existed before this SQL ran"
                    )));
                }
                sandbox
                    .execute_privileged(text)
                    .map_err(|e| fail(e, sandbox))?;
                for name in names {
                    sandbox.forget_role(name);
                }
            }
            Action::OwnerTo(role) => {
                if !sandbox.is_privileged_role(role) {
                    sandbox.execute(text).map_err(|e| fail(e, sandbox))?;
                }
            }
            Action::Publication(name) => {
                let sql = with_search_path(sandbox, text).map_err(|e| fail(e, sandbox))?;
                sandbox
                    .create_privileged(tenet_pg::PUBLICATION, name, &sql)
                    .map_err(|e| fail(e, sandbox))?;
            }
            Action::EventTrigger(name) => {
                let sql = with_search_path(sandbox, text).map_err(|e| fail(e, sandbox))?;
                sandbox
                    .create_event_trigger(name, &sql)
                    .map_err(|e| fail(e, sandbox))?;
            }
            Action::EventTriggerState(name, state) => {
                if !sandbox.set_event_trigger_state(name, state) {
                    // Not one of this SQL's: PostgreSQL says why it cannot.
                    sandbox.execute(text).map_err(|e| fail(e, sandbox))?;
                }
            }
            Action::OnPrivileged(objects) => {
                let ours = !objects.is_empty()
                    && objects
                        .iter()
                        .all(|(kind, name)| sandbox.created_privileged(kind, name));
                if !ours {
                    sandbox.execute(text).map_err(|e| fail(e, sandbox))?;
                    continue;
                }
                sandbox
                    .execute_privileged(text)
                    .map_err(|e| fail(e, sandbox))?;
                if text[skip_blank(text)..]
                    .get(..4)
                    .is_some_and(|verb| verb.eq_ignore_ascii_case("drop"))
                {
                    for (kind, name) in objects {
                        sandbox.forget_privileged(kind, name);
                    }
                }
            }
        }
    }
    flush(sandbox, file, sql, statements, batch)
}

/// `text` preceded by setting the sandbox session's search_path, to run on the privileged
/// session (in one round trip) with the names resolved as the SQL wrote them. The setting is
/// local to that round trip's transaction, so the privileged session's later statements never
/// resolve names in schemas the SQL controls.
fn with_search_path(sandbox: &mut Sandbox, text: &str) -> Result<String, postgres::Error> {
    let path = current_search_path(sandbox)?;
    Ok(format!(
        "SELECT set_config('search_path', {}, true);\n{text}",
        crate::quote::literal(&path)
    ))
}

/// Let the sandbox role create servers of the foreign data wrappers extension `name` brings
/// (`postgres_fdw`, `file_fdw`): `USAGE` on one. It lets the role do nothing `dblink`, whose
/// functions anyone may run, does not already (reach a server that asks a password); what it
/// may read is still bounded by the wrapper's own checks (file_fdw's filenames need
/// `pg_read_server_files`). [`Sandbox::finish`] revokes it with `DROP OWNED`.
fn allow_wrappers(sandbox: &mut Sandbox, name: &str) -> Result<(), postgres::Error> {
    let wrappers: Vec<String> = sandbox
        .admin()
        .query(
            "SELECT w.fdwname::text FROM pg_foreign_data_wrapper w \
             JOIN pg_depend d ON d.classid = 'pg_foreign_data_wrapper'::regclass \
             AND d.objid = w.oid AND d.deptype = 'e' \
             JOIN pg_extension e ON e.oid = d.refobjid WHERE e.extname = $1",
            &[&name],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let role = crate::quote::ident(sandbox.role());
    for wrapper in wrappers {
        sandbox.execute_privileged(&format!(
            "GRANT USAGE ON FOREIGN DATA WRAPPER {} TO {role}",
            crate::quote::ident(&wrapper)
        ))?;
    }
    Ok(())
}

fn extension_available(sandbox: &mut Sandbox, name: &str) -> Result<bool, Error> {
    Ok(sandbox
        .admin()
        .query_opt(
            "SELECT 1 FROM pg_available_extensions WHERE name = $1",
            &[&name],
        )?
        .is_some())
}

/// Run consecutive statements (indices into `statements`) as the sandbox role in one round
/// trip. When the batch fails, the statements before the failing one are run again (a
/// multi-statement batch is one implicit transaction, so nothing of it stayed) and the
/// failure names the statement that failed.
fn flush(
    sandbox: &mut Sandbox,
    file: &Path,
    sql: &str,
    statements: &[((usize, usize), Action)],
    batch: Vec<usize>,
) -> Result<(), Failure> {
    let (Some(&first), Some(&last)) = (batch.first(), batch.last()) else {
        return Ok(());
    };
    let span = |index: usize| statements[index].0;
    let start = span(first).0;
    let text = &sql[start..span(last).1];
    let err = match sandbox.execute(text) {
        Ok(()) => return Ok(()),
        Err(err) => err,
    };
    let fail = |index: usize, err: &postgres::Error, sandbox: &Sandbox| {
        let error = failed(sandbox, file, sql, span(index), err);
        Failure::from_db(index, error, err)
    };
    if batch.len() == 1 {
        return Err(fail(first, &err, sandbox));
    }
    let Some(db) = err.as_db_error() else {
        return Err(Failure::new(first, err.into()));
    };
    // Where PostgreSQL says which statement failed, run the ones before it in one batch.
    let offset = error_offset(db, text).filter(|_| *db.code() != SqlState::QUERY_CANCELED);
    if let Some(offset) = offset {
        let position = batch
            .iter()
            .position(|&i| start + offset < span(i).1 || i == last)
            .unwrap_or(batch.len() - 1);
        if let Some(&before) = position.checked_sub(1).map(|p| &batch[p]) {
            let ran = sandbox.execute(&sql[start..span(before).1]);
            if let Err(err) = ran {
                return Err(fail(before, &err, sandbox));
            }
        }
        let index = batch[position];
        let error = sql_error(file, sql, start + offset, db);
        return Err(Failure::from_db(index, error, &err));
    }
    for index in batch {
        if let Err(err) = sandbox.execute(&sql[span(index).0..span(index).1]) {
            return Err(fail(index, &err, sandbox));
        }
    }
    Ok(())
}

/// The error for the statement at `span`; a statement canceled for running too long says so.
fn failed(
    sandbox: &Sandbox,
    file: &Path,
    sql: &str,
    span: (usize, usize),
    err: &postgres::Error,
) -> Error {
    let Some(db) = err.as_db_error() else {
        return Error::Db(err.to_string());
    };
    if *db.code() == SqlState::QUERY_CANCELED {
        let offset = span.0 + skip_blank(&sql[span.0..span.1]);
        let message = format!(
            "the statement ran longer than the statement timeout ({}) and was canceled",
            seconds(sandbox.timeout())
        );
        let hint = "raise the limit with --statement-timeout or TENET_STATEMENT_TIMEOUT";
        return located(file, sql, offset, message, Some(hint.to_string()));
    }
    let mut error = statement_error(file, sql, span, db);
    if let Error::Sql(e) = &mut error {
        if *db.code() == SqlState::INSUFFICIENT_PRIVILEGE && e.hint.is_none() {
            e.hint = Some(format!(
                "schema SQL runs as an unprivileged role ({}), so what needs a superuser or                  another role's rights cannot run in it",
                sandbox.role()
            ));
        }
    }
    error
}

/// `2s`, `1.5s`.
fn seconds(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}s", s as u64)
    } else {
        format!("{s}s")
    }
}

/// Apply files Tenet or a test wrote itself, as the connecting user, with no sandbox. Never
/// for a user's schema files or migrations: those go through [`apply_files`].
pub fn apply_files_trusted(client: &mut postgres::Client, files: &[PathBuf]) -> Result<(), Error> {
    for file in files {
        let sql = std::fs::read_to_string(file).map_err(|source| Error::Io {
            path: file.clone(),
            source,
        })?;
        apply_script_trusted(client, file, &sql)?;
    }
    Ok(())
}

/// [`apply_files_trusted`] for one script: one round trip, split only to place an error.
pub fn apply_script_trusted(
    client: &mut postgres::Client,
    file: &Path,
    sql: &str,
) -> Result<(), Error> {
    let err = match client.batch_execute(sql) {
        Ok(()) => return Ok(()),
        Err(err) => err,
    };
    let Some(db) = err.as_db_error() else {
        return Err(err.into());
    };
    if let Some(offset) = error_offset(db, sql) {
        return Err(sql_error(file, sql, offset, db));
    }
    for (start, end) in statement_spans(sql) {
        if let Err(err) = client.batch_execute(&sql[start..end]) {
            let Some(db) = err.as_db_error() else {
                return Err(err.into());
            };
            return Err(statement_error(file, sql, (start, end), db));
        }
    }
    Ok(())
}

/// PostgreSQL's error for the statement at `span` of `sql` (the text of `file`), pinned to the
/// line and column it points at, else to the statement's first character.
pub fn statement_error(
    file: &Path,
    sql: &str,
    span: (usize, usize),
    db: &postgres::error::DbError,
) -> Error {
    let statement = &sql[span.0..span.1];
    let offset = span.0 + error_offset(db, statement).unwrap_or_else(|| skip_blank(statement));
    sql_error(file, sql, offset, db)
}

/// Byte offset into `sql` of the character PostgreSQL's error points at.
fn error_offset(db: &postgres::error::DbError, sql: &str) -> Option<usize> {
    let chars = match db.position()? {
        ErrorPosition::Original(position) => *position as usize,
        ErrorPosition::Internal { .. } => return None,
    };
    Some(
        sql.char_indices()
            .nth(chars.saturating_sub(1))
            .map(|(i, _)| i)
            .unwrap_or(sql.len()),
    )
}

/// Byte ranges of the statements of a script, by the PostgreSQL grammar, read a chunk at a
/// time ([`crate::statements`]). A piece that does not parse is a statement of its own, so
/// PostgreSQL reports its error.
pub fn statement_spans(sql: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    crate::statements::for_each(sql, &mut |item| {
        spans.push(match item {
            crate::statements::Item::Parsed { span, .. } => span,
            crate::statements::Item::Invalid { span, .. } => span,
        });
        true
    });
    spans
}

/// Each statement's byte span in `sql`, from a parse of the whole text.
fn spans(parsed: &pg_query::ParseResult, sql: &str) -> Vec<(usize, usize)> {
    parsed
        .protobuf
        .stmts
        .iter()
        .map(|raw| {
            let start = raw.stmt_location.max(0) as usize;
            let end = if raw.stmt_len > 0 {
                start + raw.stmt_len as usize
            } else {
                sql.len()
            };
            (start.min(sql.len()), end.min(sql.len()))
        })
        .collect()
}

/// Offset of the first character that is not whitespace or a comment.
pub fn skip_blank(sql: &str) -> usize {
    let mut rest = sql;
    loop {
        let trimmed = rest.trim_start();
        if let Some(comment) = trimmed.strip_prefix("--") {
            rest = comment.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(comment) = trimmed.strip_prefix("/*") {
            rest = comment.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return sql.len() - trimmed.len();
        }
    }
}

fn sql_error(file: &Path, sql: &str, offset: usize, db: &postgres::error::DbError) -> Error {
    let mut err = located(
        file,
        sql,
        offset,
        db.message().to_string(),
        db.hint().map(str::to_string),
    );
    if let Error::Sql(e) = &mut err {
        e.detail = db.detail().map(str::to_string);
    }
    err
}

/// An error at byte `offset` of `sql` (the text of `file`).
fn located(file: &Path, sql: &str, offset: usize, message: String, hint: Option<String>) -> Error {
    let before = &sql[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = sql[line_start..offset].chars().count() + 1;
    let source_line = sql[line_start..]
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    Error::Sql(Box::new(SqlError {
        file: file.to_path_buf(),
        line,
        column,
        message,
        detail: None,
        hint,
        source_line,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_statements_with_dollar_quotes_and_comments() {
        let sql = "create table a (x int);\n-- note; not a statement\ncreate function f() returns int language sql as $$ select 1; $$;";
        let spans = statement_spans(sql);
        assert_eq!(spans.len(), 2);
        assert_eq!(&sql[spans[0].0..spans[0].1], "create table a (x int)");
        let second = &sql[spans[1].0..spans[1].1];
        assert_eq!(
            &second[skip_blank(second)..],
            "create function f() returns int language sql as $$ select 1; $$"
        );
    }
}
