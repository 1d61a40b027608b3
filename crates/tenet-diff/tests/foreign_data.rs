//! Foreign servers, user mappings and foreign tables: apply `from`, apply the plan, and the
//! catalog (and, where no mapping holds options, the `pg_dump -s`) must be the target's, in
//! both directions.

mod common;

/// Both directions; returns the plans' SQL, up then down.
fn pair(name: &str, from: &str, to: &str) -> (String, String) {
    let mut plans = Vec::new();
    for (direction, a, b) in [("up", from, to), ("down", to, from)] {
        match common::check_direction_and_dump(&format!("{name} {direction}"), a, b) {
            Err(e) => panic!("{name} {direction}: {e}"),
            Ok(outcome) => {
                assert!(
                    !outcome.column_order_differs,
                    "{name} {direction}: column order differs\n{}",
                    outcome.plan.to_sql()
                );
                plans.push(outcome.plan.to_sql());
            }
        }
    }
    (plans.remove(0), plans.remove(0))
}

const FOREIGN_DATA: &str = include_str!("../../tenet-catalog/tests/schemas/foreign_data.sql");

/// The whole schema file, created and dropped. Its mapping holds a password, which the plan
/// cannot know (so `pg_dump`, which prints it, differs): the catalogs must be equal, and the
/// password must be nowhere in the plan.
#[test]
fn foreign_data_created_and_dropped() {
    for (direction, a, b) in [("up", "", FOREIGN_DATA), ("down", FOREIGN_DATA, "")] {
        let outcome = common::check_direction(&format!("foreign data {direction}"), a, b)
            .unwrap_or_else(|e| panic!("foreign data {direction}: {e}"));
        let plan = format!("{}\n{}", outcome.plan.to_sql(), outcome.plan.to_json());
        assert!(
            !plan.contains("hunter2"),
            "the plan holds the password:\n{plan}"
        );
        assert!(
            !plan.contains("'reader'"),
            "the plan holds the mapping's user:\n{plan}"
        );
    }
}

#[test]
fn foreign_data_created_and_dropped_as_pg_dump_sees_it() {
    pair(
        "foreign data without secrets",
        "",
        "create extension postgres_fdw;
         create schema remote;
         create server s foreign data wrapper postgres_fdw options (host 'h', dbname 'd');
         create user mapping for public server s;
         create foreign table remote.t (id int options (column_name 'i') not null, name text)
             server s options (table_name 't');
         comment on foreign table remote.t is 'remote t';",
    );
}

#[test]
fn servers_mappings_and_foreign_tables_change() {
    let (up, down) = pair(
        "foreign data changes",
        "create extension postgres_fdw;
         create server s foreign data wrapper postgres_fdw options (host 'a', dbname 'd', port '1');
         create server gone foreign data wrapper postgres_fdw;
         create user mapping for public server s;
         create user mapping for public server gone;
         create foreign table ft (id int options (column_name 'i'), name text, dropped int,
             constraint dropped_set check (dropped is not null), constraint id_positive check (id > 0))
             server s options (table_name 't');
         create foreign table moves (id int) server gone;",
        "create extension postgres_fdw;
         create extension file_fdw;
         create server s version '2' foreign data wrapper postgres_fdw
             options (host 'b', port '1', fetch_size '100');
         create server files foreign data wrapper file_fdw;
         create user mapping for public server s;
         create foreign table ft (id bigint options (column_name 'id2') not null,
             name text collate \"C\" default 'n', added date options (column_name 'a'),
             constraint id_positive check (id > 1), constraint named check (name <> ''))
             server s options (table_name 't2', schema_name 'x');
         create foreign table moves (id int, line text) server files
             options (filename '/tmp/moves.csv', format 'csv');
         comment on server s is 'the server';
         comment on foreign table ft is 'remote';
         comment on column ft.name is 'a name';",
    );
    // Kept objects change in place; a server's wrapper, and a table's server, do not.
    for expected in [
        "ALTER SERVER s VERSION '2';",
        "ALTER SERVER s OPTIONS (DROP dbname, SET host 'b', ADD fetch_size '100');",
        "ALTER FOREIGN TABLE public.ft OPTIONS (SET table_name 't2', ADD schema_name 'x');",
        "ALTER FOREIGN TABLE public.ft DROP COLUMN dropped;",
        "ALTER FOREIGN TABLE public.ft ALTER COLUMN id TYPE bigint;",
        "ALTER FOREIGN TABLE public.ft ALTER COLUMN id OPTIONS (SET column_name 'id2');",
        "ALTER FOREIGN TABLE public.ft DROP CONSTRAINT dropped_set;",
        "ALTER FOREIGN TABLE public.ft ADD CONSTRAINT named CHECK ((name <> ''::text));",
        "DROP FOREIGN TABLE public.moves;",
        "DROP SERVER gone;",
    ] {
        assert!(up.contains(expected), "{expected} not in\n{up}");
    }
    // Back: `dbname` must come before `port` again, which only dropping and adding reaches.
    let reordered = "ALTER SERVER s OPTIONS (DROP host, DROP port, DROP fetch_size, \
                     ADD host 'a', ADD dbname 'd', ADD port '1');";
    assert!(down.contains(reordered), "{reordered} not in\n{down}");
}

#[test]
fn grants_on_servers_and_foreign_tables_change() {
    let setup = "do $$ begin create role tenet_dt_fdw_reader nologin; \
                 exception when duplicate_object or unique_violation then null; end $$;
                 create extension postgres_fdw;
                 create server s foreign data wrapper postgres_fdw;
                 create foreign table ft (id int, name text) server s;";
    pair(
        "foreign data grants",
        setup,
        &format!(
            "{setup}
             grant usage on foreign server s to tenet_dt_fdw_reader;
             create user mapping for tenet_dt_fdw_reader server s;
             grant select on ft to tenet_dt_fdw_reader;
             grant select (id) on ft to public;"
        ),
    );
}

/// A view on a foreign table goes and comes back around what its table cannot do under it
/// (a column changing type, a new server); a new foreign table comes before the view on it.
/// A column that becomes generated takes its table with it.
#[test]
fn views_on_foreign_tables_follow_their_tables() {
    pair(
        "views on foreign tables",
        "create extension postgres_fdw;
         create server a foreign data wrapper postgres_fdw;
         create server b foreign data wrapper postgres_fdw;
         create foreign table ft (id int, name text) server a;
         create foreign table derived (n int, m int) server a;
         create foreign table moved (id int) server a;
         create view v as select f.id, f.name, m.id as moved_id from ft f join moved m using (id);",
        "create extension postgres_fdw;
         create server a foreign data wrapper postgres_fdw;
         create server b foreign data wrapper postgres_fdw;
         create domain code as text check (value <> '');
         create foreign table ft (id bigint, name code) server a;
         create foreign table moved (id bigint) server b;
         create foreign table added (id bigint, twice bigint generated always as (id * 2) stored)
             server b;
         create view v as select f.id, f.name, m.id as moved_id from ft f join moved m using (id);
         create foreign table derived (n int, m int generated always as (n + 1) stored) server a;
         create view w as select * from added;",
    );
}
