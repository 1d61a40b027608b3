//! `missing-lock-timeout`: the first statement that locks an existing table, with no
//! `lock_timeout` set before it.

use pg_query::protobuf::{self, VariableSetKind};
use pg_query::NodeEnum;

use crate::lint::names::TableRef;
use crate::lint::{Ctx, Predicted};
use crate::observe::LockMode;

pub(in crate::lint) fn takes_lock(ctx: &mut Ctx, t: &TableRef, mode: LockMode) {
    if ctx.in_function || ctx.state.lock_timeout || ctx.state.lock_timeout_reported || ctx.is_new(t)
    {
        return;
    }
    ctx.state.lock_timeout_reported = true;
    let span = ctx.first_line();
    let name = ctx.qualified(t);
    ctx.report_effect(
        "missing-lock-timeout",
        span,
        ctx.object(t),
        format!("this statement locks {name} but no lock_timeout is set before it"),
        Some(
            "Put SET lock_timeout = '5s'; at the start of the migration (and retry it when it times out)."
                .to_string(),
        ),
        Some(Predicted {
            table: Some(t.clone()),
            lock: mode,
            rewrite: false,
            scan: false,
            scales: false,
        }),
    );
}

/// DROP INDEX names no table.
pub(in crate::lint) fn drop_index(ctx: &mut Ctx) {
    if ctx.in_function || ctx.state.lock_timeout || ctx.state.lock_timeout_reported {
        return;
    }
    ctx.state.lock_timeout_reported = true;
    let span = ctx.first_line();
    ctx.report(
        "missing-lock-timeout",
        span,
        None,
        "DROP INDEX locks its table but no lock_timeout is set before it".to_string(),
        None,
    );
}

/// `SET lock_timeout` (zero means none) and `RESET ALL`.
pub(in crate::lint) fn set(ctx: &mut Ctx, s: &protobuf::VariableSetStmt) {
    if s.name != "lock_timeout" {
        if s.kind == VariableSetKind::VarResetAll as i32 {
            ctx.state.lock_timeout = false;
        }
        return;
    }
    ctx.state.lock_timeout = s.kind == VariableSetKind::VarSetValue as i32
        && !s.args.iter().all(|a| match &a.node {
            Some(NodeEnum::AConst(c)) => match &c.val {
                Some(protobuf::a_const::Val::Ival(i)) => i.ival == 0,
                Some(protobuf::a_const::Val::Sval(s)) => {
                    let v = s.sval.trim().trim_start_matches('0');
                    v.is_empty() || v.chars().all(|c| !c.is_ascii_digit())
                }
                _ => false,
            },
            _ => false,
        });
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql = "ALTER TABLE users ADD COLUMN bio text;\nALTER TABLE users ADD COLUMN age int;";
        let f = fires(sql, "missing-lock-timeout", 1, 1);
        assert_eq!(underlined(sql, &f), "ALTER TABLE users ADD COLUMN bio text");
        // Zero means no timeout.
        fires(
            "SET lock_timeout = 0;\nALTER TABLE users ADD COLUMN bio text;",
            "missing-lock-timeout",
            2,
            1,
        );
    }

    #[test]
    fn passes() {
        silent(
            "SET lock_timeout = '3s';\nALTER TABLE users ADD COLUMN bio text;",
            "missing-lock-timeout",
        );
        silent(
            "SELECT set_config('lock_timeout', '3s', false);\nALTER TABLE users ADD COLUMN bio text;",
            "missing-lock-timeout",
        );
        silent(
            "CREATE TABLE t (id bigint);\nALTER TABLE t ADD COLUMN bio text;",
            "missing-lock-timeout",
        );
    }
}
