//! TLS and libpq-compatible connections, against a real TLS-only server (see
//! `tenet_testkit::tls_cluster`): every sslmode, root certificates, host names, client
//! certificates, channel binding, the libpq environment and the password file.
//!
//! Each test passes its own environment (`LibpqEnv::from_vars`, with `HOME` an empty
//! directory), so tests stay independent of each other and of the machine's `~/.pgpass`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use tenet_pg::{LibpqEnv, PgError, Server};
use tenet_testkit::tls_cluster::{
    tls_cluster, TlsCluster, CERT_USER, PASSWORD, PASSWORD_USER, PLAIN_USER,
};

fn cluster() -> &'static TlsCluster {
    tls_cluster()
}

/// An environment with only `HOME` (an empty directory) and `vars`.
fn env_with(home: &Path, vars: &[(&str, &str)]) -> LibpqEnv {
    let mut all = vec![("HOME".to_owned(), home.display().to_string())];
    all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    LibpqEnv::from_vars(all)
}

fn connect(conninfo: &str) -> Result<Server, PgError> {
    let home = tempfile::tempdir().unwrap();
    Server::from_url_with_env(conninfo, &env_with(home.path(), &[]))
}

/// Whether the session really is encrypted, as the server sees it.
fn encrypted(server: &Server) -> bool {
    let mut client = server.connect().expect("second connection");
    client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0)
}

fn ca() -> String {
    cluster().ca.display().to_string()
}

/// One line, and neither password of the test roles in it.
fn assert_clean(err: &PgError) {
    let msg = err.to_string();
    assert!(!msg.contains(PASSWORD), "password in message: {msg}");
    assert!(
        !format!("{err:?}").contains(PASSWORD),
        "password in Debug: {err:?}"
    );
    assert!(!msg.contains('\n'), "not one line: {msg}");
}

#[test]
fn verify_full_with_the_right_ca_and_host_connects_encrypted() {
    for host in ["localhost", "127.0.0.1"] {
        let conninfo = cluster().conninfo(&format!(
            "host={host} sslmode=verify-full sslrootcert={}",
            ca()
        ));
        let server = connect(&conninfo).unwrap_or_else(|e| panic!("{host}: {e}"));
        assert!(encrypted(&server), "{host}");
    }
}

#[test]
fn verify_ca_checks_the_chain_but_not_the_host_name() {
    let conninfo = cluster().conninfo(&format!(
        "host=wrong.example hostaddr=127.0.0.1 sslmode=verify-ca sslrootcert={}",
        ca()
    ));
    let server = connect(&conninfo).unwrap_or_else(|e| panic!("{e}"));
    assert!(encrypted(&server));
}

#[test]
fn wrong_ca_fails_with_its_own_message() {
    for mode in ["verify-ca", "verify-full"] {
        let conninfo = cluster().conninfo(&format!(
            "sslmode={mode} sslrootcert={}",
            cluster().other_ca.display()
        ));
        let err = connect(&conninfo).unwrap_err();
        assert!(matches!(err, PgError::Tls { .. }), "{mode}: {err:?}");
        assert!(
            err.to_string()
                .contains("the server's certificate is not signed by a trusted root"),
            "{err}"
        );
        assert_eq!(err.exit_code(), 3);
        assert_clean(&err);
    }
}

#[test]
fn wrong_host_name_fails_with_its_own_message() {
    let conninfo = cluster().conninfo(&format!(
        "host=wrong.example hostaddr=127.0.0.1 sslmode=verify-full sslrootcert={}",
        ca()
    ));
    let err = connect(&conninfo).unwrap_err();
    assert!(matches!(err, PgError::Tls { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("not valid for host name \"wrong.example\"")
            && msg.contains("localhost, 127.0.0.1"),
        "{msg}"
    );
    assert_clean(&err);
}

#[test]
fn plaintext_is_refused_by_a_tls_only_server() {
    let err = connect(&cluster().conninfo("sslmode=disable")).unwrap_err();
    assert!(matches!(err, PgError::Rejected { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("no encryption"), "{msg}");
    assert!(msg.contains("use sslmode=require"), "{msg}");
    assert_eq!(err.exit_code(), 3);
    assert_clean(&err);
}

#[test]
fn allow_prefer_require_and_the_default_connect_encrypted() {
    // allow: plaintext first, which this server rejects, then TLS.
    for extra in ["sslmode=allow", "sslmode=prefer", "sslmode=require", ""] {
        let server = connect(&cluster().conninfo(extra)).unwrap_or_else(|e| panic!("{extra}: {e}"));
        assert!(encrypted(&server), "{extra}");
    }
}

#[test]
fn prefer_falls_back_to_plaintext_when_the_server_refuses_tls() {
    let plain = |extra: &str| {
        format!(
            "host=localhost port={} user={PLAIN_USER} password={PASSWORD} dbname=postgres {extra}",
            cluster().port
        )
    };
    // prefer: TLS first, turned away by pg_hba.conf, then without TLS (libpq's retry).
    // allow and disable: without TLS from the start.
    for extra in ["sslmode=prefer", "", "sslmode=allow", "sslmode=disable"] {
        let server = connect(&plain(extra)).unwrap_or_else(|e| panic!("{extra}: {e}"));
        assert!(!encrypted(&server), "{extra}");
    }
    // require does not fall back.
    let err = connect(&plain("sslmode=require")).unwrap_err();
    assert!(matches!(err, PgError::Rejected { .. }), "{err:?}");
    assert!(err.to_string().contains("SSL encryption"), "{err}");
    assert_clean(&err);
    // Nor does a failed certificate check under prefer (libpq would go on without TLS).
    let err = connect(&plain(&format!(
        "sslmode=prefer sslrootcert={}",
        cluster().other_ca.display()
    )))
    .unwrap_err();
    assert!(matches!(err, PgError::Tls { .. }), "{err:?}");
    // Channel binding needs the TLS that the fallback gave up: a clear failure, not a
    // silently unbound login.
    let err = connect(&plain("sslmode=prefer channel_binding=require")).unwrap_err();
    assert!(matches!(err, PgError::Tls { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("the server did not authenticate with channel binding"),
        "{err}"
    );
}

#[test]
fn a_root_certificate_makes_require_and_prefer_check_the_chain() {
    // libpq: with a root certificate at hand, require behaves as verify-ca.
    let right = connect(&cluster().conninfo(&format!("sslmode=require sslrootcert={}", ca())))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(encrypted(&right));
    for mode in ["require", "prefer"] {
        let conninfo = cluster().conninfo(&format!(
            "sslmode={mode} sslrootcert={}",
            cluster().other_ca.display()
        ));
        let err = connect(&conninfo).unwrap_err();
        assert!(matches!(err, PgError::Tls { .. }), "{mode}: {err:?}");
    }
}

#[test]
fn the_default_root_certificate_is_read_from_home() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".postgresql")).unwrap();
    std::fs::copy(&cluster().ca, home.path().join(".postgresql/root.crt")).unwrap();
    let env = env_with(home.path(), &[]);
    let server = Server::from_url_with_env(&cluster().conninfo("sslmode=verify-full"), &env)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(encrypted(&server));
    // Without it, verify-full has nothing to check against and says so before connecting.
    let err = connect(&cluster().conninfo("sslmode=verify-full")).unwrap_err();
    assert!(matches!(err, PgError::BadUrl { .. }), "{err:?}");
    assert!(
        err.to_string().contains("needs a root certificate"),
        "{err}"
    );
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn a_missing_sslrootcert_file_is_an_error_not_a_silent_downgrade() {
    let err = connect(&cluster().conninfo("sslmode=require sslrootcert=/nonexistent/ca.pem"))
        .unwrap_err();
    assert!(matches!(err, PgError::BadUrl { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("sslrootcert file \"/nonexistent/ca.pem\" does not exist"),
        "{err}"
    );
    assert_clean(&err);
}

#[test]
fn sslrootcert_system_uses_the_platform_roots_and_insists_on_verify_full() {
    // The test CA is in no system store: the check runs, against other roots.
    let err = connect(&cluster().conninfo("sslrootcert=system")).unwrap_err();
    assert!(matches!(err, PgError::Tls { .. }), "{err:?}");
    assert!(
        err.to_string().contains("not signed by a trusted root"),
        "{err}"
    );
    let err = connect(&cluster().conninfo("sslrootcert=system sslmode=require")).unwrap_err();
    assert!(matches!(err, PgError::BadUrl { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("weak sslmode \"require\" may not be used with sslrootcert=system"),
        "{err}"
    );
}

#[test]
fn channel_binding_require_works_over_tls() {
    // tls-server-end-point over a certificate signed with ecdsa-with-SHA384: the binding data
    // must be a SHA-384 hash, or the server rejects the proof.
    for extra in [
        "sslmode=require",
        &format!("sslmode=verify-full sslrootcert={}", ca()),
    ] {
        let server = connect(&cluster().conninfo(&format!("{extra} channel_binding=require")))
            .unwrap_or_else(|e| panic!("{extra}: {e}"));
        assert!(encrypted(&server));
    }
}

#[test]
fn channel_binding_require_fails_clearly_without_it() {
    // Without TLS there is nothing to bind to: refused before connecting.
    let err = connect(&cluster().conninfo("sslmode=disable channel_binding=require")).unwrap_err();
    assert!(matches!(err, PgError::BadUrl { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("channel_binding=require needs TLS, but sslmode=disable"),
        "{err}"
    );
    assert_clean(&err);
    // Over TLS, but certificate authentication: no SCRAM exchange, so no binding.
    let c = cluster();
    let conninfo = format!(
        "host=localhost port={} user={CERT_USER} dbname=postgres sslmode=require sslcert={} sslkey={} channel_binding=require",
        c.port,
        c.client_cert.display(),
        c.client_key.display()
    );
    let err = connect(&conninfo).unwrap_err();
    assert!(matches!(err, PgError::Tls { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("the server did not authenticate with channel binding"),
        "{err}"
    );
}

#[test]
fn client_certificates_authenticate() {
    let c = cluster();
    let conninfo = format!(
        "host=localhost port={} user={CERT_USER} dbname=postgres sslmode=verify-full sslrootcert={} sslcert={} sslkey={}",
        c.port,
        ca(),
        c.client_cert.display(),
        c.client_key.display()
    );
    let server = connect(&conninfo).unwrap_or_else(|e| panic!("{e}"));
    let mut client = server.connect().unwrap();
    let row = client
        .query_one(
            "SELECT current_user::text, ssl, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), CERT_USER);
    assert!(row.get::<_, bool>(1));
    assert_eq!(row.get::<_, String>(2), format!("/CN={CERT_USER}"));

    // The same from ~/.postgresql/postgresql.crt and .key.
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".postgresql");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(&c.client_cert, dir.join("postgresql.crt")).unwrap();
    std::fs::copy(&c.client_key, dir.join("postgresql.key")).unwrap();
    std::fs::copy(&c.ca, dir.join("root.crt")).unwrap();
    let conninfo = format!(
        "host=localhost port={} user={CERT_USER} dbname=postgres sslmode=verify-full",
        c.port
    );
    Server::from_url_with_env(&conninfo, &env_with(home.path(), &[]))
        .unwrap_or_else(|e| panic!("certificate from ~/.postgresql: {e}"));

    // Without a certificate the server turns the connection away, and says what is missing.
    let conninfo = format!(
        "host=localhost port={} user={CERT_USER} dbname=postgres sslmode=require",
        c.port
    );
    let err = connect(&conninfo).unwrap_err();
    assert!(matches!(err, PgError::Rejected { .. }), "{err:?}");
    assert!(err.to_string().contains("give sslcert=FILE"), "{err}");
}

#[test]
fn a_private_key_others_can_read_is_refused() {
    let c = cluster();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("client.key");
    std::fs::copy(&c.client_key, &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let conninfo = format!(
        "host=localhost port={} user={CERT_USER} sslmode=require sslcert={} sslkey={}",
        c.port,
        c.client_cert.display(),
        key.display()
    );
    let err = connect(&conninfo).unwrap_err();
    assert!(matches!(err, PgError::BadUrl { .. }), "{err:?}");
    assert!(
        err.to_string().contains("has group or world access"),
        "{err}"
    );
}

#[test]
fn a_bad_password_error_never_contains_the_password() {
    let wrong = "Wr0ng-But-S3cret";
    for conninfo in [
        format!(
            "host=localhost port={} user={PASSWORD_USER} password={wrong} sslmode=require",
            cluster().port
        ),
        format!(
            "postgresql://{PASSWORD_USER}:{}@localhost:{}/postgres?sslmode=require",
            "Wr0ng%2DBut%2DS3cret",
            cluster().port
        ),
    ] {
        let err = connect(&conninfo).unwrap_err();
        assert!(matches!(err, PgError::BadPassword { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(!msg.contains(wrong) && !msg.contains("Wr0ng"), "{msg}");
        assert!(!format!("{err:?}").contains("Wr0ng"), "{err:?}");
        assert!(msg.contains(PASSWORD_USER), "{msg}");
        assert_clean(&err);
    }
}

#[test]
fn the_libpq_environment_fills_what_the_string_leaves_out() {
    let home = tempfile::tempdir().unwrap();
    let port = cluster().port.to_string();
    let ca = ca();
    let env = env_with(
        home.path(),
        &[
            ("PGHOST", "localhost"),
            ("PGPORT", &port),
            ("PGUSER", PASSWORD_USER),
            ("PGPASSWORD", PASSWORD),
            ("PGDATABASE", "postgres"),
            ("PGSSLMODE", "verify-full"),
            ("PGSSLROOTCERT", &ca),
            ("PGCHANNELBINDING", "require"),
            ("PGAPPNAME", "tenet-env-test"),
            ("PGCONNECT_TIMEOUT", "10"),
        ],
    );
    let server = Server::from_url_with_env("application_name=tenet-env-test", &env)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut client = server.connect().unwrap();
    let row = client
        .query_one(
            "SELECT current_user::text, current_setting('application_name'), ssl \
             FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), PASSWORD_USER);
    assert_eq!(row.get::<_, String>(1), "tenet-env-test");
    assert!(row.get::<_, bool>(2));
    assert_eq!(
        server.config().get_connect_timeout().map(|d| d.as_secs()),
        Some(10)
    );

    // What the string gives wins over the environment.
    let err =
        Server::from_url_with_env("sslmode=disable channel_binding=disable", &env).unwrap_err();
    assert!(matches!(err, PgError::Rejected { .. }), "{err:?}");
}

#[test]
fn the_password_file_is_read_with_libpq_rules() {
    let c = cluster();
    let home = tempfile::tempdir().unwrap();
    let pgpass = home.path().join(".pgpass");
    std::fs::write(
        &pgpass,
        format!(
            "# a comment\nlocalhost:{}:postgres:someone_else:nope\nlocalhost:{}:*:{PASSWORD_USER}:{PASSWORD}\n",
            c.port, c.port
        ),
    )
    .unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let conninfo = format!(
        "host=localhost port={} user={PASSWORD_USER} dbname=postgres sslmode=require",
        c.port
    );
    // ~/.pgpass
    Server::from_url_with_env(&conninfo, &env_with(home.path(), &[]))
        .unwrap_or_else(|e| panic!("~/.pgpass: {e}"));
    // PGPASSFILE, and passfile= in the string
    let elsewhere = tempfile::tempdir().unwrap();
    let path = pgpass.display().to_string();
    Server::from_url_with_env(
        &conninfo,
        &env_with(elsewhere.path(), &[("PGPASSFILE", &path)]),
    )
    .unwrap_or_else(|e| panic!("PGPASSFILE: {e}"));
    Server::from_url_with_env(
        &format!("{conninfo} passfile={path}"),
        &env_with(elsewhere.path(), &[]),
    )
    .unwrap_or_else(|e| panic!("passfile=: {e}"));

    // libpq ignores a password file that group or others can read; the error says why.
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = Server::from_url_with_env(&conninfo, &env_with(home.path(), &[])).unwrap_err();
    assert!(matches!(err, PgError::BadPassword { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("has group or world access") && msg.contains(".pgpass"),
        "{msg}"
    );
    assert_clean(&err);
}

#[test]
fn key_value_strings_and_urls_quote_like_libpq() {
    let c = cluster();
    let role = "tenet_tls_quoted";
    let password = r#"it's a "pass\word" with spaces"#;
    let mut admin = c.admin();
    admin
        .batch_execute(&format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN \
             CREATE ROLE {role} LOGIN; END IF; END $$; \
             ALTER ROLE {role} PASSWORD '{}'",
            password.replace('\'', "''")
        ))
        .unwrap();
    let quoted = password.replace('\\', r"\\").replace('\'', r"\'");
    let key_value = format!(
        "host = localhost port={} user={role} dbname=postgres sslmode=require password='{quoted}'",
        c.port
    );
    let server = connect(&key_value).unwrap_or_else(|e| panic!("key=value: {e}"));
    assert!(encrypted(&server));
    let encoded: String = password
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let url = format!(
        "postgresql://{role}:{encoded}@localhost:{}/postgres?sslmode=require",
        c.port
    );
    connect(&url).unwrap_or_else(|e| panic!("URL: {e}"));
    // The password survives url_for (percent-encoded) for child processes.
    let again = Server::from_url(&server.url_for("postgres")).unwrap_or_else(|e| panic!("{e}"));
    assert!(encrypted(&again));
}

#[test]
fn url_for_keeps_the_tls_settings_for_psql() {
    let conninfo = cluster().conninfo(&format!(
        "sslmode=verify-full sslrootcert={} channel_binding=require",
        ca()
    ));
    let server = connect(&conninfo).unwrap_or_else(|e| panic!("{e}"));
    let url = server.url_for("postgres");
    assert!(
        url.contains("sslmode=verify-full"),
        "{}",
        tenet_pg::redact(&url)
    );
    assert!(
        url.contains("channel_binding=require"),
        "{}",
        tenet_pg::redact(&url)
    );
    let out = Command::new("psql")
        .arg(&url)
        .args([
            "-XAtc",
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ])
        .env("HOME", "/nonexistent")
        .output()
        .expect("psql (postgresql-client) must be installed for this test");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "t");
}

#[test]
fn scratch_databases_work_over_tls() {
    let conninfo = cluster().conninfo(&format!("sslmode=verify-full sslrootcert={}", ca()));
    // Scratch databases are created by the connecting role.
    cluster()
        .admin()
        .batch_execute(&format!("ALTER ROLE {PASSWORD_USER} CREATEDB"))
        .unwrap();
    let server = connect(&conninfo).unwrap_or_else(|e| panic!("{e}"));
    let name;
    {
        let db = server.scratch().unwrap_or_else(|e| panic!("{e}"));
        name = db.name().to_owned();
        let mut client = db.connect().unwrap();
        let ssl: bool = client
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0);
        assert!(ssl);
    }
    let left: i64 = cluster()
        .admin()
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the scratch database is dropped");
}

#[test]
fn unknown_and_unsupported_parameters_are_named_without_the_password() {
    for (conninfo, expected) in [
        (
            cluster().conninfo("sslmod=require"),
            "unknown connection parameter \"sslmod\"",
        ),
        (
            cluster().conninfo("sslmode=verify_full"),
            "invalid sslmode value \"verify_full\"",
        ),
        (
            cluster().conninfo("sslcrl=/etc/crl.pem"),
            "\"sslcrl\" is not supported",
        ),
        (
            format!("postgresql://{PASSWORD_USER}:{PASSWORD}@localhost/postgres?sslmod=require"),
            "unknown URI query parameter \"sslmod\"",
        ),
    ] {
        let err = connect(&conninfo).unwrap_err();
        assert!(matches!(err, PgError::BadUrl { .. }), "{err:?}");
        assert!(err.to_string().contains(expected), "{err}");
        assert_eq!(err.exit_code(), 2);
        assert_clean(&err);
    }
}
