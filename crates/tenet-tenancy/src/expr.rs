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
            == Some(ctx.setting.as_str());
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

impl Eval<'_> {
    /// `Some(empty_guarded)` when every row admitted by `n` has the tenant column equal to the
    /// setting; `None` otherwise.
    fn restricts(&self, n: &NodeEnum) -> Option<bool> {
        match n {
            NodeEnum::AConst(_) => match constant(n) {
                Some(Const::Null) | Some(Const::Bool(false)) => Some(true),
                _ => None,
            },
            NodeEnum::BoolExpr(b) => {
                let args: Vec<&NodeEnum> = b.args.iter().filter_map(|a| a.node.as_ref()).collect();
                match pb::BoolExprType::try_from(b.boolop) {
                    Ok(pb::BoolExprType::AndExpr) => {
                        let rs: Vec<bool> = args.iter().filter_map(|a| self.restricts(a)).collect();
                        if rs.is_empty() {
                            self.denies(n)
                        } else {
                            Some(rs.iter().any(|g| *g))
                        }
                    }
                    Ok(pb::BoolExprType::OrExpr) => {
                        let mut guarded = true;
                        for a in &args {
                            guarded &= self.restricts(a)?;
                        }
                        Some(guarded)
                    }
                    _ => self.denies(n),
                }
            }
            NodeEnum::AExpr(e) => {
                let kind = pb::AExprKind::try_from(e.kind).ok();
                let (l, r) = (node_of(&e.lexpr), node_of(&e.rexpr));
                let compared = match (kind, l, r) {
                    (Some(pb::AExprKind::AexprOp), Some(l), Some(r)) if op_name(e) == Some("=") => {
                        self.tenant_match(l, r).or_else(|| self.tenant_match(r, l))
                    }
                    (Some(pb::AExprKind::AexprIn), Some(l), Some(NodeEnum::List(list)))
                        if op_name(e) == Some("=") && list.items.len() == 1 =>
                    {
                        list.items[0]
                            .node
                            .as_ref()
                            .and_then(|r| self.tenant_match(l, r))
                    }
                    _ => None,
                };
                compared.or_else(|| self.denies(n))
            }
            NodeEnum::CaseExpr(c) => {
                let mut guarded = true;
                for w in &c.args {
                    let Some(NodeEnum::CaseWhen(w)) = w.node.as_ref() else {
                        return None;
                    };
                    let cond = if c.arg.is_some() {
                        None
                    } else {
                        node_of(&w.expr).and_then(|e| self.const_eval(e))
                    };
                    match cond {
                        Some(false) => continue,
                        Some(true) => return Some(guarded & self.restricts(node_of(&w.result)?)?),
                        None => guarded &= self.restricts(node_of(&w.result)?)?,
                    }
                }
                match node_of(&c.defresult) {
                    None => Some(guarded),
                    Some(d) => Some(guarded & self.restricts(d)?),
                }
            }
            NodeEnum::CoalesceExpr(c) => {
                let mut guarded = true;
                for a in c.args.iter().filter_map(|a| a.node.as_ref()) {
                    guarded &= self.restricts(a)?;
                }
                Some(guarded)
            }
            NodeEnum::TypeCast(c) => self.restricts(node_of(&c.arg)?),
            NodeEnum::FuncCall(f) => {
                if let Some(body) = self.helper_call(f) {
                    return self.inline(&body, |e, n| e.restricts(n));
                }
                self.denies(n)
            }
            _ => self.denies(n),
        }
    }

    /// A condition that is constant false (or NULL) admits nothing.
    fn denies(&self, n: &NodeEnum) -> Option<bool> {
        (self.const_eval(n) == Some(false)).then_some(true)
    }

    /// `column = setting`: `Some(empty_guarded)` when `col` is the tenant column and `value`
    /// the setting.
    fn tenant_match(&self, col: &NodeEnum, value: &NodeEnum) -> Option<bool> {
        if !self.is_tenant_column(col) {
            return None;
        }
        let guarded = self.setting_value(value)?;
        Some(guarded || !self.ctx.text_column)
    }

    fn is_tenant_column(&self, n: &NodeEnum) -> bool {
        match strip_casts(n) {
            NodeEnum::ColumnRef(c) => matches!(
                c.fields.last().and_then(|f| f.node.as_ref()),
                Some(NodeEnum::String(s)) if s.sval == self.ctx.column
            ),
            _ => false,
        }
    }

    /// `Some(empty_guarded)` when `n` evaluates to the setting's value (or NULL, or an error,
    /// when it is missing): never to anything a row could supply.
    fn setting_value(&self, n: &NodeEnum) -> Option<bool> {
        match n {
            NodeEnum::TypeCast(c) => {
                let inner = self.setting_value(node_of(&c.arg)?)?;
                Some(inner || !is_text_type(&c.type_name))
            }
            NodeEnum::FuncCall(f) => {
                let names = func_names(f);
                if is_current_setting_name(&names) {
                    let arg = f.args.first()?.node.as_ref()?;
                    return match constant(arg) {
                        Some(Const::Str(s)) if s == self.ctx.setting => Some(false),
                        _ => None,
                    };
                }
                let body = self.helper_call(f)?;
                self.inline(&body, |e, n| e.setting_value(n))
            }
            NodeEnum::AExpr(e) if e.kind == pb::AExprKind::AexprNullif as i32 => {
                let inner = self.setting_value(node_of(&e.lexpr)?)?;
                let empty = matches!(node_of(&e.rexpr).and_then(constant), Some(Const::Str(s)) if s.is_empty());
                Some(inner || empty)
            }
            NodeEnum::CoalesceExpr(c) => {
                let mut args = c.args.iter().filter_map(|a| a.node.as_ref());
                let guarded = self.setting_value(args.next()?)?;
                if self.assume_present {
                    return Some(guarded);
                }
                let mut all = guarded;
                for a in args {
                    if constant(a) == Some(Const::Null) {
                        continue;
                    }
                    all &= self.setting_value(a)?;
                }
                Some(all)
            }
            NodeEnum::SubLink(s) if s.sub_link_type == pb::SubLinkType::ExprSublink as i32 => {
                let NodeEnum::SelectStmt(select) = node_of(&s.subselect)? else {
                    return None;
                };
                self.setting_value(simple_select_target(select)?)
            }
            _ => None,
        }
    }

    /// Constant truth value under this evaluation's assumptions (NULL counts as false).
    fn const_eval(&self, n: &NodeEnum) -> Option<bool> {
        match n {
            NodeEnum::AConst(_) => match constant(n)? {
                Const::Bool(b) => Some(b),
                Const::Null => Some(false),
                _ => None,
            },
            NodeEnum::TypeCast(c) => self.const_eval(node_of(&c.arg)?),
            NodeEnum::BoolExpr(b) => {
                let vals: Vec<Option<bool>> = b
                    .args
                    .iter()
                    .filter_map(|a| a.node.as_ref())
                    .map(|a| self.const_eval(a))
                    .collect();
                match pb::BoolExprType::try_from(b.boolop).ok()? {
                    pb::BoolExprType::AndExpr => {
                        if vals.contains(&Some(false)) {
                            Some(false)
                        } else if vals.iter().all(|v| *v == Some(true)) {
                            Some(true)
                        } else {
                            None
                        }
                    }
                    pb::BoolExprType::OrExpr => {
                        if vals.contains(&Some(true)) {
                            Some(true)
                        } else if vals.iter().all(|v| *v == Some(false)) {
                            Some(false)
                        } else {
                            None
                        }
                    }
                    pb::BoolExprType::NotExpr => vals.first().copied().flatten().map(|v| !v),
                    _ => None,
                }
            }
            NodeEnum::NullTest(t) if self.assume_present => {
                self.setting_value(node_of(&t.arg)?)?;
                match pb::NullTestType::try_from(t.nulltesttype).ok()? {
                    pb::NullTestType::IsNull => Some(false),
                    pb::NullTestType::IsNotNull => Some(true),
                    _ => None,
                }
            }
            NodeEnum::AExpr(e)
                if self.assume_present && e.kind == pb::AExprKind::AexprOp as i32 =>
            {
                let (l, r) = (node_of(&e.lexpr)?, node_of(&e.rexpr)?);
                let empty =
                    |x: &NodeEnum| matches!(constant(x), Some(Const::Str(s)) if s.is_empty());
                let compares_empty = (self.setting_value(l).is_some() && empty(r))
                    || (self.setting_value(r).is_some() && empty(l));
                if !compares_empty {
                    return None;
                }
                match op_name(e)? {
                    "=" => Some(false),
                    "<>" | "!=" => Some(true),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn helper_call(&self, f: &pb::FuncCall) -> Option<String> {
        if !f.args.is_empty() || self.depth > 4 {
            return None;
        }
        helper_for(&func_names(f), self.ctx).cloned()
    }

    fn inline<T>(&self, body: &str, f: impl Fn(&Eval, &NodeEnum) -> Option<T>) -> Option<T> {
        let parsed = parse_expr(body).ok()?;
        let inner = Eval {
            ctx: self.ctx,
            assume_present: self.assume_present,
            depth: self.depth + 1,
        };
        f(&inner, &parsed.node)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(text_column: bool) -> ExprContext {
        ExprContext {
            column: "tenant_id".into(),
            setting: "app.tenant_id".into(),
            text_column,
            helpers: BTreeMap::new(),
        }
    }

    fn verdict(expr: &str) -> Verdict {
        analyze(Some(expr), &ctx(false)).verdict
    }

    const GOOD: &str = "(tenant_id = ( SELECT (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid AS \"nullif\"))";

    #[test]
    fn the_generated_form_restricts_once_per_query() {
        let a = analyze(Some(GOOD), &ctx(false));
        assert_eq!(
            a.verdict,
            Verdict::Restricts {
                empty_guarded: true
            }
        );
        assert!(!a.per_row);
        assert!(a.reads_setting);
        let a = analyze(Some(GOOD), &ctx(true));
        assert_eq!(
            a.verdict,
            Verdict::Restricts {
                empty_guarded: true
            }
        );
    }

    #[test]
    fn per_row_reads_are_seen() {
        let a = analyze(
            Some("(tenant_id = (current_setting('app.tenant_id'::text))::uuid)"),
            &ctx(false),
        );
        assert!(a.verdict.restricts());
        assert!(a.per_row);
    }

    #[test]
    fn always_true_and_other_columns_do_not_restrict() {
        assert_eq!(verdict("true"), Verdict::NotRestricting(Reason::AlwaysTrue));
        assert_eq!(
            verdict("(true OR false)"),
            Verdict::NotRestricting(Reason::AlwaysTrue)
        );
        assert_eq!(
            verdict("(owner_id = (current_setting('app.tenant_id'::text))::uuid)"),
            Verdict::NotRestricting(Reason::NoTenantComparison)
        );
        assert_eq!(
            verdict("(tenant_id = (current_setting('app.other'::text))::uuid)"),
            Verdict::NotRestricting(Reason::NoTenantComparison)
        );
        assert_eq!(
            verdict("((tenant_id = (current_setting('app.tenant_id'::text))::uuid) OR is_public)"),
            Verdict::NotRestricting(Reason::NoTenantComparison)
        );
        // A comparison with a constant tenant is not the setting.
        assert_eq!(
            verdict("(tenant_id = '00000000-0000-0000-0000-000000000000'::uuid)"),
            Verdict::NotRestricting(Reason::NoTenantComparison)
        );
    }

    #[test]
    fn false_and_and_restrict() {
        assert!(verdict("false").restricts());
        assert!(verdict(
            "((tenant_id = (current_setting('app.tenant_id'::text))::uuid) AND is_public)"
        )
        .restricts());
        assert!(verdict(
            "(is_public AND (tenant_id IN ((current_setting('app.tenant_id'::text))::uuid)))"
        )
        .restricts());
    }

    #[test]
    fn escape_hatches_for_a_missing_setting_fail_open() {
        for e in [
            "((tenant_id = (current_setting('app.tenant_id'::text))::uuid) OR (current_setting('app.tenant_id'::text, true) IS NULL))",
            "((tenant_id)::text = COALESCE(current_setting('app.tenant_id'::text, true), (tenant_id)::text))",
            "CASE WHEN (current_setting('app.tenant_id'::text, true) = ''::text) THEN true ELSE (tenant_id = (current_setting('app.tenant_id'::text, true))::uuid) END",
            "(tenant_id = COALESCE((NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid, tenant_id))",
            "((COALESCE(current_setting('app.tenant_id'::text, true), ''::text) = ''::text) OR (tenant_id = (current_setting('app.tenant_id'::text, true))::uuid))",
        ] {
            assert_eq!(verdict(e), Verdict::NotRestricting(Reason::FailsOpen), "{e}");
        }
    }

    #[test]
    fn empty_setting_on_a_text_column_is_not_guarded() {
        let a = analyze(
            Some("(tenant_id = current_setting('app.tenant_id'::text, true))"),
            &ctx(true),
        );
        assert_eq!(
            a.verdict,
            Verdict::Restricts {
                empty_guarded: false
            }
        );
        let a = analyze(
            Some("(tenant_id = NULLIF(current_setting('app.tenant_id'::text, true), ''::text))"),
            &ctx(true),
        );
        assert_eq!(
            a.verdict,
            Verdict::Restricts {
                empty_guarded: true
            }
        );
    }

    #[test]
    fn helpers_are_inlined() {
        let mut c = ctx(false);
        c.helpers.insert(
            "app.current_tenant".into(),
            "NULLIF(current_setting('app.tenant_id', true), '')::uuid".into(),
        );
        let a = analyze(Some("(tenant_id = app.current_tenant())"), &c);
        assert_eq!(
            a.verdict,
            Verdict::Restricts {
                empty_guarded: true
            }
        );
        assert!(a.per_row);
        let a = analyze(
            Some("(tenant_id = ( SELECT app.current_tenant() AS current_tenant))"),
            &c,
        );
        assert!(!a.per_row);
        assert!(a.verdict.restricts());
    }

    #[test]
    fn helper_bodies_are_read_from_definitions() {
        let def = "CREATE OR REPLACE FUNCTION app.current_tenant()\n RETURNS uuid\n LANGUAGE sql\n STABLE\nAS $function$ select nullif(current_setting('app.tenant_id', true), '')::uuid $function$\n";
        assert_eq!(
            helper_body(def).as_deref(),
            Some("nullif(current_setting('app.tenant_id', true), '')::uuid")
        );
        let def = "CREATE OR REPLACE FUNCTION app.current_tenant()\n RETURNS uuid\n LANGUAGE sql\n STABLE\nRETURN (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid\n";
        let body = helper_body(def).unwrap();
        let c = ctx(false);
        assert!(analyze(Some(&format!("(tenant_id = {body})")), &c)
            .verdict
            .restricts());
        assert_eq!(
            helper_body("CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $$ select a $$"),
            None
        );
    }

    #[test]
    fn per_row_reads_are_wrapped_in_a_sub_select() {
        let c = ctx(false);
        let e = "((tenant_id = (current_setting('app.tenant_id'::text, true))::uuid) AND (pg_catalog.current_setting('app.tenant_id'::text) <> ''::text))";
        let wrapped = wrap_per_row_reads(e, &c).unwrap();
        assert_eq!(
            wrapped,
            "((tenant_id = ((SELECT current_setting('app.tenant_id'::text, true)))::uuid) AND ((SELECT pg_catalog.current_setting('app.tenant_id'::text)) <> ''::text))"
        );
        let a = analyze(Some(&wrapped), &c);
        assert!(!a.per_row);
        assert!(a.verdict.restricts());
        assert_eq!(wrap_per_row_reads(GOOD, &c), None);
    }
}
