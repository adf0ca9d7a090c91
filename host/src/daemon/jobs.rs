//! Jobs: catalog and profile operations run for the API and the schedules. A job is stored
//! queued, waits for one of `max_jobs` slots, then runs on a blocking thread (plugin calls
//! are CPU-bound and never run on the async runtime) with the plugin version serving when it
//! starts, which it holds to the end. Its partitions spread over the cores. A job can be
//! cancelled, queued or running; shutting down stops taking jobs, waits for the running ones
//! up to a grace period, then cancels them, and abandons those that do not stop soon after.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, Semaphore, watch};

use crate::config::{Config, DatastoreConfig};
use crate::contract::{Setting, SettingType};
use crate::operation::{self, Datastore, ProfileOptions, Progress};
use crate::runtime::{Grants, Plugin, Redactor, one_line};
use crate::store::{ContainerFailure, JobError, JobKind, JobRecord, JobState, NewJob, Store};
use crate::{Error, Result};

use super::{Metrics, PluginRegistry};

/// How often running jobs' progress is saved and their time limits checked.
pub const TICK: Duration = Duration::from_secs(1);

/// How long jobs get to stop once shutdown cancelled them, before they are abandoned.
pub const STOP_WAIT: Duration = Duration::from_secs(2);

/// The job runner.
pub struct Jobs {
    config: Arc<Config>,
    store: Arc<Store>,
    registry: Arc<PluginRegistry>,
    metrics: Arc<Metrics>,
    slots: Arc<Semaphore>,
    active: Mutex<BTreeMap<i64, ActiveJob>>,
    stopping: AtomicBool,
    /// Whether the plugins have been loaded once: jobs wait for it before they start.
    ready: watch::Sender<bool>,
}

/// A job queued or running in this daemon.
#[derive(Clone)]
struct ActiveJob {
    datastore: String,
    kind: JobKind,
    progress: Arc<Progress>,
    /// Wakes the job while it waits for a slot, when it is cancelled.
    cancelled: Arc<Notify>,
    running: bool,
    /// When it must have ended (its datastore's `job_timeout`), once it runs.
    deadline: Option<Instant>,
    /// Whether it was stopped for passing its deadline.
    timed_out: bool,
}

/// How a job ended.
struct Outcome {
    state: JobState,
    error: Option<JobError>,
    failures: Vec<ContainerFailure>,
    /// The secrets of the other datastores the job read (a scan's references), scrubbed
    /// along with its own datastore's.
    touched: Redactor,
}

impl Outcome {
    /// The outcome with the secrets of its datastore (`redact`) and of every other datastore
    /// it touched scrubbed from its messages.
    fn scrubbed(mut self, redact: &Redactor) -> Self {
        let redact = Redactor::union([redact, &self.touched]);
        if let Some(error) = &mut self.error {
            error.message = redact.scrub(&error.message).into_owned();
        }
        for failure in &mut self.failures {
            failure.error = redact.scrub(&failure.error).into_owned();
        }
        self
    }

    fn of_error(e: &Error, stopped: StopReason) -> Self {
        let (state, error) = match (e, stopped) {
            (Error::Cancelled(_), StopReason::TimeLimit(limit)) => (
                JobState::Failed,
                job_error(
                    "time-limit",
                    format!(
                        "the job ran past its time limit of {} s (grants.job_timeout_secs) and \
                         was stopped; raise the limit if the work is legitimate",
                        limit.as_secs()
                    ),
                ),
            ),
            (Error::Cancelled(_), StopReason::Shutdown) => (
                JobState::Cancelled,
                job_error(
                    "cancelled",
                    "the daemon shut down before the job finished; run it again",
                ),
            ),
            (Error::Cancelled(_), StopReason::Request) => (
                JobState::Cancelled,
                job_error("cancelled", "cancelled on request"),
            ),
            (e, _) => (JobState::Failed, job_error(&e.class(), e.to_string())),
        };
        Outcome {
            state,
            error,
            failures: Vec::new(),
            touched: Redactor::default(),
        }
    }
}

fn job_error(code: &str, message: impl Into<String>) -> Option<JobError> {
    Some(JobError {
        code: code.to_owned(),
        message: message.into(),
    })
}

/// Why the job was stopped, when it was: the daemon's shutdown, its time limit, or a user.
#[derive(Clone, Copy)]
enum StopReason {
    Request,
    Shutdown,
    TimeLimit(Duration),
}

impl Jobs {
    /// A runner of at most `config.max_jobs` jobs at once.
    pub fn new(
        config: Arc<Config>,
        store: Arc<Store>,
        registry: Arc<PluginRegistry>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Jobs {
            slots: Arc::new(Semaphore::new(config.max_jobs)),
            config,
            store,
            registry,
            metrics,
            active: Mutex::new(BTreeMap::new()),
            stopping: AtomicBool::new(false),
            ready: watch::Sender::new(false),
        }
    }

    /// Let jobs start: the plugins have been loaded once. Jobs submitted before wait, so
    /// that none fails for a plugin that is still compiling.
    pub fn set_ready(&self) {
        self.ready.send_replace(true);
    }

    /// Whether [`Jobs::set_ready`] was called.
    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// Store a job and start it when a slot is free. Must be called within the async runtime.
    pub fn submit(self: &Arc<Self>, job: NewJob) -> Result<JobRecord> {
        if self.stopping.load(Ordering::Relaxed) {
            return Err(Error::ShuttingDown);
        }
        self.config.configured(&job.datastore)?;
        let record = self.store.insert_job(&job)?;
        let progress = Arc::new(Progress::default());
        let cancelled = Arc::new(Notify::new());
        self.lock().insert(
            record.id,
            ActiveJob {
                datastore: job.datastore.clone(),
                kind: job.kind,
                progress: progress.clone(),
                cancelled: cancelled.clone(),
                running: false,
                deadline: None,
                timed_out: false,
            },
        );
        tracing::info!(job = record.id, kind = ?job.kind, datastore = %job.datastore, trigger = %job.trigger, "job queued");
        let jobs = self.clone();
        let queued = record.clone();
        tokio::spawn(async move {
            let mut ready = jobs.ready.subscribe();
            let slot = tokio::select! {
                // The semaphore is never closed, and the sender lives as long as `jobs`.
                slot = async {
                    let _ = ready.wait_for(|ready| *ready).await;
                    jobs.slots.clone().acquire_owned().await
                } => slot.ok(),
                () = cancelled.notified() => None,
            };
            let runner = jobs.clone();
            // A job cancelled while queued runs just long enough to be stored as cancelled.
            let ran = tokio::task::spawn_blocking(move || {
                runner.run(&queued, &progress);
                drop(slot);
            })
            .await;
            if let Err(e) = ran {
                tracing::error!(job = record.id, error = %e, "a job's thread panicked");
                let _ = jobs.store.finish_job(
                    record.id,
                    JobState::Failed,
                    &Default::default(),
                    job_error(
                        "internal",
                        "internal error: the job's thread panicked; please report it",
                    )
                    .as_ref(),
                    &[],
                );
            }
            jobs.lock().remove(&record.id);
        });
        Ok(record)
    }

    /// Cancel a queued or running job. Returns whether it was still active; a running job
    /// stops at its next batch.
    pub fn cancel(&self, id: i64) -> bool {
        match self.lock().get(&id) {
            Some(job) => {
                job.progress.cancel();
                job.cancelled.notify_one();
                true
            }
            None => false,
        }
    }

    /// A job's record with its live progress when it is running here.
    pub fn with_live_progress(&self, mut record: JobRecord) -> JobRecord {
        if let Some(job) = self.lock().get(&record.id).filter(|job| job.running) {
            record.progress = job.progress.snapshot();
        }
        record
    }

    /// Write the progress of every running job to the store, so that a job a crash cuts off
    /// shows how far it got, and stop the jobs past their time limit. The daemon calls this
    /// every [`TICK`].
    pub fn tick(&self) {
        let now = Instant::now();
        let mut active = self.lock();
        for (id, job) in active.iter_mut() {
            if job.deadline.is_some_and(|deadline| now > deadline) && !job.timed_out {
                tracing::warn!(job = id, "the job passed its time limit: stopping it");
                job.timed_out = true;
                job.progress.cancel();
            }
        }
        let running: Vec<(i64, Arc<Progress>)> = active
            .iter()
            .filter(|(_, job)| job.running)
            .map(|(id, job)| (*id, job.progress.clone()))
            .collect();
        drop(active);
        for (id, progress) in running {
            if let Err(e) = self.store.job_progress(id, &progress.snapshot()) {
                tracing::warn!(job = id, error = %e, "job progress not saved");
            }
        }
    }

    /// Jobs (running, queued) in this daemon now.
    pub fn counts(&self) -> (usize, usize) {
        let active = self.lock();
        let running = active.values().filter(|j| j.running).count();
        (running, active.len() - running)
    }

    /// Whether a job of `kind` on `datastore` is queued or running (schedules skip a beat
    /// rather than pile up).
    pub fn is_active(&self, datastore: &str, kind: JobKind) -> bool {
        self.lock()
            .values()
            .any(|j| j.datastore == datastore && j.kind == kind)
    }

    /// Stop taking jobs, let running ones finish for up to `grace`, then cancel the rest and
    /// give them [`STOP_WAIT`] to stop. A job still running then is stuck in a plugin call
    /// that no limit reaches (blocked inside a host call, such as a read of a file that never
    /// answers): it is stored `cancelled` and abandoned, and the daemon exits without it. So
    /// this returns within `grace + STOP_WAIT` (and a second for the store), whatever the
    /// plugins do.
    pub async fn drain(&self, grace: Duration) {
        self.stopping.store(true, Ordering::Relaxed);
        let deadline = Instant::now() + grace;
        while !self.lock().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let left: Vec<i64> = self.lock().keys().copied().collect();
        if !left.is_empty() {
            tracing::warn!(jobs = ?left, "grace period over: cancelling the jobs still running");
        }
        for job in self.lock().values() {
            job.progress.cancel();
            job.cancelled.notify_one();
        }
        let deadline = Instant::now() + STOP_WAIT;
        while !self.lock().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let stuck: Vec<(i64, Arc<Progress>)> = (self.lock().iter())
            .map(|(id, job)| (*id, job.progress.clone()))
            .collect();
        if stuck.is_empty() {
            return;
        }
        let ids: Vec<i64> = stuck.iter().map(|(id, _)| *id).collect();
        tracing::error!(jobs = ?ids, wait_secs = STOP_WAIT.as_secs(), "jobs did not stop after they were cancelled (a plugin call blocked where no time limit reaches): abandoning them");
        // On a blocking thread with a time limit of its own: a stuck job may hold the store.
        let store = self.store.clone();
        let written = tokio::task::spawn_blocking(move || {
            for (id, progress) in stuck {
                let error = JobError {
                    code: "cancelled".into(),
                    message: format!(
                        "the daemon shut down and the job's plugin call did not return within \
                         {} s of its cancellation, so the job was abandoned; run it again",
                        STOP_WAIT.as_secs()
                    ),
                };
                let stored = store.finish_job(
                    id,
                    JobState::Cancelled,
                    &progress.snapshot(),
                    Some(&error),
                    &[],
                );
                if let Err(e) = stored {
                    tracing::error!(job = id, error = %e, "the abandoned job's end was not stored");
                }
            }
        });
        if tokio::time::timeout(Duration::from_secs(1), written)
            .await
            .is_err()
        {
            tracing::error!(
                "the store did not answer; the abandoned jobs will show as interrupted"
            );
        }
    }

    /// Run one job to its end and store how it ended. Blocks.
    fn run(&self, job: &JobRecord, progress: &Progress) {
        let span =
            tracing::info_span!("job", id = job.id, kind = ?job.kind, datastore = %job.datastore);
        let _entered = span.enter();
        let started = Instant::now();
        let outcome = if progress.is_cancelled() || self.stopping.load(Ordering::Relaxed) {
            Outcome::of_error(
                &Error::Cancelled("before it started".into()),
                self.stop_reason(job.id),
            )
        } else {
            let limit = self
                .config
                .datastore(&job.datastore)
                .map(|d| d.grants.job_timeout);
            if let Some(active) = self.lock().get_mut(&job.id) {
                active.running = true;
                active.deadline = limit.map(|limit| started + limit);
            }
            self.execute(job, progress)
        };
        let snapshot = progress.snapshot();
        if let Err(e) = self.store.finish_job(
            job.id,
            outcome.state,
            &snapshot,
            outcome.error.as_ref(),
            &outcome.failures,
        ) {
            tracing::error!(error = %e, "the job's end was not stored");
        }
        self.metrics.count_job(
            job.kind,
            outcome.state,
            snapshot.rows,
            snapshot.bytes,
            started.elapsed(),
        );
        match &outcome.error {
            Some(error) => {
                tracing::warn!(state = ?outcome.state, code = %error.code, elapsed_ms = started.elapsed().as_millis() as u64, "job ended: {}", one_line(&error.message))
            }
            None => {
                tracing::info!(state = ?outcome.state, rows = snapshot.rows, failures = outcome.failures.len(), elapsed_ms = started.elapsed().as_millis() as u64, "job ended")
            }
        }
    }

    /// Run the job's operation on the plugin version serving now. What the plugin said in
    /// errors is scrubbed of the datastore's secrets.
    fn execute(&self, job: &JobRecord, progress: &Progress) -> Outcome {
        let datastore = match self.datastore(job) {
            Ok(datastore) => datastore,
            Err(e) => return Outcome::of_error(&e, self.stop_reason(job.id)),
        };
        let outcome = self
            .operate(job, &datastore, progress)
            .unwrap_or_else(|e| Outcome::of_error(&e, self.stop_reason(job.id)));
        outcome.scrubbed(&datastore.grants.redact)
    }

    /// The job's datastore with the plugin version serving now, which the job keeps; the
    /// job is marked running on it.
    fn datastore(&self, job: &JobRecord) -> Result<Datastore> {
        let datastore = self.serving_datastore(&job.datastore)?;
        let plugin = &datastore.plugin;
        self.store
            .start_job(job.id, plugin.label(), plugin.sha256())?;
        Ok(datastore)
    }

    fn operate(
        &self,
        job: &JobRecord,
        datastore: &Datastore,
        progress: &Progress,
    ) -> Result<Outcome> {
        match job.kind {
            JobKind::Catalog => {
                let entries = operation::catalog(datastore)?;
                if progress.is_cancelled() {
                    return Err(Error::Cancelled(
                        "the catalog was stopped before it was stored".into(),
                    ));
                }
                self.store
                    .replace_catalog(&datastore.name, job.id, &entries)?;
                let failures = entries
                    .iter()
                    .filter_map(|e| {
                        e.error.as_ref().map(|error| ContainerFailure {
                            container: e.name.clone(),
                            error: error.clone(),
                            code: "unreadable".into(),
                        })
                    })
                    .collect();
                Ok(Outcome {
                    state: JobState::Succeeded,
                    error: None,
                    failures,
                    touched: Redactor::default(),
                })
            }
            JobKind::Profile => {
                let options = ProfileOptions {
                    containers: (!job.containers.is_empty()).then(|| job.containers.clone()),
                    ..ProfileOptions::default()
                };
                let outcomes = operation::profile(datastore, &options, progress)?;
                let mut failures = Vec::new();
                for outcome in &outcomes {
                    match &outcome.result {
                        Ok(profile) => {
                            self.store
                                .insert_profile(&datastore.name, Some(job.id), profile)?;
                        }
                        Err(e) => failures.push(ContainerFailure {
                            container: outcome.name.clone(),
                            error: e.to_string(),
                            code: e.class(),
                        }),
                    }
                }
                let state = if !outcomes.is_empty() && failures.len() == outcomes.len() {
                    JobState::Failed
                } else {
                    JobState::Succeeded
                };
                let error = match state {
                    JobState::Failed => {
                        job_error("containers", "no container could be profiled: see failures")
                    }
                    _ => None,
                };
                Ok(Outcome {
                    state,
                    error,
                    failures,
                    touched: Redactor::default(),
                })
            }
            JobKind::Scan => {
                // Opened once per job; one that cannot be opened is a failure to report.
                let (enrichment, unopened) =
                    crate::enrichment::Enrichment::open_for_job(self.config.enrichment.as_ref());
                let mut summary = super::scan_and_record(
                    &self.store,
                    datastore,
                    &super::ScanRequest {
                        containers: &job.containers,
                        incremental: job.incremental,
                        job_id: Some(job.id),
                        others: Some(&|name| self.serving_datastore(name)),
                    },
                    progress,
                    enrichment.as_ref(),
                )?;
                summary.failures.extend(unopened);
                let unscanned = summary.containers - summary.scans.len();
                let state = match summary.containers > 0 && unscanned == summary.containers {
                    true => JobState::Failed,
                    false => JobState::Succeeded,
                };
                let error = match state {
                    JobState::Failed => {
                        job_error("containers", "no container could be scanned: see failures")
                    }
                    _ => None,
                };
                tracing::info!(
                    containers = summary.scans.len(),
                    anomalies = summary.anomalies(),
                    "scan recorded"
                );
                Ok(Outcome {
                    state,
                    error,
                    failures: summary.failures,
                    touched: summary.redact,
                })
            }
        }
    }

    /// A configured datastore with the plugin version serving now (a scan reading another
    /// datastore's container uses it).
    fn serving_datastore(&self, name: &str) -> Result<Datastore> {
        let config = self.config.configured(name)?;
        let plugin = self
            .registry
            .get(&config.plugin)
            .ok_or_else(|| Error::PluginNotLoaded {
                name: config.plugin.clone(),
                dir: self.registry.dir().to_path_buf(),
            })?;
        Ok(configured_datastore(config, plugin, &self.config.base_dir))
    }

    /// Why job `id` was stopped, if it was.
    fn stop_reason(&self, id: i64) -> StopReason {
        let timed_out = self
            .lock()
            .get(&id)
            .filter(|job| job.timed_out)
            .map(|job| job.datastore.clone());
        match timed_out {
            Some(datastore) => StopReason::TimeLimit(
                (self.config.datastore(&datastore))
                    .map(|d| d.grants.job_timeout)
                    .unwrap_or_default(),
            ),
            None if self.stopping.load(Ordering::Relaxed) => StopReason::Shutdown,
            None => StopReason::Request,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<i64, ActiveJob>> {
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A configured datastore served by `plugin`: its settings resolved (paths made absolute
/// from `base`, the config's directory) and its secrets known to its redactor.
pub fn configured_datastore(
    config: &DatastoreConfig,
    plugin: Arc<Plugin>,
    base: &Path,
) -> Datastore {
    Datastore {
        name: config.name.clone(),
        settings: settings(config, &plugin, base),
        grants: Grants {
            redact: redactor(config, &plugin),
            ..config.grants.clone()
        },
        plugin,
    }
}

/// The secret values of a datastore's settings: those written as references, and those
/// its plugin declares secret.
fn redactor(config: &DatastoreConfig, plugin: &Plugin) -> Redactor {
    let declared =
        |name: &str| (plugin.info().settings.iter()).any(|spec| spec.name == name && spec.secret);
    Redactor::new(
        (config.settings.iter()).flat_map(|(name, value)| value.secret_values(declared(name))),
    )
}

/// The settings a datastore's sessions are opened with: secrets resolved, and paths the
/// plugin declares as paths made absolute from the config file's directory.
fn settings(config: &DatastoreConfig, plugin: &Plugin, base: &Path) -> Vec<Setting> {
    config
        .settings
        .iter()
        .map(|(name, value)| {
            let is_path = plugin
                .info()
                .settings
                .iter()
                .any(|s| &s.name == name && matches!(s.type_, SettingType::Path));
            let value = match is_path && Path::new(value.expose()).is_relative() {
                true => base.join(value.expose()).to_string_lossy().into_owned(),
                false => value.expose().to_owned(),
            };
            Setting {
                name: name.clone(),
                value,
            }
        })
        .collect()
}
