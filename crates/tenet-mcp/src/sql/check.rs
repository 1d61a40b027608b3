//! What `execute_sql` agrees to run, judged on the PostgreSQL grammar (pg_query), never on text.
//!
//! Exactly one statement. Read-only mode (the default) takes queries only: SELECT (without
//! SELECT INTO, FOR UPDATE/SHARE or a data-modifying WITH), VALUES, TABLE, EXPLAIN (ANALYZE only
//! of such a query: it runs it) and SHOW; and refuses direct calls of functions that reach the
//! server (files, programs, other sessions, settings, large objects, locks, SQL given as text).
//! This is the first of three locks: the statement also runs in a READ ONLY transaction that
//! is always rolled back, as a role that cannot reach the server (see `run.rs`).

use serde_json::Value;

/// How the statement is run and its rows read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A query (SELECT, VALUES, TABLE): wrapped so the server renders its rows as JSON.
    Query,
    /// A statement returning RETURNING rows (INSERT/UPDATE/DELETE/MERGE, with --allow-write):
    /// wrapped in a WITH so the server renders them as JSON.
    Returning,
    /// EXPLAIN or SHOW: run as is; their columns are text or JSON.
    Utility,
    /// Anything else (with --allow-write): run, and the rows it affected counted.
    Command,
}

/// A statement `execute_sql` agreed to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub kind: Kind,
    /// The statement's own text, without the trailing semicolon or anything around it.
    pub text: String,
}

/// Functions refused by name in read-only mode: they read or write server files, run
/// programs, signal or lock other sessions, change settings, write large objects or
/// sequences, run SQL given as text, or control the server. Prefixes end with `_`.
const DENIED_FUNCTIONS: &[&str] = &[
    "set_config",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_rotate_logfile_old",
    "pg_switch_wal",
    "pg_switch_xlog",
    "pg_create_restore_point",
    "pg_promote",
    "pg_backup_start",
    "pg_backup_stop",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_notify",
    "nextval",
    "setval",
    "pg_import_system_collations",
    "pg_log_backend_memory_contexts",
    "pg_wal_replay_pause",
    "pg_wal_replay_resume",
    "pg_stat_file",
    "pg_drop_replication_slot",
    "query_to_xml",
    "query_to_xmlschema",
    "query_to_xml_and_xmlschema",
    "cursor_to_xml",
    "cursor_to_xmlschema",
    "ts_stat",
    "ts_rewrite",
    "loread",
    "lowrite",
    "pg_read_",
    "pg_ls_",
    "pg_file_",
    "pg_logdir_",
    "lo_",
    "dblink",
    "pg_advisory_",
    "pg_try_advisory_",
    "pg_stat_reset",
    "pg_stat_statements_reset",
    "pg_create_",
    "pg_copy_",
    "pg_replication_",
    "pg_logical_",
];

/// Catalogs holding credentials (password hashes, user mapping options).
const DENIED_RELATIONS: &[&str] = &["pg_authid", "pg_shadow", "pg_user_mapping"];

fn denied_function(name: &str) -> bool {
    DENIED_FUNCTIONS.iter().any(|d| {
        if d.ends_with('_') || *d == "dblink" || *d == "pg_stat_reset" {
            name.starts_with(d)
        } else {
            name == *d
        }
    })
}

/// Check `sql`; `allow_write` lifts everything but "exactly one statement" and transaction
/// control.
pub fn check(sql: &str, allow_write: bool) -> Result<Checked, String> {
    let parsed = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT)
        .map_err(|e| format!("execute_sql: the SQL does not parse: {e}"))?;
    let stmts = &parsed.protobuf.stmts;
    let raw = match stmts.as_slice() {
        [one] => one,
        [] => return Err("execute_sql: no statement given".into()),
        many => {
            return Err(format!(
                "execute_sql runs exactly one statement; this text has {}: send them one call at a time",
                many.len()
            ))
        }
    };
    let text = statement_text(sql, raw.stmt_location, raw.stmt_len);
    let node = raw
        .stmt
        .as_ref()
        .and_then(|n| n.node.as_ref())
        .ok_or("execute_sql: empty statement")?;
    let tree = serde_json::to_value(node).map_err(|e| e.to_string())?;
    let facts = Facts::of(&tree);
    let keyword = first_keyword(&text);
    use pg_query::NodeEnum as N;
    if matches!(node, N::TransactionStmt(_)) {
        return Err(format!(
            "execute_sql runs each statement in a transaction of its own: {keyword} is refused"
        ));
    }
    let kind = match node {
        N::SelectStmt(_) if facts.writes.is_empty() && !facts.into => Kind::Query,
        N::ExplainStmt(_) | N::VariableShowStmt(_) => Kind::Utility,
        N::InsertStmt(s) if returns(&s.returning_clause) => Kind::Returning,
        N::UpdateStmt(s) if returns(&s.returning_clause) => Kind::Returning,
        N::DeleteStmt(s) if returns(&s.returning_clause) => Kind::Returning,
        N::MergeStmt(s) if returns(&s.returning_clause) => Kind::Returning,
        _ => Kind::Command,
    };
    if allow_write {
        return Ok(Checked { kind, text });
    }
    read_only(node, &facts, &keyword)?;
    Ok(Checked { kind, text })
}

fn returns(clause: &Option<pg_query::protobuf::ReturningClause>) -> bool {
    clause.as_ref().is_some_and(|c| !c.exprs.is_empty())
}

/// The read-only rules.
fn read_only(node: &pg_query::NodeEnum, facts: &Facts, keyword: &str) -> Result<(), String> {
    use pg_query::NodeEnum as N;
    let analyze = match node {
        N::SelectStmt(_) => true,
        N::VariableShowStmt(_) => false,
        N::ExplainStmt(e) => e.options.iter().any(|o| match o.node.as_ref() {
            Some(N::DefElem(d)) => d.defname == "analyze" && !is_false(d.arg.as_deref()),
            _ => false,
        }),
        _ => {
            return Err(format!(
                "execute_sql is read-only: it runs SELECT, VALUES, TABLE, EXPLAIN and SHOW, not {keyword}; \
                 start `tenet mcp` with --allow-write to run other statements"
            ))
        }
    };
    // What runs (a query, or the statement EXPLAIN ANALYZE executes) must not write.
    if let N::ExplainStmt(e) = node {
        let inner = e.query.as_ref().and_then(|q| q.node.as_ref());
        if analyze && !matches!(inner, Some(N::SelectStmt(_))) {
            return Err(
                "execute_sql is read-only: EXPLAIN ANALYZE runs the statement; it is allowed for queries only"
                    .into(),
            );
        }
    }
    if analyze {
        if let Some(write) = facts.writes.first() {
            let what = if matches!(node, N::ExplainStmt(_)) {
                format!("EXPLAIN ANALYZE runs the statement, and it contains {write}")
            } else {
                format!("the query contains {write} (a data-modifying WITH)")
            };
            return Err(format!("execute_sql is read-only: {what}"));
        }
        if facts.into {
            return Err("execute_sql is read-only: SELECT INTO creates a table".into());
        }
    }
    if facts.locking {
        return Err(
            "execute_sql is read-only: FOR UPDATE/SHARE locks rows; drop the locking clause".into(),
        );
    }
    if let Some(f) = &facts.denied_function {
        return Err(format!(
            "execute_sql is read-only: {f}() reaches the server beyond reading data (files, programs, \
             sessions, settings, large objects, locks or SQL given as text); start `tenet mcp` with \
             --allow-write to call it"
        ));
    }
    if let Some(r) = &facts.denied_relation {
        return Err(format!(
            "execute_sql does not read {r}: it holds credentials"
        ));
    }
    Ok(())
}

fn is_false(arg: Option<&pg_query::protobuf::Node>) -> bool {
    use pg_query::NodeEnum as N;
    let Some(node) = arg.and_then(|a| a.node.as_ref()) else {
        return false;
    };
    let text = match node {
        N::String(s) => s.sval.to_lowercase(),
        N::AConst(c) => match &c.val {
            Some(pg_query::protobuf::a_const::Val::Boolval(b)) => return !b.boolval,
            Some(pg_query::protobuf::a_const::Val::Ival(i)) => return i.ival == 0,
            Some(pg_query::protobuf::a_const::Val::Sval(s)) => s.sval.to_lowercase(),
            _ => return false,
        },
        N::Boolean(b) => return !b.boolval,
        N::Integer(i) => return i.ival == 0,
        _ => return false,
    };
    matches!(text.as_str(), "false" | "off" | "no" | "0")
}

/// What the tree holds, found by walking its JSON form (every node kind, so nothing hides in
/// an unusual construct).
#[derive(Debug, Default)]
struct Facts {
    /// Data-modifying statements anywhere (INSERT, UPDATE, DELETE, MERGE).
    writes: Vec<&'static str>,
    /// SELECT INTO.
    into: bool,
    /// FOR UPDATE / FOR SHARE ...
    locking: bool,
    denied_function: Option<String>,
    denied_relation: Option<String>,
}

impl Facts {
    fn of(tree: &Value) -> Facts {
        let mut facts = Facts::default();
        facts.walk(tree);
        facts
    }

    fn walk(&mut self, v: &Value) {
        match v {
            Value::Object(map) => {
                for (key, child) in map {
                    match key.as_str() {
                        "InsertStmt" => self.writes.push("INSERT"),
                        "UpdateStmt" => self.writes.push("UPDATE"),
                        "DeleteStmt" => self.writes.push("DELETE"),
                        "MergeStmt" => self.writes.push("MERGE"),
                        "into_clause" if !child.is_null() => self.into = true,
                        "locking_clause" => {
                            self.locking |= child.as_array().is_some_and(|a| !a.is_empty())
                        }
                        "FuncCall" => {
                            let name = child
                                .get("funcname")
                                .and_then(Value::as_array)
                                .and_then(|a| a.last())
                                .and_then(|n| n.pointer("/node/String/sval"))
                                .and_then(Value::as_str)
                                .unwrap_or_default();
                            if self.denied_function.is_none() && denied_function(name) {
                                self.denied_function = Some(name.to_string());
                            }
                        }
                        "RangeVar" => {
                            let name = child.get("relname").and_then(Value::as_str);
                            if let Some(name) = name.filter(|n| DENIED_RELATIONS.contains(n)) {
                                self.denied_relation.get_or_insert(name.to_string());
                            }
                        }
                        _ => {}
                    }
                    self.walk(child);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| self.walk(i)),
            _ => {}
        }
    }
}

/// The statement's bytes in `sql` (pg_query gives byte offsets; 0 length: to the end).
fn statement_text(sql: &str, location: i32, len: i32) -> String {
    let start = (location.max(0) as usize).min(sql.len());
    let end = if len <= 0 {
        sql.len()
    } else {
        (start + len as usize).min(sql.len())
    };
    sql.get(start..end).unwrap_or(sql).trim().to_string()
}

/// The statement's first keyword, for messages (`DELETE`, `COPY`).
fn first_keyword(text: &str) -> String {
    pg_query::scan(text)
        .ok()
        .and_then(|s| {
            s.tokens
                .iter()
                .find(|t| t.keyword_kind != 0)
                .and_then(|t| text.get(t.start as usize..t.end as usize))
                .map(str::to_uppercase)
        })
        .unwrap_or_else(|| "this statement".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(sql: &str) -> String {
        check(sql, false).expect_err(sql)
    }

    #[test]
    fn queries_pass() {
        for sql in [
            "select 1",
            "select * from t where a = 1;",
            "values (1), (2)",
            "table t",
            "with x as (select 1) select * from x",
            "explain select 1",
            "explain (analyze, buffers) select * from t",
            "explain delete from t",
            "explain (analyze false) delete from t",
            "show work_mem",
            "show all",
            "select 1 -- trailing comment",
        ] {
            check(sql, false).unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        assert_eq!(check("values (1)", false).unwrap().kind, Kind::Query);
        assert_eq!(check("show all", false).unwrap().kind, Kind::Utility);
        assert_eq!(check(" select 1 ; ", false).unwrap().text, "select 1");
    }

    #[test]
    fn more_than_one_statement_is_refused() {
        for sql in [
            "commit; drop table t",
            "rollback; create table x (a int)",
            "end; insert into t values (1)",
            "select 1; select 2",
        ] {
            assert!(refused(sql).contains("exactly one statement"), "{sql}");
        }
    }

    #[test]
    fn writes_and_session_changes_are_refused() {
        for (sql, says) in [
            ("delete from t", "not DELETE"),
            ("copy (select 1) to program 'id'", "not COPY"),
            ("set work_mem = '1GB'", "not SET"),
            ("do $$ begin end $$", "not DO"),
            ("create table x (a int)", "not CREATE"),
            ("commit", "COMMIT is refused"),
            (
                "with d as (delete from t returning *) select * from d",
                "DELETE",
            ),
            ("select * into x from t", "SELECT INTO"),
            ("select * from t for update", "FOR UPDATE"),
            ("select * from (select * from t for share) s", "FOR UPDATE"),
            ("explain analyze delete from t", "EXPLAIN ANALYZE"),
            (
                "explain (analyze on) insert into t values (1)",
                "EXPLAIN ANALYZE",
            ),
            ("select pg_read_file('/etc/passwd')", "pg_read_file()"),
            ("select pg_catalog.lo_import('/etc/passwd')", "lo_import()"),
            ("select lo_from_bytea(0, 'x')", "lo_from_bytea()"),
            ("select pg_terminate_backend(1)", "pg_terminate_backend()"),
            (
                "select set_config('role', 'postgres', true)",
                "set_config()",
            ),
            (
                "select query_to_xml('delete from t', true, false, '')",
                "query_to_xml()",
            ),
            ("select * from dblink('x', 'y') as t(a int)", "dblink()"),
            (
                "select coalesce(null, pg_advisory_lock(1)::text)",
                "pg_advisory_lock()",
            ),
            ("select rolpassword from pg_catalog.pg_authid", "pg_authid"),
        ] {
            let e = refused(sql);
            assert!(e.contains(says), "{sql}: {e}");
        }
    }

    #[test]
    fn allow_write_still_takes_one_statement_without_transaction_control() {
        assert_eq!(check("delete from t", true).unwrap().kind, Kind::Command);
        assert_eq!(
            check("delete from t returning id", true).unwrap().kind,
            Kind::Returning
        );
        assert!(check("commit; drop table t", true).is_err());
        assert!(check("rollback", true).is_err());
    }
}
