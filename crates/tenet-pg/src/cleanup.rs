//! A process-global registry of cleanup actions (stop an embedded cluster and remove its
//! directory; drop a scratch database), run when their owner is dropped, on Ctrl-C/SIGTERM, at
//! process exit (`atexit`, which `std::process::exit` also runs) and by [`run_cleanup`].

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once, RwLock};

type Action = Box<dyn FnOnce() + Send>;

/// Pending actions, in registration order.
static ACTIONS: Mutex<Vec<(u64, Action)>> = Mutex::new(Vec::new());
/// Read-held while one owner runs its own action (owners run in parallel), write-held while
/// [`run_cleanup`] runs them all: so a second caller (say the main thread dropping its cluster,
/// or calling [`run_cleanup`], while the signal handler is at work) waits until the actions have
/// finished instead of exiting under their feet.
static RUNNING: RwLock<()> = RwLock::new(());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static INSTALL: Once = Once::new();
static INSTALLER_PID: AtomicU32 = AtomicU32::new(0);
/// What the next Ctrl-C/SIGTERM does instead of cleaning up and exiting (see
/// [`interrupt_gracefully`]); taken by the signal, so a second signal exits.
static GRACEFUL: Mutex<Option<Box<dyn FnOnce() + Send>>> = Mutex::new(None);

/// Let the first Ctrl-C/SIGTERM call `on_signal` instead of ending the process: for a command
/// that stops starting work and lets what is in flight finish (`tenet fleet apply`). A second
/// signal cleans up and exits as before (the server rolls back what its connections had open).
pub fn interrupt_gracefully(on_signal: impl FnOnce() + Send + 'static) {
    install();
    *lock(&GRACEFUL) = Some(Box::new(on_signal));
}

fn lock<T>(m: &'static Mutex<T>) -> MutexGuard<'static, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Register an action; returns its id for [`run`].
pub(crate) fn register(action: impl FnOnce() + Send + 'static) -> u64 {
    install();
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    lock(&ACTIONS).push((id, Box::new(action)));
    id
}

/// Run one action now (if it is still pending) and deregister it.
pub(crate) fn run(id: u64) {
    let _running = RUNNING.read().unwrap_or_else(|e| e.into_inner());
    let action = {
        let mut actions = lock(&ACTIONS);
        actions
            .iter()
            .position(|(i, _)| *i == id)
            .map(|pos| actions.remove(pos).1)
    };
    if let Some(action) = action {
        let _ = catch_unwind(AssertUnwindSafe(action));
    }
}

/// Run every pending cleanup action, newest first (scratch databases before the cluster that
/// holds them). Call it before `std::process::exit`, which skips destructors (the `atexit`
/// hook this crate installs also runs it then, but calling it explicitly is cheap and clear).
/// Safe to call more than once and from several threads.
pub fn run_cleanup() {
    // Run on a fresh thread: at exit() the calling thread's thread-locals are already destroyed,
    // and the `postgres` client's runtime (used to drop scratch databases) needs them.
    match std::thread::Builder::new()
        .name("tenet-pg-cleanup".into())
        .spawn(run_all)
    {
        Ok(handle) => {
            let _ = handle.join();
        }
        Err(_) => run_all(),
    }
}

fn run_all() {
    let _running = RUNNING.write().unwrap_or_else(|e| e.into_inner());
    loop {
        let action = lock(&ACTIONS).pop();
        match action {
            Some((_, action)) => {
                let _ = catch_unwind(AssertUnwindSafe(action));
            }
            None => break,
        }
    }
}

extern "C" fn at_exit() {
    // A forked child that calls exit() must not tear down its parent's cluster.
    if std::process::id() != INSTALLER_PID.load(Ordering::Relaxed) {
        return;
    }
    run_cleanup();
}

/// Install the Ctrl-C/SIGTERM handler and the atexit hook, once per process.
fn install() {
    INSTALL.call_once(|| {
        INSTALLER_PID.store(std::process::id(), Ordering::Relaxed);
        if let Err(err) = ctrlc::set_handler(|| {
            if let Some(on_signal) = lock(&GRACEFUL).take() {
                on_signal();
                return;
            }
            run_cleanup();
            std::process::exit(130);
        }) {
            tracing::warn!(
                "could not install the Ctrl-C handler ({err}); temporary PostgreSQL clusters \
                 and scratch databases may be left behind if interrupted"
            );
        }
        // SAFETY: registering a plain extern "C" fn with no captured state.
        unsafe {
            nix::libc::atexit(at_exit);
        }
    });
}
