//! `tenet docs` on the Todo example and real-world schemas: every section, a Mermaid
//! `erDiagram` that follows Mermaid's grammar, deterministic output.

use std::path::{Path, PathBuf};

use tenet_catalog::{inspect, source, Catalog};

fn catalog_of(files: &[PathBuf]) -> Catalog {
    let db = tenet_testkit::test_db();
    let mut client = db.connect().unwrap();
    source::apply_files(&mut client, files).unwrap();
    inspect(&mut client).unwrap()
}

fn todo() -> (Catalog, tenet_config::Tenancy) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo");
    let files = source::sql_files(&root.join("schema/todo.sql")).unwrap();
    let config = tenet_config::Config::read(&root.join("tenet.toml")).unwrap();
    (catalog_of(&files), config.tenancy.unwrap())
}

/// Mermaid's erDiagram grammar, line by line: an entity block of `type name [keys]`
/// attributes, or a relationship `A <card>--<card> B : "label"`.
fn assert_valid_er_diagram(diagram: &str) {
    let word = |w: &str| {
        !w.is_empty()
            && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !w.starts_with(|c: char| c.is_ascii_digit())
    };
    let mut lines = diagram.lines();
    assert_eq!(lines.next(), Some("erDiagram"));
    let mut in_entity = false;
    for line in lines {
        let line = line.trim();
        if in_entity {
            if line == "}" {
                in_entity = false;
                continue;
            }
            let parts: Vec<&str> = line.splitn(3, ' ').collect();
            assert!(
                parts.len() >= 2 && word(parts[0]) && word(parts[1]),
                "bad attribute: {line}"
            );
            if let Some(keys) = parts.get(2) {
                assert!(
                    keys.split(", ").all(|k| ["PK", "FK", "UK"].contains(&k)),
                    "bad keys: {line}"
                );
            }
        } else if let Some(name) = line.strip_suffix(" {") {
            assert!(word(name), "bad entity: {line}");
            in_entity = true;
        } else {
            let (left, label) = line
                .split_once(" : ")
                .unwrap_or_else(|| panic!("bad line: {line}"));
            assert!(
                label.starts_with('"') && label.ends_with('"') && label.len() >= 2,
                "bad label: {line}"
            );
            let parts: Vec<&str> = left.split(' ').collect();
            assert_eq!(parts.len(), 3, "bad relationship: {line}");
            assert!(word(parts[0]) && word(parts[2]), "bad relationship: {line}");
            let (l, r) = parts[1].split_once("--").expect("identifying relationship");
            assert!(
                ["||", "|o"].contains(&l) && ["o{", "o|", "|{", "||"].contains(&r),
                "bad cardinality: {line}"
            );
        }
    }
    assert!(!in_entity, "unclosed entity");
}

fn diagram_of(markdown: &str) -> &str {
    let start = markdown.find("```mermaid\n").expect("a mermaid block") + "```mermaid\n".len();
    let end = start + markdown[start..].find("```").expect("closed block");
    &markdown[start..end]
}

#[test]
fn todo_docs_have_every_section_and_a_valid_diagram() {
    let (catalog, tenancy) = todo();
    let doc = tenet_docs::markdown(&catalog, Some(&tenancy));
    for section in [
        "## Entities",
        "## Relationships",
        "## Constraints",
        "## Indexing Strategy",
        "## Data Integrity Rules",
        "## Ownership and Isolation Rules",
        "## Entity-Relationship Diagram",
    ] {
        assert!(doc.contains(section), "{section} missing");
    }
    assert!(
        doc.contains(
            "- **tasks** (user_id) → **users** (id): many-to-one, required; ON DELETE CASCADE"
        ),
        "{doc}"
    );
    assert!(
        doc.contains("tasks rows belong to their users row"),
        "{doc}"
    );
    assert!(
        doc.contains("| status | `text` | no | `'todo'::text` | todo, doing or done. |"),
        "{doc}"
    );
    assert!(doc.contains("`tasks_user_id_status_idx` on (user_id, status) using btree: foreign key, tenant lookup"), "{doc}");
    assert!(
        doc.contains("| tasks | tenant-scoped | disabled | none |"),
        "{doc}"
    );
    assert!(doc.contains("- Trigger `tasks_touch_updated_at`"), "{doc}");
    let diagram = diagram_of(&doc);
    assert_valid_er_diagram(diagram);
    assert!(
        diagram.contains("    users ||--o{ tasks : \"user_id\""),
        "{diagram}"
    );
    assert!(diagram.contains("        uuid id PK"), "{diagram}");
    // Deterministic: the same schema gives the same document.
    let (again, _) = todo();
    assert_eq!(tenet_docs::markdown(&again, Some(&tenancy)), doc);
}

#[test]
fn real_world_schemas_render_valid_diagrams() {
    let corpus = std::env::var_os("TENET_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    let fixtures = corpus.join("migra-fixtures");
    if !fixtures.exists() {
        eprintln!("corpus not present at {}: skipped", fixtures.display());
        return;
    }
    let mut rendered = 0;
    for case in [
        "everything",
        "constraints",
        "dependencies",
        "partitioning",
        "identitycols",
    ] {
        let file = fixtures.join(case).join("b.sql");
        let doc = tenet_docs::markdown(&catalog_of(&[file]), None);
        assert!(doc.contains("## Entities") && doc.contains("## Relationships"));
        assert_valid_er_diagram(diagram_of(&doc));
        rendered += 1;
    }
    assert_eq!(rendered, 5);
}

#[test]
fn the_grammar_check_rejects_broken_diagrams() {
    for broken in [
        "erDiagram\n    my table {\n    }\n",
        "erDiagram\n    t {\n        timestamp with time zone at\n    }\n",
        "erDiagram\n    a ||--o{ b\n",
        "erDiagram\n    t {\n        int x\n",
    ] {
        let result = std::panic::catch_unwind(|| assert_valid_er_diagram(broken));
        assert!(result.is_err(), "accepted: {broken}");
    }
}
