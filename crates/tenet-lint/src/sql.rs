//! Static lint of one migration file: parse it with pg_query (the PostgreSQL grammar), walk the
//! statements in order keeping track of what this file has done so far (tables it created,
//! transactions, lock_timeout, validated NOT NULL checks), and report findings at the bytes
//! that caused them.
//!
//! Lock and rewrite rules skip tables created in the same migration: nobody else can be using
//! them yet. Which tables are new is known statically (CREATE TABLE earlier in the file) and,
//! when [`Facts`] from a replay are given, from the database itself: a table that did not
//! exist before the migration ran is new, however the migration created it.

use std::collections::HashMap;

use pg_query::protobuf::{
    self, AlterTableType, ConstrType, ObjectType, TransactionStmtKind, VariableSetKind,
};
use pg_query::NodeEnum;
use tenet_config::Tenancy;
use tenet_report::{Finding, Location};

use crate::facts::Facts;
use crate::lexer::{self, Token};
use crate::rules;

/// Lint one migration's SQL. `file` is the name findings carry; `facts` describe the database
/// before the migration (from a replay), when available; `tenancy` enables the tenancy rules.
pub fn lint_sql(
    file: &str,
    sql: &str,
    facts: Option<&Facts>,
    tenancy: Option<&Tenancy>,
) -> Vec<Finding> {
    let mut ctx = Ctx {
        file,
        sql,
        facts,
        tenancy,
        findings: Vec::new(),
        created: Vec::new(),
        created_indexes: Vec::new(),
        rls_enabled: Vec::new(),
        tenant_tables: Vec::new(),
        lock_timeout: false,
        lock_timeout_reported: false,
        transaction: None,
        pending_checks: HashMap::new(),
        checked_not_null: Vec::new(),
        stmt: 0,
        tokens: Vec::new(),
        code: (0, 0),
        cursor: 0,
    };
    let mut spans: Vec<StmtSpan> = Vec::new();
    match pg_query::parse(sql, pg_query::ParserOptions::DEFAULT) {
        Ok(parsed) => {
            for raw in &parsed.protobuf.stmts {
                let (start, end) = raw_span(raw, 0, sql.len());
                ctx.statement(raw, start, end, spans.len());
                spans.push(ctx.stmt_span(start, end));
            }
        }
        Err(_) => {
            // Lint what parses; point at what does not.
            for (base, piece) in pieces(sql) {
                match pg_query::parse(piece, pg_query::ParserOptions::DEFAULT) {
                    Ok(parsed) => {
                        for raw in &parsed.protobuf.stmts {
                            let (start, end) = raw_span(raw, base, base + piece.len());
                            ctx.statement(raw, start, end, spans.len());
                            spans.push(ctx.stmt_span(start, end));
                        }
                    }
                    Err(e) => {
                        let end = base + piece.len();
                        ctx.begin_statement(base, end, spans.len());
                        let message = match e {
                            pg_query::Error::Parse(m) => m,
                            other => other.to_string(),
                        };
                        let span = ctx.syntax_error_span(&message, base, end);
                        ctx.report(
                            "syntax-error",
                            span,
                            None,
                            message.clone(),
                            Some(format!("Fix the statement: PostgreSQL says \"{message}\".")),
                        );
                        spans.push(ctx.stmt_span(base, end));
                    }
                }
            }
        }
    }
    ctx.finish();
    let directives = ignore_directives(sql, &spans);
    ctx.findings
        .into_iter()
        .filter(|(stmt, f)| {
            !directives.iter().any(|d| {
                d.stmt == *stmt
                    && match &d.rules {
                        Some(rules) => rules.contains(&f.rule),
                        None => true,
                    }
            })
        })
        .map(|(_, f)| f)
        .collect()
}

/// Byte range of a raw statement (from the end of the previous one, comments included).
fn raw_span(raw: &protobuf::RawStmt, base: usize, limit: usize) -> (usize, usize) {
    let start = base + raw.stmt_location.max(0) as usize;
    let end = if raw.stmt_len > 0 {
        start + raw.stmt_len as usize
    } else {
        limit
    };
    (start.min(limit), end.min(limit))
}

/// The script cut into statements by the scanner (which survives syntax errors), with offsets.
fn pieces(sql: &str) -> Vec<(usize, &str)> {
    match pg_query::split_with_scanner(sql) {
        Ok(parts) => parts
            .into_iter()
            .map(|p| (p.as_ptr() as usize - sql.as_ptr() as usize, p))
            .collect(),
        Err(_) => vec![(0, sql)],
    }
}

/// A table as a statement names it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TableRef {
    schema: Option<String>,
    name: String,
}

impl TableRef {
    fn from_range_var(r: &protobuf::RangeVar) -> TableRef {
        TableRef {
            schema: (!r.schemaname.is_empty()).then(|| r.schemaname.clone()),
            name: r.relname.clone(),
        }
    }

    /// From a list of name parts (`DROP TABLE a.b`).
    fn from_names(names: &[protobuf::Node]) -> Option<TableRef> {
        let parts: Vec<&str> = names.iter().filter_map(string_value).collect();
        match parts.as_slice() {
            [name] => Some(TableRef {
                schema: None,
                name: name.to_string(),
            }),
            [.., schema, name] => Some(TableRef {
                schema: Some(schema.to_string()),
                name: name.to_string(),
            }),
            [] => None,
        }
    }

    fn matches(&self, other: &TableRef) -> bool {
        self.name == other.name
            && match (&self.schema, &other.schema) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

struct StmtSpan {
    /// Raw range (leading comments included).
    raw: (usize, usize),
    /// The statement's own text, from its first token to its end.
    code: (usize, usize),
}

struct Ctx<'a> {
    file: &'a str,
    sql: &'a str,
    facts: Option<&'a Facts>,
    tenancy: Option<&'a Tenancy>,
    /// Findings with the index of the statement they belong to (for inline ignores).
    findings: Vec<(usize, Finding)>,
    /// Tables created earlier in this file.
    created: Vec<TableRef>,
    created_indexes: Vec<String>,
    rls_enabled: Vec<TableRef>,
    /// Tenant-scoped tables created here: statement, table, span of the CREATE.
    tenant_tables: Vec<(usize, TableRef, (usize, usize))>,
    lock_timeout: bool,
    lock_timeout_reported: bool,
    /// The open explicit transaction: statement and span of its BEGIN.
    transaction: Option<(usize, (usize, usize))>,
    /// `CHECK (col IS NOT NULL) NOT VALID` constraints added here, by name.
    pending_checks: HashMap<String, (TableRef, String)>,
    /// Validated `CHECK (col IS NOT NULL)` constraints added here.
    checked_not_null: Vec<(TableRef, String)>,
    // The current statement.
    stmt: usize,
    tokens: Vec<Token>,
    code: (usize, usize),
    /// Token index where the next subcommand search starts.
    cursor: usize,
}

impl<'a> Ctx<'a> {
    fn begin_statement(&mut self, start: usize, end: usize, index: usize) {
        self.stmt = index;
        self.tokens = lexer::tokens(&self.sql[start..end], start);
        let code_start = self.tokens.first().map_or(start, |t| t.start);
        let code_end = self.tokens.last().map_or(end, |t| t.end);
        self.code = (code_start, code_end);
        self.cursor = 0;
    }

    fn stmt_span(&self, start: usize, end: usize) -> StmtSpan {
        StmtSpan {
            raw: (start, end),
            code: self.code,
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
        let info = rules::rule(rule).expect("rule is in the table");
        let finding = Finding {
            rule: rule.to_string(),
            severity: info.severity,
            object,
            message,
            why: info.why.to_string(),
            fix: fix.unwrap_or_else(|| info.fix.to_string()),
            location: Some(Location::from_span(self.file, self.sql, span.0, span.1)),
        };
        self.findings.push((self.stmt, finding));
    }

    // --- Spans -------------------------------------------------------------------------------

    /// From the first token through the first token equal to `last` (e.g. `CREATE ... INDEX`).
    fn head_through(&self, last: &str) -> (usize, usize) {
        let end = self
            .tokens
            .iter()
            .find(|t| t.text == last)
            .map_or(self.code.1, |t| t.end);
        (self.code.0, end)
    }

    /// From `start` to the end of its line (or of the statement), trailing blanks trimmed.
    fn to_line_end(&self, start: usize) -> (usize, usize) {
        let start = start.clamp(self.code.0, self.code.1);
        let line_end = self.sql[start..]
            .find('\n')
            .map_or(self.sql.len(), |i| start + i);
        // The last token ending on this line.
        let end = self
            .tokens
            .iter()
            .filter(|t| t.start >= start && t.end <= line_end.min(self.code.1))
            .map(|t| t.end)
            .next_back()
            .unwrap_or_else(|| line_end.min(self.code.1));
        let end = if self.sql[start..end].ends_with(',') {
            end - 1
        } else {
            end
        };
        (start, end.max(start))
    }

    /// The first line of the statement.
    fn first_line(&self) -> (usize, usize) {
        self.to_line_end(self.code.0)
    }

    /// Span of the token starting at `offset`.
    fn token_at(&self, offset: usize) -> (usize, usize) {
        match lexer::at_offset(&self.tokens, offset) {
            Some(i) => (self.tokens[i].start, self.tokens[i].end),
            None => (offset, offset),
        }
    }

    /// The words `seq` at or after the cursor; moves the cursor past them.
    fn find_words(&mut self, seq: &[&str]) -> Option<(usize, usize)> {
        let i = lexer::find_seq(&self.tokens, self.cursor, seq)
            .or_else(|| lexer::find_seq(&self.tokens, 0, seq))?;
        self.cursor = i + seq.len();
        Some((self.tokens[i].start, self.tokens[i + seq.len() - 1].end))
    }

    /// A type name written at `offset`: its words, modifiers in parentheses and array bounds.
    fn type_span(&self, offset: usize) -> (usize, usize) {
        let Some(mut i) = lexer::at_offset(&self.tokens, offset) else {
            return (offset, offset);
        };
        let start = self.tokens[i].start;
        let mut end = self.tokens[i].end;
        const CONTINUES: &[&str] = &[
            "varying",
            "precision",
            "without",
            "with",
            "time",
            "zone",
            ".",
        ];
        i += 1;
        while i < self.tokens.len() {
            let t = &self.tokens[i];
            if t.text == "(" || t.text == "[" {
                let close = if t.text == "(" { ")" } else { "]" };
                match self.tokens[i..].iter().position(|t| t.text == close) {
                    Some(k) => {
                        end = self.tokens[i + k].end;
                        i += k + 1;
                    }
                    None => break,
                }
            } else if CONTINUES.contains(&t.text.as_str())
                || (self.tokens[i - 1].text == "." && !t.text.is_empty())
            {
                end = t.end;
                i += 1;
            } else {
                break;
            }
        }
        (start, end)
    }

    fn syntax_error_span(&mut self, message: &str, start: usize, end: usize) -> (usize, usize) {
        if let Some(near) = message
            .split_once("at or near \"")
            .and_then(|(_, rest)| rest.rsplit_once('"'))
            .map(|(near, _)| near.to_lowercase())
        {
            if let Some(t) = self.tokens.iter().find(|t| t.text.to_lowercase() == near) {
                return (t.start, t.end);
            }
        }
        if message.contains("at end of input") {
            return (self.code.1, self.code.1);
        }
        let _ = (start, end);
        self.first_line()
    }

    // --- What the database and the file know --------------------------------------------------

    /// Whether the table is created by this migration (so locking it blocks nobody).
    fn is_new(&self, t: &TableRef) -> bool {
        if self.created.iter().any(|c| c.matches(t)) {
            return true;
        }
        match self.facts {
            // Replayed: a table that did not exist before this migration is created by it
            // (through a statement the static pass does not follow, e.g. in a DO block).
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
        format!("{}.{}", quote(schema), quote(&t.name))
    }

    fn object(&self, t: &TableRef) -> Option<String> {
        Some(format!("table {}", self.qualified(t)))
    }

    /// A lock-taking statement on an existing table: the first one without lock_timeout set
    /// is reported.
    fn takes_lock(&mut self, t: &TableRef) {
        if self.lock_timeout || self.lock_timeout_reported || self.is_new(t) {
            return;
        }
        self.lock_timeout_reported = true;
        let span = self.first_line();
        let name = self.qualified(t);
        self.report(
            "missing-lock-timeout",
            span,
            self.object(t),
            format!("this statement locks {name} but no lock_timeout is set before it"),
            Some(
                "Put SET lock_timeout = '5s'; at the start of the migration (and retry it when it times out)."
                    .to_string(),
            ),
        );
    }

    // --- Statements --------------------------------------------------------------------------

    fn statement(&mut self, raw: &protobuf::RawStmt, start: usize, end: usize, index: usize) {
        self.begin_statement(start, end, index);
        let Some(node) = raw.stmt.as_ref().and_then(|n| n.node.as_ref()) else {
            return;
        };
        match node {
            NodeEnum::CreateStmt(s) => self.create_table(s),
            NodeEnum::CreateTableAsStmt(s) if s.objtype == ObjectType::ObjectTable as i32 => {
                if let Some(rel) = s.into.as_ref().and_then(|i| i.rel.as_ref()) {
                    self.new_table(rel, false);
                }
            }
            NodeEnum::SelectStmt(s) => {
                if let Some(rel) = s.into_clause.as_ref().and_then(|i| i.rel.as_ref()) {
                    self.new_table(rel, false);
                }
                let text = self.sql[self.code.0..self.code.1].to_lowercase();
                if text.contains("set_config") && text.contains("lock_timeout") {
                    self.lock_timeout = true;
                }
            }
            NodeEnum::IndexStmt(s) => self.create_index(s),
            NodeEnum::DropStmt(s) => self.drop(s),
            NodeEnum::TruncateStmt(s) => {
                for rel in s.relations.iter().filter_map(range_var) {
                    let t = TableRef::from_range_var(rel);
                    self.takes_lock(&t);
                    if !self.is_new(&t) {
                        let span = self.first_line();
                        let name = self.qualified(&t);
                        self.report(
                            "truncate-table",
                            span,
                            self.object(&t),
                            format!("TRUNCATE deletes every row of {name}"),
                            None,
                        );
                    }
                }
            }
            NodeEnum::RenameStmt(s) => self.rename(s),
            NodeEnum::AlterTableStmt(s) => self.alter_table(s),
            NodeEnum::ReindexStmt(s) => self.reindex(s),
            NodeEnum::TransactionStmt(s) => self.transaction(s),
            NodeEnum::VariableSetStmt(s) => self.set(s),
            NodeEnum::CreateTrigStmt(s) => {
                if let Some(rel) = &s.relation {
                    self.takes_lock(&TableRef::from_range_var(rel));
                }
            }
            NodeEnum::LockStmt(s) => {
                for rel in s.relations.iter().filter_map(range_var) {
                    self.takes_lock(&TableRef::from_range_var(rel));
                }
            }
            _ => {}
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
        if let Some(tenancy) = self.tenancy {
            let schema = t.schema.as_deref().unwrap_or("public");
            if rel.relpersistence != "t" && !tenancy.is_global(schema, &t.name) {
                let name_end = self.token_at(rel.location.max(0) as usize).1;
                let mut end = name_end;
                // Qualified name: extend over `.name`.
                if let Some(i) = lexer::at_offset(&self.tokens, name_end) {
                    if self.tokens[i].text == "." && i + 1 < self.tokens.len() {
                        end = self.tokens[i + 1].end;
                    }
                }
                self.tenant_tables
                    .push((self.stmt, t.clone(), (self.code.0, end)));
            }
        }
        self.created.push(t);
    }

    fn create_table(&mut self, s: &protobuf::CreateStmt) {
        let Some(rel) = &s.relation else { return };
        self.new_table(rel, s.if_not_exists);
        let t = TableRef::from_range_var(rel);
        // Primary key columns declared at table level.
        let mut key_columns: Vec<String> = Vec::new();
        for elt in &s.table_elts {
            if let Some(NodeEnum::Constraint(c)) = &elt.node {
                if c.contype == ConstrType::ConstrPrimary as i32 {
                    key_columns.extend(c.keys.iter().filter_map(string_value).map(String::from));
                }
            }
        }
        for elt in &s.table_elts {
            if let Some(NodeEnum::ColumnDef(col)) = &elt.node {
                let inline_key =
                    col_constraints(col).any(|c| c.contype == ConstrType::ConstrPrimary as i32);
                let key = inline_key || key_columns.contains(&col.colname);
                self.column_type(&t, col, key);
            }
        }
    }

    /// The type rules (prefer-*) for a column definition.
    fn column_type(&mut self, t: &TableRef, col: &protobuf::ColumnDef, key: bool) {
        let Some(type_name) = &col.type_name else {
            return;
        };
        let identity = !col.identity.is_empty()
            || col_constraints(col).any(|c| c.contype == ConstrType::ConstrIdentity as i32);
        self.type_rules(t, &col.colname, type_name, key || identity);
    }

    fn type_rules(&mut self, t: &TableRef, column: &str, ty: &protobuf::TypeName, key: bool) {
        let name = ty
            .names
            .last()
            .and_then(string_value)
            .unwrap_or_default()
            .to_string();
        let span = self.type_span(ty.location.max(0) as usize);
        let written = self.sql[span.0..span.1].to_string();
        let column_name = format!("{}.{}", self.qualified(t), quote(column));
        let object = Some(format!("column {column_name}"));
        match name.as_str() {
            "serial" | "serial4" | "smallserial" | "serial2" | "bigserial" | "serial8" => self
                .report(
                    "prefer-identity",
                    span,
                    object,
                    format!("column {column_name} is {written}"),
                    Some(format!(
                        "Declare {} bigint GENERATED ALWAYS AS IDENTITY.",
                        quote(column)
                    )),
                ),
            "int4" | "int2" | "integer" | "smallint" | "int" if key => self.report(
                "prefer-bigint",
                span,
                object,
                format!("key column {column_name} is {written}"),
                Some(format!("Declare {} bigint.", quote(column))),
            ),
            "timestamp" => self.report(
                "prefer-timestamptz",
                span,
                object,
                format!("column {column_name} is {written}"),
                Some(format!("Declare {} timestamptz.", quote(column))),
            ),
            "varchar" if !ty.typmods.is_empty() => self.report(
                "prefer-text",
                span,
                object,
                format!("column {column_name} is {written}"),
                Some(format!(
                    "Declare {} text (with CHECK (char_length({}) <= n) if the limit matters).",
                    quote(column),
                    quote(column)
                )),
            ),
            "bpchar" => self.report(
                "no-char",
                span,
                object,
                format!("column {column_name} is {written}"),
                Some(format!("Declare {} text.", quote(column))),
            ),
            _ => {}
        }
    }

    fn create_index(&mut self, s: &protobuf::IndexStmt) {
        let Some(rel) = &s.relation else { return };
        let t = TableRef::from_range_var(rel);
        if !s.idxname.is_empty() {
            self.created_indexes.push(s.idxname.clone());
        }
        if s.concurrent {
            self.concurrently_in_transaction("CREATE INDEX CONCURRENTLY");
            return;
        }
        self.takes_lock(&t);
        if self.is_new(&t) {
            return;
        }
        let span = self.head_through("index");
        let name = self.qualified(&t);
        let partitioned = self
            .facts
            .and_then(|f| f.table(t.schema.as_deref(), &t.name))
            .is_some_and(|f| f.partitioned);
        let fix = if partitioned {
            format!(
                "{name} is partitioned, where CONCURRENTLY is not supported: CREATE INDEX ... ON ONLY {name} (instant, invalid), CREATE INDEX CONCURRENTLY on each partition, then ALTER INDEX ... ATTACH PARTITION each one."
            )
        } else {
            format!(
                "CREATE {}INDEX CONCURRENTLY ... ON {name}, in a migration of its own that does not run in a transaction.",
                if s.unique { "UNIQUE " } else { "" }
            )
        };
        self.report(
            "index-not-concurrent",
            span,
            self.object(&t),
            format!("CREATE INDEX on {name} without CONCURRENTLY blocks writes to it while the index builds"),
            Some(fix),
        );
    }

    fn concurrently_in_transaction(&mut self, what: &str) {
        if self.transaction.is_none() {
            return;
        }
        let span = self
            .tokens
            .iter()
            .find(|t| t.text == "concurrently")
            .map_or_else(|| self.first_line(), |t| (t.start, t.end));
        self.report(
            "concurrently-in-transaction",
            span,
            None,
            format!("{what} cannot run inside the transaction block opened by BEGIN"),
            None,
        );
    }

    fn drop(&mut self, s: &protobuf::DropStmt) {
        if s.remove_type == ObjectType::ObjectIndex as i32 {
            if s.concurrent {
                self.concurrently_in_transaction("DROP INDEX CONCURRENTLY");
                return;
            }
            let names: Vec<String> = s
                .objects
                .iter()
                .filter_map(list_items)
                .filter_map(TableRef::from_names)
                .map(|r| r.name)
                .collect();
            // Indexes created in this file are on new tables or already reported.
            if names.iter().all(|n| self.created_indexes.contains(n)) {
                return;
            }
            let span = self.head_through("index");
            self.report(
                "index-not-concurrent",
                span,
                names.first().map(|n| format!("index {}", quote(n))),
                format!(
                    "DROP INDEX {} without CONCURRENTLY blocks reads and writes on its table",
                    names.join(", ")
                ),
                Some(
                    "DROP INDEX CONCURRENTLY, in a migration of its own that does not run in a transaction."
                        .to_string(),
                ),
            );
            if !self.lock_timeout && !self.lock_timeout_reported {
                self.lock_timeout_reported = true;
                let span = self.first_line();
                self.report(
                    "missing-lock-timeout",
                    span,
                    None,
                    "DROP INDEX locks its table but no lock_timeout is set before it".to_string(),
                    None,
                );
            }
        } else if s.remove_type == ObjectType::ObjectTable as i32 {
            for items in s.objects.iter().filter_map(list_items) {
                let Some(t) = TableRef::from_names(items) else {
                    continue;
                };
                self.takes_lock(&t);
                if self.is_new(&t) {
                    self.created.retain(|c| !c.matches(&t));
                    continue;
                }
                let span = self
                    .find_words(&["drop", "table"])
                    .map_or_else(|| self.first_line(), |(start, _)| self.to_line_end(start));
                let name = self.qualified(&t);
                self.report(
                    "drop-table",
                    span,
                    self.object(&t),
                    format!("DROP TABLE {name} deletes the table and its data"),
                    None,
                );
            }
        }
    }

    fn rename(&mut self, s: &protobuf::RenameStmt) {
        let Some(rel) = &s.relation else { return };
        let t = TableRef::from_range_var(rel);
        let table_rename = s.rename_type == ObjectType::ObjectTable as i32;
        let column_rename = s.rename_type == ObjectType::ObjectColumn as i32
            && s.relation_type == ObjectType::ObjectTable as i32;
        if !table_rename && !column_rename {
            return;
        }
        self.takes_lock(&t);
        if self.is_new(&t) {
            if table_rename {
                self.created.push(TableRef {
                    schema: t.schema.clone(),
                    name: s.newname.clone(),
                });
            }
            return;
        }
        let span = self
            .find_words(&["rename"])
            .map_or_else(|| self.first_line(), |(start, _)| self.to_line_end(start));
        let name = self.qualified(&t);
        if table_rename {
            self.report(
                "rename-table",
                span,
                self.object(&t),
                format!("{name} is renamed to {}", quote(&s.newname)),
                None,
            );
        } else {
            self.report(
                "rename-column",
                span,
                Some(format!("column {name}.{}", quote(&s.subname))),
                format!(
                    "column {} of {name} is renamed to {}",
                    quote(&s.subname),
                    quote(&s.newname)
                ),
                None,
            );
        }
    }

    fn reindex(&mut self, s: &protobuf::ReindexStmt) {
        let concurrent = s.params.iter().any(|p| {
            matches!(&p.node, Some(NodeEnum::DefElem(d)) if d.defname == "concurrently"
                && !matches!(d.arg.as_deref().and_then(|a| a.node.as_ref()),
                    Some(NodeEnum::Boolean(b)) if !b.boolval))
        });
        if concurrent {
            self.concurrently_in_transaction("REINDEX CONCURRENTLY");
            return;
        }
        let table = s.kind == protobuf::ReindexObjectType::ReindexObjectTable as i32;
        if let Some(rel) = &s.relation {
            let t = TableRef::from_range_var(rel);
            if (table && self.is_new(&t)) || (!table && self.created_indexes.contains(&t.name)) {
                return;
            }
        }
        let span = self.head_through("reindex");
        self.report(
            "index-not-concurrent",
            span,
            None,
            "REINDEX without CONCURRENTLY blocks writes (and reads through the index) while it rebuilds"
                .to_string(),
            Some("REINDEX ... CONCURRENTLY, outside a transaction.".to_string()),
        );
    }

    fn transaction(&mut self, s: &protobuf::TransactionStmt) {
        let kind = s.kind;
        let span = self.token_at(self.code.0);
        if kind == TransactionStmtKind::TransStmtBegin as i32
            || kind == TransactionStmtKind::TransStmtStart as i32
        {
            if self.transaction.is_some() {
                self.report(
                    "nested-transaction",
                    span,
                    None,
                    "BEGIN inside a transaction that is already open: PostgreSQL ignores it, and the next COMMIT ends the outer transaction"
                        .to_string(),
                    None,
                );
            } else {
                self.transaction = Some((self.stmt, span));
            }
        } else if kind == TransactionStmtKind::TransStmtCommit as i32
            || kind == TransactionStmtKind::TransStmtRollback as i32
            || kind == TransactionStmtKind::TransStmtPrepare as i32
        {
            if self.transaction.is_none() {
                let word = self.sql[span.0..span.1].to_uppercase();
                self.report(
                    "nested-transaction",
                    span,
                    None,
                    format!("{word} without an open transaction: it ends the migrator's transaction, or does nothing"),
                    None,
                );
            } else if !s.chain {
                self.transaction = None;
            }
        }
    }

    fn set(&mut self, s: &protobuf::VariableSetStmt) {
        if s.name != "lock_timeout" {
            if s.kind == VariableSetKind::VarResetAll as i32 {
                self.lock_timeout = false;
            }
            return;
        }
        self.lock_timeout = s.kind == VariableSetKind::VarSetValue as i32
            && !s.args.iter().all(|a| match &a.node {
                Some(NodeEnum::AConst(c)) => match &c.val {
                    Some(protobuf::a_const::Val::Ival(i)) => i.ival == 0,
                    Some(protobuf::a_const::Val::Sval(s)) => {
                        let v = s.sval.trim().trim_start_matches('0');
                        v.is_empty() || v.chars().all(|c| !c.is_ascii_digit())
                    }
                    _ => false,
                },
                _ => false,
            });
    }

    fn alter_table(&mut self, s: &protobuf::AlterTableStmt) {
        if s.objtype != ObjectType::ObjectTable as i32 {
            return;
        }
        let Some(rel) = &s.relation else { return };
        let t = TableRef::from_range_var(rel);
        let new = self.is_new(&t);
        let cmds: Vec<&protobuf::AlterTableCmd> = s
            .cmds
            .iter()
            .filter_map(|c| match &c.node {
                Some(NodeEnum::AlterTableCmd(cmd)) => Some(cmd.as_ref()),
                _ => None,
            })
            .collect();
        let only_validation = cmds
            .iter()
            .all(|c| c.subtype == AlterTableType::AtValidateConstraint as i32);
        if !only_validation {
            self.takes_lock(&t);
        }
        for cmd in cmds {
            self.alter_table_cmd(&t, new, cmd);
        }
    }

    fn alter_table_cmd(&mut self, t: &TableRef, new: bool, cmd: &protobuf::AlterTableCmd) {
        let sub = cmd.subtype;
        let name = self.qualified(t);
        let def = cmd.def.as_deref().and_then(|d| d.node.as_ref());
        if sub == AlterTableType::AtAddColumn as i32 {
            if let Some(NodeEnum::ColumnDef(col)) = def {
                self.add_column(t, new, col);
            }
        } else if sub == AlterTableType::AtAddConstraint as i32 {
            if let Some(NodeEnum::Constraint(c)) = def {
                self.add_constraint(t, new, c);
            }
        } else if sub == AlterTableType::AtValidateConstraint as i32 {
            if let Some(check) = self.pending_checks.remove(&cmd.name) {
                self.checked_not_null.push(check);
            }
        } else if sub == AlterTableType::AtSetNotNull as i32 {
            let column = &cmd.name;
            let span = self
                .find_words(&["set", "not", "null"])
                .unwrap_or_else(|| self.first_line());
            if new
                || self
                    .checked_not_null
                    .iter()
                    .any(|(ct, cc)| ct.matches(t) && cc == column)
            {
                return;
            }
            if let Some(facts) = self
                .facts
                .and_then(|f| f.table(t.schema.as_deref(), &t.name))
            {
                if facts.not_null.contains(column) || facts.checked_not_null.contains(column) {
                    return;
                }
            }
            let check = format!("{}_not_null", column);
            self.report(
                "set-not-null-without-check",
                span,
                Some(format!("column {name}.{}", quote(column))),
                format!(
                    "SET NOT NULL on {name}.{} scans the whole table under an ACCESS EXCLUSIVE lock",
                    quote(column)
                ),
                Some(format!(
                    "ALTER TABLE {name} ADD CONSTRAINT {c} CHECK ({col} IS NOT NULL) NOT VALID; ALTER TABLE {name} VALIDATE CONSTRAINT {c}; then SET NOT NULL (instant) and DROP CONSTRAINT {c}.",
                    c = quote(&check),
                    col = quote(column)
                )),
            );
        } else if sub == AlterTableType::AtAlterColumnType as i32 {
            if let Some(NodeEnum::ColumnDef(col)) = def {
                self.alter_type(t, new, &cmd.name, col);
            }
        } else if sub == AlterTableType::AtDropColumn as i32 {
            let span = self.drop_column_span(&cmd.name);
            if new {
                return;
            }
            self.report(
                "drop-column",
                span,
                Some(format!("column {name}.{}", quote(&cmd.name))),
                format!(
                    "DROP COLUMN {} deletes the column's data from {name}",
                    quote(&cmd.name)
                ),
                None,
            );
        } else if sub == AlterTableType::AtEnableRowSecurity as i32 {
            self.rls_enabled.push(t.clone());
        } else if sub == AlterTableType::AtDetachPartition as i32 {
            if let Some(NodeEnum::PartitionCmd(p)) = def {
                if p.concurrent {
                    self.concurrently_in_transaction("DETACH PARTITION CONCURRENTLY");
                }
            }
        }
    }

    fn drop_column_span(&mut self, column: &str) -> (usize, usize) {
        let from = self.cursor;
        for i in from..self.tokens.len() {
            if self.tokens[i].text != "drop" {
                continue;
            }
            let mut k = i + 1;
            while k < self.tokens.len()
                && matches!(self.tokens[k].text.as_str(), "column" | "if" | "exists")
            {
                k += 1;
            }
            if k < self.tokens.len() && self.tokens[k].text == column {
                self.cursor = k + 1;
                return (self.tokens[i].start, self.tokens[k].end);
            }
        }
        self.first_line()
    }

    fn add_column(&mut self, t: &TableRef, new: bool, col: &protobuf::ColumnDef) {
        let key = col_constraints(col).any(|c| c.contype == ConstrType::ConstrPrimary as i32);
        self.column_type(t, col, key);
        if new {
            return;
        }
        let name = self.qualified(t);
        let column = format!("{name}.{}", quote(&col.colname));
        let object = Some(format!("column {column}"));
        let span = self.to_line_end(col.location.max(0) as usize);
        let type_name = col
            .type_name
            .as_ref()
            .and_then(|ty| ty.names.last())
            .and_then(string_value)
            .unwrap_or_default();
        let serial = matches!(
            type_name,
            "serial" | "serial4" | "smallserial" | "serial2" | "bigserial" | "serial8"
        );
        let default = col.raw_default.as_deref().or_else(|| {
            col_constraints(col)
                .find(|c| c.contype == ConstrType::ConstrDefault as i32)
                .and_then(|c| c.raw_expr.as_deref())
        });
        let identity = !col.identity.is_empty()
            || col_constraints(col).any(|c| c.contype == ConstrType::ConstrIdentity as i32);
        let generated =
            col_constraints(col).any(|c| c.contype == ConstrType::ConstrGenerated as i32);
        let not_null = col.is_not_null
            || col_constraints(col).any(|c| {
                c.contype == ConstrType::ConstrNotnull as i32
                    || c.contype == ConstrType::ConstrPrimary as i32
            });

        let volatile = default.and_then(|d| self.volatile_call(d));
        if let Some(function) = volatile {
            self.report(
                "volatile-default-rewrite",
                span,
                object.clone(),
                format!("adding {column} with the volatile default {function}() rewrites the whole table under an ACCESS EXCLUSIVE lock"),
                None,
            );
        } else if serial || identity || generated {
            let what = if serial {
                "a serial column (its default nextval() is volatile)"
            } else if identity {
                "an identity column"
            } else {
                "a stored generated column"
            };
            self.report(
                "volatile-default-rewrite",
                span,
                object.clone(),
                format!("adding {column} as {what} rewrites the whole table under an ACCESS EXCLUSIVE lock"),
                Some(format!(
                    "Add {} as a plain nullable column, backfill it in batches, then attach the default, identity or generation.",
                    quote(&col.colname)
                )),
            );
        } else if not_null && default.is_none() {
            self.report(
                "not-null-without-default",
                span,
                object.clone(),
                format!(
                    "adding NOT NULL column {column} without a default fails if {name} has rows"
                ),
                None,
            );
        }
        for c in col_constraints(col) {
            let kind = c.contype;
            if kind == ConstrType::ConstrForeign as i32 || kind == ConstrType::ConstrCheck as i32 {
                let span = self.to_line_end(c.location.max(0) as usize);
                let what = if kind == ConstrType::ConstrForeign as i32 {
                    "foreign key"
                } else {
                    "CHECK constraint"
                };
                self.report(
                    "constraint-without-not-valid",
                    span,
                    object.clone(),
                    format!("the {what} declared with {column} is validated against every row of {name} while writes are blocked"),
                    Some(format!("Add the column without the constraint, then ALTER TABLE {name} ADD CONSTRAINT ... NOT VALID, and VALIDATE CONSTRAINT separately.")),
                );
            } else if kind == ConstrType::ConstrPrimary as i32
                || kind == ConstrType::ConstrUnique as i32
            {
                let span = self.to_line_end(c.location.max(0) as usize);
                self.report(
                    "unique-without-index",
                    span,
                    object.clone(),
                    format!("the {} declared with {column} builds its index under an ACCESS EXCLUSIVE lock on {name}",
                        if kind == ConstrType::ConstrPrimary as i32 { "primary key" } else { "unique constraint" }),
                    Some(format!("Add the column, CREATE UNIQUE INDEX CONCURRENTLY on it, then ALTER TABLE {name} ADD CONSTRAINT ... USING INDEX.")),
                );
            }
        }
    }

    /// The name of a volatile function called in an expression, if any.
    fn volatile_call(&self, expr: &protobuf::Node) -> Option<String> {
        const VOLATILE: &[&str] = &[
            "random",
            "random_normal",
            "gen_random_uuid",
            "uuid_generate_v1",
            "uuid_generate_v1mc",
            "uuid_generate_v4",
            "uuidv4",
            "uuidv7",
            "gen_random_bytes",
            "clock_timestamp",
            "timeofday",
            "nextval",
            "setseed",
            "txid_current",
            "pg_current_xact_id",
        ];
        let mut found = None;
        walk(expr, &mut |node| {
            if found.is_some() {
                return;
            }
            if let NodeEnum::FuncCall(f) = node {
                if let Some(name) = f.funcname.last().and_then(string_value) {
                    let volatile = match self.facts {
                        Some(facts) => facts.is_volatile(name),
                        None => VOLATILE.contains(&name),
                    };
                    if volatile {
                        found = Some(name.to_string());
                    }
                }
            }
        });
        found
    }

    fn add_constraint(&mut self, t: &TableRef, new: bool, c: &protobuf::Constraint) {
        let kind = c.contype;
        let name = self.qualified(t);
        let constraint = if c.conname.is_empty() {
            "constraint".to_string()
        } else {
            format!("constraint {}", quote(&c.conname))
        };
        let span = self.to_line_end(c.location.max(0) as usize);
        if kind == ConstrType::ConstrCheck as i32 {
            if let Some(column) = c.raw_expr.as_deref().and_then(is_not_null_test) {
                let entry = (t.clone(), column);
                if c.skip_validation {
                    self.pending_checks.insert(c.conname.clone(), entry);
                } else {
                    self.checked_not_null.push(entry);
                }
            }
        }
        if new {
            return;
        }
        if (kind == ConstrType::ConstrForeign as i32 || kind == ConstrType::ConstrCheck as i32)
            && !c.skip_validation
        {
            let what = if kind == ConstrType::ConstrForeign as i32 {
                "foreign key"
            } else {
                "CHECK"
            };
            let label = if c.conname.is_empty() {
                "c".to_string()
            } else {
                quote(&c.conname)
            };
            self.report(
                "constraint-without-not-valid",
                span,
                self.object(t),
                format!("{what} {constraint} is validated against every row of {name} while writes are blocked"),
                Some(format!(
                    "ALTER TABLE {name} ADD CONSTRAINT {label} ... NOT VALID; then, in a separate statement or migration, ALTER TABLE {name} VALIDATE CONSTRAINT {label};"
                )),
            );
        } else if (kind == ConstrType::ConstrPrimary as i32
            || kind == ConstrType::ConstrUnique as i32)
            && c.indexname.is_empty()
        {
            let what = if kind == ConstrType::ConstrPrimary as i32 {
                "PRIMARY KEY"
            } else {
                "UNIQUE"
            };
            let columns: Vec<&str> = c.keys.iter().filter_map(string_value).collect();
            let index = format!(
                "{}_{}_{}",
                t.name,
                columns.join("_"),
                if what == "UNIQUE" { "key" } else { "pkey" }
            );
            self.report(
                "unique-without-index",
                span,
                self.object(t),
                format!("{what} {constraint} on {name} builds its index under an ACCESS EXCLUSIVE lock"),
                Some(format!(
                    "CREATE UNIQUE INDEX CONCURRENTLY {idx} ON {name} ({cols}); then ALTER TABLE {name} ADD CONSTRAINT {idx} {what} USING INDEX {idx};",
                    idx = quote(&index),
                    cols = columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ")
                )),
            );
        }
    }

    fn alter_type(&mut self, t: &TableRef, new: bool, column: &str, col: &protobuf::ColumnDef) {
        let Some(ty) = &col.type_name else { return };
        self.type_rules(t, column, ty, false);
        if new {
            return;
        }
        let name = self.qualified(t);
        let span = self
            .find_words(&["type"])
            .or_else(|| self.find_words(&["set", "data", "type"]))
            .map_or_else(|| self.first_line(), |(start, _)| self.to_line_end(start));
        let target = self.sql[self.type_span(ty.location.max(0) as usize).0
            ..self.type_span(ty.location.max(0) as usize).1]
            .to_string();
        let current = self
            .facts
            .and_then(|f| f.table(t.schema.as_deref(), &t.name))
            .and_then(|f| f.columns.get(column))
            .cloned();
        let using = col.raw_default.is_some();
        if !using {
            if let Some(current) = &current {
                if binary_compatible(current, ty) {
                    return;
                }
            }
        }
        let from = current
            .as_deref()
            .map(|c| format!(" from {c}"))
            .unwrap_or_default();
        self.report(
            "type-change-rewrite",
            span,
            Some(format!("column {name}.{}", quote(column))),
            format!(
                "changing {name}.{}{from} to {target} rewrites the table under an ACCESS EXCLUSIVE lock",
                quote(column)
            ),
            None,
        );
    }

    fn finish(&mut self) {
        if let Some((stmt, span)) = self.transaction.take() {
            self.stmt = stmt;
            self.report(
                "unclosed-transaction",
                span,
                None,
                "this BEGIN is never committed in the file".to_string(),
                None,
            );
        }
        for (stmt, t, span) in std::mem::take(&mut self.tenant_tables) {
            if self.rls_enabled.iter().any(|r| r.matches(&t)) {
                continue;
            }
            // A table created and dropped in the same migration does not stay.
            if !self.created.iter().any(|c| c.matches(&t)) {
                continue;
            }
            self.stmt = stmt;
            let name = self.qualified(&t);
            self.report(
                "new-table-without-rls",
                span,
                self.object(&t),
                format!("tenant-scoped table {name} is created without ENABLE ROW LEVEL SECURITY in the same migration"),
                Some(format!(
                    "ALTER TABLE {name} ENABLE ROW LEVEL SECURITY; ALTER TABLE {name} FORCE ROW LEVEL SECURITY; and CREATE POLICY ... for the tenant column (or list {} in [tenancy] global_tables).",
                    t.name
                )),
            );
        }
    }
}

/// Whether changing a column from `current` (as `format_type` renders it) to `target` keeps
/// the stored bytes valid, so PostgreSQL skips the rewrite.
fn binary_compatible(current: &str, target: &protobuf::TypeName) -> bool {
    let name = target
        .names
        .last()
        .and_then(string_value)
        .unwrap_or_default();
    let mods: Vec<i64> = target
        .typmods
        .iter()
        .filter_map(|m| match &m.node {
            Some(NodeEnum::AConst(c)) => match &c.val {
                Some(protobuf::a_const::Val::Ival(i)) => Some(i64::from(i.ival)),
                _ => None,
            },
            _ => None,
        })
        .collect();
    if !target.array_bounds.is_empty() {
        return false;
    }
    let current_len = |prefix: &str| -> Option<Option<i64>> {
        if current == prefix {
            return Some(None);
        }
        current
            .strip_prefix(prefix)?
            .strip_prefix('(')?
            .strip_suffix(')')
            .map(|n| n.split(',').next().and_then(|n| n.trim().parse().ok()))
    };
    match name {
        "text" => current == "text" || current_len("character varying").is_some(),
        "varchar" => match (current_len("character varying"), mods.first()) {
            (Some(_), None) => true,
            (Some(Some(old)), Some(new)) => *new >= old,
            (Some(None), Some(_)) => false,
            (None, None) => current == "text",
            (None, Some(_)) => false,
        },
        "numeric" => {
            let scale = |text: &str| -> Option<(i64, i64)> {
                let inner = text.strip_prefix("numeric(")?.strip_suffix(')')?;
                let (p, s) = inner.split_once(',').unwrap_or((inner, "0"));
                Some((p.trim().parse().ok()?, s.trim().parse().ok()?))
            };
            match (current, mods.as_slice()) {
                (_, []) => current.starts_with("numeric"),
                ("numeric", _) => false,
                (c, [p, rest @ ..]) => match scale(c) {
                    Some((old_p, old_s)) => {
                        let new_s = rest.first().copied().unwrap_or(0);
                        new_s == old_s && *p >= old_p
                    }
                    None => false,
                },
            }
        }
        "varbit" => match (current_len("bit varying"), mods.first()) {
            (Some(_), None) => true,
            (Some(Some(old)), Some(new)) => *new >= old,
            _ => false,
        },
        "inet" => current == "cidr" || current == "inet",
        "citext" => current == "citext",
        _ => {
            // Same type and modifiers: nothing changes.
            let canonical = match name {
                "int4" => "integer",
                "int8" => "bigint",
                "int2" => "smallint",
                "bool" => "boolean",
                "timestamptz" => "timestamp with time zone",
                "timestamp" => "timestamp without time zone",
                other => other,
            };
            mods.is_empty() && current == canonical
        }
    }
}

/// `col IS NOT NULL` -> `col`.
fn is_not_null_test(expr: &protobuf::Node) -> Option<String> {
    let Some(NodeEnum::NullTest(test)) = &expr.node else {
        return None;
    };
    if test.nulltesttype != protobuf::NullTestType::IsNotNull as i32 {
        return None;
    }
    match test.arg.as_deref().and_then(|a| a.node.as_ref()) {
        Some(NodeEnum::ColumnRef(c)) if c.fields.len() == 1 => {
            string_value(&c.fields[0]).map(String::from)
        }
        _ => None,
    }
}

fn col_constraints(col: &protobuf::ColumnDef) -> impl Iterator<Item = &protobuf::Constraint> {
    col.constraints.iter().filter_map(|c| match &c.node {
        Some(NodeEnum::Constraint(c)) => Some(c.as_ref()),
        _ => None,
    })
}

fn string_value(node: &protobuf::Node) -> Option<&str> {
    match &node.node {
        Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
        _ => None,
    }
}

fn range_var(node: &protobuf::Node) -> Option<&protobuf::RangeVar> {
    match &node.node {
        Some(NodeEnum::RangeVar(r)) => Some(r),
        _ => None,
    }
}

fn list_items(node: &protobuf::Node) -> Option<&[protobuf::Node]> {
    match &node.node {
        Some(NodeEnum::List(l)) => Some(&l.items),
        _ => None,
    }
}

/// Call `f` on every node of an expression tree (the node kinds a default expression uses).
fn walk(node: &protobuf::Node, f: &mut dyn FnMut(&NodeEnum)) {
    let Some(n) = &node.node else { return };
    f(n);
    let children: Vec<&protobuf::Node> = match n {
        NodeEnum::FuncCall(c) => c.args.iter().collect(),
        NodeEnum::TypeCast(c) => c.arg.as_deref().into_iter().collect(),
        NodeEnum::AExpr(e) => e
            .lexpr
            .as_deref()
            .into_iter()
            .chain(e.rexpr.as_deref())
            .collect(),
        NodeEnum::BoolExpr(e) => e.args.iter().collect(),
        NodeEnum::CoalesceExpr(e) => e.args.iter().collect(),
        NodeEnum::CaseExpr(e) => e
            .args
            .iter()
            .chain(e.defresult.as_deref())
            .chain(e.arg.as_deref())
            .collect(),
        NodeEnum::CaseWhen(w) => w
            .expr
            .as_deref()
            .into_iter()
            .chain(w.result.as_deref())
            .collect(),
        NodeEnum::List(l) => l.items.iter().collect(),
        NodeEnum::AArrayExpr(a) => a.elements.iter().collect(),
        NodeEnum::RowExpr(r) => r.args.iter().collect(),
        NodeEnum::MinMaxExpr(m) => m.args.iter().collect(),
        NodeEnum::NullTest(t) => t.arg.as_deref().into_iter().collect(),
        NodeEnum::CollateClause(c) => c.arg.as_deref().into_iter().collect(),
        _ => Vec::new(),
    };
    for child in children {
        walk(child, f);
    }
}

/// Identifier quoting as PostgreSQL does it (lowercase simple names stay bare).
fn quote(name: &str) -> String {
    tenet_catalog::quote::ident(name)
}

/// An inline `-- tenet:ignore rule[, rule]` directive (no rules: all rules).
struct Directive {
    stmt: usize,
    rules: Option<Vec<String>>,
}

/// Directives in comments, each tied to a statement: a directive on the line where a
/// statement ends (after it) belongs to that statement; otherwise to the statement it
/// precedes or sits in.
fn ignore_directives(sql: &str, spans: &[StmtSpan]) -> Vec<Directive> {
    const MARK: &str = "tenet:ignore";
    let mut out = Vec::new();
    if !sql.contains(MARK) {
        return out;
    }
    for (comment_start, comment_end) in lexer::comments(sql) {
        let comment = &sql[comment_start..comment_end];
        let Some(found) = comment.find(MARK) else {
            continue;
        };
        let at = comment_start + found;
        let from = at + MARK.len();
        let rest = &sql[from..comment_end];
        if rest.starts_with('-') || rest.starts_with(|c: char| c.is_alphanumeric()) {
            continue; // tenet:ignore-something else
        }
        let line_end = rest.find('\n').unwrap_or(rest.len());
        let text = &rest[..line_end];
        let text = text.split("*/").next().unwrap_or(text);
        let rules: Vec<String> = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .take_while(|w| {
                w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            })
            .map(String::from)
            .collect();
        let line_of = |offset: usize| sql[..offset].matches('\n').count();
        let line = line_of(at);
        let stmt = spans
            .iter()
            .rposition(|s| s.code.1 <= at && line_of(s.code.1) == line)
            .or_else(|| {
                spans
                    .iter()
                    .position(|s| s.raw.0 <= at && at < s.raw.1.max(s.code.1))
            })
            .or_else(|| spans.iter().position(|s| s.code.0 > at));
        if let Some(stmt) = stmt {
            out.push(Directive {
                stmt,
                rules: (!rules.is_empty()).then_some(rules),
            });
        }
    }
    out
}
