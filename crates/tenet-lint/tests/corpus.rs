//! Lint every `.sql` file of the shared corpus (schemas other projects wrote) without a crash,
//! and render the findings in every format.
//!
//! The corpus is `<workspace>/../shared/corpus`, or `TENET_CORPUS` when set; without it the test
//! says so and passes.

use std::path::{Path, PathBuf};

use tenet_report::Sources;

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
    let Some(dir) = tenet_testkit::corpus("") else {
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
        ..Default::default()
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

/// The migrations of a corpus history, in version order; `directive`: files upstream runs
/// outside a transaction (`-- postgres-migrations disable-transaction`) get Tenet's
/// `-- tenet:no-transaction` on their first line.
fn history(dir: &Path, directive: bool) -> Vec<tenet_lint::SourceFile> {
    let planned = tenet_lint::migrations::directory_files(dir).unwrap();
    planned
        .into_iter()
        .map(|path| {
            let mut text = std::fs::read_to_string(&path).unwrap();
            if directive && text.contains("-- postgres-migrations disable-transaction") {
                text = format!("-- tenet:no-transaction\n{text}");
            }
            tenet_lint::SourceFile {
                name: path.file_name().unwrap().to_string_lossy().into_owned(),
                path,
                text,
                lint: true,
            }
        })
        .collect()
}

/// What the Supabase platform provisions before storage's migrations run, replayed first (not
/// linted). Upstream's runner sets `storage.install_roles` to false there; left to itself, the
/// DO block of 0002 creates these roles with dynamic SQL and grants the superuser role
/// `postgres` to `authenticator`, which the replay's sandbox (an unprivileged role) cannot do.
fn supabase_roles() -> tenet_lint::SourceFile {
    let text = "CREATE ROLE anon NOLOGIN NOINHERIT;\n\
                CREATE ROLE authenticated NOLOGIN NOINHERIT;\n\
                CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;\n\
                CREATE ROLE authenticator LOGIN NOINHERIT;\n\
                GRANT anon, authenticated, service_role TO authenticator;\n\
                SET storage.install_roles = 'false';\n";
    tenet_lint::SourceFile {
        name: "supabase_platform_roles.sql".to_string(),
        path: std::path::PathBuf::from("supabase_platform_roles.sql"),
        text: text.to_string(),
        lint: false,
    }
}

/// Supabase's auth and storage histories, replayed and linted on an embedded cluster (storage
/// creates roles such as `anon`: never on the shared server). Every finding is printed; the
/// sample reviewed by hand is in ARCHITECTURE.md.
#[test]
fn lints_the_supabase_histories_with_the_replay() {
    let Some(dir) = tenet_testkit::corpus("") else {
        return;
    };
    let server = tenet_pg::Server::embedded().expect("an embedded cluster");
    let mut counts = std::collections::BTreeMap::new();
    for (history_dir, directive) in [
        ("supabase_auth/migrations", false),
        ("supabase_storage/migrations", true),
        ("supabase_storage/migrations", false),
    ] {
        let mut files = history(&dir.join(history_dir), directive);
        assert!(files.len() > 50, "{history_dir}");
        if history_dir.contains("storage") {
            files.insert(0, supabase_roles());
        }
        let mut sandbox = tenet_lint::migrations::open_replay(&server).unwrap();
        let report = tenet_lint::lint_files(
            &files,
            Some(&mut sandbox),
            None,
            tenet_lint::Options::default(),
        )
        .unwrap();
        drop(sandbox);
        for f in &report.findings {
            let l = f.location.as_ref().unwrap();
            eprintln!(
                "{history_dir} (directive {directive}): {}:{}:{}: {}[{}] {}",
                l.file, l.line, l.column, f.severity, f.rule, f.message
            );
            *counts
                .entry((history_dir, directive, f.rule.clone()))
                .or_insert(0) += 1;
        }
        // Every file replays: the facts of every migration come from its history.
        assert!(
            report
                .files
                .iter()
                .all(|f| f.facts == tenet_lint::FactsSource::Replay),
            "{history_dir}: {:#?}",
            report
                .files
                .iter()
                .filter(|f| f.facts != tenet_lint::FactsSource::Replay)
                .collect::<Vec<_>>()
        );
        let rules: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
        assert!(!rules.contains(&"migration-fails"), "{history_dir}");
        assert!(!rules.contains(&"syntax-error"), "{history_dir}");
        // Storage's two batched backfills COMMIT inside a DO block: fine when the file runs
        // outside a transaction, a failure when it does not.
        let commits: Vec<&String> = report
            .findings
            .iter()
            .filter(|f| f.rule == "commit-in-do-block")
            .map(|f| &f.location.as_ref().unwrap().file)
            .collect();
        if history_dir.contains("storage") && !directive {
            assert!(commits.len() >= 4, "{commits:?}");
            assert!(
                commits.iter().any(|f| f.starts_with("0029_")),
                "{commits:?}"
            );
        } else {
            assert!(commits.is_empty(), "{history_dir}: {commits:?}");
        }
        // Observed, not only predicted: the lock findings of a replayed history say so.
        let observed = report
            .findings
            .iter()
            .filter(|f| f.message.contains("(observed in the replay"))
            .count();
        assert!(observed > 0, "{history_dir}");
    }
    for ((dir, directive, rule), n) in &counts {
        eprintln!("{dir} (directive {directive}): {rule}: {n}");
    }
}
