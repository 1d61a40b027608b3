//! Hints in desired-state SQL that no database holds. `-- tenet:renamed-from old_name` on the
//! line before `CREATE TABLE` (or before one of its column definitions) says the table (or
//! column) had that name before, so a plan renames it instead of dropping it and creating it
//! empty. Nothing is guessed: without a hint, a new name is a new object.

use std::path::{Path, PathBuf};

use pg_query::protobuf::{node::Node as N, Token};

use crate::model::{Catalog, QualifiedName, Rename};
use crate::source::{skip_blank, statement_spans};
use crate::Error;

pub const RENAMED_FROM: &str = "tenet:renamed-from";

/// Add the renames hinted in `files` to `catalog`, which was loaded from them.
pub fn read_renames(catalog: &mut Catalog, files: &[PathBuf]) -> Result<(), Error> {
    for file in files {
        let sql = std::fs::read_to_string(file).map_err(|source| Error::Io {
            path: file.clone(),
            source,
        })?;
        let renames = renames_in(catalog, file, &sql)?;
        catalog.renames.extend(renames);
    }
    Ok(())
}

/// The renames hinted in one file, resolved against the catalog it loaded into.
pub fn renames_in(catalog: &Catalog, file: &Path, sql: &str) -> Result<Vec<Rename>, Error> {
    if !sql.contains(RENAMED_FROM) {
        return Ok(Vec::new());
    }
    // A file that does not scan did not load either; its error has been reported.
    let Ok(scanned) = pg_query::scan(sql) else {
        return Ok(Vec::new());
    };
    let tokens = scanned.tokens;
    let spans = statement_spans(sql);
    let mut out = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let (start, end) = (token.start as usize, token.end as usize);
        let text = &sql[start..end];
        let Some(old) = (token.token == Token::SqlComment as i32)
            .then(|| text.trim_start_matches('-').trim())
            .and_then(|t| t.strip_prefix(RENAMED_FROM))
        else {
            continue;
        };
        let bad = |why: &str| Error::Input(format!("{}: {why}", position(file, sql, start)));
        let old = parse_name(old.trim()).ok_or_else(|| {
            bad("tenet:renamed-from needs the old name, e.g. `-- tenet:renamed-from tag`")
        })?;
        let next = tokens[i + 1..]
            .iter()
            .find(|t| t.token != Token::SqlComment as i32 && t.token != Token::CComment as i32)
            .map(|t| t.start as usize)
            .ok_or_else(|| bad("tenet:renamed-from is not followed by a CREATE TABLE"))?;
        let (span_start, span_end) = spans
            .iter()
            .copied()
            .find(|(s, e)| *s <= next && next < *e)
            .ok_or_else(|| bad("tenet:renamed-from is not followed by a CREATE TABLE"))?;
        let statement = &sql[span_start..span_end];
        let not_here = || {
            bad("tenet:renamed-from must come right before CREATE TABLE or one of its column definitions")
        };
        let parsed =
            pg_query::parse(statement, pg_query::ParserOptions::DEFAULT).map_err(|_| not_here())?;
        let create = parsed
            .protobuf
            .stmts
            .first()
            .and_then(|s| s.stmt.as_ref())
            .and_then(|s| s.node.as_ref())
            .and_then(|n| match n {
                N::CreateStmt(c) => Some(c),
                _ => None,
            })
            .ok_or_else(not_here)?;
        let relation = create.relation.as_ref().ok_or_else(not_here)?;
        let table = resolve_table(catalog, &relation.schemaname, &relation.relname)
            .ok_or_else(|| bad(&format!("table {} is not in the schema", relation.relname)))?;
        if next == span_start + skip_blank(statement) {
            let from = match old {
                (Some(schema), name) if schema == table.schema => name,
                (None, name) => name,
                (Some(_), _) => return Err(bad("a renamed table stays in its schema")),
            };
            out.push(Rename {
                table,
                column: None,
                from,
            });
            continue;
        }
        let column = create
            .table_elts
            .iter()
            .filter_map(|e| match e.node.as_ref() {
                Some(N::ColumnDef(c)) => Some(c),
                _ => None,
            })
            .find(|c| span_start + c.location.max(0) as usize == next)
            .ok_or_else(not_here)?;
        let (None, from) = old else {
            return Err(bad("the old name of a column is a bare name"));
        };
        out.push(Rename {
            table,
            column: Some(column.colname.clone()),
            from,
        });
    }
    Ok(out)
}

/// The table a `CREATE TABLE` made: in its schema when named, else in `public` or the one
/// schema holding a table of that name.
fn resolve_table(catalog: &Catalog, schema: &str, name: &str) -> Option<QualifiedName> {
    let matches: Vec<&str> = catalog
        .tables
        .iter()
        .filter(|t| t.name == name && (schema.is_empty() || t.schema == schema))
        .map(|t| t.schema.as_str())
        .collect();
    let schema = match matches.as_slice() {
        [one] => *one,
        several if several.contains(&"public") => "public",
        _ => return None,
    };
    Some(QualifiedName::new(schema, name))
}

/// `name`, `"Name"` or `schema.name` as PostgreSQL reads it (unquoted folds to lower case).
fn parse_name(text: &str) -> Option<(Option<String>, String)> {
    let mut parts = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    '"' => break,
                    c => part.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_alphanumeric() || c == '_' || c == '$' {
                    part.push(c.to_ascii_lowercase());
                    chars.next();
                } else {
                    break;
                }
            }
        }
        if part.is_empty() {
            return None;
        }
        parts.push(part);
        match chars.next() {
            Some('.') => continue,
            None => break,
            Some(c) if c.is_whitespace() => break,
            Some(_) => return None,
        }
    }
    match parts.len() {
        1 => Some((None, parts.pop()?)),
        2 => {
            let name = parts.pop()?;
            Some((parts.pop(), name))
        }
        _ => None,
    }
}

/// `file:line:column` of a byte offset.
fn position(file: &Path, sql: &str, offset: usize) -> String {
    let before = &sql[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = sql[line_start..offset].chars().count() + 1;
    format!("{}:{line}:{column}", file.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Table;

    fn table(schema: &str, name: &str, columns: &[&str]) -> Table {
        let json = serde_json::json!({"schema": schema, "name": name, "owner": "o",
            "columns": columns.iter().map(|c| serde_json::json!({"name": c, "type": "integer"})).collect::<Vec<_>>()});
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn table_and_column_hints() {
        let catalog = Catalog {
            tables: vec![table("public", "community_tag", &["id", "label"])],
            ..Catalog::default()
        };
        let sql = "-- tenet:renamed-from tag\ncreate table community_tag (\n  id int,\n  -- tenet:renamed-from \"Name\"\n  label text\n);";
        let renames = renames_in(&catalog, Path::new("s.sql"), sql).unwrap();
        let t = QualifiedName::new("public", "community_tag");
        assert_eq!(
            renames,
            vec![
                Rename {
                    table: t.clone(),
                    column: None,
                    from: "tag".into()
                },
                Rename {
                    table: t,
                    column: Some("label".into()),
                    from: "Name".into()
                },
            ]
        );
    }

    #[test]
    fn misplaced_hint_is_an_error_with_its_position() {
        let catalog = Catalog {
            tables: vec![table("public", "t", &["id"])],
            ..Catalog::default()
        };
        let sql = "create table t (id int);\n-- tenet:renamed-from old\ncreate index on t (id);";
        let err = renames_in(&catalog, Path::new("s.sql"), sql)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("s.sql:2:1: tenet:renamed-from must come right before CREATE TABLE"),
            "{err}"
        );
        let err = renames_in(
            &catalog,
            Path::new("s.sql"),
            "-- tenet:renamed-from\ncreate table t (id int);",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("needs the old name"), "{err}");
    }
}
