//! A migration's statements, parsed a chunk at a time so memory stays bounded by the chunk, not
//! the file: a 50 MB data migration is never one parse tree.
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
pub(crate) enum Item<'p> {
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
pub(crate) fn for_each(sql: &str, f: &mut dyn FnMut(Item<'_>) -> bool) {
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

/// The file cut at top-level semicolons: byte ranges covering all of it.
fn pieces(sql: &str) -> Vec<(usize, usize)> {
    let cut = match pg_query::split_with_scanner(sql) {
        Ok(parts) => parts
            .into_iter()
            .map(|p| {
                let start = p.as_ptr() as usize - sql.as_ptr() as usize;
                (start, start + p.len())
            })
            .collect::<Vec<_>>(),
        Err(_) => vec![(0, sql.len())],
    };
    // Stretch each piece back to where the previous one ended, so nothing (a leading comment,
    // a stray semicolon) falls between pieces.
    let mut out = Vec::with_capacity(cut.len());
    let mut from = 0;
    for (start, end) in cut {
        if end <= from {
            continue;
        }
        out.push((from.min(start), end));
        from = end;
        if sql.as_bytes().get(from) == Some(&b';') {
            from += 1;
        }
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
