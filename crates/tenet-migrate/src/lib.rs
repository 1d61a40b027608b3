//! Versioned migrations, applied exactly once.
//!
//! - [`dir`]: the migrations directory (`<version>_<name>.up.sql` and `.down.sql`).
//! - [`sum`]: `tenet.sum`, the hash of every file, so edits and merges are caught.
//! - [`segments`]: a migration split into what runs in one transaction and what runs alone.
//! - [`history`]: the `tenet.migrations` table and the advisory lock around every change.
//! - [`replay`]: what a list of migrations builds, read from a scratch database; drift.
//! - [`run`]: apply, down and status, resuming from wherever a crash or failure stopped.
//! - [`baseline`]: recording migrations applied by other means, also from sqlx or golang-migrate.
//! - [`author`]: writing a new migration from the schema files, with its decision entry.
//! - [`decisions`]: the persistence decision log (`docs/persistence-decisions.md`).
//! - [`fleet`]: one directory applied to many databases or tenant schemas; status and check.
//!
//! Every refusal is an [`Error`] variant with its own exit code, so CI can tell them apart.

pub mod adopt;
pub mod author;
pub mod baseline;
pub mod decisions;
pub mod dir;
pub mod fleet;
pub mod history;
pub mod replay;
pub mod run;
pub mod segments;
pub mod sum;

use std::path::PathBuf;

pub use dir::Migration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An applied migration's up file no longer has the checksum history recorded (exit 4).
    #[error("{0}")]
    ChecksumChanged(String),
    /// `tenet.sum` does not match the directory (exit 5).
    #[error("{0}")]
    SumMismatch(String),
    /// History names a version the directory does not have (exit 6).
    #[error("{0}")]
    MissingFile(String),
    /// A pending migration is older than the newest applied one (exit 7).
    #[error("{0}")]
    OutOfOrder(String),
    /// The database is not what its history says it should be (exit 8); the text holds the
    /// plan that would bring it back.
    #[error("{0}")]
    Drift(String),
    /// Nothing to do where something was asked for, or pending work found by a check (exit 1).
    #[error("{0}")]
    Findings(String),
    /// A migration failed and was rolled back (exit 3).
    #[error("{0}")]
    Failed(String),
    /// Bad input: a file name, a name, a statement Tenet refuses to run (exit 2).
    #[error("{0}")]
    Invalid(String),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Catalog(#[from] tenet_catalog::Error),
    #[error(transparent)]
    Pg(#[from] tenet_pg::PgError),
    #[error("database error: {0}")]
    Db(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::ChecksumChanged(_) => 4,
            Error::SumMismatch(_) => 5,
            Error::MissingFile(_) => 6,
            Error::OutOfOrder(_) => 7,
            Error::Drift(_) => 8,
            Error::Findings(_) => 1,
            Error::Invalid(_) => 2,
            Error::Failed(_) | Error::Io { .. } | Error::Db(_) => 3,
            Error::Catalog(e) => e.exit_code(),
            Error::Pg(e) => e.exit_code(),
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
