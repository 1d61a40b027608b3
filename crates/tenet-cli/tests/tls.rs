//! The `tenet` binary over TLS, against a real TLS-only server (`tenet_testkit::tls_cluster`):
//! key=value connection strings, verify-full, the libpq environment and `~/.pgpass`, and
//! errors that never show a password.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use tenet_testkit::tls_cluster::{tls_cluster, PASSWORD, PASSWORD_USER};

const DATABASE: &str = "tenet_tls_inspect";

/// The cluster, with a database holding one table to inspect.
fn cluster() -> &'static tenet_testkit::tls_cluster::TlsCluster {
    static READY: OnceLock<()> = OnceLock::new();
    let cluster = tls_cluster();
    READY.get_or_init(|| {
        let mut admin = cluster.admin();
        admin
            .batch_execute(&format!("CREATE DATABASE {DATABASE} OWNER {PASSWORD_USER}"))
            .unwrap();
        let mut db = postgres::Config::new()
            .host_path(cluster.socket_dir())
            .port(cluster.port)
            .user("postgres")
            .dbname(DATABASE)
            .connect(postgres::NoTls)
            .unwrap();
        db.batch_execute(
            "CREATE TABLE public.tls_widgets (id bigint PRIMARY KEY, name text NOT NULL)",
        )
        .unwrap();
    });
    cluster
}

/// `tenet` with no libpq variables from this process and `HOME` an empty directory.
fn tenet(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenet"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            command.env_remove(key);
        }
    }
    command
        .env_remove("DATABASE_URL")
        .env_remove("TENET_DEV_URL")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env("HOME", home);
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_inspected(out: &Output) {
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("CREATE TABLE public.tls_widgets"),
        "stdout: {}",
        text(&out.stdout)
    );
}

fn verify_full(host: &str) -> String {
    let c = cluster();
    format!(
        "host={host} port={} user={PASSWORD_USER} password={PASSWORD} dbname={DATABASE} sslmode=verify-full sslrootcert={} channel_binding=require",
        c.port,
        c.ca.display()
    )
}

#[test]
fn inspect_over_verify_full_with_a_key_value_url() {
    let home = tempfile::tempdir().unwrap();
    let out = tenet(home.path())
        .args(["inspect", "--url", &verify_full("127.0.0.1")])
        .output()
        .unwrap();
    assert_inspected(&out);
    // A key=value string as the source argument is a connection string, not a path.
    let out = tenet(home.path())
        .args(["inspect", &verify_full("localhost")])
        .output()
        .unwrap();
    assert_inspected(&out);
}

#[test]
fn inspect_with_the_libpq_environment_and_pgpass() {
    let c = cluster();
    let home = tempfile::tempdir().unwrap();
    let pgpass = home.path().join(".pgpass");
    std::fs::write(
        &pgpass,
        format!(
            "localhost:{}:{DATABASE}:{PASSWORD_USER}:{PASSWORD}\n",
            c.port
        ),
    )
    .unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = tenet(home.path())
        .args(["inspect", "--url", "connect_timeout=10"])
        .env("PGHOST", "localhost")
        .env("PGPORT", c.port.to_string())
        .env("PGUSER", PASSWORD_USER)
        .env("PGDATABASE", DATABASE)
        .env("PGSSLMODE", "verify-full")
        .env("PGSSLROOTCERT", &c.ca)
        .output()
        .unwrap();
    assert_inspected(&out);

    // PGPASSWORD instead of the password file.
    let empty_home = tempfile::tempdir().unwrap();
    let url = format!(
        "postgresql://{PASSWORD_USER}@localhost:{}/{DATABASE}?sslmode=require",
        c.port
    );
    let out = tenet(empty_home.path())
        .args(["inspect", "--url", &url])
        .env("PGPASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert_inspected(&out);
}

#[test]
fn sslrootcert_system_reads_the_platform_trust_store() {
    // The platform store, as rustls-native-certs reads it, honours SSL_CERT_FILE: pointing it at
    // the test CA makes the server trusted; without it the test CA is unknown.
    let c = cluster();
    let home = tempfile::tempdir().unwrap();
    let url = format!(
        "host=localhost port={} user={PASSWORD_USER} password={PASSWORD} dbname={DATABASE} sslrootcert=system",
        c.port
    );
    let out = tenet(home.path())
        .args(["inspect", "--url", &url])
        .env("SSL_CERT_FILE", &c.ca)
        .output()
        .unwrap();
    assert_inspected(&out);
    let out = tenet(home.path())
        .args(["inspect", "--url", &url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "stderr: {}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("not signed by a trusted root"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn connection_errors_never_print_the_password() {
    let c = cluster();
    let home = tempfile::tempdir().unwrap();
    let secret = "Wr0ng-S3cret-Pw";
    let cases: Vec<(Vec<String>, i32)> = vec![
        // A wrong password, key=value and URL (percent-encoded and not).
        (
            vec![
                "inspect".into(),
                "--url".into(),
                format!("host=localhost port={} user={PASSWORD_USER} password={secret} dbname=postgres sslmode=require", c.port),
            ],
            3,
        ),
        (
            vec![
                "inspect".into(),
                format!("postgresql://{PASSWORD_USER}:Wr0ng%2DS3cret%2DPw@localhost:{}/postgres", c.port),
            ],
            3,
        ),
        (
            vec![
                "inspect".into(),
                format!("postgresql://{PASSWORD_USER}:{secret}@localhost:{}/postgres", c.port),
            ],
            3,
        ),
        // A key=value string given where a path could go (plan --from) is a connection string.
        (
            vec![
                "plan".into(),
                "--from".into(),
                format!("host=localhost port={} user={PASSWORD_USER} password={secret} sslmode=require", c.port),
                "--to".into(),
                format!("host=localhost port={} user={PASSWORD_USER} password={secret} sslmode=require", c.port),
            ],
            3,
        ),
        // A misspelt key, a mistyped scheme, an unquoted password with a space.
        (
            vec![
                "inspect".into(),
                "--url".into(),
                format!("host=localhost pasword={secret}"),
            ],
            2,
        ),
        (
            vec!["inspect".into(), format!("postgres:/{PASSWORD_USER}:{secret}@localhost/db")],
            2,
        ),
        (
            vec![
                "inspect".into(),
                "--url".into(),
                format!("host=localhost password=Wr0ng {secret}"),
            ],
            2,
        ),
    ];
    for (args, code) in cases {
        let out = tenet(home.path()).args(&args).output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(!stderr.contains("S3cret"), "{args:?}: {stderr}");
        assert!(!text(&out.stdout).contains("S3cret"), "{args:?}");
        assert!(!stderr.contains("No such file"), "{args:?}: {stderr}");
    }
}

/// Schema files on a TLS-only dev server: the sandbox role connects with the same TLS
/// settings (verify-full, channel binding) and a password; the dev server's user needs only
/// CREATEDB and CREATEROLE.
#[test]
fn schema_files_run_in_the_sandbox_on_a_tls_dev_server() {
    let c = cluster();
    c.admin()
        .batch_execute(&format!("ALTER ROLE {PASSWORD_USER} CREATEDB CREATEROLE"))
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("schema.sql");
    std::fs::write(
        &file,
        "create table gadgets (id int primary key);\n\
         do $$ begin if not (select ssl from pg_stat_ssl where pid = pg_backend_pid()) then raise exception 'no TLS'; end if; end $$;\n\
         select pg_sleep(1e6);\n",
    )
    .unwrap();
    let out = tenet(home.path())
        .args([
            "inspect",
            "--statement-timeout",
            "1s",
            "--dev-url",
            &verify_full("localhost"),
        ])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    // It got as far as the sleep (over TLS, as the sandbox role) and was stopped there.
    assert!(
        stderr.contains(&format!("{}:3:", file.display())),
        "{stderr}"
    );
    assert!(stderr.contains("statement timeout (1s)"), "{stderr}");
    let leftovers = c
        .admin()
        .query(
            "select rolname from pg_roles where rolname like 'tenet\\_sandbox\\_%' \
             union all select datname from pg_database where datname like 'tenet\\_scratch\\_%'",
            &[],
        )
        .unwrap();
    assert!(leftovers.is_empty());
}
