//! Every schema pair of the migra fixtures in ../shared/corpus (when present): plan a -> b and
//! b -> a; applying the plan must give exactly the target.

mod common;

use std::path::PathBuf;

/// Roles the fixtures grant to; roles are cluster-wide.
fn create_roles() {
    let db = tenet_testkit::test_db();
    tenet_testkit::exec(
        &db,
        "do $$ begin create role schemainspect_test_role; exception when duplicate_object or unique_violation then null; end $$",
    );
}

#[test]
fn every_fixture_pair_plans_correctly_both_ways() {
    let Some(fixtures) = tenet_testkit::corpus("migra-fixtures") else {
        return;
    };
    let entries = std::fs::read_dir(&fixtures).unwrap();
    create_roles();
    let mut cases: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    cases.sort();
    // Each direction needs three databases; run a few cases at once.
    let outcomes: Vec<(String, Result<common::Outcome, String>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = cases
            .chunks(cases.len().div_ceil(4).max(1))
            .map(|chunk| {
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for case in chunk {
                        let name = case.file_name().unwrap().to_string_lossy().to_string();
                        let (Ok(a), Ok(b)) = (
                            std::fs::read_to_string(case.join("a.sql")),
                            std::fs::read_to_string(case.join("b.sql")),
                        ) else {
                            continue;
                        };
                        for (direction, from, to) in [("a->b", &a, &b), ("b->a", &b, &a)] {
                            let label = format!("{name} {direction}");
                            out.push((label.clone(), common::check_direction(&label, from, to)));
                        }
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let (mut passed, mut reordered, mut skipped, mut failed, mut known) =
        (0, Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (label, outcome) in outcomes {
        match outcome {
            Ok(o) => {
                passed += 1;
                if o.column_order_differs {
                    reordered.push(label);
                }
            }
            Err(e) if e.contains("extension") && e.contains("not available") => {
                skipped.push(format!("{label}: {}", e.lines().next().unwrap_or_default()))
            }
            Err(e) => match KNOWN_FAILURES.iter().find(|(case, _)| *case == label) {
                Some((_, why)) => known.push(format!("{label}: {why}")),
                None => failed.push(format!("{label}: {e}")),
            },
        }
    }
    eprintln!(
        "migra fixtures: {passed} directions pass, {} fail for a known reason, {} skipped, {} fail",
        known.len(),
        skipped.len(),
        failed.len()
    );
    if !reordered.is_empty() {
        eprintln!(
            "  new columns appended, so column order differs from the target: {}",
            reordered.join(", ")
        );
    }
    for k in &known {
        eprintln!("  known: {k}");
    }
    for s in &skipped {
        eprintln!("  skipped {s}");
    }
    for f in &failed {
        eprintln!("  FAILED {f}\n");
    }
    assert!(
        failed.is_empty(),
        "{} fixture directions fail",
        failed.len()
    );
    assert!(passed > 0);
}

/// Directions no plan can do, and why.
const KNOWN_FAILURES: &[(&str, &str)] = &[(
    "extversions b->a",
    "a downgrade: pg_trgm has no update path from 1.4 to 1.3, so only dropping the extension \
     (and everything using it) and creating it again would do",
)];
