//! A migration split into the units apply runs and records one at a time.
//!
//! Most of a migration runs in one transaction with its history row. A statement PostgreSQL
//! refuses inside a transaction block (`CREATE INDEX CONCURRENTLY`, `VACUUM`, ...) runs alone
//! between transactions, and `ALTER TYPE ... ADD VALUE` gets a transaction of its own because
//! the new value cannot be used before it commits. After each unit the history row says how
//! many units are done, so a rerun after a crash resumes at the first unit not done.

use pg_query::NodeEnum;

use crate::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Byte ranges of the statements, in the migration's text.
    pub statements: Vec<(usize, usize)>,
    /// False for a single statement that must run outside any transaction block.
    pub transactional: bool,
    /// For a `CREATE INDEX CONCURRENTLY`: the index and its table, so a rerun can tell a
    /// finished build from one that was interrupted and left an invalid index behind.
    pub concurrent_index: Option<ConcurrentIndex>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcurrentIndex {
    /// The table as written (`schema.table` or `table`).
    pub table: String,
    pub index: String,
}

/// How one statement must run.
enum Kind {
    /// With its neighbours, in one transaction.
    Transactional,
    /// In a transaction of its own, committed before what follows.
    OwnTransaction,
    /// Outside any transaction block.
    Alone(Option<ConcurrentIndex>),
}

/// Split `sql` (the text of `file`, for messages) into segments. Transaction control
/// (`BEGIN`, `COMMIT`, ...) is refused: Tenet owns the transactions. Text the PostgreSQL
/// grammar rejects is one segment, so PostgreSQL's own error (with its position) is reported
/// when it runs.
pub fn split(file: &str, sql: &str) -> Result<Vec<Segment>, Error> {
    let parsed = match pg_query::parse(sql, pg_query::ParserOptions::DEFAULT) {
        Ok(parsed) => parsed,
        Err(_) => {
            return Ok(vec![Segment {
                statements: vec![(0, sql.len())],
                transactional: true,
                concurrent_index: None,
            }])
        }
    };
    let mut segments: Vec<Segment> = Vec::new();
    let mut open: Vec<(usize, usize)> = Vec::new();
    for raw in &parsed.protobuf.stmts {
        let start = (raw.stmt_location.max(0) as usize).min(sql.len());
        let end = if raw.stmt_len > 0 {
            (start + raw.stmt_len as usize).min(sql.len())
        } else {
            sql.len()
        };
        let node = raw.stmt.as_ref().and_then(|n| n.node.as_ref());
        if let Some(NodeEnum::TransactionStmt(_)) = node {
            let (line, column) = line_column(
                sql,
                start + tenet_catalog::source::skip_blank(&sql[start..end]),
            );
            return Err(Error::Invalid(format!(
                "{file}:{line}:{column}: transaction control in a migration; remove it: Tenet \
                 runs each migration in its own transaction (and statements that cannot run in \
                 one, such as CREATE INDEX CONCURRENTLY, outside it)"
            )));
        }
        let close = |open: &mut Vec<(usize, usize)>, segments: &mut Vec<Segment>| {
            if !open.is_empty() {
                segments.push(Segment {
                    statements: std::mem::take(open),
                    transactional: true,
                    concurrent_index: None,
                });
            }
        };
        match kind(node) {
            Kind::Transactional => open.push((start, end)),
            Kind::OwnTransaction => {
                close(&mut open, &mut segments);
                open.push((start, end));
                close(&mut open, &mut segments);
            }
            Kind::Alone(concurrent_index) => {
                close(&mut open, &mut segments);
                segments.push(Segment {
                    statements: vec![(start, end)],
                    transactional: false,
                    concurrent_index,
                });
            }
        }
    }
    if !open.is_empty() {
        segments.push(Segment {
            statements: open,
            transactional: true,
            concurrent_index: None,
        });
    }
    Ok(segments)
}

fn kind(node: Option<&NodeEnum>) -> Kind {
    match node {
        Some(NodeEnum::IndexStmt(index)) if index.concurrent => {
            let table = index.relation.as_ref().map(|r| {
                if r.schemaname.is_empty() {
                    quote(&r.relname)
                } else {
                    format!("{}.{}", quote(&r.schemaname), quote(&r.relname))
                }
            });
            Kind::Alone(table.and_then(|table| {
                (!index.idxname.is_empty()).then(|| ConcurrentIndex {
                    table,
                    index: index.idxname.clone(),
                })
            }))
        }
        Some(NodeEnum::DropStmt(drop)) if drop.concurrent => Kind::Alone(None),
        Some(NodeEnum::ReindexStmt(reindex)) if has_option(&reindex.params, "concurrently") => {
            Kind::Alone(None)
        }
        Some(NodeEnum::VacuumStmt(vacuum)) if vacuum.is_vacuumcmd => Kind::Alone(None),
        Some(
            NodeEnum::CreatedbStmt(_)
            | NodeEnum::DropdbStmt(_)
            | NodeEnum::AlterSystemStmt(_)
            | NodeEnum::CreateTableSpaceStmt(_)
            | NodeEnum::DropTableSpaceStmt(_),
        ) => Kind::Alone(None),
        // ADD VALUE (an empty old_val; RENAME VALUE sets it).
        Some(NodeEnum::AlterEnumStmt(alter)) if alter.old_val.is_empty() => Kind::OwnTransaction,
        _ => Kind::Transactional,
    }
}

fn has_option(params: &[pg_query::protobuf::Node], name: &str) -> bool {
    params.iter().any(|p| match &p.node {
        Some(NodeEnum::DefElem(d)) => d.defname == name,
        _ => false,
    })
}

/// The `SET` statements (session settings such as `lock_timeout`) among `statements`, so a
/// resumed migration runs with the settings its earlier segments made.
pub fn session_settings(sql: &str, segments: &[Segment]) -> Vec<String> {
    segments
        .iter()
        .flat_map(|s| &s.statements)
        .map(|&(start, end)| &sql[start..end])
        .filter(|text| {
            matches!(
                pg_query::parse(text, pg_query::ParserOptions::DEFAULT)
                    .ok()
                    .and_then(|p| p.protobuf.stmts.first().cloned())
                    .and_then(|s| s.stmt)
                    .and_then(|s| s.node),
                Some(NodeEnum::VariableSetStmt(ref set)) if !set.is_local
            )
        })
        .map(str::to_string)
        .collect()
}

fn quote(ident: &str) -> String {
    tenet_catalog::quote::ident(ident)
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(sql: &str, offset: usize) -> (usize, usize) {
    let before = &sql[..offset.min(sql.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<(Vec<String>, bool)> {
        split("m.up.sql", sql)
            .unwrap()
            .into_iter()
            .map(|s| {
                let texts = s
                    .statements
                    .iter()
                    .map(|&(a, b)| sql[a..b].trim().to_string())
                    .collect();
                (texts, s.transactional)
            })
            .collect()
    }

    #[test]
    fn concurrent_statements_run_alone() {
        let sql = "SET lock_timeout = '5s';\ncreate table t (x int);\ncreate index concurrently t_x on t (x);\nalter table t add column y int;\nalter type e add value 'b';\nselect 1;";
        assert_eq!(
            texts(sql),
            vec![
                (
                    vec![
                        "SET lock_timeout = '5s'".into(),
                        "create table t (x int)".into()
                    ],
                    true
                ),
                (vec!["create index concurrently t_x on t (x)".into()], false),
                (vec!["alter table t add column y int".into()], true),
                (vec!["alter type e add value 'b'".into()], true),
                (vec!["select 1".into()], true),
            ]
        );
        let segments = split("m", sql).unwrap();
        assert_eq!(
            segments[1].concurrent_index,
            Some(ConcurrentIndex {
                table: "t".into(),
                index: "t_x".into()
            })
        );
        assert_eq!(
            session_settings(sql, &segments[..1]),
            vec!["SET lock_timeout = '5s'".to_string()]
        );
    }

    #[test]
    fn transaction_control_is_refused_with_its_position() {
        let err = split("m.up.sql", "-- x\ncreate table t ();\n  BEGIN;\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("m.up.sql:3:3: transaction control"),
            "{err}"
        );
    }
}
