//! The "Functions and Procedures" section: signature, result, language, volatility, security,
//! settings, and the tables each body reads or writes, found with PostgreSQL's own grammars (the SQL parser for
//! SQL bodies, the PL/pgSQL parser for the statements of PL/pgSQL bodies).

use std::collections::BTreeSet;
use std::fmt::Write;

use pg_query::protobuf::node::Node;
use tenet_catalog::model::{Catalog, Function};

use crate::{cell, short};

pub(crate) fn section(c: &Catalog) -> String {
    let mut out = String::new();
    for f in &c.functions {
        let signature = format!("{}({})", short(&f.schema, &f.name), f.arguments);
        writeln!(out, "### {} ({})\n", cell(&signature), f.kind).unwrap();
        if let Some(comment) = &f.comment {
            writeln!(out, "{}\n", comment.trim()).unwrap();
        }
        let mut facts = Vec::new();
        if let Some(returns) = &f.returns {
            facts.push(format!("returns `{}`", cell(returns)));
        }
        facts.push(format!("language {}", f.language));
        if f.kind == "function" {
            facts.push(f.volatility.clone());
        }
        if f.strict {
            facts.push("strict".into());
        }
        facts.push(if f.security_definer {
            format!("**security definer** (runs as {})", f.owner)
        } else {
            "security invoker".into()
        });
        if !f.config.is_empty() {
            facts.push(format!("sets `{}`", cell(&f.config.join(", "))));
        }
        writeln!(out, "{}.\n", capitalize(&facts.join(", "))).unwrap();
        let reads = match reads(f) {
            Reads::Tables(tables) if tables.is_empty() => "Uses no table.".to_string(),
            Reads::Tables(tables) => format!(
                "Uses {}.",
                tables
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Reads::Dynamic(tables) => format!(
                "Runs dynamic SQL (EXECUTE), so it may use any table{}.",
                if tables.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; also names {}",
                        tables
                            .iter()
                            .map(|t| format!("`{t}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ),
            Reads::Unknown => format!("Written in {}: what it reads is not known.", f.language),
        };
        writeln!(out, "{reads}\n").unwrap();
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

enum Reads {
    /// The relations its statements name, `public` ones unqualified.
    Tables(BTreeSet<String>),
    /// It builds SQL at run time; the relations its fixed statements name.
    Dynamic(BTreeSet<String>),
    /// A language Tenet cannot read (C, plpython, ...).
    Unknown,
}

fn reads(f: &Function) -> Reads {
    match f.language.as_str() {
        "sql" => Reads::Tables(sql_body(&f.definition)),
        "plpgsql" => plpgsql_body(&f.definition),
        _ => Reads::Unknown,
    }
}

/// The relations a SQL-language function reads: a `BEGIN ATOMIC` body is part of the
/// definition's parse tree; a string body is parsed on its own.
fn sql_body(definition: &str) -> BTreeSet<String> {
    let Ok(parsed) = pg_query::parse(definition, pg_query::ParserOptions::DEFAULT) else {
        return BTreeSet::new();
    };
    let mut tables = names(&parsed);
    for statement in &parsed.protobuf.stmts {
        let Some(Node::CreateFunctionStmt(create)) =
            statement.stmt.as_ref().and_then(|s| s.node.as_ref())
        else {
            continue;
        };
        for option in &create.options {
            let Some(Node::DefElem(element)) = option.node.as_ref() else {
                continue;
            };
            if element.defname != "as" {
                continue;
            }
            for text in strings(element.arg.as_deref()) {
                if let Ok(body) = pg_query::parse(&text, pg_query::ParserOptions::DEFAULT) {
                    tables.extend(names(&body));
                }
            }
        }
    }
    tables
}

/// The string constants of a DefElem's argument (the body of `AS '...'`).
fn strings(node: Option<&pg_query::protobuf::Node>) -> Vec<String> {
    match node.and_then(|n| n.node.as_ref()) {
        Some(Node::String(s)) => vec![s.sval.clone()],
        Some(Node::List(list)) => list
            .items
            .iter()
            .filter_map(|item| match item.node.as_ref() {
                Some(Node::String(s)) => Some(s.sval.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The relations named by the SQL statements of a PL/pgSQL body, and whether it runs
/// dynamic SQL.
fn plpgsql_body(definition: &str) -> Reads {
    let parsed = pg_query::parse_plpgsql(definition).or_else(|e| {
        as_plain_function(definition)
            .ok_or(e)
            .and_then(|d| pg_query::parse_plpgsql(&d))
    });
    let Ok(tree) = parsed else {
        return Reads::Unknown;
    };
    let mut queries = Vec::new();
    let mut dynamic = false;
    walk(&tree, &mut queries, &mut dynamic);
    let mut tables = BTreeSet::new();
    for query in queries {
        // Expressions are stored as the text PL/pgSQL hands the SQL parser; assignments
        // (`x := ...`) do not parse as statements, but then they read no table either, unless
        // through a subquery, which `SELECT` of the right-hand side finds.
        let text = match query.split_once(":=") {
            Some((_, value)) => format!("SELECT {value}"),
            None => query,
        };
        let parsed = pg_query::parse(&text, pg_query::ParserOptions::DEFAULT).or_else(|_| {
            pg_query::parse(&format!("SELECT {text}"), pg_query::ParserOptions::DEFAULT)
        });
        if let Ok(parsed) = parsed {
            tables.extend(names(&parsed));
        }
    }
    if dynamic {
        Reads::Dynamic(tables)
    } else {
        Reads::Tables(tables)
    }
}

/// libpg_query writes invalid JSON for trigger functions (their NEW and OLD records), so a
/// trigger function is read again as a plain function that declares `new` and `old` itself:
/// the statements, and so the tables, are the same.
fn as_plain_function(definition: &str) -> Option<String> {
    let returns = definition.find(" RETURNS trigger\n")?;
    let mut text = definition.to_string();
    text.replace_range(
        returns..returns + " RETURNS trigger\n".len(),
        " RETURNS record\n",
    );
    // pg_get_functiondef quotes the body with `$function$` (or `$functionN$`).
    let open = text.find("AS $function")? + "AS ".len();
    let tag_end = open + 1 + text[open + 1..].find('$')? + 1;
    text.insert_str(tag_end, "\nDECLARE new record; old record;\n");
    Some(text)
}

fn walk(value: &serde_json::Value, queries: &mut Vec<String>, dynamic: &mut bool) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                if key == "PLpgSQL_stmt_dynexecute" || key == "PLpgSQL_stmt_dynfors" {
                    *dynamic = true;
                }
                if key == "PLpgSQL_expr" {
                    if let Some(query) = inner.get("query").and_then(|q| q.as_str()) {
                        queries.push(query.to_string());
                    }
                }
                walk(inner, queries, dynamic);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                walk(item, queries, dynamic);
            }
        }
        _ => {}
    }
}

/// Relations a parse tree reads or writes, as the document names them.
fn names(parsed: &pg_query::ParseResult) -> BTreeSet<String> {
    parsed
        .tables()
        .into_iter()
        .map(|name| match name.strip_prefix("public.") {
            Some(rest) => rest.to_string(),
            None => name,
        })
        .collect()
}
