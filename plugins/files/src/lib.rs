//! The `files` connector: a directory of raw files, each file a container.
//!
//! Reads CSV and TSV (schemas inferred from a sample, large files split into byte ranges that
//! start on records), JSON (NDJSON or an array of objects, nested values as structs and lists)
//! Parquet (row groups as partitions, projection and filters pushed down) and Avro object
//! container files; CSV and JSON
//! may be gzip- or zstd-compressed. Projection and row limits are honoured by every format;
//! errors name the file and the line, row group or record.

mod avro;
mod csv;
mod cuts;
mod errors;
mod json;
mod listing;
mod parquet;
mod request;
mod source;

use std::path::PathBuf;

use qualityd_plugin_sdk::{
    Batches, Capability, Connector, ContainerInfo, ContainerKind, Error, Partition, PartitionHint,
    PluginInfo, ReadRequest, Result, Session, SettingSpec, SettingType, Settings,
};

use crate::csv::{CsvFormat, Inferred};
use crate::listing::{FileEntry, Kind, Listing};

struct FilesConnector;

qualityd_plugin_sdk::export_connector!(FilesConnector);

fn spec(name: &str, type_: SettingType, default: Option<&str>, help: &str) -> SettingSpec {
    SettingSpec {
        name: name.into(),
        type_,
        required: default.is_none(),
        secret: false,
        default: default.map(Into::into),
        help: help.into(),
    }
}

impl Connector for FilesConnector {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "files".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kinds: vec![
                "files".into(),
                "csv".into(),
                "json".into(),
                "parquet".into(),
                "avro".into(),
            ],
            settings: vec![
                spec(
                    "path",
                    SettingType::Path,
                    None,
                    "A directory of files (read recursively) or one file, e.g. /srv/exports.",
                ),
                spec(
                    "delimiter",
                    SettingType::Text,
                    Some(","),
                    "The one-byte field delimiter of CSV files, e.g. `;` or a tab.",
                ),
                spec(
                    "quote",
                    SettingType::Text,
                    Some("\""),
                    "The one-byte quote character of CSV files.",
                ),
                spec(
                    "escape",
                    SettingType::Text,
                    Some(""),
                    "A one-byte escape character inside quoted CSV fields, e.g. `\\`; none by \
                     default (a quote inside quotes is written twice). Files with one are not split.",
                ),
                spec(
                    "null_values",
                    SettingType::Text,
                    Some(""),
                    "Comma-separated CSV values that mean null besides the empty field, e.g. \
                     `NA,N/A,null`.",
                ),
                spec(
                    "header",
                    SettingType::Boolean,
                    Some("true"),
                    "Whether the first line of a CSV file names its fields.",
                ),
                spec(
                    "infer_rows",
                    SettingType::Integer,
                    Some("1000"),
                    "How many records are sampled to infer a CSV or JSON file's field types.",
                ),
                spec(
                    "partition_bytes",
                    SettingType::Integer,
                    Some("67108864"),
                    "CSV files larger than this are split into byte ranges, Parquet files into \
                     runs of row groups of about this size, read in parallel.",
                ),
                spec(
                    "batch_rows",
                    SettingType::Integer,
                    Some("65536"),
                    "How many records go into one Arrow record batch.",
                ),
            ],
            capabilities: vec![Capability::Filesystem],
        }
    }

    fn open(settings: Settings) -> Result<Box<dyn Session>> {
        let positive = |name: &str| -> Result<u64> {
            match settings.integer(name)? {
                n if n > 0 => Ok(n as u64),
                n => Err(Error::config(format!(
                    "setting `{name}` must be greater than zero, got {n}"
                ))),
            }
        };
        Ok(Box::new(FilesSession {
            listing: Listing::new(PathBuf::from(settings.text("path")?)),
            format: CsvFormat::from_settings(&settings)?,
            infer_rows: positive("infer_rows")? as usize,
            partition_bytes: positive("partition_bytes")?,
            batch_rows: positive("batch_rows")? as usize,
        }))
    }
}

struct FilesSession {
    listing: Listing,
    format: CsvFormat,
    infer_rows: usize,
    partition_bytes: u64,
    batch_rows: usize,
}

impl FilesSession {
    fn infer(&self, file: &FileEntry) -> Result<Inferred> {
        match file.kind {
            Kind::Csv { .. } => self.format.infer(file, self.infer_rows),
            Kind::Json => json::infer(file, self.infer_rows),
            Kind::Parquet => parquet::infer(file),
            Kind::Avro => avro::infer(file),
        }
    }
}

impl Session for FilesSession {
    fn check(&self) -> Result<()> {
        self.listing.files().map(drop)
    }

    fn discover(&self) -> Result<Vec<ContainerInfo>> {
        self.listing
            .files()?
            .into_iter()
            .map(|file| {
                Ok(match self.infer(&file) {
                    Ok(inferred) => ContainerInfo {
                        name: file.name,
                        kind: ContainerKind::File,
                        schema: inferred.schema,
                        row_estimate: inferred.row_estimate,
                        byte_size: Some(file.size),
                        error: None,
                    },
                    Err(error) => ContainerInfo::failed(
                        file.name,
                        ContainerKind::File,
                        Some(file.size),
                        error,
                    ),
                })
            })
            .collect()
    }

    fn partitions(&self, container: &str, hint: &PartitionHint) -> Result<Vec<Partition>> {
        let file = self.listing.file(container)?;
        let target = hint.target_bytes.unwrap_or(self.partition_bytes).max(1);
        match file.kind {
            Kind::Csv { .. } => self.format.partitions(&file, target),
            Kind::Json | Kind::Avro => Ok(vec![whole(&file)]),
            Kind::Parquet => parquet::partitions(&file, target),
        }
    }

    fn read(&self, request: ReadRequest) -> Result<Batches> {
        if request.watermark.is_some() {
            return Err(Error::unsupported(
                "incremental reads of files are not supported yet; read without a watermark",
            ));
        }
        let file = self.listing.file(&request.container)?;
        let schema = self.infer(&file)?.schema;
        match file.kind {
            Kind::Csv { .. } => self.format.read(&file, schema, &request, self.batch_rows),
            Kind::Json => json::read(&file, schema, &request, self.batch_rows),
            Kind::Parquet => parquet::read(&file, schema, &request, self.batch_rows),
            Kind::Avro => avro::read(&file, &request, self.batch_rows),
        }
    }
}

/// The one partition of a file that is read whole.
fn whole(file: &FileEntry) -> Partition {
    Partition {
        id: format!("0-{}", file.size),
        description: "the whole file".into(),
        row_estimate: None,
        byte_size: Some(file.size),
    }
}
