//! `truncate-table`: TRUNCATE of a table that existed before the migration.

use pg_query::protobuf;

use crate::lint::names::{range_var, TableRef};
use crate::lint::Ctx;
use crate::observe::LockMode;

pub(in crate::lint) fn check(ctx: &mut Ctx, s: &protobuf::TruncateStmt) {
    for rel in s.relations.iter().filter_map(range_var) {
        let t = TableRef::from_range_var(rel);
        ctx.takes_lock(&t, LockMode::AccessExclusive);
        if ctx.is_new(&t) {
            continue;
        }
        let span = ctx.first_line();
        let name = ctx.qualified(&t);
        ctx.report_effect(
            "truncate-table",
            span,
            ctx.object(&t),
            format!("TRUNCATE deletes every row of {name}"),
            None,
            Some(super::drop_table::data_loss(&t)),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        fires(&format!("{TIMEOUT}TRUNCATE users;"), "truncate-table", 2, 1);
    }

    #[test]
    fn passes() {
        silent(
            "CREATE TABLE scratch (id bigint);\nTRUNCATE scratch;",
            "truncate-table",
        );
    }
}
