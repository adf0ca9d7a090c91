//! Progress of an operation, counted by its workers and read by whoever shows it; and the
//! flag that cancels it, which the workers check between batches.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::Serialize;

/// Counters shared by an operation's workers.
#[derive(Debug, Default)]
pub struct Progress {
    rows: AtomicU64,
    bytes: AtomicU64,
    partitions_done: AtomicU64,
    partitions_total: AtomicU64,
    cancelled: AtomicBool,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProgressSnapshot {
    /// Records read.
    pub rows: u64,
    /// Arrow IPC bytes received from the plugin.
    pub bytes: u64,
    /// Partitions finished (read or failed).
    pub partitions_done: u64,
    /// Partitions planned so far.
    pub partitions_total: u64,
}

impl Progress {
    pub(crate) fn add_rows(&self, rows: u64, bytes: u64) {
        self.rows.fetch_add(rows, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn plan_partitions(&self, count: u64) {
        self.partitions_total.fetch_add(count, Ordering::Relaxed);
    }

    pub(crate) fn finish_partition(&self) {
        self.partitions_done.fetch_add(1, Ordering::Relaxed);
    }

    /// Ask the operation to stop: its workers stop at their next batch and it fails with
    /// [`crate::Error::Cancelled`].
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// The flag [`Progress::cancel`] sets, for a plugin stream to stop on (see
    /// [`crate::runtime::BatchReader::stop_when`]).
    pub(crate) fn cancel_flag(&self) -> &AtomicBool {
        &self.cancelled
    }

    /// Whether [`Progress::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Read the counters.
    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            rows: self.rows.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            partitions_done: self.partitions_done.load(Ordering::Relaxed),
            partitions_total: self.partitions_total.load(Ordering::Relaxed),
        }
    }
}
