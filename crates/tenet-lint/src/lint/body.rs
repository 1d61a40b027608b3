//! DDL inside DO blocks and function bodies, linted at its position inside the body.
//!
//! A DO block runs now: its statements count as the migration's (they create tables, take
//! locks). A function body runs when the function is called: its statements are linted
//! against the tables of the migration, but change nothing the rest of the file sees, and
//! the rules about the migration's own session (lock_timeout, transactions) do not apply.
//!
//! PL/pgSQL is read with `pg_query::parse_plpgsql` (PostgreSQL's PL/pgSQL grammar): the SQL
//! statements of the body, `EXECUTE` of a constant string, and COMMIT/ROLLBACK. Their text is
//! found in the body from the line the grammar gives; dynamic SQL built at run time is not
//! linted.

use std::rc::Rc;

use pg_query::protobuf;
use pg_query::NodeEnum;
use serde_json::Value;

use super::names::string_value;
use super::{Ctx, OffsetMap, Run, View};
use crate::lexer::{self, Literal};

/// Bodies inside bodies (EXECUTE of a DO block...) are followed this deep.
const MAX_DEPTH: usize = 3;

/// A body's text and where it is in the file.
struct Body {
    /// The value PostgreSQL sees (quotes undone).
    text: String,
    map: OffsetMap,
}

pub(super) fn do_block(ctx: &mut Ctx, s: &protobuf::DoStmt) -> Run {
    let mut body = None;
    let mut language = "plpgsql".to_string();
    for arg in &s.args {
        if let Some(NodeEnum::DefElem(d)) = &arg.node {
            let value = d.arg.as_deref().and_then(string_value);
            match (d.defname.as_str(), value) {
                ("as", Some(v)) => body = Some(v.to_string()),
                ("language", Some(v)) => language = v.to_lowercase(),
                _ => {}
            }
        }
    }
    let Some(value) = body else {
        return Run::Observe;
    };
    if language != "plpgsql" || ctx.depth >= MAX_DEPTH {
        return Run::Observe;
    }
    let Some((literal, body)) = locate(ctx, &value) else {
        return Run::Observe;
    };
    let source = format!(
        "CREATE FUNCTION tenet_do() RETURNS void LANGUAGE plpgsql AS {}",
        &ctx.sql[literal.start..literal.end]
    );
    let Ok(tree) = pg_query::parse_plpgsql(&source) else {
        return Run::Observe;
    };
    if lint_plpgsql(ctx, &tree, &body) {
        Run::Alone
    } else {
        Run::Observe
    }
}

pub(super) fn function(ctx: &mut Ctx, s: &protobuf::CreateFunctionStmt) {
    if ctx.depth >= MAX_DEPTH {
        return;
    }
    let mut body = None;
    let mut language = String::new();
    for option in &s.options {
        if let Some(NodeEnum::DefElem(d)) = &option.node {
            match d.defname.as_str() {
                "as" => {
                    body = match d.arg.as_deref().and_then(|a| a.node.as_ref()) {
                        Some(NodeEnum::List(l)) => l.items.first().and_then(string_value),
                        Some(NodeEnum::String(v)) => Some(v.sval.as_str()),
                        _ => None,
                    }
                    .map(String::from)
                }
                "language" => {
                    language = d
                        .arg
                        .as_deref()
                        .and_then(string_value)
                        .unwrap_or_default()
                        .to_lowercase()
                }
                _ => {}
            }
        }
    }
    let Some(value) = body else { return };
    let Some((_, body)) = locate(ctx, &value) else {
        return;
    };
    let saved = ctx.state.clone();
    let was = std::mem::replace(&mut ctx.in_function, true);
    match language.as_str() {
        "sql" => lint_sql_text(ctx, &body, 0, &body.text),
        "plpgsql" => {
            let source = ctx.sql[ctx.view.code.0..ctx.view.code.1].to_string();
            if let Ok(tree) = pg_query::parse_plpgsql(&source) {
                lint_plpgsql(ctx, &tree, &body);
            }
        }
        _ => {}
    }
    ctx.in_function = was;
    ctx.state = saved;
}

/// The literal of the current statement whose value is `value`, and the body it holds.
fn locate(ctx: &Ctx, value: &str) -> Option<(Literal, Body)> {
    let (start, end) = ctx.view.span;
    lexer::literals(&ctx.sql[start..end], start)
        .into_iter()
        .find_map(|literal| {
            let content = &ctx.sql[literal.content.0..literal.content.1];
            let (text, escapes) = if literal.dollar {
                (content.to_string(), Vec::new())
            } else {
                lexer::unquote(content)
            };
            (text == value).then(|| {
                let map = OffsetMap {
                    base: literal.content.0,
                    origin: 0,
                    escapes: Rc::new(escapes),
                };
                (literal, Body { text, map })
            })
        })
}

/// Lint a PL/pgSQL body's statements; whether it holds transaction control.
fn lint_plpgsql(ctx: &mut Ctx, tree: &Value, body: &Body) -> bool {
    let mut events = Vec::new();
    collect(tree, &mut events);
    // Document order (the tree's keys are sorted, so ELSE comes before THEN).
    events.sort_by_key(|e| e.line);
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(body.text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut transaction_control = false;
    let mut from = 0;
    for event in events {
        let line_start = line_starts
            .get(event.line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        // After the previous statement when it ended on this line.
        let search = line_start.max(from).min(body.text.len());
        match event.kind {
            EventKind::Sql(query) => {
                if let Some(at) = find(&body.text, search, &query) {
                    from = at + query.len();
                    lint_sql_text(ctx, body, at, &query);
                }
            }
            EventKind::Execute(expr) => {
                if let Some(at) = find(&body.text, search, &expr) {
                    from = at + expr.len();
                    execute(ctx, body, at, &expr);
                }
            }
            EventKind::Commit(word) => {
                transaction_control = true;
                if ctx.in_function {
                    continue;
                }
                let lower = word.to_lowercase();
                let at = body.text[search..]
                    .to_ascii_lowercase()
                    .find(&lower)
                    .map(|i| search + i);
                if let Some(at) = at {
                    from = at + word.len();
                    let span = (body.map.file(at), body.map.file(at + word.len()));
                    super::rules::commit_in_do_block::check(ctx, span, &word.to_uppercase());
                }
            }
        }
    }
    transaction_control
}

fn find(text: &str, from: usize, needle: &str) -> Option<usize> {
    if needle.is_empty() || from > text.len() {
        return None;
    }
    text[from..].find(needle).map(|i| from + i)
}

/// `EXECUTE '<constant SQL>'`: the string is linted as SQL at its place in the body.
fn execute(ctx: &mut Ctx, body: &Body, at: usize, expr: &str) {
    let trimmed = expr.trim();
    let lead = expr.len() - expr.trim_start().len();
    let (content, offset) = if let Some(inner) = trimmed
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
    {
        if inner.contains('\'') {
            return; // doubled quotes inside: positions would shift
        }
        (inner, lead + 1)
    } else if let Some(literal) = lexer::literals(trimmed, 0)
        .into_iter()
        .find(|l| l.dollar && l.start == 0 && l.end == trimmed.len())
    {
        (
            &trimmed[literal.content.0..literal.content.1],
            lead + literal.content.0,
        )
    } else {
        return; // built at run time
    };
    let content = content.to_string();
    lint_sql_text(ctx, body, at + offset, &content);
}

/// Lint `sql`, which is the text of `body` from position `at`.
fn lint_sql_text(ctx: &mut Ctx, body: &Body, at: usize, sql: &str) {
    let Ok(parsed) = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT) else {
        return;
    };
    let outer = ctx.view.clone();
    ctx.depth += 1;
    for raw in &parsed.protobuf.stmts {
        let Some(node) = raw.stmt.as_ref().and_then(|n| n.node.as_ref()) else {
            continue;
        };
        let start = at + raw.stmt_location.max(0) as usize;
        let end = if raw.stmt_len > 0 {
            start + raw.stmt_len as usize
        } else {
            at + sql.len()
        };
        let span = (
            body.map.file(start),
            body.map.file(end).max(body.map.file(start)),
        );
        let map = OffsetMap {
            base: body.map.base,
            origin: at,
            escapes: body.map.escapes.clone(),
        };
        let text = &ctx.sql[span.0..span.1];
        let code_start = span.0 + tenet_catalog::source::skip_blank(text);
        ctx.view = View {
            tokens: Vec::new(),
            tokenized: false,
            span,
            code: (code_start, (span.0 + text.trim_end().len()).max(code_start)),
            cursor: 0,
            map,
        };
        ctx.dispatch(node);
    }
    ctx.depth -= 1;
    ctx.view = outer;
}

struct Event {
    line: usize,
    kind: EventKind,
}

enum EventKind {
    Sql(String),
    Execute(String),
    Commit(&'static str),
}

/// The statements of a PL/pgSQL tree that lint follows.
fn collect(value: &Value, out: &mut Vec<Event>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let line = inner["lineno"].as_u64().unwrap_or(0) as usize;
                let query = |v: &Value| v["PLpgSQL_expr"]["query"].as_str().map(String::from);
                match key.as_str() {
                    "PLpgSQL_stmt_execsql" => {
                        if let Some(q) = query(&inner["sqlstmt"]) {
                            out.push(Event {
                                line,
                                kind: EventKind::Sql(q),
                            });
                        }
                    }
                    "PLpgSQL_stmt_dynexecute" => {
                        if let Some(q) = query(&inner["query"]) {
                            out.push(Event {
                                line,
                                kind: EventKind::Execute(q),
                            });
                        }
                    }
                    "PLpgSQL_stmt_commit" => out.push(Event {
                        line,
                        kind: EventKind::Commit("commit"),
                    }),
                    "PLpgSQL_stmt_rollback" => out.push(Event {
                        line,
                        kind: EventKind::Commit("rollback"),
                    }),
                    _ => {}
                }
                collect(inner, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect(item, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn ddl_in_a_do_block_is_linted_at_its_place() {
        let sql = "SET lock_timeout = '2s';\nDO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'users_email') THEN\n    CREATE INDEX users_email ON users (email);\n  END IF;\n  ALTER TABLE users ADD COLUMN plan text NOT NULL;\nEND $$;\n";
        let f = fires(sql, "index-not-concurrent", 5, 5);
        assert_eq!(underlined(sql, &f), "CREATE INDEX");
        let f = fires(sql, "not-null-without-default", 7, 32);
        assert_eq!(underlined(sql, &f), "plan text NOT NULL");
    }

    #[test]
    fn execute_of_a_constant_string_is_linted() {
        let sql = "SET lock_timeout = '2s';\nDO $$ BEGIN EXECUTE 'ALTER TABLE users ALTER COLUMN id TYPE bigint'; END $$;";
        let f = fires(sql, "type-change-rewrite", 2, 56);
        assert_eq!(underlined(sql, &f), "TYPE bigint");
        silent(
            "SET lock_timeout = '2s';\nDO $$ BEGIN EXECUTE format('ALTER TABLE %I ALTER COLUMN id TYPE bigint', 't'); END $$;",
            "type-change-rewrite",
        );
    }

    #[test]
    fn single_quoted_bodies_map_back_to_the_file() {
        let sql = "SET lock_timeout = '2s';\nDO 'BEGIN ALTER TABLE users ADD COLUMN plan text NOT NULL DEFAULT ''free''; CREATE INDEX i ON users (plan); END';";
        let f = fires(sql, "index-not-concurrent", 2, 77);
        assert_eq!(underlined(sql, &f), "CREATE INDEX");
    }

    #[test]
    fn tables_a_do_block_creates_are_new() {
        silent(
            "DO $$ BEGIN CREATE TABLE events (id bigint); CREATE INDEX events_id ON events (id); END $$;",
            "index-not-concurrent",
        );
    }

    #[test]
    fn function_bodies_are_linted_without_changing_the_file() {
        let sql = "CREATE FUNCTION backfill() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n  ALTER TABLE users ALTER COLUMN email SET NOT NULL;\nEND $$;\nCREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ TRUNCATE users $$;";
        let findings = lint(sql);
        assert_eq!(positions(&findings, "set-not-null-without-check").len(), 1);
        assert_eq!(positions(&findings, "truncate-table"), vec![(5, 53, 5, 67)]);
        // The function's session decides lock_timeout, not the migration's.
        assert!(
            positions(&findings, "missing-lock-timeout").is_empty(),
            "{findings:#?}"
        );
    }
}
