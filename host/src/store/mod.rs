//! The state store: one SQLite file (`STATE_DIR/state.db`, WAL) holding the datastores as
//! configured (secrets redacted), their catalogs, every profile made (a versioned record per
//! container and run), jobs, plugin events, checks, scans and anomalies.
//!
//! All data access goes through [`Store`], so another backend (PostgreSQL, for several daemons
//! sharing work) can follow with the same methods. Writes that belong together run in one
//! transaction; a killed daemon leaves the last committed state (WAL makes that cheap).

mod anomalies;
mod catalog;
mod checks;
mod events;
mod jobs;
mod migrations;
mod retention;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

pub use anomalies::{AnomalyFilter, AnomalyRecord, AnomalyStatus, ScanRecord};
pub use catalog::{CatalogEntry, DatastoreRecord, FieldEntry, ProfileRecord, ProfileSummary};
pub use checks::{CheckStatus, SOURCE_API, SOURCE_INFERRED, StoredCheck, SyncCounts};
pub use events::{EventKind, PluginEvent};
pub use jobs::{ContainerFailure, JobError, JobFilter, JobKind, JobRecord, JobState, NewJob};
pub use retention::Pruned;

use crate::{Error, Result};

/// The store's file name in the state directory.
pub const STORE_FILE: &str = "state.db";

/// The state store.
pub struct Store {
    path: PathBuf,
    connection: Mutex<Connection>,
}

impl Store {
    /// Open (or create) the store in `state_dir`, bringing its schema up to date.
    pub fn open(state_dir: &Path) -> Result<Store> {
        let path = state_dir.join(STORE_FILE);
        private_file(state_dir, &path)?;
        let fail = |what: &str, e: rusqlite::Error| Error::Store {
            path: path.clone(),
            reason: format!("{what}: {e}"),
        };
        let mut connection = Connection::open(&path).map_err(|e| fail("cannot open it", e))?;
        connection
            .busy_timeout(Duration::from_secs(5))
            .map_err(|e| fail("cannot set a busy timeout", e))?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .and_then(|()| connection.pragma_update(None, "synchronous", "NORMAL"))
            .and_then(|()| connection.pragma_update(None, "foreign_keys", "ON"))
            .map_err(|e| fail("cannot set up WAL journaling", e))?;
        migrations::migrate(&mut connection).map_err(|e| {
            fail(
                "cannot bring its schema up to date (is it from a newer qualityd?)",
                e,
            )
        })?;
        Ok(Store {
            path,
            connection: Mutex::new(connection),
        })
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SQLite's own consistency check: `ok` when the file is sound.
    pub fn integrity_check(&self) -> Result<String> {
        self.read(|c| c.query_row("PRAGMA integrity_check", [], |row| row.get::<_, String>(0)))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Run queries on the connection; an SQLite error becomes a store error.
    fn read<T>(&self, query: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        query(&self.lock()).map_err(|e| self.error(e))
    }

    /// Run writes in one transaction: all of them land, or none.
    fn write<T>(
        &self,
        writes: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let mut connection = self.lock();
        let transaction = connection.transaction().map_err(|e| self.error(e))?;
        let value = writes(&transaction).map_err(|e| self.error(e))?;
        transaction.commit().map_err(|e| self.error(e))?;
        Ok(value)
    }

    fn error(&self, e: rusqlite::Error) -> Error {
        Error::Store {
            path: self.path.clone(),
            reason: format!("{e}; check the disk and the file's permissions"),
        }
    }
}

/// Create the state directory (mode `0700`) and the store's file (mode `0600`) when
/// missing, before SQLite opens it: the store holds profiles (values from the data) and
/// anomalies (failing records), for this user alone. SQLite gives its WAL and shared-memory
/// files the mode of the store's file. A store file readable by others is made private.
fn private_file(state_dir: &Path, path: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let fail = |reason: String| Error::Store {
        path: path.to_path_buf(),
        reason,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(state_dir)
        .map_err(|e| {
            fail(format!(
                "cannot create the state directory {}: {e}",
                state_dir.display()
            ))
        })?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            fail(format!(
                "cannot create it: {e}; check the state directory's permissions"
            ))
        })?;
    let mode = file
        .metadata()
        .map_err(|e| fail(format!("cannot inspect it: {e}")))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        tracing::info!(path = %path.display(), mode = format!("{:o}", mode & 0o777), "the state store was readable by other users: made private (0600)");
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| fail(format!("cannot make it private (chmod 600): {e}")))?;
    }
    Ok(())
}

/// Now, in µs since the epoch: how the store keeps time.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// A stored time as RFC 3339 (UTC, µs), as the API shows it.
pub fn rfc3339(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
