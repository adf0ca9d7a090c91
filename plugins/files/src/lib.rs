//! The `files` connector: a directory of raw files, each file a container.
//!
//! This version reads CSV (and TSV with `delimiter = "\t"`): schemas inferred from a sample,
//! large files split into byte ranges that start on record boundaries, projection and row
//! limits honoured while reading. Errors name the file and the line.

mod csv;
mod cuts;
mod errors;
mod listing;

use std::path::PathBuf;

use qualityd_plugin_sdk::{
    Batches, Capability, Connector, ContainerInfo, ContainerKind, Error, Partition, PartitionHint,
    PluginInfo, ReadRequest, Result, Session, SettingSpec, SettingType, Settings,
};

use crate::csv::CsvFormat;
use crate::listing::Listing;

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
            kinds: vec!["files".into(), "csv".into()],
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
                    "header",
                    SettingType::Boolean,
                    Some("true"),
                    "Whether the first line of a CSV file names its fields.",
                ),
                spec(
                    "infer_rows",
                    SettingType::Integer,
                    Some("1000"),
                    "How many records are sampled to infer a CSV file's field types.",
                ),
                spec(
                    "partition_bytes",
                    SettingType::Integer,
                    Some("67108864"),
                    "Files larger than this many bytes are split into partitions read in parallel.",
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

impl Session for FilesSession {
    fn check(&self) -> Result<()> {
        self.listing.files().map(drop)
    }

    fn discover(&self) -> Result<Vec<ContainerInfo>> {
        self.listing
            .files()?
            .into_iter()
            .map(|file| {
                Ok(match self.format.infer(&file.path, self.infer_rows) {
                    Ok(inferred) => ContainerInfo {
                        name: file.name,
                        kind: ContainerKind::File,
                        schema: inferred.schema,
                        row_estimate: Some(inferred.row_estimate),
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
        self.format.partitions(&file.path, file.size, target)
    }

    fn read(&self, request: ReadRequest) -> Result<Batches> {
        let file = self.listing.file(&request.container)?;
        let schema = self.format.infer(&file.path, self.infer_rows)?.schema;
        self.format
            .read(&file.path, schema, &request, self.batch_rows)
    }
}
