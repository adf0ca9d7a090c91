//! What a scan found in one container: each check's result, and the container's size and
//! shape as read, which the next scan compares with.

use serde::{Deserialize, Serialize};

use super::record::FailingRecord;
use super::watermark::WatermarkValue;
use crate::checks::{Check, CheckError};

/// One check's result over a container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The check as it was evaluated (with its id when it is stored).
    pub check: Check,
    /// Whether the container passes it; false when it could not be evaluated.
    pub passed: bool,
    /// The rows it applied to (after its filter).
    pub rows: u64,
    /// The rows that failed it (row rules and `unique`; 0 for rules about the container).
    pub failed_rows: u64,
    /// What was found, for people.
    pub message: String,
    /// The first failing rows, as read.
    pub records: Vec<FailingRecord>,
    /// Why the check could not be evaluated, and what to change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Failing rows (by row number) whose records are still to be picked: those of a failed
    /// `unique`, known only once every row was seen, are read again.
    #[serde(skip)]
    pub unrecorded: Vec<u64>,
}

impl CheckResult {
    /// A result not judged yet.
    pub(super) fn new(check: &Check, rows: u64) -> Self {
        CheckResult {
            check: check.clone(),
            passed: false,
            rows,
            failed_rows: 0,
            message: String::new(),
            records: Vec::new(),
            error: None,
            unrecorded: Vec::new(),
        }
    }

    pub(super) fn judged(
        mut self,
        passed: bool,
        failed_rows: u64,
        message: String,
        records: Vec<FailingRecord>,
    ) -> Self {
        self.passed = passed;
        self.failed_rows = failed_rows;
        self.message = message;
        self.records = records;
        self
    }

    pub(super) fn broken(mut self, error: &CheckError) -> Self {
        self.message = "the check could not be evaluated".into();
        self.error = Some(error.to_string());
        self
    }
}

/// A field of the container as the scan read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannedField {
    /// Its name.
    pub name: String,
    /// Its Arrow type, as Arrow writes it.
    pub data_type: String,
}

/// What the next scan of a container compares with: its last scan's size, shape and
/// watermark.
#[derive(Debug, Clone, PartialEq)]
pub struct LastScan {
    /// The rows it read (`volumetric`).
    pub rows: u64,
    /// The fields it read (a schema change).
    pub fields: Vec<ScannedField>,
    /// The highest partition watermark it saw (an incremental scan starts past it).
    pub watermark: Option<WatermarkValue>,
}

/// A scan's findings in one container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerScanResult {
    /// The container.
    pub container: String,
    /// The rows read.
    pub rows: u64,
    /// The partitions read.
    pub partitions: u64,
    /// The container's fields as read.
    pub fields: Vec<ScannedField>,
    /// Whether only the partitions past the last scan's watermark were read.
    pub incremental: bool,
    /// The highest partition watermark seen (read or skipped), for the next incremental
    /// scan; none when the plugin gives no watermarks.
    pub watermark: Option<WatermarkValue>,
    /// One result per check, in the order the checks were given.
    pub checks: Vec<CheckResult>,
}

impl ContainerScanResult {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}
