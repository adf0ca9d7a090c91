//! The HTTP API of `qualityd serve`: datastores and their catalogs, profiles (latest and
//! history), jobs, checks, scans and anomalies, plugins and their events, health, metrics, and the OpenAPI document that
//! describes all of it (`GET /openapi.json`). Errors are JSON: `{"error": {"code", "message"}}`.
//!
//! Every request passes the [`guard`] first: the `Host` allow-list, bearer tokens and their
//! roles, and JSON-only writes (`docs/SECURITY.md`, "The HTTP API"). [`tls`] serves it over
//! HTTPS when configured.
//!
//! Handlers never block the async runtime: store reads run on blocking threads.

mod anomalies;
mod checks;
mod datastores;
mod error;
pub mod guard;
mod jobs;
mod plugins;
pub mod tls;

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde_json::json;

pub use error::ApiError;
pub use guard::Guard;

use crate::daemon::Daemon;

/// The OpenAPI 3.1 document of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

type AppState = State<Arc<Daemon>>;

/// Every route of the API, behind `guard`.
pub fn router(daemon: Arc<Daemon>, guard: Arc<Guard>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/datastores", get(datastores::list))
        .route("/datastores/{datastore}", get(datastores::one))
        .route(
            "/datastores/{datastore}/containers",
            get(datastores::containers),
        )
        .route(
            "/datastores/{datastore}/containers/{container}",
            get(datastores::container),
        )
        .route(
            "/datastores/{datastore}/containers/{container}/profile",
            get(datastores::latest_profile),
        )
        .route(
            "/datastores/{datastore}/containers/{container}/profiles",
            get(datastores::profile_history),
        )
        .route("/profiles/{id}", get(datastores::profile))
        .route("/jobs", get(jobs::list).post(jobs::submit))
        .route("/jobs/{id}", get(jobs::one))
        .route("/jobs/{id}/cancel", post(jobs::cancel))
        .route("/jobs/{id}/scans", get(anomalies::of_job))
        .route("/scans/{id}", get(anomalies::scan))
        .route("/checks", get(checks::list).post(checks::create))
        .route("/checks/infer", post(checks::infer))
        .route("/checks/sync", post(checks::sync))
        .route(
            "/checks/{id}",
            get(checks::one)
                .put(checks::replace)
                .delete(checks::archive),
        )
        .route("/checks/{id}/accept", post(checks::accept))
        .route("/checks/{id}/reject", post(checks::reject))
        .route("/anomalies", get(anomalies::list))
        .route("/anomalies/{id}", get(anomalies::one))
        .route("/anomalies/{id}/status", post(anomalies::set_status))
        .route("/plugins", get(plugins::list))
        .route("/plugins/events", get(plugins::events))
        .route("/plugins/reload", post(plugins::reload))
        .fallback(|| async { ApiError::not_found("no such endpoint; see GET /openapi.json") })
        .layer(middleware::from_fn_with_state(guard, guard::check))
        .with_state(daemon)
}

async fn healthz(State(daemon): AppState) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "ready": daemon.is_ready(),
        "uptime_seconds": daemon.uptime().as_secs(),
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

async fn readyz(State(daemon): AppState) -> impl IntoResponse {
    match daemon.is_ready() {
        true => (StatusCode::OK, Json(json!({"ready": true}))),
        false => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"ready": false})),
        ),
    }
}

async fn metrics(State(daemon): AppState) -> impl IntoResponse {
    let text = daemon.metrics.render(&daemon.gauges());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// Run store work on a blocking thread.
async fn blocking<T: Send + 'static>(
    daemon: &Arc<Daemon>,
    work: impl FnOnce(&Daemon) -> crate::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let daemon = daemon.clone();
    tokio::task::spawn_blocking(move || work(&daemon))
        .await
        .map_err(|e| ApiError::internal(format!("a request's thread failed: {e}")))?
        .map_err(ApiError::from)
}

#[cfg(test)]
mod tests;
