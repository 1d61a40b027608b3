//! Operators and casts: apply `from`, apply the plan, and the catalog and the `pg_dump -s`
//! must be the target's, in both directions.

mod common;

fn pair(name: &str, from: &str, to: &str) {
    for (direction, a, b) in [("up", from, to), ("down", to, from)] {
        if let Err(e) = common::check_direction_and_dump(&format!("{name} {direction}"), a, b) {
            panic!("{name} {direction}: {e}");
        }
    }
}

const OPERATORS: &str = include_str!("../../tenet-catalog/tests/schemas/operators.sql");

#[test]
fn operators_and_casts_created_and_dropped() {
    pair("operators and casts", "", OPERATORS);
}

const MOOD: &str = "
    create type mood as enum ('sad', 'ok', 'happy');
    create function mood_eq(mood, mood) returns boolean language sql immutable
        as $$ select $1::text = $2::text $$;
    create function mood_same(mood, mood) returns boolean language sql immutable
        as $$ select $1 = $2 $$;
    create function mood_score(mood) returns integer language sql immutable
        as $$ select array_position(enum_range(null::mood), $1) $$;
    create table visits (id int, m mood);";

#[test]
fn operators_and_casts_change_under_a_view() {
    // The operator changes function and options, the cast its context; the view that uses
    // both is recreated around them.
    let from = format!(
        "{MOOD}
        create operator === (leftarg = mood, rightarg = mood, function = mood_eq,
            restrict = eqsel);
        create cast (mood as integer) with function mood_score(mood);
        create view happy as select id, m::integer as score from visits where m === 'happy';
        comment on operator === (mood, mood) is 'old';"
    );
    let to = format!(
        "{MOOD}
        create operator === (leftarg = mood, rightarg = mood, function = mood_same,
            commutator = ===, negator = !==, restrict = eqsel, join = eqjoinsel, hashes);
        create operator !== (leftarg = mood, rightarg = mood, function = mood_eq);
        create cast (mood as integer) with function mood_score(mood) as implicit;
        create view happy as select id, m::integer as score from visits where m === 'happy';
        comment on operator === (mood, mood) is 'new';
        comment on cast (mood as integer) is 'score';"
    );
    pair("operator changes", &from, &to);
}

#[test]
fn operators_follow_a_recreated_function() {
    // The function's result type changes: it is dropped and created again, and the
    // operator that calls it with it.
    let from = "create function add_one(integer, integer) returns integer language sql
            immutable as $$ select $1 + $2 + 1 $$;
        create operator +! (leftarg = integer, rightarg = integer, function = add_one);";
    let to = "create function add_one(integer, integer) returns bigint language sql
            immutable as $$ select ($1 + $2 + 1)::bigint $$;
        create operator +! (leftarg = integer, rightarg = integer, function = add_one);";
    pair("recreated operator function", from, to);
}

#[test]
fn casts_without_function_and_with_inout() {
    // WITHOUT FUNCTION needs a superuser and types stored alike: trusted SQL, built-in types.
    let from = "create cast (boolean as \"char\") without function as assignment;";
    let to = "create cast (boolean as \"char\") with inout;
        create cast (\"char\" as boolean) without function;
        create cast (xid as integer) without function as implicit;";
    pair("cast methods", from, to);
}

#[test]
fn a_user_cast_lets_a_column_change_type() {
    let from = "create table events (at bigint);";
    let with_cast = "create function seconds_to_timestamp(bigint) returns timestamp
            language sql immutable as $$ select to_timestamp($1) at time zone 'UTC' $$;
        create cast (bigint as timestamp) with function seconds_to_timestamp(bigint);
        create table events (at timestamp);";
    if let Err(e) = common::check_direction_and_dump("user cast retype", from, with_cast) {
        panic!("user cast retype: {e}");
    }
    // Without it there is no cast: the plan is refused.
    let (_a, a) = common::catalog_of("no cast from", from).unwrap();
    let (_b, b) = common::catalog_of("no cast to", "create table events (at timestamp);").unwrap();
    let refused = tenet_diff::plan(&a, &b, &tenet_diff::Options::default());
    assert!(
        matches!(refused, Err(tenet_diff::PlanError::NoCast(_))),
        "{refused:?}"
    );
}

#[test]
fn an_operator_goes_with_its_recreated_function() {
    // The function's result type changes and the operator over it goes: the operator must be
    // dropped before the function is.
    let from = "create function add_one(integer, integer) returns integer language sql
            immutable as $$ select $1 + $2 + 1 $$;
        create operator +! (leftarg = integer, rightarg = integer, function = add_one);";
    let to = "create function add_one(integer, integer) returns bigint language sql
            immutable as $$ select ($1 + $2 + 1)::bigint $$;";
    if let Err(e) = common::check_direction_and_dump("operator goes", from, to) {
        panic!("operator goes: {e}");
    }
}
