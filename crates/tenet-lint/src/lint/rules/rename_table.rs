//! `rename-table`: a table in use renamed under the application's feet.

use pg_query::protobuf;

use crate::lint::names::{quote, TableRef};
use crate::lint::Ctx;

pub(in crate::lint) fn check(ctx: &mut Ctx, t: &TableRef, s: &protobuf::RenameStmt) {
    let span = ctx
        .find_words(&["rename"])
        .map_or_else(|| ctx.first_line(), |(start, _)| ctx.to_line_end(start));
    let name = ctx.qualified(t);
    ctx.report_effect(
        "rename-table",
        span,
        ctx.object(t),
        format!("{name} is renamed to {}", quote(&s.newname)),
        None,
        Some(super::drop_table::data_loss(t)),
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql = format!("{TIMEOUT}ALTER TABLE users RENAME TO accounts;");
        let f = fires(&sql, "rename-table", 2, 19);
        assert_eq!(underlined(&sql, &f), "RENAME TO accounts");
    }

    #[test]
    fn passes() {
        silent(
            "CREATE TABLE t (id bigint);\nALTER TABLE t RENAME TO u;\nALTER TABLE u RENAME COLUMN id TO uid;",
            "rename-table",
        );
    }
}
