//! Lint every `.sql` file of the shared corpus (schemas other projects wrote) without a crash,
//! and render the findings in every format.
//!
//! The corpus is `<workspace>/../shared/corpus`, or `TENET_CORPUS` when set; without it the test
//! says so and passes.

use std::path::{Path, PathBuf};

use tenet_report::Sources;

fn corpus() -> Option<PathBuf> {
    let dir = match std::env::var_os("TENET_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    dir.is_dir().then_some(dir)
}

fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sql_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
}

#[test]
fn lints_every_corpus_file_without_a_crash() {
    let Some(dir) = corpus() else {
        eprintln!("skipped: no corpus at ../shared/corpus (set TENET_CORPUS to lint one)");
        return;
    };
    let mut files = Vec::new();
    sql_files(&dir, &mut files);
    assert!(!files.is_empty(), "no .sql files under {}", dir.display());
    let tenancy = tenet_config::Tenancy {
        column: "tenant_id".into(),
        setting: "app.tenant_id".into(),
        app_role: "app_user".into(),
        global_tables: vec![],
    };
    let mut total = 0;
    let mut sources = Sources::new();
    let mut all = Vec::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue; // not UTF-8: nothing PostgreSQL would read either
        };
        let name = path.strip_prefix(&dir).unwrap().display().to_string();
        let findings = tenet_lint::lint_sql(&name, &text, None, Some(&tenancy));
        for f in &findings {
            let l = f
                .location
                .as_ref()
                .expect("static findings have a location");
            assert!(l.line >= 1 && l.column >= 1, "{name}: {f:?}");
            assert!(
                (l.end_line, l.end_column) >= (l.line, l.column),
                "{name}: {f:?}"
            );
            assert!(l.span_in(&text).is_some(), "{name}: {f:?}");
        }
        total += findings.len();
        sources.insert(name, text);
        all.extend(findings);
    }
    let human = tenet_report::to_human_with(&all, &sources, false);
    assert!(human.lines().count() >= all.len());
    let sarif: serde_json::Value = serde_json::from_str(&tenet_report::to_sarif(
        &all,
        &tenet_lint::rules::rule_infos(None),
        None,
    ))
    .unwrap();
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        all.len()
    );
    eprintln!("linted {} corpus files: {total} findings", files.len());
}
