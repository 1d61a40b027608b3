//! `prefer-identity`: serial columns.

use pg_query::protobuf;

use crate::lint::names::{is_serial, type_name};
use crate::lint::Ctx;

pub(in crate::lint) fn check(
    ctx: &mut Ctx,
    ty: &protobuf::TypeName,
    span: (usize, usize),
    column: &str,
) {
    if !is_serial(type_name(ty)) {
        return;
    }
    let written = ctx.text(span).to_string();
    let bare = column.rsplit('.').next().unwrap_or(column).to_string();
    ctx.report(
        "prefer-identity",
        span,
        Some(format!("column {column}")),
        format!("column {column} is {written}"),
        Some(format!(
            "Declare {bare} bigint GENERATED ALWAYS AS IDENTITY."
        )),
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql = "CREATE TABLE t (\n  id serial PRIMARY KEY\n);";
        assert_eq!(
            underlined(sql, &fires(sql, "prefer-identity", 2, 6)),
            "serial"
        );
    }

    #[test]
    fn passes() {
        silent(
            "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);",
            "prefer-identity",
        );
    }
}
