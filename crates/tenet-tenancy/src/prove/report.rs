//! The outcome of a probe and the matrix a person reads.

use super::*;

pub(super) fn pass(detail: impl Into<String>) -> Cell {
    Cell {
        status: Status::Pass,
        detail: detail.into(),
    }
}

pub(super) fn leak(detail: impl Into<String>) -> Cell {
    Cell {
        status: Status::Leak,
        detail: detail.into(),
    }
}

pub(super) fn untested(detail: impl Into<String>) -> Cell {
    Cell {
        status: Status::Untested,
        detail: detail.into(),
    }
}

pub(super) fn is_denied(e: &postgres::Error) -> bool {
    e.as_db_error()
        .is_some_and(|d| d.code().code() == "42501" && d.message().starts_with("permission denied"))
}

pub(super) fn is_rls_violation(e: &postgres::Error) -> bool {
    e.as_db_error()
        .is_some_and(|d| d.code().code() == "42501" && d.message().contains("row-level security"))
}

pub(super) fn is_fk_violation(e: &postgres::Error) -> bool {
    e.as_db_error().is_some_and(|d| d.code().code() == "23503")
}

/// A permission error is a pass (the app cannot do it at all); anything else goes to `other`.
pub(super) fn denied_or(e: postgres::Error, other: impl FnOnce(String) -> Cell) -> Cell {
    if is_denied(&e) {
        pass("denied: the app role has no privilege for it")
    } else {
        other(describe(&e))
    }
}

/// The matrix for a person: one line per object, one column per probe (`-` where a probe does
/// not apply), then what leaked and what could not be tested, and why.
pub fn to_human(report: &Report) -> String {
    let mut out = format!(
        "tenet prove: app role {}, tenant A = {}, tenant B = {}\n\n",
        report.app_role, report.tenant_a, report.tenant_b
    );
    let width = report
        .objects
        .iter()
        .map(|r| r.object.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    out.push_str(&format!("{:width$}", "object"));
    for p in PROBES {
        out.push_str(&format!("  {p:<w$}", w = p.len().max(8)));
    }
    out.push('\n');
    for row in &report.objects {
        out.push_str(&format!("{:width$}", row.object));
        for p in PROBES {
            let mark = match row.probes.get(p) {
                None => "-",
                Some(c) if c.status == Status::Pass && c.detail.starts_with("denied") => "denied",
                Some(c) => match c.status {
                    Status::Pass => "pass",
                    Status::Leak => "LEAK",
                    Status::Untested => "untested",
                },
            };
            out.push_str(&format!("  {mark:<w$}", w = p.len().max(8)));
        }
        out.push('\n');
    }
    let mut notes = String::new();
    for status in [Status::Leak, Status::Untested] {
        for row in &report.objects {
            for p in PROBES {
                if let Some(c) = row.probes.get(p).filter(|c| c.status == status) {
                    let label = if status == Status::Leak {
                        "LEAK"
                    } else {
                        "untested"
                    };
                    notes.push_str(&format!("{label} {} [{p}]: {}\n", row.object, c.detail));
                }
            }
        }
    }
    if !notes.is_empty() {
        out.push('\n');
        out.push_str(&notes);
    }
    out.push_str(&format!(
        "\n{} objects: {} pass, {} LEAK, {} untested ({} ms, rolled back)\n",
        report.objects.len(),
        report.passed,
        report.leaks,
        report.untested,
        report.elapsed_ms
    ));
    out
}
