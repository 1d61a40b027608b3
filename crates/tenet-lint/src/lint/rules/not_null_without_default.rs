//! `not-null-without-default`: ADD COLUMN ... NOT NULL without a default fails on a table that
//! has rows.

use pg_query::protobuf::{self, ConstrType};

use crate::lint::names::{col_constraints, quote, TableRef};
use crate::lint::{Ctx, Predicted};
use crate::observe::LockMode;

pub(in crate::lint) fn check(ctx: &mut Ctx, t: &TableRef, col: &protobuf::ColumnDef) {
    let has_default = col.raw_default.is_some()
        || col_constraints(col).any(|c| c.contype == ConstrType::ConstrDefault as i32);
    let not_null = col.is_not_null
        || col_constraints(col).any(|c| {
            c.contype == ConstrType::ConstrNotnull as i32
                || c.contype == ConstrType::ConstrPrimary as i32
        });
    if !not_null || has_default {
        return;
    }
    let name = ctx.qualified(t);
    let column = format!("{name}.{}", quote(&col.colname));
    let span = ctx.to_line_end(ctx.at(col.location));
    ctx.report_effect(
        "not-null-without-default",
        span,
        Some(format!("column {column}")),
        format!("adding NOT NULL column {column} without a default fails if {name} has rows"),
        None,
        Some(Predicted {
            table: Some(t.clone()),
            lock: LockMode::AccessExclusive,
            rewrite: false,
            scan: false,
            scales: false,
        }),
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql = format!("{TIMEOUT}ALTER TABLE users ADD COLUMN plan text NOT NULL;");
        let f = fires(&sql, "not-null-without-default", 2, 30);
        assert_eq!(underlined(&sql, &f), "plan text NOT NULL");
    }

    #[test]
    fn passes() {
        silent(
            &format!("{TIMEOUT}ALTER TABLE users ADD COLUMN plan text NOT NULL DEFAULT 'free';"),
            "not-null-without-default",
        );
        silent(
            &format!("{TIMEOUT}ALTER TABLE users ADD COLUMN plan text;"),
            "not-null-without-default",
        );
        silent(
            "CREATE TABLE t (id bigint);\nALTER TABLE t ADD COLUMN plan text NOT NULL;",
            "not-null-without-default",
        );
    }
}
