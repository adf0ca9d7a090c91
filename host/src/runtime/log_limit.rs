//! The rate limit on what a plugin instance says: its `log` calls and the lines of its
//! stdout and stderr. A burst passes, then a steady rate; the rest is dropped, and the drop
//! is logged once when it starts and with its count when lines pass again.

use std::time::Instant;

/// Lines that may pass at once before the rate applies...
const BURST: f64 = 200.0;
/// ...and per second after that.
pub(crate) const LINES_PER_SECOND: f64 = 100.0;

/// A token bucket over one source of lines.
pub(crate) struct LogLimit {
    tokens: f64,
    refilled: Instant,
    dropped: u64,
}

impl LogLimit {
    pub(crate) fn new() -> Self {
        LogLimit {
            tokens: BURST,
            refilled: Instant::now(),
            dropped: 0,
        }
    }

    /// Whether a line from `plugin` (through `source`: `log`, `stdout`, `stderr`) may pass
    /// now. Says so in the host's log when lines start and stop being dropped.
    pub(crate) fn admit(&mut self, plugin: &str, source: &str) -> bool {
        let now = Instant::now();
        let earned = now.duration_since(self.refilled).as_secs_f64() * LINES_PER_SECOND;
        self.tokens = (self.tokens + earned).min(BURST);
        self.refilled = now;
        if self.tokens < 1.0 {
            if self.dropped == 0 {
                tracing::warn!(
                    plugin,
                    source,
                    "the plugin sends more than {LINES_PER_SECOND} lines a second: \
                     log lines dropped until it slows down"
                );
            }
            self.dropped += 1;
            return false;
        }
        self.tokens -= 1.0;
        if self.dropped > 0 {
            let dropped = std::mem::take(&mut self.dropped);
            tracing::warn!(
                plugin,
                source,
                dropped,
                "{dropped} log lines dropped by the rate limit"
            );
        }
        true
    }
}
