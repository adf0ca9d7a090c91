//! Watches the plugin directory and hands changed plugin files to the registry.
//!
//! A copy, an in-place write or an atomic rename shows up as a burst of file-system events;
//! the watcher waits until a burst has been quiet for [`DEBOUNCE`] and then syncs each file it
//! touched, once, on its own thread (loading compiles, which must not run on the async
//! runtime). A half-written file that fails to load is tried again when its writer's next
//! event arrives. Only events that can change a file's content count: reading a plugin file
//! (as loading it does) raises access events, which must not start another load, or an idle
//! daemon would read its plugins over and over.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, MetadataKind, ModifyKind};
use notify::{EventKind, RecursiveMode, Watcher};

use super::PluginRegistry;
use super::registry::plugin_name;
use crate::{Error, Result};

/// How long a burst of events must be quiet before the files it touched are loaded.
pub const DEBOUNCE: Duration = Duration::from_millis(50);

/// A running watcher; dropping it stops watching.
pub struct PluginWatcher {
    _watcher: notify::RecommendedWatcher,
}

/// Watch the registry's plugin directory (created if missing).
pub fn watch(registry: Arc<PluginRegistry>) -> Result<PluginWatcher> {
    let dir = registry.dir().to_path_buf();
    let fail = |reason: String| Error::Path {
        path: dir.clone(),
        reason,
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| fail(format!("cannot create the plugin directory: {e}")))?;
    let (sender, events) = mpsc::channel::<PathBuf>();
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
            Ok(event) if changes_content(&event.kind) => {
                for path in event.paths {
                    // The receiver is gone only when the daemon is stopping.
                    let _ = sender.send(path);
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "plugin directory watch error"),
        })
        .map_err(|e| fail(format!("cannot watch it: {e}")))?;
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(|e| fail(format!("cannot watch it: {e}")))?;
    std::thread::Builder::new()
        .name("qualityd-plugin-watch".into())
        .spawn(move || debounce(&events, &registry))
        .map_err(|e| Error::Internal(format!("cannot start the plugin watcher thread: {e}")))?;
    Ok(PluginWatcher { _watcher: watcher })
}

/// Whether an event may mean a file was created, written, renamed or removed: not an open,
/// a read or a close without writing, nor a change of access time.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
        EventKind::Any | EventKind::Other => true,
    }
}

/// Collect bursts of changed paths and sync each plugin file once per burst.
fn debounce(events: &mpsc::Receiver<PathBuf>, registry: &PluginRegistry) {
    while let Ok(first) = events.recv() {
        let mut burst = BTreeSet::from([first]);
        loop {
            match events.recv_timeout(DEBOUNCE) {
                Ok(path) => {
                    burst.insert(path);
                }
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        for path in burst.iter().filter(|path| plugin_name(path).is_some()) {
            registry.sync_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use notify::event::{CreateKind, RemoveKind, RenameMode};

    use super::*;

    #[test]
    fn reads_of_a_plugin_file_start_no_load_and_writes_do() {
        let ignored = [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Read),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)),
        ];
        for kind in ignored {
            assert!(!changes_content(&kind), "{kind:?}");
        }
        let loaded = [
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            EventKind::Modify(ModifyKind::Any),
            EventKind::Remove(RemoveKind::File),
        ];
        for kind in loaded {
            assert!(changes_content(&kind), "{kind:?}");
        }
    }
}
