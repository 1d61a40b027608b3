//! SARIF 2.1.0 output (OASIS Static Analysis Results Interchange Format), the format GitHub
//! code scanning and other CI dashboards ingest.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::{Finding, RuleInfo, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Findings as a SARIF 2.1.0 log with one run.
///
/// - `rules` describe the rules (id, short description, help, default level); every rule a
///   finding names appears in `tool.driver.rules` even when `rules` does not list it (its
///   description is then taken from the finding).
/// - File locations become `physicalLocation`s with 1-based regions (columns count Unicode
///   code points: the run says `columnKind: unicodeCodePoints`); relative paths are relative
///   to `%SRCROOT%`, the repository root for code scanning.
/// - A finding about a database object rather than a file (advise, tenancy) carries the
///   object as a `logicalLocation`; since code scanning needs a file, `fallback_uri` (e.g. the
///   project's `tenet.toml` or migrations directory) is used as its physical location when
///   given.
pub fn to_sarif(findings: &[Finding], rules: &[RuleInfo], fallback_uri: Option<&str>) -> String {
    // Rule table: the given rules in their order, then any rule only findings mention.
    let mut table: Vec<Value> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for rule in rules {
        if index.contains_key(&rule.id) {
            continue;
        }
        index.insert(rule.id.clone(), table.len());
        table.push(rule_descriptor(
            &rule.id,
            &rule.summary,
            &rule.help,
            rule.severity,
        ));
    }
    for f in findings {
        if !index.contains_key(&f.rule) {
            index.insert(f.rule.clone(), table.len());
            let help = format!("{} Fix: {}", f.why, f.fix);
            table.push(rule_descriptor(&f.rule, &f.message, &help, f.severity));
        }
    }

    let results: Vec<Value> = findings
        .iter()
        .map(|f| result(f, index[&f.rule], fallback_uri))
        .collect();

    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "tenet",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": table,
                }
            },
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": {
                "%SRCROOT%": { "description": { "text": "The project root (where tenet.toml is)." } }
            },
            "results": results,
        }]
    });
    let mut text = serde_json::to_string_pretty(&log).expect("SARIF serializes");
    text.push('\n');
    text
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn rule_descriptor(id: &str, summary: &str, help: &str, severity: Severity) -> Value {
    json!({
        "id": id,
        "name": pascal_case(id),
        "shortDescription": { "text": summary },
        "fullDescription": { "text": format!("{summary}. {help}") },
        "help": { "text": help, "markdown": help },
        "defaultConfiguration": { "level": level(severity) },
        "properties": { "tags": ["postgresql", "tenet"] },
    })
}

fn result(f: &Finding, rule_index: usize, fallback_uri: Option<&str>) -> Value {
    let mut result = Map::new();
    result.insert("ruleId".into(), json!(f.rule));
    result.insert("ruleIndex".into(), json!(rule_index));
    result.insert("level".into(), json!(level(f.severity)));
    result.insert(
        "message".into(),
        json!({ "text": format!("{}\nWhy: {}\nFix: {}", f.message, f.why, f.fix) }),
    );
    let mut location = Map::new();
    let physical = match &f.location {
        Some(l) => Some(json!({
            "artifactLocation": artifact(&l.file),
            "region": {
                "startLine": l.line.max(1),
                "startColumn": l.column.max(1),
                "endLine": l.end_line.max(l.line).max(1),
                "endColumn": l.end_column.max(1),
            }
        })),
        None => fallback_uri.map(|uri| {
            json!({
                "artifactLocation": artifact(uri),
                "region": { "startLine": 1 }
            })
        }),
    };
    if let Some(physical) = physical {
        location.insert("physicalLocation".into(), physical);
    }
    if let Some(object) = &f.object {
        let (kind, name) = object.split_once(' ').unwrap_or(("object", object));
        location.insert(
            "logicalLocations".into(),
            json!([{ "fullyQualifiedName": name, "kind": kind }]),
        );
    }
    if !location.is_empty() {
        result.insert("locations".into(), json!([Value::Object(location)]));
    }
    // Stable across edits that move the finding: rule, object, file and message.
    let key = format!(
        "{}\u{0}{}\u{0}{}\u{0}{}",
        f.rule,
        f.object.as_deref().unwrap_or(""),
        f.location.as_ref().map_or("", |l| l.file.as_str()),
        f.message
    );
    result.insert(
        "partialFingerprints".into(),
        json!({ "tenetFindingHash/v1": format!("{:016x}", fnv1a(key.as_bytes())) }),
    );
    let mut properties = Map::new();
    if let Some(object) = &f.object {
        properties.insert("object".into(), json!(object));
    }
    properties.insert("why".into(), json!(f.why));
    properties.insert("fix".into(), json!(f.fix));
    result.insert("properties".into(), Value::Object(properties));
    Value::Object(result)
}

/// An artifactLocation: relative paths against `%SRCROOT%`, absolute ones as `file://` URIs.
fn artifact(path: &str) -> Value {
    let path = path.replace('\\', "/");
    if path.starts_with('/') {
        json!({ "uri": format!("file://{}", encode_path(&path)) })
    } else {
        let path = path.trim_start_matches("./");
        json!({ "uri": encode_path(path), "uriBaseId": "%SRCROOT%" })
    }
}

/// Percent-encode what may not appear raw in a URI path.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b':'
            | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn pascal_case(id: &str) -> String {
    id.split(['-', '_'])
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(first) => first.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uris() {
        assert_eq!(
            artifact("./migrations/1_a b.up.sql"),
            json!({ "uri": "migrations/1_a%20b.up.sql", "uriBaseId": "%SRCROOT%" })
        );
        assert_eq!(
            artifact("/tmp/x.sql"),
            json!({ "uri": "file:///tmp/x.sql" })
        );
        assert_eq!(pascal_case("index-not-concurrent"), "IndexNotConcurrent");
    }
}
