//! `tenet fleet apply`: every target brought to the latest migration. A canary wave first
//! (any failure there stops everything), then the rest on `parallel` workers; without
//! `continue_on_error` the first failure stops new targets from starting. Each target runs
//! [`crate::run::apply_in`]: its own lock, its own history, the per-migration transactions
//! and the fingerprint no-op path (a target already at the latest costs a few queries).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tenet_pg::LazyServer;

use super::{newest_applied, pool, Target};
use crate::run::{self, ApplyOptions};
use crate::{segments, Error, Migration};

#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Targets worked on at once: threads, and so connections, at most this many.
    pub parallel: usize,
    /// Apply to this many targets first; stop everything if one fails.
    pub canary: usize,
    /// Go on with the other targets after a failure.
    pub continue_on_error: bool,
    pub apply: ApplyOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Migrations were applied.
    Applied,
    /// Nothing was pending.
    UpToDate,
    Failed,
    /// Never started: a canary or an earlier target failed, or the run was interrupted.
    NotAttempted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Applied => "applied",
            Status::UpToDate => "up_to_date",
            Status::Failed => "failed",
            Status::NotAttempted => "not_attempted",
        }
    }
}

/// What happened on one target.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The target's label (password hidden).
    pub target: String,
    /// The newest migration applied before and after (None: none, or unknown).
    pub before: Option<String>,
    pub after: Option<String>,
    /// The migrations this run applied.
    pub applied: Vec<String>,
    pub duration: Duration,
    pub status: Status,
    /// Why it failed (with file:line:column for a failing statement), or why it never started.
    pub error: Option<String>,
    /// What apply said along the way (lock waits, resumed migrations).
    pub notes: Vec<String>,
}

/// Apply `dir` to every target. `interrupted` is set from outside (Ctrl-C, SIGTERM): no new
/// target starts, those in flight finish. `on_outcome` sees each outcome as it comes (progress).
/// Fails before touching any target when the directory is bad (sum file, unparsable file).
pub fn apply(
    targets: &[Target],
    dir: &Path,
    scratch: &LazyServer,
    options: &FleetOptions,
    interrupted: &AtomicBool,
    on_outcome: &(dyn Fn(&Outcome) + Sync),
) -> Result<Vec<Outcome>, Error> {
    let migrations = run::load_checked(dir)?;
    // Every file is checked once here, so a bad file is bad input, not a thousand failures.
    for m in &migrations {
        segments::split(&m.up_path.display().to_string(), &m.up_sql)?;
    }
    let halted: Mutex<Option<&'static str>> = Mutex::new(None);
    let halt = |why: &'static str| {
        halted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(why);
    };
    let stop = || {
        interrupted.load(Ordering::SeqCst)
            || halted.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    };
    let canary = options.canary.min(targets.len());
    let mut results: Vec<Option<Outcome>> = Vec::with_capacity(targets.len());
    for (wave, range) in [(true, 0..canary), (false, canary..targets.len())] {
        let wave_targets = &targets[range];
        let job = |i: usize| {
            let outcome = apply_one(&wave_targets[i], dir, &migrations, scratch, &options.apply);
            if outcome.status == Status::Failed {
                if wave {
                    halt("not attempted: a canary target failed");
                } else if !options.continue_on_error {
                    halt("not attempted: an earlier target failed (use --continue-on-error to go on)");
                }
            }
            on_outcome(&outcome);
            outcome
        };
        results.extend(pool::run(wave_targets.len(), options.parallel, &stop, &job));
    }
    let why = halted
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .unwrap_or("not attempted: interrupted (Ctrl-C or SIGTERM)");
    Ok(results
        .into_iter()
        .zip(targets)
        .map(|(outcome, target)| {
            outcome.unwrap_or_else(|| Outcome {
                target: target.label(),
                before: None,
                after: None,
                applied: Vec::new(),
                duration: Duration::ZERO,
                status: Status::NotAttempted,
                error: Some(why.to_string()),
                notes: Vec::new(),
            })
        })
        .collect())
}

fn apply_one(
    target: &Target,
    dir: &Path,
    migrations: &[Migration],
    scratch: &LazyServer,
    options: &ApplyOptions,
) -> Outcome {
    let started = Instant::now();
    let mut outcome = Outcome {
        target: target.label(),
        before: None,
        after: None,
        applied: Vec::new(),
        duration: Duration::ZERO,
        status: Status::Failed,
        error: None,
        notes: Vec::new(),
    };
    let mut client = match target.connect() {
        Ok(client) => client,
        Err(e) => {
            outcome.error = Some(e.to_string());
            outcome.duration = started.elapsed();
            return outcome;
        }
    };
    outcome.before = newest_applied(&mut client, &target.scope, migrations)
        .ok()
        .flatten();
    let mut notes = Vec::new();
    let result = run::apply_in(
        &mut client,
        scratch,
        dir,
        options,
        &target.scope,
        &mut |line| notes.push(line),
    );
    outcome.notes = notes;
    outcome.after = newest_applied(&mut client, &target.scope, migrations)
        .ok()
        .flatten();
    match result {
        Ok(applied) if applied.is_empty() => outcome.status = Status::UpToDate,
        Ok(applied) => {
            outcome.status = Status::Applied;
            outcome.applied = applied;
        }
        Err(e) => outcome.error = Some(e.to_string()),
    }
    outcome.duration = started.elapsed();
    outcome
}
