//! `drop-column`: ALTER TABLE ... DROP COLUMN on a table that existed before the migration.

use crate::lint::names::{quote, TableRef};
use crate::lint::Ctx;

pub(in crate::lint) fn check(ctx: &mut Ctx, t: &TableRef, new: bool, column: &str) {
    let span = span(ctx, column);
    if new {
        return;
    }
    let name = ctx.qualified(t);
    ctx.report_effect(
        "drop-column",
        span,
        Some(format!("column {name}.{}", quote(column))),
        format!(
            "DROP COLUMN {} deletes the column's data from {name}",
            quote(column)
        ),
        None,
        Some(super::drop_table::data_loss(t)),
    );
}

/// `DROP [COLUMN] [IF EXISTS] name`, from the cursor on.
fn span(ctx: &mut Ctx, column: &str) -> (usize, usize) {
    let tokens = &ctx.view.tokens;
    for i in ctx.view.cursor..tokens.len() {
        if tokens[i].text != "drop" {
            continue;
        }
        let mut k = i + 1;
        while k < tokens.len() && matches!(tokens[k].text.as_str(), "column" | "if" | "exists") {
            k += 1;
        }
        if k < tokens.len() && tokens[k].text == column {
            let span = (tokens[i].start, tokens[k].end);
            ctx.view.cursor = k + 1;
            return span;
        }
    }
    ctx.first_line()
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql = format!("{TIMEOUT}ALTER TABLE users DROP COLUMN a, DROP COLUMN IF EXISTS b;");
        let findings = lint(&sql);
        let drops: Vec<&str> = findings
            .iter()
            .filter(|f| f.rule == "drop-column")
            .map(|f| underlined(&sql, f))
            .collect();
        assert_eq!(drops, ["DROP COLUMN a", "DROP COLUMN IF EXISTS b"]);
    }

    #[test]
    fn passes() {
        silent(
            "CREATE TABLE scratch (id bigint, a text);\nALTER TABLE scratch DROP COLUMN a;",
            "drop-column",
        );
    }
}
