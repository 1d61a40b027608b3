//! Tenet's lint and advise.
//!
//! - [`lint_sql`] / [`lint_with`] lint one migration's SQL statically (pg_query, the
//!   PostgreSQL grammar), optionally against [`Facts`] about the database it will run on.
//! - [`lint_files`] lints migrations in order. Given a connection to a scratch database it
//!   replays the earlier ones and each linted one statement by statement, so every migration
//!   is linted against the schema before it and its lock and rewrite findings are observed,
//!   not only predicted. Given the facts of the target database (`--url`), their table sizes
//!   scale those findings, and they stand in for the replay when it fails.
//! - [`advise`] checks a live database's catalog (unindexed foreign keys, duplicate and unused
//!   indexes, missing primary keys, SECURITY DEFINER search_path, extensions in public).
//! - [`Settings`] applies the `[lint]` section of `tenet.toml`.
//!
//! Every rule is listed in [`rules::RULES`]; a migration whose first line is
//! `-- tenet:no-transaction` ([`no_transaction`]) runs each statement on its own.

pub mod advise;
pub mod facts;
mod lexer;
mod lint;
pub mod migrations;
pub mod observe;
mod replay;
pub mod rules;
mod settings;

use std::path::PathBuf;

use tenet_report::{Finding, Location};

pub use advise::{advise, index_usage, Coverage, IndexStats, IndexUsage};
pub use facts::{Facts, TableFacts, TableSize};
pub use lint::{lint_sql, lint_with, no_transaction, Options};
pub use settings::{Settings, SizeThresholds};

use replay::{Rejection, Replayer, Stop};

/// One file to lint (or only to replay, when `lint` is false: an earlier migration).
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name findings carry (a path relative to the project, as the user wrote it).
    pub name: String,
    pub path: PathBuf,
    pub text: String,
    pub lint: bool,
}

/// Where a linted file's facts came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactsSource {
    /// The replay of the migrations before it, on a scratch database.
    Replay,
    /// The database it will run on (`--url`).
    Target,
    /// None: the file's own text.
    Static,
}

impl std::fmt::Display for FactsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FactsSource::Replay => "the replay of the migrations before it",
            FactsSource::Target => "the target database (--url)",
            FactsSource::Static => "the SQL alone (static analysis)",
        })
    }
}

/// How one file was linted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub name: String,
    pub facts: FactsSource,
    /// Why the replay did not provide the facts, when it did not.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub files: Vec<FileReport>,
}

/// Lint `files` in order. With `replay`, a sandbox on an empty scratch database, earlier
/// files are applied to it and each linted file is linted against the facts of the database
/// before it, then replayed with its statements observed. `target` holds the facts of the
/// database the migrations will run on: its table sizes scale findings, and where the replay
/// fails (a table that comes from outside the directory) its facts are used instead; without
/// it, the file is linted statically. A file PostgreSQL rejects is reported (`migration-fails`,
/// unless the table it misses exists in the target) and ends the replay.
pub fn lint_files(
    files: &[SourceFile],
    mut replay: Option<&mut tenet_pg::Sandbox>,
    target: Option<&Facts>,
    options: Options,
) -> Result<Report, tenet_catalog::Error> {
    let mut report = Report::default();
    if let Some(sandbox) = replay.as_deref_mut() {
        // A scratch database: nothing to lose in a crash, so do not wait for WAL flushes.
        sandbox
            .client()
            .batch_execute("SET synchronous_commit = off")?;
    }
    let fallback = if target.is_some() {
        FactsSource::Target
    } else {
        FactsSource::Static
    };
    let mut stopped: Option<String> = None;
    for file in files {
        let options = Options {
            migrator_sets_lock_timeout: file
                .path
                .parent()
                .is_some_and(|dir| dir.join(tenet_catalog::migrations::SUM_FILE).is_file()),
            ..options
        };
        let Some(sandbox) = replay.as_deref_mut() else {
            if file.lint {
                report
                    .findings
                    .extend(lint_with(&file.name, &file.text, target, options));
                report.files.push(FileReport {
                    name: file.name.clone(),
                    facts: fallback.clone(),
                    note: stopped.clone(),
                });
            }
            continue;
        };
        if !file.lint {
            match migrations::apply_file(sandbox, &file.path, &file.text) {
                Ok(()) => {}
                Err(tenet_catalog::Error::Sql(e)) => {
                    stopped = Some(format!(
                        "the replay stopped at {}:{}:{}: {}",
                        file.name, e.line, e.column, e.message
                    ));
                    replay = None;
                }
                Err(other) => return Err(other),
            }
            continue;
        }
        let facts = Facts::load_for(sandbox.client(), &identifiers(&file.text))?;
        let facts = match target {
            Some(target) => facts.with_sizes_from(target),
            None => facts,
        };
        match lint_and_replay(sandbox, file, &facts, options) {
            Ok(findings) => {
                report.findings.extend(findings);
                report.files.push(FileReport {
                    name: file.name.clone(),
                    facts: FactsSource::Replay,
                    note: None,
                });
            }
            Err(Stop::Fatal(e)) => return Err(e.into()),
            Err(Stop::Gate(e)) => return Err(e),
            Err(Stop::Rejected(rejection)) => {
                replay = None;
                let failure = replay_failure(file, &rejection);
                let location = failure.location.clone().expect("has a location");
                stopped = Some(format!(
                    "the replay stopped at {}:{}:{}: {}",
                    file.name, location.line, location.column, rejection.message
                ));
                // A table the history does not create but the target has: the replay is
                // incomplete, not the migration wrong.
                let elsewhere = rejection
                    .missing_relation()
                    .is_some_and(|t| target.is_some_and(|f| f.table(None, t).is_some()));
                if !elsewhere {
                    report.findings.push(failure);
                }
                report
                    .findings
                    .extend(lint_with(&file.name, &file.text, target, options));
                report.files.push(FileReport {
                    name: file.name.clone(),
                    facts: fallback.clone(),
                    note: stopped.clone(),
                });
            }
        }
    }
    Ok(report)
}

/// Lint one file while replaying it statement by statement.
fn lint_and_replay(
    sandbox: &mut tenet_pg::Sandbox,
    file: &SourceFile,
    facts: &Facts,
    options: Options,
) -> Result<Vec<Finding>, Stop> {
    let mut ctx = lint::Ctx::new(&file.name, &file.text, Some(facts), options);
    let mut replayer = Replayer::new(sandbox, &file.path, &file.text);
    let mut stop = None;
    lint::for_each(&file.text, &mut |item| {
        let span = match &item {
            lint::Item::Parsed { span, .. } | lint::Item::Invalid { span, .. } => *span,
        };
        let run = ctx.item(item);
        match replayer.run(span, run) {
            Ok(observed) => {
                ctx.settle(observed.as_ref());
                true
            }
            Err(e) => {
                stop = Some(e);
                false
            }
        }
    });
    if stop.is_none() {
        if let Err(e) = replayer.flush() {
            stop = Some(e);
        }
    }
    match stop {
        Some(e) => Err(e),
        None => Ok(ctx.finish()),
    }
}

/// Every identifier of a script, inside strings and bodies too (unquoted words folded to lower
/// case, as PostgreSQL does; quoted ones as written): a superset of the names of the tables
/// and functions it can refer to.
pub(crate) fn identifiers(sql: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = sql.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            let end = sql[i + 1..].find('"').map_or(bytes.len(), |n| i + 1 + n);
            names.push(sql[i + 1..end].to_string());
            i = end + 1;
        } else if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' || bytes[i] >= 0x80 {
            let start = i;
            while i < bytes.len() && word(bytes[i]) {
                i += 1;
            }
            names.push(sql[start..i].to_lowercase());
        } else if word(bytes[i]) {
            while i < bytes.len() && word(bytes[i]) {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    names.sort();
    names.dedup();
    names
}

fn replay_failure(file: &SourceFile, e: &Rejection) -> Finding {
    let rule = rules::rule("migration-fails").expect("rule exists");
    let mut message = format!("PostgreSQL rejects this migration: {}", e.message);
    if let Some(detail) = &e.detail {
        message.push_str(&format!(" ({detail})"));
    }
    let line_end = file.text[e.offset..]
        .find('\n')
        .map_or(file.text.len(), |i| e.offset + i);
    let mut location = Location::from_span(&file.name, &file.text, e.offset, line_end);
    if (location.end_line, location.end_column) == (location.line, location.column) {
        location.end_column += 1;
    }
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
        location: Some(location),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn identifiers_include_bodies_and_quoted_names() {
        assert_eq!(
            super::identifiers(
                "DO $$ BEGIN ALTER TABLE \"Orders\" ADD x int; END $$; -- t1\nselect 42"
            ),
            ["Orders", "add", "alter", "begin", "do", "end", "int", "select", "t1", "table", "x"]
        );
    }
}
