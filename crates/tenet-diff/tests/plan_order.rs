//! Plans that used to fail halfway (issue 15), each as a pair: the plan from `from` to `to`,
//! applied to `from`, must give `to` (catalog and `pg_dump -s` alike), and back again.

mod common;

use tenet_diff::{plan, Options};

/// Both directions; the result must match the target catalog and its pg_dump.
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

fn allow_destructive() -> Options {
    Options {
        allow_destructive: true,
    }
}

/// The plan from the schema `from` to the schema `to`, each loaded into a database of its own;
/// a refusal as its message.
fn plan_between(from: &str, to: &str, options: &Options) -> Result<tenet_diff::Plan, String> {
    let (_a, a) = common::catalog_of("a", from).unwrap();
    let (_b, b) = common::catalog_of("b", to).unwrap();
    plan(&a, &b, options).map_err(|e| e.to_string())
}

#[test]
fn new_index_takes_the_name_of_a_changed_index() {
    pair(
        "index name reused",
        "create table t (a int, b int); create index t_idx on t (a);
         create table gone (x int); create index shared_idx on gone (x);
         create table m_src (a int, b int);
         create materialized view m as select a, b from m_src; create index m_idx on m (a);",
        "create table t (a int, b int); create index t_idx on t (b);
         create table kept (x int); create index shared_idx on kept (x);
         create table m_src (a int, b int);
         create materialized view m as select a, b from m_src; create index m_idx on m (b);",
    );
}

#[test]
fn table_replaced_by_a_sequence_of_its_name() {
    pair(
        "table to sequence",
        "create table counter (n int); create table t (id int);",
        "create sequence counter; create table t (id int default nextval('counter'));",
    );
}

#[test]
fn table_recreated_as_community_tag_keeps_tag_pkey() {
    pair(
        "tag to community_tag",
        "create table tag (id serial, name text not null, constraint tag_pkey primary key (id));
         create table post_tag (tag_id int references tag (id));",
        "create table community_tag (id serial, name text not null, constraint tag_pkey primary key (id));
         create table post_tag (tag_id int references community_tag (id));",
    );
}

#[test]
fn serial_sequence_survives_partitioning_change() {
    pair(
        "partitioned to plain",
        "create table ev (id serial, at date not null, primary key (id, at));
         create table note (ev_id int, ev_at date, foreign key (ev_id, ev_at) references ev (id, at));",
        "create table ev (id serial, at date not null, primary key (id, at)) partition by range (at);
         create table ev_2024 partition of ev for values from ('2024-01-01') to ('2025-01-01');
         create table note (ev_id int, ev_at date, foreign key (ev_id, ev_at) references ev (id, at));",
    );
}

#[test]
fn sequence_owned_by_moves_after_the_owning_column_is_dropped() {
    pair(
        "owned by moves",
        "create table t (b int, a serial);",
        "create sequence t_a_seq as integer;
         create table t (b int, c int not null default nextval('t_a_seq'));
         alter sequence t_a_seq owned by t.c;",
    );
}

#[test]
fn column_dropped_after_the_policy_that_uses_it() {
    pair(
        "foobar_policy",
        "create table foobar (id int, owner text, amount int, val int);
         alter table foobar enable row level security;
         create policy foobar_policy on foobar using (val > 0);
         create policy amount_policy on foobar for insert with check (amount > 0);
         create function touch() returns trigger language plpgsql as $$ begin return new; end $$;
         create trigger foobar_touch before update of amount on foobar for each row execute function touch();",
        "create table foobar (id int, owner text, amount bigint);
         alter table foobar enable row level security;
         create policy foobar_policy on foobar using (owner = current_user);
         create policy amount_policy on foobar for insert with check (amount > 0);
         create function touch() returns trigger language plpgsql as $$ begin return new; end $$;
         create trigger foobar_touch before update of amount on foobar for each row execute function touch();",
    );
}

#[test]
fn foreign_key_on_a_partitioned_table_is_added_valid() {
    pair(
        "partitioned fk",
        "create table r (id int primary key);
         create table p (r_id int, at date not null) partition by range (at);
         create table p_2024 partition of p for values from ('2024-01-01') to ('2025-01-01');",
        "create table r (id int primary key);
         create table p (r_id int references r (id), at date not null) partition by range (at);
         create table p_2024 partition of p for values from ('2024-01-01') to ('2025-01-01');",
    );
}

#[test]
fn bigint_to_timestamp_is_refused_with_how_to_convert() {
    let from = "create table t (id int, at bigint);";
    let to = "create table t (id int, at timestamp);";
    let err = plan_between(from, to, &allow_destructive()).unwrap_err();
    assert!(
        err.contains("public.t.at: bigint -> timestamp without time zone"),
        "{err}"
    );
    assert!(err.contains("migration written by hand"), "{err}");
    assert!(err.contains("USING"), "{err}");
    // A cast that exists still plans.
    let wider = "create table t (id bigint, at text);";
    plan_between(from, wider, &allow_destructive()).unwrap();
}

#[test]
fn scalar_to_array_is_refused_but_text_to_array_plans() {
    // "cannot cast type integer to integer[]" if the plan tried.
    let from = "create table t (c int, s text);";
    let to = "create table t (c int[], s text);";
    let err = plan_between(from, to, &allow_destructive()).unwrap_err();
    assert!(err.contains("public.t.c: integer -> integer[]"), "{err}");
    pair(
        "text to array",
        "create table t (c int, s text);",
        "create table t (c int, s text[]);",
    );
}

#[test]
fn dropping_a_sequence_loses_data() {
    let err = plan_between("create sequence counter;", "", &Options::default()).unwrap_err();
    assert!(err.contains("--allow-destructive"), "{err}");
    assert!(err.contains("sequence public.counter"), "{err}");
}

/// A database planned against its own inspect output (rendered, loaded, inspected again) needs
/// nothing: PostgreSQL re-prints the CHECK's `= ANY (...::text[])` and the view's cast constant
/// differently on the second load, and the comparison must see through that.
#[test]
fn live_database_planned_against_its_own_inspect_output_is_empty() {
    let sql = "create table t (s varchar(10) check (s = any (array['a'::varchar, 'b'::varchar])), n int);
               create view v as select n from t where n in (select null::integer);
               create view w as select null::integer, n from t;
               create domain d as varchar(5) check (value = any (array['x'::varchar, 'y'::varchar]));
               create table u (k d, s varchar(3) default 'a'::varchar, c varchar(3));
               alter table u enable row level security;
               create policy p on u using (c = any (array['a'::varchar, 'b'::varchar]));";
    let (_live, live) = common::catalog_of("live", sql).unwrap();
    let rendered = tenet_catalog::render::to_sql(&live);
    let (_again, again) = common::catalog_of("reloaded", &rendered).unwrap();
    for (a, b) in [(&live, &again), (&again, &live)] {
        let p = plan(a, b, &Options::default()).unwrap();
        assert!(p.is_empty(), "{}", p.to_sql());
    }
}

#[test]
fn existing_unique_index_backs_the_new_key() {
    let from = "create table t (id int not null, code text);
                create unique index t_code_idx on t (code); create unique index t_id_idx on t (id);";
    let to = "create table t (id int primary key, code text, constraint t_code_key unique (code));";
    pair("using index", from, to);
    let sql = plan_between(from, to, &Options::default())
        .unwrap()
        .to_sql();
    assert!(
        sql.contains("ADD CONSTRAINT t_code_key UNIQUE USING INDEX t_code_idx;"),
        "{sql}"
    );
    assert!(
        sql.contains("ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_id_idx;"),
        "{sql}"
    );
    assert!(!sql.contains("CREATE UNIQUE INDEX"), "{sql}");
    assert!(!sql.contains("DROP INDEX"), "{sql}");
}

const PARTITIONED: &str = "create table p (id int, at date not null) partition by range (at);
     create table p_2024 partition of p for values from ('2024-01-01') to ('2025-01-01');";

const PARTITION_INDEXES: &str = "create index p_2024_at_local on p_2024 (at);
     create index p_at on p (at);
     create table p_2025 partition of p for values from ('2025-01-01') to ('2026-01-01');
     alter index p_2025_at_idx rename to p_2025_at_mine;";

#[test]
fn partition_indexes_are_built_before_the_parent_index_attaches_them() {
    let to = format!("{PARTITIONED}\n{PARTITION_INDEXES}");
    pair("partition indexes", PARTITIONED, &to);
    let sql = plan_between(PARTITIONED, &to, &Options::default())
        .unwrap()
        .to_sql();
    let child = sql
        .find("CREATE INDEX CONCURRENTLY p_2024_at_local ON public.p_2024")
        .unwrap_or_else(|| panic!("{sql}"));
    let parent = sql
        .find("CREATE INDEX p_at ON public.p ")
        .unwrap_or_else(|| panic!("{sql}"));
    assert!(child < parent, "{sql}");
}

#[test]
fn partition_joining_an_existing_index_keeps_its_index_name() {
    let from = format!("{PARTITIONED}\ncreate index p_at on p (at);");
    let to = format!(
        "{PARTITIONED}\ncreate index p_at on p (at);
         create table p_2025 partition of p for values from ('2025-01-01') to ('2026-01-01');
         alter index p_2025_at_idx rename to p_2025_at_mine;"
    );
    pair("partition joins index", &from, &to);
}

#[test]
fn partition_index_names_round_trip_through_render() {
    let sql = format!("{PARTITIONED}\n{PARTITION_INDEXES}");
    let (db, original) = common::catalog_of("original", &sql).unwrap();
    assert!(original.tables.iter().any(|t| t
        .partition_indexes
        .iter()
        .any(|i| i.name == "p_2025_at_mine")));
    let (copy_db, copy) =
        common::catalog_of("copy", &tenet_catalog::render::to_sql(&original)).unwrap();
    assert!(common::first_difference(&original, &copy).is_none());
    assert_eq!(common::schema_dump(&db), common::schema_dump(&copy_db));
}

#[test]
fn sequence_bound_raised_past_its_value_restarts_it() {
    // "RESTART value (1) cannot be less than MINVALUE (10)" without the restart.
    pair(
        "raised minvalue",
        "create sequence s minvalue 1 start with 1;
         create table t (id int generated by default as identity (minvalue 1 start with 1));",
        "create sequence s minvalue 10 start with 10;
         create table t (id int generated by default as identity (minvalue 10 start with 10));",
    );
}

#[test]
fn sequence_bound_raised_below_its_value_keeps_it() {
    let (db, a) = common::catalog_of(
        "a",
        "create sequence s minvalue 1 start with 1; select setval('s', 500);",
    )
    .unwrap();
    let (_db, b) = common::catalog_of("b", "create sequence s minvalue 10 start with 10;").unwrap();
    let plan = tenet_diff::plan(&a, &b, &allow_destructive()).unwrap();
    let mut client = db.connect().unwrap();
    client.batch_execute(&plan.to_sql()).unwrap();
    let next: i64 = client.query_one("select nextval('s')", &[]).unwrap().get(0);
    assert_eq!(next, 501, "{}", plan.to_sql());
}

#[test]
fn a_table_created_again_keeps_its_partitions_grants_and_comment() {
    // DROP TABLE takes the partitions, the grants and the comment with it.
    pair(
        "repartitioned",
        "create table p (a int, b int) partition by range (a);
         create table p1 partition of p for values from (0) to (10);
         create table p1_sub_parent (a int, b int) partition by range (a);
         comment on table p is 'events';
         grant select on p to public;",
        "create table p (a int, b int) partition by range (b);
         create table p1 partition of p for values from (0) to (10);
         create index p1_b on p1 (b);
         create table p1_sub_parent (a int, b int) partition by range (a);
         comment on table p is 'events';
         grant select on p to public;",
    );
    pair(
        "partitioned to plain",
        "create table t (id int) partition by list (id);
         grant select on t to public; comment on table t is 'things';",
        "create table t (id int);
         grant select on t to public; comment on table t is 'things';",
    );
}

const BASE_AND_KID: &str = "create table base (id int); create table kid (x int);";
const KID_INHERITS: &str = "create table base (id int); create table kid (x int) inherits (base);";

#[test]
fn a_table_leaving_its_parent_drops_what_it_only_inherited() {
    // NO INHERIT leaves the parent's columns behind as the table's own.
    let outcome = common::check_direction("leaving", KID_INHERITS, BASE_AND_KID)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!outcome.column_order_differs, "{}", outcome.plan.to_sql());
}

#[test]
fn a_table_joining_a_parent_gets_its_columns_first() {
    // "child table is missing column" without them. The parent's columns come after the
    // table's own (ADD COLUMN appends), which check_direction allows.
    common::check_direction("joining", BASE_AND_KID, KID_INHERITS)
        .unwrap_or_else(|e| panic!("{e}"));
}
