//! The enrichment datastore: once a container's scan is stored, its anomalies and their
//! failing records are also written to a destination that other tools read — a directory of
//! Parquet files or a PostgreSQL schema (`[enrichment]` in the config) — in the layout that
//! `docs/enrichment.md` documents. The state store stays the source of truth: a write that
//! fails is logged and reported with the scan, which is kept.
//!
//! A scan writes the anomalies it found (new or seen again), each with its status and counts
//! as stored after the scan, and the failing records it kept for them. A scan that found no
//! anomaly writes nothing.

mod parquet;
mod postgres;

use std::path::PathBuf;

use crate::config::EnrichmentConfig;
use crate::scan::FailingRecord;
use crate::store::{AnomalyRecord, ContainerFailure, ScanRecord, Store};

pub use self::postgres::{check_url, shown_url};

/// Why the enrichment datastore could not be opened or written; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum EnrichmentError {
    /// The Parquet directory cannot be created or written.
    #[error("enrichment directory {dir}: {reason}")]
    Parquet {
        /// The directory (`[enrichment] path`).
        dir: PathBuf,
        /// What failed, and what to do.
        reason: String,
    },
    /// The PostgreSQL database cannot be reached or written.
    #[error("enrichment database {url}: {reason}")]
    Postgres {
        /// The URL without its password.
        url: String,
        /// What failed, and what to do.
        reason: String,
    },
    /// The scan's anomalies could not be read back from the state store.
    #[error("cannot read the anomalies of scan {scan} from the state store: {reason}")]
    Store {
        /// The scan.
        scan: i64,
        /// What failed.
        reason: String,
    },
    /// A stored value cannot be written as the layout says (a time that is not RFC 3339).
    #[error("scan {scan}: {reason}; please report it")]
    Value {
        /// The scan.
        scan: i64,
        /// What is wrong.
        reason: String,
    },
}

impl From<EnrichmentError> for crate::Error {
    fn from(e: EnrichmentError) -> Self {
        crate::Error::Invalid(e.to_string())
    }
}

/// An opened enrichment datastore, written after each container's scan.
pub struct Enrichment {
    destination: Destination,
}

enum Destination {
    Parquet(parquet::ParquetDir),
    Postgres(Box<postgres::PostgresSchema>),
}

impl Enrichment {
    /// Open the destination of `config`: create the Parquet directories, or connect to
    /// PostgreSQL (without TLS) and create the schema and tables when missing. A PostgreSQL
    /// destination must not be opened on an async runtime's thread (its sync client runs a
    /// runtime of its own): open and write it from a blocking thread (`spawn_blocking`).
    pub fn open(config: &EnrichmentConfig) -> Result<Self, EnrichmentError> {
        let destination = match config {
            EnrichmentConfig::Parquet { dir } => {
                Destination::Parquet(parquet::ParquetDir::open(dir)?)
            }
            EnrichmentConfig::Postgres { url, schema } => {
                Destination::Postgres(Box::new(postgres::PostgresSchema::open(url, schema)?))
            }
        };
        Ok(Enrichment { destination })
    }

    /// Open the configured destination for one job: `None` when none is configured or it
    /// cannot be opened, with the failure to report then (logged already). The scan goes on
    /// without it: the state store has everything.
    pub fn open_for_job(
        config: Option<&EnrichmentConfig>,
    ) -> (Option<Enrichment>, Option<ContainerFailure>) {
        match config.map(Enrichment::open) {
            None => (None, None),
            Some(Ok(enrichment)) => (Some(enrichment), None),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "the enrichment datastore cannot be opened; the scan's anomalies are stored but not written to it");
                let failure = ContainerFailure {
                    container: String::new(),
                    error: e.to_string(),
                    code: "enrichment".into(),
                };
                (None, Some(failure))
            }
        }
    }

    /// Where it writes, for logs: the directory, or the URL (without its password) and the
    /// schema.
    pub fn destination(&self) -> String {
        match &self.destination {
            Destination::Parquet(dir) => dir.dir().display().to_string(),
            Destination::Postgres(pg) => pg.shown(),
        }
    }

    /// Write one container's stored `scan` of `datastore` and `anomalies`, the stored
    /// anomalies it found (those `scan.anomalies` names, as the store holds them now).
    pub fn write(
        &self,
        datastore: &str,
        scan: &ScanRecord,
        anomalies: &[AnomalyRecord],
    ) -> Result<(), EnrichmentError> {
        if anomalies.is_empty() {
            return Ok(());
        }
        match &self.destination {
            Destination::Parquet(dir) => dir.write(datastore, scan, anomalies),
            Destination::Postgres(pg) => pg.write(datastore, scan, anomalies),
        }
    }

    /// Write `scan`, just stored in `store`, with the anomalies it found and those it
    /// resolved, as `store` holds them.
    pub fn write_stored(&self, store: &Store, scan: &ScanRecord) -> Result<(), EnrichmentError> {
        let mut anomalies = Vec::with_capacity(scan.anomalies.len() + scan.resolved.len());
        for &id in scan.anomalies.iter().chain(&scan.resolved) {
            let read = store.anomaly(id).map_err(|e| EnrichmentError::Store {
                scan: scan.id,
                reason: e.to_string(),
            })?;
            anomalies.extend(read);
        }
        self.write(&scan.datastore, scan, &anomalies)
    }
}

/// The failing records to write for `anomaly` with `scan`: those it kept at that scan (none
/// when its last scan is another one, whose records they are).
fn records_of<'a>(scan: &ScanRecord, anomaly: &'a AnomalyRecord) -> &'a [FailingRecord] {
    match anomaly.last_scan_id == scan.id {
        true => &anomaly.records,
        false => &[],
    }
}

/// The anomaly's fields that `record` has: the values to highlight.
fn highlighted(anomaly: &AnomalyRecord, record: &FailingRecord) -> Vec<String> {
    (anomaly.fields.iter())
        .filter(|field| record.values.contains_key(field.as_str()))
        .cloned()
        .collect()
}

/// A stored RFC 3339 time, in µs since the epoch.
fn micros(scan: i64, time: &str) -> Result<i64, EnrichmentError> {
    chrono::DateTime::parse_from_rfc3339(time)
        .map(|t| t.timestamp_micros())
        .map_err(|e| EnrichmentError::Value {
            scan,
            reason: format!("the stored time `{time}` is not RFC 3339 ({e})"),
        })
}

/// A `u64` count as a signed 64-bit column, capped.
fn signed(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
