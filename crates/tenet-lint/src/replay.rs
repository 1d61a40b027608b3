//! Replaying a migration on the scratch database while it is linted, statement by statement,
//! and watching what each statement that may lock an existing table really does.
//!
//! Statements that only add things run together in one round trip. A statement the linter
//! marks [`Run::Observe`] runs in a transaction of its own, in one round trip with two catalog
//! queries around it: before, the data file (`relfilenode`) of every table it names; after,
//! the locks its transaction holds (`pg_locks`), the tables' data files again (a new one is a
//! rewrite) and the transaction's own scan counters (`pg_stat_xact_user_tables`). Statements
//! that cannot run in a transaction block run alone; transaction control is skipped (every
//! statement is committed).

use postgres::SimpleQueryMessage;

use crate::lint::Run;
use crate::observe::{LockMode, Observation, ObservedTable};

/// Batches are sent when they reach this size.
const BATCH_BYTES: usize = 1 << 20;

/// Why the replay of a file stopped.
pub(crate) enum Stop {
    /// PostgreSQL rejected a statement.
    Rejected(Rejection),
    /// The connection failed.
    Fatal(postgres::Error),
    /// The sandbox failed to run a privileged statement for another reason than the SQL.
    Gate(tenet_catalog::Error),
}

#[derive(Debug, Clone)]
pub(crate) struct Rejection {
    /// Byte offset in the file of what PostgreSQL points at (else the statement's start).
    pub offset: usize,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// SQLSTATE.
    pub code: String,
}

impl Rejection {
    /// `relation "x" does not exist` -> `x`.
    pub fn missing_relation(&self) -> Option<&str> {
        if self.code != "42P01" {
            return None;
        }
        let rest = self.message.split_once('"')?.1;
        Some(rest.split_once('"')?.0)
    }
}

pub(crate) struct Replayer<'c> {
    sandbox: &'c mut tenet_pg::Sandbox,
    path: &'c std::path::Path,
    sql: &'c str,
    /// Statements waiting to be sent together (contiguous byte ranges of the file).
    batch: Vec<(usize, usize)>,
}

impl<'c> Replayer<'c> {
    pub fn new(
        sandbox: &'c mut tenet_pg::Sandbox,
        path: &'c std::path::Path,
        sql: &'c str,
    ) -> Replayer<'c> {
        Replayer {
            sandbox,
            path,
            sql,
            batch: Vec::new(),
        }
    }

    /// Run the statement at `span` of the file as the linter asks; what was observed.
    pub fn run(&mut self, span: (usize, usize), run: Run) -> Result<Option<Observation>, Stop> {
        // CREATE EXTENSION, roles, ...: the sandbox's gate runs them (or refuses them).
        if run != Run::Skip && tenet_catalog::source::is_gated(self.sandbox, self.sql, span) {
            self.flush()?;
            return self.gated(span).map(|()| None);
        }
        match run {
            Run::Batch => {
                self.batch.push(span);
                if span.1 - self.batch[0].0 >= BATCH_BYTES {
                    self.flush()?;
                }
                Ok(None)
            }
            Run::Skip => self.flush().map(|_| None),
            Run::Alone => {
                self.flush()?;
                self.execute(span)?;
                Ok(None)
            }
            Run::Observe => {
                self.flush()?;
                self.observe(span).map(Some)
            }
        }
    }

    /// Send what is waiting.
    pub fn flush(&mut self) -> Result<(), Stop> {
        let batch = std::mem::take(&mut self.batch);
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return Ok(());
        };
        let text = &self.sql[first.0..last.1];
        let Err(e) = self.sandbox.execute(text) else {
            return Ok(());
        };
        let Some(db) = e.as_db_error() else {
            return Err(Stop::Fatal(e));
        };
        if let Some(offset) = char_position(db, text) {
            return Err(Stop::Rejected(rejection(db, first.0 + offset)));
        }
        // No position: the batch was one implicit transaction and left nothing behind; run its
        // statements one at a time to find the one that fails.
        for span in batch {
            self.execute(span)?;
        }
        Ok(())
    }

    fn gated(&mut self, span: (usize, usize)) -> Result<(), Stop> {
        let result =
            tenet_catalog::source::apply_statement(self.sandbox, self.path, self.sql, span);
        match result {
            Ok(()) => Ok(()),
            Err(tenet_catalog::Error::Sql(e)) => Err(Stop::Rejected(Rejection {
                offset: span.0 + tenet_catalog::source::skip_blank(&self.sql[span.0..span.1]),
                message: e.message,
                detail: e.detail,
                hint: e.hint,
                code: "42501".to_string(),
            })),
            Err(other) => Err(Stop::Gate(other)),
        }
    }

    fn execute(&mut self, span: (usize, usize)) -> Result<(), Stop> {
        let text = &self.sql[span.0..span.1];
        match self.sandbox.execute(text) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.rejected(e, span, text, 0)),
        }
    }

    fn rejected(
        &self,
        e: postgres::Error,
        span: (usize, usize),
        text: &str,
        prefix: usize,
    ) -> Stop {
        let Some(db) = e.as_db_error() else {
            return Stop::Fatal(e);
        };
        let start = span.0 + tenet_catalog::source::skip_blank(text);
        let offset = db
            .position()
            .and_then(|p| match p {
                postgres::error::ErrorPosition::Original(p) => {
                    (*p as usize).checked_sub(1 + prefix)
                }
                _ => None,
            })
            .and_then(|chars| text.char_indices().nth(chars).map(|(i, _)| span.0 + i))
            .unwrap_or(start);
        Stop::Rejected(rejection(db, offset))
    }

    fn observe(&mut self, span: (usize, usize)) -> Result<Observation, Stop> {
        let text = &self.sql[span.0..span.1];
        let names = crate::identifiers(text);
        let array = names
            .iter()
            .map(|n| tenet_catalog::quote::literal(n))
            .collect::<Vec<_>>()
            .join(",");
        let prefix = format!(
            "BEGIN;\nSELECT 'tenet:pre', c.oid::bigint, n.nspname::text, c.relname::text, c.relfilenode::bigint \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p', 'm') AND c.relname = ANY(ARRAY[{array}]::text[]);\n"
        );
        let query = format!("{prefix}{text}\n;\n{AFTER};\nCOMMIT");
        let messages = match self.sandbox.with_client(|c| c.simple_query(&query)) {
            Ok(messages) => messages,
            Err(e) => {
                let stop = self.rejected(e, span, text, prefix.chars().count());
                let _ = self.sandbox.client().batch_execute("ROLLBACK");
                return Err(stop);
            }
        };
        let mut before: Vec<(i64, String, String, i64)> = Vec::new();
        let mut observation = Observation::default();
        for message in &messages {
            let SimpleQueryMessage::Row(row) = message else {
                continue;
            };
            let int = |i: usize| row.get(i).and_then(|v| v.parse::<i64>().ok());
            match row.get(0) {
                Some("tenet:pre") => before.push((
                    int(1).unwrap_or(0),
                    row.get(2).unwrap_or_default().to_string(),
                    row.get(3).unwrap_or_default().to_string(),
                    int(4).unwrap_or(0),
                )),
                Some("tenet:post") => {
                    let oid = int(1).unwrap_or(0);
                    let Some(lock) = row.get(2).and_then(LockMode::from_pg) else {
                        continue;
                    };
                    let known = before.iter().find(|b| b.0 == oid);
                    // The name the statement used (a RENAME changes it).
                    let (schema, name) = match (known, row.get(3), row.get(4)) {
                        (Some(b), _, _) => (b.1.clone(), b.2.clone()),
                        (None, Some(s), Some(n)) => (s.to_string(), n.to_string()),
                        _ => continue,
                    };
                    let relfilenode = int(5);
                    observation.tables.push(ObservedTable {
                        schema,
                        name,
                        lock,
                        rewritten: match (known, relfilenode) {
                            (Some(b), Some(now)) => b.3 != now,
                            _ => false,
                        },
                        scanned: int(6).unwrap_or(0) > 0,
                        existed: known.is_some(),
                    });
                }
                _ => {}
            }
        }
        Ok(observation)
    }
}

/// The locks of this transaction on tables (strongest per table), their data files now, and
/// the scans of them in this transaction.
const AFTER: &str = "SELECT 'tenet:post', l.relation::bigint, \
  (array_agg(l.mode ORDER BY array_position(ARRAY['AccessShareLock','RowShareLock','RowExclusiveLock','ShareUpdateExclusiveLock','ShareLock','ShareRowExclusiveLock','ExclusiveLock','AccessExclusiveLock'], l.mode::text) DESC))[1], \
  n.nspname::text, c.relname::text, c.relfilenode::bigint, \
  coalesce(sum(s.seq_scan), 0) + coalesce(sum(s.idx_scan), 0) \
FROM pg_locks l \
LEFT JOIN pg_class c ON c.oid = l.relation \
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace \
LEFT JOIN pg_stat_xact_user_tables s ON s.relid = l.relation \
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' \
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
  AND (c.oid IS NULL OR (c.relkind IN ('r', 'p', 'm') \
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%')) \
GROUP BY l.relation, n.nspname, c.relname, c.relfilenode";

fn rejection(db: &postgres::error::DbError, offset: usize) -> Rejection {
    Rejection {
        offset,
        message: db.message().to_string(),
        detail: db.detail().map(str::to_string),
        hint: db.hint().map(str::to_string),
        code: db.code().code().to_string(),
    }
}

/// Byte offset in `text` of the character an error's position points at.
fn char_position(db: &postgres::error::DbError, text: &str) -> Option<usize> {
    match db.position()? {
        postgres::error::ErrorPosition::Original(p) => text
            .char_indices()
            .nth((*p as usize).saturating_sub(1))
            .map(|(i, _)| i),
        _ => None,
    }
}
