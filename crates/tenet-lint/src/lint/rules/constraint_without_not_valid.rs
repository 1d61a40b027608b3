//! `constraint-without-not-valid`: a foreign key or CHECK added to a table in use, validated
//! against every row while writes wait.

use pg_query::protobuf::{self, ConstrType};

use crate::lint::names::{quote, TableRef};
use crate::lint::{Ctx, Predicted};
use crate::observe::LockMode;

/// The lock a constraint's validation holds: SHARE ROW EXCLUSIVE for a foreign key (on both
/// tables), ACCESS EXCLUSIVE for a CHECK.
fn lock(c: &protobuf::Constraint) -> LockMode {
    if c.contype == ConstrType::ConstrForeign as i32 {
        LockMode::ShareRowExclusive
    } else {
        LockMode::AccessExclusive
    }
}

fn predicted(t: &TableRef, c: &protobuf::Constraint) -> Predicted {
    Predicted {
        table: Some(t.clone()),
        lock: lock(c),
        rewrite: false,
        scan: true,
        scales: true,
    }
}

pub(in crate::lint) fn check(ctx: &mut Ctx, t: &TableRef, c: &protobuf::Constraint) {
    let name = ctx.qualified(t);
    let foreign = c.contype == ConstrType::ConstrForeign as i32;
    let what = if foreign { "foreign key" } else { "CHECK" };
    let constraint = if c.conname.is_empty() {
        "constraint".to_string()
    } else {
        format!("constraint {}", quote(&c.conname))
    };
    let label = if c.conname.is_empty() {
        "c".to_string()
    } else {
        quote(&c.conname)
    };
    let span = ctx.to_line_end(ctx.at(c.location));
    ctx.report_effect(
        "constraint-without-not-valid",
        span,
        ctx.object(t),
        format!("{what} {constraint} is validated against every row of {name} while writes are blocked"),
        Some(format!(
            "ALTER TABLE {name} ADD CONSTRAINT {label} ... NOT VALID; then, in a separate migration (or after COMMIT), ALTER TABLE {name} VALIDATE CONSTRAINT {label};"
        )),
        Some(predicted(t, c)),
    );
}

/// A constraint declared with ADD COLUMN.
pub(in crate::lint) fn with_column(
    ctx: &mut Ctx,
    t: &TableRef,
    col: &protobuf::ColumnDef,
    c: &protobuf::Constraint,
) {
    let name = ctx.qualified(t);
    let column = format!("{name}.{}", quote(&col.colname));
    let span = ctx.to_line_end(ctx.at(c.location));
    let what = if c.contype == ConstrType::ConstrForeign as i32 {
        "foreign key"
    } else {
        "CHECK constraint"
    };
    ctx.report_effect(
        "constraint-without-not-valid",
        span,
        Some(format!("column {column}")),
        format!("the {what} declared with {column} is validated against every row of {name} while writes are blocked"),
        Some(format!("Add the column without the constraint, then ALTER TABLE {name} ADD CONSTRAINT ... NOT VALID, and VALIDATE CONSTRAINT separately.")),
        // Adding the column takes ACCESS EXCLUSIVE whatever the constraint.
        Some(Predicted {
            lock: LockMode::AccessExclusive,
            ..predicted(t, c)
        }),
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql = format!(
            "{TIMEOUT}ALTER TABLE tasks\n  ADD CONSTRAINT tasks_user_fk FOREIGN KEY (user_id) REFERENCES users (id);\n"
        );
        let f = fires(&sql, "constraint-without-not-valid", 3, 7);
        assert_eq!(
            underlined(&sql, &f),
            "CONSTRAINT tasks_user_fk FOREIGN KEY (user_id) REFERENCES users (id)"
        );
        assert!(f.fix.contains("NOT VALID") && f.fix.contains("VALIDATE CONSTRAINT tasks_user_fk"));
        assert!(
            f.message.ends_with(
                "(predicted: SHARE ROW EXCLUSIVE lock on public.tasks, full table scan)"
            ),
            "{}",
            f.message
        );
        fires(
            &format!("{TIMEOUT}ALTER TABLE tasks ADD CHECK (priority > 0);"),
            "constraint-without-not-valid",
            2,
            23,
        );
        fires(
            &format!(
                "{TIMEOUT}ALTER TABLE tasks ADD COLUMN owner_id bigint REFERENCES users (id);"
            ),
            "constraint-without-not-valid",
            2,
            46,
        );
    }

    #[test]
    fn passes() {
        silent(
            &format!("{TIMEOUT}ALTER TABLE tasks ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;"),
            "constraint-without-not-valid",
        );
        silent(
            "CREATE TABLE t (id bigint PRIMARY KEY, u bigint);\nALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES users (id);",
            "constraint-without-not-valid",
        );
    }
}
