//! Schema files in any order (issue 15): a statement that names an object a later file (or a
//! later statement) creates is retried after the rest, under the search_path it was written
//! under, so the schema loads as if it were written in order; a name that never appears is
//! still an error at its file, line and column; migrations stay strictly in order.

use std::path::Path;
use std::process::{Command, Output};

use tenet_testkit::server;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn inspect_json(path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenet"))
        .env_remove("DATABASE_URL")
        .env_remove("TENET_DEV_URL")
        .args(["inspect", "--format", "json", "--dev-url"])
        .arg(server().url_for("postgres"))
        .arg(path)
        .output()
        .unwrap()
}

fn catalog(path: &Path) -> tenet_catalog::Catalog {
    let out = inspect_json(path);
    assert!(
        out.status.success(),
        "{}: {}",
        path.display(),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Each file of the out-of-order layout names objects that only later files create.
const OUT_OF_ORDER: [(&str, &str); 4] = [
    (
        "1_views.sql",
        "set search_path = app, public;\n\
         create view open_items as select id, title from items where not done;\n\
         create function item_count() returns bigint language sql as 'select count(*) from items';\n",
    ),
    (
        "2_keys.sql",
        "alter table app.items add constraint items_owner_fk\n    foreign key (owner_id) references app.owners (id);\n\
         create index items_title on app.items (app.normalized(title));\n",
    ),
    (
        "3_tables.sql",
        "set search_path = app;\n\
         create table items (id int primary key, owner_id int not null, title text, done boolean not null default false, status app.status);\n\
         create table owners (id int primary key);\n",
    ),
    (
        "4_schema.sql",
        "create schema app;\n\
         create type app.status as enum ('new', 'done');\n\
         create function app.normalized(text) returns text immutable language sql as 'select lower($1)';\n",
    ),
];

#[test]
fn schema_files_in_any_order_load_as_if_written_in_order() {
    let dir = tempfile::tempdir().unwrap();
    for (name, sql) in OUT_OF_ORDER {
        std::fs::write(dir.path().join(name), sql).unwrap();
    }
    // The same statements in one file, each after what it needs.
    let elsewhere = tempfile::tempdir().unwrap();
    let ordered = elsewhere.path().join("ordered.sql");
    let [views, keys, tables, schema] = OUT_OF_ORDER.map(|(_, sql)| sql);
    std::fs::write(&ordered, [schema, tables, keys, views].concat()).unwrap();

    let in_order = catalog(&ordered);
    let shuffled = catalog(dir.path());
    assert_eq!(shuffled, in_order);
    // The view and the function went where their file's search_path said.
    let view = shuffled.views.iter().find(|v| v.name == "open_items");
    assert_eq!(view.map(|v| v.schema.as_str()), Some("app"));
    let function = shuffled.functions.iter().find(|f| f.name == "item_count");
    assert_eq!(function.map(|f| f.schema.as_str()), Some("app"));
}

#[test]
fn a_name_no_file_creates_is_reported_at_its_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("1_view.sql"),
        "create view later as select * from things;\n\n-- never created\ncreate view never as select * from nowhere;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("2_things.sql"),
        "create table things (id int);\n",
    )
    .unwrap();
    let out = inspect_json(dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let expected = format!(
        "{}:4:36: relation \"nowhere\" does not exist",
        dir.path().join("1_view.sql").display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_real_error_after_a_deferred_statement_is_reported_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("1.sql"),
        "create view v as select * from t;\ncreate table t (id int,, x int);\n",
    )
    .unwrap();
    let out = inspect_json(dir.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let expected = format!(
        "{}:2:24: syntax error at or near \",\"",
        dir.path().join("1.sql").display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn migrations_stay_in_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("0001_view.up.sql"),
        "create view v as select * from t;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("0002_table.up.sql"),
        "create table t (id int);\n",
    )
    .unwrap();
    let out = inspect_json(dir.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let expected = format!(
        "{}:1:32: relation \"t\" does not exist",
        dir.path().join("0001_view.up.sql").display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
}

fn corpus_dir() -> std::path::PathBuf {
    std::env::var_os("TENET_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"))
}

#[test]
fn pagila_one_file_per_statement_in_reverse_order_loads_as_written() {
    // The worst order there is: every statement after what depends on it. Grants and revokes
    // keep their order (a REVOKE after a GRANT means something else than before it).
    let pagila = corpus_dir().join("pagila/schema.sql");
    let sql = std::fs::read_to_string(&pagila).unwrap();
    let statements: Vec<&str> = tenet_catalog::source::statement_spans(&sql)
        .into_iter()
        .map(|(start, end)| sql[start..end].trim())
        .filter(|s| !s.is_empty())
        .collect();
    let is_privilege = |s: &&&str| {
        let body = &s[tenet_catalog::source::skip_blank(s)..];
        let word = body.split_whitespace().next().unwrap_or("");
        word.eq_ignore_ascii_case("grant") || word.eq_ignore_ascii_case("revoke")
    };
    let (privileges, others): (Vec<&str>, Vec<&str>) =
        statements.iter().partition(|s| is_privilege(s));
    let dir = tempfile::tempdir().unwrap();
    let order = others.iter().rev().chain(&privileges);
    for (i, statement) in order.enumerate() {
        std::fs::write(
            dir.path().join(format!("{i:04}.sql")),
            format!("{statement};\n"),
        )
        .unwrap();
    }
    assert!(others.len() > 300, "{} statements", others.len());
    assert_eq!(catalog(dir.path()), catalog(&pagila));
}
