//! Compiled plugins on disk, keyed by the plugin file's SHA-256 and the engine's settings, so
//! a restart deserializes (milliseconds) instead of compiling (seconds).
//!
//! Artifacts are memory-mapped when loaded, so an artifact is never overwritten in place: a new
//! one is written to a temporary file and renamed into place. An artifact that fails to load
//! (another wasmtime, a truncated file) is treated as a miss and replaced.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::{Error, Result};

/// The compiled-artifact cache.
pub struct ArtifactCache {
    dir: PathBuf,
    engine_key: String,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl ArtifactCache {
    /// A cache in `dir` for artifacts of `engine`.
    pub fn new(dir: &Path, engine: &Engine) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::Cache {
            path: dir.to_path_buf(),
            reason: format!("cannot create it: {e}; choose another cache directory (`--cache-dir`, or `cache_dir` in qualityd.toml)"),
        })?;
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(ArtifactCache {
            dir: dir.to_path_buf(),
            engine_key: format!("{:016x}", hasher.finish()),
        })
    }

    fn artifact_path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", self.engine_key))
    }

    /// The cached component for a plugin file's hash, if there is a usable one.
    pub fn get(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let path = self.artifact_path(sha256);
        if !path.is_file() {
            return None;
        }
        // SAFETY: the file was written by `put` from `Component::serialize` of the same
        // engine configuration (the name carries its hash), and is never modified in place.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(artifact = %path.display(), error = %e, "cached artifact unusable; compiling again");
                None
            }
        }
    }

    /// Store a compiled component; a failure only costs the next start a compile.
    pub fn put(&self, sha256: &str, component: &Component) -> Result<()> {
        let path = self.artifact_path(sha256);
        let bytes = component.serialize().map_err(|e| Error::Cache {
            path: path.clone(),
            reason: format!("cannot serialize the compiled plugin: {e}"),
        })?;
        let temp = self.dir.join(format!(
            ".{sha256}.{}.{}.tmp",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let written = std::fs::write(&temp, &bytes).and_then(|()| std::fs::rename(&temp, &path));
        written.map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            Error::Cache {
                path,
                reason: format!("cannot write the compiled plugin: {e}"),
            }
        })
    }
}
