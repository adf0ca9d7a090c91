//! Pruning the store ([`crate::config::Retention`]): profiles, scans, finished jobs, plugin
//! events and resolved anomalies older than the retention age go, in one transaction. What
//! is kept whatever its age:
//!
//! - the newest `keep_per_container` profiles and scans of each container (so the latest
//!   profile, and the last scan that incremental scans and `volumetric` checks start from);
//! - every anomaly not resolved (`active`, `acknowledged`), the records it holds, and the
//!   scans it was found and last seen in;
//! - the scans every remaining anomaly refers to, and the jobs every remaining profile, scan
//!   or catalog entry refers to;
//! - jobs not finished, and the newest event of each plugin.

use rusqlite::{Transaction, params};

use super::Store;
use crate::Result;

/// How many rows a pruning removed, by table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Profiles.
    pub profiles: usize,
    /// Scans.
    pub scans: usize,
    /// Resolved anomalies.
    pub anomalies: usize,
    /// Finished jobs.
    pub jobs: usize,
    /// Plugin events.
    pub events: usize,
}

impl Pruned {
    /// Rows removed in all.
    pub fn total(&self) -> usize {
        self.profiles + self.scans + self.anomalies + self.jobs + self.events
    }
}

impl Store {
    /// Remove what is older than `cutoff` (µs since the epoch) and not kept (see the
    /// module's documentation), keeping the newest `keep` profiles and scans per container.
    pub fn prune(&self, cutoff: i64, keep: u64) -> Result<Pruned> {
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        self.write(|t| prune(t, cutoff, keep))
    }
}

fn prune(t: &Transaction<'_>, cutoff: i64, keep: i64) -> rusqlite::Result<Pruned> {
    // Anomalies first: the scans and jobs they refer to are kept while they are.
    let anomalies = t.execute(
        "DELETE FROM anomalies WHERE status = 'resolved' AND updated_at < ?1",
        params![cutoff],
    )?;
    let profiles = t.execute(
        "DELETE FROM profiles WHERE profiled_at < ?1 AND id NOT IN ( \
             SELECT id FROM ( \
                 SELECT id, ROW_NUMBER() OVER ( \
                     PARTITION BY datastore, container ORDER BY id DESC) AS newest \
                 FROM profiles) \
             WHERE newest <= ?2)",
        params![cutoff, keep],
    )?;
    let scans = t.execute(
        "DELETE FROM scans WHERE scanned_at < ?1 AND id NOT IN ( \
             SELECT id FROM ( \
                 SELECT id, ROW_NUMBER() OVER ( \
                     PARTITION BY datastore, container ORDER BY id DESC) AS newest \
                 FROM scans) \
             WHERE newest <= ?2) \
         AND id NOT IN (SELECT first_scan_id FROM anomalies) \
         AND id NOT IN (SELECT last_scan_id FROM anomalies)",
        params![cutoff, keep],
    )?;
    let jobs = t.execute(
        "DELETE FROM jobs WHERE state NOT IN ('queued', 'running') \
         AND COALESCE(finished_at, created_at) < ?1 \
         AND id NOT IN (SELECT job_id FROM profiles WHERE job_id IS NOT NULL) \
         AND id NOT IN (SELECT job_id FROM scans WHERE job_id IS NOT NULL) \
         AND id NOT IN (SELECT job_id FROM containers WHERE job_id IS NOT NULL)",
        params![cutoff],
    )?;
    let events = t.execute(
        "DELETE FROM plugin_events WHERE at < ?1 \
         AND id NOT IN (SELECT MAX(id) FROM plugin_events GROUP BY plugin)",
        params![cutoff],
    )?;
    Ok(Pruned {
        profiles,
        scans,
        anomalies,
        jobs,
        events,
    })
}
