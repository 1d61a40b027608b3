//! `prefer-timestamptz`: timestamp without time zone.

use pg_query::protobuf;

use crate::lint::names::type_name;
use crate::lint::Ctx;

pub(in crate::lint) fn check(
    ctx: &mut Ctx,
    ty: &protobuf::TypeName,
    span: (usize, usize),
    column: &str,
) {
    if type_name(ty) != "timestamp" {
        return;
    }
    let written = ctx.text(span).to_string();
    let bare = column.rsplit('.').next().unwrap_or(column).to_string();
    ctx.report(
        "prefer-timestamptz",
        span,
        Some(format!("column {column}")),
        format!("column {column} is {written}"),
        Some(format!("Declare {bare} timestamptz.")),
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql = "CREATE TABLE t (at timestamp without time zone);";
        let f = fires(sql, "prefer-timestamptz", 1, 20);
        assert_eq!(underlined(sql, &f), "timestamp without time zone");
        fires(
            "CREATE TABLE t (created timestamp);",
            "prefer-timestamptz",
            1,
            25,
        );
    }

    #[test]
    fn passes() {
        silent("CREATE TABLE t (at timestamptz);", "prefer-timestamptz");
    }
}
