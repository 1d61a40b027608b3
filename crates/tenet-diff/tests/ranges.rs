//! Range types: apply `from`, apply the plan, and the catalog and the `pg_dump -s` must be
//! the target's, in both directions.

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

const RANGES: &str = include_str!("../../tenet-catalog/tests/schemas/ranges.sql");

#[test]
fn range_types_created_and_dropped() {
    pair("ranges", "", RANGES);
}

#[test]
fn a_range_type_changes_under_its_columns() {
    // The old range and its multirange are parked aside, columns move over through text.
    pair(
        "range change",
        "create type hours as range (subtype = time);
         create table shops (id int primary key, open hours, all_open hours_multirange);
         insert into shops values (1, '[09:00,17:00)', '{[09:00,12:00), [13:00,17:00)}');",
        "create function time_diff(a time, b time) returns double precision
             language sql immutable strict as $$ select extract(epoch from a - b) $$;
         create type hours as range (subtype = time, subtype_diff = time_diff);
         create table shops (id int primary key, open hours, all_open hours_multirange);
         comment on type hours is 'opening hours';",
    );
}
