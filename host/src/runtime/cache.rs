//! Compiled plugins on disk, keyed by the plugin file's SHA-256 and the engine's settings, so
//! a restart deserializes (milliseconds) instead of compiling (seconds).
//!
//! An artifact is native code the daemon runs without further checks, so the cache must be
//! ours alone: its directory is created `0700`, and one owned by another user, or writable
//! by others (itself, or a directory above it without the sticky bit), is refused. Beside
//! each artifact, a record (`.cwasm.sha256`) holds the artifact's own SHA-256 and what it was
//! compiled from; an artifact is loaded only when the bytes read hash to the record (and the
//! record names the plugin and engine asked for), from those very bytes, not from the file
//! again. Anything else (another wasmtime, a truncated file, another plugin's artifact
//! renamed in) is a miss: the plugin is compiled again and the artifact replaced.
//!
//! New artifacts and records are written to a temporary file and renamed into place, never
//! overwritten in place.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::Engine;
use wasmtime::component::Component;

use super::sha256_hex;
use crate::{Error, Result};

/// The compiled-artifact cache.
pub struct ArtifactCache {
    dir: PathBuf,
    engine_key: String,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// What to do about a cache directory that is refused.
const CHOOSE: &str = "choose another cache directory (`--cache-dir`, `QUALITYD_CACHE`, or \
                      `cache_dir` in qualityd.toml)";

impl ArtifactCache {
    /// A cache in `dir` for artifacts of `engine`. `dir` is created `0700` when missing, and
    /// refused when another user owns it or could write to it.
    pub fn new(dir: &Path, engine: &Engine) -> Result<Self> {
        private_dir(dir)?;
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(ArtifactCache {
            dir: dir.to_path_buf(),
            engine_key: format!("{:016x}", hasher.finish()),
        })
    }

    /// The cache's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn artifact_path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", self.engine_key))
    }

    /// The record that goes with an artifact.
    fn record_path(artifact: &Path) -> PathBuf {
        let mut name = artifact.as_os_str().to_owned();
        name.push(".sha256");
        PathBuf::from(name)
    }

    /// What the record of the artifact of plugin `sha256` must say, given the artifact's
    /// own hash.
    fn record(&self, sha256: &str, artifact_sha256: &str) -> String {
        format!(
            "artifact {artifact_sha256}\nplugin {sha256}\nengine {}\n",
            self.engine_key
        )
    }

    /// The cached component for a plugin file's hash, if there is a usable one.
    pub fn get(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let path = self.artifact_path(sha256);
        if !path.is_file() {
            return None;
        }
        let miss = |why: &str| {
            tracing::warn!(artifact = %path.display(), "cached artifact not used ({why}); compiling again");
            None
        };
        let Ok(recorded) = std::fs::read_to_string(Self::record_path(&path)) else {
            return miss("it has no record of its hash");
        };
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => return miss(&format!("cannot read it: {e}")),
        };
        if recorded != self.record(sha256, &sha256_hex(&bytes)) {
            return miss("its bytes do not match the hash recorded when it was written");
        }
        // SAFETY: these bytes are the ones hashed above, and they hash to what `put` recorded
        // when it wrote them from `Component::serialize` of this engine configuration, for
        // this plugin, in a directory only this user can write.
        match unsafe { Component::deserialize(engine, &bytes) } {
            Ok(component) => {
                // Its time of last use, for pruning the unused ones.
                let now = std::time::SystemTime::now();
                let _ = std::fs::File::options()
                    .append(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(now));
                Some(component)
            }
            Err(e) => miss(&format!("wasmtime refused it: {e}")),
        }
    }

    /// Store a compiled component; a failure only costs the next start a compile.
    pub fn put(&self, sha256: &str, component: &Component) -> Result<()> {
        let path = self.artifact_path(sha256);
        let bytes = component.serialize().map_err(|e| Error::Cache {
            path: path.clone(),
            reason: format!("cannot serialize the compiled plugin: {e}"),
        })?;
        let record = self.record(sha256, &sha256_hex(&bytes));
        // The artifact first: a record without its artifact, or the other way round, is a
        // miss.
        self.write_new(&path, &bytes)?;
        self.write_new(&Self::record_path(&path), record.as_bytes())
    }

    /// Remove the artifacts (and their records) not used since `unused_since`, except those
    /// of the plugin files whose SHA-256 is in `keep` (the versions serving), and temporary
    /// files left by a crash. Returns how many artifacts went.
    pub fn prune(&self, keep: &[String], unused_since: std::time::SystemTime) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let artifact = name.ends_with(".cwasm");
            let leftover = name.starts_with('.') && name.ends_with(".tmp");
            let kept = keep.iter().any(|sha| name.starts_with(sha.as_str()));
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| modified < unused_since);
            if !(artifact || leftover) || kept || !old {
                continue;
            }
            let path = entry.path();
            if std::fs::remove_file(&path).is_ok() && artifact {
                let _ = std::fs::remove_file(Self::record_path(&path));
                removed += 1;
            }
        }
        removed
    }

    /// Write `bytes` to `path` through a new file renamed into place.
    fn write_new(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        let temp = self.dir.join(format!(
            ".{}.{}.{}.tmp",
            path.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let written = std::fs::write(&temp, bytes).and_then(|()| std::fs::rename(&temp, path));
        written.map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            Error::Cache {
                path: path.to_path_buf(),
                reason: format!("cannot write the compiled plugin: {e}"),
            }
        })
    }
}

/// Create `dir` (and missing parents) with mode `0700`, and check that it and the
/// directories above it are this user's alone: each owned by this user or root, and none
/// writable by others (above `dir`, a sticky directory such as `/tmp` is fine: there nobody
/// can move another's entry).
fn private_dir(dir: &Path) -> Result<()> {
    let refuse = |path: &Path, reason: String| Error::Cache {
        path: path.to_path_buf(),
        reason,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| refuse(dir, format!("cannot create it: {e}; {CHOOSE}")))?;
    let real = dir
        .canonicalize()
        .map_err(|e| refuse(dir, format!("cannot resolve it: {e}; {CHOOSE}")))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    for (depth, path) in real.ancestors().enumerate() {
        let meta = std::fs::metadata(path)
            .map_err(|e| refuse(path, format!("cannot inspect it: {e}; {CHOOSE}")))?;
        let mode = meta.permissions().mode();
        let others_write = mode & 0o022 != 0;
        let sticky = mode & 0o1000 != 0;
        let what = match depth {
            0 => "the cache directory".to_owned(),
            _ => format!("{}, a directory above the cache", path.display()),
        };
        if meta.uid() != me && meta.uid() != 0 {
            return Err(refuse(
                dir,
                format!(
                    "{what} is owned by another user (uid {}, this process runs as uid {me}): \
                     artifacts are native code the daemon runs, and that user could plant \
                     them; {CHOOSE}",
                    meta.uid()
                ),
            ));
        }
        if depth == 0 && meta.uid() != me {
            return Err(refuse(
                dir,
                format!(
                    "the cache directory is owned by root, not by this user (uid {me}); {CHOOSE}"
                ),
            ));
        }
        if others_write && (depth == 0 || !sticky) {
            return Err(refuse(
                dir,
                format!(
                    "{what} is writable by other users (mode {:o}): they could plant \
                     artifacts, native code the daemon runs; make it `chmod 700` (or `go-w`), \
                     or {CHOOSE}",
                    mode & 0o7777
                ),
            ));
        }
    }
    Ok(())
}
