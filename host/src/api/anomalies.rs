//! `/anomalies`: what scans found, with their failing records; acknowledge or resolve them.
//! Also `/jobs/{id}/scans` and `/scans/{id}`: each container's scan results.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::{ApiError, AppState, blocking};
use crate::store::{AnomalyFilter, AnomalyRecord, AnomalyStatus, ScanRecord};

/// `GET /anomalies` filters.
#[derive(Deserialize)]
pub struct AnomalyQuery {
    datastore: Option<String>,
    container: Option<String>,
    status: Option<AnomalyStatus>,
    check_id: Option<i64>,
    limit: Option<u32>,
}

/// `GET /anomalies`: newest first.
pub async fn list(
    State(daemon): AppState,
    query: Result<Query<AnomalyQuery>, QueryRejection>,
) -> Result<Json<Vec<AnomalyRecord>>, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::bad_request(format!(
            "{}; filter with datastore, container, status (active|acknowledged|resolved), \
             check_id and limit",
            e.body_text()
        ))
    })?;
    let filter = AnomalyFilter {
        datastore: query.datastore,
        container: query.container,
        status: query.status,
        check_id: query.check_id,
    };
    let limit = query.limit.unwrap_or(100).min(1000) as usize;
    blocking(&daemon, move |d| d.store.anomalies(&filter, limit))
        .await
        .map(Json)
}

/// `GET /anomalies/{id}`.
pub async fn one(
    State(daemon): AppState,
    Path(id): Path<i64>,
) -> Result<Json<AnomalyRecord>, ApiError> {
    blocking(&daemon, move |d| d.store.anomaly(id))
        .await?
        .map(Json)
        .ok_or_else(|| no_anomaly(id))
}

/// The body of `POST /anomalies/{id}/status`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    status: AnomalyStatus,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /anomalies/{id}/status`: acknowledge, resolve or reopen an anomaly.
pub async fn set_status(
    State(daemon): AppState,
    Path(id): Path<i64>,
    body: Result<Json<StatusChange>, JsonRejection>,
) -> Result<Json<AnomalyRecord>, ApiError> {
    let Json(change) = body.map_err(|e| {
        ApiError::bad_request(format!(
            "{}; send {{\"status\": \"acknowledged\"|\"resolved\"|\"active\", \"note\": TEXT}}",
            e.body_text()
        ))
    })?;
    let note = change
        .note
        .unwrap_or_else(|| format!("set to {} through the API", change.status.as_str()));
    blocking(&daemon, move |d| {
        d.store.set_anomaly_status(id, change.status, &note)?;
        d.store.anomaly(id)
    })
    .await?
    .map(Json)
    .ok_or_else(|| no_anomaly(id))
}

/// `GET /jobs/{id}/scans`: the scan job's result per container.
pub async fn of_job(
    State(daemon): AppState,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ScanRecord>>, ApiError> {
    blocking(&daemon, move |d| d.store.scans_of_job(id))
        .await
        .map(Json)
}

/// `GET /scans/{id}`: one container's scan.
pub async fn scan(
    State(daemon): AppState,
    Path(id): Path<i64>,
) -> Result<Json<ScanRecord>, ApiError> {
    blocking(&daemon, move |d| d.store.scan(id))
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found(format!("no scan {id}; GET /jobs/JOB/scans lists a job's"))
        })
}

fn no_anomaly(id: i64) -> ApiError {
    ApiError::not_found(format!("no anomaly {id}; GET /anomalies lists them"))
}
