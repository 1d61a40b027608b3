//! Rules and triggers on views: apply `from`, apply the plan, and the catalog and the
//! `pg_dump -s` must be the target's, in both directions.

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

const RULES: &str = include_str!("../../tenet-catalog/tests/schemas/rules.sql");

#[test]
fn rules_and_view_triggers_created_and_dropped() {
    pair("rules", "", RULES);
}

const BASE: &str = "
    create table items (id int primary key, name text, price int);
    create table log (id int, what text);
    create function on_insert() returns trigger language plpgsql as $$ begin return new; end $$;
    create view v as select id, name from items;";

#[test]
fn rules_and_view_triggers_change() {
    pair(
        "rule changes",
        &format!(
            "{BASE}
             create rule log_update as on update to items do also insert into log values (new.id, 'update');
             create rule keep as on delete to log do instead nothing;
             create trigger v_insert instead of insert on v for each row execute function on_insert();
             create rule v_delete as on delete to v do instead nothing;"
        ),
        &format!(
            "{BASE}
             create rule log_update as on update to items do also insert into log values (new.id, 'changed');
             create rule keep as on delete to log do instead nothing;
             alter table log disable rule keep;
             create trigger v_insert instead of insert or update on v for each row execute function on_insert();
             create rule v_delete as on delete to v do instead delete from items where id = old.id;
             comment on rule v_delete on v is 'deletes through';"
        ),
    );
}

#[test]
fn a_column_a_rule_uses_is_retyped_and_dropped() {
    // PostgreSQL refuses to retype or drop a column a rule uses: the rule goes first.
    pair(
        "columns under a rule",
        "create table items (id int primary key, price int, old_note text);
         create table log (id int, price int);
         create rule log_price as on update to items do also insert into log values (new.id, new.price);
         create rule note as on insert to items do also insert into log values (new.id, length(new.old_note));",
        "create table items (id int primary key, price bigint);
         create table log (id int, price bigint);
         create rule log_price as on update to items do also insert into log values (new.id, new.price);",
    );
}

#[test]
fn a_view_trigger_survives_its_function_and_view_being_recreated() {
    pair(
        "view recreated under its trigger",
        "create table items (id int primary key, name text);
         create function on_insert() returns trigger language plpgsql as $$ begin return new; end $$;
         create view v as select id, name from items;
         create trigger v_insert instead of insert on v for each row execute function on_insert();",
        "create table items (id int primary key, name text);
         create function on_insert() returns trigger language plpgsql as $$ begin return null; end $$;
         create view v as select name, id from items;
         create trigger v_insert instead of insert on v for each row execute function on_insert();",
    );
}
