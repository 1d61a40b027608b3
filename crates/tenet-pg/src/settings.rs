//! Connection parameters -> what connecting needs: the `postgres` crate's `Config`, TLS, and
//! the TLS parameters child processes must be given. libpq's defaults and checks apply.

use std::net::IpAddr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use postgres::config::{
    ChannelBinding, LoadBalanceHosts, SslMode as PgSslMode, SslNegotiation, TargetSessionAttrs,
};
use postgres::Config;

use crate::conninfo::{LibpqEnv, Params};
use crate::pgpass;
use crate::tls::{Roots, SslMode, Tls, TlsSettings, Verify};

/// The connect timeout used when none is given.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Parameters for child processes, libpq's spelling.
pub(crate) type PassOn = Vec<(&'static str, String)>;

/// Everything beyond the `postgres` crate's `Config` that connecting needs.
#[derive(Clone, Debug)]
pub(crate) struct ConnectOptions {
    pub(crate) tls: Tls,
    /// TLS parameters for child processes (libpq spelling, absolute paths).
    pub(crate) pass_on: PassOn,
    /// Why the password file was not used, told when authentication then fails.
    pub(crate) pgpass_note: Option<String>,
}

impl ConnectOptions {
    /// No TLS, nothing to pass on (the embedded cluster's Unix socket).
    pub(crate) fn plain() -> ConnectOptions {
        ConnectOptions {
            tls: Tls::off(),
            pass_on: Vec::new(),
            pgpass_note: None,
        }
    }
}

/// One entry of the host list.
struct HostEntry {
    /// A host name, or a socket directory (starts with `/`).
    host: String,
    addr: Option<IpAddr>,
    port: u16,
}

impl HostEntry {
    fn is_socket(&self) -> bool {
        self.host.starts_with('/')
    }
}

/// Read a connection string with the given environment. The error is a reason that names
/// parameters but never shows a secret.
pub(crate) fn resolve(text: &str, env: &LibpqEnv) -> Result<(Config, ConnectOptions), String> {
    let params = Params::parse(text)?.with_env(env);
    params.check_supported()?;
    let mut config = Config::new();

    let hosts = host_entries(&params)?;
    for entry in &hosts {
        if entry.is_socket() {
            config.host_path(&entry.host);
        } else {
            config.host(&entry.host);
        }
        config.port(entry.port);
    }
    if hosts.iter().any(|h| h.addr.is_some()) {
        if hosts.iter().any(|h| h.addr.is_none()) {
            return Err("give a hostaddr for every host, or for none".to_owned());
        }
        for entry in &hosts {
            config.hostaddr(entry.addr.expect("checked above"));
        }
    }

    let user = match params.get("user") {
        Some(user) => user.to_owned(),
        None => os_user().ok_or("no user given and the operating-system user is unknown")?,
    };
    config.user(&user);
    let database = params.get("dbname").unwrap_or(&user).to_owned();
    config.dbname(&database);

    let mut pgpass_note = None;
    match params.get("password") {
        Some(password) => {
            config.password(password);
        }
        None => {
            let file = match params.get("passfile") {
                Some(path) => Some(PathBuf::from(path)),
                None => env.home().map(|home| home.join(".pgpass")),
            };
            if let Some(file) = file {
                // libpq looks up each host; with one password for all, the first decides.
                let first = &hosts[0];
                let want = pgpass::Lookup {
                    host: &first.host,
                    port: first.port,
                    database: &database,
                    user: &user,
                };
                match pgpass::lookup(&file, &want) {
                    pgpass::Found::Password(password) => {
                        config.password(password);
                    }
                    pgpass::Found::Nothing => {}
                    pgpass::Found::Ignored(why) => {
                        tracing::warn!("{why}");
                        pgpass_note = Some(why);
                    }
                }
            }
        }
    }

    let timeout = match params.get("connect_timeout") {
        None => Some(DEFAULT_CONNECT_TIMEOUT),
        Some(v) => match integer("connect_timeout", v)? {
            // libpq: zero or less waits forever; under 2 seconds counts as 2.
            n if n <= 0 => None,
            n => Some(Duration::from_secs(n.max(2) as u64)),
        },
    };
    if let Some(timeout) = timeout {
        config.connect_timeout(timeout);
    }
    if let Some(options) = params.get("options") {
        config.options(options);
    }
    if let Some(name) = params
        .get("application_name")
        .or(params.get("fallback_application_name"))
    {
        config.application_name(name);
    }
    if let Some(v) = params.get("keepalives") {
        config.keepalives(integer("keepalives", v)? != 0);
    }
    if let Some(v) = params.get("keepalives_idle") {
        config.keepalives_idle(seconds("keepalives_idle", v)?);
    }
    if let Some(v) = params.get("keepalives_interval") {
        config.keepalives_interval(seconds("keepalives_interval", v)?);
    }
    if let Some(v) = params.get("keepalives_count") {
        config.keepalives_retries(non_negative("keepalives_count", v)? as u32);
    }
    if let Some(v) = params.get("tcp_user_timeout") {
        config.tcp_user_timeout(Duration::from_millis(non_negative("tcp_user_timeout", v)?));
    }
    if let Some(v) = params.get("target_session_attrs") {
        config.target_session_attrs(match v {
            "any" => TargetSessionAttrs::Any,
            "read-write" => TargetSessionAttrs::ReadWrite,
            "read-only" => TargetSessionAttrs::ReadOnly,
            "primary" | "standby" | "prefer-standby" => {
                return Err(format!(
                    "target_session_attrs={v} is not supported (use any, read-write or read-only)"
                ))
            }
            _ => return Err(invalid("target_session_attrs", v)),
        });
    }
    if let Some(v) = params.get("load_balance_hosts") {
        config.load_balance_hosts(match v {
            "disable" => LoadBalanceHosts::Disable,
            "random" => LoadBalanceHosts::Random,
            _ => return Err(invalid("load_balance_hosts", v)),
        });
    }
    let channel_binding = match params.get("channel_binding").unwrap_or("prefer") {
        "disable" => ChannelBinding::Disable,
        "prefer" => ChannelBinding::Prefer,
        "require" => ChannelBinding::Require,
        v => return Err(invalid("channel_binding", v)),
    };
    config.channel_binding(channel_binding);
    match params.get("gssencmode") {
        None | Some("disable" | "prefer") => {}
        Some("require") => {
            return Err("gssencmode=require is not supported: Tenet has no GSSAPI".to_owned())
        }
        Some(v) => return Err(invalid("gssencmode", v)),
    }

    let (tls, pass_on) = tls(&params, env, &hosts)?;
    if channel_binding == ChannelBinding::Require && tls.mode() == SslMode::Disable {
        return Err(format!(
            "channel_binding=require needs TLS, but {}",
            if hosts.iter().all(HostEntry::is_socket) {
                "the connection is over a Unix socket, where TLS is never used".to_owned()
            } else {
                "sslmode=disable".to_owned()
            }
        ));
    }
    // For readers of `Server::config` (each connection attempt sets its own).
    config.ssl_mode(match tls.mode() {
        SslMode::Disable => PgSslMode::Disable,
        SslMode::Allow | SslMode::Prefer => PgSslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => PgSslMode::Require,
    });
    if tls.direct {
        config.ssl_negotiation(SslNegotiation::Direct);
    }
    Ok((
        config,
        ConnectOptions {
            tls,
            pass_on,
            pgpass_note,
        },
    ))
}

/// The host list: `host` and `hostaddr` (comma-separated, empty entries mean the default) with
/// `port` (one for all, or one per host).
fn host_entries(params: &Params) -> Result<Vec<HostEntry>, String> {
    let split = |key: &str| -> Vec<String> {
        params
            .get(key)
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default()
    };
    let names = split("host");
    let addrs = split("hostaddr");
    if !names.is_empty() && !addrs.is_empty() && names.len() != addrs.len() {
        return Err(format!(
            "{} hosts but {} hostaddrs: give one hostaddr per host",
            names.len(),
            addrs.len()
        ));
    }
    let count = names.len().max(addrs.len()).max(1);
    let ports = split("port");
    if ports.len() > 1 && ports.len() != count {
        return Err(format!(
            "could not match {} port numbers to {} hosts",
            ports.len(),
            count
        ));
    }
    let mut entries = Vec::with_capacity(count);
    for i in 0..count {
        let port = match ports.get(i).or(ports.first()).map(String::as_str) {
            None | Some("") => 5432,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("invalid port \"{p}\""))?,
        };
        let addr = match addrs.get(i).map(String::as_str) {
            None | Some("") => None,
            Some(a) => Some(
                a.parse::<IpAddr>()
                    .map_err(|_| format!("invalid hostaddr \"{a}\": not a numeric IP address"))?,
            ),
        };
        let host = match names.get(i).map(String::as_str) {
            Some(h) if h.starts_with('@') => {
                return Err(format!(
                    "host \"{h}\": abstract Unix sockets are not supported"
                ))
            }
            Some(h) if !h.is_empty() => h.to_owned(),
            // The address doubles as the name TLS checks, as libpq does without a host.
            _ => match addr {
                Some(addr) => addr.to_string(),
                None => default_host(port),
            },
        };
        entries.push(HostEntry { host, addr, port });
    }
    Ok(entries)
}

/// libpq's default host: the Unix socket directory when the server's socket is there (Debian's
/// `/var/run/postgresql`, or `/tmp`), else `localhost`.
fn default_host(port: u16) -> String {
    ["/var/run/postgresql", "/tmp"]
        .into_iter()
        .find(|dir| Path::new(dir).join(format!(".s.PGSQL.{port}")).exists())
        .unwrap_or("localhost")
        .to_owned()
}

/// TLS from `sslmode`, `sslrootcert`, `sslcert`, `sslkey`, `sslsni`, the protocol versions and
/// `sslnegotiation`, with libpq's defaults from `~/.postgresql/`.
fn tls(params: &Params, env: &LibpqEnv, hosts: &[HostEntry]) -> Result<(Tls, PassOn), String> {
    let rootcert = params.get("sslrootcert");
    let system = rootcert == Some("system");
    let mode = match params.get("sslmode") {
        Some(v) => SslMode::parse(v).ok_or_else(|| invalid("sslmode", v))?,
        // libpq 16: the system's roots imply verify-full.
        None if system => SslMode::VerifyFull,
        None => SslMode::Prefer,
    };
    if system && mode != SslMode::VerifyFull {
        return Err(format!(
            "weak sslmode \"{}\" may not be used with sslrootcert=system (use \"verify-full\")",
            mode.as_str()
        ));
    }
    let direct = match params.get("sslnegotiation") {
        None | Some("postgres") => false,
        Some("direct") => true,
        Some(v) => return Err(invalid("sslnegotiation", v)),
    };
    if direct && matches!(mode, SslMode::Disable | SslMode::Allow | SslMode::Prefer) {
        return Err(format!(
            "weak sslmode \"{}\" may not be used with sslnegotiation=direct (use \"require\", \"verify-ca\" or \"verify-full\")",
            mode.as_str()
        ));
    }
    let sni = match params.get("sslsni") {
        None | Some("1") => true,
        Some("0") => false,
        Some(v) => return Err(invalid("sslsni", v)),
    };
    let version = |key: &str| -> Result<Option<u8>, String> {
        Ok(match params.get(key) {
            None => None,
            Some("TLSv1" | "TLSv1.1") => Some(11),
            Some("TLSv1.2") => Some(12),
            Some("TLSv1.3") => Some(13),
            Some(v) => return Err(invalid(key, v)),
        })
    };
    let min = version("ssl_min_protocol_version")?.unwrap_or(12).max(12);
    let max = version("ssl_max_protocol_version")?.unwrap_or(13);
    if max < 12 {
        return Err(
            "ssl_max_protocol_version is below TLSv1.2, the oldest version Tenet speaks".to_owned(),
        );
    }
    if min > max {
        return Err("ssl_min_protocol_version is above ssl_max_protocol_version".to_owned());
    }

    let mut pass_on = PassOn::new();
    if mode != SslMode::Prefer {
        pass_on.push(("sslmode", mode.as_str().to_owned()));
    }
    // libpq never uses TLS over Unix sockets, whatever sslmode says.
    if mode == SslMode::Disable || hosts.iter().all(HostEntry::is_socket) {
        return Ok((Tls::off(), pass_on));
    }

    let home_dir = env.home().map(|h| h.join(".postgresql"));
    let default_file = |name: &str| {
        home_dir
            .as_ref()
            .map(|d| d.join(name))
            .filter(|p| p.is_file())
    };
    let given_file = |key: &'static str| -> Result<Option<PathBuf>, String> {
        match params.get(key) {
            None => Ok(None),
            Some(path) => {
                // Unlike libpq, a named file that is missing is an error: a typo must not turn
                // verification or the client certificate off.
                let path =
                    std::path::absolute(path).map_err(|e| format!("{key} \"{path}\": {e}"))?;
                if !path.is_file() {
                    return Err(format!("{key} file \"{}\" does not exist", path.display()));
                }
                Ok(Some(path))
            }
        }
    };

    let roots = if system {
        pass_on.push(("sslrootcert", "system".to_owned()));
        Some(Roots::System)
    } else {
        match given_file("sslrootcert")? {
            Some(path) => {
                pass_on.push(("sslrootcert", path.display().to_string()));
                Some(Roots::File(path))
            }
            None => default_file("root.crt").map(Roots::File),
        }
    };
    let verify = match mode {
        SslMode::VerifyFull => Verify::Full,
        SslMode::VerifyCa => Verify::Chain,
        // libpq: with a root certificate at hand, the chain is checked in every mode.
        _ if roots.is_some() => Verify::Chain,
        _ => Verify::Nothing,
    };
    if verify != Verify::Nothing && roots.is_none() {
        return Err(format!(
            "sslmode={} needs a root certificate to check the server's against: give sslrootcert=FILE (or sslrootcert=system for the system's trusted roots), or put it in ~/.postgresql/root.crt",
            mode.as_str()
        ));
    }

    let cert = match given_file("sslcert")? {
        Some(path) => {
            pass_on.push(("sslcert", path.display().to_string()));
            Some(path)
        }
        None => default_file("postgresql.crt"),
    };
    let client = match cert {
        None => None,
        Some(cert) => {
            let key = match given_file("sslkey")? {
                Some(path) => {
                    pass_on.push(("sslkey", path.display().to_string()));
                    path
                }
                None => default_file("postgresql.key").ok_or_else(|| {
                    format!(
                        "client certificate {} has no private key: give sslkey=FILE",
                        cert.display()
                    )
                })?,
            };
            check_key_permissions(&key)?;
            Some((cert, key))
        }
    };
    if !sni {
        pass_on.push(("sslsni", "0".to_owned()));
    }
    for key in ["ssl_min_protocol_version", "ssl_max_protocol_version"] {
        if let Some(v) = params.get(key) {
            pass_on.push((key, v.to_owned()));
        }
    }
    if direct {
        pass_on.push(("sslnegotiation", "direct".to_owned()));
    }
    let settings = TlsSettings {
        verify,
        roots,
        client,
        sni,
        tls12: min <= 12,
        tls13: max >= 13,
    };
    Ok((Tls::new(mode, direct, &settings)?, pass_on))
}

/// libpq's rule for private keys: no access for group or others when the file is ours; at most
/// group read when root owns it (a key shared with a group such as ssl-cert).
fn check_key_permissions(path: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("cannot read sslkey {}: {e}", path.display()))?;
    let mode = meta.permissions().mode();
    let too_open = if meta.uid() == 0 {
        mode & 0o037 != 0
    } else {
        mode & 0o077 != 0
    };
    if !meta.is_file() || too_open {
        return Err(format!(
            "private key file \"{}\" has group or world access; file must have permissions u=rw (0600) or less if owned by the current user, or permissions u=rw,g=r (0640) or less if owned by root",
            path.display()
        ));
    }
    Ok(())
}

fn integer(key: &str, v: &str) -> Result<i64, String> {
    v.trim().parse::<i64>().map_err(|_| invalid(key, v))
}

fn non_negative(key: &str, v: &str) -> Result<u64, String> {
    u64::try_from(integer(key, v)?).map_err(|_| invalid(key, v))
}

fn seconds(key: &str, v: &str) -> Result<Duration, String> {
    Ok(Duration::from_secs(non_negative(key, v)?))
}

fn invalid(key: &str, v: &str) -> String {
    let shown: String = v
        .chars()
        .take(40)
        .collect::<String>()
        .escape_debug()
        .collect();
    format!("invalid {key} value \"{shown}\"")
}

fn os_user() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .or_else(|| std::env::var("USER").ok())
}
