//! `/datastores`: what is configured (secrets redacted), each datastore's catalog, and the
//! profiles of its containers, the latest and the history.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};

use super::{ApiError, AppState, blocking};
use crate::config::DatastoreConfig;
use crate::daemon::{Daemon, not_in_catalog};
use crate::report::ContainerReport;
use crate::store::{CatalogEntry, ProfileRecord, ProfileSummary};

/// A datastore as the API shows it.
#[derive(Serialize)]
pub struct DatastoreView {
    name: String,
    plugin: String,
    /// Settings: references (`${env:NAME}`) as written, declared secrets redacted.
    settings: std::collections::BTreeMap<String, String>,
    grants: GrantsView,
    schedule: ScheduleView,
}

#[derive(Serialize)]
struct GrantsView {
    directories: Vec<String>,
    hosts: Vec<String>,
    memory_mib: usize,
    call_timeout_secs: u64,
    ipc_chunk_mib: usize,
    ipc_batch_mib: usize,
    job_timeout_secs: u64,
}

#[derive(Serialize)]
struct ScheduleView {
    catalog: Option<String>,
    profile: Option<String>,
}

/// A stored profile as the API shows it: the profile in the documented JSON form.
#[derive(Serialize)]
pub struct ProfileView {
    id: i64,
    datastore: String,
    job_id: Option<i64>,
    profile: ContainerReport,
}

impl From<ProfileRecord> for ProfileView {
    fn from(record: ProfileRecord) -> Self {
        ProfileView {
            id: record.id,
            datastore: record.datastore,
            job_id: record.job_id,
            profile: ContainerReport::of(&record.profile),
        }
    }
}

fn view(daemon: &Daemon, config: &DatastoreConfig) -> DatastoreView {
    let shown = daemon
        .datastores()
        .into_iter()
        .find(|d| d.name == config.name);
    DatastoreView {
        name: config.name.clone(),
        plugin: config.plugin.clone(),
        settings: shown.map(|d| d.settings).unwrap_or_default(),
        grants: GrantsView {
            directories: config
                .grants
                .directories
                .iter()
                .map(|d| d.display().to_string())
                .collect(),
            hosts: config.grants.hosts.iter().map(|h| h.to_string()).collect(),
            memory_mib: config.grants.memory_bytes >> 20,
            call_timeout_secs: config.grants.call_timeout.as_secs(),
            ipc_chunk_mib: config.grants.ipc_chunk_bytes >> 20,
            ipc_batch_mib: config.grants.ipc_batch_bytes >> 20,
            job_timeout_secs: config.grants.job_timeout.as_secs(),
        },
        schedule: ScheduleView {
            catalog: config.schedule.catalog.as_ref().map(|s| s.pattern.clone()),
            profile: config.schedule.profile.as_ref().map(|s| s.pattern.clone()),
        },
    }
}

fn configured<'a>(daemon: &'a Daemon, name: &str) -> Result<&'a DatastoreConfig, ApiError> {
    Ok(daemon.config.configured(name)?)
}

/// `GET /datastores`
pub async fn list(State(daemon): AppState) -> Json<Vec<DatastoreView>> {
    Json(
        daemon
            .config
            .datastores
            .iter()
            .map(|d| view(&daemon, d))
            .collect(),
    )
}

/// `GET /datastores/{datastore}`
pub async fn one(
    State(daemon): AppState,
    Path(name): Path<String>,
) -> Result<Json<DatastoreView>, ApiError> {
    Ok(Json(view(&daemon, configured(&daemon, &name)?)))
}

/// `GET /datastores/{datastore}/containers`
pub async fn containers(
    State(daemon): AppState,
    Path(name): Path<String>,
) -> Result<Json<Vec<CatalogEntry>>, ApiError> {
    configured(&daemon, &name)?;
    blocking(&daemon, move |d| d.store.containers(&name))
        .await
        .map(Json)
}

/// `GET /datastores/{datastore}/containers/{container}`
pub async fn container(
    State(daemon): AppState,
    Path((name, container)): Path<(String, String)>,
) -> Result<Json<CatalogEntry>, ApiError> {
    configured(&daemon, &name)?;
    blocking(&daemon, move |d| {
        Ok(match d.store.container(&name, &container)? {
            Some(entry) => Ok(Json(entry)),
            None => Err(not_in_catalog(&d.store, &name, &container)?.into()),
        })
    })
    .await?
}

/// `GET /datastores/{datastore}/containers/{container}/profile`
pub async fn latest_profile(
    State(daemon): AppState,
    Path((name, container)): Path<(String, String)>,
) -> Result<Json<ProfileView>, ApiError> {
    configured(&daemon, &name)?;
    blocking(&daemon, move |d| {
        Ok(match d.store.latest_profile(&name, &container)? {
            Some(record) => Ok(Json(record.into())),
            None => Err(unprofiled(d, &name, &container)?),
        })
    })
    .await?
}

/// Why a container has no stored profile: the catalog does not list it (404
/// `no-such-container`), or it was never profiled (404 `no-profile`).
fn unprofiled(daemon: &Daemon, datastore: &str, container: &str) -> crate::Result<ApiError> {
    if daemon.store.container(datastore, container)?.is_none() {
        return Ok(not_in_catalog(&daemon.store, datastore, container)?.into());
    }
    Ok(ApiError::not_found_as(
        "no-profile",
        format!(
            "container `{container}` of datastore {datastore} has no profile yet; run a profile \
             job (POST /jobs with {{\"kind\": \"profile\", \"datastore\": \"{datastore}\", \
             \"containers\": [\"{container}\"]}})"
        ),
    ))
}

/// `?limit=` of history listings.
#[derive(Deserialize)]
pub struct Limit {
    limit: Option<u32>,
}

/// `GET /datastores/{datastore}/containers/{container}/profiles`
pub async fn profile_history(
    State(daemon): AppState,
    Path((name, container)): Path<(String, String)>,
    query: Result<Query<Limit>, QueryRejection>,
) -> Result<Json<Vec<ProfileSummary>>, ApiError> {
    let Query(limit) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    configured(&daemon, &name)?;
    let limit = limit.limit.unwrap_or(50).min(1000);
    blocking(&daemon, move |d| {
        let history = d.store.profile_history(&name, &container, limit)?;
        // No history is an answer for a catalogued container; for any other, an error.
        if history.is_empty() && d.store.container(&name, &container)?.is_none() {
            return Ok(Err(not_in_catalog(&d.store, &name, &container)?.into()));
        }
        Ok(Ok(Json(history)))
    })
    .await?
}

/// `GET /profiles/{id}`
pub async fn profile(
    State(daemon): AppState,
    Path(id): Path<String>,
) -> Result<Json<ProfileView>, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("`{id}` is not a profile id (a number)")))?;
    blocking(&daemon, move |d| d.store.profile(id))
        .await?
        .map(|record| Json(record.into()))
        .ok_or_else(|| ApiError::not_found(format!("no profile {id}")))
}
