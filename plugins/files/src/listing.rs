//! Which files of the datastore's path are containers, and their names.

use std::path::{Path, PathBuf};

use qualityd_plugin_sdk::{Error, Result};

/// A file that is a container: its name in the datastore, where it is, how large.
pub struct FileEntry {
    /// The path relative to the datastore's root, with `/` separators.
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
}

/// The files under a datastore's `path` (a directory, read recursively, or one file).
pub struct Listing {
    root: PathBuf,
}

const EXTENSIONS: [&str; 2] = ["csv", "tsv"];

impl Listing {
    pub fn new(root: PathBuf) -> Self {
        Listing { root }
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
            return Ok(vec![FileEntry {
                name,
                path: self.root.clone(),
                size: meta.len(),
            }]);
        }
        let mut files = Vec::new();
        walk(&self.root, "", &mut files)?;
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(files)
    }

    /// The file of one container.
    pub fn file(&self, container: &str) -> Result<FileEntry> {
        self.files()?
            .into_iter()
            .find(|file| file.name == container)
            .ok_or_else(|| {
                Error::not_found(format!(
                    "no file `{container}` under {}; run discover to list the containers",
                    self.root.display()
                ))
            })
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
        let meta = std::fs::metadata(&path).map_err(|e| io_error(&path, &e))?;
        if meta.is_dir() {
            walk(&path, &format!("{name}/"), files)?;
        } else if is_data_file(&path) {
            files.push(FileEntry {
                name,
                path,
                size: meta.len(),
            });
        }
    }
    Ok(())
}

fn is_data_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// An I/O error on a path, as the user should read it.
pub fn io_error(path: &Path, e: &std::io::Error) -> Error {
    let message = format!("{}: {e}", path.display());
    match e.kind() {
        std::io::ErrorKind::NotFound => Error::not_found(message),
        std::io::ErrorKind::PermissionDenied => Error::config(format!(
            "{message} (is the path inside the directories granted to this datastore?)"
        )),
        _ => Error::connection(message),
    }
}
