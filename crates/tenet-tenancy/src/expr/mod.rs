//! Policy expressions, read with PostgreSQL's own grammar (`pg_query`), never matched as text.
//!
//! The question asked of a `USING` or `WITH CHECK` expression is: does every row it admits have
//! the tenant column equal to the tenant setting, with no way in when the setting is missing or
//! empty? The answer is computed over the parse tree:
//!
//! - `col = <setting>` (either side, casts allowed, `IN (<setting>)` too) restricts;
//! - `a AND b` restricts when either side does; `a OR b` only when both do;
//! - `CASE` and `COALESCE` restrict when every branch does (a missing `ELSE` is NULL: no row);
//! - `false` and `NULL` restrict (they admit nothing); anything else does not.
//!
//! A *setting* is `current_setting('<setting>'[, missing_ok])`, optionally wrapped in casts,
//! `NULLIF(.., '')`, `COALESCE` with only NULL or setting fallbacks, a scalar sub-select
//! `(SELECT ...)` without `FROM`, or a call of a zero-argument SQL function whose body is such an
//! expression. A fallback to anything else (`COALESCE(setting, tenant_id)`) opens the policy when
//! the setting is missing. An expression that does not restrict as written but would if the
//! setting were always present and non-empty "fails open": it has an escape hatch for a missing
//! or empty setting (`OR current_setting(..) IS NULL`, `CASE WHEN current_setting(..) = '' ...`).

use std::collections::BTreeMap;

use pg_query::protobuf::{self as pb, a_const};
use pg_query::NodeEnum;
use serde_json::Value;

/// What the analysis needs to know about the tenancy model.
#[derive(Debug, Clone)]
pub struct ExprContext {
    /// The tenant column.
    pub column: String,
    /// The setting holding the current tenant.
    pub setting: String,
    /// Whether the tenant column has a text-like type: an empty setting then compares equal to
    /// an empty tenant value instead of failing the cast.
    pub text_column: bool,
    /// Zero-argument SQL functions, keyed by name and by `schema.name`, with the expression
    /// their body returns (`SELECT <expr>` or `RETURN <expr>`).
    pub helpers: BTreeMap<String, String>,
    /// Whether `column = <setting>` restricts: false where the setting names a user and rows
    /// belong to tenants the user reaches only through a membership table.
    pub direct: bool,
    /// Other settings filled from the same verified source (Supabase: `request.jwt.claim.sub`).
    pub settings: Vec<String>,
    /// Settings that hold JSON claims: a value only through `->> 'key'`, never bare or cast.
    pub json_settings: Vec<String>,
    /// Sub-selects that restrict: `outer IN (SELECT key FROM table WHERE <restricts in inner>)`
    /// or `EXISTS (SELECT .. FROM table WHERE table.key = outer AND <restricts in inner>)`.
    pub via: Vec<Via>,
}

/// A table a policy may go through to reach the tenant: the membership table (inner: its user
/// column compared with the setting).
#[derive(Debug, Clone)]
pub struct Via {
    pub outer: String,
    pub schema: String,
    pub table: String,
    pub key: String,
    pub inner: Box<ExprContext>,
}

impl ExprContext {
    /// A context comparing `column` with `setting` directly, nothing else.
    pub fn direct(column: &str, setting: &str) -> ExprContext {
        ExprContext {
            column: column.into(),
            setting: setting.into(),
            text_column: false,
            helpers: BTreeMap::new(),
            direct: true,
            settings: Vec::new(),
            json_settings: Vec::new(),
            via: Vec::new(),
        }
    }

    fn is_setting(&self, name: &str) -> bool {
        (name == self.setting || self.settings.iter().any(|s| s == name))
            && !self.json_settings.iter().any(|s| s == name)
    }

    fn is_json_setting(&self, name: &str) -> bool {
        self.json_settings.iter().any(|s| s == name)
    }
}

/// Why an expression does not restrict rows to the current tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The expression is constant true.
    AlwaysTrue,
    /// It restricts when the setting holds a tenant, and opens up when it is missing or empty.
    FailsOpen,
    /// It never compares the tenant column with the setting on every path.
    NoTenantComparison,
    /// PostgreSQL's rendering could not be parsed (should not happen).
    Unreadable(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every admitted row has the tenant column equal to the setting. `empty_guarded` is false
    /// when an empty setting would match rows whose (text) tenant column is empty.
    Restricts {
        empty_guarded: bool,
    },
    NotRestricting(Reason),
}

impl Verdict {
    pub fn restricts(&self) -> bool {
        matches!(self, Verdict::Restricts { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub verdict: Verdict,
    /// The setting is read outside a sub-select: evaluated for every row, not once per query.
    pub per_row: bool,
    /// The expression reads the setting at all.
    pub reads_setting: bool,
}

/// Analyze one policy expression as PostgreSQL renders it (`pg_get_expr`). `None` (no
/// expression) admits no row, which restricts.
pub fn analyze(expr: Option<&str>, ctx: &ExprContext) -> Analysis {
    let Some(expr) = expr else {
        return Analysis {
            verdict: Verdict::Restricts {
                empty_guarded: true,
            },
            per_row: false,
            reads_setting: false,
        };
    };
    let parsed = match parse_expr(expr) {
        Ok(p) => p,
        Err(e) => {
            return Analysis {
                verdict: Verdict::NotRestricting(Reason::Unreadable(e)),
                per_row: false,
                reads_setting: false,
            }
        }
    };
    let calls = setting_calls(&parsed.json, ctx);
    let strict = Eval {
        ctx,
        assume_present: false,
        depth: 0,
    };
    let verdict = match strict.restricts(&parsed.node) {
        Some(empty_guarded) => Verdict::Restricts { empty_guarded },
        None => {
            let lenient = Eval {
                ctx,
                assume_present: true,
                depth: 0,
            };
            if strict.const_eval(&parsed.node) == Some(true) {
                Verdict::NotRestricting(Reason::AlwaysTrue)
            } else if lenient.restricts(&parsed.node).is_some() {
                Verdict::NotRestricting(Reason::FailsOpen)
            } else {
                Verdict::NotRestricting(Reason::NoTenantComparison)
            }
        }
    };
    Analysis {
        verdict,
        per_row: calls.iter().any(|c| !c.in_subselect),
        reads_setting: !calls.is_empty(),
    }
}

/// The expression with every per-row read of the setting (and every setting helper call)
/// wrapped in a scalar sub-select, so PostgreSQL evaluates it once per query as an init plan:
/// `current_setting('app.tenant_id', true)` becomes `(SELECT current_setting('app.tenant_id',
/// true))`. `None` when nothing needs wrapping or the text cannot be parsed.
pub fn wrap_per_row_reads(expr: &str, ctx: &ExprContext) -> Option<String> {
    let parsed = parse_expr(expr).ok()?;
    let mut calls: Vec<SettingCall> = setting_calls(&parsed.json, ctx)
        .into_iter()
        .filter(|c| !c.in_subselect)
        .collect();
    if calls.is_empty() {
        return None;
    }
    let sql = format!("{PREFIX}{expr}");
    let tokens = pg_query::scan(&sql).ok()?.tokens;
    calls.sort_by_key(|c| std::cmp::Reverse(c.location));
    calls.dedup_by_key(|c| c.location);
    let mut out = sql.clone();
    for call in calls {
        let start = call.location;
        // The call's argument list: the first "(" at or after the name, to its matching ")".
        let mut depth = 0usize;
        let mut end = None;
        for t in tokens.iter().filter(|t| t.start as usize >= start) {
            match &sql[t.start as usize..t.end as usize] {
                "(" => depth += 1,
                ")" => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        end = Some(t.end as usize);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end?;
        out.insert(end, ')');
        out.insert_str(start, "(SELECT ");
    }
    Some(out[PREFIX.len()..].to_string())
}

const PREFIX: &str = "SELECT ";

struct Parsed {
    node: NodeEnum,
    json: Value,
}

fn parse_expr(expr: &str) -> Result<Parsed, String> {
    let sql = format!("{PREFIX}{expr}");
    let result =
        pg_query::parse(&sql, pg_query::ParserOptions::DEFAULT).map_err(|e| e.to_string())?;
    let node = single_target(&result.protobuf)
        .ok_or_else(|| format!("not a single expression: {expr}"))?
        .clone();
    let json = serde_json::to_value(&result.protobuf).map_err(|e| e.to_string())?;
    Ok(Parsed { node, json })
}

fn single_target(result: &pb::ParseResult) -> Option<&NodeEnum> {
    let [stmt] = result.stmts.as_slice() else {
        return None;
    };
    let Some(NodeEnum::SelectStmt(select)) = stmt.stmt.as_ref()?.node.as_ref() else {
        return None;
    };
    simple_select_target(select)
}

/// The one target of `SELECT <expr>` with no FROM, WHERE, GROUP BY, set operation or LIMIT.
fn simple_select_target(select: &pb::SelectStmt) -> Option<&NodeEnum> {
    if !select.from_clause.is_empty()
        || select.where_clause.is_some()
        || !select.group_clause.is_empty()
        || select.having_clause.is_some()
        || select.larg.is_some()
        || select.limit_count.is_some()
        || select.target_list.len() != 1
        || !select.values_lists.is_empty()
    {
        return None;
    }
    match select.target_list[0].node.as_ref()? {
        NodeEnum::ResTarget(t) => t.val.as_ref()?.node.as_ref(),
        _ => None,
    }
}

/// The expression a helper function returns, parsed from its `CREATE FUNCTION` text: the body
/// of a zero-argument `LANGUAGE sql` function that is `SELECT <expr>` (no FROM) or `RETURN <expr>`.
pub fn helper_body(definition: &str) -> Option<String> {
    let result = pg_query::parse(definition, pg_query::ParserOptions::DEFAULT).ok()?;
    let stmt = result
        .protobuf
        .stmts
        .first()?
        .stmt
        .as_ref()?
        .node
        .as_ref()?;
    let NodeEnum::CreateFunctionStmt(f) = stmt else {
        return None;
    };
    if !f.parameters.is_empty() {
        return None;
    }
    let mut language = None;
    let mut body = None;
    for option in &f.options {
        if let Some(NodeEnum::DefElem(d)) = option.node.as_ref() {
            match d.defname.as_str() {
                "language" => {
                    if let Some(NodeEnum::String(s)) = d.arg.as_ref().and_then(|a| a.node.as_ref())
                    {
                        language = Some(s.sval.clone());
                    }
                }
                "as" => {
                    if let Some(NodeEnum::List(l)) = d.arg.as_ref().and_then(|a| a.node.as_ref()) {
                        if let Some(NodeEnum::String(s)) =
                            l.items.first().and_then(|i| i.node.as_ref())
                        {
                            body = Some(s.sval.clone());
                        }
                    }
                }
                _ => {}
            }
        }
    }
    if language.as_deref() != Some("sql") {
        return None;
    }
    if let Some(body) = body {
        let body = body.trim().trim_end_matches(';').trim();
        let parsed = pg_query::parse(body, pg_query::ParserOptions::DEFAULT).ok()?;
        single_target(&parsed.protobuf)?;
        // Keep the text after SELECT: the expression as written.
        let lower = body.to_ascii_lowercase();
        let rest = lower.strip_prefix("select")?;
        return Some(body[body.len() - rest.len()..].trim().to_string());
    }
    // `RETURN <expr>` (SQL-standard body): deparse the expression.
    let sql_body = f.sql_body.as_ref()?.node.as_ref()?;
    let ret = match sql_body {
        NodeEnum::ReturnStmt(r) => r.returnval.as_ref()?.node.as_ref()?.clone(),
        _ => return None,
    };
    let select = NodeEnum::SelectStmt(Box::new(pb::SelectStmt {
        target_list: vec![pb::Node {
            node: Some(NodeEnum::ResTarget(Box::new(pb::ResTarget {
                val: Some(Box::new(pb::Node { node: Some(ret) })),
                ..Default::default()
            }))),
        }],
        limit_option: pb::LimitOption::Default as i32,
        op: pb::SetOperation::SetopNone as i32,
        ..Default::default()
    }))
    .deparse(Default::default())
    .ok()?;
    select.strip_prefix("SELECT ").map(|s| s.trim().to_string())
}

/// One read of the setting (or call of a setting helper) and whether it sits in a sub-select.
#[derive(Debug, Clone)]
struct SettingCall {
    location: usize,
    in_subselect: bool,
}

/// Every read of the setting in the tree, found by walking its JSON form (which covers every
/// node kind, so nothing hides in an unusual construct).
fn setting_calls(json: &Value, ctx: &ExprContext) -> Vec<SettingCall> {
    fn walk(v: &Value, in_sub: bool, ctx: &ExprContext, out: &mut Vec<SettingCall>) {
        match v {
            Value::Object(map) => {
                for (key, child) in map {
                    match key.as_str() {
                        "SubLink" => walk(child, true, ctx, out),
                        "FuncCall" => {
                            if json_call_reads_setting(child, ctx) {
                                out.push(SettingCall {
                                    location: child
                                        .get("location")
                                        .and_then(Value::as_u64)
                                        .unwrap_or(0)
                                        as usize,
                                    in_subselect: in_sub,
                                });
                            }
                            walk(child, in_sub, ctx, out);
                        }
                        _ => walk(child, in_sub, ctx, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, in_sub, ctx, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(json, false, ctx, &mut out);
    out
}

fn json_call_reads_setting(call: &Value, ctx: &ExprContext) -> bool {
    let names: Vec<&str> = call
        .get("funcname")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|n| n.pointer("/node/String/sval").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let args = call.get("args").and_then(Value::as_array);
    if is_current_setting_name(&names) {
        let mut arg = args.and_then(|a| a.first()).and_then(|a| a.get("node"));
        while let Some(cast) = arg.and_then(|a| a.get("TypeCast")) {
            arg = cast.pointer("/arg/node");
        }
        return arg
            .and_then(|a| a.pointer("/AConst/val/Sval/sval"))
            .and_then(Value::as_str)
            .is_some_and(|s| ctx.is_setting(s) || ctx.is_json_setting(s));
    }
    args.is_none_or(|a| a.is_empty()) && helper_for(&names, ctx).is_some()
}

fn is_current_setting_name(names: &[&str]) -> bool {
    matches!(
        names,
        ["current_setting"] | ["pg_catalog", "current_setting"]
    )
}

fn helper_for<'c>(names: &[&str], ctx: &'c ExprContext) -> Option<&'c String> {
    ctx.helpers.get(&names.join("."))
}

struct Eval<'a> {
    ctx: &'a ExprContext,
    /// Evaluate as if the setting always held a non-empty value (to tell "fails open" apart).
    assume_present: bool,
    /// Helper inlining depth, to stop on recursive helpers.
    depth: usize,
}

fn node_of(n: &Option<Box<pb::Node>>) -> Option<&NodeEnum> {
    n.as_ref().and_then(|b| b.node.as_ref())
}

fn strip_casts(mut n: &NodeEnum) -> &NodeEnum {
    while let NodeEnum::TypeCast(c) = n {
        match node_of(&c.arg) {
            Some(inner) => n = inner,
            None => break,
        }
    }
    n
}

fn op_name(e: &pb::AExpr) -> Option<&str> {
    match e.name.last()?.node.as_ref()? {
        NodeEnum::String(s) => Some(s.sval.as_str()),
        _ => None,
    }
}

#[derive(Debug, PartialEq)]
enum Const {
    Bool(bool),
    Null,
    Str(String),
    Other,
}

fn constant(n: &NodeEnum) -> Option<Const> {
    match strip_casts(n) {
        NodeEnum::AConst(c) => Some(if c.isnull {
            Const::Null
        } else {
            match &c.val {
                Some(a_const::Val::Boolval(b)) => Const::Bool(b.boolval),
                Some(a_const::Val::Sval(s)) => Const::Str(s.sval.clone()),
                _ => Const::Other,
            }
        }),
        _ => None,
    }
}

fn is_text_type(t: &Option<pb::TypeName>) -> bool {
    let Some(t) = t else { return true };
    if !t.array_bounds.is_empty() {
        return false;
    }
    match t.names.last().and_then(|n| n.node.as_ref()) {
        Some(NodeEnum::String(s)) => matches!(
            s.sval.as_str(),
            "text" | "varchar" | "bpchar" | "char" | "name" | "citext" | "unknown"
        ),
        _ => true,
    }
}

/// `(qualifier, column)` of a column reference.
fn column_name(n: &NodeEnum) -> Option<(Option<&str>, &str)> {
    let NodeEnum::ColumnRef(c) = strip_casts(n) else {
        return None;
    };
    let names: Vec<&str> = c
        .fields
        .iter()
        .filter_map(|f| match f.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
            _ => None,
        })
        .collect();
    match names.as_slice() {
        [c] => Some((None, c)),
        [.., q, c] => Some((Some(q), c)),
        [] => None,
    }
}

/// A key into the verified claims: anything but `user_metadata`, which the user edits.
fn trusted_claim(key: &NodeEnum) -> bool {
    matches!(constant(key), Some(Const::Str(k)) if k != "user_metadata")
}

fn func_names(f: &pb::FuncCall) -> Vec<&str> {
    f.funcname
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
            _ => None,
        })
        .collect()
}

mod eval;
mod values;

pub use values::admitting_values;

#[cfg(test)]
mod tests;
