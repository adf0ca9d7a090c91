//! The plugin registry: which version of each plugin serves new work. A plugin is the file
//! `PLUGIN_DIR/NAME.wasm`; a version is what one content of that file loaded into.
//!
//! A changed file is loaded in full (hashed, compiled or taken from the cache, instantiated,
//! asked to `describe()` itself, which checks the contract) before it is swapped in. Versions
//! are `Arc`s: work in flight holds the one it started with, so it finishes on it while new
//! work gets the new one. A file that fails any step replaces nothing; the failure is an
//! event with the reason. A deleted file's version stops serving new work and is dropped
//! when the last job holding it ends.
//!
//! Loading blocks (compiling takes seconds): call [`PluginRegistry::sync_file`] and
//! [`PluginRegistry::rescan`] from a blocking thread, never from the async runtime.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use crate::runtime::{LoadSource, Plugin, Runtime, sha256_hex};
use crate::store::{EventKind, PluginEvent, Store};

use super::Metrics;

/// The serving version of every plugin in the plugin directory.
pub struct PluginRegistry {
    runtime: Arc<Runtime>,
    dir: PathBuf,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    serving: RwLock<BTreeMap<String, Arc<Plugin>>>,
    /// The last content of each file that failed to load, by plugin: not tried again until
    /// it changes. Its lock is held while a file is loaded, so two loads never race.
    rejected: Mutex<BTreeMap<String, String>>,
}

impl PluginRegistry {
    /// An empty registry over the plugin directory `dir`.
    pub fn new(
        runtime: Arc<Runtime>,
        dir: &Path,
        store: Arc<Store>,
        metrics: Arc<Metrics>,
    ) -> Self {
        PluginRegistry {
            runtime,
            dir: dir.to_path_buf(),
            store,
            metrics,
            serving: RwLock::new(BTreeMap::new()),
            rejected: Mutex::new(BTreeMap::new()),
        }
    }

    /// The plugin directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The version of `name` serving new work.
    pub fn get(&self, name: &str) -> Option<Arc<Plugin>> {
        self.read().get(name).cloned()
    }

    /// Every serving version, by plugin name.
    pub fn list(&self) -> Vec<(String, Arc<Plugin>)> {
        self.read()
            .iter()
            .map(|(name, plugin)| (name.clone(), plugin.clone()))
            .collect()
    }

    /// Bring every plugin in line with the directory: load new and changed files, unload
    /// deleted ones, and try again files that failed before. Returns the events it recorded.
    /// Blocks while compiling.
    pub fn rescan(&self) -> Vec<PluginEvent> {
        self.rejected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        let mut paths: Vec<PathBuf> = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "cannot list the plugin directory");
                Vec::new()
            }
        };
        let known: Vec<PathBuf> = self
            .read()
            .keys()
            .map(|name| self.dir.join(format!("{name}.wasm")))
            .collect();
        paths.extend(known);
        paths.sort();
        paths.dedup();
        paths
            .iter()
            .filter_map(|path| self.sync_file(path))
            .collect()
    }

    /// Bring one plugin in line with its file: load it if it is new or changed, unload it if
    /// it is gone. Returns the event recorded, or `None` when nothing changed (or `path` is
    /// not a plugin file). Blocks while compiling.
    pub fn sync_file(&self, path: &Path) -> Option<PluginEvent> {
        let name = plugin_name(path)?;
        let mut rejected = self.rejected.lock().unwrap_or_else(|p| p.into_inner());
        let span = tracing::info_span!("plugin.reload", plugin = %name);
        let _entered = span.enter();
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                rejected.remove(&name);
                return self.unload(&name);
            }
            Err(e) => {
                return Some(self.record(PluginEvent::new(
                    &name,
                    EventKind::Failed,
                    format!("cannot read {}: {e}", path.display()),
                )));
            }
        };
        let sha256 = sha256_hex(&bytes);
        let current = self.get(&name);
        if current.as_ref().is_some_and(|p| p.sha256() == sha256)
            || rejected.get(&name) == Some(&sha256)
        {
            return None;
        }
        rejected.remove(&name);
        let event = match self.runtime.load_bytes(path, &bytes) {
            Ok(plugin) => {
                let kind = if current.is_some() {
                    EventKind::Swapped
                } else {
                    EventKind::Loaded
                };
                let message = match &current {
                    Some(old) => format!(
                        "{} replaces {} for new work; work in flight finishes on the old version",
                        plugin.label(),
                        old.label()
                    ),
                    None => format!("{} serves", plugin.label()),
                };
                let mut event = PluginEvent::new(&name, kind, message);
                event.version = Some(plugin.label().to_string());
                event.sha256 = Some(plugin.sha256().to_owned());
                event.source = Some(match plugin.load_source() {
                    LoadSource::Compiled => "compiled".into(),
                    LoadSource::Cached => "cached".into(),
                });
                event.elapsed_ms = Some(plugin.load_time().as_millis() as u64);
                self.metrics.plugin_load_seconds.observe(plugin.load_time());
                self.write().insert(name.clone(), plugin);
                event
            }
            Err(e) => {
                let kept = match &current {
                    Some(old) => format!("; {} keeps serving", old.label()),
                    None => String::new(),
                };
                let mut event = PluginEvent::new(&name, EventKind::Failed, format!("{e}{kept}"));
                event.sha256 = Some(sha256.clone());
                rejected.insert(name.clone(), sha256);
                event
            }
        };
        Some(self.record(event))
    }

    fn unload(&self, name: &str) -> Option<PluginEvent> {
        let removed = self.write().remove(name)?;
        let mut event = PluginEvent::new(
            name,
            EventKind::Removed,
            format!(
                "{}.wasm was deleted: {} takes no new work and is dropped once idle",
                name,
                removed.label()
            ),
        );
        event.version = Some(removed.label().to_string());
        event.sha256 = Some(removed.sha256().to_owned());
        Some(self.record(event))
    }

    /// Store, log and count an event.
    fn record(&self, mut event: PluginEvent) -> PluginEvent {
        match event.kind {
            EventKind::Failed => {
                tracing::warn!(plugin = %event.plugin, "plugin not loaded: {}", crate::runtime::one_line(&event.message))
            }
            _ => {
                tracing::info!(plugin = %event.plugin, kind = ?event.kind, version = event.version.as_deref().unwrap_or(""), "{}", crate::runtime::one_line(&event.message))
            }
        }
        self.metrics.count_reload(&event.plugin, event.kind);
        match self.store.insert_event(&event) {
            Ok(id) => event.id = id,
            Err(e) => tracing::error!(error = %e, "plugin event not stored"),
        }
        event
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Plugin>>> {
        self.serving.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Plugin>>> {
        self.serving.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// The plugin a path is the file of: `NAME.wasm`, not hidden (editors' and copiers'
/// temporary files start with a dot).
pub fn plugin_name(path: &Path) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    let name = file.strip_suffix(".wasm")?;
    (!name.is_empty() && !name.starts_with('.')).then(|| name.to_owned())
}
