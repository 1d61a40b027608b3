//! A migration's statements, parsed a chunk at a time so memory stays bounded by the chunk, not
//! the file: a 50 MB data migration is never one parse tree. Lint reads files with it, and so
//! does tenet-migrate when it splits a migration into segments.
//!
//! The scanner (which survives syntax errors) cuts the file into pieces at top-level
//! semicolons; consecutive pieces are parsed together up to [`CHUNK_BYTES`]. The scanner also
//! cuts inside `BEGIN ATOMIC ... END` bodies, so a chunk that does not parse is first extended
//! with the pieces after it; what still does not parse is parsed piece by piece, and the pieces
//! PostgreSQL rejects are reported as syntax errors.

use pg_query::protobuf::RawStmt;

/// Bytes of SQL parsed at once.
const CHUNK_BYTES: usize = 256 * 1024;

/// One statement of the file.
pub enum Item<'p> {
    Parsed {
        raw: &'p RawStmt,
        /// Byte range in the file (leading comments included).
        span: (usize, usize),
        /// File offset that the statement's node locations count from.
        base: usize,
    },
    Invalid {
        span: (usize, usize),
        message: String,
    },
}

/// Call `f` on every statement of `sql`, in order, until it returns false.
pub fn for_each(sql: &str, f: &mut dyn FnMut(Item<'_>) -> bool) {
    let pieces = pieces(sql);
    let mut i = 0;
    while i < pieces.len() {
        // Pieces i..j make a chunk.
        let mut j = i + 1;
        while j < pieces.len() && pieces[j].1 - pieces[i].0 <= CHUNK_BYTES {
            j += 1;
        }
        let mut parsed = parse(sql, pieces[i].0, pieces[j - 1].1);
        // A cut inside a body: extend the chunk a few times before giving up on it.
        let mut extended = j;
        let mut grow = 1;
        while parsed.is_err() && extended < pieces.len() && grow <= 64 {
            extended = (extended + grow).min(pieces.len());
            grow *= 4;
            if let Ok(p) = parse(sql, pieces[i].0, pieces[extended - 1].1) {
                parsed = Ok(p);
                j = extended;
            }
        }
        let go_on = match parsed {
            Ok(result) => emit(&result, pieces[i].0, pieces[j - 1].1, f),
            Err(_) => pieces[i..j]
                .iter()
                .all(|&(start, end)| match parse(sql, start, end) {
                    Ok(result) => emit(&result, start, end, f),
                    Err(message) => f(Item::Invalid {
                        span: (start, end),
                        message,
                    }),
                }),
        };
        if !go_on {
            return;
        }
        i = j;
    }
}

fn parse(sql: &str, start: usize, end: usize) -> Result<pg_query::protobuf::ParseResult, String> {
    match pg_query::parse(&sql[start..end], pg_query::ParserOptions::DEFAULT) {
        Ok(parsed) => Ok(parsed.protobuf),
        Err(pg_query::Error::Parse(message)) => Err(message),
        Err(other) => Err(other.to_string()),
    }
}

fn emit(
    result: &pg_query::protobuf::ParseResult,
    start: usize,
    end: usize,
    f: &mut dyn FnMut(Item<'_>) -> bool,
) -> bool {
    for raw in &result.stmts {
        let s = (start + raw.stmt_location.max(0) as usize).min(end);
        let e = if raw.stmt_len > 0 {
            (s + raw.stmt_len as usize).min(end)
        } else {
            end
        };
        if !f(Item::Parsed {
            raw,
            span: (s, e),
            base: start,
        }) {
            return false;
        }
    }
    true
}

/// The scanner reads this much of the file at a time (it copies what it reads).
const WINDOW_BYTES: usize = 4 << 20;

/// The file cut at top-level semicolons: byte ranges covering all of it. The scanner runs on
/// windows of the file that start at a cut; a window's last piece may be cut short by the
/// window's end, so it is read again at the start of the next window.
fn pieces(sql: &str) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut from = 0;
    let mut window = WINDOW_BYTES;
    while from < sql.len() {
        let mut end = (from + window).min(sql.len());
        while !sql.is_char_boundary(end) {
            end += 1;
        }
        let last_window = end == sql.len();
        let cut = match pg_query::split_with_scanner(&sql[from..end]) {
            Ok(parts) => parts
                .into_iter()
                .map(|p| {
                    let start = p.as_ptr() as usize - sql.as_ptr() as usize;
                    (start, start + p.len())
                })
                .collect::<Vec<_>>(),
            // The window ends inside a literal or a comment: read more at once.
            Err(_) if !last_window => {
                window *= 2;
                continue;
            }
            Err(_) => vec![(from, sql.len())],
        };
        let keep = if last_window {
            cut.len()
        } else {
            cut.len().saturating_sub(1)
        };
        if keep == 0 {
            if last_window {
                break;
            }
            window *= 2;
            continue;
        }
        // Stretch each piece back to where the previous one ended, so nothing (a leading
        // comment, a stray semicolon) falls between pieces.
        for &(start, piece_end) in &cut[..keep] {
            if piece_end <= from {
                continue;
            }
            out.push((from.min(start), piece_end));
            from = piece_end;
            if sql.as_bytes().get(from) == Some(&b';') {
                from += 1;
            }
        }
        if last_window {
            break;
        }
        window = WINDOW_BYTES;
    }
    if out.is_empty() && !sql.trim().is_empty() {
        out.push((0, sql.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(sql: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each(sql, &mut |item| {
            match item {
                Item::Parsed { span, .. } => out.push(sql[span.0..span.1].trim().to_string()),
                Item::Invalid { span, .. } => {
                    out.push(format!("invalid: {}", sql[span.0..span.1].trim()))
                }
            }
            true
        });
        out
    }

    #[test]
    fn statements_survive_bodies_and_errors() {
        assert_eq!(
            spans("create table a (x int);\ncreate function f() returns int language sql begin atomic select 1; select 2; end;\nselect 3;"),
            [
                "create table a (x int)",
                "create function f() returns int language sql begin atomic select 1; select 2; end",
                "select 3"
            ]
        );
        assert_eq!(
            spans("select 1; create tabel t (x int); select 3;"),
            ["select 1", "invalid: create tabel t (x int)", "select 3"]
        );
    }

    #[test]
    fn scanner_pieces() {
        let sql = "select 1; create tabel t (x int); select 3;";
        let p: Vec<&str> = pieces(sql).iter().map(|&(s, e)| &sql[s..e]).collect();
        assert_eq!(p, ["select 1", " create tabel t (x int)", " select 3"]);
    }

    #[test]
    fn windows_cut_nowhere_inside_a_statement() {
        // Statements with long literals and bodies across many windows.
        let mut sql = String::new();
        for i in 0..400 {
            sql.push_str(&format!(
                "insert into t values ({i}, '{}');\nDO $$ BEGIN PERFORM '{}'; END $$;\n/* {} */\n",
                "x".repeat(7_000),
                "y;".repeat(3_000),
                "z;".repeat(2_000)
            ));
        }
        let all = spans(&sql);
        assert_eq!(all.len(), 800);
        assert!(
            all.iter().all(|s| !s.starts_with("invalid")),
            "{:?}",
            &all[..3]
        );
        assert!(
            all[799].starts_with("/*") || all[799].starts_with("DO"),
            "{}",
            &all[799][..20]
        );
    }

    #[test]
    fn large_files_are_parsed_in_chunks() {
        let mut sql = String::new();
        for i in 0..20_000 {
            sql.push_str(&format!("insert into t values ({i}, 'row {i}');\n"));
        }
        let all = spans(&sql);
        assert_eq!(all.len(), 20_000);
        assert_eq!(all[19_999], "insert into t values (19999, 'row 19999')");
    }
}
