//! `volatile-default-rewrite`: ADD COLUMN with a volatile default, an identity, a serial or a
//! stored generated expression rewrites the table.

use pg_query::protobuf::{self, ConstrType};
use pg_query::NodeEnum;

use crate::lint::names::{
    col_constraints, is_serial, quote, string_value, type_name, walk, TableRef,
};
use crate::lint::{Ctx, Predicted};
use crate::observe::LockMode;

/// Report when the column rewrites the table; whether it did.
pub(in crate::lint) fn check(ctx: &mut Ctx, t: &TableRef, col: &protobuf::ColumnDef) -> bool {
    let name = ctx.qualified(t);
    let column = format!("{name}.{}", quote(&col.colname));
    let span = ctx.to_line_end(ctx.at(col.location));
    let serial = col
        .type_name
        .as_ref()
        .is_some_and(|ty| is_serial(type_name(ty)));
    let default = col.raw_default.as_deref().or_else(|| {
        col_constraints(col)
            .find(|c| c.contype == ConstrType::ConstrDefault as i32)
            .and_then(|c| c.raw_expr.as_deref())
    });
    let identity = !col.identity.is_empty()
        || col_constraints(col).any(|c| c.contype == ConstrType::ConstrIdentity as i32);
    let generated = col_constraints(col).any(|c| c.contype == ConstrType::ConstrGenerated as i32);
    let predicted = Some(Predicted {
        table: Some(t.clone()),
        lock: LockMode::AccessExclusive,
        rewrite: true,
        scan: false,
        scales: true,
    });
    if let Some(function) = default.and_then(|d| volatile_call(ctx, d)) {
        ctx.report_effect(
            "volatile-default-rewrite",
            span,
            Some(format!("column {column}")),
            format!("adding {column} with the volatile default {function}() rewrites the whole table under an ACCESS EXCLUSIVE lock"),
            None,
            predicted,
        );
        return true;
    }
    if serial || identity || generated {
        let what = if serial {
            "a serial column (its default nextval() is volatile)"
        } else if identity {
            "an identity column"
        } else {
            "a stored generated column"
        };
        ctx.report_effect(
            "volatile-default-rewrite",
            span,
            Some(format!("column {column}")),
            format!("adding {column} as {what} rewrites the whole table under an ACCESS EXCLUSIVE lock"),
            Some(format!(
                "Add {} as a plain nullable column, backfill it in batches, then attach the default, identity or generation.",
                quote(&col.colname)
            )),
            predicted,
        );
        return true;
    }
    false
}

/// The name of a volatile function called in an expression, if any.
fn volatile_call(ctx: &Ctx, expr: &protobuf::Node) -> Option<String> {
    const VOLATILE: &[&str] = &[
        "random",
        "random_normal",
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "uuidv4",
        "uuidv7",
        "gen_random_bytes",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "setseed",
        "txid_current",
        "pg_current_xact_id",
    ];
    let mut found = None;
    walk(expr, &mut |node| {
        if found.is_some() {
            return;
        }
        if let NodeEnum::FuncCall(f) = node {
            if let Some(name) = f.funcname.last().and_then(string_value) {
                let volatile = match ctx.facts {
                    Some(facts) => facts.is_volatile(name),
                    None => VOLATILE.contains(&name),
                };
                if volatile {
                    found = Some(name.to_string());
                }
            }
        }
    });
    found
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql =
            format!("{TIMEOUT}ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();");
        let f = fires(&sql, "volatile-default-rewrite", 2, 30);
        assert!(f.message.contains("gen_random_uuid()"), "{}", f.message);
        assert!(f.message.ends_with("table rewrite)"), "{}", f.message);
        for column in [
            "n bigserial",
            "n bigint GENERATED ALWAYS AS IDENTITY",
            "r float8 DEFAULT (random() * 10)",
        ] {
            fires(
                &format!("{TIMEOUT}ALTER TABLE users ADD COLUMN {column};"),
                "volatile-default-rewrite",
                2,
                30,
            );
        }
    }

    #[test]
    fn passes() {
        // now() is STABLE: PostgreSQL 11+ stores it once, no rewrite.
        silent(
            &format!("{TIMEOUT}ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now();"),
            "volatile-default-rewrite",
        );
        silent(
            &format!("{TIMEOUT}ALTER TABLE users ADD COLUMN plan text DEFAULT 'free';"),
            "volatile-default-rewrite",
        );
        silent(
            "CREATE TABLE t (id bigint);\nALTER TABLE t ADD COLUMN token uuid DEFAULT gen_random_uuid();",
            "volatile-default-rewrite",
        );
    }
}
