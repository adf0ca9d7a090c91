//! The daemon's metrics, rendered in the Prometheus text format for `/metrics`: jobs by kind
//! and outcome, rows and bytes read, plugin calls, reloads and load times, job durations.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::runtime::CallCounts;
use crate::store::{EventKind, JobKind, JobState};

/// Bucket bounds of the duration histograms, in seconds.
const BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0, 300.0, 1800.0];

/// A histogram of durations with fixed buckets.
#[derive(Debug, Default)]
pub struct DurationHistogram {
    counts: [AtomicU64; BUCKETS.len()],
    total: AtomicU64,
    sum_micros: AtomicU64,
}

impl DurationHistogram {
    /// Count one duration.
    pub fn observe(&self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        }
        self.total.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(duration.as_micros() as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            cumulative += count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let total = self.total.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {total}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {total}");
    }
}

/// Every metric the daemon keeps.
#[derive(Debug, Default)]
pub struct Metrics {
    jobs: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    rows: AtomicU64,
    bytes: AtomicU64,
    reloads: Mutex<BTreeMap<(String, &'static str), u64>>,
    /// Time to load a plugin version, from reading its file to `describe()`.
    pub plugin_load_seconds: DurationHistogram,
    catalog_seconds: DurationHistogram,
    profile_seconds: DurationHistogram,
    scan_seconds: DurationHistogram,
}

/// Values read from elsewhere when the metrics are rendered.
pub struct Gauges {
    /// Jobs running now.
    pub jobs_running: usize,
    /// Jobs waiting for a slot.
    pub jobs_queued: usize,
    /// Plugins serving.
    pub plugins: usize,
    /// The runtime's plugin call counters.
    pub calls: CallCounts,
}

impl Metrics {
    /// Count a finished job, its rows and bytes, and how long it ran.
    pub fn count_job(&self, kind: JobKind, state: JobState, rows: u64, bytes: u64, ran: Duration) {
        *lock(&self.jobs)
            .entry((kind.as_str(), state.as_str()))
            .or_default() += 1;
        self.rows.fetch_add(rows, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        match kind {
            JobKind::Catalog => self.catalog_seconds.observe(ran),
            JobKind::Profile => self.profile_seconds.observe(ran),
            JobKind::Scan => self.scan_seconds.observe(ran),
        }
    }

    /// Count a plugin event.
    pub fn count_reload(&self, plugin: &str, kind: EventKind) {
        *lock(&self.reloads)
            .entry((plugin.to_owned(), kind.as_str()))
            .or_default() += 1;
    }

    /// The Prometheus text exposition.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut text = String::new();
        header(
            &mut text,
            "qualityd_jobs_total",
            "counter",
            "Jobs finished, by kind and final state.",
        );
        for ((kind, state), count) in lock(&self.jobs).iter() {
            let _ = writeln!(
                text,
                "qualityd_jobs_total{{kind=\"{kind}\",state=\"{state}\"}} {count}"
            );
        }
        let simple: [(&str, &str, &str, String); 9] = [
            (
                "qualityd_jobs_running",
                "gauge",
                "Jobs running now.",
                gauges.jobs_running.to_string(),
            ),
            (
                "qualityd_jobs_queued",
                "gauge",
                "Jobs waiting for a free slot.",
                gauges.jobs_queued.to_string(),
            ),
            (
                "qualityd_rows_read_total",
                "counter",
                "Records read by finished jobs.",
                self.rows.load(Ordering::Relaxed).to_string(),
            ),
            (
                "qualityd_bytes_read_total",
                "counter",
                "Arrow IPC bytes received by finished jobs.",
                self.bytes.load(Ordering::Relaxed).to_string(),
            ),
            (
                "qualityd_plugins_serving",
                "gauge",
                "Plugins with a version serving.",
                gauges.plugins.to_string(),
            ),
            (
                "qualityd_plugin_calls_total",
                "counter",
                "Contract calls into plugins.",
                gauges.calls.calls.to_string(),
            ),
            (
                "qualityd_plugin_call_errors_total",
                "counter",
                "Plugin calls that returned an error.",
                gauges.calls.errors.to_string(),
            ),
            (
                "qualityd_plugin_call_traps_total",
                "counter",
                "Plugin calls stopped by a trap or a limit.",
                gauges.calls.traps.to_string(),
            ),
            (
                "qualityd_plugin_call_seconds_total",
                "counter",
                "Time spent in plugin calls.",
                gauges.calls.time.as_secs_f64().to_string(),
            ),
        ];
        for (name, kind, help, value) in simple {
            header(&mut text, name, kind, help);
            let _ = writeln!(text, "{name} {value}");
        }
        header(
            &mut text,
            "qualityd_plugin_reloads_total",
            "counter",
            "Plugin loads, swaps, failures and removals.",
        );
        for ((plugin, outcome), count) in lock(&self.reloads).iter() {
            let _ = writeln!(
                text,
                "qualityd_plugin_reloads_total{{plugin=\"{}\",outcome=\"{outcome}\"}} {count}",
                escape(plugin)
            );
        }
        header(
            &mut text,
            "qualityd_plugin_load_seconds",
            "histogram",
            "Time to load a plugin version.",
        );
        self.plugin_load_seconds
            .render(&mut text, "qualityd_plugin_load_seconds", "");
        header(
            &mut text,
            "qualityd_job_seconds",
            "histogram",
            "Time jobs ran, by kind.",
        );
        self.catalog_seconds
            .render(&mut text, "qualityd_job_seconds", "kind=\"catalog\"");
        self.profile_seconds
            .render(&mut text, "qualityd_job_seconds", "kind=\"profile\"");
        self.scan_seconds
            .render(&mut text, "qualityd_job_seconds", "kind=\"scan\"");
        text
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.count_job(
            JobKind::Profile,
            JobState::Succeeded,
            10,
            100,
            Duration::from_millis(70),
        );
        metrics.count_job(
            JobKind::Profile,
            JobState::Succeeded,
            5,
            50,
            Duration::from_secs(2),
        );
        metrics.count_reload("fi\"les", EventKind::Failed);
        let text = metrics.render(&Gauges {
            jobs_running: 1,
            jobs_queued: 0,
            plugins: 2,
            calls: CallCounts::default(),
        });
        assert!(
            text.contains("qualityd_jobs_total{kind=\"profile\",state=\"succeeded\"} 2"),
            "{text}"
        );
        assert!(text.contains("qualityd_rows_read_total 15"), "{text}");
        assert!(
            text.contains("qualityd_job_seconds_bucket{kind=\"profile\",le=\"0.05\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("qualityd_job_seconds_bucket{kind=\"profile\",le=\"0.1\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("qualityd_job_seconds_bucket{kind=\"profile\",le=\"+Inf\"} 2"),
            "{text}"
        );
        assert!(
            text.contains(
                "qualityd_plugin_reloads_total{plugin=\"fi\\\"les\",outcome=\"failed\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("qualityd_jobs_running 1"), "{text}");
    }
}
