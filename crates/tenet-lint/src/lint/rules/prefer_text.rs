//! `prefer-text`: varchar(n).

use pg_query::protobuf;

use crate::lint::names::type_name;
use crate::lint::Ctx;

pub(in crate::lint) fn check(
    ctx: &mut Ctx,
    ty: &protobuf::TypeName,
    span: (usize, usize),
    column: &str,
) {
    if type_name(ty) != "varchar" || ty.typmods.is_empty() {
        return;
    }
    let written = ctx.text(span).to_string();
    let bare = column.rsplit('.').next().unwrap_or(column).to_string();
    ctx.report(
        "prefer-text",
        span,
        Some(format!("column {column}")),
        format!("column {column} is {written}"),
        Some(format!(
            "Declare {bare} text (with CHECK (char_length({bare}) <= n) if the limit matters)."
        )),
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql = "CREATE TABLE t (name varchar(100));";
        assert_eq!(
            underlined(sql, &fires(sql, "prefer-text", 1, 22)),
            "varchar(100)"
        );
    }

    #[test]
    fn passes() {
        silent("CREATE TABLE t (name text, tag varchar);", "prefer-text");
    }
}
