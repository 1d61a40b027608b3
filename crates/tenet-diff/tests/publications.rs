//! Publications and replica identities: apply `from`, apply the plan, and the catalog and the
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

const PUBLICATIONS: &str = include_str!("../../tenet-catalog/tests/schemas/publications.sql");

#[test]
fn publications_created_and_dropped() {
    pair("publications", "", PUBLICATIONS);
}

const TABLES: &str = "
    create schema feed;
    create schema other;
    create table public.messages (id bigint primary key, room text not null, body text, code text not null unique);
    create table public.rooms (id int primary key, name text);
    create table feed.items (id int primary key, v text);
    create table other.notes (id int primary key, v text);";

#[test]
fn publication_tables_columns_filters_and_options_change() {
    pair(
        "publication changes",
        &format!(
            "{TABLES}
             create publication chat for table public.messages (id, room) where (room <> 'x'), table public.rooms
                 with (publish = 'insert');
             create publication schemas for tables in schema feed, table public.rooms;
             create publication gone_later for table public.rooms;
             create publication whole for all tables;
             comment on publication chat is 'before';"
        ),
        &format!(
            "{TABLES}
             create publication chat for table public.messages (id, room, body) where (room <> 'y')
                 with (publish = 'insert, delete', publish_via_partition_root = true);
             create publication schemas for tables in schema other, table public.messages;
             create publication whole for table public.rooms;
             create publication new_one for table feed.items where (v is not null);
             comment on publication chat is 'after';"
        ),
    );
}

#[test]
fn columns_under_a_column_list_are_dropped_and_retyped() {
    // A column in a column list or a row filter cannot be dropped or retyped while the
    // publication names it: the entry goes first and comes back.
    pair(
        "columns under a publication",
        "create table t (id int primary key, a int, b text, c int);
         create publication p for table t (id, a, c) where (c > 0);",
        "create table t (id int primary key, a bigint, b text);
         create publication p for table t (id, a) where (a > 0);",
    );
}

#[test]
fn a_published_table_recreated_whole_is_published_again() {
    pair(
        "recreated table",
        "create table t (id int not null, at date not null);
         create publication p for table t;",
        "create table t (id int not null, at date not null) partition by range (at);
         create table t_2026 partition of t for values from ('2026-01-01') to ('2027-01-01');
         create publication p for table t with (publish_via_partition_root = true);",
    );
}

#[test]
fn replica_identities_change() {
    pair(
        "replica identity",
        "create table a (id int primary key, code text not null);
         create unique index a_code on a (code);
         alter table a replica identity using index a_code;
         create table b (id int primary key);
         create table c (id int primary key, v text);
         alter table c replica identity full;
         create table d (id int not null, v text not null);
         create unique index d_key on d (id);
         alter table d replica identity using index d_key;",
        "create table a (id int primary key, code text not null);
         create unique index a_code on a (code);
         alter table a replica identity full;
         create table b (id int primary key);
         alter table b replica identity nothing;
         create table c (id int primary key, v text);
         create table d (id int not null, v text not null);
         create unique index d_key on d (id, v);
         alter table d replica identity using index d_key;",
    );
}
