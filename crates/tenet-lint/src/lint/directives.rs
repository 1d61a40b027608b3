//! Directives in comments: `-- tenet:no-transaction` on a migration's first line, and inline
//! `-- tenet:ignore rule[, rule]`.

use super::StmtSpan;
use crate::lexer;

/// The directive tenet-migrate reads (one spelling, shared with it): the file's statements
/// run outside a transaction, each on its own.
pub use tenet_catalog::migrations::{no_transaction, NO_TRANSACTION};

/// An inline `-- tenet:ignore rule[, rule]` directive (no rules: all rules).
pub(super) struct Ignore {
    stmt: usize,
    rules: Option<Vec<String>>,
}

pub(super) fn ignored(directives: &[Ignore], stmt: usize, rule: &str) -> bool {
    directives.iter().any(|d| {
        d.stmt == stmt
            && match &d.rules {
                Some(rules) => rules.iter().any(|r| r == rule),
                None => true,
            }
    })
}

/// Directives in comments, each tied to a statement: a directive on the line where a
/// statement ends (after it) belongs to that statement; otherwise to the statement it
/// precedes or sits in.
pub(super) fn ignores(sql: &str, spans: &[StmtSpan]) -> Vec<Ignore> {
    const MARK: &str = "tenet:ignore";
    let mut out = Vec::new();
    if !sql.contains(MARK) {
        return out;
    }
    let line_of = |offset: usize| sql[..offset].matches('\n').count();
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
        let line = line_of(at);
        // The last statement ending before the directive, if it ends on the directive's line.
        let before = spans.partition_point(|s| s.code.1 <= at);
        let stmt = (before > 0 && line_of(spans[before - 1].code.1) == line)
            .then(|| before - 1)
            .or_else(|| {
                spans
                    .iter()
                    .position(|s| s.raw.0 <= at && at < s.raw.1.max(s.code.1))
            })
            .or_else(|| spans.iter().position(|s| s.code.0 > at));
        if let Some(stmt) = stmt {
            out.push(Ignore {
                stmt,
                rules: (!rules.is_empty()).then_some(rules),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::*;

    #[test]
    fn the_no_transaction_directive_is_the_first_line() {
        assert!(no_transaction("-- tenet:no-transaction\nVACUUM t;"));
        assert!(no_transaction("-- tenet:no-transaction  \nSELECT 1;"));
        assert!(!no_transaction(
            "-- tenet:no-transaction (backfill)\nSELECT 1;"
        ));
        assert!(!no_transaction("SELECT 1;\n-- tenet:no-transaction\n"));
        assert!(!no_transaction("-- tenet:no-transactions\nSELECT 1;"));
    }

    #[test]
    fn inline_ignores() {
        let sql = "SET lock_timeout = '1s';\n-- tenet:ignore index-not-concurrent\nCREATE INDEX a ON users (x);\nCREATE INDEX b ON users (y); -- tenet:ignore index-not-concurrent, drop-table\nCREATE INDEX c ON users (z);\n/* tenet:ignore */ DROP TABLE old;\n";
        let findings = lint(sql);
        assert_eq!(
            positions(&findings, "index-not-concurrent"),
            vec![(5, 1, 5, 13)]
        );
        assert!(
            positions(&findings, "drop-table").is_empty(),
            "{findings:#?}"
        );
        // Another rule's ignore does not hide this one.
        let sql =
            "SET lock_timeout = '1s';\nCREATE INDEX a ON users (x); -- tenet:ignore drop-table\n";
        assert_eq!(positions(&lint(sql), "index-not-concurrent").len(), 1);
        // The directive text inside a string is not a directive.
        let sql = "SET lock_timeout = '1s';\nCREATE INDEX a ON users ((x || '-- tenet:ignore'));\n";
        assert_eq!(positions(&lint(sql), "index-not-concurrent").len(), 1);
    }
}
