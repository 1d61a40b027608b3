//! Extended statistics: apply `from`, apply the plan, and the catalog and the `pg_dump -s`
//! must be the target's, in both directions.

mod common;

fn pair(name: &str, from: &str, to: &str) {
    for (direction, a, b) in [("up", from, to), ("down", to, from)] {
        match common::check_direction_and_dump(&format!("{name} {direction}"), a, b) {
            Err(e) => panic!("{name} {direction}: {e}"),
            Ok(outcome) => assert!(
                !outcome.column_order_differs,
                "{name} {direction}: column order differs\n{}",
                outcome.plan.to_sql()
            ),
        }
    }
}

const STATISTICS: &str = include_str!("../../tenet-catalog/tests/schemas/statistics.sql");

#[test]
fn statistics_created_and_dropped() {
    pair("statistics", "", STATISTICS);
}

#[test]
fn statistics_change_with_their_table_and_functions() {
    // `s_gone` and `s_retyped` cover a column that goes or changes type; `s_expr` calls a
    // function dropped and created again (its result type changes); `on_view` is on a
    // materialized view created again; the others change kinds, target or comment only.
    pair(
        "statistics changes",
        "create table t (id int primary key, a int, b text, c int, r int, gone int);
         create function f(x int) returns int language sql immutable as $$ select x + 1 $$;
         create statistics s_kinds (ndistinct) on a, c from t;
         create statistics s_target on a, b from t;
         alter statistics s_target set statistics 100;
         create statistics s_gone on a, gone from t;
         create statistics s_retyped on b, r from t;
         create statistics s_expr on (f(a)), c from t;
         create statistics s_stays on a, b, c from t;
         comment on statistics s_stays is 'old';
         create materialized view v as select a, c from t;
         create statistics on_view on a, c from v;",
        "create table t (id int primary key, a int, b text, c int, r bigint);
         create function f(x int) returns bigint language sql immutable as $$ select x + 2 $$;
         create statistics s_kinds (ndistinct, mcv) on a, c from t;
         create statistics s_target on a, b from t;
         alter statistics s_target set statistics 1000;
         create statistics s_retyped on b, r from t;
         create statistics s_expr on (f(a)), c from t;
         create statistics s_stays on a, b, c from t;
         comment on statistics s_stays is 'new';
         create statistics s_new on a, b from t;
         create materialized view v as select a, c, b from t;
         create statistics on_view on a, c from v;",
    );
}

#[test]
fn statistics_follow_a_table_created_again() {
    // Partitioning a table creates it again: its statistics go first and come back.
    pair(
        "statistics on a recreated table",
        "create table p (a int, b int);
         create statistics p_ab on a, b from p;",
        "create table p (a int, b int) partition by range (a);
         create statistics p_ab on a, b from p;",
    );
}
