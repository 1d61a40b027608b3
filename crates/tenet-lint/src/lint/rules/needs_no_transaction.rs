//! `needs-no-transaction`: a statement PostgreSQL refuses inside a transaction block, inside an
//! explicit BEGIN, or in a file Tenet's migrator runs in one transaction (no
//! `-- tenet:no-transaction`) when the migrator does not run that statement alone by itself.

use crate::lint::Ctx;

pub(in crate::lint) fn check(ctx: &mut Ctx, what: &str, migrator_runs_alone: bool) {
    if ctx.in_function {
        return;
    }
    let span = ctx.word("concurrently");
    if ctx.state.transaction.is_some() {
        ctx.report(
            "needs-no-transaction",
            span,
            None,
            format!("{what} cannot run inside the transaction block opened by BEGIN"),
            None,
        );
    } else if !migrator_runs_alone && !ctx.no_transaction {
        ctx.report(
            "needs-no-transaction",
            span,
            None,
            format!("{what} cannot run in a transaction block, and this migration runs in one"),
            Some(format!(
                "Move it into a migration of its own whose first line is `{}`.",
                crate::lint::directives::NO_TRANSACTION
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql = "BEGIN;\nCREATE INDEX CONCURRENTLY users_email ON users (email);\nCOMMIT;";
        let f = fires(sql, "needs-no-transaction", 2, 14);
        assert_eq!(underlined(sql, &f), "CONCURRENTLY");
        fires(
            "BEGIN;\nDROP INDEX CONCURRENTLY i;\nCOMMIT;",
            "needs-no-transaction",
            2,
            12,
        );
        fires(
            "BEGIN;\nVACUUM users;\nCOMMIT;",
            "needs-no-transaction",
            2,
            1,
        );
        // Not split out by Tenet's migrator: the file's own transaction refuses it.
        fires(
            "alter table p detach partition p1 concurrently;",
            "needs-no-transaction",
            1,
            35,
        );
        fires("DISCARD ALL;", "needs-no-transaction", 1, 1);
    }

    #[test]
    fn passes() {
        // Tenet's migrator runs these alone.
        silent(
            "CREATE INDEX CONCURRENTLY users_email ON users (email);",
            "needs-no-transaction",
        );
        silent("VACUUM users;", "needs-no-transaction");
        silent(
            "BEGIN;\nSELECT 1;\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON users (email);",
            "needs-no-transaction",
        );
        // The directive: every statement runs on its own.
        silent(
            "-- tenet:no-transaction\nalter table p detach partition p1 concurrently;\nDISCARD ALL;",
            "needs-no-transaction",
        );
    }
}
