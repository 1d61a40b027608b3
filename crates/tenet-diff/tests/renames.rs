//! Renames by hint: `-- tenet:renamed-from old_name` in the target's SQL turns drop + create into
//! RENAME, keeping the rows; without the hint nothing is guessed.

mod common;

use std::path::Path;

use tenet_diff::{plan, Hazard, Options};

const FROM: &str = "
create table tag (id serial primary key, label text not null check (label <> ''));
create index tag_label on tag (label);
create table post_tag (post int, tag_id int references tag (id));
create view tag_names as select label from tag;
insert into tag (label) values ('rust');
insert into post_tag values (1, 1);";

const TO: &str = "
-- tenet:renamed-from tag
create table community_tag (
  id serial primary key,
  -- tenet:renamed-from label
  name text not null check (name <> '')
);
create index tag_label on community_tag (name);
create table post_tag (post int, tag_id int references community_tag (id));
create view tag_names as select name as label from community_tag;";

/// The desired state with its hints read, as `tenet plan` reads a schema directory.
fn hinted(sql: &str) -> (tenet_pg::ScratchDb, tenet_catalog::Catalog) {
    let (db, mut catalog) = common::catalog_of("to", sql).unwrap();
    let renames = tenet_catalog::hints::renames_in(&catalog, Path::new("schema.sql"), sql).unwrap();
    catalog.renames = renames;
    (db, catalog)
}

#[test]
fn renamed_from_hint_renames_table_and_column_keeping_rows() {
    let (db, from) = common::catalog_of("from", FROM).unwrap();
    let (to_db, to) = hinted(TO);
    assert_eq!(to.renames.len(), 2);
    let p = plan(&from, &to, &Options::default()).unwrap();
    let sql = p.to_sql();
    assert!(
        sql.contains("ALTER TABLE public.tag RENAME TO community_tag;"),
        "{sql}"
    );
    assert!(
        sql.contains("ALTER TABLE public.community_tag RENAME COLUMN label TO name;"),
        "{sql}"
    );
    assert!(
        p.steps
            .iter()
            .all(|s| !s.hazards.contains(&Hazard::DataLoss)),
        "{sql}"
    );
    assert!(!sql.contains("DROP TABLE"), "{sql}");
    assert!(!sql.contains("INDEX"), "the index is kept: {sql}");

    let mut client = db.connect().unwrap();
    client.batch_execute(tenet_diff::SESSION_SETTINGS).unwrap();
    for step in &p.steps {
        client
            .batch_execute(&step.sql)
            .unwrap_or_else(|e| panic!("{e}\n{}", step.sql));
    }
    let after = tenet_catalog::inspect(&mut client).unwrap();
    let mut expected = to.clone();
    expected.renames.clear();
    if let Some(d) = common::first_difference(&expected, &after) {
        panic!("{d}\n{sql}");
    }
    assert_eq!(common::schema_dump(&db), common::schema_dump(&to_db));
    let row = client
        .query_one(
            "select name from community_tag join post_tag on tag_id = id",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "rust");
    // The hint stays in the schema once applied: it then does nothing.
    let again = plan(&after, &to, &Options::default()).unwrap();
    assert!(again.is_empty(), "{}", again.to_sql());
}

#[test]
fn without_a_hint_nothing_is_guessed() {
    let (_db, from) = common::catalog_of("from", FROM).unwrap();
    let (_to_db, mut to) = hinted(TO);
    to.renames.clear();
    let err = plan(&from, &to, &Options::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("DROP TABLE public.tag"), "{err}");
}

#[test]
fn down_plan_from_hinted_files_renames_back() {
    let (from_db, from) = common::catalog_of("from", FROM).unwrap();
    let (to_db, to) = hinted(TO);
    let down = plan(&to, &from, &Options::default()).unwrap();
    let sql = down.to_sql();
    assert!(
        sql.contains("ALTER TABLE public.community_tag RENAME TO tag;"),
        "{sql}"
    );
    assert!(
        sql.contains("ALTER TABLE public.tag RENAME COLUMN name TO label;"),
        "{sql}"
    );
    assert!(!sql.contains("DROP TABLE"), "{sql}");
    let mut client = to_db.connect().unwrap();
    client.batch_execute(tenet_diff::SESSION_SETTINGS).unwrap();
    for step in &down.steps {
        client
            .batch_execute(&step.sql)
            .unwrap_or_else(|e| panic!("{e}\n{}", step.sql));
    }
    let after = tenet_catalog::inspect(&mut client).unwrap();
    if let Some(d) = common::first_difference(&from, &after) {
        panic!("{d}\n{sql}");
    }
    assert_eq!(common::schema_dump(&to_db), common::schema_dump(&from_db));
}
