//! Jobs in the store: what was asked, which plugin version ran it, its state, progress,
//! timings and errors. Jobs found unfinished when the daemon starts were cut off by a crash
//! and are marked interrupted.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::{Store, now_micros, rfc3339};
use crate::Result;
use crate::operation::ProgressSnapshot;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// List the datastore's containers and their fields.
    Catalog,
    /// Profile the datastore's containers (all, or those named).
    Profile,
    /// Evaluate the active checks of the datastore's containers (all, or those named).
    Scan,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for a free slot.
    Queued,
    /// Running now.
    Running,
    /// Finished; some containers may have failed (see `failures`).
    Succeeded,
    /// Could not run at all (the datastore could not be opened or listed).
    Failed,
    /// Cancelled by a user or by shutdown.
    Cancelled,
    /// Cut off by a crash or kill: found unfinished when the daemon started.
    Interrupted,
}

impl JobState {
    /// Whether the job will change no more.
    pub fn is_final(self) -> bool {
        !matches!(self, JobState::Queued | JobState::Running)
    }

    /// The state's name, as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
            JobState::Interrupted => "interrupted",
        }
    }
}

impl JobKind {
    /// The kind's name, as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Catalog => "catalog",
            JobKind::Profile => "profile",
            JobKind::Scan => "scan",
        }
    }
}

fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// A job to create.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// What it does.
    pub kind: JobKind,
    /// The datastore it works on.
    pub datastore: String,
    /// The containers it is limited to; empty for all.
    pub containers: Vec<String>,
    /// Who asked: `api`, or `schedule PATTERN`.
    pub trigger: String,
    /// For a scan: read only the partitions newer than the last scan's watermark.
    pub incremental: bool,
}

/// A container a job could not finish, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerFailure {
    /// The container.
    pub container: String,
    /// What went wrong.
    pub error: String,
    /// The error's class (`trap`, `ipc`, `limit`, `plugin.data`, ...), stable for programs.
    #[serde(default)]
    pub code: String,
}

/// Why a job did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub struct JobError {
    /// A stable class (`trap`, `time-limit`, `cancelled`, `no-such-container`, ...).
    pub code: String,
    /// What happened and what to do.
    pub message: String,
}

/// A job as stored.
#[derive(Debug, Clone, Serialize)]
pub struct JobRecord {
    /// Its id.
    pub id: i64,
    /// What it does.
    pub kind: JobKind,
    /// The datastore.
    pub datastore: String,
    /// The containers it is limited to; empty for all.
    pub containers: Vec<String>,
    /// Who asked for it.
    pub trigger: String,
    /// The plugin version that ran it (`name@version`), once it started.
    pub plugin: Option<String>,
    /// The SHA-256 of that plugin's file: two builds of one version differ here.
    pub plugin_sha256: Option<String>,
    /// Where it is.
    pub state: JobState,
    /// Partitions, rows and bytes so far.
    pub progress: ProgressSnapshot,
    /// When it was asked for (RFC 3339).
    pub created_at: String,
    /// When it started running.
    pub started_at: Option<String>,
    /// When it finished.
    pub finished_at: Option<String>,
    /// Why it failed, was cancelled or interrupted.
    pub error: Option<String>,
    /// The class of `error`, stable for programs.
    pub error_code: Option<String>,
    /// Containers that could not be read, while the others were.
    pub failures: Vec<ContainerFailure>,
    /// For a scan: whether it reads only what is new since the last scan.
    pub incremental: bool,
}

/// Which jobs to list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only this datastore's.
    pub datastore: Option<String>,
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// At most this many, newest first.
    pub limit: Option<u32>,
}

const JOB_COLUMNS: &str = "id, kind, datastore, containers, trigger, plugin, plugin_sha256, \
    state, partitions_done, partitions_total, rows, bytes, created_at, started_at, finished_at, \
    error, failures, error_code, incremental";

fn job_of(row: &Row<'_>) -> rusqlite::Result<JobRecord> {
    let json = |index: usize| -> rusqlite::Result<serde_json::Value> {
        let text: String = row.get(index)?;
        Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    };
    let time = |index: usize| -> rusqlite::Result<Option<String>> {
        Ok(row.get::<_, Option<i64>>(index)?.map(rfc3339))
    };
    Ok(JobRecord {
        id: row.get(0)?,
        kind: parse(&row.get::<_, String>(1)?)?,
        datastore: row.get(2)?,
        containers: serde_json::from_value(json(3)?).unwrap_or_default(),
        trigger: row.get(4)?,
        plugin: row.get(5)?,
        plugin_sha256: row.get(6)?,
        state: parse(&row.get::<_, String>(7)?)?,
        progress: ProgressSnapshot {
            partitions_done: row.get(8)?,
            partitions_total: row.get(9)?,
            rows: row.get(10)?,
            bytes: row.get(11)?,
        },
        created_at: rfc3339(row.get(12)?),
        started_at: time(13)?,
        finished_at: time(14)?,
        error: row.get(15)?,
        failures: serde_json::from_value(json(16)?).unwrap_or_default(),
        error_code: row.get(17)?,
        incremental: row.get(18)?,
    })
}

impl Store {
    /// Record a new, queued job.
    pub fn insert_job(&self, job: &NewJob) -> Result<JobRecord> {
        let containers = serde_json::to_string(&job.containers).unwrap_or_else(|_| "[]".into());
        let id = self.write(|t| {
            t.execute(
                "INSERT INTO jobs (kind, datastore, containers, trigger, state, created_at, \
                 incremental) VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6)",
                params![
                    job.kind.as_str(),
                    job.datastore,
                    containers,
                    job.trigger,
                    now_micros(),
                    job.incremental
                ],
            )?;
            Ok(t.last_insert_rowid())
        })?;
        self.job(id)?
            .ok_or_else(|| crate::Error::Internal(format!("job {id} vanished")))
    }

    /// Mark a job running on a plugin version.
    pub fn start_job(&self, id: i64, plugin: &str, sha256: &str) -> Result<()> {
        self.write(|t| {
            t.execute(
                "UPDATE jobs SET state = 'running', plugin = ?2, plugin_sha256 = ?3, \
                 started_at = ?4 WHERE id = ?1",
                params![id, plugin, sha256, now_micros()],
            )
        })
        .map(drop)
    }

    /// Save a running job's progress.
    pub fn job_progress(&self, id: i64, progress: &ProgressSnapshot) -> Result<()> {
        self.write(|t| {
            t.execute(
                "UPDATE jobs SET partitions_done = ?2, partitions_total = ?3, rows = ?4, \
                 bytes = ?5 WHERE id = ?1 AND state = 'running'",
                params![
                    id,
                    progress.partitions_done,
                    progress.partitions_total,
                    progress.rows,
                    progress.bytes
                ],
            )
        })
        .map(drop)
    }

    /// Finish a job: its final state, progress, error and failed containers.
    pub fn finish_job(
        &self,
        id: i64,
        state: JobState,
        progress: &ProgressSnapshot,
        error: Option<&JobError>,
        failures: &[ContainerFailure],
    ) -> Result<()> {
        let failures = serde_json::to_string(failures).unwrap_or_else(|_| "[]".into());
        self.write(|t| {
            t.execute(
                "UPDATE jobs SET state = ?2, partitions_done = ?3, partitions_total = ?4, \
                 rows = ?5, bytes = ?6, finished_at = ?7, error = ?8, failures = ?9, \
                 error_code = ?10 WHERE id = ?1",
                params![
                    id,
                    state.as_str(),
                    progress.partitions_done,
                    progress.partitions_total,
                    progress.rows,
                    progress.bytes,
                    now_micros(),
                    error.map(|e| &e.message),
                    failures,
                    error.map(|e| &e.code)
                ],
            )
        })
        .map(drop)
    }

    /// One job.
    pub fn job(&self, id: i64) -> Result<Option<JobRecord>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"),
                [id],
                job_of,
            )
            .optional()
        })
    }

    /// Jobs, newest first.
    pub fn jobs(&self, filter: &JobFilter) -> Result<Vec<JobRecord>> {
        self.read(|c| {
            let mut statement = c.prepare(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs \
                 WHERE (?1 IS NULL OR datastore = ?1) AND (?2 IS NULL OR state = ?2) \
                 ORDER BY id DESC LIMIT ?3"
            ))?;
            let rows = statement.query_map(
                params![
                    filter.datastore,
                    filter.state.map(JobState::as_str),
                    filter.limit.unwrap_or(100)
                ],
                job_of,
            )?;
            rows.collect()
        })
    }

    /// Mark every queued or running job interrupted: at start-up these were cut off by a
    /// crash. Returns their ids.
    pub fn interrupt_unfinished(&self) -> Result<Vec<i64>> {
        self.write(|t| {
            let ids: Vec<i64> = t
                .prepare("SELECT id FROM jobs WHERE state IN ('queued', 'running') ORDER BY id")?
                .query_map([], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            t.execute(
                "UPDATE jobs SET state = 'interrupted', finished_at = ?1, error_code = 'interrupted', \
                 error = 'the daemon stopped before the job finished (crash or kill); run it again' \
                 WHERE state IN ('queued', 'running')",
                [now_micros()],
            )?;
            Ok(ids)
        })
    }
}
