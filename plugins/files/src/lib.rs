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
mod group_read;
mod grouping;
mod inferred;
mod json;
mod listing;
mod nulls;
mod packing;
mod parquet;
mod partition_id;
mod request;
mod source;
mod unify;
mod xlsx;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use qualityd_plugin_sdk::setting_spec as spec;
use qualityd_plugin_sdk::{
    Batches, Capability, Connector, ContainerInfo, ContainerKind, Error, Partition, PartitionHint,
    PluginInfo, ReadRequest, Result, Scalar, Session, SettingType, Settings,
};

use arrow_schema::SchemaRef;

use crate::csv::CsvFormat;
use crate::group_read::GroupRead;
use crate::grouping::{FileGroup, Globs, hive_values};
use crate::inferred::Inferred;
use crate::listing::{FileEntry, Kind, Listing};
use crate::partition_id::{PartitionId, Piece};
use crate::unify::unify;

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
            formats: Formats {
                format: CsvFormat::from_settings(&settings)?,
                infer_rows: settings.positive("infer_rows")? as usize,
                batch_rows: settings.positive("batch_rows")? as usize,
            },
            partition_bytes: settings.positive("partition_bytes")?,
            globs: Globs::parse(settings.text("patterns")?)?,
            containers: RefCell::new(None),
            schemas: RefCell::new(HashMap::new()),
        }))
    }
}

/// A session sees the directory as it was when it first listed it (a session lives for one
/// operation: discover, then partitions of each container): the listing and each group's
/// unified schema are computed once, so planning stats and infers each file once. Reads
/// never list: a partition id names its files and carries its group's schema.
struct FilesSession {
    listing: Listing,
    formats: Formats,
    partition_bytes: u64,
    globs: Globs,
    /// The containers, once listed.
    containers: RefCell<Option<Rc<Containers>>>,
    /// Each group's unified schema, once inferred, by container name.
    schemas: RefCell<HashMap<String, SchemaRef>>,
}

/// The containers of a listing, and where each is by name.
struct Containers {
    groups: Vec<FileGroup>,
    by_name: HashMap<String, usize>,
}

/// How files of every format are inferred, split and read: the settings the formats share.
#[derive(Clone)]
pub(crate) struct Formats {
    format: CsvFormat,
    infer_rows: usize,
    batch_rows: usize,
}

impl FilesSession {
    /// The containers, listed on the first call of the session.
    fn containers(&self) -> Result<Rc<Containers>> {
        if let Some(containers) = self.containers.borrow().as_ref() {
            return Ok(containers.clone());
        }
        let groups = self.groups()?;
        let by_name = groups
            .iter()
            .enumerate()
            .map(|(index, group)| (group.name.clone(), index))
            .collect();
        let containers = Rc::new(Containers { groups, by_name });
        *self.containers.borrow_mut() = Some(containers.clone());
        Ok(containers)
    }

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
        let containers = self.containers()?;
        match containers.by_name.get(name) {
            Some(index) => Ok(containers.groups[*index].clone()),
            None => Err(Error::not_found(format!(
                "no container `{name}` under {}; run discover to list the containers",
                self.listing.root().display()
            ))),
        }
    }

    /// The group's unified schema and summed row estimate; the schema is kept for the
    /// partitions of the group.
    fn describe(&self, group: &FileGroup) -> Result<Inferred> {
        let inferred = self.formats.describe(group)?;
        self.schemas
            .borrow_mut()
            .insert(group.name.clone(), inferred.schema.clone());
        Ok(inferred)
    }

    /// The group's unified schema: kept from discover, or inferred now.
    fn group_schema(&self, group: &FileGroup) -> Result<SchemaRef> {
        if let Some(schema) = self.schemas.borrow().get(&group.name) {
            return Ok(schema.clone());
        }
        Ok(self.describe(group)?.schema)
    }
}

/// Whether a container's files are read as a group: brought to one unified schema (several
/// files, or Hive values that become fields).
fn is_group(group: &FileGroup) -> bool {
    group.files.len() > 1 || !hive_values(&group.files[0].name).is_empty()
}

impl Formats {
    pub(crate) fn infer(&self, file: &FileEntry, sheet: Option<&str>) -> Result<Inferred> {
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

    pub(crate) fn read_file(
        &self,
        file: &FileEntry,
        sheet: Option<&str>,
        schema: SchemaRef,
        request: &ReadRequest,
    ) -> Result<Batches> {
        // Wide files get fewer rows a batch, whatever the format: readers reserve space for
        // rows × fields values up front.
        let batch_rows = batch::rows_per_batch(self.batch_rows, schema.fields().len());
        match file.kind {
            Kind::Csv { .. } => self.format.read(file, schema, request, batch_rows),
            Kind::Json => json::read(file, schema, request, batch_rows),
            Kind::Parquet => parquet::read(file, schema, request, batch_rows),
            Kind::Avro => avro::read(file, request, batch_rows),
            Kind::Xlsx => {
                let sheet =
                    sheet.ok_or_else(|| Error::internal("a workbook read needs a sheet"))?;
                xlsx::read(file, sheet, schema, request, batch_rows)
            }
        }
    }
}

impl Session for FilesSession {
    fn check(&self) -> Result<()> {
        self.containers().map(drop)
    }

    fn discover(&self) -> Result<Vec<ContainerInfo>> {
        let containers = self.containers()?;
        Ok(containers
            .groups
            .iter()
            .map(|group| {
                let kind = if group.files.len() == 1 {
                    ContainerKind::File
                } else {
                    ContainerKind::FileGroup
                };
                let bytes = group.files.iter().map(|f| f.size).sum();
                let name = group.name.clone();
                match self.describe(group) {
                    Ok(inferred) => ContainerInfo {
                        name,
                        kind,
                        schema: inferred.schema,
                        row_estimate: inferred.row_estimate,
                        byte_size: Some(bytes),
                        error: None,
                    },
                    Err(error) => ContainerInfo::failed(name, kind, Some(bytes), error),
                }
            })
            .collect())
    }

    /// Each file's own partitions, about [`balanced_target`] bytes each; in a group, runs of
    /// small files read whole are packed many to a partition (see [`packing`]). Ids are
    /// [`PartitionId`]s.
    fn partitions(&self, container: &str, hint: &PartitionHint) -> Result<Vec<Partition>> {
        let group = self.group(container)?;
        let target = hint.target_bytes.unwrap_or(self.partition_bytes).max(1);
        let total = group.files.iter().map(|f| f.size).sum();
        let target = balanced_target(total, target, hint.parallelism);
        if !is_group(&group) {
            let file = &group.files[0];
            return (self.formats.file_partitions(file, target)?.into_iter())
                .map(|inner| {
                    let piece = Piece {
                        part: inner.id.clone(),
                        file: file.name.clone(),
                    };
                    Ok(Partition {
                        id: PartitionId::File(piece).encode()?,
                        description: format!("{} {}", file.name, inner.description),
                        watermark: file_watermark(file).map(Scalar::Text),
                        ..inner
                    })
                })
                .collect();
        }
        let schema = self.group_schema(&group)?;
        let mut parts = Vec::with_capacity(group.files.len());
        for file in &group.files {
            parts.push(self.formats.file_partitions(file, target)?);
        }
        let small: Vec<Option<u64>> = (group.files.iter().zip(&parts))
            .map(|(file, parts)| (parts.len() == 1 && file.size <= target).then_some(file.size))
            .collect();
        let units = packing::assign(&small, target, hint.parallelism);
        let mut partitions = Vec::new();
        let mut pack: Vec<(&FileEntry, Partition)> = Vec::new();
        for (index, (file, parts)) in group.files.iter().zip(parts).enumerate() {
            if small[index].is_some() {
                pack.extend(parts.into_iter().map(|p| (file, p)));
                if units.get(index + 1) != Some(&units[index]) {
                    partitions.push(group_partition(&schema, std::mem::take(&mut pack))?);
                }
            } else {
                for part in parts {
                    partitions.push(group_partition(&schema, vec![(file, part)])?);
                }
            }
        }
        Ok(partitions)
    }

    fn read(&self, request: ReadRequest) -> Result<Batches> {
        let since = modified_since(&request)?;
        let pieces = match PartitionId::parse(&request.partition.id)? {
            PartitionId::File(piece) => return self.read_file_container(piece, since, &request),
            PartitionId::Group { schema, pieces } => (schema, pieces),
        };
        let (schema, pieces) = pieces;
        for piece in &pieces {
            self.check_member(&request.container, &piece.file)?;
        }
        GroupRead {
            formats: self.formats.clone(),
            listing: self.listing.clone(),
            since,
        }
        .read(&schema, pieces, &request)
    }
}

impl FilesSession {
    /// Refuse a file that cannot be in the container (a partition of another container).
    fn check_member(&self, container: &str, file: &str) -> Result<()> {
        let fits = listing::kind_of(file.rsplit('/').next().unwrap_or(file))
            .is_some_and(|kind| self.globs.may_contain(container, file, kind));
        if fits {
            Ok(())
        } else {
            Err(Error::not_found(format!(
                "`{file}` is not a file of container `{container}`; ask `partitions` again"
            )))
        }
    }

    /// Read a part of the one file that is the container.
    fn read_file_container(
        &self,
        piece: Piece,
        since: Option<String>,
        request: &ReadRequest,
    ) -> Result<Batches> {
        self.check_member(&request.container, &piece.file)?;
        let file = self.listing.entry(&piece.file)?;
        let sheet = sheet_of(&request.container, &file.name);
        let file_schema = self.formats.infer(&file, sheet)?.schema;
        if let (Some(since), Some(watermark)) = (&since, file_watermark(&file))
            && watermark <= *since
        {
            // Read before and not modified since: nothing new.
            let (_, projected) = request::projection(&file_schema, request, &request.container)?;
            return Ok(Batches {
                schema: projected,
                batches: Box::new(std::iter::empty()),
                filter_applied: true,
            });
        }
        let mut inner = request.clone();
        inner.watermark = None;
        inner.partition.id = piece.part;
        self.formats.read_file(&file, sheet, file_schema, &inner)
    }
}

/// The sheet of a workbook's container (`book.xlsx#Sheet1`), if it is one.
fn sheet_of<'a>(container: &'a str, file: &str) -> Option<&'a str> {
    container.strip_prefix(file)?.strip_prefix('#')
}

/// A partition of a group reading these parts of its files.
fn group_partition(schema: &SchemaRef, parts: Vec<(&FileEntry, Partition)>) -> Result<Partition> {
    let description = match parts.as_slice() {
        [(file, part)] => format!("{} {}", file.name, part.description),
        [(first, _), .., (last, _)] => {
            format!("{} files, {} to {}", parts.len(), first.name, last.name)
        }
        [] => return Err(Error::internal("a partition of no files")),
    };
    let row_estimate = (parts.iter())
        .map(|(_, p)| p.row_estimate)
        .try_fold(0u64, |sum, rows| Some(sum + rows?));
    let byte_size = (parts.iter())
        .map(|(_, p)| p.byte_size)
        .try_fold(0u64, |sum, bytes| Some(sum + bytes?));
    let watermark = (parts.iter())
        .filter_map(|(file, _)| file_watermark(file))
        .max();
    let pieces = (parts.iter())
        .map(|(file, part)| Piece {
            part: part.id.clone(),
            file: file.name.clone(),
        })
        .collect();
    let id = PartitionId::Group {
        schema: schema.clone(),
        pieces,
    };
    Ok(Partition {
        id: id.encode()?,
        description,
        row_estimate,
        byte_size,
        watermark: watermark.map(Scalar::Text),
    })
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
pub(crate) fn file_watermark(file: &FileEntry) -> Option<String> {
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
    // The empty name is the host's for "the partitions' own watermark": the same one.
    if !(watermark.field == "modified" || watermark.field.is_empty()) {
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
