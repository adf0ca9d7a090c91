//! Datastores, their catalogs and their profiles in the store. A catalog is replaced as a
//! whole by each catalog job; profiles are never replaced: each run adds a record, so today's
//! profile can be compared with last week's.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::{Store, now_micros, rfc3339};
use crate::profile::ContainerProfile;
use crate::{Error, Result};

/// A datastore as configured, with secrets as written (references) or redacted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatastoreRecord {
    /// Its name.
    pub name: String,
    /// The plugin that reads it.
    pub plugin: String,
    /// Its settings, safe to show.
    pub settings: BTreeMap<String, String>,
}

/// A field of a container, as the catalog lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldEntry {
    /// Its name.
    pub name: String,
    /// Its Arrow type, as Arrow writes it (`Int64`, `Utf8`, `Timestamp(µs, "UTC")`).
    pub data_type: String,
    /// Whether it may hold nulls.
    pub nullable: bool,
}

/// A container in a datastore's catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// Its name in the datastore.
    pub name: String,
    /// `table`, `view`, `file`, `sheet`, ...
    pub kind: String,
    /// Its fields.
    pub fields: Vec<FieldEntry>,
    /// Records, when the plugin could tell cheaply.
    pub row_estimate: Option<u64>,
    /// Bytes in storage, when known.
    pub byte_size: Option<u64>,
    /// Why the plugin cannot read it, when it cannot.
    pub error: Option<String>,
    /// When the catalog job that listed it finished (RFC 3339); set by the store.
    #[serde(default)]
    pub updated_at: String,
}

/// A stored profile, whole.
#[derive(Debug, Clone)]
pub struct ProfileRecord {
    /// Its id.
    pub id: i64,
    /// The datastore.
    pub datastore: String,
    /// The job that made it.
    pub job_id: Option<i64>,
    /// The profile.
    pub profile: ContainerProfile,
}

/// A stored profile, in a history listing.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileSummary {
    /// Its id (`GET /profiles/{id}`).
    pub id: i64,
    /// The container.
    pub container: String,
    /// The job that made it.
    pub job_id: Option<i64>,
    /// When it was made (RFC 3339).
    pub profiled_at: String,
    /// Records profiled.
    pub rows: u64,
}

fn catalog_entry(row: &Row<'_>) -> rusqlite::Result<CatalogEntry> {
    let fields: String = row.get(2)?;
    Ok(CatalogEntry {
        name: row.get(0)?,
        kind: row.get(1)?,
        fields: serde_json::from_str(&fields).unwrap_or_default(),
        row_estimate: row.get(3)?,
        byte_size: row.get(4)?,
        error: row.get(5)?,
        updated_at: rfc3339(row.get(6)?),
    })
}

const CATALOG_COLUMNS: &str = "name, kind, fields, row_estimate, byte_size, error, updated_at";

impl Store {
    /// Replace the configured datastores with `datastores`. Catalogs and profiles of
    /// datastores no longer configured are kept (they are history).
    pub fn put_datastores(&self, datastores: &[DatastoreRecord]) -> Result<()> {
        self.write(|t| {
            t.execute("DELETE FROM datastores", [])?;
            for datastore in datastores {
                let settings = serde_json::to_string(&datastore.settings).unwrap_or_default();
                t.execute(
                    "INSERT INTO datastores (name, plugin, settings, updated_at) VALUES (?1, ?2, ?3, ?4)",
                    params![datastore.name, datastore.plugin, settings, now_micros()],
                )?;
            }
            Ok(())
        })
    }

    /// The configured datastores, by name.
    pub fn datastores(&self) -> Result<Vec<DatastoreRecord>> {
        self.read(|c| {
            let mut statement =
                c.prepare("SELECT name, plugin, settings FROM datastores ORDER BY name")?;
            let rows = statement.query_map([], |row| {
                let settings: String = row.get(2)?;
                Ok(DatastoreRecord {
                    name: row.get(0)?,
                    plugin: row.get(1)?,
                    settings: serde_json::from_str(&settings).unwrap_or_default(),
                })
            })?;
            rows.collect()
        })
    }

    /// Replace a datastore's catalog with what a catalog job found.
    pub fn replace_catalog(
        &self,
        datastore: &str,
        job_id: i64,
        entries: &[CatalogEntry],
    ) -> Result<()> {
        let now = now_micros();
        self.write(|t| {
            t.execute("DELETE FROM containers WHERE datastore = ?1", [datastore])?;
            for entry in entries {
                t.execute(
                    "INSERT INTO containers (datastore, name, kind, fields, row_estimate, \
                     byte_size, error, job_id, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        datastore,
                        entry.name,
                        entry.kind,
                        serde_json::to_string(&entry.fields).unwrap_or_default(),
                        entry.row_estimate,
                        entry.byte_size,
                        entry.error,
                        job_id,
                        now
                    ],
                )?;
            }
            Ok(())
        })
    }

    /// A datastore's catalog, by container name.
    pub fn containers(&self, datastore: &str) -> Result<Vec<CatalogEntry>> {
        self.read(|c| {
            let mut statement = c.prepare(&format!(
                "SELECT {CATALOG_COLUMNS} FROM containers WHERE datastore = ?1 ORDER BY name"
            ))?;
            let rows = statement.query_map([datastore], catalog_entry)?;
            rows.collect()
        })
    }

    /// The names in a datastore's catalog, in order.
    pub fn container_names(&self, datastore: &str) -> Result<Vec<String>> {
        self.read(|c| {
            let mut statement =
                c.prepare("SELECT name FROM containers WHERE datastore = ?1 ORDER BY name")?;
            let rows = statement.query_map([datastore], |row| row.get(0))?;
            rows.collect()
        })
    }

    /// One container of a datastore's catalog.
    pub fn container(&self, datastore: &str, name: &str) -> Result<Option<CatalogEntry>> {
        self.read(|c| {
            c.query_row(
                &format!(
                    "SELECT {CATALOG_COLUMNS} FROM containers WHERE datastore = ?1 AND name = ?2"
                ),
                [datastore, name],
                catalog_entry,
            )
            .optional()
        })
    }

    /// Add a profile made by a job; returns its id.
    pub fn insert_profile(
        &self,
        datastore: &str,
        job_id: Option<i64>,
        profile: &ContainerProfile,
    ) -> Result<i64> {
        let json = serde_json::to_string(profile).map_err(|e| {
            Error::Internal(format!("serializing the profile of {}: {e}", profile.name))
        })?;
        self.write(|t| {
            t.execute(
                "INSERT INTO profiles (datastore, container, job_id, profiled_at, rows, profile) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    datastore,
                    profile.name,
                    job_id,
                    profile.profiled_at,
                    profile.rows,
                    json
                ],
            )?;
            Ok(t.last_insert_rowid())
        })
    }

    /// The containers of a datastore that have been profiled, by name.
    pub fn profiled_containers(&self, datastore: &str) -> Result<Vec<String>> {
        self.read(|c| {
            let mut statement = c.prepare_cached(
                "SELECT DISTINCT container FROM profiles WHERE datastore = ?1 ORDER BY container",
            )?;
            let rows = statement.query_map([datastore], |row| row.get(0))?;
            rows.collect()
        })
    }

    /// The newest profile of a container.
    pub fn latest_profile(
        &self,
        datastore: &str,
        container: &str,
    ) -> Result<Option<ProfileRecord>> {
        let id = self.read(|c| {
            c.query_row(
                "SELECT max(id) FROM profiles WHERE datastore = ?1 AND container = ?2",
                [datastore, container],
                |row| row.get::<_, Option<i64>>(0),
            )
        })?;
        match id {
            Some(id) => self.profile(id),
            None => Ok(None),
        }
    }

    /// A stored profile by id.
    pub fn profile(&self, id: i64) -> Result<Option<ProfileRecord>> {
        let row = self.read(|c| {
            c.query_row(
                "SELECT datastore, job_id, profile FROM profiles WHERE id = ?1",
                [id],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, Option<i64>>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()
        })?;
        row.map(|(datastore, job_id, json)| {
            let profile = serde_json::from_str(&json).map_err(|e| Error::Store {
                path: self.path.clone(),
                reason: format!(
                    "profile {id} cannot be read back ({e}); it was written by another qualityd"
                ),
            })?;
            Ok(ProfileRecord {
                id,
                datastore,
                job_id,
                profile,
            })
        })
        .transpose()
    }

    /// A container's profiles, newest first.
    pub fn profile_history(
        &self,
        datastore: &str,
        container: &str,
        limit: u32,
    ) -> Result<Vec<ProfileSummary>> {
        self.read(|c| {
            let mut statement = c.prepare(
                "SELECT id, container, job_id, profiled_at, rows FROM profiles \
                 WHERE datastore = ?1 AND container = ?2 ORDER BY id DESC LIMIT ?3",
            )?;
            let rows = statement.query_map(params![datastore, container, limit], |row| {
                Ok(ProfileSummary {
                    id: row.get(0)?,
                    container: row.get(1)?,
                    job_id: row.get(2)?,
                    profiled_at: rfc3339(row.get(3)?),
                    rows: row.get(4)?,
                })
            })?;
            rows.collect()
        })
    }
}
