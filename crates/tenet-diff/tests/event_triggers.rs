//! Event triggers: apply `from`, apply the plan, and the catalog and the `pg_dump -s` must be
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

const EVENT_TRIGGERS: &str = include_str!("../../tenet-catalog/tests/schemas/event_triggers.sql");

#[test]
fn event_triggers_created_and_dropped() {
    pair("event triggers", "", EVENT_TRIGGERS);
}

#[test]
fn event_triggers_change_with_their_function() {
    // The old trigger forbids dropping tables and the plan drops one: it must go first.
    pair(
        "event trigger changes",
        "create table gone (id int);
         create function no_drops() returns event_trigger language plpgsql as $$
         begin raise exception 'no drops'; end $$;
         create event trigger no_drops on sql_drop execute function no_drops();
         create event trigger stays on ddl_command_end execute function no_drops();
         alter event trigger stays disable;",
        "create function guard() returns event_trigger language plpgsql as $$
         begin raise notice 'ddl'; end $$;
         create event trigger guard on ddl_command_start when tag in ('CREATE TABLE')
             execute function guard();
         create function no_drops() returns event_trigger language plpgsql as $$
         begin raise exception 'no drops'; end $$;
         create event trigger stays on ddl_command_end execute function no_drops();
         alter event trigger stays disable;
         comment on event trigger guard is 'watching';",
    );
}
