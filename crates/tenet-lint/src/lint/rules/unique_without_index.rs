//! `unique-without-index`: a UNIQUE or PRIMARY KEY constraint whose index is built under an
//! ACCESS EXCLUSIVE lock.

use pg_query::protobuf::{self, ConstrType};

use crate::lint::names::{quote, string_value, TableRef};
use crate::lint::{predict, Ctx};
use crate::observe::LockMode;

pub(in crate::lint) fn check(ctx: &mut Ctx, t: &TableRef, c: &protobuf::Constraint) {
    let name = ctx.qualified(t);
    let primary = c.contype == ConstrType::ConstrPrimary as i32;
    let what = if primary { "PRIMARY KEY" } else { "UNIQUE" };
    let constraint = if c.conname.is_empty() {
        "constraint".to_string()
    } else {
        format!("constraint {}", quote(&c.conname))
    };
    let columns: Vec<&str> = c.keys.iter().filter_map(string_value).collect();
    let index = format!(
        "{}_{}_{}",
        t.name,
        columns.join("_"),
        if primary { "pkey" } else { "key" }
    );
    let span = ctx.to_line_end(ctx.at(c.location));
    ctx.report_effect(
        "unique-without-index",
        span,
        ctx.object(t),
        format!("{what} {constraint} on {name} builds its index under an ACCESS EXCLUSIVE lock"),
        Some(format!(
            "CREATE UNIQUE INDEX CONCURRENTLY {idx} ON {name} ({cols}); then ALTER TABLE {name} ADD CONSTRAINT {idx} {what} USING INDEX {idx};",
            idx = quote(&index),
            cols = columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ")
        )),
        Some(predict(t, LockMode::AccessExclusive)),
    );
}

/// A key declared with ADD COLUMN.
pub(in crate::lint) fn with_column(
    ctx: &mut Ctx,
    t: &TableRef,
    col: &protobuf::ColumnDef,
    c: &protobuf::Constraint,
) {
    let name = ctx.qualified(t);
    let column = format!("{name}.{}", quote(&col.colname));
    let span = ctx.to_line_end(ctx.at(c.location));
    let what = if c.contype == ConstrType::ConstrPrimary as i32 {
        "primary key"
    } else {
        "unique constraint"
    };
    ctx.report_effect(
        "unique-without-index",
        span,
        Some(format!("column {column}")),
        format!("the {what} declared with {column} builds its index under an ACCESS EXCLUSIVE lock on {name}"),
        Some(format!("Add the column, CREATE UNIQUE INDEX CONCURRENTLY on it, then ALTER TABLE {name} ADD CONSTRAINT ... USING INDEX.")),
        Some(predict(t, LockMode::AccessExclusive)),
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql =
            format!("{TIMEOUT}ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);");
        let f = fires(&sql, "unique-without-index", 2, 23);
        assert!(
            f.fix.contains("CREATE UNIQUE INDEX CONCURRENTLY"),
            "{}",
            f.fix
        );
        assert!(f.fix.contains("USING INDEX"), "{}", f.fix);
        fires(
            &format!("{TIMEOUT}ALTER TABLE users ADD PRIMARY KEY (id);"),
            "unique-without-index",
            2,
            23,
        );
    }

    #[test]
    fn passes() {
        silent(
            &format!("{TIMEOUT}ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;"),
            "unique-without-index",
        );
        silent(
            "CREATE TABLE t (id bigint, email text);\nALTER TABLE t ADD PRIMARY KEY (id);",
            "unique-without-index",
        );
    }
}
