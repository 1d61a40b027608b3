//! Errors of the catalog crate, each mapped to Tenet's exit codes.

use std::fmt;
use std::path::PathBuf;

use tenet_pg::PgError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reaching the server failed (unreachable, authentication, missing database, ...).
    #[error(transparent)]
    Pg(#[from] PgError),
    /// A statement of a schema file was rejected by PostgreSQL.
    #[error("{0}")]
    Sql(Box<SqlError>),
    /// A schema source could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The input is not usable (e.g. a directory without `.sql` files).
    #[error("{0}")]
    Input(String),
    /// The server failed a catalog query.
    #[error("database error: {0}")]
    Db(String),
    /// A bug: the catalog did not have the shape Tenet expects.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Exit code per DESIGN.md: 2 for bad input, 3 for database or I/O errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Pg(e) => e.exit_code(),
            Error::Sql(_) | Error::Input(_) => 2,
            Error::Io { .. } | Error::Db(_) | Error::Internal(_) => 3,
        }
    }
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => Error::Db(format!("{} ({})", db.message(), db.code().code())),
            None => Error::Db(e.to_string()),
        }
    }
}

/// PostgreSQL's error for one statement of a file, with where it happened.
#[derive(Debug)]
pub struct SqlError {
    pub file: PathBuf,
    /// 1-based line and column (in characters) of the error, or of the failing statement's start.
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// The source line, for showing under the message.
    pub source_line: String,
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )?;
        let number = self.line.to_string();
        writeln!(f, "{number} | {}", self.source_line)?;
        write!(
            f,
            "{} | {}^",
            " ".repeat(number.len()),
            " ".repeat(self.column.saturating_sub(1))
        )?;
        if let Some(detail) = &self.detail {
            write!(f, "\ndetail: {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}
