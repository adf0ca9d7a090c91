//! Schedules: each datastore's catalog, profile and scan run by themselves at the times their cron
//! patterns give (UTC). A beat is skipped while the previous run of the same job is still
//! queued or running, so a slow datastore never piles up jobs.

use std::sync::Arc;

use crate::config::Schedule;
use crate::store::{JobKind, NewJob};

use super::Jobs;

/// Start one task per configured schedule. They end with the runtime.
pub fn start(jobs: &Arc<Jobs>, datastores: &[crate::config::DatastoreConfig]) {
    for datastore in datastores {
        let schedules = [
            (JobKind::Catalog, &datastore.schedule.catalog),
            (JobKind::Profile, &datastore.schedule.profile),
            (JobKind::Scan, &datastore.schedule.scan),
        ];
        for (kind, schedule) in schedules {
            if let Some(schedule) = schedule.clone() {
                tokio::spawn(run(jobs.clone(), datastore.name.clone(), kind, schedule));
            }
        }
    }
}

async fn run(jobs: Arc<Jobs>, datastore: String, kind: JobKind, schedule: Schedule) {
    loop {
        let now = chrono::Utc::now();
        let Some(next) = schedule.next_after(&now) else {
            tracing::warn!(%datastore, pattern = %schedule.pattern, "the schedule never fires again");
            return;
        };
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        if jobs.is_active(&datastore, kind) {
            tracing::info!(%datastore, ?kind, "scheduled run skipped: the previous one is still going");
            continue;
        }
        let job = NewJob {
            incremental: false,
            kind,
            datastore: datastore.clone(),
            containers: Vec::new(),
            trigger: format!("schedule {}", schedule.pattern),
        };
        if let Err(e) = jobs.submit(job) {
            tracing::warn!(%datastore, ?kind, error = %e, "scheduled run not started");
        }
    }
}
