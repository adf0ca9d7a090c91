//! A file's bytes as a reader: a byte range of a plain file, or the whole stream of a
//! compressed one (gzip, zstd), decompressed as it is read.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

use qualityd_plugin_sdk::{Error, Result};

use crate::listing::{Compression, FileEntry, io_error};

const READ_BUFFER: usize = 1 << 20;

/// Bytes `start..end` of a plain file, or all of a compressed file's decompressed bytes
/// (compressed files are not split: `start` must be 0).
pub fn open(file: &FileEntry, start: u64, end: u64) -> Result<Box<dyn BufRead>> {
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

/// The whole of a file's (decompressed) bytes.
pub fn open_all(file: &FileEntry) -> Result<Box<dyn BufRead>> {
    open(file, 0, file.size)
}
