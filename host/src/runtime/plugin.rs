//! One loaded plugin version: the validated, compiled and pre-instantiated component, and what
//! it said of itself in `describe()`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use super::session::classify_trap;
use super::{Grants, PluginSession, Runtime, SessionState};
use crate::contract::{self, PluginInfo, Setting};
use crate::error::PluginLabel;
use crate::{Error, Result};

/// Where a plugin's compiled code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadSource {
    /// Compiled from the `.wasm` file (first start, or the file changed).
    Compiled,
    /// Deserialized from the compiled-artifact cache.
    Cached,
}

/// A loaded plugin version. Sessions hold an `Arc` of it, so work in flight keeps its version.
pub struct Plugin {
    runtime: Arc<Runtime>,
    path: PathBuf,
    sha256: String,
    label: PluginLabel,
    info: PluginInfo,
    pre: contract::PluginPre<SessionState>,
    load_source: LoadSource,
    load_time: Duration,
}

/// The sandbox `describe()` runs in: no grants, little memory, a short deadline.
fn describe_grants() -> Grants {
    Grants {
        directories: Vec::new(),
        memory_bytes: 256 << 20,
        call_timeout: Duration::from_secs(10),
        ..Grants::default()
    }
}

impl Plugin {
    pub(crate) fn load(runtime: &Arc<Runtime>, path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::Path {
            path: path.to_path_buf(),
            reason: format!("cannot read the plugin: {e}"),
        })?;
        Plugin::from_bytes(runtime, path, &bytes)
    }

    /// Load a plugin from the contents of its file `path`.
    pub(crate) fn from_bytes(runtime: &Arc<Runtime>, path: &Path, bytes: &[u8]) -> Result<Self> {
        let span = tracing::info_span!("plugin.load", path = %path.display());
        let _entered = span.enter();
        let started = Instant::now();
        check_component_header(path, bytes)?;
        let sha256 = sha256_hex(bytes);
        let engine = runtime.engine();
        let (component, load_source) = match runtime.cache().get(engine, &sha256) {
            Some(component) => (component, LoadSource::Cached),
            None => {
                let component = Component::new(engine, bytes).map_err(|e| Error::PluginLoad {
                    path: path.to_path_buf(),
                    reason: format!("it does not compile: {e:#}"),
                })?;
                if let Err(e) = runtime.cache().put(&sha256, &component) {
                    tracing::warn!(error = %e, "compiled plugin not cached");
                }
                (component, LoadSource::Compiled)
            }
        };
        let instance_pre =
            runtime
                .linker()
                .instantiate_pre(&component)
                .map_err(|e| Error::PluginLoad {
                    path: path.to_path_buf(),
                    reason: format!(
                        "it imports something this host does not provide ({e:#}); build it against \
                     qualityd:connector@{} with the qualityd plugin SDK",
                        contract::CONTRACT_VERSION
                    ),
                })?;
        let pre = contract::PluginPre::new(instance_pre).map_err(|e| Error::PluginLoad {
            path: path.to_path_buf(),
            reason: format!(
                "it does not export qualityd:connector/connector@{} ({e:#}); it may be built \
                 against another contract version",
                contract::CONTRACT_VERSION
            ),
        })?;
        let file_label: PluginLabel = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string())
            .into();
        let info = describe(runtime, &pre, file_label).map_err(|e| match e {
            // Not a trap: the call's types did not match (export names match, shapes differ).
            DescribeError::Contract(reason) => Error::PluginLoad {
                path: path.to_path_buf(),
                reason: format!(
                    "its `describe` does not match qualityd:connector@{} ({reason}); rebuild it \
                     with the SDK of this qualityd",
                    contract::CONTRACT_VERSION
                ),
            },
            DescribeError::Limit(reason) => Error::PluginLoad {
                path: path.to_path_buf(),
                reason,
            },
            DescribeError::Stopped(e) => e,
        })?;
        let label: PluginLabel = format!("{}@{}", info.name, info.version).into();
        tracing::info!(plugin = %label, ?load_source, elapsed_ms = started.elapsed().as_millis() as u64, "plugin loaded");
        Ok(Plugin {
            runtime: runtime.clone(),
            path: path.to_path_buf(),
            sha256,
            label,
            info,
            pre,
            load_source,
            load_time: started.elapsed(),
        })
    }

    /// Open a sandboxed session on a datastore: a fresh instance, `open(settings)` called.
    pub fn open(self: &Arc<Self>, grants: &Grants, settings: &[Setting]) -> Result<PluginSession> {
        PluginSession::open(self.clone(), grants, settings)
    }

    /// `name@version`, for errors and logs.
    pub fn label(&self) -> &PluginLabel {
        &self.label
    }

    /// What the plugin said of itself.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The `.wasm` file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The SHA-256 of the `.wasm` file, in hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Whether its code was compiled or taken from the cache.
    pub fn load_source(&self) -> LoadSource {
        self.load_source
    }

    /// How long loading took, from reading the file to `describe()`.
    pub fn load_time(&self) -> Duration {
        self.load_time
    }

    pub(crate) fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    pub(crate) fn pre(&self) -> &contract::PluginPre<SessionState> {
        &self.pre
    }
}

enum DescribeError {
    Contract(String),
    /// More memories, tables or instances than a plugin may create.
    Limit(String),
    Stopped(Error),
}

fn describe(
    runtime: &Runtime,
    pre: &contract::PluginPre<SessionState>,
    label: PluginLabel,
) -> std::result::Result<PluginInfo, DescribeError> {
    let grants = describe_grants();
    let mut store =
        SessionState::store(runtime, label.clone(), &grants).map_err(DescribeError::Stopped)?;
    let outcome = pre.instantiate(&mut store).and_then(|bindings| {
        bindings
            .qualityd_connector_connector()
            .call_describe(&mut store)
    });
    outcome.map_err(|e| {
        if let Some(reason) = super::sandbox::count_limit(&e) {
            DescribeError::Limit(reason)
        } else if e.downcast_ref::<wasmtime::Trap>().is_none()
            && store.data().memory_refused().is_none()
        {
            DescribeError::Contract(format!("{e:#}"))
        } else {
            DescribeError::Stopped(classify_trap(&store, &label, "describe", &grants, e))
        }
    })
}

/// A component starts with `\0asm`, then version 0x0d and layer 1; a core module has layer 0.
fn check_component_header(path: &Path, bytes: &[u8]) -> Result<()> {
    let not = |reason: &str| {
        Err(Error::NotAComponent {
            path: path.to_path_buf(),
            reason: reason.into(),
        })
    };
    match bytes {
        [0, b'a', b's', b'm', _, _, 1, 0, ..] => Ok(()),
        [0, b'a', b's', b'm', _, _, 0, 0, ..] => not("it is a core WebAssembly module"),
        [0, b'a', b's', b'm', ..] => not("unknown WebAssembly layer or version"),
        _ => not("it does not start with the WebAssembly magic bytes"),
    }
}

/// The SHA-256 of a plugin file, in hex: how the registry and the cache tell versions apart.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
