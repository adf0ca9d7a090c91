//! `/jobs`: start catalog, profile and scan jobs, list them, follow one, cancel one.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::{ApiError, AppState, blocking};
use crate::store::{JobFilter, JobKind, JobRecord, JobState, NewJob};

/// The body of `POST /jobs`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobRequest {
    kind: JobKind,
    datastore: String,
    /// Only these containers (profile and scan jobs); all when absent or empty.
    #[serde(default)]
    containers: Vec<String>,
    /// Scan jobs: read only the partitions newer than the last scan's watermark.
    #[serde(default)]
    incremental: bool,
}

/// `POST /jobs`: 202 with the queued job.
pub async fn submit(
    State(daemon): AppState,
    body: Result<Json<JobRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<JobRecord>), ApiError> {
    let Json(request) = body.map_err(|e| {
        ApiError::bad_request(format!(
            "{}; send {{\"kind\": \"catalog\"|\"profile\"|\"scan\", \"datastore\": NAME, \"containers\": [NAME, ...], \"incremental\": BOOL}}",
            e.body_text()
        ))
    })?;
    if request.kind == JobKind::Catalog && !request.containers.is_empty() {
        return Err(ApiError::bad_request(
            "a catalog job lists every container: leave `containers` out",
        ));
    }
    if request.incremental && request.kind != JobKind::Scan {
        return Err(ApiError::bad_request(
            "only scan jobs are incremental: leave `incremental` out",
        ));
    }
    let job = NewJob {
        incremental: request.incremental,
        kind: request.kind,
        datastore: request.datastore,
        containers: request.containers,
        trigger: "api".into(),
    };
    let jobs = daemon.jobs.clone();
    // Submitting writes the store: a short blocking call, then the job runs on its own.
    let record = tokio::task::block_in_place(|| jobs.submit(job))?;
    Ok((StatusCode::ACCEPTED, Json(record)))
}

/// `GET /jobs` filters.
#[derive(Deserialize)]
pub struct JobQuery {
    datastore: Option<String>,
    state: Option<JobState>,
    limit: Option<u32>,
}

/// `GET /jobs`: newest first.
pub async fn list(
    State(daemon): AppState,
    query: Result<Query<JobQuery>, QueryRejection>,
) -> Result<Json<Vec<JobRecord>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let filter = JobFilter {
        datastore: query.datastore,
        state: query.state,
        limit: Some(query.limit.unwrap_or(100).min(1000)),
    };
    blocking(&daemon, move |d| {
        let jobs = d.store.jobs(&filter)?;
        Ok(jobs
            .into_iter()
            .map(|job| d.jobs.with_live_progress(job))
            .collect())
    })
    .await
    .map(Json)
}

fn job_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::bad_request(format!("`{id}` is not a job id (a number)")))
}

/// `GET /jobs/{id}`: with live progress while it runs.
pub async fn one(
    State(daemon): AppState,
    Path(id): Path<String>,
) -> Result<Json<JobRecord>, ApiError> {
    let id = job_id(&id)?;
    blocking(&daemon, move |d| {
        Ok(d.store.job(id)?.map(|job| d.jobs.with_live_progress(job)))
    })
    .await?
    .map(Json)
    .ok_or_else(|| ApiError::not_found(format!("no job {id}")))
}

/// `POST /jobs/{id}/cancel`: 202 while it stops; 409 when it already ended.
pub async fn cancel(
    State(daemon): AppState,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<JobRecord>), ApiError> {
    let id = job_id(&id)?;
    let was_active = daemon.jobs.cancel(id);
    let job = blocking(&daemon, move |d| d.store.job(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no job {id}")))?;
    match was_active {
        true => Ok((StatusCode::ACCEPTED, Json(job))),
        false => Err(ApiError::conflict(format!(
            "job {id} already ended ({}); there is nothing to cancel",
            job.state.as_str()
        ))),
    }
}
