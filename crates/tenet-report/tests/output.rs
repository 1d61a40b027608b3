//! The three outputs of findings: human diagnostics (snapshot), JSON, and SARIF validated
//! against the SARIF 2.1.0 JSON schema.
//!
//! `tests/schema/sarif-2.1.0-rtm.5.json` is the OASIS SARIF 2.1.0 schema (final, rtm.5) as
//! shipped in the npm package `@microsoft/jest-sarif` 1.0.0-beta.0 (`lib/schemas/`).

use tenet_report::{
    to_human, to_human_with, to_json, to_sarif, Finding, Location, RuleInfo, Severity, Sources,
};

const SQL: &str =
    "-- add an index\nSET lock_timeout = '2s';\nCREATE INDEX users_email_idx ON users (email);\n";

fn findings() -> Vec<Finding> {
    let start = SQL.find("CREATE INDEX").unwrap();
    vec![
        Finding {
            rule: "index-not-concurrent".into(),
            severity: Severity::Error,
            object: Some("table public.users".into()),
            message: "CREATE INDEX on public.users without CONCURRENTLY".into(),
            why: "A plain CREATE INDEX blocks every write to the table while the index builds."
                .into(),
            fix:
                "CREATE INDEX CONCURRENTLY users_email_idx ON users (email), outside a transaction."
                    .into(),
            location: Some(Location::from_span(
                "migrations/20240101000000_users.up.sql",
                SQL,
                start,
                start + "CREATE INDEX".len(),
            )),
        },
        Finding {
            rule: "unindexed-foreign-key".into(),
            severity: Severity::Info,
            object: Some("table public.tasks".into()),
            message: "foreign key tasks_user_id_fkey (user_id) has no index".into(),
            why: "Deleting a user scans tasks.".into(),
            fix: "CREATE INDEX CONCURRENTLY ON public.tasks (user_id);".into(),
            location: None,
        },
    ]
}

fn rules() -> Vec<RuleInfo> {
    vec![RuleInfo {
        id: "index-not-concurrent".into(),
        severity: Severity::Error,
        summary: "Index created or dropped without CONCURRENTLY".into(),
        help: "Use CREATE INDEX CONCURRENTLY.".into(),
    }]
}

#[test]
fn human_diagnostics_underline_the_source() {
    let mut sources = Sources::new();
    sources.insert("migrations/20240101000000_users.up.sql", SQL);
    let text = to_human_with(&findings(), &sources, false);
    let expected = "\
error[index-not-concurrent]: CREATE INDEX on public.users without CONCURRENTLY
 --> migrations/20240101000000_users.up.sql:3:1
  |
3 | CREATE INDEX users_email_idx ON users (email);
  | ^^^^^^^^^^^^
  |
  = note: object: table public.users
  = note: why: A plain CREATE INDEX blocks every write to the table while the index builds.
  = help: CREATE INDEX CONCURRENTLY users_email_idx ON users (email), outside a transaction.

info[unindexed-foreign-key]: foreign key tasks_user_id_fkey (user_id) has no index
 = note: object: table public.tasks
 = note: why: Deleting a user scans tasks.
 = help: CREATE INDEX CONCURRENTLY ON public.tasks (user_id);

";
    assert_eq!(text, expected, "\n{text}");
}

#[test]
fn human_diagnostics_without_source_still_name_the_position() {
    let text = to_human_with(&findings()[..1], &Sources::new(), false);
    assert!(
        text.contains("at: migrations/20240101000000_users.up.sql:3:1"),
        "{text}"
    );
    let coloured = to_human_with(&findings()[..1], &Sources::new(), true);
    assert!(coloured.contains("\u{1b}["), "{coloured}");
}

#[test]
fn plain_human_output_is_unchanged() {
    let text = to_human(&findings()[..1]);
    assert!(text.starts_with(
        "migrations/20240101000000_users.up.sql:3:1: error[index-not-concurrent]: CREATE INDEX"
    ));
}

#[test]
fn json_round_trips() {
    let json = to_json(&findings());
    let back: Vec<Finding> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, findings());
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value[0]["location"]["line"], 3);
    assert_eq!(value[0]["location"]["end_column"], 13);
}

fn sarif_schema() -> jsonschema::Validator {
    // The schema's `language` pattern has a bare `]`, a literal in ECMAScript regexes but an
    // error for Rust's regex engine: escape it (same meaning) so the schema compiles.
    let text = include_str!("schema/sarif-2.1.0-rtm.5.json")
        .replace("[a-zA-Z]{2}]?$", "[a-zA-Z]{2}\\\\]?$");
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

/// Validate against the schema; returns the log.
pub fn validate_sarif(text: &str) -> serde_json::Value {
    let log: serde_json::Value = serde_json::from_str(text).expect("SARIF is JSON");
    let validator = sarif_schema();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF invalid: {errors:#?}\n{text}");
    log
}

#[test]
fn sarif_validates_against_the_schema_and_carries_rule_metadata() {
    let text = to_sarif(&findings(), &rules(), Some("tenet.toml"));
    let log = validate_sarif(&text);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules[0]["id"], "index-not-concurrent");
    assert_eq!(
        rules[0]["shortDescription"]["text"],
        "Index created or dropped without CONCURRENTLY"
    );
    assert_eq!(rules[0]["help"]["text"], "Use CREATE INDEX CONCURRENTLY.");
    assert_eq!(rules[0]["defaultConfiguration"]["level"], "error");
    // A rule only a finding names still gets a descriptor.
    assert_eq!(rules[1]["id"], "unindexed-foreign-key");

    let results = run["results"].as_array().unwrap();
    assert_eq!(results[0]["ruleId"], "index-not-concurrent");
    assert_eq!(results[0]["ruleIndex"], 0);
    assert_eq!(results[0]["level"], "error");
    let region = &results[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 3);
    assert_eq!(region["startColumn"], 1);
    assert_eq!(region["endColumn"], 13);
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "migrations/20240101000000_users.up.sql"
    );
    // Database objects: a logical location, and the fallback file for code scanning.
    assert_eq!(results[1]["level"], "note");
    assert_eq!(
        results[1]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "public.tasks"
    );
    assert_eq!(
        results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "tenet.toml"
    );
}

#[test]
fn an_empty_sarif_log_validates() {
    validate_sarif(&to_sarif(&[], &rules(), None));
    validate_sarif(&to_sarif(&findings()[1..], &[], None));
}

#[test]
fn the_schema_rejects_a_broken_log() {
    let validator = sarif_schema();
    let broken = serde_json::json!({ "version": "2.1.0", "runs": [{ "results": [] }] });
    assert!(
        !validator.is_valid(&broken),
        "a run without a tool must be invalid"
    );
}
