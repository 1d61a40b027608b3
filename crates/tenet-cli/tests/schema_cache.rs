//! The schema-file catalog cache (`tenet_catalog::cache`): the second `plan` or `check` on an
//! unchanged schema directory (and migrations directory, for `check`) reads the catalog from
//! `.tenet/cache` instead of loading the files into a scratch database; a changed file or a corrupt entry misses; a file the gate refuses
//! is refused every time and never cached.

mod support;

use support::{text, Project};
use tenet_testkit::test_db;

/// Run with the cache's trace on: (exit code, stdout, stderr).
fn traced(project: &Project, args: &[&str]) -> (Option<i32>, String, String) {
    let out = project
        .command(args)
        .env("TENET_LOG", "tenet_catalog::cache=debug")
        .output()
        .unwrap();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

fn entries(project: &Project) -> Vec<std::path::PathBuf> {
    match std::fs::read_dir(project.path(".tenet/cache")) {
        Ok(dir) => dir
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn plan_reads_an_unchanged_schema_directory_from_the_cache() {
    let project = Project::new();
    project.write(
        "schema/schema.sql",
        "CREATE TABLE t (id int PRIMARY KEY, name text);",
    );
    let db = test_db();
    let url = db.url();
    let plan = ["plan", "--from", url.as_str(), "--to", "schema"];

    let (code, cold, log) = traced(&project, &plan);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("schema cache: miss"), "{log}");
    assert!(cold.contains("CREATE TABLE public.t"), "{cold}");
    assert_eq!(entries(&project).len(), 1);
    // The cache keeps itself out of git.
    assert_eq!(
        std::fs::read_to_string(project.path(".tenet/cache/.gitignore")).unwrap(),
        "*\n"
    );

    let (code, warm, log) = traced(&project, &plan);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("schema cache: hit"), "{log}");
    assert_eq!(warm, cold);

    // A changed file is another key.
    project.write(
        "schema/schema.sql",
        "CREATE TABLE t (id int PRIMARY KEY, name text, done boolean);",
    );
    let (code, changed, log) = traced(&project, &plan);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("schema cache: miss"), "{log}");
    assert!(changed.contains("done boolean"), "{changed}");
    assert_eq!(entries(&project).len(), 2);

    // A corrupt entry is a miss, and the files are loaded again.
    for entry in entries(&project) {
        std::fs::write(entry, "{ not json").unwrap();
    }
    let (code, again, log) = traced(&project, &plan);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("corrupt entry"), "{log}");
    assert_eq!(again, changed);
    let (_, _, log) = traced(&project, &plan);
    assert!(log.contains("schema cache: hit"), "{log}");
}

#[test]
fn check_reads_the_schema_files_from_the_cache_the_second_time() {
    let project = Project::new();
    project.migration("1_t", "CREATE TABLE t (id int);", "DROP TABLE t;");
    project.write("schema/schema.sql", "CREATE TABLE t (id int);");
    let (code, _, log) = traced(&project, &["check"]);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("schema cache: miss"), "{log}");
    let (code, _, log) = traced(&project, &["check"]);
    assert_eq!(code, Some(0), "{log}");
    // The schema files and the migrations' replay: both from the cache, no scratch load.
    assert_eq!(log.matches("schema cache: hit").count(), 2, "{log}");
    assert!(!log.contains("schema cache: miss"), "{log}");

    // The cached schema is still compared with the migrations: one more column is pending.
    project.write("schema/schema.sql", "CREATE TABLE t (id int, name text);");
    let (code, out, log) = traced(&project, &["check"]);
    assert_eq!(code, Some(1), "{out}{log}");
    assert!(log.contains("pending model changes"), "{out}{log}");
}

#[test]
fn a_refused_file_is_refused_every_time_and_never_cached() {
    let project = Project::new();
    project.write(
        "schema/schema.sql",
        "CREATE TABLE t (id int);\nALTER SYSTEM SET work_mem = '1GB';\n",
    );
    let db = test_db();
    let url = db.url();
    for _ in 0..2 {
        let (code, _, log) = traced(&project, &["plan", "--from", &url, "--to", "schema"]);
        assert_eq!(code, Some(2), "{log}");
        assert!(log.contains("ALTER SYSTEM"), "{log}");
        assert!(log.contains("schema cache: miss"), "{log}");
    }
    assert!(entries(&project).is_empty());
}

#[test]
fn outside_a_project_nothing_is_cached() {
    let project = Project::new();
    project.write("schema/schema.sql", "CREATE TABLE t (id int);");
    std::fs::remove_file(project.path("tenet.toml")).unwrap();
    let db = test_db();
    let url = db.url();
    let (code, _, log) = traced(&project, &["plan", "--from", &url, "--to", "schema"]);
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains("schema cache"), "{log}");
    assert!(!project.path(".tenet").exists());
}
