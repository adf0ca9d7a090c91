//! The `files` connector: a directory of raw files, each file a container.
//!
//! Reads CSV and TSV (schemas inferred from a sample, large files split into byte ranges that
//! start on records), JSON (NDJSON or an array of objects, nested values as structs and lists)
//! Parquet (row groups as partitions, projection and filters pushed down) and Avro object
//! container files; CSV and JSON
//! may be gzip- or zstd-compressed. Projection and row limits are honoured by every format;
//! errors name the file and the line, row group or record.

mod avro;
mod batch;
mod csv;
mod cuts;
mod errors;
mod grouping;
mod inferred;
mod json;
mod listing;
mod nulls;
mod parquet;
mod request;
mod source;
mod unify;
mod xlsx;

use std::path::PathBuf;

use qualityd_plugin_sdk::setting_spec as spec;
use qualityd_plugin_sdk::{
    Batches, Capability, Connector, ContainerInfo, ContainerKind, Error, Partition, PartitionHint,
    PluginInfo, ReadRequest, Result, Scalar, Session, SettingType, Settings,
};

use arrow_schema::SchemaRef;

use crate::csv::CsvFormat;
use crate::grouping::{FileGroup, Globs, hive_values};
use crate::inferred::Inferred;
use crate::listing::{FileEntry, Kind, Listing};
use crate::unify::{conform, unify};

struct FilesConnector;

qualityd_plugin_sdk::export_connector!(FilesConnector);

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
                "xlsx".into(),
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
                     runs of row groups of about this size, read in parallel; their number is \
                     rounded up to a multiple of the readers.",
                ),
                spec(
                    "batch_rows",
                    SettingType::Integer,
                    Some("65536"),
                    "How many records go into one Arrow record batch.",
                ),
                spec(
                    "patterns",
                    SettingType::Text,
                    Some(""),
                    "Comma-separated globs relative to `path`, each one container of the files it \
                     matches, e.g. `sales/*.csv,events/**/*.parquet`. Other files are grouped by \
                     name: files differing only by numbers, dates or Hive values are one.",
                ),
            ],
            capabilities: vec![Capability::Filesystem],
        }
    }

    fn open(settings: Settings) -> Result<Box<dyn Session>> {
        Ok(Box::new(FilesSession {
            listing: Listing::new(PathBuf::from(settings.text("path")?)),
            format: CsvFormat::from_settings(&settings)?,
            infer_rows: settings.positive("infer_rows")? as usize,
            partition_bytes: settings.positive("partition_bytes")?,
            batch_rows: settings.positive("batch_rows")? as usize,
            globs: Globs::parse(settings.text("patterns")?)?,
        }))
    }
}

struct FilesSession {
    listing: Listing,
    format: CsvFormat,
    infer_rows: usize,
    partition_bytes: u64,
    batch_rows: usize,
    globs: Globs,
}

impl FilesSession {
    /// The containers: groups of files, and each sheet of a workbook on its own (a workbook
    /// that cannot be opened stays one container, so discover reports its error).
    fn groups(&self) -> Result<Vec<FileGroup>> {
        let mut containers = Vec::new();
        for group in grouping::group(self.listing.files()?, &self.globs) {
            match group.files[0].kind {
                Kind::Xlsx => match xlsx::sheets(&group.files[0]) {
                    Ok(sheets) => containers.extend(sheets.into_iter().map(|sheet| FileGroup {
                        name: format!("{}#{sheet}", group.name),
                        files: group.files.clone(),
                        sheet: Some(sheet),
                    })),
                    Err(_) => containers.push(group),
                },
                _ => containers.push(group),
            }
        }
        Ok(containers)
    }

    fn group(&self, name: &str) -> Result<FileGroup> {
        self.groups()?
            .into_iter()
            .find(|g| g.name == name)
            .ok_or_else(|| {
                Error::not_found(format!(
                    "no container `{name}` under {}; run discover to list the containers",
                    self.listing.root().display()
                ))
            })
    }

    fn infer(&self, file: &FileEntry, sheet: Option<&str>) -> Result<Inferred> {
        match file.kind {
            Kind::Csv { .. } => self.format.infer(file, self.infer_rows),
            Kind::Json => json::infer(file, self.infer_rows),
            Kind::Parquet => parquet::infer(file),
            Kind::Avro => avro::infer(file),
            Kind::Xlsx => match sheet {
                Some(sheet) => xlsx::infer(file, sheet, self.infer_rows),
                // The workbook could not be opened to list its sheets: say why.
                None => xlsx::sheets(file)
                    .and_then(|_| Err(Error::internal("a workbook's container has no sheet"))),
            },
        }
    }

    /// The group's unified schema and summed row estimate.
    fn describe(&self, group: &FileGroup) -> Result<Inferred> {
        let mut schemas = Vec::with_capacity(group.files.len());
        let mut rows = Some(0u64);
        for file in &group.files {
            let inferred = self.infer(file, group.sheet.as_deref())?;
            rows = rows.zip(inferred.row_estimate).map(|(a, b)| a + b);
            schemas.push(inferred.schema);
        }
        Ok(Inferred {
            schema: unify(group, &schemas)?,
            row_estimate: rows,
        })
    }

    fn file_partitions(&self, file: &FileEntry, target: u64) -> Result<Vec<Partition>> {
        match file.kind {
            Kind::Csv { .. } => self.format.partitions(file, target),
            Kind::Json | Kind::Avro | Kind::Xlsx => Ok(vec![whole(file)]),
            Kind::Parquet => parquet::partitions(file, target),
        }
    }

    fn read_file(
        &self,
        file: &FileEntry,
        sheet: Option<&str>,
        schema: SchemaRef,
        request: &ReadRequest,
    ) -> Result<Batches> {
        match file.kind {
            Kind::Csv { .. } => self.format.read(file, schema, request, self.batch_rows),
            Kind::Json => json::read(file, schema, request, self.batch_rows),
            Kind::Parquet => parquet::read(file, schema, request, self.batch_rows),
            Kind::Avro => avro::read(file, request, self.batch_rows),
            Kind::Xlsx => {
                let sheet =
                    sheet.ok_or_else(|| Error::internal("a workbook read needs a sheet"))?;
                xlsx::read(file, sheet, schema, request, self.batch_rows)
            }
        }
    }
}

impl Session for FilesSession {
    fn check(&self) -> Result<()> {
        self.listing.files().map(drop)
    }

    fn discover(&self) -> Result<Vec<ContainerInfo>> {
        let groups = self.groups()?;
        Ok(groups
            .into_iter()
            .map(|group| {
                let kind = if group.files.len() == 1 {
                    ContainerKind::File
                } else {
                    ContainerKind::FileGroup
                };
                let bytes = group.files.iter().map(|f| f.size).sum();
                match self.describe(&group) {
                    Ok(inferred) => ContainerInfo {
                        name: group.name,
                        kind,
                        schema: inferred.schema,
                        row_estimate: inferred.row_estimate,
                        byte_size: Some(bytes),
                        error: None,
                    },
                    Err(error) => ContainerInfo::failed(group.name, kind, Some(bytes), error),
                }
            })
            .collect())
    }

    /// Each file's own partitions, their ids tagged with the file (`inner@file`), about
    /// [`balanced_target`] bytes each.
    fn partitions(&self, container: &str, hint: &PartitionHint) -> Result<Vec<Partition>> {
        let group = self.group(container)?;
        let target = hint.target_bytes.unwrap_or(self.partition_bytes).max(1);
        let total = group.files.iter().map(|f| f.size).sum();
        let target = balanced_target(total, target, hint.parallelism);
        let mut partitions = Vec::new();
        for file in &group.files {
            for inner in self.file_partitions(file, target)? {
                partitions.push(Partition {
                    id: format!("{}@{}", inner.id, file.name),
                    description: format!("{} {}", file.name, inner.description),
                    watermark: file_watermark(file).map(Scalar::Text),
                    ..inner
                });
            }
        }
        Ok(partitions)
    }

    fn read(&self, request: ReadRequest) -> Result<Batches> {
        let since = modified_since(&request)?;
        let group = self.group(&request.container)?;
        let (inner_id, file_name) = request.partition.id.split_once('@').ok_or_else(|| {
            Error::not_found(format!(
                "`{}` is not a partition of this connector; ask `partitions` for them",
                request.partition.id
            ))
        })?;
        let file = group.file(file_name)?.clone();
        if let (Some(since), Some(watermark)) = (&since, file_watermark(&file))
            && watermark <= *since
        {
            // Read before and not modified since: nothing new.
            let schema = self.describe(&group)?.schema;
            let (_, projected) = request::projection(&schema, &request, &group.name)?;
            return Ok(Batches {
                schema: projected,
                batches: Box::new(std::iter::empty()),
                filter_applied: true,
            });
        }
        let mut inner = request.clone();
        inner.watermark = None;
        inner.partition.id = inner_id.to_string();
        let sheet = group.sheet.as_deref();
        let file_schema = self.infer(&file, sheet)?.schema;
        let hive = hive_values(&file.name);
        if group.files.len() == 1 && hive.is_empty() {
            return self.read_file(&file, sheet, file_schema, &inner);
        }
        // A group: read the requested fields this file has, then bring the batches to the
        // container's schema. Filters are left to the host.
        let unified = self.describe(&group)?.schema;
        let (_, target) = request::projection(&unified, &request, &group.name)?;
        inner.projection = Some(
            target
                .fields()
                .iter()
                .filter(|f| file_schema.index_of(f.name()).is_ok())
                .map(|f| f.name().clone())
                .collect(),
        );
        inner.filter = Vec::new();
        let batches = self.read_file(&file, sheet, file_schema, &inner)?;
        let conformed_target = target.clone();
        let path = file.path.display().to_string();
        let conformed = batches.batches.map(move |batch| {
            batch.and_then(|batch| {
                conform(&batch, &conformed_target, &hive).map_err(|e| {
                    Error::data(format!("cannot bring it to the container's schema: {e}"))
                        .path(path.clone())
                        .into()
                })
            })
        });
        Ok(Batches {
            schema: target,
            batches: Box::new(conformed),
            filter_applied: request.filter.is_empty(),
        })
    }
}

/// The one partition of a file that is read whole.
fn whole(file: &FileEntry) -> Partition {
    Partition {
        id: format!("0-{}", file.size),
        description: "the whole file".into(),
        row_estimate: None,
        byte_size: Some(file.size),
        watermark: None,
    }
}

/// A file's watermark: `<modification time, RFC 3339 UTC with µs>|<path>`. As text it
/// orders by time, then by path, which breaks ties between files modified together.
fn file_watermark(file: &FileEntry) -> Option<String> {
    let modified = chrono::DateTime::from_timestamp_micros(file.modified?)?;
    Some(format!(
        "{}|{}",
        modified.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
        file.name
    ))
}

/// The watermark an incremental read starts after, if it is one.
fn modified_since(request: &ReadRequest) -> Result<Option<String>> {
    let Some(watermark) = &request.watermark else {
        return Ok(None);
    };
    if watermark.field != "modified" {
        return Err(Error::unsupported(format!(
            "the files connector's watermark field is `modified` (a file's modification \
             time and path), not `{}`",
            watermark.field
        )));
    }
    match &watermark.value {
        Scalar::Null => Ok(None),
        Scalar::Text(text)
            if text
                .split_once('|')
                .is_some_and(|(time, _)| chrono::DateTime::parse_from_rfc3339(time).is_ok()) =>
        {
            Ok(Some(text.clone()))
        }
        _ => Err(Error::config(
            "the `modified` watermark must be the text `<RFC 3339 time>|<file path>` that a \
             partition's watermark gave",
        )),
    }
}

/// A partition size near `target` that splits `total` bytes into a multiple of `readers`
/// partitions, so that no reader is left alone with the last one: 7 partitions on 2 readers
/// take as long as 8, and 8 smaller ones take as long as 4 per reader. Data of at most one
/// target's size stays one partition.
fn balanced_target(total: u64, target: u64, readers: u32) -> u64 {
    let count = total.div_ceil(target);
    if count <= 1 {
        return target;
    }
    let readers = u64::from(readers.max(1));
    total.div_ceil(count.div_ceil(readers) * readers).max(1)
}
