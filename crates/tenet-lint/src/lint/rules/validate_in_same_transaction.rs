//! `validate-in-same-transaction`: VALIDATE CONSTRAINT of a constraint added NOT VALID earlier
//! in the same transaction, which scans the table under the ADD's lock.

use crate::lint::names::{quote, TableRef};
use crate::lint::{txn, Ctx, Predicted};
use crate::observe::LockMode;

pub(in crate::lint) fn validate(ctx: &mut Ctx, t: &TableRef, name: &str, segment: txn::Segment) {
    let Some((added_on, Some(added_in))) = ctx.state.not_valid.get(name).cloned() else {
        return;
    };
    if !added_on.matches(t) || ctx.transaction_id(segment) != Some(added_in) {
        return;
    }
    let table = ctx.qualified(t);
    let span = ctx
        .find_words(&["validate", "constraint"])
        .map_or_else(|| ctx.first_line(), |(start, _)| ctx.to_line_end(start));
    ctx.report_effect(
        "validate-in-same-transaction",
        span,
        ctx.object(t),
        format!(
            "constraint {} is validated in the transaction that added it NOT VALID: the scan of {table} runs under the lock the ADD took",
            quote(name)
        ),
        None,
        Some(Predicted {
            table: Some(t.clone()),
            lock: LockMode::ShareUpdateExclusive,
            rewrite: false,
            scan: true,
            scales: true,
        }),
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    const PAIR: &str = "ALTER TABLE tasks ADD CONSTRAINT tasks_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nALTER TABLE tasks VALIDATE CONSTRAINT tasks_user_fk;\n";

    #[test]
    fn fails() {
        let sql = format!("{TIMEOUT}BEGIN;\n{PAIR}COMMIT;\n");
        let f = fires(&sql, "validate-in-same-transaction", 4, 19);
        assert_eq!(underlined(&sql, &f), "VALIDATE CONSTRAINT tasks_user_fk");
    }

    #[test]
    fn passes() {
        // Tenet's migrator validates in a transaction of its own.
        silent(&format!("{TIMEOUT}{PAIR}"), "validate-in-same-transaction");
        silent(
            &format!("{TIMEOUT}BEGIN;\nALTER TABLE tasks ADD CONSTRAINT tasks_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nCOMMIT;\nALTER TABLE tasks VALIDATE CONSTRAINT tasks_user_fk;\n"),
            "validate-in-same-transaction",
        );
        silent(
            &format!("-- tenet:no-transaction\n{TIMEOUT}{PAIR}"),
            "validate-in-same-transaction",
        );
    }
}
