//! A TLS-only PostgreSQL cluster for connection tests, started once per test process.
//!
//! initdb (from the local PostgreSQL binaries) into a temporary directory; a test CA (P-384,
//! so the server certificate is signed with ecdsa-with-SHA384 and channel binding must hash
//! with SHA-384), a server certificate for `localhost` and `127.0.0.1`, a client certificate
//! for [`CERT_USER`], and an unrelated CA, all made with rcgen. The server listens on
//! 127.0.0.1 on a free port; pg_hba.conf accepts TCP connections only over TLS (certificate
//! authentication for [`CERT_USER`], scram-sha-256 for everyone else), except for
//! [`PLAIN_USER`], whom it accepts only without TLS. The Unix socket (trust,
//! superuser only) is for setting up. As root, the server runs as the `postgres` user.

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A role that logs in with a password (scram-sha-256).
pub const PASSWORD_USER: &str = "tenet_tls_alice";
/// Its password.
pub const PASSWORD: &str = "Tls-Sup3r-S3cret";
/// A role that logs in with a client certificate (CN = the role).
pub const CERT_USER: &str = "tenet_tls_cert";
/// A role the server turns away over TLS and accepts without it (scram-sha-256,
/// [`PASSWORD`]): what `sslmode=prefer` falls back for.
pub const PLAIN_USER: &str = "tenet_tls_plain";

/// Where the binaries are looked for when `pg_config` is not on the PATH.
const BINDIRS: &[&str] = &[
    "/usr/lib/postgresql/17/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/14/bin",
    "/usr/lib/postgresql/13/bin",
];

pub struct TlsCluster {
    dir: PathBuf,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    /// The CA that signed the server and client certificates.
    pub ca: PathBuf,
    /// A CA that signed nothing here.
    pub other_ca: PathBuf,
    /// Client certificate and key for [`CERT_USER`] (key mode 0600).
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    child: Mutex<Option<Child>>,
}

static CLUSTER: OnceLock<TlsCluster> = OnceLock::new();

/// The cluster all tests of this process share; stopped and removed at process exit.
pub fn tls_cluster() -> &'static TlsCluster {
    CLUSTER.get_or_init(|| {
        extern "C" fn stop_at_exit() {
            if let Some(cluster) = CLUSTER.get() {
                cluster.stop();
            }
        }
        let cluster = TlsCluster::start().unwrap_or_else(|e| {
            panic!(
                "cannot start the TLS test cluster (it needs the PostgreSQL server binaries): {e}"
            )
        });
        // SAFETY: registering a plain extern "C" fn with no captured state.
        unsafe {
            libc::atexit(stop_at_exit);
        }
        cluster
    })
}

impl TlsCluster {
    /// A key=value connection string for [`PASSWORD_USER`] at `localhost`, then `extra`.
    pub fn conninfo(&self, extra: &str) -> String {
        format!(
            "host=localhost port={} user={PASSWORD_USER} password={PASSWORD} dbname=postgres {extra}",
            self.port
        )
    }

    /// The directory holding the Unix socket (superuser, trust: for setting up only).
    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    /// A superuser connection over the Unix socket.
    pub fn admin(&self) -> postgres::Client {
        postgres::Config::new()
            .host_path(&self.dir)
            .port(self.port)
            .user("postgres")
            .dbname("postgres")
            .connect(postgres::NoTls)
            .expect("superuser connection over the TLS cluster's socket")
    }

    fn start() -> Result<TlsCluster, String> {
        let bindir =
            find_bindir().ok_or("no PostgreSQL server binaries (initdb, postgres) found")?;
        let run_as = run_as()?;
        let dir = tempfile::Builder::new()
            .prefix("tenet-tls-")
            .tempdir_in("/tmp")
            .map_err(|e| format!("cannot create a directory in /tmp: {e}"))?
            .keep();
        let fail = |e: String| {
            let _ = fs::remove_dir_all(&dir);
            e
        };
        let chown = |path: &Path| -> Result<(), String> {
            if let Some((uid, gid)) = run_as {
                std::os::unix::fs::chown(path, Some(uid), Some(gid))
                    .map_err(|e| format!("chown {}: {e}", path.display()))?;
            }
            Ok(())
        };
        chown(&dir).map_err(fail)?;
        let data = dir.join("data");
        let out = command(&bindir.join("initdb"), &dir, run_as)
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .output()
            .map_err(|e| fail(format!("cannot run initdb: {e}")))?;
        if !out.status.success() {
            return Err(fail(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }

        let certs = Certificates::make().map_err(fail)?;
        let write = |name: &str, text: &str, mode: u32| -> Result<PathBuf, String> {
            let path = dir.join(name);
            fs::write(&path, text).map_err(|e| format!("write {}: {e}", path.display()))?;
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))
                .map_err(|e| format!("chmod {}: {e}", path.display()))?;
            Ok(path)
        };
        let ca = write("ca.crt", &certs.ca, 0o644).map_err(fail)?;
        let other_ca = write("other-ca.crt", &certs.other_ca, 0o644).map_err(fail)?;
        let client_cert = write("client.crt", &certs.client_cert, 0o644).map_err(fail)?;
        let client_key = write("client.key", &certs.client_key, 0o600).map_err(fail)?;
        for (name, text, mode) in [
            ("server.crt", &certs.server_cert, 0o644),
            ("server.key", &certs.server_key, 0o600),
            ("root.crt", &certs.ca, 0o644),
        ] {
            let path = data.join(name);
            fs::write(&path, text).map_err(|e| fail(format!("write {name}: {e}")))?;
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))
                .map_err(|e| fail(format!("chmod {name}: {e}")))?;
            chown(&path).map_err(fail)?;
        }
        fs::write(
            data.join("pg_hba.conf"),
            format!(
                "local all postgres trust\n\
                 hostssl all {CERT_USER} 127.0.0.1/32 cert\n\
                 hostssl all {PLAIN_USER} 127.0.0.1/32 reject\n\
                 hostnossl all {PLAIN_USER} 127.0.0.1/32 scram-sha-256\n\
                 hostssl all all 127.0.0.1/32 scram-sha-256\n"
            ),
        )
        .map_err(|e| fail(format!("write pg_hba.conf: {e}")))?;

        // A free port: taken from the kernel, released, then given to the server (retried if
        // someone else grabbed it in between).
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| fail(format!("no free port: {e}")))?
                .port();
            let socket_dir = dir.to_string_lossy().replace('\'', "''");
            let settings = format!(
                "\nlisten_addresses = '127.0.0.1'\nport = {port}\n\
                 unix_socket_directories = '{socket_dir}'\n\
                 ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n\
                 ssl_ca_file = 'root.crt'\npassword_encryption = 'scram-sha-256'\n\
                 fsync = off\nautovacuum = off\nmax_connections = 100\n"
            );
            fs::write(data.join("tenet-tls.conf"), settings)
                .map_err(|e| fail(format!("write settings: {e}")))?;
            let conf = data.join("postgresql.conf");
            let mut text = fs::read_to_string(&conf).map_err(|e| fail(e.to_string()))?;
            if !text.contains("include 'tenet-tls.conf'") {
                text.push_str("\ninclude 'tenet-tls.conf'\n");
                fs::write(&conf, text).map_err(|e| fail(e.to_string()))?;
            }
            let log =
                fs::File::create(dir.join("postgres.log")).map_err(|e| fail(e.to_string()))?;
            let child = command(&bindir.join("postgres"), &dir, run_as)
                .arg("-D")
                .arg(&data)
                .stdout(log.try_clone().map_err(|e| fail(e.to_string()))?)
                .stderr(log)
                .process_group(0)
                .spawn()
                .map_err(|e| fail(format!("cannot run postgres: {e}")))?;
            let cluster = TlsCluster {
                dir: dir.clone(),
                port,
                ca: ca.clone(),
                other_ca: other_ca.clone(),
                client_cert: client_cert.clone(),
                client_key: client_key.clone(),
                child: Mutex::new(Some(child)),
            };
            match cluster.wait_ready(&data) {
                Ok(()) => {
                    cluster.create_roles()?;
                    return Ok(cluster);
                }
                Err(e) => {
                    last_error = e;
                    cluster.kill_server();
                }
            }
        }
        Err(fail(last_error))
    }

    fn wait_ready(&self, data: &Path) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self
                .child
                .lock()
                .unwrap()
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                let log = fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default();
                return Err(format!("the server exited ({status}): {log}"));
            }
            if let Ok(text) = fs::read_to_string(data.join("postmaster.pid")) {
                if text.lines().nth(7).map(str::trim) == Some("ready") {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err("the server did not start within 60s".to_owned());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn create_roles(&self) -> Result<(), String> {
        self.admin()
            .batch_execute(&format!(
                "CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD}';\n\
                 CREATE ROLE {PLAIN_USER} LOGIN PASSWORD '{PASSWORD}';\n\
                 CREATE ROLE {CERT_USER} LOGIN;"
            ))
            .map_err(|e| format!("cannot create the test roles: {e}"))
    }

    fn kill_server(&self) {
        if let Some(mut child) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGQUIT,
            );
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn stop(&self) {
        self.kill_server();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// PEM texts of the test PKI.
struct Certificates {
    ca: String,
    other_ca: String,
    server_cert: String,
    server_key: String,
    client_cert: String,
    client_key: String,
}

impl Certificates {
    fn make() -> Result<Certificates, String> {
        let e = |e: rcgen::Error| format!("cannot make the test certificates: {e}");
        let ca = |name: &str| -> Result<(String, Issuer<'static, KeyPair>), String> {
            let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).map_err(e)?;
            let mut params = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.distinguished_name.push(DnType::CommonName, name);
            params.key_usages = vec![
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::CrlSign,
                KeyUsagePurpose::DigitalSignature,
            ];
            let cert = params.self_signed(&key).map_err(e)?;
            Ok((cert.pem(), Issuer::new(params, key)))
        };
        let (ca_pem, issuer) = ca("Tenet test CA")?;
        let (other_ca_pem, _) = ca("Tenet unrelated CA")?;

        let server_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(e)?;
        let mut server =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .map_err(e)?;
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &issuer).map_err(e)?;

        let client_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(e)?;
        let mut client = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
        client
            .distinguished_name
            .push(DnType::CommonName, CERT_USER);
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client.signed_by(&client_key, &issuer).map_err(e)?;

        Ok(Certificates {
            ca: ca_pem,
            other_ca: other_ca_pem,
            server_cert: server_cert.pem(),
            server_key: server_key.serialize_pem(),
            client_cert: client_cert.pem(),
            client_key: client_key.serialize_pem(),
        })
    }
}

fn find_bindir() -> Option<PathBuf> {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    from_pg_config
        .into_iter()
        .chain(BINDIRS.iter().map(PathBuf::from))
        .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
}

/// The postgres user's uid and gid when we are root (PostgreSQL refuses to run as root).
fn run_as() -> Result<Option<(u32, u32)>, String> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    match nix::unistd::User::from_name("postgres") {
        Ok(Some(user)) => Ok(Some((user.uid.as_raw(), user.gid.as_raw()))),
        _ => {
            Err("running as root and there is no postgres system user to run the server as".into())
        }
    }
}

/// One of the server's programs: PG* variables removed, English messages, in `dir`, as the
/// postgres user when we are root.
fn command(program: &Path, dir: &Path, run_as: Option<(u32, u32)>) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
    cmd.env("LC_ALL", "C")
        .env("TZ", "UTC")
        .current_dir(dir)
        .stdin(Stdio::null());
    if let Some((uid, gid)) = run_as {
        cmd.uid(uid).gid(gid);
    }
    cmd
}
