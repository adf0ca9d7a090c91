//! A file's bytes as a reader: a byte range of a plain file, or the whole stream of a
//! compressed one (gzip, zstd), decompressed as it is read.
//!
//! A small file is read once, whole, and its bytes kept until another small file is read:
//! sampling, finding null markers and reading a small CSV open it three times, and each open
//! and read is a call through the sandbox's filesystem, which costs more than the bytes.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::rc::Rc;

use qualityd_plugin_sdk::{Error, Result};

use crate::listing::{Compression, FileEntry, io_error};

const READ_BUFFER: usize = 1 << 20;

/// Files of at most this many bytes are read whole and kept (see the module's comment).
pub const SMALL_FILE: u64 = 256 << 10;

/// The last small file read: its path, size and modification time, and its bytes.
type Kept = (PathBuf, u64, Option<i64>, Rc<[u8]>);

thread_local! {
    static KEPT: RefCell<Option<Kept>> = const { RefCell::new(None) };
}

/// A small file's bytes, from the one kept or read now (and kept).
fn small_file(file: &FileEntry) -> Result<Rc<[u8]>> {
    let kept = KEPT.with_borrow(|kept| match kept {
        Some((path, size, modified, bytes))
            if (path, *size, *modified) == (&file.path, file.size, file.modified) =>
        {
            Some(bytes.clone())
        }
        _ => None,
    });
    if let Some(bytes) = kept {
        return Ok(bytes);
    }
    let mut bytes = Vec::with_capacity(file.size.min(SMALL_FILE) as usize);
    File::open(&file.path)
        .and_then(|raw| raw.take(SMALL_FILE).read_to_end(&mut bytes))
        .map_err(|e| io_error(&file.path, &e))?;
    let bytes: Rc<[u8]> = bytes.into();
    KEPT.with_borrow_mut(|kept| {
        *kept = Some((file.path.clone(), file.size, file.modified, bytes.clone()))
    });
    Ok(bytes)
}

/// A shared byte slice as a reader.
struct Shared(Rc<[u8]>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Bytes `start..end` of a plain file, or all of a compressed file's decompressed bytes
/// (compressed files are not split: `start` must be 0).
pub fn open(file: &FileEntry, start: u64, end: u64) -> Result<Box<dyn BufRead>> {
    if file.compression == Compression::None && file.size <= SMALL_FILE {
        let bytes = small_file(file)?;
        let mut reader = Cursor::new(Shared(bytes));
        reader.set_position(start);
        return Ok(Box::new(reader.take(end.saturating_sub(start))));
    }
    let mut raw = File::open(&file.path).map_err(|e| io_error(&file.path, &e))?;
    match file.compression {
        Compression::None => {
            raw.seek(SeekFrom::Start(start))
                .map_err(|e| io_error(&file.path, &e))?;
            Ok(Box::new(BufReader::with_capacity(
                READ_BUFFER,
                raw.take(end - start),
            )))
        }
        _ if start != 0 => Err(Error::internal(format!(
            "{} is compressed and cannot be read from byte {start}",
            file.path.display()
        ))),
        Compression::Gzip => Ok(Box::new(BufReader::with_capacity(
            READ_BUFFER,
            flate2::read::MultiGzDecoder::new(BufReader::new(raw)),
        ))),
        Compression::Zstd => {
            let decoder =
                ruzstd::decoding::StreamingDecoder::new(BufReader::new(raw)).map_err(|e| {
                    Error::data(format!("not a readable zstd stream: {e}"))
                        .path(file.path.display().to_string())
                })?;
            Ok(Box::new(BufReader::with_capacity(READ_BUFFER, decoder)))
        }
    }
}

/// A file's first `N` bytes (raw, not decompressed), and how many there are. With `keep`, a
/// small file is read whole and kept, for a read of it that follows.
pub fn first_bytes<const N: usize>(file: &FileEntry, keep: bool) -> Result<([u8; N], usize)> {
    let mut head = [0u8; N];
    if keep && file.size <= SMALL_FILE {
        let bytes = small_file(file)?;
        let count = bytes.len().min(N);
        head[..count].copy_from_slice(&bytes[..count]);
        return Ok((head, count));
    }
    let mut raw = File::open(&file.path).map_err(|e| io_error(&file.path, &e))?;
    let mut count = 0;
    while count < N {
        match raw.read(&mut head[count..]) {
            Ok(0) => break,
            Ok(read) => count += read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(&file.path, &e)),
        }
    }
    Ok((head, count))
}

/// The whole of a file's (decompressed) bytes.
pub fn open_all(file: &FileEntry) -> Result<Box<dyn BufRead>> {
    open(file, 0, file.size)
}
