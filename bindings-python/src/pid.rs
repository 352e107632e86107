//! The current process id without a system call per read: every call into the module
//! checks it (a `Cache` refuses to run in the child of a fork), and `getpid()` costs a
//! tenth of a memory hit. Read once, and again in the child of every fork by a
//! `pthread_atfork` handler.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// The id read last; valid while `TRACKED` is set.
static PID: AtomicU32 = AtomicU32::new(0);
/// Whether the fork handler is installed (else every read asks the system).
static TRACKED: AtomicBool = AtomicBool::new(false);

/// The id of the current process.
pub(crate) fn current() -> u32 {
    if TRACKED.load(Ordering::Acquire) {
        PID.load(Ordering::Relaxed)
    } else {
        std::process::id()
    }
}

/// Installs the fork handler (once, at module import). Without it `current` still
/// answers right, with a system call each time.
pub(crate) fn track_forks() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        PID.store(std::process::id(), Ordering::Relaxed);
        if install_fork_handler() {
            TRACKED.store(true, Ordering::Release);
        }
    });
}

/// Runs in the child right after `fork()`: only async-signal-safe work (`getpid`, a store).
#[cfg(unix)]
extern "C" fn after_fork_in_child() {
    PID.store(std::process::id(), Ordering::Relaxed);
}

// The binding's fork hook: registering a C callback with libc.
#[cfg(unix)]
#[allow(unsafe_code)]
fn install_fork_handler() -> bool {
    // SAFETY: the handler is a plain `extern "C" fn` that lives as long as the process and
    // only calls `getpid` and stores an atomic, both safe in a child after `fork()`.
    unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) == 0 }
}

/// Without `fork()`, the id never changes.
#[cfg(not(unix))]
fn install_fork_handler() -> bool {
    true
}
