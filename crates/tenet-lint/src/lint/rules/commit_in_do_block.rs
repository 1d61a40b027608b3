//! `commit-in-do-block`: COMMIT or ROLLBACK in a DO block that runs inside a transaction block
//! (an explicit BEGIN, or a migration without `-- tenet:no-transaction`).

use crate::lint::Ctx;

/// `span`: the COMMIT or ROLLBACK inside the body.
pub(in crate::lint) fn check(ctx: &mut Ctx, span: (usize, usize), word: &str) {
    let why = if ctx.state.transaction.is_some() {
        "inside the transaction block opened by BEGIN"
    } else if !ctx.no_transaction {
        "in a migration that runs in a transaction"
    } else {
        return;
    };
    ctx.report(
        "commit-in-do-block",
        span,
        None,
        format!("{word} inside a DO block {why} fails with \"invalid transaction termination\""),
        None,
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    const BATCHES: &str = "DO $$\nBEGIN\n  LOOP\n    UPDATE t SET x = 1 WHERE id IN (SELECT id FROM t WHERE x IS NULL LIMIT 1000);\n    EXIT WHEN NOT FOUND;\n    COMMIT;\n  END LOOP;\nEND $$;\n";

    #[test]
    fn fails() {
        let f = fires(BATCHES, "commit-in-do-block", 6, 5);
        assert_eq!(underlined(BATCHES, &f), "COMMIT");
        fires(
            &format!("-- tenet:no-transaction\nBEGIN;\n{BATCHES}COMMIT;\n"),
            "commit-in-do-block",
            8,
            5,
        );
    }

    #[test]
    fn passes() {
        silent(
            &format!("-- tenet:no-transaction\n{BATCHES}"),
            "commit-in-do-block",
        );
        silent(
            "DO $$ BEGIN UPDATE t SET x = 1; END $$;",
            "commit-in-do-block",
        );
    }
}
