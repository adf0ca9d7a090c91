//! The pruning job: once the plugins are loaded at start, then every day, the store drops
//! what `[retention]` no longer keeps ([`crate::store::Store::prune`]) and the artifact cache
//! the compiled plugins not used for as long, except those of the versions serving.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::Daemon;

/// How often the store is pruned.
pub const EVERY: Duration = Duration::from_secs(24 * 3600);

/// Prune now, then every [`EVERY`], for the daemon's life.
pub async fn prune_daily(daemon: Arc<Daemon>) {
    while !daemon.is_ready() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut days = tokio::time::interval(EVERY);
    loop {
        days.tick().await;
        let daemon = daemon.clone();
        let _ = tokio::task::spawn_blocking(move || prune(&daemon)).await;
    }
}

/// Prune the store and the artifact cache once, by the config's retention.
pub fn prune(daemon: &Daemon) {
    let retention = daemon.config.retention;
    let age = retention.max_age();
    let cutoff = crate::store::now_micros()
        .saturating_sub(i64::try_from(age.as_micros()).unwrap_or(i64::MAX));
    match daemon.store.prune(cutoff, retention.keep_per_container) {
        Ok(pruned) => tracing::info!(
            days = retention.days,
            keep_per_container = retention.keep_per_container,
            profiles = pruned.profiles,
            scans = pruned.scans,
            anomalies = pruned.anomalies,
            jobs = pruned.jobs,
            events = pruned.events,
            "store pruned"
        ),
        Err(e) => tracing::warn!(error = %e, "the store was not pruned; trying again tomorrow"),
    }
    let serving: Vec<String> = (daemon.registry.list().iter())
        .map(|(_, plugin)| plugin.sha256().to_owned())
        .collect();
    let unused_since = SystemTime::now()
        .checked_sub(age)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let artifacts = daemon.runtime.cache().prune(&serving, unused_since);
    if artifacts > 0 {
        tracing::info!(artifacts, "unused compiled plugins removed from the cache");
    }
}
