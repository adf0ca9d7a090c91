//! `/plugins`: the serving version of each plugin and what it accepts, the plugin events
//! (loads, swaps, failures with their reasons, removals), and a reload on request.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};

use super::{ApiError, AppState, blocking};
use crate::runtime::{LoadSource, Plugin};
use crate::store::PluginEvent;

/// A serving plugin version.
#[derive(Serialize)]
pub struct PluginView {
    /// The plugin (its file's name without `.wasm`).
    name: String,
    /// `name@version` as the plugin describes itself.
    version: String,
    sha256: String,
    path: String,
    /// `compiled` or `cached`.
    load_source: &'static str,
    load_ms: u64,
    kinds: Vec<String>,
    settings: Vec<SettingView>,
}

#[derive(Serialize)]
struct SettingView {
    name: String,
    #[serde(rename = "type")]
    type_: &'static str,
    required: bool,
    secret: bool,
    default: Option<String>,
    help: String,
}

fn view(name: String, plugin: &Plugin) -> PluginView {
    let info = plugin.info();
    PluginView {
        name,
        version: plugin.label().to_string(),
        sha256: plugin.sha256().to_owned(),
        path: plugin.path().display().to_string(),
        load_source: match plugin.load_source() {
            LoadSource::Compiled => "compiled",
            LoadSource::Cached => "cached",
        },
        load_ms: plugin.load_time().as_millis() as u64,
        kinds: info.kinds.clone(),
        settings: info
            .settings
            .iter()
            .map(|s| SettingView {
                name: s.name.clone(),
                type_: s.type_.as_str(),
                required: s.required,
                secret: s.secret,
                default: s.default.clone(),
                help: s.help.clone(),
            })
            .collect(),
    }
}

/// `GET /plugins`
pub async fn list(State(daemon): AppState) -> Json<Vec<PluginView>> {
    Json(
        daemon
            .registry
            .list()
            .into_iter()
            .map(|(name, plugin)| view(name, &plugin))
            .collect(),
    )
}

/// `GET /plugins/events` filters.
#[derive(Deserialize)]
pub struct EventQuery {
    plugin: Option<String>,
    limit: Option<u32>,
}

/// `GET /plugins/events`: newest first.
pub async fn events(
    State(daemon): AppState,
    query: Result<Query<EventQuery>, QueryRejection>,
) -> Result<Json<Vec<PluginEvent>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = query.limit.unwrap_or(100).min(1000);
    blocking(&daemon, move |d| {
        d.store.events(query.plugin.as_deref(), limit)
    })
    .await
    .map(Json)
}

/// The answer of `POST /plugins/reload`.
#[derive(Serialize)]
pub struct ReloadView {
    /// What the rescan changed; empty when every file was already loaded.
    events: Vec<PluginEvent>,
}

/// `POST /plugins/reload`: rescan the plugin directory now (as SIGHUP does).
pub async fn reload(State(daemon): AppState) -> Result<Json<ReloadView>, ApiError> {
    blocking(&daemon, |d| Ok(d.registry.rescan()))
        .await
        .map(|events| Json(ReloadView { events }))
}
