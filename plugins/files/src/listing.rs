//! Which files of the datastore's path are containers, their names and formats. Only regular
//! files (or symbolic links to them) are: a FIFO, socket or device is skipped with a warning
//! and never opened.

use std::path::{Path, PathBuf};

use qualityd_plugin_sdk::{Error, Result};

use crate::source;

/// The format of a data file, from its extension (under any compression suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// CSV; `.tsv` files are tab-delimited.
    Csv { tab: bool },
    /// Newline-delimited JSON, or a JSON array of objects.
    Json,
    /// Apache Parquet.
    Parquet,
    /// Avro object container files.
    Avro,
    /// XLSX workbooks: each sheet is a container.
    Xlsx,
}

/// How a text file is compressed, from its suffix or its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// A file that is a container: its name in the datastore, where it is, what it holds.
#[derive(Debug, Clone)]
pub struct FileEntry {
    /// The path relative to the datastore's root, with `/` separators.
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
    pub kind: Kind,
    pub compression: Compression,
    /// Modification time, in microseconds since the epoch.
    pub modified: Option<i64>,
}

/// The files under a datastore's `path` (a directory, read recursively, or one file).
#[derive(Clone)]
pub struct Listing {
    root: PathBuf,
    /// Whether the root is one file rather than a directory, once statted.
    root_is_file: std::cell::OnceCell<bool>,
}

impl Listing {
    pub fn new(root: PathBuf) -> Self {
        Listing {
            root,
            root_is_file: std::cell::OnceCell::new(),
        }
    }

    /// Whether the root is one file, statted on the first call.
    fn root_is_file(&self) -> Result<bool> {
        if let Some(is_file) = self.root_is_file.get() {
            return Ok(*is_file);
        }
        let meta = std::fs::metadata(&self.root).map_err(|e| io_error(&self.root, &e))?;
        Ok(*self.root_is_file.get_or_init(|| meta.is_file()))
    }

    /// Every readable data file, sorted by name.
    pub fn files(&self) -> Result<Vec<FileEntry>> {
        let meta = std::fs::metadata(&self.root).map_err(|e| io_error(&self.root, &e))?;
        if meta.is_file() {
            let name = self
                .root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let Some(kind) = kind_of(&name) else {
                return Err(Error::unsupported(format!(
                    "{} is not a file this connector reads: it reads {}",
                    self.root.display(),
                    READABLE
                )));
            };
            return Ok(vec![file_entry(
                name,
                self.root.clone(),
                &meta,
                kind,
                false,
            )?]);
        }
        let mut files = Vec::new();
        walk(&self.root, "", &mut files)?;
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(files)
    }

    /// One file by its name in the datastore (as [`Listing::files`] gives it), statted alone:
    /// how a read finds the files of its partition without listing the directory. A name
    /// that could not come from a listing is refused; a file that is gone is `NotFound`.
    pub fn entry(&self, name: &str) -> Result<FileEntry> {
        let not_listed = || {
            Error::not_found(format!(
                "`{name}` is not a file under {}; ask `partitions` again",
                self.root.display()
            ))
        };
        let file_name = name.rsplit('/').next().unwrap_or(name);
        let kind = kind_of(file_name).ok_or_else(not_listed)?;
        let hidden_or_up = name
            .split('/')
            .any(|part| part.is_empty() || part.starts_with('.'));
        if hidden_or_up {
            return Err(not_listed());
        }
        let path = if self.root_is_file()? {
            let root_name = self.root.file_name().map(|n| n.to_string_lossy());
            if root_name.as_deref() != Some(name) {
                return Err(not_listed());
            }
            self.root.clone()
        } else {
            name.split('/')
                .fold(self.root.clone(), |path, part| path.join(part))
        };
        let meta = std::fs::metadata(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::not_found(format!(
                "{} was removed after the read was planned; run it again to read the files \
                 there are now",
                path.display()
            )),
            _ => io_error(&path, &e),
        })?;
        if !meta.is_file() {
            return Err(not_listed());
        }
        file_entry(name.to_string(), path, &meta, kind, true)
    }

    /// The datastore's path.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

fn walk(dir: &Path, prefix: &str, files: &mut Vec<FileEntry>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, &e))?;
        let path = entry.path();
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with('.') {
            continue;
        }
        let name = format!("{prefix}{file_name}");
        // A stat (through a symbolic link), never an open: opening a FIFO or a device would
        // block inside a host call, where no time limit reaches.
        let meta = std::fs::metadata(&path).map_err(|e| io_error(&path, &e))?;
        if meta.is_dir() {
            walk(&path, &format!("{name}/"), files)?;
        } else if !meta.is_file() {
            qualityd_plugin_sdk::log::warn(&format!(
                "skipping {}: not a regular file (a FIFO, socket or device); only regular \
                 files are read",
                path.display()
            ));
        } else if let Some(kind) = kind_of(&file_name) {
            files.push(file_entry(name, path, &meta, kind, false)?);
        }
    }
    Ok(())
}

/// The formats, for messages.
const READABLE: &str = "CSV (.csv, .tsv), JSON (.json, .ndjson, .jsonl), Parquet (.parquet), \
                        Avro (.avro) and XLSX (.xlsx), CSV and JSON also compressed (.gz, .zst)";

/// The format a file name says, looking through a compression suffix.
pub fn kind_of(file_name: &str) -> Option<Kind> {
    let lower = file_name.to_ascii_lowercase();
    let bare = ["gz", "zst", "zstd"]
        .iter()
        .find_map(|suffix| lower.strip_suffix(&format!(".{suffix}")))
        .unwrap_or(&lower);
    let kind = match bare.rsplit_once('.')?.1 {
        "csv" => Kind::Csv { tab: false },
        "tsv" | "tab" => Kind::Csv { tab: true },
        "json" | "ndjson" | "jsonl" => Kind::Json,
        "parquet" | "pq" => Kind::Parquet,
        "avro" => Kind::Avro,
        "xlsx" | "xlsm" => Kind::Xlsx,
        _ => return None,
    };
    Some(kind)
}

/// A file entry, its compression read from its first bytes (whatever its name says). With
/// `to_read`, the file is about to be read: a small one is read whole once (see [`source`]).
fn file_entry(
    name: String,
    path: PathBuf,
    meta: &std::fs::Metadata,
    kind: Kind,
    to_read: bool,
) -> Result<FileEntry> {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_micros() as i64);
    let mut entry = FileEntry {
        name,
        path,
        size: meta.len(),
        kind,
        compression: Compression::None,
        modified,
    };
    if let Kind::Csv { .. } | Kind::Json = kind {
        entry.compression = match source::first_bytes::<4>(&entry, to_read)? {
            ([0x1f, 0x8b, ..], 2..) => Compression::Gzip,
            ([0x28, 0xb5, 0x2f, 0xfd], 4) => Compression::Zstd,
            _ => Compression::None,
        };
    }
    Ok(entry)
}

/// An I/O error on a path, as the user should read it. Reading a local file fails for three
/// reasons: it is gone, it is not granted, or its bytes are bad (a corrupt or truncated
/// compressed stream).
pub fn io_error(path: &Path, e: &std::io::Error) -> Error {
    let message = format!("{}: {e}", path.display());
    match e.kind() {
        std::io::ErrorKind::NotFound => Error::not_found(message),
        std::io::ErrorKind::PermissionDenied => Error::config(format!(
            "{message} (is the path inside the directories granted to this datastore?)"
        )),
        _ => Error::data(format!("cannot read it: {e}"))
            .path(path.display().to_string())
            .into(),
    }
}
