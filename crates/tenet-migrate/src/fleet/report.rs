//! Fleet results for a person (a table, then the details of what went wrong, then a summary)
//! and as JSON. Targets are always named by their redacted label.

use std::time::Duration;

use serde_json::{json, Value};

use super::apply::{Outcome, Status};
use super::check::Checked;
use super::status::{groups, Standing};

fn version(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("none")
}

fn indented(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}\n"))
        .collect::<String>()
}

pub fn apply_json(outcomes: &[Outcome], elapsed: Duration) -> Value {
    let targets: Vec<Value> = outcomes
        .iter()
        .map(|o| {
            json!({
                "target": o.target,
                "status": o.status.as_str(),
                "version_before": o.before,
                "version_after": o.after,
                "applied": o.applied,
                "duration_ms": o.duration.as_millis() as u64,
                "error": o.error,
                "notes": o.notes,
            })
        })
        .collect();
    let count = |s: Status| outcomes.iter().filter(|o| o.status == s).count();
    json!({
        "targets": targets,
        "summary": {
            "total": outcomes.len(),
            "applied": count(Status::Applied),
            "up_to_date": count(Status::UpToDate),
            "failed": count(Status::Failed),
            "not_attempted": count(Status::NotAttempted),
            "duration_ms": elapsed.as_millis() as u64,
        }
    })
}

pub fn apply_human(outcomes: &[Outcome], elapsed: Duration) -> String {
    let width = outcomes
        .iter()
        .map(|o| o.target.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = format!(
        "{:<width$}  {:<24} {:<24} {:>8}  STATUS\n",
        "TARGET", "BEFORE", "AFTER", "TIME"
    );
    for o in outcomes {
        let status = match o.status {
            Status::Applied => format!("applied {}", o.applied.len()),
            Status::UpToDate => "up to date".into(),
            Status::Failed => "FAILED".into(),
            Status::NotAttempted => "not attempted".into(),
        };
        out.push_str(&format!(
            "{:<width$}  {:<24} {:<24} {:>6}ms  {status}\n",
            o.target,
            version(&o.before),
            version(&o.after),
            o.duration.as_millis()
        ));
    }
    let failed: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.status == Status::Failed)
        .collect();
    for o in &failed {
        out.push_str(&format!("\n{} failed:\n", o.target));
        out.push_str(&indented(o.error.as_deref().unwrap_or("")));
    }
    let skipped: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.status == Status::NotAttempted)
        .collect();
    if let Some(first) = skipped.first() {
        out.push_str(&format!(
            "\n{} target(s) {}\n",
            skipped.len(),
            first.error.as_deref().unwrap_or("not attempted")
        ));
    }
    let count = |s: Status| outcomes.iter().filter(|o| o.status == s).count();
    out.push_str(&format!(
        "\n{} target(s): {} applied, {} up to date, {} failed, {} not attempted, in {:.1} s\n",
        outcomes.len(),
        count(Status::Applied),
        count(Status::UpToDate),
        count(Status::Failed),
        count(Status::NotAttempted),
        elapsed.as_secs_f64()
    ));
    out
}

pub fn status_json(standings: &[Standing]) -> Value {
    let targets: Vec<Value> = standings
        .iter()
        .map(|s| {
            json!({
                "target": s.target, "version": s.version, "pending": s.pending, "error": s.error,
            })
        })
        .collect();
    let groups: Vec<Value> = groups(standings)
        .into_iter()
        .map(|(version, count)| json!({ "version": version, "targets": count }))
        .collect();
    json!({ "groups": groups, "targets": targets })
}

pub fn status_human(standings: &[Standing]) -> String {
    let summary: Vec<String> = groups(standings)
        .into_iter()
        .map(|(version, count)| format!("{count} at {version}"))
        .collect();
    let width = standings
        .iter()
        .map(|s| s.target.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = format!("{:<width$}  {:<24} PENDING\n", "TARGET", "VERSION");
    for s in standings {
        let pending = match &s.error {
            Some(e) => format!("cannot read: {e}"),
            None if s.pending.is_empty() => "-".into(),
            None => format!("{} ({})", s.pending.len(), s.pending.join(", ")),
        };
        out.push_str(&format!(
            "{:<width$}  {:<24} {pending}\n",
            s.target,
            version(&s.version)
        ));
    }
    out.push_str(&format!(
        "\n{} target(s): {}\n",
        standings.len(),
        summary.join(", ")
    ));
    out
}

pub fn check_json(checks: &[Checked]) -> Value {
    let targets: Vec<Value> = checks
        .iter()
        .map(|c| {
            json!({
                "target": c.target, "version": c.version, "pending": c.pending,
                "drift": c.drift, "error": c.error, "clean": c.is_clean(),
            })
        })
        .collect();
    json!({
        "targets": targets,
        "summary": {
            "total": checks.len(),
            "clean": checks.iter().filter(|c| c.is_clean()).count(),
            "pending": checks.iter().filter(|c| !c.pending.is_empty()).count(),
            "drift": checks.iter().filter(|c| c.drift.is_some()).count(),
            "error": checks.iter().filter(|c| c.error.is_some()).count(),
        }
    })
}

pub fn check_human(checks: &[Checked]) -> String {
    let mut out = String::new();
    for c in checks.iter().filter(|c| !c.is_clean()) {
        out.push_str(&format!("{} (at {}):\n", c.target, version(&c.version)));
        if !c.pending.is_empty() {
            out.push_str(&format!(
                "    {} pending: {}\n",
                c.pending.len(),
                c.pending.join(", ")
            ));
        }
        if let Some(drift) = &c.drift {
            out.push_str(&indented(drift));
        }
        if let Some(error) = &c.error {
            out.push_str(&indented(&format!("cannot check: {error}")));
        }
    }
    let count = |f: &dyn Fn(&Checked) -> bool| checks.iter().filter(|c| f(c)).count();
    out.push_str(&format!(
        "{} target(s): {} clean, {} with pending migrations, {} drifted, {} not checked\n",
        checks.len(),
        count(&|c| c.is_clean()),
        count(&|c| !c.pending.is_empty()),
        count(&|c| c.drift.is_some()),
        count(&|c| c.error.is_some()),
    ));
    out
}
