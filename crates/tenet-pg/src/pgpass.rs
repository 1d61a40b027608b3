//! The password file (`~/.pgpass`, `PGPASSFILE`, `passfile=`), read with libpq's rules.
//!
//! Each line is `hostname:port:database:username:password`; `*` matches anything, `\` escapes
//! `:` and `\`, lines starting with `#` are comments, and the first matching line wins. Like
//! libpq, a file that group or others may read is ignored (and said so).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// What the connection is for, as the password file's fields see it.
pub(crate) struct Lookup<'a> {
    /// A host name, or a socket directory.
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    pub(crate) database: &'a str,
    pub(crate) user: &'a str,
}

/// The outcome of looking a password up.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    Password(String),
    /// The file does not exist or no line matches.
    Nothing,
    /// The file exists but was not used; the message says why (it names the file, no secret).
    Ignored(String),
}

/// Socket directories that count as `localhost` (libpq's default socket directory; Tenet's
/// default host is whichever of these has the server's socket).
const DEFAULT_SOCKET_DIRS: &[&str] = &["/var/run/postgresql", "/tmp"];

pub(crate) fn lookup(path: &Path, want: &Lookup) -> Found {
    if want.database.is_empty() || want.user.is_empty() {
        return Found::Nothing;
    }
    let Ok(meta) = std::fs::metadata(path) else {
        return Found::Nothing;
    };
    if !meta.is_file() {
        return Found::Ignored(format!(
            "password file \"{}\" is not a plain file",
            path.display()
        ));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return Found::Ignored(format!(
            "password file \"{}\" has group or world access; permissions should be u=rw (0600) or less",
            path.display()
        ));
    }
    let Ok(text) = std::fs::read(path) else {
        return Found::Nothing;
    };
    let text = String::from_utf8_lossy(&text);
    match find(&text, want) {
        Some(password) => Found::Password(password),
        None => Found::Nothing,
    }
}

/// The password of the first line that matches.
fn find(text: &str, want: &Lookup) -> Option<String> {
    let host = if want.host.is_empty() || DEFAULT_SOCKET_DIRS.contains(&want.host) {
        "localhost"
    } else {
        want.host
    };
    let port = want.port.to_string();
    let wanted = [host, port.as_str(), want.database, want.user];
    text.lines()
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .find_map(|line| {
            let mut rest = line;
            for token in wanted {
                rest = field_matches(rest, token)?;
            }
            Some(unescape_password(rest))
        })
}

/// If the field at the start of `line` matches `token` (`*`, or equal after unescaping),
/// the rest of the line after its `:`.
fn field_matches<'a>(line: &'a str, token: &str) -> Option<&'a str> {
    if token.is_empty() {
        return None;
    }
    if let Some(rest) = line.strip_prefix("*:") {
        return Some(rest);
    }
    let mut field = String::new();
    let mut chars = line.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e)) => field.push(e),
                None => return None,
            },
            ':' => return (field == token).then(|| &line[i + 1..]),
            c => field.push(c),
        }
    }
    None
}

/// The password runs to the first unescaped `:` (or the end of the line).
fn unescape_password(rest: &str) -> String {
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            ':' => break,
            '\\' => match chars.next() {
                Some(e) => out.push(e),
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want<'a>(host: &'a str, port: u16, database: &'a str, user: &'a str) -> Lookup<'a> {
        Lookup {
            host,
            port,
            database,
            user,
        }
    }

    const FILE: &str = "# comment\n\
        db.example.com:5432:app:alice:first\n\
        db.example.com:*:*:alice:second\n\
        *:*:*:bob:pa\\:ss\\\\w:rd\n\
        weird\\:host:5432:*:carol:c\r\n\
        localhost:5432:*:dave:sock\n";

    #[test]
    fn first_matching_line_wins() {
        let f = |w: Lookup| find(FILE, &w);
        assert_eq!(
            f(want("db.example.com", 5432, "app", "alice")).as_deref(),
            Some("first")
        );
        assert_eq!(
            f(want("db.example.com", 6543, "other", "alice")).as_deref(),
            Some("second")
        );
        assert_eq!(
            f(want("anywhere", 1, "x", "bob")).as_deref(),
            Some("pa:ss\\w")
        );
        assert_eq!(
            f(want("weird:host", 5432, "x", "carol")).as_deref(),
            Some("c")
        );
        assert_eq!(f(want("db.example.com", 5432, "app", "eve")), None);
        // The default socket directory is "localhost".
        assert_eq!(
            f(want("/var/run/postgresql", 5432, "d", "dave")).as_deref(),
            Some("sock")
        );
        assert_eq!(f(want("/srv/sock", 5432, "d", "dave")), None);
    }

    #[test]
    fn group_readable_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        std::fs::write(&path, "*:*:*:*:pw\n").unwrap();
        let w = want("h", 5432, "d", "u");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(lookup(&path, &w), Found::Ignored(m) if m.contains("group or world")));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(lookup(&path, &w), Found::Password("pw".into()));
        assert_eq!(lookup(&dir.path().join("none"), &w), Found::Nothing);
        assert!(
            matches!(lookup(dir.path(), &w), Found::Ignored(m) if m.contains("not a plain file"))
        );
    }
}
