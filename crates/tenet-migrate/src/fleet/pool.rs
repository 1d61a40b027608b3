//! A bounded pool of worker threads over a list of jobs, taken in order, that stops starting
//! jobs once told to (a failure, a canary, a signal) and lets the running ones finish.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Run `job(i)` for `i` in `0..count` on at most `workers` threads, in index order; a job not
/// started when `stop()` turned true is `None` in the result.
pub fn run<T: Send>(
    count: usize,
    workers: usize,
    stop: &(dyn Fn() -> bool + Sync),
    job: &(dyn Fn(usize) -> T + Sync),
) -> Vec<Option<T>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..count).map(|_| None).collect());
    std::thread::scope(|threads| {
        for _ in 0..workers.clamp(1, count.max(1)) {
            threads.spawn(|| loop {
                if stop() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                // Checked again: the job before may have asked to stop while this one waited.
                if i >= count || stop() {
                    break;
                }
                let result = job(i);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner())
}
