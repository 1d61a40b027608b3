//! Helpers for the rules' own tests: lint a snippet and check where a rule fired.

use tenet_report::Finding;

pub(crate) use crate::facts::{Facts, TableFacts};

pub(crate) const TIMEOUT: &str = "SET lock_timeout = '2s';\n";

pub(crate) fn lint(sql: &str) -> Vec<Finding> {
    super::lint_sql("m.sql", sql, None, None)
}

pub(crate) fn lint_facts(sql: &str, facts: &Facts) -> Vec<Finding> {
    super::lint_sql("m.sql", sql, Some(facts), None)
}

pub(crate) fn positions(findings: &[Finding], rule: &str) -> Vec<(usize, usize, usize, usize)> {
    findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| {
            let l = f.location.as_ref().unwrap();
            (l.line, l.column, l.end_line, l.end_column)
        })
        .collect()
}

/// The rule fires exactly once, at `line:column`; returns the finding.
#[track_caller]
pub(crate) fn fires(sql: &str, rule: &str, line: usize, column: usize) -> Finding {
    let findings = lint(sql);
    let at = positions(&findings, rule);
    assert_eq!(
        at.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
        vec![(line, column)],
        "{rule} in:\n{sql}\nfindings: {findings:#?}"
    );
    findings.into_iter().find(|f| f.rule == rule).unwrap()
}

#[track_caller]
pub(crate) fn silent(sql: &str, rule: &str) {
    let findings = lint(sql);
    assert!(
        positions(&findings, rule).is_empty(),
        "{rule} should not fire in:\n{sql}\nfindings: {findings:#?}"
    );
}

/// The underlined text of a finding.
pub(crate) fn underlined<'a>(sql: &'a str, f: &Finding) -> &'a str {
    let l = f.location.as_ref().unwrap();
    let (start, end) = l.span_in(sql).unwrap();
    &sql[start..end]
}
