//! `nested-transaction`: BEGIN inside an open transaction, or COMMIT/ROLLBACK with none open.

use crate::lint::Ctx;

pub(in crate::lint) fn begin_inside(ctx: &mut Ctx, span: (usize, usize)) {
    ctx.report(
        "nested-transaction",
        span,
        None,
        "BEGIN inside a transaction that is already open: PostgreSQL ignores it, and the next COMMIT ends the outer transaction"
            .to_string(),
        None,
    );
}

pub(in crate::lint) fn end_outside(ctx: &mut Ctx, span: (usize, usize)) {
    let word = ctx.text(span).to_uppercase();
    ctx.report(
        "nested-transaction",
        span,
        None,
        format!("{word} without an open transaction: it ends the migrator's transaction, or does nothing"),
        None,
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql = "BEGIN;\nSELECT 1;\nBEGIN;\nSELECT 2;\nCOMMIT;";
        let f = fires(sql, "nested-transaction", 3, 1);
        assert_eq!(underlined(sql, &f), "BEGIN");
        fires("SELECT 1;\nCOMMIT;", "nested-transaction", 2, 1);
    }

    #[test]
    fn passes() {
        silent(
            "BEGIN;\nSAVEPOINT a;\nSELECT 1;\nROLLBACK TO a;\nCOMMIT;\nSTART TRANSACTION;\nEND;",
            "nested-transaction",
        );
    }
}
