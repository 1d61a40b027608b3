//! The values a policy admits rows by.

use super::*;

/// Values that make a policy expression admit a row, column by column: `status = 'done'` gives
/// `status -> 'done'`, a bare boolean column `true`. AND merges both sides, OR takes the first
/// branch that names any. Prove plants tenant B rows with them, so a policy that admits rows
/// by value shows its leak.
pub fn admitting_values(expr: &str) -> BTreeMap<String, String> {
    fn walk(n: &NodeEnum, out: &mut BTreeMap<String, String>) {
        match strip_casts(n) {
            NodeEnum::BoolExpr(b) if b.boolop == pb::BoolExprType::AndExpr as i32 => {
                for a in b.args.iter().filter_map(|a| a.node.as_ref()) {
                    walk(a, out);
                }
            }
            NodeEnum::BoolExpr(b) if b.boolop == pb::BoolExprType::OrExpr as i32 => {
                for a in b.args.iter().filter_map(|a| a.node.as_ref()) {
                    let mut branch = BTreeMap::new();
                    walk(a, &mut branch);
                    if !branch.is_empty() {
                        out.extend(branch);
                        return;
                    }
                }
            }
            NodeEnum::BoolExpr(b) if b.boolop == pb::BoolExprType::NotExpr as i32 => {
                if let Some((_, c)) = b
                    .args
                    .first()
                    .and_then(|a| a.node.as_ref())
                    .and_then(column_name)
                {
                    out.entry(c.to_string()).or_insert_with(|| "false".into());
                }
            }
            NodeEnum::ColumnRef(_) => {
                if let Some((_, c)) = column_name(n) {
                    out.entry(c.to_string()).or_insert_with(|| "true".into());
                }
            }
            NodeEnum::AExpr(e) => {
                let (Some(l), Some(r)) = (node_of(&e.lexpr), node_of(&e.rexpr)) else {
                    return;
                };
                let value = match (e.kind, r) {
                    (k, NodeEnum::List(list)) if k == pb::AExprKind::AexprIn as i32 => list
                        .items
                        .first()
                        .and_then(|i| i.node.as_ref())
                        .and_then(literal),
                    (k, _) if k == pb::AExprKind::AexprOp as i32 && op_name(e) == Some("=") => {
                        literal(r).or_else(|| literal(l))
                    }
                    _ => None,
                };
                let column = column_name(l).or_else(|| column_name(r));
                if let (Some(v), Some((_, c))) = (value, column) {
                    out.entry(c.to_string()).or_insert(v);
                }
            }
            _ => {}
        }
    }
    fn literal(n: &NodeEnum) -> Option<String> {
        let NodeEnum::AConst(c) = strip_casts(n) else {
            return None;
        };
        match c.val.as_ref()? {
            a_const::Val::Sval(s) => Some(format!("'{}'", s.sval.replace('\'', "''"))),
            a_const::Val::Ival(i) => Some(i.ival.to_string()),
            a_const::Val::Fval(f) => Some(f.fval.clone()),
            a_const::Val::Boolval(b) => Some(b.boolval.to_string()),
            _ => None,
        }
    }
    let mut out = BTreeMap::new();
    if let Ok(parsed) = parse_expr(expr) {
        walk(&parsed.node, &mut out);
    }
    out
}
