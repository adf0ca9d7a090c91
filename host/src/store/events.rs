//! Plugin events in the store: every load, swap, failure and removal, with the reason.

use rusqlite::{Row, params};
use serde::{Deserialize, Serialize};

use super::{Store, now_micros, rfc3339};
use crate::Result;

/// What happened to a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A version was loaded where none served.
    Loaded,
    /// A new version replaced a serving one; work in flight finishes on the old.
    Swapped,
    /// A file failed to load; whatever served before still serves.
    Failed,
    /// The file was deleted; the version is unloaded once idle.
    Removed,
}

/// One plugin event.
#[derive(Debug, Clone, Serialize)]
pub struct PluginEvent {
    /// Its id (0 until stored).
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// The plugin (its file's name without `.wasm`).
    pub plugin: String,
    /// What happened.
    pub kind: EventKind,
    /// The version that now serves (or failed): `name@version`.
    pub version: Option<String>,
    /// That version's file SHA-256.
    pub sha256: Option<String>,
    /// `compiled` or `cached`, for loads.
    pub source: Option<String>,
    /// How long loading took.
    pub elapsed_ms: Option<u64>,
    /// What happened, in words; for failures, why.
    pub message: String,
}

impl PluginEvent {
    /// An event of `kind` for `plugin`, now.
    pub fn new(plugin: &str, kind: EventKind, message: impl Into<String>) -> Self {
        PluginEvent {
            id: 0,
            at: rfc3339(now_micros()),
            plugin: plugin.to_owned(),
            kind,
            version: None,
            sha256: None,
            source: None,
            elapsed_ms: None,
            message: message.into(),
        }
    }
}

impl EventKind {
    /// The kind's name, as the API and the store write it.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Loaded => "loaded",
            EventKind::Swapped => "swapped",
            EventKind::Failed => "failed",
            EventKind::Removed => "removed",
        }
    }
}

fn event_of(row: &Row<'_>) -> rusqlite::Result<PluginEvent> {
    let kind: String = row.get(3)?;
    Ok(PluginEvent {
        id: row.get(0)?,
        at: rfc3339(row.get(1)?),
        plugin: row.get(2)?,
        kind: serde_json::from_value(serde_json::Value::String(kind)).unwrap_or(EventKind::Failed),
        version: row.get(4)?,
        sha256: row.get(5)?,
        source: row.get(6)?,
        elapsed_ms: row.get(7)?,
        message: row.get(8)?,
    })
}

impl Store {
    /// Record a plugin event; returns its id.
    pub fn insert_event(&self, event: &PluginEvent) -> Result<i64> {
        self.write(|t| {
            t.execute(
                "INSERT INTO plugin_events (at, plugin, kind, version, sha256, source, elapsed_ms, message) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    now_micros(),
                    event.plugin,
                    event.kind.as_str(),
                    event.version,
                    event.sha256,
                    event.source,
                    event.elapsed_ms,
                    event.message
                ],
            )?;
            Ok(t.last_insert_rowid())
        })
    }

    /// Plugin events, newest first; of one plugin when `plugin` is given.
    pub fn events(&self, plugin: Option<&str>, limit: u32) -> Result<Vec<PluginEvent>> {
        self.read(|c| {
            let mut statement = c.prepare(
                "SELECT id, at, plugin, kind, version, sha256, source, elapsed_ms, message \
                 FROM plugin_events WHERE (?1 IS NULL OR plugin = ?1) ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = statement.query_map(params![plugin, limit], event_of)?;
            rows.collect()
        })
    }
}
