//! Tenet's lint and advise.
//!
//! - [`lint_sql`] lints one migration's SQL statically (pg_query, the PostgreSQL grammar).
//! - [`lint_files`] lints migrations in order; given a connection to a scratch database it
//!   replays each migration after linting it, so the next one is linted against [`Facts`] about
//!   the real schema before it (which tables exist, column types, validated checks).
//! - [`advise`] checks a live database's catalog (unindexed foreign keys, duplicate and unused
//!   indexes, missing primary keys, SECURITY DEFINER search_path, extensions in public).
//! - [`Settings`] applies the `[lint]` section of `tenet.toml` (disable, re-level).
//!
//! Every rule is listed in [`rules::RULES`].

pub mod advise;
pub mod facts;
mod lexer;
pub mod migrations;
pub mod rules;
mod settings;
mod sql;

use std::path::PathBuf;

use tenet_config::Tenancy;
use tenet_report::{Finding, Location};

pub use advise::{advise, index_usage, IndexUsage};
pub use facts::{Facts, TableFacts};
pub use settings::Settings;
pub use sql::lint_sql;

/// One file to lint (or only to replay, when `lint` is false: an earlier migration).
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name findings carry (a path relative to the project, as the user wrote it).
    pub name: String,
    pub path: PathBuf,
    pub text: String,
    pub lint: bool,
}

/// Lint `files` in order. With `replay`, a connection to an empty scratch database, each file
/// is linted against the facts of the database the earlier files produced, then applied to
/// it. A file PostgreSQL rejects is reported (`migration-fails`) and ends the replay: later
/// files are linted statically.
pub fn lint_files(
    files: &[SourceFile],
    mut replay: Option<&mut postgres::Client>,
    tenancy: Option<&Tenancy>,
) -> Result<Vec<Finding>, tenet_catalog::Error> {
    let mut findings = Vec::new();
    if let Some(client) = replay.as_deref_mut() {
        // A scratch database: nothing to lose in a crash, so do not wait for WAL flushes.
        client.batch_execute("SET synchronous_commit = off")?;
    }
    for file in files {
        let facts = match replay.as_deref_mut() {
            Some(client) if file.lint => {
                Some(Facts::load_for(client, &mentioned_names(&file.text))?)
            }
            _ => None,
        };
        if file.lint {
            findings.extend(lint_sql(&file.name, &file.text, facts.as_ref(), tenancy));
        }
        if let Some(client) = replay.as_deref_mut() {
            match tenet_catalog::source::apply_script(client, &file.path, &file.text) {
                Ok(()) => {}
                Err(tenet_catalog::Error::Sql(e)) => {
                    findings.push(replay_failure(file, &e));
                    replay = None;
                }
                Err(other) => return Err(other),
            }
        }
    }
    Ok(findings)
}

/// Every identifier of a script (unquoted ones folded to lower case, as PostgreSQL does): the
/// names of all tables and functions it can refer to.
fn mentioned_names(sql: &str) -> Vec<String> {
    let mut names: Vec<String> = lexer::tokens(sql, 0)
        .into_iter()
        .map(|t| t.text)
        // Punctuation is one character that is not part of a word.
        .filter(|t| t.chars().count() > 1 || t.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .collect();
    names.sort();
    names.dedup();
    names
}

fn replay_failure(file: &SourceFile, e: &tenet_catalog::SqlError) -> Finding {
    let rule = rules::rule("migration-fails").expect("rule exists");
    let mut message = format!("PostgreSQL rejects this migration: {}", e.message);
    if let Some(detail) = &e.detail {
        message.push_str(&format!(" ({detail})"));
    }
    let width = e.source_line.chars().count() + 1;
    Finding {
        rule: rule.id.to_string(),
        severity: rule.severity,
        object: None,
        message,
        why: rule.why.to_string(),
        fix: e
            .hint
            .as_ref()
            .map_or_else(|| rule.fix.to_string(), |h| format!("{h} ({})", rule.fix)),
        location: Some(Location {
            file: file.name.clone(),
            line: e.line,
            column: e.column,
            end_line: e.line,
            end_column: width.max(e.column + 1),
        }),
    }
}
