//! Counters of every contract call into every plugin, for `/metrics`: how many, how many
//! failed (a plugin error) or were stopped (a trap, a limit), and the time spent in them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Call counters shared by all plugins of a runtime.
#[derive(Debug, Default)]
pub struct CallStats {
    calls: AtomicU64,
    errors: AtomicU64,
    traps: AtomicU64,
    nanos: AtomicU64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCounts {
    /// Calls made.
    pub calls: u64,
    /// Calls that returned a plugin error.
    pub errors: u64,
    /// Calls stopped by a trap or a limit.
    pub traps: u64,
    /// Time spent in calls.
    pub time: Duration,
}

/// How a call ended.
pub(crate) enum CallEnd {
    Ok,
    Error,
    Trap,
}

impl CallStats {
    pub(crate) fn record(&self, end: CallEnd, elapsed: Duration) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.nanos
            .fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
        match end {
            CallEnd::Ok => {}
            CallEnd::Error => {
                self.errors.fetch_add(1, Ordering::Relaxed);
            }
            CallEnd::Trap => {
                self.traps.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Read the counters.
    pub fn counts(&self) -> CallCounts {
        CallCounts {
            calls: self.calls.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            traps: self.traps.load(Ordering::Relaxed),
            time: Duration::from_nanos(self.nanos.load(Ordering::Relaxed)),
        }
    }
}
