//! libpq connection strings, read with libpq's rules: `key=value` lists (values single-quoted
//! with backslash escapes) and `postgresql://` URIs (percent-encoded), then completed from the
//! libpq environment (`PGHOST`, `PGSSLMODE`, ...) for what they leave unset.
//!
//! Error messages name parameters, never the values of secret ones.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;

/// How Tenet treats a libpq keyword.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Support {
    Used,
    /// Accepted and without effect here (it only concerns GSSAPI, which Tenet never uses, or
    /// what Tenet always does anyway).
    Ignored,
    /// Refused with this reason: silently ignoring it could connect somewhere else or less safely.
    Unsupported(&'static str),
}

pub(crate) struct Keyword {
    pub(crate) name: &'static str,
    env: Option<&'static str>,
    pub(crate) support: Support,
}

const fn kw(name: &'static str, env: &'static str, support: Support) -> Keyword {
    Keyword {
        name,
        env: if env.is_empty() { None } else { Some(env) },
        support,
    }
}

use Support::{Ignored, Unsupported, Used};

/// libpq's keywords (PostgreSQL 17) and their environment variables.
const KEYWORDS: &[Keyword] = &[
    kw("host", "PGHOST", Used),
    kw("hostaddr", "PGHOSTADDR", Used),
    kw("port", "PGPORT", Used),
    kw("dbname", "PGDATABASE", Used),
    kw("user", "PGUSER", Used),
    kw("password", "PGPASSWORD", Used),
    kw("passfile", "PGPASSFILE", Used),
    kw("channel_binding", "PGCHANNELBINDING", Used),
    kw("connect_timeout", "PGCONNECT_TIMEOUT", Used),
    kw("client_encoding", "PGCLIENTENCODING", Ignored),
    kw("options", "PGOPTIONS", Used),
    kw("application_name", "PGAPPNAME", Used),
    kw("fallback_application_name", "", Used),
    kw("keepalives", "", Used),
    kw("keepalives_idle", "", Used),
    kw("keepalives_interval", "", Used),
    kw("keepalives_count", "", Used),
    kw("tcp_user_timeout", "", Used),
    kw("sslmode", "PGSSLMODE", Used),
    kw("sslnegotiation", "PGSSLNEGOTIATION", Used),
    kw("sslcompression", "PGSSLCOMPRESSION", Ignored),
    kw("sslcert", "PGSSLCERT", Used),
    kw("sslkey", "PGSSLKEY", Used),
    kw("sslrootcert", "PGSSLROOTCERT", Used),
    kw("sslsni", "PGSSLSNI", Used),
    kw("ssl_min_protocol_version", "PGSSLMINPROTOCOLVERSION", Used),
    kw("ssl_max_protocol_version", "PGSSLMAXPROTOCOLVERSION", Used),
    kw("gssencmode", "PGGSSENCMODE", Used),
    kw("krbsrvname", "PGKRBSRVNAME", Ignored),
    kw("gsslib", "PGGSSLIB", Ignored),
    kw("gssdelegation", "PGGSSDELEGATION", Ignored),
    kw("target_session_attrs", "PGTARGETSESSIONATTRS", Used),
    kw("load_balance_hosts", "PGLOADBALANCEHOSTS", Used),
    kw(
        "sslpassword",
        "",
        Unsupported("encrypted client keys are not supported; decrypt the key file (openssl pkey -in KEY -out KEY.plain) and give it as sslkey"),
    ),
    kw(
        "sslcertmode",
        "PGSSLCERTMODE",
        Unsupported("the client certificate is sent whenever the server asks for one (libpq's sslcertmode=allow)"),
    ),
    kw(
        "sslcrl",
        "PGSSLCRL",
        Unsupported("certificate revocation lists are not supported"),
    ),
    kw(
        "sslcrldir",
        "PGSSLCRLDIR",
        Unsupported("certificate revocation lists are not supported"),
    ),
    kw(
        "requirepeer",
        "PGREQUIREPEER",
        Unsupported("checking the server's operating-system user is not supported"),
    ),
    kw(
        "require_auth",
        "PGREQUIREAUTH",
        Unsupported("restricting authentication methods is not supported (channel_binding=require insists on SCRAM over TLS)"),
    ),
    kw(
        "service",
        "PGSERVICE",
        Unsupported("connection service files (pg_service.conf) are not supported; give the settings directly"),
    ),
    kw(
        "replication",
        "",
        Unsupported("replication connections are not supported"),
    ),
];

pub(crate) fn keyword(name: &str) -> Option<&'static Keyword> {
    KEYWORDS.iter().find(|k| k.name == name)
}

/// Whether `key` is a libpq keyword whose value is no secret (used by redaction).
pub(crate) fn is_public_keyword(key: &str) -> bool {
    keyword(key).is_some_and(|k| k.name != "password" && k.name != "sslpassword")
}

/// Whether `text` is a libpq connection string rather than, say, a file path: a
/// `postgres://` / `postgresql://` URI, or anything with an `=` (libpq's own rule).
pub fn is_connection_string(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with("postgres://") || t.starts_with("postgresql://") || t.contains('=')
}

/// The environment libpq reads: the `PG*` variables, and `HOME` for `~/.pgpass` and
/// `~/.postgresql/`. [`LibpqEnv::from_process`] is what `Server::from_url` uses; tests and
/// embedders can give their own.
#[derive(Clone, Default)]
pub struct LibpqEnv {
    vars: HashMap<String, String>,
}

impl LibpqEnv {
    /// The variables of this process (those that are valid UTF-8).
    pub fn from_process() -> LibpqEnv {
        LibpqEnv::from_vars(std::env::vars_os().filter_map(|(k, v)| {
            let k = k.into_string().ok()?;
            (k.starts_with("PG") || k == "HOME")
                .then(|| v.into_string().ok().map(|v| (k, v)))
                .flatten()
        }))
    }

    /// Exactly these variables, nothing from the process.
    pub fn from_vars<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> LibpqEnv {
        LibpqEnv {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// `$HOME`, else the home directory of the effective user.
    pub(crate) fn home(&self) -> Option<PathBuf> {
        match self.get("HOME").filter(|h| !h.is_empty()) {
            Some(home) => Some(PathBuf::from(home)),
            None => nix::unistd::User::from_uid(nix::unistd::geteuid())
                .ok()
                .flatten()
                .map(|u| u.dir),
        }
    }
}

impl fmt::Debug for LibpqEnv {
    /// Names only: `PGPASSWORD` is a secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("LibpqEnv").field("vars", &names).finish()
    }
}

/// Connection parameters by keyword (the last one given wins, as in libpq).
#[derive(Clone, Default)]
pub(crate) struct Params(BTreeMap<&'static str, String>);

impl Params {
    /// Parse a URI or a key=value string. The error is the reason, safe to print.
    pub(crate) fn parse(text: &str) -> Result<Params, String> {
        let text = text.trim();
        for prefix in ["postgresql://", "postgres://"] {
            if let Some(rest) = text.strip_prefix(prefix) {
                return parse_uri(rest);
            }
        }
        if text.starts_with("postgres:") || text.starts_with("postgresql:") {
            return Err("a URL starts with postgres:// or postgresql://".to_owned());
        }
        if let Some((scheme, _)) = text.split_once("://") {
            if !scheme.contains(char::is_whitespace) && !scheme.contains('=') {
                return Err(format!(
                    "unsupported scheme \"{scheme}\" (use postgres:// or postgresql://)"
                ));
            }
        }
        parse_key_values(text)
    }

    /// Fill what is unset from the environment, as libpq does.
    pub(crate) fn with_env(mut self, env: &LibpqEnv) -> Params {
        for k in KEYWORDS {
            if let Some(var) = k.env {
                if !self.0.contains_key(k.name) {
                    if let Some(value) = env.get(var) {
                        self.0.insert(k.name, value.to_owned());
                    }
                }
            }
        }
        self
    }

    /// The value, when given and not empty (libpq treats empty as unset).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Refuse the parameters Tenet does not support.
    pub(crate) fn check_supported(&self) -> Result<(), String> {
        for key in self.0.keys() {
            if let Some(Keyword {
                support: Unsupported(why),
                ..
            }) = keyword(key)
            {
                if self.get(key).is_some() {
                    return Err(format!(
                        "connection parameter \"{key}\" is not supported: {why}"
                    ));
                }
            }
        }
        Ok(())
    }

    fn set(&mut self, key: &str, value: String, what: &str) -> Result<(), String> {
        match keyword(key) {
            Some(k) => {
                self.0.insert(k.name, value);
                Ok(())
            }
            None => Err(format!("unknown {what} \"{}\"", printable(key))),
        }
    }
}

/// A key as it may be shown: control characters escaped, at most 40 characters.
fn printable(key: &str) -> String {
    let mut s: String = key
        .chars()
        .take(40)
        .collect::<String>()
        .escape_debug()
        .collect();
    if key.chars().count() > 40 {
        s.push_str("...");
    }
    s
}

/// libpq's `key = value` lists: whitespace separates pairs and may surround `=`; a value is
/// single-quoted (`''` for empty) or runs to the next whitespace; backslash escapes the next
/// character in both.
fn parse_key_values(text: &str) -> Result<Params, String> {
    let mut params = Params::default();
    let mut chars = text.char_indices().peekable();
    let skip_ws = |chars: &mut std::iter::Peekable<std::str::CharIndices>| {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
    };
    loop {
        skip_ws(&mut chars);
        let Some(&(start, _)) = chars.peek() else {
            break;
        };
        let mut end = text.len();
        while let Some(&(i, c)) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                end = i;
                break;
            }
            chars.next();
        }
        let key = &text[start..end];
        skip_ws(&mut chars);
        if chars.next_if(|(_, c)| *c == '=').is_none() {
            // Never quote the word: it may be half of an unquoted password with a space.
            return Err(format!(
                "missing \"=\" after the word at character {} (quote values that contain spaces: key='a b')",
                text[..start].chars().count() + 1
            ));
        }
        skip_ws(&mut chars);
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '\'').is_some() {
            loop {
                match chars.next() {
                    None => {
                        return Err(format!(
                            "unterminated quoted value of \"{}\"",
                            printable(key)
                        ))
                    }
                    Some((_, '\\')) => {
                        if let Some((_, c)) = chars.next() {
                            value.push(c);
                        }
                    }
                    Some((_, '\'')) => break,
                    Some((_, c)) => value.push(c),
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace()) {
                if c == '\\' {
                    if let Some((_, e)) = chars.next() {
                        value.push(e);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        params.set(key, value, "connection parameter")?;
    }
    Ok(params)
}

/// `postgresql://[user[:password]@][host[:port][,...]][/dbname][?key=value&...]`, after the
/// scheme. Each part is percent-decoded; query parameters override the parts before them.
fn parse_uri(rest: &str) -> Result<Params, String> {
    let mut params = Params::default();
    // libpq ends the user info at the first '@' before any '/'.
    let mut rest = match rest.find(['@', '/']) {
        Some(at) if rest.as_bytes()[at] == b'@' => {
            let userinfo = &rest[..at];
            let (user, password) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            params.0.insert("user", decode(user, "user name")?);
            if let Some(p) = password {
                params.0.insert("password", decode(p, "password")?);
            }
            &rest[at + 1..]
        }
        _ => rest,
    };

    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    let mut any_port = false;
    loop {
        let host;
        if let Some(after) = rest.strip_prefix('[') {
            let close = after
                .find(']')
                .ok_or("an IPv6 address in the URI has no closing \"]\"")?;
            if close == 0 {
                return Err("an IPv6 address in the URI is empty".to_owned());
            }
            host = after[..close].to_owned();
            rest = &after[close + 1..];
            if !rest.is_empty() && !rest.starts_with([':', '/', '?', ',']) {
                return Err(format!(
                    "unexpected \"{}\" after an IPv6 address in the URI (expected \":\", \"/\" or \"?\")",
                    rest.chars().next().unwrap_or_default()
                ));
            }
        } else {
            let end = rest.find([':', '/', '?', ',']).unwrap_or(rest.len());
            host = decode(&rest[..end], "host")?;
            rest = &rest[end..];
        }
        let mut port = String::new();
        if let Some(after) = rest.strip_prefix(':') {
            let end = after.find(['/', '?', ',']).unwrap_or(after.len());
            port = decode(&after[..end], "port")?;
            any_port = true;
            rest = &after[end..];
        }
        hosts.push(host);
        ports.push(port);
        match rest.strip_prefix(',') {
            Some(after) => rest = after,
            None => break,
        }
    }
    if hosts.iter().any(|h| !h.is_empty()) || hosts.len() > 1 {
        params.0.insert("host", hosts.join(","));
    }
    if any_port {
        params.0.insert("port", ports.join(","));
    }

    if let Some(after) = rest.strip_prefix('/') {
        let end = after.find('?').unwrap_or(after.len());
        let dbname = decode(&after[..end], "database name")?;
        if !dbname.is_empty() {
            params.0.insert("dbname", dbname);
        }
        rest = &after[end..];
    }
    if let Some(query) = rest.strip_prefix('?') {
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').ok_or_else(|| {
                format!(
                    "a URI query parameter has no \"=\": \"{}\"",
                    printable(&decode_lossy(pair))
                )
            })?;
            let key = decode(key, "query parameter name")?;
            if value.contains('=') {
                return Err(format!(
                    "the URI query parameter \"{}\" has a second \"=\" (percent-encode it as %3D)",
                    printable(&key)
                ));
            }
            let value = decode(value, &format!("value of \"{}\"", printable(&key)))?;
            // libpq's JDBC-compatible spelling.
            if key == "ssl" && value == "true" {
                params.0.insert("sslmode", "require".to_owned());
                continue;
            }
            params.set(&key, value, "URI query parameter")?;
        }
    } else if !rest.is_empty() {
        return Err(format!(
            "unexpected \"{}\" in the URI",
            rest.chars().next().unwrap_or_default()
        ));
    }
    Ok(params)
}

/// Percent-decode one URI part as libpq does ('+' stays '+'); `what` names the part in errors,
/// never its value.
fn decode(s: &str, what: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("invalid percent-encoding in the {what} of the URI"))?;
            if hex == 0 {
                return Err(format!("%00 is not allowed in the {what} of the URI"));
            }
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("the {what} of the URI is not valid UTF-8"))
}

fn decode_lossy(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<(&'static str, String)> {
        Params::parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .0
            .into_iter()
            .collect()
    }

    fn kv(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        let mut v: Vec<_> = pairs.iter().map(|(k, v)| (*k, v.to_string())).collect();
        v.sort();
        v
    }

    #[test]
    fn key_values() {
        assert_eq!(
            parse(r"host = h  port=5433 password='s e\'c' dbname=a\ b user='x\\z' options=''"),
            kv(&[
                ("host", "h"),
                ("port", "5433"),
                ("password", "s e'c"),
                ("dbname", "a b"),
                ("user", r"x\z"),
                ("options", ""),
            ])
        );
        // The last one wins.
        assert_eq!(parse("port=1 port=2"), kv(&[("port", "2")]));
    }

    #[test]
    fn key_value_errors_never_show_values() {
        let err = |t: &str| Params::parse(t).err().expect("an error");
        assert_eq!(
            err("host=h nosuch=1"),
            "unknown connection parameter \"nosuch\""
        );
        let e = err("password=my secret host=h");
        assert!(e.contains("character 13"), "{e}");
        assert!(!e.contains("secret"), "{e}");
        let e = err("password='s3cret");
        assert_eq!(e, "unterminated quoted value of \"password\"");
        // A quoted value ends at its closing quote; the next pair may follow at once.
        assert_eq!(
            parse("password='a b'user=u"),
            kv(&[("password", "a b"), ("user", "u")])
        );
    }

    #[test]
    fn uris() {
        assert_eq!(
            parse("postgresql://al%40ice:p%3Aw@db.example.com:6543/my%20db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem"),
            kv(&[
                ("user", "al@ice"),
                ("password", "p:w"),
                ("host", "db.example.com"),
                ("port", "6543"),
                ("dbname", "my db"),
                ("sslmode", "verify-full"),
                ("sslrootcert", "/tmp/ca.pem"),
            ])
        );
        assert_eq!(
            parse("postgres://[::1]:5432,h2/d?ssl=true"),
            kv(&[
                ("host", "::1,h2"),
                ("port", "5432,"),
                ("dbname", "d"),
                ("sslmode", "require"),
            ])
        );
        assert_eq!(
            parse("postgresql:///d?host=%2Fvar%2Frun%2Fpostgresql"),
            kv(&[("dbname", "d"), ("host", "/var/run/postgresql")])
        );
        assert_eq!(parse("postgresql://"), kv(&[]));
        // '@' in the query does not end a user info.
        assert_eq!(
            parse("postgresql://h/d?application_name=a@b"),
            kv(&[("host", "h"), ("dbname", "d"), ("application_name", "a@b")])
        );
        // Neon URLs.
        assert_eq!(
            parse("postgresql://u:pw@ep-x.eu-central-1.aws.neon.tech/neondb?sslmode=require&channel_binding=require"),
            kv(&[
                ("user", "u"),
                ("password", "pw"),
                ("host", "ep-x.eu-central-1.aws.neon.tech"),
                ("dbname", "neondb"),
                ("sslmode", "require"),
                ("channel_binding", "require"),
            ])
        );
    }

    #[test]
    fn uri_errors_never_show_the_password() {
        let err = |t: &str| Params::parse(t).err().expect("an error");
        assert_eq!(
            err("postgresql://u:p%zzw@h/d"),
            "invalid percent-encoding in the password of the URI"
        );
        assert_eq!(
            err("postgresql://u:p%00w@h/d"),
            "%00 is not allowed in the password of the URI"
        );
        assert_eq!(
            err("postgresql://h/d?nosuch=1"),
            "unknown URI query parameter \"nosuch\""
        );
        assert!(err("postgresql://h/d?password").contains("no \"=\""));
        assert!(err("mysql://u:pw@h/d").starts_with("unsupported scheme \"mysql\""));
        assert!(err("postgresql://[::1/d").contains("closing"));
    }

    #[test]
    fn environment_fills_only_what_is_unset() {
        let env = LibpqEnv::from_vars([
            ("PGHOST", "envhost"),
            ("PGSSLMODE", "verify-full"),
            ("PGPASSWORD", "envpw"),
            ("PGAPPNAME", "app"),
        ]);
        let p = Params::parse("host=h password=").unwrap().with_env(&env);
        assert_eq!(p.get("host"), Some("h"));
        assert_eq!(p.get("sslmode"), Some("verify-full"));
        assert_eq!(p.get("application_name"), Some("app"));
        // Given but empty: libpq does not take PGPASSWORD then, and the value counts as unset.
        assert_eq!(p.get("password"), None);
        assert!(!format!("{env:?}").contains("envpw"));
    }

    #[test]
    fn unsupported_parameters_are_named() {
        let p = Params::parse("host=h sslcrl=/etc/crl.pem").unwrap();
        let e = p.check_supported().unwrap_err();
        assert!(
            e.starts_with("connection parameter \"sslcrl\" is not supported"),
            "{e}"
        );
        let p = Params::parse("host=h")
            .unwrap()
            .with_env(&LibpqEnv::from_vars([("PGSERVICE", "prod")]));
        assert!(p.check_supported().unwrap_err().contains("\"service\""));
    }

    #[test]
    fn connection_strings_are_told_from_paths() {
        assert!(is_connection_string("host=h dbname=d password=S"));
        assert!(is_connection_string("postgres://h/d"));
        assert!(!is_connection_string("schema/"));
        assert!(!is_connection_string("migrations/0001_init.up.sql"));
    }
}
