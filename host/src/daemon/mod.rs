//! The daemon (`qualityd serve`): the parts that live as long as it does.
//!
//! - [`PluginRegistry`] and [`watcher`]: the serving version of each plugin, swapped when its
//!   file changes and only once the new file has loaded.
//! - [`Jobs`]: catalog, profile and scan operations as jobs, a few at a time, cancellable.
//! - [`scan_and_record`]: a scan from the store's checks to its anomalies.
//! - [`scheduler`]: the datastores' cron schedules.
//! - [`retention`]: pruning the store and the artifact cache, at start and daily.
//! - [`Metrics`]: what `/metrics` shows.
//! - [`serve`]: start-up, the HTTP API, signals and shutdown.

mod jobs;
mod metrics;
mod registry;
pub mod retention;
mod scanning;
pub mod scheduler;
mod serve;
pub mod watcher;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

pub use jobs::{Jobs, configured_datastore};
pub use metrics::{DurationHistogram, Gauges, Metrics};
pub use registry::{PluginRegistry, plugin_name};
pub use scanning::{
    ScanRequest, ScanSummary, not_in_catalog, propose_inferred_checks, scan_and_record,
    sync_check_files,
};
pub use serve::{LISTEN_FILE, serve};

use crate::Result;
use crate::config::Config;
use crate::runtime::Runtime;
use crate::store::{DatastoreRecord, Store};

/// Everything a running daemon holds.
pub struct Daemon {
    /// The config it started with.
    pub config: Arc<Config>,
    /// The wasmtime runtime all plugins share.
    pub runtime: Arc<Runtime>,
    /// The state store.
    pub store: Arc<Store>,
    /// The serving plugin versions.
    pub registry: Arc<PluginRegistry>,
    /// The job runner.
    pub jobs: Arc<Jobs>,
    /// Metrics for `/metrics`.
    pub metrics: Arc<Metrics>,
    started: Instant,
}

impl Daemon {
    /// Open the store (marking jobs a crash cut off as interrupted), sync the check files
    /// into it, and build the parts.
    /// Plugins are not loaded yet: see [`Daemon::load_plugins`].
    pub fn open(config: Config) -> Result<Arc<Daemon>> {
        let config = Arc::new(config);
        let store = Arc::new(Store::open(&config.state_dir)?);
        let interrupted = store.interrupt_unfinished()?;
        if !interrupted.is_empty() {
            tracing::warn!(jobs = ?interrupted, "jobs cut off by the last stop are marked interrupted");
        }
        let checks = sync_check_files(&config, &store)?;
        tracing::info!(checks, dir = %config.checks_dir.display(), "check files synced");
        let runtime = Runtime::new(&config.cache_dir)?;
        let metrics = Arc::new(Metrics::default());
        let registry = Arc::new(PluginRegistry::new(
            runtime.clone(),
            &config.plugin_dir,
            store.clone(),
            metrics.clone(),
        ));
        let jobs = Arc::new(Jobs::new(
            config.clone(),
            store.clone(),
            registry.clone(),
            metrics.clone(),
        ));
        Ok(Arc::new(Daemon {
            config,
            runtime,
            store,
            registry,
            jobs,
            metrics,
            started: Instant::now(),
        }))
    }

    /// Load every plugin in the plugin directory, record the configured datastores, and
    /// mark the daemon ready: jobs start from then on. Blocks while compiling.
    pub fn load_plugins(&self) {
        let started = Instant::now();
        let events = self.registry.rescan();
        if let Err(e) = self.store.put_datastores(&self.datastores()) {
            tracing::error!(error = %e, "the configured datastores were not recorded in the store");
        }
        self.jobs.set_ready();
        tracing::info!(
            plugins = self.registry.list().len(),
            events = events.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "ready"
        );
    }

    /// Whether the first plugin scan is done.
    pub fn is_ready(&self) -> bool {
        self.jobs.is_ready()
    }

    /// Seconds since the daemon started.
    pub fn uptime(&self) -> std::time::Duration {
        self.started.elapsed()
    }

    /// The configured datastores as they may be shown: secret references as written, values
    /// of settings the plugin declares secret redacted.
    pub fn datastores(&self) -> Vec<DatastoreRecord> {
        self.config
            .datastores
            .iter()
            .map(|datastore| {
                // While the plugin is not loaded, which settings are secret is unknown: every
                // value written in clear is redacted then.
                let plugin = self.registry.get(&datastore.plugin);
                let declared_secret = |name: &str| {
                    plugin.as_ref().is_none_or(|p| {
                        p.info().settings.iter().any(|s| s.name == name && s.secret)
                    })
                };
                let settings: BTreeMap<String, String> = datastore
                    .settings
                    .iter()
                    .map(|(name, value)| (name.clone(), value.redacted(declared_secret(name))))
                    .collect();
                DatastoreRecord {
                    name: datastore.name.clone(),
                    plugin: datastore.plugin.clone(),
                    settings,
                }
            })
            .collect()
    }

    /// The gauges `/metrics` reads at render time.
    pub fn gauges(&self) -> Gauges {
        let (jobs_running, jobs_queued) = self.jobs.counts();
        Gauges {
            jobs_running,
            jobs_queued,
            plugins: self.registry.list().len(),
            calls: self.runtime.call_stats().counts(),
        }
    }
}
