//! `tenet docs` on the Todo example and real-world schemas: every section, a Mermaid
//! `erDiagram` that follows Mermaid's grammar, deterministic output.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use tenet_catalog::{inspect, source, Catalog};

fn catalog_of(files: &[PathBuf]) -> Catalog {
    let db = tenet_testkit::test_db();
    let mut client = db.connect().unwrap();
    source::apply_files_trusted(&mut client, files).unwrap();
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
    let Some(fixtures) = tenet_testkit::corpus("migra-fixtures") else {
        return;
    };
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

/// Every fenced Mermaid block of a document.
fn diagrams_of(markdown: &str) -> Vec<&str> {
    markdown
        .split("```mermaid\n")
        .skip(1)
        .map(|rest| &rest[..rest.find("```").expect("closed block")])
        .collect()
}

/// A 519-table schema gave one 176,686-character diagram, over Mermaid's 50,000 limit, so
/// GitHub rendered nothing.
#[test]
fn a_schema_too_large_for_one_diagram_is_drawn_in_parts() {
    let db = tenet_testkit::test_db();
    let mut sql = String::from("CREATE SCHEMA billing;\n");
    // 60 groups of 10 tables, each table pointing at the one before it; 40 groups in public,
    // 20 in billing.
    for group in 0..60 {
        let schema = if group < 40 { "public" } else { "billing" };
        for i in 0..10 {
            let name = format!("{schema}.g{group}_t{i}");
            let parent = (i > 0).then(|| format!("{schema}.g{group}_t{}", i - 1));
            writeln!(
                sql,
                "CREATE TABLE {name} (id bigint PRIMARY KEY, label text NOT NULL, \
                 created_at timestamptz NOT NULL DEFAULT now(), notes text, amount numeric{});",
                parent
                    .map(|p| format!(", parent_id bigint NOT NULL REFERENCES {p}"))
                    .unwrap_or_default()
            )
            .unwrap();
        }
    }
    tenet_testkit::exec(&db, &sql);
    let catalog = inspect(&mut db.connect().unwrap()).unwrap();
    assert!(tenet_docs::mermaid(&catalog).len() > tenet_docs::MAX_DIAGRAM);

    let doc = tenet_docs::markdown(&catalog, None);
    let diagrams = diagrams_of(&doc);
    assert!(diagrams.len() >= 3, "{} diagrams", diagrams.len());
    let mut entities = Vec::new();
    let mut relationships = 0;
    for d in &diagrams {
        assert!(d.len() <= tenet_docs::MAX_DIAGRAM, "{} characters", d.len());
        assert_valid_er_diagram(d);
        entities.extend(
            d.lines()
                .filter_map(|l| l.trim().strip_suffix(" {"))
                .map(str::to_string),
        );
        relationships += d.lines().filter(|l| l.contains("--")).count();
    }
    entities.sort();
    let drawn = entities.len();
    entities.dedup();
    assert_eq!((drawn, entities.len()), (600, 600), "each table once");
    // Groups are never cut: every foreign key is drawn.
    assert_eq!(relationships, 60 * 9);
    assert!(
        doc.contains("- Schema billing: 200 tables"),
        "{}",
        &doc[..2000]
    );
}

#[test]
fn functions_and_procedures_are_documented() {
    let db = tenet_testkit::test_db();
    tenet_testkit::exec(
        &db,
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);
         CREATE TABLE tasks (id bigint PRIMARY KEY, user_id bigint REFERENCES users, title text);
         CREATE FUNCTION open_tasks(p_user bigint) RETURNS SETOF tasks LANGUAGE sql STABLE
           AS 'SELECT * FROM tasks WHERE user_id = p_user';
         COMMENT ON FUNCTION open_tasks(bigint) IS 'A user''s tasks.';
         CREATE FUNCTION task_count(p_user bigint) RETURNS bigint LANGUAGE sql STABLE
           BEGIN ATOMIC SELECT count(*) FROM tasks t JOIN users u ON u.id = t.user_id WHERE u.id = p_user; END;
         CREATE FUNCTION find_user(p_email text) RETURNS bigint LANGUAGE plpgsql
           SECURITY DEFINER SET search_path = public AS $$
           DECLARE found bigint;
           BEGIN
             SELECT id INTO found FROM users WHERE email = p_email;
             found := coalesce(found, (SELECT max(id) FROM tasks));
             RETURN found;
           END $$;
         CREATE PROCEDURE purge(p_table text) LANGUAGE plpgsql AS $$
           BEGIN EXECUTE format('DELETE FROM %I', p_table); END $$;
         -- libpg_query cannot print trigger functions' trees as JSON; they are read all the same.
         CREATE TABLE audit_log (title text);
         CREATE FUNCTION write_audit() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN INSERT INTO audit_log (title) VALUES (NEW.title); RETURN NEW; END $$;",
    );
    let catalog = inspect(&mut db.connect().unwrap()).unwrap();
    let doc = tenet_docs::markdown(&catalog, None);
    let section = &doc[doc.find("## Functions and Procedures").unwrap()..];
    let section = &section[..section.find("\n## Entity").unwrap()];
    for expected in [
        "### open_tasks(p_user bigint) (function)",
        "A user's tasks.",
        "Returns `SETOF public.tasks`, language sql, stable, security invoker.",
        "Uses `tasks`.",
        "### task_count(p_user bigint) (function)",
        "Uses `tasks`, `users`.",
        "### find_user(p_email text) (function)",
        "**security definer** (runs as",
        "sets `search_path=public`",
        "### purge(IN p_table text) (procedure)",
        "Runs dynamic SQL (EXECUTE), so it may use any table.",
        "### write_audit() (function)",
        "Uses `audit_log`.",
    ] {
        assert!(
            section.contains(expected),
            "missing {expected:?} in\n{section}"
        );
    }
    // find_user reads users (SELECT INTO) and tasks (a subquery in an assignment).
    let find_user = &section[section.find("### find_user").unwrap()..];
    let find_user = &find_user[..find_user.find("### purge").unwrap()];
    assert!(find_user.contains("Uses `tasks`, `users`."), "{find_user}");
}

#[test]
fn partitions_are_listed_under_their_parent() {
    let db = tenet_testkit::test_db();
    tenet_testkit::exec(
        &db,
        "CREATE TABLE accounts (id bigint PRIMARY KEY);
         CREATE TABLE events (id bigint, account_id bigint REFERENCES accounts, at date NOT NULL,
           PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
         CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
         CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');",
    );
    let catalog = inspect(&mut db.connect().unwrap()).unwrap();
    let doc = tenet_docs::markdown(&catalog, None);
    assert!(!doc.contains("### events_2025"), "{doc}");
    assert!(
        doc.contains(
            "Partitioned by RANGE (at). Partitions: `events_2025` (FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')), `events_2026`"
        ),
        "{doc}"
    );
    let diagram = diagram_of(&doc);
    assert_valid_er_diagram(diagram);
    assert!(!diagram.contains("events_2025"), "{diagram}");
    assert_eq!(
        diagram.matches("accounts |o--o{ events").count(),
        1,
        "{diagram}"
    );
}
