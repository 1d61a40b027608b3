//! A migration split into the units apply runs and records one at a time.
//!
//! Most of a migration runs in one transaction with its history row. A statement PostgreSQL
//! refuses inside a transaction block (`CREATE INDEX CONCURRENTLY`, `VACUUM`, ...) runs alone
//! between transactions. `ALTER TYPE ... ADD VALUE` gets a transaction of its own because the
//! new value cannot be used before it commits, and so does `VALIDATE CONSTRAINT`: the `NOT
//! VALID` constraint before it must commit first, or the validation's scan would run under the
//! ACCESS EXCLUSIVE lock the constraint was added with, blocking every write. A file whose first
//! line is `-- tenet:no-transaction` runs every statement alone. After each unit the history row
//! says how many units are done, so a rerun after a crash resumes at the first unit not done.
//! tenet-lint's `txn.rs` states the same rules; keep the two in step.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;
use tenet_catalog::statements::Item;

use crate::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Byte ranges of the statements, in the migration's text.
    pub statements: Vec<(usize, usize)>,
    /// False for a single statement that must run outside any transaction block.
    pub transactional: bool,
    /// For a statement that runs alone and may be cut off between its effect and its history
    /// row: what it leaves behind, so a rerun can tell whether it already happened.
    pub effect: Option<Effect>,
}

/// What a non-transactional index statement leaves behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// `CREATE INDEX CONCURRENTLY`: a valid index of this name on the table (as written,
    /// `schema.table` or `table`). An invalid one is an interrupted build.
    IndexBuilt { table: String, index: String },
    /// `DROP INDEX CONCURRENTLY`: the index (as written) no longer exists.
    IndexDropped { index: String },
}

/// How one statement must run.
enum Kind {
    /// With its neighbours, in one transaction.
    Transactional,
    /// In a transaction of its own, committed before what follows.
    OwnTransaction,
    /// Outside any transaction block.
    Alone(Option<Effect>),
}

/// Split `sql` (the text of `file`, for messages) into segments. Text the PostgreSQL grammar
/// rejects, and transaction control (`BEGIN`, `COMMIT`, ...: Tenet owns the transactions), are
/// refused with their position, before anything runs. The file is parsed a chunk at a time
/// (`tenet_catalog::statements`), so memory follows the largest statement, not the file.
pub fn split(file: &str, sql: &str) -> Result<Vec<Segment>, Error> {
    let alone = tenet_catalog::migrations::no_transaction(sql);
    let mut segments: Vec<Segment> = Vec::new();
    let mut open: Vec<(usize, usize)> = Vec::new();
    let close = |open: &mut Vec<(usize, usize)>, segments: &mut Vec<Segment>| {
        if !open.is_empty() {
            segments.push(Segment {
                statements: std::mem::take(open),
                transactional: true,
                effect: None,
            });
        }
    };
    let mut refused = None;
    let refuse = |at: usize, message: String| {
        let (line, column) = line_column(sql, at + tenet_catalog::source::skip_blank(&sql[at..]));
        Error::Invalid(format!("{file}:{line}:{column}: {message}"))
    };
    tenet_catalog::statements::for_each(sql, &mut |item| {
        let ((start, end), node) = match item {
            Item::Parsed { raw, span, .. } => {
                (span, raw.stmt.as_ref().and_then(|n| n.node.as_ref()))
            }
            Item::Invalid { span, message } => {
                refused = Some(refuse(
                    span.0,
                    format!("{message} (the migration does not parse; nothing was applied)"),
                ));
                return false;
            }
        };
        if let Some(NodeEnum::TransactionStmt(_)) = node {
            refused = Some(refuse(
                start,
                format!(
                    "transaction control in a migration; remove it: Tenet runs each migration \
                     in its own transaction (and statements that cannot run in one, such as \
                     CREATE INDEX CONCURRENTLY, outside it). A file that must manage its own \
                     transactions starts with the line `{}`",
                    tenet_catalog::migrations::NO_TRANSACTION
                ),
            ));
            return false;
        }
        match kind(node) {
            Kind::Alone(effect) => {
                close(&mut open, &mut segments);
                segments.push(Segment {
                    statements: vec![(start, end)],
                    transactional: false,
                    effect,
                });
            }
            _ if alone => segments.push(Segment {
                statements: vec![(start, end)],
                transactional: false,
                effect: None,
            }),
            Kind::Transactional => open.push((start, end)),
            Kind::OwnTransaction => {
                close(&mut open, &mut segments);
                open.push((start, end));
                close(&mut open, &mut segments);
            }
        }
        true
    });
    if let Some(refused) = refused {
        return Err(refused);
    }
    close(&mut open, &mut segments);
    Ok(segments)
}

fn kind(node: Option<&NodeEnum>) -> Kind {
    match node {
        Some(NodeEnum::IndexStmt(index)) if index.concurrent => {
            let table = index
                .relation
                .as_ref()
                .map(|r| qualified(&r.schemaname, &r.relname));
            Kind::Alone(table.and_then(|table| {
                (!index.idxname.is_empty()).then(|| Effect::IndexBuilt {
                    table,
                    index: index.idxname.clone(),
                })
            }))
        }
        Some(NodeEnum::DropStmt(drop)) if drop.concurrent => Kind::Alone(dropped_index(drop)),
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
        Some(NodeEnum::AlterTableStmt(alter)) if validates(alter) => Kind::OwnTransaction,
        _ => Kind::Transactional,
    }
}

/// Whether an ALTER TABLE validates a constraint (its scan must not run under the lock of
/// whatever came before it in the file).
fn validates(alter: &pg_query::protobuf::AlterTableStmt) -> bool {
    alter.cmds.iter().any(|c| {
        matches!(&c.node, Some(NodeEnum::AlterTableCmd(cmd))
            if cmd.subtype == AlterTableType::AtValidateConstraint as i32)
    })
}

/// `DROP INDEX CONCURRENTLY name` (one index: PostgreSQL allows no more): the name as written.
fn dropped_index(drop: &pg_query::protobuf::DropStmt) -> Option<Effect> {
    let [object] = drop.objects.as_slice() else {
        return None;
    };
    let Some(NodeEnum::List(list)) = &object.node else {
        return None;
    };
    let parts: Vec<&str> = list
        .items
        .iter()
        .filter_map(|i| match &i.node {
            Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
            _ => None,
        })
        .collect();
    let index = match parts.as_slice() {
        [name] => quote(name),
        [schema, name] => qualified(schema, name),
        _ => return None,
    };
    Some(Effect::IndexDropped { index })
}

fn qualified(schema: &str, name: &str) -> String {
    if schema.is_empty() {
        quote(name)
    } else {
        format!("{}.{}", quote(schema), quote(name))
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
    session_sets(sql, segments)
        .map(|(_, _, text)| text.to_string())
        .collect()
}

/// Where the file sets `lock_timeout` itself (a session `SET`), if it does: that value wins
/// over the one apply was given.
pub fn sets_lock_timeout(sql: &str, segments: &[Segment]) -> Option<usize> {
    session_sets(sql, segments)
        .find(|(name, _, _)| name.eq_ignore_ascii_case("lock_timeout"))
        .map(|(_, start, text)| start + tenet_catalog::source::skip_blank(text))
}

/// Session `SET` statements: (setting name, start offset, text).
fn session_sets<'a>(
    sql: &'a str,
    segments: &'a [Segment],
) -> impl Iterator<Item = (String, usize, &'a str)> + 'a {
    segments
        .iter()
        .flat_map(|s| &s.statements)
        .filter_map(move |&(start, end)| {
            let text = &sql[start..end];
            // Only a SET is worth parsing again (a data migration has many statements).
            let code = &text[tenet_catalog::source::skip_blank(text)..];
            if !code.get(..3).is_some_and(|w| w.eq_ignore_ascii_case("set")) {
                return None;
            }
            let node = pg_query::parse(text, pg_query::ParserOptions::DEFAULT)
                .ok()?
                .protobuf
                .stmts
                .first()?
                .stmt
                .clone()?
                .node?;
            match node {
                NodeEnum::VariableSetStmt(set) if !set.is_local => Some((set.name, start, text)),
                _ => None,
            }
        })
}

fn quote(ident: &str) -> String {
    tenet_catalog::quote::ident(ident)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(sql: &str, offset: usize) -> (usize, usize) {
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
            segments[1].effect,
            Some(Effect::IndexBuilt {
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

    #[test]
    fn validation_commits_apart_from_the_not_valid_constraint() {
        let sql = "alter table t add constraint c check (x > 0) not valid;\nalter table t validate constraint c;\nalter table t alter column x set not null;\nalter table t drop constraint c;";
        assert_eq!(
            texts(sql),
            vec![
                (
                    vec!["alter table t add constraint c check (x > 0) not valid".into()],
                    true
                ),
                (vec!["alter table t validate constraint c".into()], true),
                (
                    vec![
                        "alter table t alter column x set not null".into(),
                        "alter table t drop constraint c".into()
                    ],
                    true
                ),
            ]
        );
    }

    #[test]
    fn no_transaction_runs_every_statement_alone() {
        let sql = "-- tenet:no-transaction\ncreate table t (x int);\ndo $$ begin commit; end $$;\ndrop index concurrently s.i;";
        assert_eq!(
            texts(sql),
            vec![
                (vec!["create table t (x int)".into()], false),
                (vec!["do $$ begin commit; end $$".into()], false),
                (vec!["drop index concurrently s.i".into()], false),
            ]
        );
        assert_eq!(
            split("m", sql).unwrap()[2].effect,
            Some(Effect::IndexDropped {
                index: "s.i".into()
            })
        );
    }

    #[test]
    fn a_file_that_does_not_parse_is_refused_with_its_position() {
        let err = split(
            "m.up.sql",
            "create table t (x int);\n\n  create tabel u ();\n",
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("m.up.sql:3:3: syntax error"),
            "{err}"
        );
    }
}
