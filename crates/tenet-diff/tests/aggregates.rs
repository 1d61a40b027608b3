//! Aggregates: apply `from`, apply the plan, and the catalog and the `pg_dump -s` must be the
//! target's, in both directions.

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

const AGGREGATES: &str = include_str!("../../tenet-catalog/tests/schemas/aggregates.sql");

#[test]
fn aggregates_created_and_dropped() {
    pair("aggregates", "", AGGREGATES);
}

#[test]
fn aggregates_change_under_a_view() {
    pair(
        "aggregate changes",
        "create function concat_step(acc text, v text) returns text
             language sql immutable as $$ select case when acc is null then v else acc || ',' || v end $$;
         create aggregate group_concat(text) (sfunc = concat_step, stype = text);
         create aggregate how_many(*) (sfunc = int8inc, stype = int8, initcond = '0');
         create table words (w text);
         create view summary as select group_concat(w) as words from words;",
        "create function concat_step(acc text, v text) returns text
             language sql immutable as $$ select case when acc is null then v else acc || ';' || v end $$;
         create aggregate group_concat(text) (sfunc = concat_step, stype = text, initcond = '', parallel = safe);
         create aggregate biggest(int) (sfunc = int4larger, stype = int4, sortop = >);
         comment on aggregate group_concat(text) is 'joined';
         revoke all on function group_concat(text) from public;
         create table words (w text);
         create view summary as select group_concat(w) as words, count(*) as n from words;",
    );
}
