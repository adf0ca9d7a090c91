//! Granting one file alone. WASI grants directories, not files: granting a file's parent
//! (`qualityd profile ~/x.csv` granting `~`) would let the plugin read every sibling
//! (`~/.ssh`). Instead the file is put in a private directory of its own, which is granted:
//!
//! 1. a new directory (random name, mode `0700`, created exclusively, so no other user can
//!    have prepared it) in the temporary directory, holding a **hard link** to the file: no
//!    copy, and the plugin sees the same bytes read-only;
//! 2. if that fails (another filesystem), the same directory beside the file, where a hard
//!    link works;
//! 3. if that fails too (a read-only directory, a file the kernel will not link for us),
//!    a **copy** in the temporary directory, logged since a big file costs its size there.
//!
//! Not a symbolic link: the sandbox refuses to follow one out of a granted directory. The
//! directory and its link or copy are removed when the datastore is dropped (a killed
//! process leaves them: a link to a file its owner can read anyway, in a directory only
//! the owner can open).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::{Error, Result};

/// A private directory holding one file: its link or copy.
#[derive(Debug)]
pub struct LoneFile {
    dir: TempDir,
    path: PathBuf,
}

impl LoneFile {
    /// `file` (a regular file, its path canonical) alone in a private directory.
    pub fn new(file: &Path) -> Result<LoneFile> {
        let name = file.file_name().ok_or_else(|| Error::Path {
            path: file.to_path_buf(),
            reason: "a file with no name cannot be granted".into(),
        })?;
        let error = |reason: String| Error::Path {
            path: file.to_path_buf(),
            reason: format!("cannot grant it to the plugin alone: {reason}"),
        };
        let private = |parent: Option<&Path>| {
            let mut builder = tempfile::Builder::new();
            // Without it, the directory gets the umask's mode (often 0755): a file kept from
            // others by its own directory would be reachable through this one.
            builder
                .prefix(".qualityd-file-")
                .permissions(std::fs::Permissions::from_mode(0o700));
            match parent {
                Some(parent) => builder.tempdir_in(parent),
                None => builder.tempdir(),
            }
        };
        let link = |dir: TempDir| -> std::io::Result<LoneFile> {
            let path = dir.path().join(name);
            std::fs::hard_link(file, &path)?;
            Ok(LoneFile { dir, path })
        };
        let linked = private(None)
            .and_then(link)
            .or_else(|_| private(file.parent()).and_then(link));
        if let Ok(lone) = linked {
            return Ok(lone);
        }
        let dir = private(None).map_err(|e| error(format!("no private directory: {e}")))?;
        let path = dir.path().join(name);
        let bytes =
            std::fs::copy(file, &path).map_err(|e| error(format!("cannot copy it: {e}")))?;
        tracing::info!(file = %file.display(), copy = %path.display(), bytes, "the file could not be linked into a private directory: a copy is read instead");
        Ok(LoneFile { dir, path })
    }

    /// The private directory, to grant.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The file in it, as the plugin sees it.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    #[test]
    fn the_file_is_linked_alone_into_a_directory_only_its_owner_can_open() {
        let outer = tempfile::tempdir().unwrap();
        let file = outer.path().join("data.csv");
        std::fs::write(&file, "a\n1\n").unwrap();
        std::fs::write(outer.path().join("secret"), "no").unwrap();
        let lone = LoneFile::new(&file).unwrap();
        let mode = std::fs::metadata(lone.dir()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(lone.path(), lone.dir().join("data.csv"));
        let names: Vec<_> = std::fs::read_dir(lone.dir()).unwrap().collect();
        assert_eq!(names.len(), 1);
        // A hard link: the same file, not a copy.
        assert_eq!(
            std::fs::metadata(lone.path()).unwrap().ino(),
            std::fs::metadata(&file).unwrap().ino()
        );
        let dir = lone.dir().to_path_buf();
        drop(lone);
        assert!(!dir.exists());
        assert!(file.exists());
    }
}
