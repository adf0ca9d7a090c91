//! Scans and anomalies in the store. Recording a container's scan stores its results and
//! folds its findings into the anomalies: a finding with the fingerprint of an open
//! (active or acknowledged) anomaly of the same container updates it instead of adding
//! another, so scanning the same data twice finds one anomaly; an open anomaly of a check
//! that now passes is resolved. A user acknowledges or resolves anomalies by hand.

use std::collections::BTreeSet;

use rusqlite::{OptionalExtension, Row, ToSql, params, params_from_iter};
use serde::{Deserialize, Serialize};

use super::{Store, now_micros, rfc3339};
use crate::Result;
use crate::scan::{AnomalyKind, ContainerScanResult, FailingRecord, Finding, LastScan};

/// Where an anomaly is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnomalyStatus {
    /// Found, and nobody has looked at it yet.
    Active,
    /// Seen by someone; still open, still updated by scans.
    Acknowledged,
    /// Closed: by hand, or by a scan in which its check passed.
    Resolved,
}

impl AnomalyStatus {
    /// The status's name, as the API and the store write it.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyStatus::Active => "active",
            AnomalyStatus::Acknowledged => "acknowledged",
            AnomalyStatus::Resolved => "resolved",
        }
    }
}

/// An anomaly as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyRecord {
    /// Its id.
    pub id: i64,
    /// The datastore.
    pub datastore: String,
    /// The container.
    pub container: String,
    /// The failed check, when a check found it.
    pub check_id: Option<i64>,
    /// The failed rule, or `schema_change`.
    pub rule: String,
    /// Record or shape.
    pub kind: AnomalyKind,
    /// Its status.
    pub status: AnomalyStatus,
    /// What was found, for people.
    pub message: String,
    /// The fields it concerns (highlighted in its records).
    pub fields: Vec<String>,
    /// The rows that failed, at the last scan that found it.
    pub failed_rows: u64,
    /// The rows the check applied to, at that scan.
    pub rows: u64,
    /// The first failing records, at that scan.
    pub records: Vec<FailingRecord>,
    /// The scan that first found it.
    pub first_scan_id: i64,
    /// The last scan that found it.
    pub last_scan_id: i64,
    /// How many scans found it.
    pub scans_seen: u64,
    /// When it was first found (RFC 3339).
    pub created_at: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
    /// Why its status last changed.
    pub status_note: Option<String>,
}

/// A container's scan as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanRecord {
    /// Its id.
    pub id: i64,
    /// The job that ran it.
    pub job_id: Option<i64>,
    /// The datastore.
    pub datastore: String,
    /// When it ran (RFC 3339).
    pub scanned_at: String,
    /// What it found.
    #[serde(flatten)]
    pub result: ContainerScanResult,
    /// The anomalies it found (new or seen again).
    pub anomalies: Vec<i64>,
    /// The open anomalies it resolved: their checks passed.
    pub resolved: Vec<i64>,
}

/// Which anomalies to list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AnomalyFilter {
    /// Of this datastore.
    pub datastore: Option<String>,
    /// Of this container.
    pub container: Option<String>,
    /// In this status.
    pub status: Option<AnomalyStatus>,
    /// Found by this check.
    pub check_id: Option<i64>,
}

const COLUMNS: &str = "id, datastore, container, check_id, rule, kind, status, message, fields, \
                       failed_rows, rows, records, first_scan_id, last_scan_id, scans_seen, \
                       created_at, updated_at, status_note";

fn json<T: for<'de> Deserialize<'de>>(row: &Row<'_>, index: usize) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn name<T: for<'de> Deserialize<'de>>(row: &Row<'_>, index: usize) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    serde_json::from_value(serde_json::Value::String(text)).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn anomaly(row: &Row<'_>) -> rusqlite::Result<AnomalyRecord> {
    Ok(AnomalyRecord {
        id: row.get(0)?,
        datastore: row.get(1)?,
        container: row.get(2)?,
        check_id: row.get(3)?,
        rule: row.get(4)?,
        kind: name(row, 5)?,
        status: name(row, 6)?,
        message: row.get(7)?,
        fields: json(row, 8)?,
        failed_rows: row.get(9)?,
        rows: row.get(10)?,
        records: json(row, 11)?,
        first_scan_id: row.get(12)?,
        last_scan_id: row.get(13)?,
        scans_seen: row.get(14)?,
        created_at: rfc3339(row.get(15)?),
        updated_at: rfc3339(row.get(16)?),
        status_note: row.get(17)?,
    })
}

fn scan(row: &Row<'_>) -> rusqlite::Result<ScanRecord> {
    Ok(ScanRecord {
        id: row.get(0)?,
        job_id: row.get(1)?,
        datastore: row.get(2)?,
        scanned_at: rfc3339(row.get(4)?),
        result: ContainerScanResult {
            container: row.get(3)?,
            rows: row.get(5)?,
            partitions: row.get(6)?,
            fields: json(row, 7)?,
            checks: json(row, 8)?,
            incremental: row.get(10)?,
            watermark: optional_json(row, 11)?,
        },
        anomalies: json(row, 9)?,
        resolved: json(row, 12)?,
    })
}

const SCAN_COLUMNS: &str = "id, job_id, datastore, container, scanned_at, rows, partitions, fields, results, anomalies, \
     incremental, watermark, resolved";

fn optional_json<T: for<'de> Deserialize<'de>>(
    row: &Row<'_>,
    index: usize,
) -> rusqlite::Result<Option<T>> {
    match row.get::<_, Option<String>>(index)? {
        None => Ok(None),
        Some(_) => json(row, index).map(Some),
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

impl Store {
    /// Store a container's scan and fold its findings into the anomalies, in one
    /// transaction. Returns the stored scan.
    pub fn record_scan(
        &self,
        job_id: Option<i64>,
        datastore: &str,
        result: &ContainerScanResult,
        findings: &[Finding],
    ) -> Result<ScanRecord> {
        let now = now_micros();
        let id = self.write(|t| {
            t.execute(
                "INSERT INTO scans (job_id, datastore, container, scanned_at, rows, partitions, \
                 fields, results, anomalies, incremental, watermark) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, '[]', ?9, ?10)",
                params![
                    job_id,
                    datastore,
                    result.container,
                    now,
                    result.rows,
                    result.partitions,
                    to_json(&result.fields),
                    to_json(&result.checks),
                    result.incremental,
                    result.watermark.as_ref().map(to_json)
                ],
            )?;
            let scan_id = t.last_insert_rowid();
            let mut found = Vec::with_capacity(findings.len());
            for finding in findings {
                let open: Option<i64> = t
                    .query_row(
                        "SELECT id FROM anomalies WHERE datastore = ?1 AND container = ?2 \
                         AND fingerprint = ?3 AND status IN ('active', 'acknowledged') \
                         ORDER BY id DESC LIMIT 1",
                        params![datastore, finding.container, finding.fingerprint],
                        |row| row.get(0),
                    )
                    .optional()?;
                // ?1–?8 are the finding's values, in both statements.
                let (fields, records) = (to_json(&finding.fields), to_json(&finding.records));
                let kind = finding.kind.as_str();
                let values: [&dyn ToSql; 8] = [
                    &finding.message,
                    &fields,
                    &finding.failed_rows,
                    &finding.rows,
                    &records,
                    &scan_id,
                    &now,
                    &kind,
                ];
                match open {
                    Some(id) => {
                        t.execute(
                            "UPDATE anomalies SET message = ?1, fields = ?2, failed_rows = ?3, \
                             rows = ?4, records = ?5, last_scan_id = ?6, updated_at = ?7, \
                             kind = ?8, scans_seen = scans_seen + 1 WHERE id = ?9",
                            params_from_iter(values.iter().copied().chain([&id as &dyn ToSql])),
                        )?;
                        found.push(id);
                    }
                    None => {
                        t.execute(
                            "INSERT INTO anomalies (message, fields, failed_rows, rows, records, \
                             first_scan_id, last_scan_id, created_at, updated_at, kind, datastore, \
                             container, check_id, rule, fingerprint, status, scans_seen) \
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?7, ?8, ?9, ?10, ?11, ?12, \
                             ?13, 'active', 1)",
                            params_from_iter(values.iter().copied().chain([
                                &datastore as &dyn ToSql,
                                &finding.container,
                                &finding.check_id,
                                &finding.rule,
                                &finding.fingerprint,
                            ])),
                        )?;
                        found.push(t.last_insert_rowid());
                    }
                }
            }
            // Checks evaluated and passed now close their open anomalies. Not after an
            // incremental scan: the old rows that failed were not read again.
            let passed: BTreeSet<i64> = match result.incremental {
                true => BTreeSet::new(),
                false => result
                    .checks
                    .iter()
                    .filter(|c| c.passed)
                    .filter_map(|c| c.check.id)
                    .collect(),
            };
            let resolved: Vec<i64> = {
                let mut statement = t.prepare(
                    "SELECT id FROM anomalies WHERE datastore = ?1 AND container = ?2 \
                     AND status IN ('active', 'acknowledged') \
                     AND check_id IN (SELECT value FROM json_each(?3)) ORDER BY id",
                )?;
                let ids = statement.query_map(
                    params![datastore, result.container, to_json(&passed)],
                    |row| row.get(0),
                )?;
                ids.collect::<rusqlite::Result<_>>()?
            };
            t.execute(
                "UPDATE anomalies SET status = 'resolved', updated_at = ?2, \
                 status_note = 'the check passed in scan ' || ?3 \
                 WHERE id IN (SELECT value FROM json_each(?1))",
                params![to_json(&resolved), now, scan_id],
            )?;
            t.execute(
                "UPDATE scans SET anomalies = ?2, resolved = ?3 WHERE id = ?1",
                params![scan_id, to_json(&found), to_json(&resolved)],
            )?;
            Ok(scan_id)
        })?;
        self.scan(id)?.ok_or_else(|| {
            crate::Error::Internal(format!("scan {id} vanished after it was stored"))
        })
    }

    /// One container's scan, by id.
    pub fn scan(&self, id: i64) -> Result<Option<ScanRecord>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {SCAN_COLUMNS} FROM scans WHERE id = ?1"),
                [id],
                scan,
            )
            .optional()
        })
    }

    /// The scans a job stored, one per container.
    pub fn scans_of_job(&self, job_id: i64) -> Result<Vec<ScanRecord>> {
        self.read(|c| {
            let mut statement = c.prepare_cached(&format!(
                "SELECT {SCAN_COLUMNS} FROM scans WHERE job_id = ?1 ORDER BY id"
            ))?;
            let rows = statement.query_map([job_id], scan)?;
            rows.collect()
        })
    }

    /// A container's last scan, which the next scan compares with.
    pub fn last_scan(&self, datastore: &str, container: &str) -> Result<Option<LastScan>> {
        self.read(|c| {
            c.query_row(
                "SELECT rows, fields, watermark FROM scans WHERE datastore = ?1 \
                 AND container = ?2 ORDER BY id DESC LIMIT 1",
                params![datastore, container],
                |row| {
                    Ok(LastScan {
                        rows: row.get(0)?,
                        fields: json(row, 1)?,
                        watermark: optional_json(row, 2)?,
                    })
                },
            )
            .optional()
        })
    }

    /// Anomalies, newest first, at most `limit`.
    pub fn anomalies(&self, filter: &AnomalyFilter, limit: usize) -> Result<Vec<AnomalyRecord>> {
        self.read(|c| {
            let mut statement = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM anomalies WHERE (?1 IS NULL OR datastore = ?1) \
                 AND (?2 IS NULL OR container = ?2) AND (?3 IS NULL OR status = ?3) \
                 AND (?4 IS NULL OR check_id = ?4) ORDER BY id DESC LIMIT ?5"
            ))?;
            let rows = statement.query_map(
                params![
                    filter.datastore,
                    filter.container,
                    filter.status.map(AnomalyStatus::as_str),
                    filter.check_id,
                    limit as i64
                ],
                anomaly,
            )?;
            rows.collect()
        })
    }

    /// One anomaly, by id.
    pub fn anomaly(&self, id: i64) -> Result<Option<AnomalyRecord>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM anomalies WHERE id = ?1"),
                [id],
                anomaly,
            )
            .optional()
        })
    }

    /// Set an anomaly's status, with a note saying why. Returns whether it exists.
    pub fn set_anomaly_status(&self, id: i64, status: AnomalyStatus, note: &str) -> Result<bool> {
        let changed = self.write(|t| {
            t.execute(
                "UPDATE anomalies SET status = ?2, status_note = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, status.as_str(), note, now_micros()],
            )
        })?;
        Ok(changed > 0)
    }
}
