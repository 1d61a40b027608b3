//! Shared by the benchmark binaries: finding the tools, running and timing them.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `target/release/tenet` when it exists, else `tenet` beside this binary.
pub fn default_tenet() -> PathBuf {
    let standard = PathBuf::from("target/release/tenet");
    if standard.is_file() {
        return standard;
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("tenet")))
        .filter(|p| p.is_file())
        .unwrap_or(standard)
}

pub fn warm_up(what: &str, mut cmd: Command) -> Result<usize, String> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| {
        format!(
            "cannot run {what} ({}): {e}",
            cmd.get_program().to_string_lossy()
        )
    })?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout.len())
}

pub fn timed(what: &str, cmd: Command) -> Result<Duration, String> {
    timed_allowing(what, cmd, &[0])
}

/// Time one run with output discarded; exit codes in `ok` count as success (migra exits 2
/// when it finds differences).
pub fn timed_allowing(what: &str, mut cmd: Command, ok: &[i32]) -> Result<Duration, String> {
    let started = Instant::now();
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    let elapsed = started.elapsed();
    if !status.code().is_some_and(|c| ok.contains(&c)) {
        return Err(format!("{what} failed ({status})"));
    }
    Ok(elapsed)
}

pub fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

pub fn list(times: &[Duration]) -> String {
    times
        .iter()
        .map(|t| format!("{:.3}", t.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = format!("{} (SQLSTATE {})", db.message(), db.code().code());
            if let Some(d) = db.detail() {
                s.push_str(&format!("; {d}"));
            }
            if let Some(w) = db.where_() {
                s.push_str(&format!("; {w}"));
            }
            s
        }
        None => e.to_string(),
    }
}

/// A benchmark's exit: 0 when it met its target (or has none), 1 when it missed it, 3 when it
/// could not run (after removing what it created).
pub fn exit_code(result: Result<bool, String>) -> std::process::ExitCode {
    match result {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(message) => {
            eprintln!("error: {message}");
            tenet_pg::run_cleanup();
            std::process::ExitCode::from(3)
        }
    }
}
