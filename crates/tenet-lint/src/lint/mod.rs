//! Static lint of one migration file: its statements are parsed with pg_query (the PostgreSQL
//! grammar) a chunk at a time and walked in order, keeping track of what the file has done so
//! far (tables it created, transactions, lock_timeout, NOT VALID constraints), and findings
//! point at the bytes that caused them. DDL inside DO blocks and function bodies is walked too,
//! at its position inside the body.
//!
//! Lock and rewrite rules skip tables created in the same migration: nobody else can be using
//! them yet. Which tables are new is known statically (CREATE TABLE earlier in the file) and,
//! when [`Facts`] from a replay are given, from the database itself: a table that did not
//! exist before the migration ran is new, however the migration created it.
//!
//! Each finding of a rule about locks, rewrites, scans or data loss carries its prediction
//! ([`Predicted`]); when the replay runs the statement and observes it, [`Ctx::settle`] keeps,
//! corrects or drops the finding, and says which it was.
//!
//! The rules are in `rules/`, one file per rule with its failing and passing cases.

mod body;
mod directives;
mod names;
mod rules;
mod spans;
#[cfg(test)]
pub(crate) mod testing;
mod txn;

use std::collections::HashMap;

use pg_query::protobuf::{self, ObjectType};
use pg_query::NodeEnum;
use tenet_config::Tenancy;
use tenet_report::{Finding, Location};

use crate::facts::Facts;
use crate::lexer::{self, Token};
use crate::observe::{judge, predicted_text, LockMode, Observation, Predicted, Verdict};
use crate::settings::SizeThresholds;

pub use directives::no_transaction;
pub(crate) use names::TableRef;
pub(crate) use tenet_catalog::statements::{for_each, Item};

/// What a lint run knows besides the SQL.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// Enables the tenancy rules.
    pub tenancy: Option<&'a Tenancy>,
    /// How table sizes (known from `--url`) scale lock and rewrite findings.
    pub sizes: SizeThresholds,
    /// The file is a migration Tenet's migrator runs (its directory has `tenet.sum`), which
    /// sets `lock_timeout` before every migration: `missing-lock-timeout` does not apply.
    pub migrator_sets_lock_timeout: bool,
}

/// How the replay must run a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Run {
    /// With its neighbours, in one round trip.
    Batch,
    /// In a transaction of its own, watched: it may lock or rewrite an existing table.
    Observe,
    /// Outside any transaction block (CREATE INDEX CONCURRENTLY, a DO block that commits).
    Alone,
    /// Not at all (transaction control: the replay commits every statement).
    Skip,
}

/// A finding whose statement may still be observed.
struct Pending {
    stmt: usize,
    finding: Finding,
    predicted: Option<Predicted>,
}

/// Where the current text's parse-tree locations are in the file. A location counts from
/// `origin` in a text that starts at file offset `base`; when that text is the content of a
/// `'...'` literal, the file has one byte more for every doubled quote before it.
#[derive(Debug, Clone, Default)]
pub(crate) struct OffsetMap {
    base: usize,
    origin: usize,
    /// Positions in the text after which the file has one byte more.
    escapes: std::rc::Rc<Vec<usize>>,
}

impl OffsetMap {
    fn shift(base: usize) -> OffsetMap {
        OffsetMap {
            base,
            origin: 0,
            escapes: Default::default(),
        }
    }

    /// The file offset of position `p` of the text.
    fn file(&self, p: usize) -> usize {
        self.base + p + self.escapes.partition_point(|&e| e < p)
    }

    fn at(&self, location: i32) -> usize {
        self.file(self.origin + location.max(0) as usize)
    }
}

/// The statement being linted.
#[derive(Debug, Clone, Default)]
struct View {
    tokens: Vec<Token>,
    tokenized: bool,
    /// The raw range (leading comments included).
    span: (usize, usize),
    /// The statement's own text, from its first token to its end.
    code: (usize, usize),
    /// Token index where the next subcommand search starts.
    cursor: usize,
    map: OffsetMap,
}

/// What the file has done so far.
#[derive(Debug, Clone, Default)]
struct FileState {
    /// Tables created earlier in this file.
    created: Vec<TableRef>,
    created_indexes: Vec<String>,
    rls_enabled: Vec<TableRef>,
    /// Tenant-scoped tables created here: statement, table, span of the CREATE.
    tenant_tables: Vec<(usize, TableRef, (usize, usize))>,
    /// Columns of tables created here.
    columns: Vec<DeclaredColumn>,
    /// Key columns of type integer or smallint, reported at the end unless a foreign key
    /// turns out to cover them: statement, span, table, column.
    small_keys: Vec<(usize, (usize, usize), TableRef, String)>,
    /// Columns of foreign keys declared here: table, column.
    foreign_columns: Vec<(TableRef, String)>,
    lock_timeout: bool,
    lock_timeout_reported: bool,
    /// The open explicit transaction: statement and span of its BEGIN.
    transaction: Option<(usize, (usize, usize))>,
    /// Counts transactions (explicit blocks and commits) so two statements can tell whether
    /// they share one.
    transaction_serial: usize,
    /// `CHECK (col IS NOT NULL) NOT VALID` constraints added here, by name.
    pending_checks: HashMap<String, (TableRef, String)>,
    /// Validated `CHECK (col IS NOT NULL)` constraints added here.
    checked_not_null: Vec<(TableRef, String)>,
    /// Constraints added NOT VALID here: name -> table and the transaction it was added in.
    not_valid: HashMap<String, (TableRef, Option<usize>)>,
}

/// A column of a table created in this file.
#[derive(Debug, Clone)]
struct DeclaredColumn {
    table: TableRef,
    column: String,
    /// The type's name (`int4`).
    type_name: String,
    /// Where the type is written, in the statement `stmt`.
    span: (usize, usize),
    stmt: usize,
}

struct StmtSpan {
    raw: (usize, usize),
    code: (usize, usize),
}

/// Line starts of a file, for locations in O(log n).
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while offset > 0 && !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        (line, text[start..offset].chars().count() + 1)
    }

    fn location(&self, file: &str, text: &str, start: usize, end: usize) -> Location {
        let (line, column) = self.position(text, start);
        let (end_line, end_column) = self.position(text, end.max(start));
        Location {
            file: file.to_string(),
            line,
            column,
            end_line,
            end_column,
        }
    }
}

pub(crate) struct Ctx<'a> {
    file: &'a str,
    sql: &'a str,
    lines: LineIndex,
    facts: Option<&'a Facts>,
    options: Options<'a>,
    /// The file starts with `-- tenet:no-transaction`: each statement runs on its own.
    no_transaction: bool,
    state: FileState,
    /// Linting a function body: it runs when called, not now.
    in_function: bool,
    /// Nesting of bodies being linted.
    depth: usize,
    view: View,
    stmt: usize,
    pending: Vec<Pending>,
    done: Vec<(usize, Finding)>,
    spans: Vec<StmtSpan>,
}

/// Lint one migration's SQL statically (see [`Ctx`]); `facts` describe the database before
/// the migration, when known.
pub fn lint_sql(
    file: &str,
    sql: &str,
    facts: Option<&Facts>,
    tenancy: Option<&Tenancy>,
) -> Vec<Finding> {
    let options = Options {
        tenancy,
        ..Options::default()
    };
    lint_with(file, sql, facts, options)
}

/// [`lint_sql`] with every option.
pub fn lint_with(file: &str, sql: &str, facts: Option<&Facts>, options: Options) -> Vec<Finding> {
    let mut ctx = Ctx::new(file, sql, facts, options);
    for_each(sql, &mut |item| {
        ctx.item(item);
        ctx.settle(None);
        true
    });
    ctx.finish()
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        file: &'a str,
        sql: &'a str,
        facts: Option<&'a Facts>,
        options: Options<'a>,
    ) -> Ctx<'a> {
        Ctx {
            file,
            sql,
            lines: LineIndex::new(sql),
            facts,
            options,
            no_transaction: no_transaction(sql),
            state: FileState {
                lock_timeout: options.migrator_sets_lock_timeout,
                ..FileState::default()
            },
            in_function: false,
            depth: 0,
            view: View::default(),
            stmt: 0,
            pending: Vec::new(),
            done: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// Lint one statement of the file; how the replay must run it.
    pub(crate) fn item(&mut self, item: Item<'_>) -> Run {
        self.stmt = self.spans.len();
        let run = match item {
            Item::Parsed { raw, span, base } => {
                self.begin(span, OffsetMap::shift(base));
                match raw.stmt.as_ref().and_then(|n| n.node.as_ref()) {
                    Some(node) => self.dispatch(node),
                    None => Run::Batch,
                }
            }
            Item::Invalid { span, message } => {
                self.begin(span, OffsetMap::shift(span.0));
                self.tokenize();
                rules::syntax_error::report(self, &message);
                Run::Alone
            }
        };
        self.spans.push(StmtSpan {
            raw: self.view.span,
            code: self.view.code,
        });
        run
    }

    /// Settle the current statement's findings with what the replay observed (`None`: not
    /// observed, so they state their prediction).
    pub(crate) fn settle(&mut self, observed: Option<&Observation>) {
        let mut rewrite_found = false;
        for p in std::mem::take(&mut self.pending) {
            let mut f = p.finding;
            if let Some(predicted) = &p.predicted {
                let table = predicted.table.as_ref().map(|t| self.qualified(t));
                let evidence = match observed.map(|o| judge(predicted, o)) {
                    Some(Verdict::Confirmed(text) | Verdict::Corrected(text)) => text,
                    Some(Verdict::Contradicted) => continue,
                    None => predicted_text(predicted, table.as_deref()),
                };
                rewrite_found |= predicted.rewrite;
                let size = predicted
                    .table
                    .as_ref()
                    .and_then(|t| self.facts?.table(t.schema.as_deref(), &t.name)?.size);
                match (size, &table) {
                    (Some(size), Some(table)) => {
                        if predicted.scales {
                            f.severity = self.options.sizes.severity(size.rows_or_estimate());
                        }
                        f.message = format!(
                            "{} ({evidence}; {table} has {})",
                            f.message,
                            size.describe()
                        );
                    }
                    _ => f.message = format!("{} ({evidence})", f.message),
                }
            }
            self.done.push((p.stmt, f));
        }
        if let (Some(observed), false) = (observed, rewrite_found) {
            rules::table_rewrite::observed(self, observed);
        }
    }

    /// The findings, after the last statement.
    pub(crate) fn finish(mut self) -> Vec<Finding> {
        rules::unclosed_transaction::at_end(&mut self);
        rules::prefer_bigint::at_end(&mut self);
        rules::new_table_without_rls::at_end(&mut self);
        self.settle(None);
        let directives = directives::ignores(self.sql, &self.spans);
        self.done
            .into_iter()
            .filter(|(stmt, f)| !directives::ignored(&directives, *stmt, &f.rule))
            .map(|(_, f)| f)
            .collect()
    }

    // --- Statements --------------------------------------------------------------------------

    fn begin(&mut self, span: (usize, usize), map: OffsetMap) {
        let text = &self.sql[span.0..span.1];
        let start = span.0 + tenet_catalog::source::skip_blank(text);
        let end = (span.0 + text.trim_end().len()).max(start);
        self.view = View {
            tokens: Vec::new(),
            tokenized: false,
            span,
            code: (start, end),
            cursor: 0,
            map,
        };
    }

    /// Split the statement into tokens (for the rules that point inside it).
    fn tokenize(&mut self) {
        if self.view.tokenized {
            return;
        }
        let (start, end) = self.view.span;
        self.view.tokens = lexer::tokens(&self.sql[start..end], start);
        self.view.tokenized = true;
        // The lexer skips literals, so the statement ends at its last token or at its trimmed
        // end, whichever is later (a body `$$ ... $$` comes last).
        if let (Some(first), Some(last)) = (self.view.tokens.first(), self.view.tokens.last()) {
            self.view.code = (first.start, last.end.max(self.view.code.1));
        }
    }

    /// A node location in the file.
    fn at(&self, location: i32) -> usize {
        self.view.map.at(location)
    }

    fn dispatch(&mut self, node: &NodeEnum) -> Run {
        match node {
            // Data statements: no rule reads their tokens.
            NodeEnum::InsertStmt(_)
            | NodeEnum::UpdateStmt(_)
            | NodeEnum::DeleteStmt(_)
            | NodeEnum::CopyStmt(_)
            | NodeEnum::MergeStmt(_) => return Run::Batch,
            NodeEnum::SelectStmt(s) if s.into_clause.is_none() => {
                let text = &self.sql[self.view.code.0..self.view.code.1];
                if text.contains("lock_timeout") && text.to_lowercase().contains("set_config") {
                    self.state.lock_timeout = true;
                }
                return Run::Batch;
            }
            _ => {}
        }
        self.tokenize();
        match node {
            NodeEnum::CreateStmt(s) => {
                rules::create_table(self, s);
                Run::Batch
            }
            NodeEnum::CreateTableAsStmt(s) if s.objtype == ObjectType::ObjectTable as i32 => {
                if let Some(rel) = s.into.as_ref().and_then(|i| i.rel.as_ref()) {
                    self.new_table(rel, s.if_not_exists);
                }
                Run::Batch
            }
            NodeEnum::SelectStmt(s) => {
                if let Some(rel) = s.into_clause.as_ref().and_then(|i| i.rel.as_ref()) {
                    self.new_table(rel, false);
                }
                Run::Batch
            }
            NodeEnum::IndexStmt(s) => rules::index_not_concurrent::create_index(self, s),
            NodeEnum::DropStmt(s) => rules::drop(self, s),
            NodeEnum::TruncateStmt(s) => {
                rules::truncate_table::check(self, s);
                Run::Observe
            }
            NodeEnum::RenameStmt(s) => rules::rename(self, s),
            NodeEnum::AlterTableStmt(s) => rules::alter_table(self, s),
            NodeEnum::ReindexStmt(s) => rules::index_not_concurrent::reindex(self, s),
            NodeEnum::TransactionStmt(s) => {
                rules::transaction(self, s);
                Run::Skip
            }
            NodeEnum::VariableSetStmt(s) => {
                rules::missing_lock_timeout::set(self, s);
                Run::Batch
            }
            NodeEnum::CreateTrigStmt(s) => {
                if let Some(rel) = &s.relation {
                    let t = TableRef::from_range_var(rel);
                    self.takes_lock(&t, LockMode::ShareRowExclusive);
                }
                Run::Observe
            }
            NodeEnum::LockStmt(s) => {
                for rel in s.relations.iter().filter_map(names::range_var) {
                    let t = TableRef::from_range_var(rel);
                    self.takes_lock(&t, txn::lock_statement_mode(s.mode));
                }
                Run::Observe
            }
            NodeEnum::DoStmt(s) => body::do_block(self, s),
            NodeEnum::CreateFunctionStmt(s) => {
                body::function(self, s);
                Run::Batch
            }
            NodeEnum::ClusterStmt(s) if s.relation.is_some() => Run::Observe,
            other => match txn::needs_no_transaction(other) {
                Some((what, migrator_runs_alone)) => {
                    rules::needs_no_transaction::check(self, what, migrator_runs_alone);
                    Run::Alone
                }
                None if matches!(other, NodeEnum::CallStmt(_) | NodeEnum::AlterEnumStmt(_)) => {
                    // A procedure may commit; a new enum value cannot be used in the
                    // transaction that adds it.
                    Run::Alone
                }
                None => Run::Batch,
            },
        }
    }

    /// Record a table this migration creates; tenant-scoped ones must get RLS here too.
    fn new_table(&mut self, rel: &protobuf::RangeVar, if_not_exists: bool) {
        let t = TableRef::from_range_var(rel);
        // CREATE TABLE IF NOT EXISTS on a table that exists creates nothing.
        if if_not_exists
            && self
                .facts
                .is_some_and(|f| f.table(t.schema.as_deref(), &t.name).is_some())
        {
            return;
        }
        rules::new_table_without_rls::created(self, rel, &t);
        self.state.created.push(t);
    }

    // --- What the database and the file know --------------------------------------------------

    /// Whether the table is created by this migration (so locking it blocks nobody).
    fn is_new(&self, t: &TableRef) -> bool {
        if self.state.created.iter().any(|c| c.matches(t)) {
            return true;
        }
        match self.facts {
            // A table that did not exist before this migration is created by it (through a
            // statement the static pass does not follow, e.g. a dynamic EXECUTE).
            Some(facts) => facts.table(t.schema.as_deref(), &t.name).is_none(),
            None => false,
        }
    }

    fn qualified(&self, t: &TableRef) -> String {
        let schema = t
            .schema
            .as_deref()
            .or_else(|| self.facts.and_then(|f| f.schema_of(&t.name)))
            .unwrap_or("public");
        format!("{}.{}", names::quote(schema), names::quote(&t.name))
    }

    fn object(&self, t: &TableRef) -> Option<String> {
        Some(format!("table {}", self.qualified(t)))
    }

    /// A statement that locks an existing table: missing-lock-timeout may apply.
    fn takes_lock(&mut self, t: &TableRef, mode: LockMode) {
        rules::missing_lock_timeout::takes_lock(self, t, mode);
    }

    /// Whether the current statement runs inside a transaction block, and which: an explicit
    /// BEGIN, or the transaction Tenet's migrator wraps a file in (`None`: none at all).
    fn transaction_id(&self, segment: txn::Segment) -> Option<usize> {
        if self.state.transaction.is_some() {
            return Some(self.state.transaction_serial);
        }
        if self.no_transaction || self.in_function {
            return None;
        }
        match segment {
            txn::Segment::File => Some(self.state.transaction_serial),
            txn::Segment::Own => None,
        }
    }

    fn report(
        &mut self,
        rule: &'static str,
        span: (usize, usize),
        object: Option<String>,
        message: String,
        fix: Option<String>,
    ) {
        self.report_effect(rule, span, object, message, fix, None);
    }

    fn report_effect(
        &mut self,
        rule: &'static str,
        span: (usize, usize),
        object: Option<String>,
        message: String,
        fix: Option<String>,
        predicted: Option<Predicted>,
    ) {
        let info = crate::rules::rule(rule).expect("rule is in the table");
        let finding = Finding {
            rule: rule.to_string(),
            severity: info.severity,
            object,
            message,
            why: info.why.to_string(),
            fix: fix.unwrap_or_else(|| info.fix.to_string()),
            location: Some(self.lines.location(self.file, self.sql, span.0, span.1)),
        };
        self.pending.push(Pending {
            stmt: self.stmt,
            finding,
            predicted,
        });
    }
}

/// A prediction about `table` (the common case).
fn predict(table: &TableRef, lock: LockMode) -> Predicted {
    Predicted {
        table: Some(table.clone()),
        lock,
        rewrite: false,
        scan: false,
        scales: true,
    }
}
