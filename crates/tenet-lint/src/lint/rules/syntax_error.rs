//! `syntax-error`: a statement PostgreSQL's grammar rejects. The rest of the file is linted.

use crate::lint::Ctx;

pub(in crate::lint) fn report(ctx: &mut Ctx, message: &str) {
    let span = span(ctx, message);
    ctx.report(
        "syntax-error",
        span,
        None,
        message.to_string(),
        Some(format!("Fix the statement: PostgreSQL says \"{message}\".")),
    );
}

fn span(ctx: &Ctx, message: &str) -> (usize, usize) {
    if let Some(near) = message
        .split_once("at or near \"")
        .and_then(|(_, rest)| rest.rsplit_once('"'))
        .map(|(near, _)| near.to_lowercase())
    {
        if let Some(t) = ctx
            .view
            .tokens
            .iter()
            .find(|t| t.text.to_lowercase() == near)
        {
            return (t.start, t.end);
        }
    }
    if message.contains("at end of input") {
        return (ctx.view.code.1, ctx.view.code.1);
    }
    ctx.first_line()
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails_and_the_rest_is_linted() {
        let sql = format!("{TIMEOUT}CREATE TABEL t (id bigint);\nCREATE INDEX i ON users (x);\n");
        let findings = lint(&sql);
        let f = findings
            .iter()
            .find(|f| f.rule == "syntax-error")
            .expect("syntax error");
        let l = f.location.as_ref().unwrap();
        assert_eq!((l.line, l.column), (2, 8), "{f:#?}");
        assert_eq!(underlined(&sql, f), "TABEL");
        assert_eq!(
            positions(&findings, "index-not-concurrent"),
            vec![(3, 1, 3, 13)]
        );
    }

    #[test]
    fn passes() {
        silent("CREATE TABLE t (id bigint);", "syntax-error");
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let sql = "-- é à ü\nSET lock_timeout = '1s'; CREATE INDEX \"índice\" ON users (x);";
        let f = fires(sql, "index-not-concurrent", 2, 26);
        assert_eq!(underlined(sql, &f), "CREATE INDEX");
    }
}
