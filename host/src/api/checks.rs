//! `/checks`: list, create, edit and archive checks; accept or reject inferred ones; infer
//! new ones from the latest profiles; re-read the check files. Checks defined in a file are
//! changed in the file (and `POST /checks/sync`), not here.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, AppState, blocking};
use crate::checks::Check;
use crate::daemon::{propose_inferred_checks, sync_check_files};
use crate::store::{CheckStatus, SOURCE_API, StoredCheck};

/// The body of `POST /checks`: a check and its datastore, side by side. Read in two steps,
/// because serde's `flatten` would let unknown keys through.
struct NewCheck {
    datastore: String,
    check: Check,
}

impl NewCheck {
    fn parse(mut body: serde_json::Map<String, serde_json::Value>) -> Result<Self, String> {
        let datastore = match body.remove("datastore") {
            Some(serde_json::Value::String(name)) => name,
            Some(_) => return Err("`datastore` must be a datastore's name".into()),
            None => return Err("missing field `datastore`".into()),
        };
        let check =
            serde_json::from_value(serde_json::Value::Object(body)).map_err(|e| e.to_string())?;
        Ok(NewCheck { datastore, check })
    }
}

/// `GET /checks` filters.
#[derive(Deserialize)]
pub struct CheckQuery {
    datastore: String,
    container: Option<String>,
    status: Option<CheckStatus>,
}

/// `GET /checks?datastore=NAME[&container=][&status=]`.
pub async fn list(
    State(daemon): AppState,
    query: Result<Query<CheckQuery>, QueryRejection>,
) -> Result<Json<Vec<StoredCheck>>, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::bad_request(format!(
            "{}; give ?datastore=NAME, and optionally &container=NAME&status=active|proposed|rejected|archived",
            e.body_text()
        ))
    })?;
    blocking(&daemon, move |d| {
        d.config.configured(&query.datastore)?;
        d.store
            .checks(&query.datastore, query.container.as_deref(), query.status)
    })
    .await
    .map(Json)
}

/// `GET /checks/{id}`.
pub async fn one(
    State(daemon): AppState,
    Path(id): Path<i64>,
) -> Result<Json<StoredCheck>, ApiError> {
    let check = blocking(&daemon, move |d| d.store.check(id)).await?;
    check.map(Json).ok_or_else(|| no_check(id))
}

/// `POST /checks`: 201 with the stored check, active.
pub async fn create(
    State(daemon): AppState,
    body: Result<Json<serde_json::Map<String, serde_json::Value>>, JsonRejection>,
) -> Result<(StatusCode, Json<StoredCheck>), ApiError> {
    let Json(body) = body.map_err(|e| bad_check(e.body_text()))?;
    let new = NewCheck::parse(body).map_err(bad_check)?;
    if new.check.id.is_some() {
        return Err(ApiError::bad_request(
            "a new check has no `id`: the store gives it one",
        ));
    }
    let stored = blocking(&daemon, move |d| {
        d.config.configured(&new.datastore)?;
        d.store.insert_check(
            &new.datastore,
            &new.check,
            CheckStatus::Active,
            SOURCE_API,
            None,
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// `PUT /checks/{id}`: replace a check's definition (an API or inferred check; a file's
/// checks change in their file).
pub async fn replace(
    State(daemon): AppState,
    Path(id): Path<i64>,
    body: Result<Json<Check>, JsonRejection>,
) -> Result<Json<StoredCheck>, ApiError> {
    let Json(mut check) = body.map_err(|e| bad_check(e.body_text()))?;
    editable(&daemon, id).await?;
    check.id = None;
    blocking(&daemon, move |d| {
        d.store.update_check(id, &check)?;
        d.store.check(id)
    })
    .await?
    .map(Json)
    .ok_or_else(|| no_check(id))
}

/// `DELETE /checks/{id}`: archive a check (its anomalies keep naming it).
pub async fn archive(State(daemon): AppState, Path(id): Path<i64>) -> Result<StatusCode, ApiError> {
    editable(&daemon, id).await?;
    blocking(&daemon, move |d| {
        d.store.set_check_status(id, CheckStatus::Archived)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /checks/{id}/accept`: a proposed (inferred) check becomes active.
pub async fn accept(
    State(daemon): AppState,
    Path(id): Path<i64>,
) -> Result<Json<StoredCheck>, ApiError> {
    decide(&daemon, id, CheckStatus::Active).await
}

/// `POST /checks/{id}/reject`: a proposed check is rejected and never proposed again.
pub async fn reject(
    State(daemon): AppState,
    Path(id): Path<i64>,
) -> Result<Json<StoredCheck>, ApiError> {
    decide(&daemon, id, CheckStatus::Rejected).await
}

/// The body of `POST /checks/infer`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferRequest {
    datastore: String,
    #[serde(default)]
    containers: Vec<String>,
}

/// `POST /checks/infer`: propose checks from the latest profiles; 201 with the new proposals.
pub async fn infer(
    State(daemon): AppState,
    body: Result<Json<InferRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Vec<StoredCheck>>), ApiError> {
    let Json(request) = body.map_err(|e| {
        ApiError::bad_request(format!(
            "{}; send {{\"datastore\": NAME, \"containers\": [NAME, ...]}}",
            e.body_text()
        ))
    })?;
    let proposed = blocking(&daemon, move |d| {
        d.config.configured(&request.datastore)?;
        propose_inferred_checks(&d.store, &request.datastore, &request.containers)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(proposed)))
}

/// `POST /checks/sync`: re-read the check files; the store follows them.
pub async fn sync(State(daemon): AppState) -> Result<Json<serde_json::Value>, ApiError> {
    let checks = blocking(&daemon, |d| sync_check_files(&d.config, &d.store)).await?;
    Ok(Json(json!({"checks": checks})))
}

async fn decide(
    daemon: &std::sync::Arc<crate::daemon::Daemon>,
    id: i64,
    status: CheckStatus,
) -> Result<Json<StoredCheck>, ApiError> {
    let check = blocking(daemon, move |d| d.store.check(id))
        .await?
        .ok_or_else(|| no_check(id))?;
    if check.status != CheckStatus::Proposed {
        return Err(ApiError::conflict(format!(
            "check {id} is {}, not proposed: only inferred checks waiting for a decision are \
             accepted or rejected",
            check.status.as_str()
        )));
    }
    blocking(daemon, move |d| {
        d.store.set_check_status(id, status)?;
        d.store.check(id)
    })
    .await?
    .map(Json)
    .ok_or_else(|| no_check(id))
}

/// Refuse to change a check defined in a file.
async fn editable(
    daemon: &std::sync::Arc<crate::daemon::Daemon>,
    id: i64,
) -> Result<StoredCheck, ApiError> {
    let check = blocking(daemon, move |d| d.store.check(id))
        .await?
        .ok_or_else(|| no_check(id))?;
    if let Some(file) = check.source.strip_prefix("file:") {
        return Err(ApiError::conflict(format!(
            "check {id} is defined in {file}: change it there and POST /checks/sync"
        )));
    }
    Ok(check)
}

fn no_check(id: i64) -> ApiError {
    ApiError::not_found(format!(
        "no check {id}; GET /checks?datastore=NAME lists them"
    ))
}

fn bad_check(reason: String) -> ApiError {
    ApiError::bad_request(format!(
        "{reason}; send a check, e.g. {{\"datastore\": \"shop\", \"container\": \"orders.csv\", \
         \"fields\": [\"quantity\"], \"rule\": {{\"rule\": \"between\", \"min\": 1, \"max\": 100}}}} \
         (docs/checks.md lists the rules)"
    ))
}
