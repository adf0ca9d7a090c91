//! The wasmtime side of qualityd: one engine, compiled plugins, sandboxed sessions.
//!
//! - [`Runtime`] owns the engine (epoch interruption on), the linker with the contract's and
//!   WASI's imports, the compiled-artifact cache and the epoch ticker that enforces time limits
//!   (`epoch.rs`: it runs only while some plugin instance exists).
//! - [`Plugin`] is one loaded plugin version: its pre-instantiated component and `describe()`.
//! - [`PluginSession`] is one sandboxed instance with a session open on a datastore.
//! - [`BatchReader`] pulls the Arrow IPC stream of one `read`; [`IpcDecoder`] decodes and
//!   validates it.

mod cache;
mod epoch;
mod ipc;
mod log_limit;
mod lone_file;
mod network;
mod output;
mod plugin;
mod redact;
mod sandbox;
mod session;
mod stats;
mod stream;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine};

pub use cache::ArtifactCache;
pub use epoch::EPOCH_TICK;
pub(crate) use epoch::Ticking;
pub use ipc::{IpcCaps, IpcDecoder, IpcError, decode_schema};
pub use lone_file::LoneFile;
pub use network::HostGrant;
pub use plugin::{LoadSource, Plugin, sha256_hex};
pub use redact::{Redactor, one_line};
pub use sandbox::{Grants, SessionState, Uncovered};
pub use session::{DiscoveredContainer, PluginSession};
pub use stats::{CallCounts, CallStats};
pub use stream::{BatchReader, MAX_EMPTY_CHUNKS};

use crate::contract;
use crate::{Error, Result};
use epoch::EpochTicker;

/// The engine, linker and cache every plugin shares.
pub struct Runtime {
    engine: Engine,
    linker: Linker<SessionState>,
    cache: ArtifactCache,
    calls: CallStats,
    ticker: Arc<EpochTicker>,
}

impl Runtime {
    /// A runtime whose compiled plugins are cached in `cache_dir` (created if missing).
    pub fn new(cache_dir: &Path) -> Result<Arc<Self>> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.wasm_component_model(true);
        let engine =
            Engine::new(&config).map_err(|e| Error::Internal(format!("wasmtime engine: {e}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| Error::Internal(format!("linking WASI: {e}")))?;
        contract::Plugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(|e| Error::Internal(format!("linking the contract: {e}")))?;
        let ticker = EpochTicker::start(&engine)?;
        let cache = ArtifactCache::new(cache_dir, &engine)?;
        Ok(Arc::new(Runtime {
            engine,
            linker,
            cache,
            calls: CallStats::default(),
            ticker,
        }))
    }

    /// The default cache directory, the same for the CLI and the daemon so that neither
    /// compiles what the other already did: `$QUALITYD_CACHE`, else
    /// `$XDG_CACHE_HOME/qualityd`, else `~/.cache/qualityd`. Never a shared temporary
    /// directory (another user could prepare it): with none of these set, an error says to
    /// choose one.
    pub fn default_cache_dir() -> Result<PathBuf> {
        let set = |name: &str| std::env::var_os(name).filter(|d| !d.is_empty());
        if let Some(dir) = set("QUALITYD_CACHE") {
            return Ok(PathBuf::from(dir));
        }
        set("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(".cache")))
            .map(|dir| dir.join("qualityd"))
            .ok_or_else(|| Error::Cache {
                path: PathBuf::new(),
                reason: "no cache directory: neither QUALITYD_CACHE, XDG_CACHE_HOME nor HOME is \
                         set; set one, or give `--cache-dir` (`cache_dir` in qualityd.toml)"
                    .into(),
            })
    }

    /// Load the plugin in `path`: validate, compile (or take the cached artifact),
    /// pre-instantiate and ask it to `describe()` itself.
    pub fn load(self: &Arc<Self>, path: &Path) -> Result<Arc<Plugin>> {
        Plugin::load(self, path).map(Arc::new)
    }

    /// Load a plugin from `bytes`, the contents of the file `path` (read once by the caller,
    /// who may have hashed them already).
    pub fn load_bytes(self: &Arc<Self>, path: &Path, bytes: &[u8]) -> Result<Arc<Plugin>> {
        Plugin::from_bytes(self, path, bytes).map(Arc::new)
    }

    /// Load the plugin named `name` (the file `NAME.wasm`) from a plugin directory.
    pub fn load_named(self: &Arc<Self>, dir: &Path, name: &str) -> Result<Arc<Plugin>> {
        let path = dir.join(format!("{name}.wasm"));
        if !path.is_file() {
            return Err(Error::PluginNotFound {
                name: name.into(),
                dir: dir.to_path_buf(),
            });
        }
        self.load(&path)
    }

    /// Counters of every plugin call made through this runtime.
    pub fn call_stats(&self) -> &CallStats {
        &self.calls
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Keep the epoch advancing (plugin time limits counting) while the guard lives: every
    /// store holds one.
    pub(crate) fn ticking(&self) -> Ticking {
        self.ticker.hold()
    }

    pub(crate) fn linker(&self) -> &Linker<SessionState> {
        &self.linker
    }

    /// The compiled-artifact cache.
    pub fn cache(&self) -> &ArtifactCache {
        &self.cache
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker.stop();
    }
}
