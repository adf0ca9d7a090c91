//! The Parquet layout: per scan that found anomalies, one file of them and one of their
//! failing records, `DIR/anomalies/scan-<scan id>.parquet` and
//! `DIR/failing_records/scan-<scan id>.parquet` (snappy). A file is written under a hidden
//! temporary name in the same directory, synced, then renamed, so a reader (DuckDB's
//! `read_parquet('DIR/anomalies/*.parquet')`) never sees half a file; the records file is
//! published first, so a scan's anomalies never lack their records. Writing a scan again
//! replaces its files.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ::parquet::arrow::ArrowWriter;
use ::parquet::basic::Compression;
use ::parquet::file::properties::WriterProperties;
use arrow::array::{
    ArrayBuilder, ArrayRef, Int64Builder, ListBuilder, StringBuilder, TimestampMicrosecondArray,
    UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;

use super::{EnrichmentError, highlighted, micros, records_of};
use crate::store::{AnomalyRecord, ScanRecord};

/// The subdirectory of the anomalies' files.
pub(super) const ANOMALIES: &str = "anomalies";
/// The subdirectory of the failing records' files.
pub(super) const FAILING_RECORDS: &str = "failing_records";

/// A directory of Parquet files, its subdirectories created.
pub(super) struct ParquetDir {
    dir: PathBuf,
}

/// A list of strings, as the files hold `fields` and `highlighted`.
fn strings() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

/// The columns of `anomalies/scan-<id>.parquet`.
pub(super) fn anomalies_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("anomaly_id", DataType::Int64, false),
        Field::new("datastore", DataType::Utf8, false),
        Field::new("container", DataType::Utf8, false),
        Field::new("check_id", DataType::Int64, true),
        Field::new("rule", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("message", DataType::Utf8, false),
        Field::new("fields", strings(), false),
        Field::new("failed_rows", DataType::UInt64, false),
        Field::new("rows", DataType::UInt64, false),
        Field::new("first_scan_id", DataType::Int64, false),
        Field::new("last_scan_id", DataType::Int64, false),
        Field::new("scan_id", DataType::Int64, false),
        Field::new(
            "scanned_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]))
}

/// The columns of `failing_records/scan-<id>.parquet`.
pub(super) fn failing_records_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("anomaly_id", DataType::Int64, false),
        Field::new("scan_id", DataType::Int64, false),
        Field::new("datastore", DataType::Utf8, false),
        Field::new("container", DataType::Utf8, false),
        Field::new("row", DataType::UInt64, false),
        Field::new("record", DataType::Utf8, false),
        Field::new("highlighted", strings(), false),
    ]))
}

impl ParquetDir {
    /// Create `dir` and its two subdirectories, when missing.
    pub(super) fn open(dir: &Path) -> Result<Self, EnrichmentError> {
        for sub in [ANOMALIES, FAILING_RECORDS] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| EnrichmentError::Parquet {
                dir: dir.to_path_buf(),
                reason: format!(
                    "cannot create {}: {e}; make it writable by qualityd or change \
                     `[enrichment] path`",
                    dir.join(sub).display()
                ),
            })?;
        }
        Ok(ParquetDir {
            dir: dir.to_path_buf(),
        })
    }

    /// The directory.
    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Write `scan`'s files: its `anomalies`, then their records.
    pub(super) fn write(
        &self,
        datastore: &str,
        scan: &ScanRecord,
        anomalies: &[AnomalyRecord],
    ) -> Result<(), EnrichmentError> {
        let records = self.records_batch(datastore, scan, anomalies)?;
        let found = self.anomalies_batch(datastore, scan, anomalies)?;
        self.publish(FAILING_RECORDS, scan.id, &records)?;
        self.publish(ANOMALIES, scan.id, &found)
    }

    fn anomalies_batch(
        &self,
        datastore: &str,
        scan: &ScanRecord,
        anomalies: &[AnomalyRecord],
    ) -> Result<RecordBatch, EnrichmentError> {
        let scanned_at = micros(scan.id, &scan.scanned_at)?;
        let text = |value: fn(&AnomalyRecord) -> &str| {
            let mut column = StringBuilder::new();
            anomalies.iter().for_each(|a| column.append_value(value(a)));
            Arc::new(column.finish()) as ArrayRef
        };
        let int = |value: fn(&AnomalyRecord) -> Option<i64>| {
            let mut column = Int64Builder::new();
            anomalies
                .iter()
                .for_each(|a| column.append_option(value(a)));
            Arc::new(column.finish()) as ArrayRef
        };
        let count = |value: fn(&AnomalyRecord) -> u64| {
            let mut column = UInt64Builder::new();
            anomalies.iter().for_each(|a| column.append_value(value(a)));
            Arc::new(column.finish()) as ArrayRef
        };
        let mut fields = ListBuilder::new(StringBuilder::new());
        for anomaly in anomalies {
            fields.append_value(anomaly.fields.iter().map(Some));
        }
        let columns = vec![
            int(|a| Some(a.id)),
            Arc::new(arrow::array::StringArray::from(vec![
                datastore;
                anomalies.len()
            ])),
            text(|a| &a.container),
            int(|a| a.check_id),
            text(|a| &a.rule),
            text(|a| a.kind.as_str()),
            text(|a| a.status.as_str()),
            text(|a| &a.message),
            Arc::new(fields.finish()),
            count(|a| a.failed_rows),
            count(|a| a.rows),
            int(|a| Some(a.first_scan_id)),
            int(|a| Some(a.last_scan_id)),
            Arc::new(arrow::array::Int64Array::from(vec![
                scan.id;
                anomalies.len()
            ])),
            Arc::new(
                TimestampMicrosecondArray::from(vec![scanned_at; anomalies.len()])
                    .with_timezone("UTC"),
            ),
        ];
        self.batch(anomalies_schema(), columns)
    }

    fn records_batch(
        &self,
        datastore: &str,
        scan: &ScanRecord,
        anomalies: &[AnomalyRecord],
    ) -> Result<RecordBatch, EnrichmentError> {
        let mut anomaly_id = Int64Builder::new();
        let mut container = StringBuilder::new();
        let mut row = UInt64Builder::new();
        let mut record = StringBuilder::new();
        let mut fields = ListBuilder::new(StringBuilder::new());
        for anomaly in anomalies {
            for failing in records_of(scan, anomaly) {
                anomaly_id.append_value(anomaly.id);
                container.append_value(&anomaly.container);
                row.append_value(failing.row);
                record.append_value(serde_json::Value::Object(failing.values.clone()).to_string());
                fields.append_value(highlighted(anomaly, failing).into_iter().map(Some));
            }
        }
        let rows = anomaly_id.len();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(anomaly_id.finish()),
            Arc::new(arrow::array::Int64Array::from(vec![scan.id; rows])),
            Arc::new(arrow::array::StringArray::from(vec![datastore; rows])),
            Arc::new(container.finish()),
            Arc::new(row.finish()),
            Arc::new(record.finish()),
            Arc::new(fields.finish()),
        ];
        self.batch(failing_records_schema(), columns)
    }

    fn batch(
        &self,
        schema: SchemaRef,
        columns: Vec<ArrayRef>,
    ) -> Result<RecordBatch, EnrichmentError> {
        RecordBatch::try_new(schema, columns).map_err(|e| EnrichmentError::Parquet {
            dir: self.dir.clone(),
            reason: format!(
                "internal error: the columns do not fit the layout ({e}); please report it"
            ),
        })
    }

    /// Write `batch` to `SUB/scan-<scan>.parquet` through a temporary file and a rename.
    fn publish(&self, sub: &str, scan: i64, batch: &RecordBatch) -> Result<(), EnrichmentError> {
        let target = self.dir.join(sub).join(format!("scan-{scan}.parquet"));
        let temporary = self.dir.join(sub).join(format!(".scan-{scan}.parquet.tmp"));
        let written = write_file(&temporary, batch)
            .and_then(|()| std::fs::rename(&temporary, &target).map_err(|e| e.to_string()));
        written.map_err(|reason| {
            let _ = std::fs::remove_file(&temporary);
            EnrichmentError::Parquet {
                dir: self.dir.clone(),
                reason: format!(
                    "cannot write {}: {reason}; check the disk's space and the directory's \
                     permissions",
                    target.display()
                ),
            }
        })
    }
}

/// Write `batch` as a Parquet file at `path`, synced to disk.
fn write_file(path: &Path, batch: &RecordBatch) -> Result<(), String> {
    let file = File::create(path).map_err(|e| e.to_string())?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("qualityd {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut writer =
        ArrowWriter::try_new(file, batch.schema(), Some(properties)).map_err(|e| e.to_string())?;
    writer.write(batch).map_err(|e| e.to_string())?;
    let file = writer.into_inner().map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())
}
