//! `advise` rules on real databases: each with a failing and a passing case.

use tenet_lint::{advise, index_usage};
use tenet_report::Finding;
use tenet_testkit::{exec, test_db};

fn advise_sql(sql: &str) -> Vec<Finding> {
    let db = test_db();
    exec(&db, sql);
    let mut client = db.connect().unwrap();
    let catalog = tenet_catalog::inspect(&mut client).unwrap();
    let usage = index_usage(&mut client).unwrap();
    advise(&catalog, Some(&usage))
}

fn of<'a>(findings: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.rule == rule).collect()
}

#[test]
fn unindexed_foreign_keys() {
    let findings = advise_sql(
        "create table users (id bigint primary key);
         create table orgs (id bigint, region int, primary key (id, region));
         create table tasks (id bigint primary key, user_id bigint references users,
                             org_id bigint, region int, foreign key (org_id, region) references orgs);
         create table notes (id bigint primary key, user_id bigint references users,
                             org_id bigint, region int, foreign key (region, org_id) references orgs (region, id));
         create index on notes (user_id, id);
         create index on notes (org_id, region, id);
         create table partial (id bigint primary key, user_id bigint references users);
         create index on partial (user_id) where user_id > 0;",
    );
    let fks = of(&findings, "unindexed-foreign-key");
    let messages: Vec<&str> = fks.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(fks.len(), 3, "{messages:#?}");
    assert!(
        messages[0].starts_with("foreign key partial_user_id_fkey on public.partial (user_id)"),
        "{messages:#?}"
    );
    assert!(messages.iter().any(|m| m.contains("tasks_user_id_fkey")));
    assert!(messages
        .iter()
        .any(|m| m.contains("tasks_org_id_region_fkey")));
    // notes: (user_id, id) leads with the key; (org_id, region, id) covers (region, org_id).
    assert!(
        !messages.iter().any(|m| m.contains("notes")),
        "{messages:#?}"
    );
    assert_eq!(
        fks[0].fix,
        "CREATE INDEX CONCURRENTLY ON public.partial (user_id);"
    );
}

#[test]
fn duplicate_indexes() {
    let findings = advise_sql(
        "create table t (id bigint primary key, a int, b int, c text);
         create index t_id on t (id);
         create index t_ab1 on t (a, b);
         create index t_ab2 on t (a, b);
         create index t_ba on t (b, a);
         create index t_a_partial on t (a) where a > 0;
         create index t_a on t (a);
         create index t_lower on t (lower(c));
         create index t_lower2 on t (lower(c));",
    );
    let mut dups: Vec<String> = of(&findings, "duplicate-index")
        .iter()
        .map(|f| f.object.clone().unwrap())
        .collect();
    dups.sort();
    assert_eq!(
        dups,
        [
            "index public.t_ab2",
            "index public.t_id",
            "index public.t_lower2"
        ],
        "{findings:#?}"
    );
}

#[test]
fn duplicate_indexes_differ_in_collation_opclass_order_and_expression() {
    // A real schema's six false positives were of these shapes: each pair serves different
    // queries, and dropping either one loses an access path.
    let findings = advise_sql(
        "create table t (id bigint primary key, name text, a int, b int);
         create index t_name on t (name);
         create index t_name_c on t (name collate \"C\");
         create index t_name_pattern on t (name text_pattern_ops);
         create index t_a_b on t (a, b);
         create index t_a_b_desc on t (a, b desc);
         create index t_lower on t (lower(name));
         create index t_upper on t (upper(name));
         create unique index t_name_c_key on t (name collate \"C\") where a > 0;
         create index t_name_c_partial on t (name collate \"C\") where a > 1;",
    );
    let dups: Vec<&Finding> = of(&findings, "duplicate-index");
    assert!(dups.is_empty(), "{dups:#?}");
    // The same key with the same collation and operator class is a duplicate.
    let findings = advise_sql(
        "create table t (id bigint primary key, name text);
         create index t_name_c on t (name collate \"C\" text_pattern_ops);
         create index t_name_c2 on t (name collate \"C\" text_pattern_ops);",
    );
    let objects: Vec<String> = of(&findings, "duplicate-index")
        .iter()
        .map(|f| f.object.clone().unwrap())
        .collect();
    assert_eq!(objects, ["index public.t_name_c2"]);
}

#[test]
fn tables_without_primary_key() {
    let findings = advise_sql(
        "create table keyed (id bigint primary key);
         create table loose (id bigint);
         create table parted (id bigint, k int, primary key (id, k)) partition by range (k);
         create table parted_1 partition of parted for values from (0) to (10);",
    );
    let objects: Vec<String> = of(&findings, "missing-primary-key")
        .iter()
        .map(|f| f.object.clone().unwrap())
        .collect();
    assert_eq!(objects, ["table public.loose"]);
}

#[test]
fn unused_indexes() {
    let db = test_db();
    exec(
        &db,
        "create table t (id bigint primary key, a int, b int);
         insert into t select g, g, g from generate_series(1, 1000) g;
         create index t_a on t (a);
         create index t_b on t (b);
         analyze t;",
    );
    {
        let mut client = db.connect().unwrap();
        client
            .batch_execute("set enable_seqscan = off; select * from t where a = 5;")
            .unwrap();
        // Flush this backend's statistics before the check reads them.
        client
            .batch_execute("select pg_stat_force_next_flush();")
            .unwrap();
    }
    let mut usage = None;
    for _ in 0..50 {
        let mut client = db.connect().unwrap();
        let stats = index_usage(&mut client).unwrap();
        let scanned = stats
            .indexes
            .iter()
            .any(|u| u.index == "t_a" && u.scans > 0);
        usage = Some(stats);
        if scanned {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let mut usage = usage.unwrap();
    let mut client = db.connect().unwrap();
    let catalog = tenet_catalog::inspect(&mut client).unwrap();
    // A database created a moment ago: its statistics cover too little to judge.
    let days = usage
        .coverage
        .days
        .expect("coverage is known to the superuser");
    assert!(days < 1.0, "{usage:#?}");
    assert!(
        of(&advise(&catalog, Some(&usage)), "unused-index").is_empty(),
        "{usage:#?}"
    );
    let note = usage.note().expect("says why it did not check");
    assert!(
        note.contains("since the database was created")
            && note.contains("less than unused_index_min_days = 7"),
        "{note}"
    );

    usage.min_days = 0.0;
    let findings = advise(&catalog, Some(&usage));
    let unused: Vec<&Finding> = of(&findings, "unused-index");
    let objects: Vec<String> = unused.iter().map(|f| f.object.clone().unwrap()).collect();
    // t_a was scanned; the primary key enforces uniqueness whether used or not.
    assert_eq!(objects, ["index public.t_b"], "{usage:#?}");
    assert!(
        unused[0]
            .message
            .contains("hours the statistics cover (since the database was created at"),
        "{}",
        unused[0].message
    );
    // Without statistics the rule stays silent.
    assert!(of(&advise(&catalog, None), "unused-index").is_empty());
}

#[test]
fn security_definer_search_path() {
    let findings = advise_sql(
        "create function open() returns int language sql security definer as $$ select 1 $$;
         create function user_path() returns int language sql security definer
           set search_path = \"$user\", public as $$ select 1 $$;
         create function pinned() returns int language sql security definer
           set search_path = pg_catalog, pg_temp as $$ select 1 $$;
         create function invoker() returns int language sql as $$ select 1 $$;",
    );
    let objects: Vec<String> = of(&findings, "security-definer-search-path")
        .iter()
        .map(|f| f.object.clone().unwrap())
        .collect();
    assert_eq!(
        objects,
        ["function public.open()", "function public.user_path()"],
        "{findings:#?}"
    );
    let f = of(&findings, "security-definer-search-path")[0];
    assert_eq!(f.severity, tenet_report::Severity::Error);
    assert!(f.fix.contains("SET search_path = pg_catalog, pg_temp"));
}

#[test]
fn extensions_in_public() {
    let findings = advise_sql(
        "create extension pgcrypto schema public;
         create schema extensions;
         create extension citext schema extensions;",
    );
    let objects: Vec<String> = of(&findings, "extension-in-public")
        .iter()
        .map(|f| f.object.clone().unwrap())
        .collect();
    assert_eq!(objects, ["extension pgcrypto"]);
}
