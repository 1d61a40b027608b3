//! Tables as statements name them, and small accessors for pg_query nodes.

use pg_query::protobuf;
use pg_query::NodeEnum;

/// A table as a statement names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableRef {
    pub schema: Option<String>,
    pub name: String,
}

impl TableRef {
    pub fn from_range_var(r: &protobuf::RangeVar) -> TableRef {
        TableRef {
            schema: (!r.schemaname.is_empty()).then(|| r.schemaname.clone()),
            name: r.relname.clone(),
        }
    }

    /// From a list of name parts (`DROP TABLE a.b`).
    pub fn from_names(names: &[protobuf::Node]) -> Option<TableRef> {
        let parts: Vec<&str> = names.iter().filter_map(string_value).collect();
        match parts.as_slice() {
            [name] => Some(TableRef {
                schema: None,
                name: name.to_string(),
            }),
            [.., schema, name] => Some(TableRef {
                schema: Some(schema.to_string()),
                name: name.to_string(),
            }),
            [] => None,
        }
    }

    /// Same table, where an unqualified name matches any schema.
    pub fn matches(&self, other: &TableRef) -> bool {
        self.name == other.name
            && match (&self.schema, &other.schema) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }

    pub fn matches_qualified(&self, schema: &str, name: &str) -> bool {
        self.name == name && self.schema.as_deref().is_none_or(|s| s == schema)
    }
}

pub(crate) fn string_value(node: &protobuf::Node) -> Option<&str> {
    match &node.node {
        Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
        _ => None,
    }
}

pub(crate) fn range_var(node: &protobuf::Node) -> Option<&protobuf::RangeVar> {
    match &node.node {
        Some(NodeEnum::RangeVar(r)) => Some(r),
        _ => None,
    }
}

pub(crate) fn list_items(node: &protobuf::Node) -> Option<&[protobuf::Node]> {
    match &node.node {
        Some(NodeEnum::List(l)) => Some(&l.items),
        _ => None,
    }
}

pub(crate) fn col_constraints(
    col: &protobuf::ColumnDef,
) -> impl Iterator<Item = &protobuf::Constraint> {
    col.constraints.iter().filter_map(|c| match &c.node {
        Some(NodeEnum::Constraint(c)) => Some(c.as_ref()),
        _ => None,
    })
}

/// The last part of a type name (`pg_catalog.int4` -> `int4`).
pub(crate) fn type_name(ty: &protobuf::TypeName) -> &str {
    ty.names.last().and_then(string_value).unwrap_or_default()
}

pub(crate) fn is_serial(type_name: &str) -> bool {
    matches!(
        type_name,
        "serial" | "serial4" | "smallserial" | "serial2" | "bigserial" | "serial8"
    )
}

/// `col IS NOT NULL` -> `col`.
pub(crate) fn is_not_null_test(expr: &protobuf::Node) -> Option<String> {
    let Some(NodeEnum::NullTest(test)) = &expr.node else {
        return None;
    };
    if test.nulltesttype != protobuf::NullTestType::IsNotNull as i32 {
        return None;
    }
    match test.arg.as_deref().and_then(|a| a.node.as_ref()) {
        Some(NodeEnum::ColumnRef(c)) if c.fields.len() == 1 => {
            string_value(&c.fields[0]).map(String::from)
        }
        _ => None,
    }
}

/// Whether a `DefElem` list holds `name` set to anything but false (`CONCURRENTLY` in
/// REINDEX's options).
pub(crate) fn has_option(params: &[protobuf::Node], name: &str) -> bool {
    params.iter().any(|p| {
        matches!(&p.node, Some(NodeEnum::DefElem(d)) if d.defname == name
            && !matches!(d.arg.as_deref().and_then(|a| a.node.as_ref()),
                Some(NodeEnum::Boolean(b)) if !b.boolval))
    })
}

/// Call `f` on every node of an expression tree (the node kinds a default expression uses).
pub(crate) fn walk(node: &protobuf::Node, f: &mut dyn FnMut(&NodeEnum)) {
    let Some(n) = &node.node else { return };
    f(n);
    let children: Vec<&protobuf::Node> = match n {
        NodeEnum::FuncCall(c) => c.args.iter().collect(),
        NodeEnum::TypeCast(c) => c.arg.as_deref().into_iter().collect(),
        NodeEnum::AExpr(e) => e
            .lexpr
            .as_deref()
            .into_iter()
            .chain(e.rexpr.as_deref())
            .collect(),
        NodeEnum::BoolExpr(e) => e.args.iter().collect(),
        NodeEnum::CoalesceExpr(e) => e.args.iter().collect(),
        NodeEnum::CaseExpr(e) => e
            .args
            .iter()
            .chain(e.defresult.as_deref())
            .chain(e.arg.as_deref())
            .collect(),
        NodeEnum::CaseWhen(w) => w
            .expr
            .as_deref()
            .into_iter()
            .chain(w.result.as_deref())
            .collect(),
        NodeEnum::List(l) => l.items.iter().collect(),
        NodeEnum::AArrayExpr(a) => a.elements.iter().collect(),
        NodeEnum::RowExpr(r) => r.args.iter().collect(),
        NodeEnum::MinMaxExpr(m) => m.args.iter().collect(),
        NodeEnum::NullTest(t) => t.arg.as_deref().into_iter().collect(),
        NodeEnum::CollateClause(c) => c.arg.as_deref().into_iter().collect(),
        _ => Vec::new(),
    };
    for child in children {
        walk(child, f);
    }
}

/// Identifier quoting as PostgreSQL does it (lowercase simple names stay bare).
pub(crate) fn quote(name: &str) -> String {
    tenet_catalog::quote::ident(name)
}
