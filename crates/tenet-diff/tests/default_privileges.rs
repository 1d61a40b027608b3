//! Default privileges: apply `from`, apply the plan, and the catalog and the `pg_dump -s`
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

const DEFAULT_PRIVILEGES: &str =
    include_str!("../../tenet-catalog/tests/schemas/default_privileges.sql");

const ROLES: &str = "
    do $$ begin create role tenet_dp_reader nologin; exception when duplicate_object or unique_violation then null; end $$;
    do $$ begin create role tenet_dp_writer nologin; exception when duplicate_object or unique_violation then null; end $$;";

#[test]
fn default_privileges_created_and_dropped() {
    pair("default privileges", "", DEFAULT_PRIVILEGES);
}

#[test]
fn default_privileges_change() {
    pair(
        "default privilege changes",
        &format!(
            "{ROLES}
             create schema app;
             create schema old_schema;
             alter default privileges in schema app grant select on tables to tenet_dp_reader;
             alter default privileges in schema old_schema grant select on tables to tenet_dp_reader;
             alter default privileges revoke execute on functions from public;
             alter default privileges for role tenet_dp_writer grant select on sequences to tenet_dp_reader;"
        ),
        &format!(
            "{ROLES}
             create schema app;
             alter default privileges in schema app grant select, insert on tables to tenet_dp_reader;
             alter default privileges in schema app grant delete on tables to tenet_dp_writer with grant option;
             alter default privileges grant execute on functions to tenet_dp_reader;
             alter default privileges revoke all on sequences from tenet_dp_writer;
             alter default privileges for role tenet_dp_writer grant usage on sequences to tenet_dp_reader;
             create table app.t (id int);"
        ),
    );
}
