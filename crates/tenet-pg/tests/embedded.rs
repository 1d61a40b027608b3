//! The embedded throwaway cluster: starts from local binaries (as the postgres user when we are
//! root), answers on its private socket, runs scratch databases, authenticates for real, and is
//! gone after drop, at exit and on SIGTERM.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use tenet_pg::{PgError, Server};

fn os_uid_of_backend(client: &mut postgres::Client) -> u32 {
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    uid_line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn embedded_cluster_lifecycle() {
    let started = Instant::now();
    let server = Server::embedded().expect("embedded cluster starts");
    let start_time = started.elapsed();
    let dir = server
        .embedded_dir()
        .expect("embedded has a directory")
        .to_path_buf();
    assert!(dir.is_dir());
    assert!(server.is_embedded());
    let shown = server.to_string();
    assert!(
        shown.starts_with("embedded PostgreSQL (socket in ")
            && shown.contains(&*dir.to_string_lossy()),
        "{shown}"
    );

    let mut client = server.connect().expect("connects");
    let row = client
        .query_one(
            "SELECT 1 + 1, current_setting('listen_addresses'), current_user, \
             current_setting('server_version_num')::int",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 2);
    assert_eq!(row.get::<_, String>(1), "", "listens on no TCP address");
    assert_eq!(row.get::<_, String>(2), "postgres");
    assert!(row.get::<_, i32>(3) >= 100000);

    // As root the server runs as its own system user (not postgres, who owns the real
    // server's files), otherwise as us.
    let backend_uid = os_uid_of_backend(&mut client);
    if nix::unistd::geteuid().is_root() {
        let own = nix::unistd::User::from_name("tenet-sandbox")
            .unwrap()
            .unwrap();
        assert_eq!(
            backend_uid,
            own.uid.as_raw(),
            "server runs as tenet-sandbox"
        );
        if let Ok(Some(pg)) = nix::unistd::User::from_name("postgres") {
            assert_ne!(backend_uid, pg.uid.as_raw());
        }
        // Its data directory is private to that user.
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(&dir).unwrap();
        assert_eq!((meta.uid(), meta.mode() & 0o777), (own.uid.as_raw(), 0o700));
    } else {
        assert_eq!(backend_uid, nix::unistd::geteuid().as_raw());
    }

    // The forms a user may give for a socket directory all reach it.
    let socket = dir.to_string_lossy().into_owned();
    for url in [
        format!("postgresql:///postgres?host={socket}&user=postgres"),
        format!("postgresql://postgres@/postgres?host={socket}"),
        format!("host={socket} user=postgres dbname=postgres"),
        format!("host='{socket}' port=5432 user=postgres"),
        server.url_for("postgres"),
    ] {
        let s = Server::from_url(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(!s.is_embedded());
        assert_eq!(s.to_string(), url);
    }

    // Scratch databases on it, reachable through their URL, also by a libpq child process.
    let scratch = server.scratch().unwrap();
    let url = scratch.url();
    assert!(
        url.starts_with("postgresql://postgres@/tenet_scratch_"),
        "{url}"
    );
    assert!(url.contains("host=%2F"), "{url}");
    let config: postgres::Config = url.parse().unwrap();
    let mut c = config.connect(postgres::NoTls).unwrap();
    let name: String = c
        .query_one("SELECT current_database()", &[])
        .unwrap()
        .get(0);
    assert_eq!(name, scratch.name());
    if let Ok(out) = Command::new("psql")
        .args(["-X", "-A", "-t", "-c", "SELECT current_database()"])
        .arg(&url)
        .output()
    {
        assert!(
            out.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), scratch.name());
    }
    drop(c);
    drop(scratch);
    drop(client);

    let orphan = server.scratch().unwrap();
    let stopping = Instant::now();
    drop(server);
    let stop_time = stopping.elapsed();
    assert!(!dir.exists(), "{} still exists after drop", dir.display());
    // A scratch database that outlives its embedded cluster has nothing left to drop.
    let dropping = Instant::now();
    drop(orphan);
    assert!(dropping.elapsed() < std::time::Duration::from_millis(500));
    eprintln!("embedded cluster: start {start_time:?}, stop {stop_time:?}");
}

#[test]
fn wrong_password_is_bad_password() {
    const SECRET: &str = "Corr3ct-Horse-Battery";
    const WRONG: &str = "Wr0ng-Horse-Battery";
    let server = Server::embedded().unwrap();
    let dir = server.embedded_dir().unwrap().to_path_buf();
    let mut admin = server.connect().unwrap();
    admin
        .batch_execute(&format!(
            "CREATE ROLE alice LOGIN PASSWORD '{SECRET}'; SET password_encryption = 'scram-sha-256'"
        ))
        .unwrap();
    // Real password authentication for everyone but the superuser.
    let hba = dir.join("data").join("pg_hba.conf");
    let mut f = std::fs::File::create(&hba).unwrap();
    writeln!(f, "local all postgres trust\nlocal all all scram-sha-256").unwrap();
    drop(f);
    admin.batch_execute("SELECT pg_reload_conf()").unwrap();
    // The reload is asynchronous: wait until a password-less login is refused.
    let base = server.url_for("postgres");
    let with_user = |user_info: &str| {
        base.replacen(
            "postgresql://postgres@",
            &format!("postgresql://{user_info}@"),
            1,
        )
    };
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match Server::from_url(&with_user("alice")) {
            Err(PgError::BadPassword { .. }) => break,
            _ if Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            other => panic!("pg_hba.conf was not reloaded: {other:?}"),
        }
    }

    let err = Server::from_url(&with_user(&format!("alice:{WRONG}"))).unwrap_err();
    match &err {
        PgError::BadPassword { user, .. } => assert_eq!(user, "alice"),
        other => panic!("expected BadPassword, got {other:?}"),
    }
    assert_eq!(err.exit_code(), 3);
    let msg = err.to_string();
    assert!(!msg.contains(WRONG) && !msg.contains('\n'), "{msg}");

    // The classification of the raw error, naming the user from the server's message.
    let raw = with_user(&format!("alice:{WRONG}"))
        .parse::<postgres::Config>()
        .unwrap()
        .connect(postgres::NoTls)
        .err()
        .expect("wrong password refused");
    assert_eq!(raw.code().map(|c| c.code()), Some("28P01"));
    match PgError::from_postgres(raw, "there") {
        PgError::BadPassword { user, target, .. } => {
            assert_eq!(user, "alice");
            assert_eq!(target, "there");
        }
        other => panic!("expected BadPassword, got {other:?}"),
    }

    // The right password works, and url_for passes it on to child processes (percent-encoded).
    let good = Server::from_url(&with_user(&format!("alice:{SECRET}"))).expect("right password");
    assert!(!good.to_string().contains(SECRET), "{good}");
    assert!(!format!("{good:?}").contains(SECRET));
    let url = good.url_for("postgres");
    assert!(url.contains(SECRET), "url_for includes the password");
    let again = Server::from_url(&url).expect("url_for round-trips");
    let user: String = again
        .connect()
        .unwrap()
        .query_one("SELECT current_user", &[])
        .unwrap()
        .get(0);
    assert_eq!(user, "alice");
}

/// The test binary re-runs itself as a child that starts a cluster (and a scratch database on
/// the test server), prints where they are, then leaves the way the mode says.
const CHILD_ENV: &str = "TENET_PG_TEST_CHILD";

#[test]
fn child_process_entry() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    let server = Server::embedded().unwrap();
    let one: i32 = server
        .connect()
        .unwrap()
        .query_one("SELECT 1", &[])
        .unwrap()
        .get(0);
    assert_eq!(one, 1);
    let scratch = tenet_testkit::server().scratch().unwrap();
    println!("DIR={}", server.embedded_dir().unwrap().display());
    println!("DB={}", scratch.name());
    std::io::stdout().flush().unwrap();
    match mode.as_str() {
        "exit" => std::process::exit(3),
        "sigkill" => {
            nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGKILL)
                .unwrap();
            unreachable!();
        }
        "sigterm" => {
            nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGTERM)
                .unwrap();
            std::thread::sleep(std::time::Duration::from_secs(30));
            panic!("SIGTERM did not end the process");
        }
        other => panic!("unknown mode {other}"),
    }
}

fn run_child(mode: &str, cache: Option<&Path>) -> (Option<i32>, PathBuf, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "child_process_entry",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, mode);
    if let Some(cache) = cache {
        cmd.env("TENET_INITDB_CACHE", cache);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let field = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.split_once(key).map(|(_, v)| v))
            .unwrap_or_else(|| {
                panic!(
                    "child printed no {key}: {stdout}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })
            .to_owned()
    };
    (
        out.status.code(),
        PathBuf::from(field("DIR=")),
        field("DB="),
    )
}

fn database_exists(name: &str) -> bool {
    let mut client = tenet_testkit::server().connect().unwrap();
    client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .unwrap()
        .get::<_, i64>(0)
        == 1
}

fn templates_in(cache: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(cache)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("initdb-")
        })
        .collect()
}

#[test]
fn process_exit_stops_the_cluster_and_drops_scratch_and_templates_are_cached() {
    // A fresh template cache: the first start runs initdb and stores the template.
    let cache = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (code, dir, db) = run_child("exit", Some(cache.path()));
    assert_eq!(code, Some(3));
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(!database_exists(&db), "{db} left behind");
    let templates = templates_in(cache.path());
    assert_eq!(templates.len(), 1, "{templates:?}");
    let pg_control = templates[0].join("global").join("pg_control");
    let good = std::fs::read(&pg_control).unwrap();

    // A damaged template is discarded: the next start falls back to initdb and stores it anew.
    std::fs::write(&pg_control, vec![0x55u8; good.len()]).unwrap();
    let (code, dir, _) = run_child("exit", Some(cache.path()));
    assert_eq!(code, Some(3), "started despite the damaged template");
    assert!(!dir.exists(), "{} left behind", dir.display());
    let templates = templates_in(cache.path());
    assert_eq!(templates.len(), 1, "{templates:?}");
    let renewed = std::fs::read(templates[0].join("global").join("pg_control")).unwrap();
    assert_eq!(renewed.len(), good.len());
    assert!(
        renewed.iter().any(|b| *b != 0x55),
        "the damaged template is still there"
    );
}

#[test]
fn sigterm_stops_the_cluster_and_drops_scratch() {
    let (code, dir, db) = run_child("sigterm", None);
    assert_eq!(code, Some(130));
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(!database_exists(&db), "{db} left behind");
}

#[test]
fn clusters_left_by_killed_processes_are_swept_by_the_next_start() {
    let (code, dir, db) = run_child("sigkill", None);
    assert_eq!(code, None, "killed by a signal");
    assert!(dir.exists(), "SIGKILL runs no cleanup");
    let postmaster: i32 = std::fs::read_to_string(dir.join("data").join("postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(std::path::Path::new(&format!("/proc/{postmaster}")).exists());
    // The scratch database on a configured server cannot be saved: drop it by hand.
    tenet_testkit::server()
        .connect()
        .unwrap()
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
        .unwrap();

    let _next = Server::embedded().unwrap();
    assert!(!dir.exists(), "{} not swept", dir.display());
    let stat = std::fs::read_to_string(format!("/proc/{postmaster}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z"),
        "the orphaned server still runs: {stat}"
    );
}

#[test]
fn resolve_prefers_the_first_url() {
    let server = tenet_testkit::server();
    let url = server.url_for("postgres");
    let resolved = Server::resolve(&[
        None,
        Some(""),
        Some(&url),
        Some("postgres://x@127.0.0.1:1/y"),
    ])
    .unwrap();
    assert!(!resolved.is_embedded());
    let err = Server::resolve(&[Some("postgres://x@127.0.0.1:1/y"), Some(&url)]).unwrap_err();
    assert!(matches!(err, PgError::Unreachable { .. }));
}
