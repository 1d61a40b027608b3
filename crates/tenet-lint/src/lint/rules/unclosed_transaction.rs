//! `unclosed-transaction`: a BEGIN the file never commits.

use crate::lint::Ctx;

pub(in crate::lint) fn at_end(ctx: &mut Ctx) {
    if let Some((stmt, span)) = ctx.state.transaction.take() {
        ctx.stmt = stmt;
        ctx.report(
            "unclosed-transaction",
            span,
            None,
            "this BEGIN is never committed in the file".to_string(),
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql = "SELECT 0;\nBEGIN;\nSELECT 1;";
        let f = fires(sql, "unclosed-transaction", 2, 1);
        assert_eq!(underlined(sql, &f), "BEGIN");
    }

    #[test]
    fn passes() {
        silent(
            "BEGIN;\nSAVEPOINT a;\nSELECT 1;\nROLLBACK TO a;\nCOMMIT;\nSTART TRANSACTION;\nEND;",
            "unclosed-transaction",
        );
    }
}
