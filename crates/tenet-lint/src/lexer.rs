//! A small SQL tokenizer for finding where in a statement something is written.
//!
//! pg_query gives byte offsets for most nodes but not for every clause (an `ALTER TABLE`
//! subcommand such as `SET NOT NULL` has none). This lexer splits a statement into words and
//! punctuation, skipping comments, string literals and dollar-quoted bodies, so a diagnostic
//! can point at the words that matter.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Byte offsets in the text given to [`tokens`] (plus its base).
    pub start: usize,
    pub end: usize,
    /// Lowercased word, unquoted identifier (case kept), or the punctuation character.
    pub text: String,
}

/// Tokens of `sql`, with offsets shifted by `base`.
pub fn tokens(sql: &str, base: usize) -> Vec<Token> {
    scan(sql, base, &mut |_, _| {})
}

/// Byte ranges of the comments of `sql` (`--` to the end of the line, `/* */` nested).
pub fn comments(sql: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    scan(sql, 0, &mut |start, end| out.push((start, end)));
    out
}

fn scan(sql: &str, base: usize, on_comment: &mut dyn FnMut(usize, usize)) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                let end = sql[i..].find('\n').map_or(bytes.len(), |n| i + n);
                on_comment(base + i, base + end);
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                // Nested block comments, as PostgreSQL allows.
                let start = i;
                let mut depth = 1;
                i += 2;
                while i < bytes.len() && depth > 0 {
                    if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                on_comment(base + start, base + i);
            }
            b'\'' => i = skip_quoted(bytes, i, b'\''),
            b'"' => {
                let end = skip_quoted(bytes, i, b'"');
                let inner = &sql[i + 1..end.saturating_sub(1).max(i + 1)];
                out.push(Token {
                    start: base + i,
                    end: base + end,
                    text: inner.replace("\"\"", "\""),
                });
                i = end;
            }
            b'$' => match dollar_tag(&sql[i..]) {
                Some(tag) => {
                    let body = i + tag.len();
                    i = sql[body..]
                        .find(tag)
                        .map_or(bytes.len(), |n| body + n + tag.len());
                }
                None => i += 1,
            },
            _ if is_word_byte(b) => {
                let start = i;
                // E'...' and similar prefixed strings.
                if (b == b'e' || b == b'E' || b == b'b' || b == b'B' || b == b'x' || b == b'X')
                    && bytes.get(i + 1) == Some(&b'\'')
                {
                    i = skip_quoted(bytes, i + 1, b'\'');
                    continue;
                }
                while i < bytes.len() && (is_word_byte(bytes[i]) || bytes[i] == b'$') {
                    i += 1;
                }
                out.push(Token {
                    start: base + start,
                    end: base + i,
                    text: sql[start..i].to_lowercase(),
                });
            }
            _ => {
                let len = sql[i..].chars().next().map_or(1, char::len_utf8);
                out.push(Token {
                    start: base + i,
                    end: base + i + len,
                    text: sql[i..i + len].to_string(),
                });
                i += len;
            }
        }
    }
    out
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Index just past the closing quote (doubled quotes and, for `'`, backslashes are skipped).
fn skip_quoted(bytes: &[u8], open: usize, quote: u8) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        if quote == b'\'' && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        i += 1;
    }
    bytes.len()
}

/// `$tag$` or `$$` at the start of `s`.
fn dollar_tag(s: &str) -> Option<&str> {
    let rest = &s[1..];
    let end = rest.find('$')?;
    let tag = &rest[..end];
    if tag
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
        && !tag.bytes().next().is_some_and(|b| b.is_ascii_digit())
    {
        Some(&s[..end + 2])
    } else {
        None
    }
}

/// A string literal of a statement: `'...'` or `$tag$...$tag$`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    /// Byte offsets of the whole literal, quotes included (plus the base).
    pub start: usize,
    pub end: usize,
    /// Offsets of its content.
    pub content: (usize, usize),
    /// Dollar-quoted: the content is the value, byte for byte.
    pub dollar: bool,
}

/// The string literals of `sql` (not `E'...'` ones, whose escapes change the text), with offsets
/// shifted by `base`.
pub fn literals(sql: &str, base: usize) -> Vec<Literal> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
            }
            b'"' => i = skip_quoted(bytes, i, b'"'),
            b'\'' => {
                let prefixed = i > 0
                    && matches!(
                        bytes[i - 1],
                        b'e' | b'E' | b'b' | b'B' | b'x' | b'X' | b'u' | b'U' | b'&'
                    );
                let end = skip_quoted(bytes, i, b'\'');
                if !prefixed {
                    out.push(Literal {
                        start: base + i,
                        end: base + end,
                        content: (base + i + 1, base + end.saturating_sub(1).max(i + 1)),
                        dollar: false,
                    });
                }
                i = end;
            }
            b'$' => match dollar_tag(&sql[i..]) {
                Some(tag) if i == 0 || !is_word_byte(bytes[i - 1]) => {
                    let body = i + tag.len();
                    let close = sql[body..].find(tag).map(|n| body + n);
                    let end = close.map_or(bytes.len(), |c| c + tag.len());
                    out.push(Literal {
                        start: base + i,
                        end: base + end,
                        content: (base + body, base + close.unwrap_or(bytes.len())),
                        dollar: true,
                    });
                    i = end;
                }
                _ => i += 1,
            },
            _ => i += 1,
        }
    }
    out
}

/// The value of a `'...'` literal's content (doubled quotes undone) and the positions in the
/// value after which the file has one byte more.
pub fn unquote(content: &str) -> (String, Vec<usize>) {
    let mut value = String::with_capacity(content.len());
    let mut escapes = Vec::new();
    let mut rest = content;
    while let Some(i) = rest.find("''") {
        value.push_str(&rest[..=i]);
        escapes.push(value.len() - 1);
        rest = &rest[i + 2..];
    }
    value.push_str(rest);
    (value, escapes)
}

/// Index of the first token at or after `from` where the words `seq` appear in a row.
pub fn find_seq(tokens: &[Token], from: usize, seq: &[&str]) -> Option<usize> {
    if seq.is_empty() || tokens.len() < seq.len() {
        return None;
    }
    (from..=tokens.len() - seq.len()).find(|&i| {
        seq.iter()
            .enumerate()
            .all(|(k, w)| tokens[i + k].text == *w)
    })
}

/// Index of the first token starting at or after byte offset `offset`.
pub fn at_offset(tokens: &[Token], offset: usize) -> Option<usize> {
    tokens.iter().position(|t| t.start >= offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(sql: &str) -> Vec<String> {
        tokens(sql, 0).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn skips_comments_strings_and_dollar_bodies() {
        assert_eq!(
            words(
                "ALTER /* x /* y */ */ TABLE \"My T\" -- c\n SET x = 'a''b' , $f$ body $f$ E'\\''"
            ),
            ["alter", "table", "My T", "set", "x", "=", ",",]
        );
    }

    #[test]
    fn finds_literals_and_unquotes_them() {
        let sql = "DO $x$ a 'b' $x$; select 'it''s', E'no', $$y$$";
        let found: Vec<&str> = literals(sql, 0)
            .iter()
            .map(|l| &sql[l.content.0..l.content.1])
            .collect();
        assert_eq!(found, [" a 'b' ", "it''s", "y"]);
        let (value, escapes) = unquote("it''s ''x''");
        assert_eq!(value, "it's 'x'");
        assert_eq!(escapes, [2, 5, 7]);
    }

    #[test]
    fn finds_sequences() {
        let t = tokens("alter table t alter column c set not null", 0);
        assert_eq!(find_seq(&t, 0, &["set", "not", "null"]), Some(6));
        assert_eq!(t[6].start, 29);
    }
}
