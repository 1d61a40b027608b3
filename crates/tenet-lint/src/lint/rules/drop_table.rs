//! `drop-table`: DROP TABLE of a table that existed before the migration.

use crate::lint::names::TableRef;
use crate::lint::{Ctx, Predicted};
use crate::observe::LockMode;

pub(in crate::lint) fn check(ctx: &mut Ctx, t: &TableRef) {
    ctx.takes_lock(t, LockMode::AccessExclusive);
    if ctx.is_new(t) {
        ctx.state.created.retain(|c| !c.matches(t));
        return;
    }
    let span = ctx
        .find_words(&["drop", "table"])
        .map_or_else(|| ctx.first_line(), |(start, _)| ctx.to_line_end(start));
    let name = ctx.qualified(t);
    ctx.report_effect(
        "drop-table",
        span,
        ctx.object(t),
        format!("DROP TABLE {name} deletes the table and its data"),
        None,
        Some(data_loss(t)),
    );
}

/// Data-loss rules predict the ACCESS EXCLUSIVE lock; size does not make a loss smaller.
pub(in crate::lint) fn data_loss(t: &TableRef) -> Predicted {
    Predicted {
        table: Some(t.clone()),
        lock: LockMode::AccessExclusive,
        rewrite: false,
        scan: false,
        scales: false,
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql = format!("{TIMEOUT}DROP TABLE users;");
        assert_eq!(
            underlined(&sql, &fires(&sql, "drop-table", 2, 1)),
            "DROP TABLE users"
        );
    }

    #[test]
    fn passes() {
        silent(
            "CREATE TABLE scratch (id bigint, a text);\nDROP TABLE scratch;",
            "drop-table",
        );
    }
}
