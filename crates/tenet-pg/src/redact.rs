//! Hiding passwords in connection strings.

const MASK: &str = "***";

/// Replace the password of a connection URL with `***`; anything unparsable is returned with
/// everything between `://` and `@` hidden.
///
/// Handles `postgres://user:password@host/db` URLs (including `?password=...` query parameters)
/// and libpq key=value strings (`host=h password='s e c r e t'`). When in doubt it hides more,
/// never less: the values of unknown keys (a misspelt `pasword=`) and words that are not
/// `key=value` (the rest of an unquoted password with a space) are hidden too.
pub fn redact(url: &str) -> String {
    match url.find("://") {
        Some(pos) => redact_url(url, pos + 3),
        None => redact_key_values(url),
    }
}

fn redact_url(url: &str, after_scheme: usize) -> String {
    let (scheme, rest) = url.split_at(after_scheme);
    // Real clients end the user info at the first '@', but a password with an unencoded '@',
    // '/' or '?' is still a secret: take the last '@' before the query (which starts at the
    // first '?' after the last '/'), else the last '@' anywhere. This may hide more than the
    // password, never less.
    let last_slash = rest.rfind('/').map_or(0, |p| p + 1);
    let query_start = rest[last_slash..]
        .find('?')
        .map_or(rest.len(), |q| last_slash + q);
    let at = rest[..query_start].rfind('@').or_else(|| rest.rfind('@'));
    let mut out = String::with_capacity(url.len());
    out.push_str(scheme);
    let tail = match at {
        Some(at) => {
            let userinfo = &rest[..at];
            match userinfo.find(':') {
                Some(colon) => {
                    out.push_str(&userinfo[..colon]);
                    out.push(':');
                    out.push_str(MASK);
                }
                None => out.push_str(userinfo),
            }
            out.push('@');
            &rest[at + 1..]
        }
        None => rest,
    };
    match tail.find('?') {
        Some(q) => {
            out.push_str(&tail[..=q]);
            out.push_str(&redact_query(&tail[q + 1..]));
        }
        None => out.push_str(tail),
    }
    out
}

fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if is_secret(&percent_decode(key)) => format!("{key}={MASK}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Everything but the values of libpq's keywords known not to be secret.
fn is_secret(key: &str) -> bool {
    !(crate::conninfo::is_public_keyword(key) || key == "ssl")
}

/// Redact libpq `key=value` strings: values may be single-quoted with backslash escapes, and
/// spaces are allowed around `=`.
fn redact_key_values(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let n = s.len();
    let next_char = |i: usize| s[i..].chars().next();
    let skip_ws = |mut i: usize, out: &mut String| {
        while let Some(c) = next_char(i) {
            if !c.is_whitespace() {
                break;
            }
            out.push(c);
            i += c.len_utf8();
        }
        i
    };
    while i < n {
        i = skip_ws(i, &mut out);
        if i >= n {
            break;
        }
        // key
        let key_start = i;
        while let Some(c) = next_char(i) {
            if c.is_whitespace() || c == '=' {
                break;
            }
            i += c.len_utf8();
        }
        let key = &s[key_start..i];
        out.push_str(key);
        let after_key = skip_ws(i, &mut String::new());
        if next_char(after_key) != Some('=') {
            // A bare word, not a key=value pair: perhaps half of a password.
            out.truncate(out.len() - key.len());
            out.push_str(MASK);
            continue;
        }
        i = skip_ws(i, &mut out);
        out.push('=');
        i += 1;
        i = skip_ws(i, &mut out);
        // value
        let value_start = i;
        if next_char(i) == Some('\'') {
            i += 1;
            while let Some(c) = next_char(i) {
                i += c.len_utf8();
                if c == '\\' {
                    if let Some(e) = next_char(i) {
                        i += e.len_utf8();
                    }
                } else if c == '\'' {
                    break;
                }
            }
        } else {
            while let Some(c) = next_char(i) {
                if c.is_whitespace() {
                    break;
                }
                i += c.len_utf8();
                if c == '\\' {
                    if let Some(e) = next_char(i) {
                        i += e.len_utf8();
                    }
                }
            }
        }
        if is_secret(key) {
            out.push_str(MASK);
        } else {
            out.push_str(&s[value_start..i]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn urls() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgresql://u@h/db"), "postgresql://u@h/db");
        assert_eq!(redact("postgresql://h/db"), "postgresql://h/db");
        assert_eq!(
            redact("postgresql://u:p%40ss@h/db?sslmode=disable&password=x&a=b"),
            "postgresql://u:***@h/db?sslmode=disable&password=***&a=***"
        );
        assert_eq!(redact("postgres://u:p@ss/w@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u:p@w?x@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u:p?x@h"), "postgres://u:***@h");
        assert_eq!(
            redact("postgres://u:pw@h/db?application_name=a@b"),
            "postgres://u:***@h/db?application_name=a@b"
        );
        assert_eq!(
            redact("postgres://u:pw@h/db?host=/var/run/postgresql"),
            "postgres://u:***@h/db?host=/var/run/postgresql"
        );
        assert_eq!(
            redact("postgresql:///db?host=/var/run/postgresql&pass%77ord=s"),
            "postgresql:///db?host=/var/run/postgresql&pass%77ord=***"
        );
    }

    #[test]
    fn key_values() {
        assert_eq!(
            redact("host=h password=secret user=u"),
            "host=h password=*** user=u"
        );
        assert_eq!(
            redact("password = 'se cr\\'et' dbname=x"),
            "password = *** dbname=x"
        );
        assert_eq!(redact("user=password dbname=d"), "user=password dbname=d");
        assert_eq!(redact("password='unterminated"), "password=***");
        assert_eq!(redact("  host=h  "), "  host=h  ");
        assert_eq!(
            redact("host=h pasword=s3cret password=my s3cret"),
            "host=h pasword=*** password=*** ***"
        );
    }
}
