//! `no-char`: char(n).

use pg_query::protobuf;

use crate::lint::names::type_name;
use crate::lint::Ctx;

pub(in crate::lint) fn check(
    ctx: &mut Ctx,
    ty: &protobuf::TypeName,
    span: (usize, usize),
    column: &str,
) {
    if type_name(ty) != "bpchar" {
        return;
    }
    let written = ctx.text(span).to_string();
    let bare = column.rsplit('.').next().unwrap_or(column).to_string();
    ctx.report(
        "no-char",
        span,
        Some(format!("column {column}")),
        format!("column {column} is {written}"),
        Some(format!("Declare {bare} text.")),
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql = "CREATE TABLE t (code char(2));";
        assert_eq!(underlined(sql, &fires(sql, "no-char", 1, 22)), "char(2)");
    }

    #[test]
    fn passes() {
        silent("CREATE TABLE t (code text);", "no-char");
    }
}
