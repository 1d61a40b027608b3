//! `tenet inspect` end to end: the binary against a real server, the embedded cluster, and the
//! errors a user meets first.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tenet_testkit::{server, test_db};

fn tenet() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenet"));
    command
        .env_remove("DATABASE_URL")
        .env_remove("TENET_DEV_URL");
    command
}

fn todo_schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo/schema")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Databases a `tenet` process with this pid left behind (scratch names carry the pid).
fn leftover_scratch_databases(pid: u32) -> Vec<String> {
    let db = test_db();
    let mut client = db.connect().unwrap();
    client
        .query(
            "select datname from pg_database where datname like $1",
            &[&format!("tenet\\_scratch\\_%\\_{pid}\\_%")],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

fn dev_url() -> String {
    server().url_for("postgres")
}

#[test]
fn inspects_schema_files_on_a_dev_server_and_drops_the_scratch_database() {
    let child = tenet()
        .args([
            "inspect",
            todo_schema().to_str().unwrap(),
            "--dev-url",
            &dev_url(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let sql = text(&out.stdout);
    assert!(sql.contains("CREATE TABLE public.tasks ("), "{sql}");
    assert!(
        sql.contains("CHECK ((status = ANY"),
        "status check missing:\n{sql}"
    );
    assert!(leftover_scratch_databases(pid).is_empty());
}

#[test]
fn json_output_matches_the_catalog_read_in_process() {
    let db = test_db();
    let mut client = db.connect().unwrap();
    let files = tenet_catalog::source::sql_files(&todo_schema()).unwrap();
    tenet_catalog::source::apply_files_trusted(&mut client, &files).unwrap();
    let expected = tenet_catalog::inspect(&mut client).unwrap();

    let out = tenet()
        .args(["inspect", "--format", "json", "--url", &db.url()])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let actual: tenet_catalog::Catalog = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(actual, expected);
    // The rendered SQL of the same database is stable from run to run.
    let first = tenet()
        .args(["inspect", "--url", &db.url()])
        .output()
        .unwrap();
    let second = tenet()
        .args(["inspect", "--url", &db.url()])
        .output()
        .unwrap();
    assert_eq!(first.stdout, second.stdout);
}

#[test]
fn bad_sql_reports_file_line_and_column_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.sql");
    std::fs::write(
        &file,
        "create table ok (id int);\n-- a comment\ncreate table bad (id int,, x int);\n",
    )
    .unwrap();
    let child = tenet()
        .args(["inspect", file.to_str().unwrap(), "--dev-url", &dev_url()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let expected = format!("{}:3:26: syntax error at or near \",\"", file.display());
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(leftover_scratch_databases(pid).is_empty());
}

#[test]
fn an_error_without_a_position_points_at_the_failing_statement() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dup.sql");
    std::fs::write(
        &file,
        "create table t (id int);\ninsert into t values (1), (1);\n\n  create unique index t_id on t (id);\n",
    )
    .unwrap();
    let out = tenet()
        .args(["inspect", file.to_str().unwrap(), "--dev-url", &dev_url()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:4:3: could not create unique index",
            file.display()
        )),
        "{stderr}"
    );
}

#[test]
fn unreachable_server_is_one_line_exit_3_and_hides_the_password() {
    let out = tenet()
        .args([
            "inspect",
            "--url",
            "postgresql://tenet:s3cret-pw@127.0.0.1:1/app",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot reach"), "{stderr}");
    assert!(!stderr.contains("s3cret-pw"), "{stderr}");
}

#[test]
fn missing_database_is_a_specific_error() {
    let url = server().url_for("tenet_no_such_database");
    let out = tenet().args(["inspect", "--url", &url]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("tenet_no_such_database"), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn nothing_to_inspect_is_a_usage_error() {
    let out = tenet().arg("inspect").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let missing = tenet()
        .args(["inspect", "/no/such/schema.sql"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(3));
    assert!(text(&missing.stderr).contains("/no/such/schema.sql"));
}

/// A TENET_TMPDIR of our own shows whether the embedded cluster removed its directory. When tests
/// run as root the server runs as `postgres`, which must be able to enter it.
fn private_tmpdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

/// Whether a PostgreSQL server has its socket somewhere under `dir`: the cluster is up.
fn has_socket(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| {
            let path = entry.path();
            entry.file_name().to_string_lossy().starts_with(".s.PGSQL.")
                || (path.is_dir() && has_socket(&path))
        })
}

#[test]
fn without_a_server_configured_an_embedded_cluster_is_used_and_removed() {
    let tmp = private_tmpdir();
    let out = tenet()
        .args(["inspect", todo_schema().to_str().unwrap()])
        .env("TENET_TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("CREATE TABLE public.users ("));
    assert!(is_empty(tmp.path()), "embedded cluster left files behind");
}

/// Start `tenet inspect` on a schema that sleeps, wait until `ready` holds, interrupt it.
fn interrupt_while_applying(command: &mut Command, ready: impl Fn() -> bool) -> (u32, Output) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("slow.sql");
    std::fs::write(&file, "create table t (id int);\nselect pg_sleep(60);\n").unwrap();
    let child = command
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "tenet never got going"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let pid = child.id();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "Ctrl-C did not stop tenet"
    );
    (pid, out)
}

#[test]
fn ctrl_c_removes_the_embedded_cluster() {
    let tmp = private_tmpdir();
    let path = tmp.path().to_path_buf();
    let (_, out) = interrupt_while_applying(
        tenet().arg("inspect").env("TENET_TMPDIR", tmp.path()),
        || has_socket(&path),
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(is_empty(tmp.path()), "embedded cluster left files behind");
}

#[test]
fn ctrl_c_drops_the_scratch_database() {
    let url = dev_url();
    let mut command = tenet();
    command.args(["inspect", "--dev-url", &url]);
    // The scratch database exists once the server shows a sleeping backend in one.
    let db = test_db();
    let sleeping = move || {
        db.connect()
            .unwrap()
            .query_one(
                "select count(*) from pg_stat_activity where query like '%pg_sleep(60)%' \
                 and datname like 'tenet_scratch_%' and pid <> pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get::<_, i64>(0)
            > 0
    };
    let (pid, out) = interrupt_while_applying(&mut command, sleeping);
    assert_ne!(out.status.code(), Some(0));
    assert!(leftover_scratch_databases(pid).is_empty());
}

#[test]
fn default_privileges_from_schema_files_belong_to_the_privileged_user() {
    // Without FOR ROLE they are the sandbox role's, whose random name must not reach the
    // catalog: they read as the privileged user's, like the objects it owns.
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.sql");
    std::fs::write(
        &schema,
        "create schema app;
         alter default privileges in schema app grant select on tables to public;
         alter default privileges revoke execute on functions from public;
         create table app.t (id int);",
    )
    .unwrap();
    let out = tenet()
        .args(["inspect", schema.to_str().unwrap(), "--dev-url", &dev_url()])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let sql = text(&out.stdout);
    assert!(!sql.contains("tenet_sandbox"), "{sql}");
    let admin: String = test_db()
        .connect()
        .unwrap()
        .query_one("select current_user::text", &[])
        .unwrap()
        .get(0);
    let for_admin = format!("ALTER DEFAULT PRIVILEGES FOR ROLE {admin}");
    assert!(
        sql.contains(&format!(
            "{for_admin} IN SCHEMA app GRANT SELECT ON TABLES TO PUBLIC;"
        )),
        "{sql}"
    );
    assert!(
        sql.contains(&format!("{for_admin} REVOKE ALL ON FUNCTIONS FROM PUBLIC;")),
        "{sql}"
    );
    assert!(
        sql.contains(&format!(
            "{for_admin} GRANT EXECUTE ON FUNCTIONS TO {admin};"
        )),
        "{sql}"
    );
}
