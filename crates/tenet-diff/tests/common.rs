#![allow(dead_code)] // shared by several test binaries, each using part of it
//! The plan property: apply `from`, apply the plan, inspect; the result must equal `to`.

use std::path::Path;

use tenet_catalog::{inspect, source, Catalog};
use tenet_diff::{plan, Options, Plan};
use tenet_testkit::test_db;

/// Load SQL into a fresh database and read its catalog.
pub fn catalog_of(name: &str, sql: &str) -> Result<(tenet_pg::ScratchDb, Catalog), String> {
    let db = test_db();
    let mut client = db.connect().map_err(|e| e.to_string())?;
    source::apply_script_trusted(&mut client, Path::new(name), sql).map_err(|e| e.to_string())?;
    let catalog = inspect(&mut client).map_err(|e| e.to_string())?;
    Ok((db, catalog))
}

/// Run the property for one direction; `Err` says why it does not hold.
pub fn check_direction(name: &str, from_sql: &str, to_sql: &str) -> Result<Outcome, String> {
    run_direction(name, from_sql, to_sql).map(|(outcome, _, _)| outcome)
}

/// [`check_direction`], and then `pg_dump -s` of the planned database must equal that of the
/// target's.
pub fn check_direction_and_dump(
    name: &str,
    from_sql: &str,
    to_sql: &str,
) -> Result<Outcome, String> {
    let (outcome, planned, target) = run_direction(name, from_sql, to_sql)?;
    let (got, want) = (schema_dump(&planned), schema_dump(&target));
    if got != want {
        let first = got
            .lines()
            .zip(want.lines())
            .position(|(g, w)| g != w)
            .unwrap_or(got.lines().count().min(want.lines().count()));
        let around = |text: &str| -> String {
            let lines: Vec<&str> = text.lines().collect();
            lines[first.saturating_sub(4)..(first + 4).min(lines.len())].join("\n")
        };
        return Err(format!(
            "pg_dump differs at line {}\n--- target ---\n{}\n--- planned ---\n{}\n--- plan ---\n{}",
            first + 1,
            around(&want),
            around(&got),
            outcome.plan.to_sql()
        ));
    }
    Ok(outcome)
}

/// `pg_dump --schema-only` without comments, settings and blank lines.
pub fn schema_dump(db: &tenet_pg::ScratchDb) -> String {
    let out = std::process::Command::new("pg_dump")
        .args(["--schema-only", "--no-owner", "--no-privileges", "--dbname"])
        .arg(db.url())
        .output()
        .expect("pg_dump runs");
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            !l.is_empty()
                && !l.starts_with("--")
                && !l.starts_with("SET ")
                // pg_dump's random `\restrict` key.
                && !l.starts_with("\\restrict")
                && !l.starts_with("\\unrestrict")
                && !l.starts_with("SELECT pg_catalog.set_config")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn run_direction(
    name: &str,
    from_sql: &str,
    to_sql: &str,
) -> Result<(Outcome, tenet_pg::ScratchDb, tenet_pg::ScratchDb), String> {
    let (db, from) = catalog_of(&format!("{name} (from)"), from_sql)?;
    let (to_db, to) = catalog_of(&format!("{name} (to)"), to_sql)?;
    let options = Options {
        allow_destructive: true,
    };
    let plan = plan(&from, &to, &options).map_err(|e| e.to_string())?;
    let mut client = db.connect().map_err(|e| e.to_string())?;
    client.batch_execute(tenet_diff::SESSION_SETTINGS).unwrap();
    for step in &plan.steps {
        // Each step on its own, as `tenet migrate` runs non-transactional steps.
        if let Err(e) = client.batch_execute(&step.sql) {
            let message = e
                .as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or(e.to_string());
            return Err(format!(
                "step for {} failed: {message}\n--- step ---\n{}\n--- plan ---\n{}",
                step.object,
                step.sql,
                plan.to_sql()
            ));
        }
    }
    let after = inspect(&mut client).map_err(|e| e.to_string())?;
    // PostgreSQL appends new columns; no plan can reorder the columns of a table that stays.
    // That one difference is allowed, and reported by the caller.
    let column_order_only = first_difference(&to, &after).is_some()
        && first_difference(&by_column_name(&to), &by_column_name(&after)).is_none();
    if let Some(difference) = first_difference(&by_column_name(&to), &by_column_name(&after)) {
        return Err(format!(
            "result differs from target: {difference}\n--- plan ---\n{}",
            plan.to_sql()
        ));
    }
    if column_order_only {
        let outcome = Outcome {
            plan,
            column_order_differs: true,
        };
        return Ok((outcome, db, to_db));
    }
    // Once applied, there is nothing left to do.
    let again = tenet_diff::plan(&after, &to, &options).map_err(|e| e.to_string())?;
    if !again.is_empty() {
        return Err(format!(
            "plan not empty after applying:\n{}",
            again.to_sql()
        ));
    }
    let outcome = Outcome {
        plan,
        column_order_differs: false,
    };
    Ok((outcome, db, to_db))
}

pub struct Outcome {
    pub plan: Plan,
    /// The result equals the target except for the order of some table's columns.
    pub column_order_differs: bool,
}

/// The catalog with every table's columns sorted by name.
pub fn by_column_name(c: &Catalog) -> Catalog {
    let mut c = c.clone();
    for t in &mut c.tables {
        t.columns.sort_by(|a, b| a.name.cmp(&b.name));
    }
    c
}

pub fn first_difference(expected: &Catalog, actual: &Catalog) -> Option<String> {
    if expected == actual {
        return None;
    }
    let e = serde_json::to_string_pretty(expected).unwrap();
    let a = serde_json::to_string_pretty(actual).unwrap();
    let (e, a): (Vec<&str>, Vec<&str>) = (e.lines().collect(), a.lines().collect());
    let first = e
        .iter()
        .zip(&a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    let from = first.saturating_sub(6);
    Some(format!(
        "at JSON line {}\n--- expected ---\n{}\n--- actual ---\n{}",
        first + 1,
        e[from..(first + 6).min(e.len())].join("\n"),
        a[from..(first + 6).min(a.len())].join("\n")
    ))
}
