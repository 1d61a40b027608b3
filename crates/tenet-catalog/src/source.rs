//! Schema sources as SQL: finding `.sql` files and applying them to a (scratch) database, with
//! PostgreSQL's errors pinned to file, line and column.

use std::path::{Path, PathBuf};

use postgres::error::ErrorPosition;

use crate::{Error, SqlError};

/// The `.sql` files a path stands for: the file itself, or every `.sql` file under a directory
/// (recursively), in path order so numbered files apply in sequence. A migrations directory
/// (one holding `*.up.sql` files) stands for its up migrations only, in version order: replaying
/// them gives the schema the migrations build.
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
    }
    files.sort();
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

/// Apply every file in order.
pub fn apply_files(client: &mut postgres::Client, files: &[PathBuf]) -> Result<(), Error> {
    for file in files {
        let sql = std::fs::read_to_string(file).map_err(|source| Error::Io {
            path: file.clone(),
            source,
        })?;
        apply_script(client, file, &sql)?;
    }
    Ok(())
}

/// Apply one script. The whole script goes in one round trip; when PostgreSQL rejects it without
/// saying where (or because a statement such as `CREATE INDEX CONCURRENTLY` must run alone), the
/// script is split with the PostgreSQL grammar and run statement by statement, so the error can
/// point at the statement that failed.
pub fn apply_script(client: &mut postgres::Client, file: &Path, sql: &str) -> Result<(), Error> {
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
    // A multi-statement script runs as one implicit transaction, so nothing of it stayed.
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

/// Byte ranges of the statements of a script, by the PostgreSQL grammar. When the script does
/// not parse, it is one statement.
pub fn statement_spans(sql: &str) -> Vec<(usize, usize)> {
    let Ok(parsed) = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT) else {
        return vec![(0, sql.len())];
    };
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
        message: db.message().to_string(),
        detail: db.detail().map(str::to_string),
        hint: db.hint().map(str::to_string),
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
