//! The `Database` type of `tenet gen typescript`, in the shape `supabase gen types typescript`
//! writes and supabase-js (`createClient<Database>`) reads: per schema its `Tables` (`Row`,
//! `Insert`, `Update`, `Relationships`), `Views`, `Functions` (`Args`, `Returns`), `Enums` and
//! `CompositeTypes`. Types are those PostgREST returns in JSON: every number is a `number`,
//! `bytea` is its hex text, and view columns may be null.

use std::fmt::Write;

use tenet_catalog::model::*;

use crate::types::{Builtin, ColumnType};
use crate::typescript::property;

/// The `Json` and `Database` types for the schemas of the catalog.
pub fn database(catalog: &Catalog) -> String {
    let mut out = String::from(
        "\nexport type Json =\n  | string\n  | number\n  | boolean\n  | null\n  \
         | { [key: string]: Json | undefined }\n  | Json[]\n\nexport type Database = {\n",
    );
    for schema in &catalog.schemas {
        let s = &schema.name;
        writeln!(out, "  {}: {{", property(s)).unwrap();
        let tables = catalog.tables.iter().filter(|t| &t.schema == s);
        section(
            &mut out,
            "Tables",
            tables.map(|t| table(catalog, t)).collect(),
        );
        let views = catalog.views.iter().filter(|v| &v.schema == s);
        section(&mut out, "Views", views.map(|v| view(catalog, v)).collect());
        section(&mut out, "Functions", functions(catalog, s));
        let enums = catalog.types.iter().filter(|t| &t.schema == s);
        section(&mut out, "Enums", enums.filter_map(enum_type).collect());
        let composites = catalog.types.iter().filter(|t| &t.schema == s);
        section(
            &mut out,
            "CompositeTypes",
            composites.filter_map(|t| composite(catalog, t)).collect(),
        );
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

/// `Tables: { ... }` with one `name: body` entry each, sorted as supabase sorts them.
fn section(out: &mut String, name: &str, mut entries: Vec<(String, String)>) {
    if entries.is_empty() {
        writeln!(out, "    {name}: {{\n      [_ in never]: never\n    }}").unwrap();
        return;
    }
    entries.sort();
    writeln!(out, "    {name}: {{").unwrap();
    for (key, body) in entries {
        writeln!(out, "      {}: {body}", property(&key)).unwrap();
    }
    out.push_str("    }\n");
}

/// An object type with one `name: type` (or `name?: type`) line each, at the given depth.
fn object(fields: &[(String, bool, String)], indent: usize) -> String {
    if fields.is_empty() {
        return "{\n".to_string()
            + &" ".repeat(indent + 2)
            + "[_ in never]: never\n"
            + &" ".repeat(indent)
            + "}";
    }
    let mut out = String::from("{\n");
    for (name, optional, ty) in fields {
        let q = if *optional { "?" } else { "" };
        writeln!(out, "{}{}{q}: {ty}", " ".repeat(indent + 2), property(name)).unwrap();
    }
    out + &" ".repeat(indent) + "}"
}

fn table(catalog: &Catalog, t: &Table) -> (String, String) {
    let (mut row, mut insert, mut update) = (vec![], vec![], vec![]);
    for c in &t.columns {
        let ty = json_type(catalog, &ColumnType::of(catalog, &c.data_type));
        let ty = if c.not_null {
            ty
        } else {
            format!("{ty} | null")
        };
        row.push((c.name.clone(), false, ty.clone()));
        // Generated columns and identities GENERATED ALWAYS cannot be written.
        let always = c.generated.is_some()
            || c.identity
                .as_ref()
                .is_some_and(|i| i.generation == "always");
        let writable = if always { "never".to_string() } else { ty };
        let optional = always || c.default.is_some() || c.identity.is_some() || !c.not_null;
        insert.push((c.name.clone(), optional, writable.clone()));
        update.push((c.name.clone(), true, writable));
    }
    let mut body = String::from("{\n");
    writeln!(body, "        Row: {}", object(&row, 8)).unwrap();
    writeln!(body, "        Insert: {}", object(&insert, 8)).unwrap();
    writeln!(body, "        Update: {}", object(&update, 8)).unwrap();
    writeln!(body, "        Relationships: {}", relationships(t)).unwrap();
    body.push_str("      }");
    (t.name.clone(), body)
}

/// The foreign keys of a table; one-to-one when their columns are also a key of the table.
fn relationships(t: &Table) -> String {
    let mut fks: Vec<(&Constraint, &ForeignKey)> = t
        .constraints
        .iter()
        .filter_map(|c| Some((c, c.references.as_ref()?)))
        .collect();
    if fks.is_empty() {
        return "[]".to_string();
    }
    fks.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let is_key = |columns: &[String]| {
        let same = |other: &[String]| {
            let (mut a, mut b) = (columns.to_vec(), other.to_vec());
            a.sort();
            b.sort();
            a == b
        };
        let constraint = t.constraints.iter().any(|c| {
            matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique)
                && same(&c.columns)
        });
        constraint
            || t.indexes
                .iter()
                .any(|i| i.unique && i.predicate.is_none() && same(&i.columns))
    };
    let list = |names: &[String]| {
        let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
        format!("[{}]", quoted.join(", "))
    };
    let mut out = String::from("[\n");
    for (c, fk) in fks {
        writeln!(
            out,
            "          {{\n            foreignKeyName: {:?}\n            columns: {}\n            \
             isOneToOne: {}\n            referencedRelation: {:?}\n            \
             referencedColumns: {}\n          }},",
            c.name,
            list(&c.columns),
            is_key(&c.columns),
            fk.table.name,
            list(&fk.columns),
        )
        .unwrap();
    }
    out + "        ]"
}

fn view(catalog: &Catalog, v: &View) -> (String, String) {
    // PostgREST cannot know whether a view's column is null: all of them may be.
    let row: Vec<(String, bool, String)> = v
        .columns
        .iter()
        .map(|c| {
            let ty = json_type(catalog, &ColumnType::of(catalog, &c.data_type));
            (c.name.clone(), false, format!("{ty} | null"))
        })
        .collect();
    let body = format!(
        "{{\n        Row: {}\n        Relationships: []\n      }}",
        object(&row, 8)
    );
    (v.name.clone(), body)
}

/// Functions PostgREST can call (`rpc`): not procedures or triggers, every argument named.
/// Overloads are a union, as supabase writes them.
fn functions(catalog: &Catalog, schema: &str) -> Vec<(String, String)> {
    let mut by_name: Vec<(String, Vec<String>)> = vec![];
    for f in catalog.functions.iter().filter(|f| f.schema == schema) {
        let Some(returns) = &f.returns else { continue };
        if f.kind != "function" || matches!(returns.as_str(), "trigger" | "event_trigger") {
            continue;
        }
        let Some(args) = arguments(catalog, &f.arguments) else {
            continue;
        };
        let body = format!(
            "{{\n        Args: {}\n        Returns: {}\n      }}",
            object(&args, 8),
            returns_type(catalog, returns)
        );
        match by_name.iter_mut().find(|(n, _)| n == &f.name) {
            Some((_, bodies)) => bodies.push(body),
            None => by_name.push((f.name.clone(), vec![body])),
        }
    }
    by_name
        .into_iter()
        .map(|(name, bodies)| (name, bodies.join("\n        | ")))
        .collect()
}

/// `p_user uuid, p_limit integer` as fields; None when an argument has no name.
fn arguments(catalog: &Catalog, identity: &str) -> Option<Vec<(String, bool, String)>> {
    let mut fields = vec![];
    for arg in split_top_level(identity) {
        let arg = arg.trim();
        let arg = ["IN ", "INOUT ", "VARIADIC "]
            .iter()
            .find_map(|mode| arg.strip_prefix(mode))
            .unwrap_or(arg);
        if arg.starts_with("OUT ") {
            continue;
        }
        let (name, ty) = split_name(catalog, arg)?;
        let ty = json_type(catalog, &ColumnType::of(catalog, ty));
        fields.push((name, false, ty));
    }
    Some(fields)
}

/// `"my arg" text` -> (`my arg`, `text`); None for a bare type (an unnamed argument).
fn split_name<'a>(catalog: &Catalog, arg: &'a str) -> Option<(String, &'a str)> {
    let (name, ty) = if let Some(rest) = arg.strip_prefix('"') {
        let end = rest.find('"')?;
        (rest[..end].to_string(), rest[end + 1..].trim())
    } else {
        let (name, ty) = arg.split_once(' ')?;
        (name.to_string(), ty.trim())
    };
    // `double precision`, `character varying(20)`: a type alone, not `name type`.
    let whole = ColumnType::of(catalog, arg);
    if ty.is_empty() || !matches!(whole.scalar(), ColumnType::Other(_)) {
        return None;
    }
    Some((name, ty))
}

/// Split on commas outside parentheses and quotes.
pub(crate) fn split_top_level(list: &str) -> Vec<&str> {
    let (mut parts, mut start, mut depth, mut quoted) = (vec![], 0, 0, false);
    for (i, c) in list.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !list[start..].trim().is_empty() {
        parts.push(&list[start..]);
    }
    parts
}

/// `SETOF public.tasks`, `TABLE(id uuid, n integer)`, `void`, a scalar.
fn returns_type(catalog: &Catalog, returns: &str) -> String {
    if let Some(columns) = returns
        .strip_prefix("TABLE(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let fields = arguments(catalog, columns).unwrap_or_default();
        return format!("{}[]", object(&fields, 8));
    }
    if let Some(element) = returns.strip_prefix("SETOF ") {
        return format!("{}[]", returns_type(catalog, element));
    }
    if returns == "void" {
        return "undefined".to_string();
    }
    // A table's row type.
    if let Some(t) = catalog
        .tables
        .iter()
        .find(|t| t.qualified_name().to_string() == returns)
    {
        return format!(
            "Database[{:?}][\"Tables\"][{:?}][\"Row\"]",
            t.schema, t.name
        );
    }
    json_type(catalog, &ColumnType::of(catalog, returns))
}

fn enum_type(t: &Type) -> Option<(String, String)> {
    let TypeKind::Enum { labels } = &t.kind else {
        return None;
    };
    let union: Vec<String> = labels.iter().map(|l| format!("{l:?}")).collect();
    let union = if union.is_empty() {
        "never".to_string()
    } else {
        union.join(" | ")
    };
    Some((t.name.clone(), union))
}

fn composite(catalog: &Catalog, t: &Type) -> Option<(String, String)> {
    let TypeKind::Composite { attributes } = &t.kind else {
        return None;
    };
    let fields: Vec<(String, bool, String)> = attributes
        .iter()
        .map(|a| {
            let ty = json_type(catalog, &ColumnType::of(catalog, &a.data_type));
            (a.name.clone(), false, format!("{ty} | null"))
        })
        .collect();
    Some((t.name.clone(), object(&fields, 6)))
}

/// The TypeScript type of a value as PostgREST returns it in JSON.
fn json_type(catalog: &Catalog, ty: &ColumnType) -> String {
    use Builtin::*;
    // A type of a schema outside the generated ones is written out, not referenced.
    let listed = |schema: &str| catalog.schemas.iter().any(|s| s.name == schema);
    match ty {
        ColumnType::Array(element) => match json_type(catalog, element) {
            simple
                if simple
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '[' || c == ']') =>
            {
                format!("{simple}[]")
            }
            other => format!("({other})[]"),
        },
        ColumnType::Enum(t) if listed(&t.schema) => {
            format!("Database[{:?}][\"Enums\"][{:?}]", t.schema, t.name)
        }
        ColumnType::Enum(t) => enum_type(t).map(|(_, union)| union).unwrap(),
        ColumnType::Composite(t) if listed(&t.schema) => {
            format!("Database[{:?}][\"CompositeTypes\"][{:?}]", t.schema, t.name)
        }
        ColumnType::Composite(_) => "Json".to_string(),
        ColumnType::Builtin { ty, .. } => match ty {
            // JSON has one kind of number; PostgREST writes every numeric type as one.
            Int2 | Int4 | Int8 | Float4 | Float8 | Numeric => "number",
            Bool => "boolean",
            Json | Jsonb => "Json",
            Text | Varchar | Bpchar | Char | Name | Citext | Uuid | Inet | Cidr | Bytea => "string",
            Timestamp | Timestamptz | Date | Time | Timetz | Interval => "string",
        }
        .to_string(),
        ColumnType::Other(sql) => match sql.as_str() {
            "macaddr" | "macaddr8" => "string".to_string(),
            _ => "unknown".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_with_and_without_names() {
        let catalog = Catalog::default();
        let args = arguments(
            &catalog,
            "p_user uuid, \"n m\" numeric(10,2), VARIADIC xs text[]",
        );
        assert_eq!(
            args.unwrap(),
            vec![
                ("p_user".into(), false, "string".into()),
                ("n m".into(), false, "number".into()),
                ("xs".into(), false, "string[]".into()),
            ]
        );
        assert_eq!(arguments(&catalog, "double precision"), None);
        assert_eq!(arguments(&catalog, "integer"), None);
        assert_eq!(arguments(&catalog, ""), Some(vec![]));
    }
}
