//! `set-not-null-without-check`: SET NOT NULL scans the table under ACCESS EXCLUSIVE unless a
//! validated `CHECK (col IS NOT NULL)` proves it already.

use crate::lint::names::{quote, TableRef};
use crate::lint::{Ctx, Predicted};
use crate::observe::LockMode;

pub(in crate::lint) fn check(ctx: &mut Ctx, t: &TableRef, new: bool, column: &str) {
    let span = ctx
        .find_words(&["set", "not", "null"])
        .unwrap_or_else(|| ctx.first_line());
    if new
        || ctx
            .state
            .checked_not_null
            .iter()
            .any(|(ct, cc)| ct.matches(t) && cc == column)
    {
        return;
    }
    if let Some(facts) = ctx
        .facts
        .and_then(|f| f.table(t.schema.as_deref(), &t.name))
    {
        if facts.not_null.contains(column) || facts.checked_not_null.contains(column) {
            return;
        }
    }
    let name = ctx.qualified(t);
    let check = format!("{column}_not_null");
    ctx.report_effect(
        "set-not-null-without-check",
        span,
        Some(format!("column {name}.{}", quote(column))),
        format!(
            "SET NOT NULL on {name}.{} scans the whole table under an ACCESS EXCLUSIVE lock",
            quote(column)
        ),
        Some(format!(
            "ALTER TABLE {name} ADD CONSTRAINT {c} CHECK ({col} IS NOT NULL) NOT VALID; then, in a later migration, ALTER TABLE {name} VALIDATE CONSTRAINT {c}; then SET NOT NULL (instant) and DROP CONSTRAINT {c}.",
            c = quote(&check),
            col = quote(column)
        )),
        Some(Predicted {
            table: Some(t.clone()),
            lock: LockMode::AccessExclusive,
            rewrite: false,
            scan: true,
            scales: true,
        }),
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql = format!("{TIMEOUT}ALTER TABLE users ALTER COLUMN email SET NOT NULL;");
        let f = fires(&sql, "set-not-null-without-check", 2, 38);
        assert_eq!(underlined(&sql, &f), "SET NOT NULL");
        assert_eq!(f.object.as_deref(), Some("column public.users.email"));
        // NOT VALID but never validated: the scan still happens.
        fires(
            &format!(
                "{TIMEOUT}ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;\n\
                 ALTER TABLE users ALTER COLUMN email SET NOT NULL;"
            ),
            "set-not-null-without-check",
            3,
            38,
        );
    }

    #[test]
    fn passes() {
        // The safe sequence.
        silent(
            &format!(
                "{TIMEOUT}ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;\n\
                 ALTER TABLE users VALIDATE CONSTRAINT email_nn;\n\
                 ALTER TABLE users ALTER COLUMN email SET NOT NULL;"
            ),
            "set-not-null-without-check",
        );
        // A validated check from an earlier migration (known from the replay).
        let facts = Facts::default().with_table(
            "public",
            "users",
            TableFacts {
                checked_not_null: ["email".to_string()].into(),
                ..TableFacts::default()
            },
        );
        let findings = lint_facts(
            &format!("{TIMEOUT}ALTER TABLE users ALTER COLUMN email SET NOT NULL;"),
            &facts,
        );
        assert!(
            positions(&findings, "set-not-null-without-check").is_empty(),
            "{findings:#?}"
        );
    }
}
