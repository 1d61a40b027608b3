//! The evaluation of one expression: does it restrict, what does it read as the setting.

use super::*;

impl Eval<'_> {
    /// `Some(empty_guarded)` when every row admitted by `n` has the tenant column equal to the
    /// setting; `None` otherwise.
    pub(super) fn restricts(&self, n: &NodeEnum) -> Option<bool> {
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
            NodeEnum::SubLink(sub) => self.via_restricts(sub),
            _ => self.denies(n),
        }
    }

    /// A condition that is constant false (or NULL) admits nothing.
    pub(super) fn denies(&self, n: &NodeEnum) -> Option<bool> {
        (self.const_eval(n) == Some(false)).then_some(true)
    }

    /// `column = setting`: `Some(empty_guarded)` when `col` is the tenant column and `value`
    /// the setting.
    pub(super) fn tenant_match(&self, col: &NodeEnum, value: &NodeEnum) -> Option<bool> {
        if !self.ctx.direct || !self.is_tenant_column(col) {
            return None;
        }
        let guarded = self.setting_value(value)?;
        Some(guarded || !self.ctx.text_column)
    }

    pub(super) fn is_tenant_column(&self, n: &NodeEnum) -> bool {
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
    pub(super) fn setting_value(&self, n: &NodeEnum) -> Option<bool> {
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
                        Some(Const::Str(s)) if self.ctx.is_setting(&s) => Some(false),
                        _ => None,
                    };
                }
                let body = self.helper_call(f)?;
                self.inline(&body, |e, n| e.setting_value(n))
            }
            // A claim of the JSON setting: `claims ->> 'sub'`.
            NodeEnum::AExpr(e)
                if e.kind == pb::AExprKind::AexprOp as i32 && op_name(e) == Some("->>") =>
            {
                self.json_value(node_of(&e.lexpr)?)?;
                trusted_claim(node_of(&e.rexpr)?).then_some(true)
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

    /// `Some(())` when `n` is the JSON claims setting (or a part of it reached through `->`),
    /// or NULL / an error when it is missing.
    pub(super) fn json_value(&self, n: &NodeEnum) -> Option<()> {
        match n {
            NodeEnum::TypeCast(c) => self.json_value(node_of(&c.arg)?),
            NodeEnum::FuncCall(f) => {
                let names = func_names(f);
                if is_current_setting_name(&names) {
                    let arg = f.args.first()?.node.as_ref()?;
                    return match constant(arg) {
                        Some(Const::Str(s)) if self.ctx.is_json_setting(&s) => Some(()),
                        _ => None,
                    };
                }
                let body = self.helper_call(f)?;
                self.inline(&body, |e, n| e.json_value(n))
            }
            NodeEnum::AExpr(e) if e.kind == pb::AExprKind::AexprNullif as i32 => {
                self.json_value(node_of(&e.lexpr)?)
            }
            NodeEnum::AExpr(e)
                if e.kind == pb::AExprKind::AexprOp as i32 && op_name(e) == Some("->") =>
            {
                self.json_value(node_of(&e.lexpr)?)?;
                trusted_claim(node_of(&e.rexpr)?).then_some(())
            }
            NodeEnum::CoalesceExpr(c) => {
                let mut args = c.args.iter().filter_map(|a| a.node.as_ref());
                self.json_value(args.next()?)?;
                if !self.assume_present {
                    for a in args {
                        if constant(a) != Some(Const::Null) {
                            self.json_value(a)?;
                        }
                    }
                }
                Some(())
            }
            NodeEnum::SubLink(s) if s.sub_link_type == pb::SubLinkType::ExprSublink as i32 => {
                let NodeEnum::SelectStmt(select) = node_of(&s.subselect)? else {
                    return None;
                };
                self.json_value(simple_select_target(select)?)
            }
            _ => None,
        }
    }

    /// A sub-select through a table of `ctx.via`: `outer IN (SELECT key FROM t WHERE ..)` or
    /// `EXISTS (SELECT .. FROM t WHERE t.key = outer AND ..)`, where the WHERE restricts `t`'s
    /// rows in the inner context.
    pub(super) fn via_restricts(&self, s: &pb::SubLink) -> Option<bool> {
        let NodeEnum::SelectStmt(select) = node_of(&s.subselect)? else {
            return None;
        };
        if select.larg.is_some() || select.from_clause.len() != 1 {
            return None;
        }
        let Some(NodeEnum::RangeVar(rel)) = select.from_clause[0].node.as_ref() else {
            return None;
        };
        let alias = rel
            .alias
            .as_ref()
            .map_or(rel.relname.as_str(), |a| a.aliasname.as_str());
        let conjuncts: Vec<&NodeEnum> =
            match select.where_clause.as_deref().and_then(|w| w.node.as_ref()) {
                Some(NodeEnum::BoolExpr(b)) if b.boolop == pb::BoolExprType::AndExpr as i32 => {
                    b.args.iter().filter_map(|a| a.node.as_ref()).collect()
                }
                Some(w) => vec![w],
                None => Vec::new(),
            };
        for via in &self.ctx.via {
            if rel.relname != via.table
                || !(rel.schemaname.is_empty() || rel.schemaname == via.schema)
            {
                continue;
            }
            let inner = Eval {
                ctx: &via.inner,
                assume_present: self.assume_present,
                depth: self.depth + 1,
            };
            let rest: Vec<&NodeEnum> = if s.sub_link_type == pb::SubLinkType::AnySublink as i32 {
                let op_ok = s.oper_name.is_empty()
                    || matches!(s.oper_name.last().and_then(|n| n.node.as_ref()), Some(NodeEnum::String(o)) if o.sval == "=");
                let test_ok = node_of(&s.testexpr)
                    .is_some_and(|t| column_name(t).is_some_and(|(_, c)| c == via.outer));
                let target_ok = select.target_list.len() == 1
                    && matches!(select.target_list[0].node.as_ref(), Some(NodeEnum::ResTarget(t))
                        if t.val.as_ref().and_then(|v| v.node.as_ref()).and_then(column_name).is_some_and(|(_, c)| c == via.key));
                if !(op_ok && test_ok && target_ok) {
                    continue;
                }
                conjuncts.clone()
            } else if s.sub_link_type == pb::SubLinkType::ExistsSublink as i32 {
                // The join: one side the table's key, the other the outer row's column.
                let joins = |n: &NodeEnum| -> bool {
                    let NodeEnum::AExpr(e) = n else { return false };
                    if e.kind != pb::AExprKind::AexprOp as i32 || op_name(e) != Some("=") {
                        return false;
                    }
                    let (Some(l), Some(r)) = (
                        node_of(&e.lexpr).and_then(column_name),
                        node_of(&e.rexpr).and_then(column_name),
                    ) else {
                        return false;
                    };
                    let inside = |(q, c): &(Option<&str>, &str)| *q == Some(alias) && *c == via.key;
                    let outside = |(q, c): &(Option<&str>, &str)| {
                        *q != Some(alias) && q.is_some() && *c == via.outer
                    };
                    (inside(&l) && outside(&r)) || (inside(&r) && outside(&l))
                };
                let Some(at) = conjuncts.iter().position(|c| joins(c)) else {
                    continue;
                };
                conjuncts
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != at)
                    .map(|(_, c)| *c)
                    .collect()
            } else {
                return None;
            };
            let guarded: Vec<bool> = rest.iter().filter_map(|c| inner.restricts(c)).collect();
            if !guarded.is_empty() {
                return Some(guarded.iter().any(|g| *g));
            }
        }
        None
    }

    /// Constant truth value under this evaluation's assumptions (NULL counts as false).
    pub(super) fn const_eval(&self, n: &NodeEnum) -> Option<bool> {
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

    pub(super) fn helper_call(&self, f: &pb::FuncCall) -> Option<String> {
        if !f.args.is_empty() || self.depth > 4 {
            return None;
        }
        helper_for(&func_names(f), self.ctx).cloned()
    }

    pub(super) fn inline<T>(
        &self,
        body: &str,
        f: impl Fn(&Eval, &NodeEnum) -> Option<T>,
    ) -> Option<T> {
        let parsed = parse_expr(body).ok()?;
        let inner = Eval {
            ctx: self.ctx,
            assume_present: self.assume_present,
            depth: self.depth + 1,
        };
        f(&inner, &parsed.node)
    }
}
