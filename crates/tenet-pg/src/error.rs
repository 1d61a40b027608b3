//! The crate's error type and the classification of errors from the `postgres` crate.

use std::error::Error as _;
use std::io;

use postgres::error::SqlState;

/// Errors reaching or using a server. Every message is one line and never holds a password.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The connection string (URL or key=value) could not be used as given (exit 2).
    #[error("invalid connection string {url}: {reason}")]
    BadUrl { url: String, reason: String },
    /// Nothing answers at the address (exit 3).
    #[error("cannot reach PostgreSQL at {target}: {detail}")]
    Unreachable { target: String, detail: String },
    /// Authentication failed (exit 3). `hint` is empty or starts with "; ".
    #[error("authentication failed for user \"{user}\" at {target}{hint}")]
    BadPassword {
        user: String,
        target: String,
        hint: String,
    },
    /// TLS could not be set up as asked: the certificate, the host name, the server refusing
    /// TLS, or channel binding (exit 3).
    #[error("TLS connection to {target} failed: {detail}")]
    Tls { target: String, detail: String },
    /// The server's pg_hba.conf has no entry for this connection (exit 3).
    #[error("{target} refused the connection: {detail}")]
    Rejected { target: String, detail: String },
    /// The database does not exist (exit 3).
    #[error("database \"{database}\" does not exist at {target}")]
    NoDatabase { database: String, target: String },
    /// No server is configured and no local PostgreSQL binaries were found (exit 3).
    #[error("no PostgreSQL server configured and no PostgreSQL binaries found: {hint}")]
    NoServer { hint: String },
    /// The embedded cluster could not be started (exit 3).
    #[error("could not start the embedded PostgreSQL: {detail}")]
    Embedded { detail: String },
    /// Any other error from the server (exit 3).
    #[error("{0}")]
    Db(String),
}

impl PgError {
    /// The process exit code this error maps to (2 usage, 3 database or I/O).
    pub fn exit_code(&self) -> i32 {
        match self {
            PgError::BadUrl { .. } => 2,
            _ => 3,
        }
    }

    /// Classify an error from the `postgres` crate, naming the target (already redacted).
    ///
    /// Connection refused, a missing socket, a DNS failure or a timeout give
    /// [`PgError::Unreachable`]; SQLSTATE 28P01 and 28000 give [`PgError::BadPassword`]; 3D000
    /// gives [`PgError::NoDatabase`]; anything else [`PgError::Db`] with a one-line message that
    /// ends in the SQLSTATE. The user and database names are taken from the server's message.
    pub fn from_postgres(err: postgres::Error, target: &str) -> PgError {
        classify(&err, target, None, None, false)
    }
}

/// Classify with what the caller knows about the connection (user and database it asked for,
/// and whether the error comes from connecting).
pub(crate) fn classify(
    err: &postgres::Error,
    target: &str,
    user: Option<&str>,
    database: Option<&str>,
    connecting: bool,
) -> PgError {
    if let Some(db) = err.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            if let Some(detail) = rejection(db.message()) {
                return PgError::Rejected {
                    target: target.to_owned(),
                    detail,
                };
            }
        }
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            let user = quoted_after(db.message(), &["for user ", "user ", "role "])
                .or_else(|| user.map(str::to_owned))
                .unwrap_or_else(|| "?".to_owned());
            return PgError::BadPassword {
                user: one_line(&user),
                target: target.to_owned(),
                hint: String::new(),
            };
        }
        if *code == SqlState::INVALID_CATALOG_NAME {
            let database = quoted_after(db.message(), &["database "])
                .or_else(|| database.map(str::to_owned))
                .unwrap_or_else(|| "?".to_owned());
            return PgError::NoDatabase {
                database: one_line(&database),
                target: target.to_owned(),
            };
        }
        return PgError::Db(db_message(db));
    }
    if let Some(detail) = tls_failure(err) {
        return PgError::Tls {
            target: target.to_owned(),
            detail,
        };
    }
    if let Some(io) = io_source(err) {
        return PgError::Unreachable {
            target: target.to_owned(),
            detail: io_detail(io),
        };
    }
    let text = error_chain(err);
    if text.starts_with("timeout waiting for server") {
        return PgError::Unreachable {
            target: target.to_owned(),
            detail: "timed out".to_owned(),
        };
    }
    if text.contains("password missing") {
        // The server asked for a password and none was given.
        return PgError::BadPassword {
            user: user.map(one_line).unwrap_or_else(|| "?".to_owned()),
            target: target.to_owned(),
            hint: "; no password was given".to_owned(),
        };
    }
    if connecting {
        return PgError::Db(one_line(&format!("cannot connect to {target}: {text}")));
    }
    PgError::Db(one_line(&text))
}

/// A pg_hba.conf refusal, with what to do about it.
fn rejection(message: &str) -> Option<String> {
    let message = one_line(message);
    if is_hba_refusal(&message) {
        let hint = if message.ends_with("no encryption") {
            " (the server requires TLS for this connection: use sslmode=require or stronger)"
        } else if message.ends_with("SSL encryption") {
            " (the server refuses TLS for this connection: sslmode=prefer falls back to plaintext)"
        } else {
            ""
        };
        return Some(format!("{message}{hint}"));
    }
    if message.contains("requires a valid client certificate") {
        return Some(format!(
            "{message} (give sslcert=FILE and sslkey=FILE, or put them in ~/.postgresql/postgresql.crt and .key)"
        ));
    }
    None
}

/// "no pg_hba.conf entry for ..." or "pg_hba.conf rejects connection for ...".
pub(crate) fn is_hba_refusal(message: &str) -> bool {
    message.starts_with("no pg_hba.conf entry") || message.starts_with("pg_hba.conf rejects")
}

/// What went wrong setting up TLS, when that is what failed.
fn tls_failure(err: &postgres::Error) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        let inner = e
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn std::error::Error + 'static));
        if let Some(tls) = e
            .downcast_ref::<rustls::Error>()
            .or_else(|| inner.and_then(|i| i.downcast_ref::<rustls::Error>()))
        {
            return Some(describe_tls(tls));
        }
        cur = e.source();
    }
    let text = error_chain(err);
    if text.contains("server does not support TLS") {
        return Some(
            "the server does not accept TLS connections (sslmode=require and stronger need it)"
                .to_owned(),
        );
    }
    if text.contains("server did not use channel binding") {
        return Some(
            "channel_binding=require, but the server did not authenticate with channel binding \
             (SCRAM-SHA-256-PLUS over TLS): it needs scram-sha-256 authentication for this user \
             in pg_hba.conf and a TLS connection"
                .to_owned(),
        );
    }
    if text.contains("cannot be checked against a certificate") {
        return Some(one_line(
            text.rsplit("error performing TLS handshake: ")
                .next()
                .unwrap_or(&text),
        ));
    }
    None
}

fn describe_tls(err: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match err {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => {
            "the server's certificate is not signed by a trusted root certificate (check sslrootcert)".to_owned()
        }
        rustls::Error::InvalidCertificate(C::NotValidForNameContext { expected, presented }) => {
            format!(
                "the server's certificate is not valid for host name \"{}\" (it names {}; sslmode=verify-full checks the name)",
                expected.to_str(),
                if presented.is_empty() {
                    "no host".to_owned()
                } else {
                    presented.iter().map(|n| bare_name(n)).collect::<Vec<_>>().join(", ")
                }
            )
        }
        rustls::Error::InvalidCertificate(C::NotValidForName) => {
            "the server's certificate is not valid for this host name (sslmode=verify-full checks the name)".to_owned()
        }
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            "the server's certificate has expired".to_owned()
        }
        rustls::Error::InvalidCertificate(C::NotValidYet | C::NotValidYetContext { .. }) => {
            "the server's certificate is not valid yet".to_owned()
        }
        rustls::Error::InvalidCertificate(other) => {
            one_line(&format!("the server's certificate was refused: {other}"))
        }
        rustls::Error::AlertReceived(alert) => {
            format!("the server ended the TLS handshake with alert {alert:?}")
        }
        other => one_line(&format!("TLS handshake failed: {other}")),
    }
}

/// `localhost` from rustls's `DnsName("localhost")`, `127.0.0.1` from `IpAddress(127.0.0.1)`.
fn bare_name(presented: &str) -> &str {
    let inner = presented
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or(presented);
    inner.trim_matches('"')
}

/// `message (SQLSTATE xxxxx)`, followed by the detail and hint when the server gave them.
pub(crate) fn db_message(db: &postgres::error::DbError) -> String {
    let mut s = format!("{} (SQLSTATE {})", db.message(), db.code().code());
    if let Some(detail) = db.detail() {
        s.push_str("; detail: ");
        s.push_str(detail);
    }
    if let Some(hint) = db.hint() {
        s.push_str("; hint: ");
        s.push_str(hint);
    }
    one_line(&s)
}

/// The error and its causes, joined with ": ".
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut s = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let t = e.to_string();
        if !t.is_empty() && !s.ends_with(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = e.source();
    }
    s
}

fn io_source(err: &postgres::Error) -> Option<&io::Error> {
    let mut cur = err.source();
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return Some(io);
        }
        cur = e.source();
    }
    None
}

fn io_detail(io: &io::Error) -> String {
    let base = match io.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        io::ErrorKind::NotFound => "no server socket there (No such file or directory)".to_owned(),
        io::ErrorKind::TimedOut => "connection timed out".to_owned(),
        _ => {
            let t = io.to_string();
            if t.contains("lookup") || t.contains("resolve") || t.contains("Name or service") {
                format!("host name not found ({t})")
            } else {
                t
            }
        }
    };
    one_line(&base)
}

/// The double-quoted name that follows one of `prefixes` in `message`.
fn quoted_after(message: &str, prefixes: &[&str]) -> Option<String> {
    for prefix in prefixes {
        let needle = format!("{prefix}\"");
        if let Some(pos) = message.find(&needle) {
            let rest = &message[pos + needle.len()..];
            if let Some(end) = rest.find('"') {
                return Some(rest[..end].to_owned());
            }
        }
    }
    None
}

/// Collapse all whitespace runs (newlines included) into single spaces.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
